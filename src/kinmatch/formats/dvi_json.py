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

Lineage markers are optional: a sample may carry ``"y_haplotype"`` (``{locus:
alleles}``, e.g. ``{"DYS576": "19", "DYS385": "13,18", "DYS19": "0"}``; an
absent locus is untyped, ``"0"`` a null allele) and ``"mtdna"``
(``{"range": "16024-16569,1-576", "variants": "73G 263G 16223T"}``); a
family ``"y_haplotypes"`` and ``"mtdna_profiles"`` by relative; and the case a
``"lineage"`` object with the databases and models::

    "lineage": {"y_database": "lineage/y_database.tsv",     # relative to the case file
                "y_loci": "lineage/yfiler_plus_rates.tsv",  # default: shipped Yfiler Plus rates
                "y_frequency_method": "count_plus_one",
                "mt_database": {"profiles": {"P1": {"variants": "263G 16223T"}}},  # or inline
                "mt_frequency_method": "clopper_pearson"}

(see :class:`kinmatch.lineage.LineageSettings` and docs/lineage.md). Problems
inside a database file are reported with the file's own line and column.

``version`` may be left out (version 1). Every problem is a
:class:`~kinmatch.errors.CaseFormatError` naming the file, line, column and
field; a file is read whole or not at all.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..dvi.case import DVICase, PostMortemSample, ReferenceFamily
from ..errors import KinmatchError, LineageError
from ..lineage import (
    CONTROL_REGION,
    LineageSettings,
    MtDatabase,
    MtProfile,
    SeqRange,
    YDatabase,
    YHaplotype,
    YLocus,
    YLocusTable,
    YMutationModel,
    make_haplotype,
    parse_variants,
    read_mt_database,
    read_y_database,
    read_y_loci,
)
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
    "mt_profile_to_dict",
    "parse_dvi_case",
    "read_dvi_case",
    "write_dvi_case",
    "y_haplotype_to_dict",
]

DVI_FORMAT_NAME = "kinmatch-dvi-case"


def read_dvi_case(path: str | Path) -> DVICase:
    """Read a DVI case from a kinmatch JSON DVI case file."""
    return parse_dvi_case(read_json_text(path), str(path))


def parse_dvi_case(text: str | bytes, filename: str = "<dvi case>",
                   base_dir: str | Path | None = None) -> DVICase:
    """Parse the text (or bytes) of a kinmatch JSON DVI case file.

    Database files named under ``lineage`` are read relative to ``base_dir``
    (default: the folder of ``filename``, or the working folder when
    ``filename`` is not a path such as ``"<dvi case>"``).
    """
    r = JsonReader(decode_json_bytes(text, filename), filename)
    root = r.check_header(DVI_FORMAT_NAME)
    r.validate("dvi-case")
    if base_dir is None:
        base_dir = Path(filename).parent if not filename.startswith("<") else Path(".")
    title = r.field(root, "title", "", str, required=False, default="")
    theta = read_theta(r, root)
    min_freq, normalise = read_options(r, root)
    markers = read_markers(r, r.field(root, "markers", "", list), normalise)
    by_name = {m.name: m for m in markers}
    lineage = _read_lineage(r, r.field(root, "lineage", "", dict, required=False, default={}),
                            Path(base_dir))
    samples = _read_samples(r, r.field(root, "samples", "", list), by_name, lineage.loci)
    families = _read_families(r, r.field(root, "families", "", list), by_name, lineage.loci)
    return r.wrap("", lambda: DVICase(markers, samples, families, theta=theta,
                                      minimum_frequency=min_freq, title=title,
                                      lineage=lineage))


# ---------------------------------------------------------------------------
# Lineage markers


