"""File formats: reading and writing cases, profiles, pedigrees and frequencies."""

from .case_json import FORMAT_VERSION, KinshipCase, parse_case, read_case, write_case

__all__ = ["FORMAT_VERSION", "KinshipCase", "parse_case", "read_case", "write_case"]
