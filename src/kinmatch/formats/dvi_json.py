"""kinmatch's JSON format for DVI cases (``"format": "kinmatch-dvi-case"``), version 1.

A DVI case file holds the markers, the post-mortem samples (the remains'
profiles, with their sex when known) and the reference families (each a
pedigree with typed relatives and one or more missing persons). Markers,
genotypes, pedigree records, θ and options are written exactly as in the
kinship case format (:mod:`kinmatch.formats.case_json`), whose reader
machinery this module shares; the schema is
``kinmatch/schemas/dvi-case.schema.json``. An example::

    {
      "format": "kinmatch-dvi-case",
      "version": 1,
      "title": "Plane crash",
      "markers": [{"name": "D3S1358", "alleles": ["15", "16", "17"],
                   "frequencies": [0.3, 0.3, 0.4]}],
      "samples": [{"id": "V1", "sex": "male", "profile": {"D3S1358": ["15", "16"]}}],
      "families": [
        {"name": "F1",
         "pedigree": [{"id": "FA", "sex": 1}, {"id": "MO", "sex": 2},
                      {"id": "M1", "sex": 1, "father": "FA", "mother": "MO"}],
         "missing": ["M1"],
         "profiles": {"MO": {"D3S1358": "15/17"}}}
      ]
    }

``version`` may be left out (version 1). Every problem is a
:class:`~kinmatch.errors.CaseFormatError` naming the file, line, column and
field; a file is read whole or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..dvi.case import DVICase, PostMortemSample, ReferenceFamily
from ..markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from ..pedigree import Pedigree, Sex
from ._io import atomic_write_text
from .case_json import (
    FORMAT_VERSION,
    JsonReader,
    decode_json_bytes,
    describe,
    dump_json,
    marker_to_dict,
    pedigree_to_records,
    pointer_key,
    profile_to_dict,
    read_json_text,
    read_markers,
    read_options,
    read_pedigree,
    read_profile,
    read_theta,
)

__all__ = [
    "DVI_FORMAT_NAME",
    "dvi_case_to_dict",
    "format_dvi_case",
    "parse_dvi_case",
    "read_dvi_case",
    "write_dvi_case",
]

DVI_FORMAT_NAME = "kinmatch-dvi-case"


def read_dvi_case(path: str | Path) -> DVICase:
    """Read a DVI case from a kinmatch JSON DVI case file."""
    return parse_dvi_case(read_json_text(path), str(path))


def parse_dvi_case(text: str | bytes, filename: str = "<dvi case>") -> DVICase:
    """Parse the text (or bytes) of a kinmatch JSON DVI case file."""
    r = JsonReader(decode_json_bytes(text, filename), filename)
    root = r.check_header(DVI_FORMAT_NAME)
    r.validate("dvi-case")
    title = r.field(root, "title", "", str, required=False, default="")
    theta = read_theta(r, root)
    min_freq, normalise = read_options(r, root)
    markers = read_markers(r, r.field(root, "markers", "", list), normalise)
    by_name = {m.name: m for m in markers}
    samples = _read_samples(r, r.field(root, "samples", "", list), by_name)
    families = _read_families(r, r.field(root, "families", "", list), by_name)
    return r.wrap("", lambda: DVICase(markers, samples, families, theta=theta,
                                      minimum_frequency=min_freq, title=title))


def _check_x(r: JsonReader, ptr: str, who: str, sex: Sex,
             profile: Mapping[str, tuple[str, str]], markers: Mapping[str, Marker]) -> None:
    for name, (a, b) in profile.items():
        if markers[name].is_x and sex == Sex.MALE and a != b:
            raise r.error(f"{ptr}/{pointer_key(name)}",
                          f"{who} is male but heterozygous ({a}/{b}) at X-linked marker {name}; "
                          "a male has one X allele")


def _read_samples(r: JsonReader, items: list[Any], markers: Mapping[str, Marker]
                  ) -> list[PostMortemSample]:
    samples: list[PostMortemSample] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        ptr = f"/samples/{i}"
        if not isinstance(item, dict):
            raise r.error(ptr, f"a post-mortem sample is an object, not {describe(item)}")
        sid = r.field(item, "id", ptr, str)
        if sid in seen:
            raise r.error(f"{ptr}/id", f"post-mortem sample '{sid}' appears twice (also "
                                       f"/samples/{seen[sid]})")
        seen[sid] = i
        sex = r.wrap(f"{ptr}/sex", lambda: Sex.parse(item.get("sex", 0)))
        profile = read_profile(r, r.field(item, "profile", ptr, dict), f"{ptr}/profile", markers)
        _check_x(r, f"{ptr}/profile", f"sample '{sid}'", sex, profile, markers)
        rates = {name: float(r.field(item, name, ptr, (int, float), required=False) or 0.0)
                 for name in ("dropout", "dropin")}
        samples.append(r.wrap(ptr, lambda: PostMortemSample(sid, profile, sex, **rates)))
    return samples


def _read_families(r: JsonReader, items: list[Any], markers: Mapping[str, Marker]
                   ) -> list[ReferenceFamily]:
    families: list[ReferenceFamily] = []
    names: dict[str, int] = {}
    missing_where: dict[str, str] = {}
    for i, item in enumerate(items):
        ptr = f"/families/{i}"
        if not isinstance(item, dict):
            raise r.error(ptr, f"a reference family is an object, not {describe(item)}")
        name = r.field(item, "name", ptr, str)
        if name in names:
            raise r.error(f"{ptr}/name", f"reference family '{name}' appears twice (also "
                                         f"/families/{names[name]})")
        names[name] = i
        inbreeding = r.field(item, "founder_inbreeding", ptr, dict, required=False, default={})
        pedigree = read_pedigree(r, r.field(item, "pedigree", ptr, list), f"{ptr}/pedigree",
                                 inbreeding)
        missing = r.field(item, "missing", ptr, list)
        for j, mp in enumerate(missing):
            mptr = f"{ptr}/missing/{j}"
            if not isinstance(mp, str):
                raise r.error(mptr, f"a missing person is given by id (text), not {describe(mp)}")
            if mp not in pedigree:
                raise r.error(mptr, f"missing person '{mp}' is not in the pedigree of family "
                                    f"'{name}'")
            if mp in missing_where:
                raise r.error(mptr, f"missing person '{mp}' is also in family "
                                    f"'{missing_where[mp]}'; missing persons need case-wide "
                                    "unique ids")
            missing_where[mp] = name
        raw = r.field(item, "profiles", ptr, dict, required=False, default={})
        profiles: dict[str, dict[str, tuple[str, str]]] = {}
        for pid, prof in raw.items():
            pptr = f"{ptr}/profiles/{pointer_key(pid)}"
            profile = read_profile(r, prof, pptr, markers)
            if pid not in pedigree:
                raise r.error(pptr, f"typed person '{pid}' is not in the pedigree of family "
                                    f"'{name}'")
            if pid in missing and profile:
                raise r.error(pptr, f"missing person '{pid}' is typed; a missing person's "
                                    "profile is what the remains may supply")
            _check_x(r, pptr, f"'{pid}' of family '{name}'", pedigree.sex(pid), profile, markers)
            if profile:
                profiles[pid] = profile
        families.append(r.wrap(ptr, lambda: ReferenceFamily(
            name, pedigree, tuple(missing), profiles)))
    return families


def _pedigree_inbreeding(pedigree: Pedigree) -> dict[str, float]:
    return {k: float(v) for k, v in pedigree.founder_inbreeding.items()}


def dvi_case_to_dict(case: DVICase) -> dict[str, Any]:
    """The DVI case as a version-1 JSON document."""
    out: dict[str, Any] = {"format": DVI_FORMAT_NAME, "version": FORMAT_VERSION}
    if case.title:
        out["title"] = case.title
    out["theta"] = case.theta
    if not math.isclose(case.minimum_frequency, DEFAULT_MINIMUM_FREQUENCY):
        out["options"] = {"minimum_frequency": case.minimum_frequency}
    out["markers"] = [marker_to_dict(m) for m in case.markers]
    out["samples"] = []
    for s in case.samples:
        entry = {"id": s.id, "sex": int(s.sex), "profile": profile_to_dict(s.profile)}
        if s.dropout:
            entry["dropout"] = s.dropout
        if s.dropin:
            entry["dropin"] = s.dropin
        out["samples"].append(entry)
    families = []
    for f in case.families:
        entry: dict[str, Any] = {"name": f.name, "pedigree": pedigree_to_records(f.pedigree),
                                 "missing": list(f.missing)}
        if f.pedigree.founder_inbreeding:
            entry["founder_inbreeding"] = _pedigree_inbreeding(f.pedigree)
        entry["profiles"] = {pid: profile_to_dict(p) for pid, p in f.profiles.items()}
        families.append(entry)
    out["families"] = families
    return out


def format_dvi_case(case: DVICase) -> str:
    """The text of a DVI case file."""
    return dump_json(dvi_case_to_dict(case))


def write_dvi_case(case: DVICase, path: str | Path) -> None:
    """Write a DVI case file (atomically: a failure leaves no partial file)."""
    atomic_write_text(path, format_dvi_case(case))
