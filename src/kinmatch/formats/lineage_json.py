"""Lineage markers in kinmatch's JSON case formats: Y haplotypes, mtDNA profiles and
the ``lineage`` settings block, shared by the kinship case format
(:mod:`kinmatch.formats.case_json`) and the DVI case format
(:mod:`kinmatch.formats.dvi_json`).

* a Y-STR haplotype is ``{locus: alleles}`` (``{"DYS576": "19", "DYS385":
  "13,18", "DYS19": "0"}``; an absent locus is untyped, ``"0"`` a null allele);
* an mtDNA profile is ``{"range": "16024-16569,1-576", "variants": "73G 263G
  16223T"}`` (range default: the control region);
* the ``lineage`` object holds the databases (file paths relative to the case
  file, or inline) and the models of :class:`kinmatch.lineage.LineageSettings`.

Every problem is a located :class:`~kinmatch.errors.CaseFormatError`; problems
inside a database file keep that file's own line and column.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from kinmatch.errors import KinmatchError, LineageError
from kinmatch.formats.json_reader import JsonReader, decode_json_bytes, describe, pointer_key
from kinmatch.formats.lineage_tables import read_mt_database, read_y_database, read_y_loci
from kinmatch.lineage.mtdna import CONTROL_REGION, MtDatabase, MtProfile, SeqRange, parse_variants
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import (
    YDatabase,
    YHaplotype,
    YLocus,
    YLocusTable,
    YMutationModel,
    make_haplotype,
)

__all__ = [
    "LINEAGE_FILE_KEYS",
    "case_input_paths",
    "lineage_file_paths",
    "lineage_to_dict",
    "mt_profile_to_dict",
    "read_lineage",
    "read_mt_profile",
    "read_y_haplotype",
    "y_haplotype_to_dict",
]


def read_y_haplotype(r: JsonReader, item: Any, ptr: str, who: str,
                     loci: YLocusTable) -> YHaplotype:
    """``{locus: alleles}`` as a :class:`YHaplotype` (errors located at the locus)."""
    if not isinstance(item, dict):
        raise r.error(ptr, f"a Y-STR haplotype maps loci to alleles, not {describe(item)}")
    values: dict[str, object] = {}
    for locus, value in item.items():
        if value is None:
            value = ""
        elif isinstance(value, list):
            value = [str(v) for v in value]
        elif not isinstance(value, str):
            value = str(value)
        values[locus] = value
    try:
        return make_haplotype(who, values, loci)
    except LineageError as err:
        name = err.location.field

        def names(key: str) -> bool:
            resolved = loci.resolve(key)
            return key == name or (resolved is not None and resolved[0].name == name)

        key = next((k for k in item if name is not None and names(k)), None)
        raise r.error(f"{ptr}/{pointer_key(key)}" if key is not None else ptr,
                      f"{who}: {err.message}") from None


def read_mt_profile(r: JsonReader, item: Any, ptr: str, who: str) -> MtProfile:
    """``{"range": ..., "variants": ...}`` as an :class:`MtProfile`."""
    if not isinstance(item, dict):
        raise r.error(ptr, "an mtDNA profile is an object with 'variants' (and 'range'), not "
                           f"{describe(item)}")
    range_text = r.field(item, "range", ptr, str, required=False, default=None)
    try:
        seq_range = CONTROL_REGION if range_text is None else SeqRange.parse(range_text)
    except LineageError as err:
        raise r.error(f"{ptr}/range", f"{who}: {err.message}") from None
    variants = r.field(item, "variants", ptr, (str, list))
    try:
        return MtProfile(who, parse_variants(variants), seq_range)
    except LineageError as err:
        raise r.error(f"{ptr}/variants", f"{who}: {err.message}") from None


T = TypeVar("T")


def _from_file(r: JsonReader, ptr: str, what: str, fn: Callable[[], T]) -> T:
    """Read a lineage table; its own problems keep their file, line and column."""
    try:
        return fn()
    except KinmatchError as err:
        raise r.error(ptr, f"cannot read the {what}: {err}") from None


def _y_locus(row: Mapping[str, Any]) -> YLocus:
    """One row of an inline ``y_loci`` table."""
    return YLocus(row["locus"], float(row["rate"]), int(row.get("copies", 1)),
                  str(row.get("source", "")))


#: The keys of the ``lineage`` object whose value may name a database file.
LINEAGE_FILE_KEYS = ("y_loci", "y_database", "mt_database")


def _database_path(value: str, base: Path) -> Path:
    """A database file named in the ``lineage`` object: relative to ``base``."""
    path = Path(value)
    return path if path.is_absolute() else base / path


def lineage_file_paths(item: Mapping[str, Any], base: Path) -> dict[str, Path]:
    """The database files a ``lineage`` object names (key -> path, relative paths
    taken from ``base`` as :func:`read_lineage` takes them)."""
    return {key: _database_path(item[key], base) for key in LINEAGE_FILE_KEYS
            if isinstance(item.get(key), str)}


def case_input_paths(path: str | Path) -> list[Path]:
    """Every file read when the case file ``path`` is read: the file itself and,
    for a kinmatch JSON case (kinship or DVI), the lineage database files its
    ``lineage`` object names (relative to the case file's folder).

    A file that cannot be read or is not a JSON object gives only itself:
    reading the case says what is wrong with it.
    """
    case = Path(path)
    paths = [case]
    try:
        data = case.read_bytes()
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return paths
        root = json.loads(decode_json_bytes(data, str(case)))
    except (OSError, ValueError, RecursionError, KinmatchError):
        return paths
    lineage = root.get("lineage") if isinstance(root, dict) else None
    if isinstance(lineage, dict):
        paths += lineage_file_paths(lineage, case.parent).values()
    return paths


def read_lineage(r: JsonReader, item: Mapping[str, Any], base: Path) -> LineageSettings:
    """The ``lineage`` object: databases (paths relative to ``base``, or inline) and models."""
    if not item:
        return LineageSettings()
    ptr = "/lineage"
    sources: dict[str, str] = {}

    def resolve(key: str, value: str) -> Path:
        path = _database_path(value, base)
        sources[key] = str(path.resolve())
        return path

    loci: YLocusTable | None = None
    raw_loci = item.get("y_loci")
    if isinstance(raw_loci, str):
        path = resolve("y_loci", raw_loci)
        loci = _from_file(r, f"{ptr}/y_loci", "Y-STR locus table", lambda: read_y_loci(path))
    elif isinstance(raw_loci, list):
        rows = []
        for j, row in enumerate(raw_loci):
            rows.append(r.wrap(f"{ptr}/y_loci/{j}", partial(_y_locus, row)))
        loci = r.wrap(f"{ptr}/y_loci", lambda: YLocusTable(rows))
    table = loci if loci is not None else LineageSettings().loci
    y_db: YDatabase | None = None
    raw_y = item.get("y_database")
    if isinstance(raw_y, str):
        path = resolve("y_database", raw_y)
        y_db = _from_file(r, f"{ptr}/y_database", "Y haplotype database",
                          lambda: read_y_database(path, table))
    elif isinstance(raw_y, dict):
        haps = tuple(read_y_haplotype(r, h, f"{ptr}/y_database/haplotypes/{pointer_key(k)}",
                                       k, table) for k, h in raw_y["haplotypes"].items())
        y_db = YDatabase(haps, table, raw_y.get("name", ""))
    mt_db: MtDatabase | None = None
    raw_mt = item.get("mt_database")
    if isinstance(raw_mt, str):
        path = resolve("mt_database", raw_mt)
        mt_db = _from_file(r, f"{ptr}/mt_database", "mtDNA database",
                           lambda: read_mt_database(path))
    elif isinstance(raw_mt, dict):
        profiles = tuple(read_mt_profile(r, p, f"{ptr}/mt_database/profiles/{pointer_key(k)}", k)
                         for k, p in raw_mt["profiles"].items())
        mt_db = MtDatabase(profiles, raw_mt.get("name", ""))
    model = r.wrap(ptr, lambda: YMutationModel(
        float(item.get("y_multistep_fraction", 0.0)),
        float(item.get("y_other_change_rate", YMutationModel().other_change_rate))))
    options = {key: item[key] for key in ("y_frequency_method", "y_frequency_of",
                                          "mt_frequency_method", "mt_mutation_rate",
                                          "mt_inconclusive_lr", "confidence") if key in item}
    return r.wrap(ptr, lambda: LineageSettings(y_database=y_db, y_loci=loci, y_model=model,
                                                mt_database=mt_db, sources=sources, **options))


def y_haplotype_to_dict(haplotype: YHaplotype) -> dict[str, str]:
    """``{locus: "14" | "11,14" | "0"}`` (untyped loci left out)."""
    return {locus: ",".join(alleles) if alleles else "0"
            for locus, alleles in haplotype.alleles.items()}


def mt_profile_to_dict(profile: MtProfile) -> dict[str, str]:
    """``{"range": ..., "variants": ...}``; a variant's stated rCRS base is kept (``T16093Y``)."""
    tokens = [f"{v.ref}{v}" if v.ref and not v.insertion else str(v) for v in profile.variants]
    return {"range": str(profile.range), "variants": " ".join(tokens)}


def lineage_to_dict(settings: LineageSettings, base_dir: Path | None) -> dict[str, Any]:
    """The ``lineage`` object: databases by file (relative to ``base_dir``) when read from
    one, inline otherwise."""
    def where(key: str) -> str | None:
        path = settings.sources.get(key)
        if path is None:
            return None
        if base_dir is None:
            return path
        try:
            return Path(os.path.relpath(path, Path(base_dir).resolve())).as_posix()
        except ValueError:  # another drive
            return path

    out: dict[str, Any] = {}
    default = LineageSettings()
    if settings.y_loci is not None:
        out["y_loci"] = where("y_loci") or [
            {"locus": locus.name, "rate": locus.mutation_rate, "copies": locus.copies,
             **({"source": locus.source} if locus.source else {})} for locus in settings.y_loci]
    if settings.y_database is not None:
        db = settings.y_database
        out["y_database"] = where("y_database") or {
            **({"name": db.name} if db.name else {}),
            "haplotypes": {h.sample: y_haplotype_to_dict(h) for h in db.haplotypes}}
    for key in ("y_frequency_method", "y_frequency_of"):
        if getattr(settings, key) != getattr(default, key):
            out[key] = getattr(settings, key)
    if settings.y_model.multistep_fraction != default.y_model.multistep_fraction:
        out["y_multistep_fraction"] = settings.y_model.multistep_fraction
    if settings.y_model.other_change_rate != default.y_model.other_change_rate:
        out["y_other_change_rate"] = settings.y_model.other_change_rate
    if settings.mt_database is not None:
        mdb = settings.mt_database
        out["mt_database"] = where("mt_database") or {
            **({"name": mdb.name} if mdb.name else {}),
            "profiles": {p.sample: mt_profile_to_dict(p) for p in mdb.profiles}}
    for key in ("mt_frequency_method", "mt_mutation_rate", "mt_inconclusive_lr", "confidence"):
        if getattr(settings, key) != getattr(default, key):
            out[key] = getattr(settings, key)
    return out