def _read_y_haplotype(r: JsonReader, item: Any, ptr: str, who: str,
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


def _read_mt_profile(r: JsonReader, item: Any, ptr: str, who: str) -> MtProfile:
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


def _from_file(r: JsonReader, ptr: str, what: str, fn: Any) -> Any:
    """Read a lineage table; its own problems keep their file, line and column."""
    try:
        return fn()
    except KinmatchError as err:
        raise r.error(ptr, f"cannot read the {what}: {err}") from None


def _read_lineage(r: JsonReader, item: Mapping[str, Any], base: Path) -> LineageSettings:
    """The ``lineage`` object: databases (paths relative to ``base``, or inline) and models."""
    if not item:
        return LineageSettings()
    ptr = "/lineage"
    sources: dict[str, str] = {}

    def resolve(key: str, value: str) -> Path:
        path = Path(value)
        path = path if path.is_absolute() else base / path
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
            rows.append(r.wrap(f"{ptr}/y_loci/{j}", lambda row=row: YLocus(
                row["locus"], float(row["rate"]), int(row.get("copies", 1)),
                str(row.get("source", "")))))
        loci = r.wrap(f"{ptr}/y_loci", lambda: YLocusTable(rows))
    table = loci if loci is not None else LineageSettings().loci
    y_db: YDatabase | None = None
    raw_y = item.get("y_database")
    if isinstance(raw_y, str):
        path = resolve("y_database", raw_y)
        y_db = _from_file(r, f"{ptr}/y_database", "Y haplotype database",
                          lambda: read_y_database(path, table))
    elif isinstance(raw_y, dict):
        haps = tuple(_read_y_haplotype(r, h, f"{ptr}/y_database/haplotypes/{pointer_key(k)}",
                                       k, table) for k, h in raw_y["haplotypes"].items())
        y_db = YDatabase(haps, table, raw_y.get("name", ""))
    mt_db: MtDatabase | None = None
    raw_mt = item.get("mt_database")
    if isinstance(raw_mt, str):
        path = resolve("mt_database", raw_mt)
        mt_db = _from_file(r, f"{ptr}/mt_database", "mtDNA database",
                           lambda: read_mt_database(path))
    elif isinstance(raw_mt, dict):
        profiles = tuple(_read_mt_profile(r, p, f"{ptr}/mt_database/profiles/{pointer_key(k)}", k)
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


def _check_x(r: JsonReader, ptr: str, who: str, sex: Sex,
             profile: Mapping[str, tuple[str, str]], markers: Mapping[str, Marker]) -> None:
    for name, (a, b) in profile.items():
        if markers[name].is_x and sex == Sex.MALE and a != b:
            raise r.error(f"{ptr}/{pointer_key(name)}",
                          f"{who} is male but heterozygous ({a}/{b}) at X-linked marker {name}; "
                          "a male has one X allele")


def _read_samples(r: JsonReader, items: list[Any], markers: Mapping[str, Marker],
                  loci: YLocusTable) -> list[PostMortemSample]:
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
        lineage: dict[str, Any] = {}
        if "y_haplotype" in item:
            lineage["y_haplotype"] = _read_y_haplotype(r, item["y_haplotype"], f"{ptr}/y_haplotype",
                                                       sid, loci)
        if "mtdna" in item:
            lineage["mtdna"] = _read_mt_profile(r, item["mtdna"], f"{ptr}/mtdna", sid)
        samples.append(r.wrap(ptr, lambda: PostMortemSample(sid, profile, sex, **rates,
                                                            **lineage)))
    return samples


def _read_families(r: JsonReader, items: list[Any], markers: Mapping[str, Marker],
                   loci: YLocusTable) -> list[ReferenceFamily]:
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
        lineage: dict[str, dict[str, Any]] = {"y_haplotypes": {}, "mtdna_profiles": {}}
        for key in lineage:
            raw_typed = r.field(item, key, ptr, dict, required=False, default={})
            for pid, value in raw_typed.items():
                pptr = f"{ptr}/{key}/{pointer_key(pid)}"
                if pid not in pedigree:
                    raise r.error(pptr, f"typed person '{pid}' is not in the pedigree of family "
                                        f"'{name}'")
                if pid in missing:
                    raise r.error(pptr, f"missing person '{pid}' is typed; a missing person's "
                                        "data is what the remains may supply")
                if key == "y_haplotypes":
                    if pedigree.sex(pid) == Sex.FEMALE:
                        raise r.error(pptr, f"'{pid}' of family '{name}' is female and has no "
                                            "Y chromosome")
                    lineage[key][pid] = _read_y_haplotype(r, value, pptr, pid, loci)
                else:
                    lineage[key][pid] = _read_mt_profile(r, value, pptr, pid)
        families.append(r.wrap(ptr, lambda: ReferenceFamily(
            name, pedigree, tuple(missing), profiles, **lineage)))
    return families


def _pedigree_inbreeding(pedigree: Pedigree) -> dict[str, float]:
    return {k: float(v) for k, v in pedigree.founder_inbreeding.items()}


def y_haplotype_to_dict(haplotype: YHaplotype) -> dict[str, str]:
    """``{locus: "14" | "11,14" | "0"}`` (untyped loci left out)."""
    return {locus: ",".join(alleles) if alleles else "0"
            for locus, alleles in haplotype.alleles.items()}


def mt_profile_to_dict(profile: MtProfile) -> dict[str, str]:
    """``{"range": ..., "variants": ...}``; a variant's stated rCRS base is kept (``T16093Y``)."""
    tokens = [f"{v.ref}{v}" if v.ref and not v.insertion else str(v) for v in profile.variants]
    return {"range": str(profile.range), "variants": " ".join(tokens)}


def _lineage_to_dict(settings: LineageSettings, base_dir: Path | None) -> dict[str, Any]:
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
            {"locus": l.name, "rate": l.mutation_rate, "copies": l.copies,
             **({"source": l.source} if l.source else {})} for l in settings.y_loci]
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


def dvi_case_to_dict(case: DVICase, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The DVI case as a version-1 JSON document.

    Lineage databases read from files are written as paths relative to
    ``base_dir`` (the folder the document will be written to; absolute paths
    when ``None``); databases built in memory are written inline.
    """
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
        if s.y_haplotype is not None:
            entry["y_haplotype"] = y_haplotype_to_dict(s.y_haplotype)
        if s.mtdna is not None:
            entry["mtdna"] = mt_profile_to_dict(s.mtdna)
        out["samples"].append(entry)
    families = []
    for f in case.families:
        entry: dict[str, Any] = {"name": f.name, "pedigree": pedigree_to_records(f.pedigree),
                                 "missing": list(f.missing)}
        if f.pedigree.founder_inbreeding:
            entry["founder_inbreeding"] = _pedigree_inbreeding(f.pedigree)
        entry["profiles"] = {pid: profile_to_dict(p) for pid, p in f.profiles.items()}
        if f.y_haplotypes:
            entry["y_haplotypes"] = {pid: y_haplotype_to_dict(h)
                                     for pid, h in f.y_haplotypes.items()}
        if f.mtdna_profiles:
            entry["mtdna_profiles"] = {pid: mt_profile_to_dict(p)
                                       for pid, p in f.mtdna_profiles.items()}
        families.append(entry)
    out["families"] = families
    lineage = _lineage_to_dict(case.lineage, Path(base_dir) if base_dir is not None else None)
    if lineage:
        out["lineage"] = lineage
    return out


def format_dvi_case(case: DVICase, base_dir: str | Path | None = None) -> str:
    """The text of a DVI case file (see :func:`dvi_case_to_dict` for ``base_dir``)."""
    return dump_json(dvi_case_to_dict(case, base_dir))


def write_dvi_case(case: DVICase, path: str | Path) -> None:
    """Write a DVI case file (atomically: a failure leaves no partial file); lineage
    database files are referred to relative to the file's folder."""
    atomic_write_text(path, format_dvi_case(case, Path(path).parent))
