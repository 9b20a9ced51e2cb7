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
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.formats.case_json import (
    marker_to_dict,
    pedigree_to_records,
    profile_to_dict,
    read_markers,
    read_options,
    read_pedigree,
    read_profile,
    read_theta,
)
from kinmatch.formats.files import atomic_write_text
from kinmatch.formats.json_reader import (
    FORMAT_VERSION,
    JsonReader,
    decode_json_bytes,
    describe,
    dump_json,
    pointer_key,
    read_json_text,
)
from kinmatch.formats.lineage_json import (
    lineage_to_dict,
    mt_profile_to_dict,
    read_lineage,
    read_mt_profile,
    read_y_haplotype,
    y_haplotype_to_dict,
)
from kinmatch.lineage.mtdna import MtProfile
from kinmatch.lineage.ystr import YHaplotype, YLocusTable
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Pedigree, Sex

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
    lineage = read_lineage(r, r.field(root, "lineage", "", dict, required=False, default={}),
                            Path(base_dir))
    samples = _read_samples(r, r.field(root, "samples", "", list), by_name, lineage.loci)
    families = _read_families(r, r.field(root, "families", "", list), by_name, lineage.loci)
    return r.wrap("", lambda: DVICase(markers, samples, families, theta=theta,
                                      minimum_frequency=min_freq, title=title,
                                      lineage=lineage))


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
        sex = r.wrap(f"{ptr}/sex", partial(Sex.parse, item.get("sex", 0)))
        profile = read_profile(r, r.field(item, "profile", ptr, dict), f"{ptr}/profile", markers)
        _check_x(r, f"{ptr}/profile", f"sample '{sid}'", sex, profile, markers)
        dropout = float(r.field(item, "dropout", ptr, (int, float), required=False) or 0.0)
        dropin = float(r.field(item, "dropin", ptr, (int, float), required=False) or 0.0)
        y_haplotype: YHaplotype | None = None
        if "y_haplotype" in item:
            y_haplotype = read_y_haplotype(r, item["y_haplotype"], f"{ptr}/y_haplotype", sid,
                                           loci)
        mtdna: MtProfile | None = None
        if "mtdna" in item:
            mtdna = read_mt_profile(r, item["mtdna"], f"{ptr}/mtdna", sid)
        samples.append(r.wrap(ptr, partial(PostMortemSample, sid, profile, sex, dropout=dropout,
                                           dropin=dropin, y_haplotype=y_haplotype,
                                           mtdna=mtdna)))
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
        y_haplotypes: dict[str, YHaplotype] = {}
        mtdna_profiles: dict[str, MtProfile] = {}
        for key in ("y_haplotypes", "mtdna_profiles"):
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
                    y_haplotypes[pid] = read_y_haplotype(r, value, pptr, pid, loci)
                else:
                    mtdna_profiles[pid] = read_mt_profile(r, value, pptr, pid)
        deceased = tuple(r.field(item, "deceased", ptr, list, required=False, default=[]))
        for i, pid in enumerate(deceased):
            if pid not in pedigree:
                raise r.error(f"{ptr}/deceased/{i}", f"deceased person '{pid}' is not in the "
                                                     f"pedigree of family '{name}'")
        rates: dict[str, dict[str, float]] = {}
        for key in ("dropout", "dropin"):
            raw_rates = r.field(item, key, ptr, dict, required=False, default={})
            for pid in raw_rates:
                if not profiles.get(pid):
                    raise r.error(f"{ptr}/{key}/{pointer_key(pid)}",
                                  f"a {key} probability is given for '{pid}', who is not typed "
                                  f"in family '{name}'")
            rates[key] = {pid: float(v) for pid, v in raw_rates.items()}
        families.append(r.wrap(ptr, partial(
            ReferenceFamily, name, pedigree, tuple(missing), profiles, y_haplotypes=y_haplotypes,
            mtdna_profiles=mtdna_profiles, deceased=deceased, dropout=rates["dropout"],
            dropin=rates["dropin"])))
    return families


def _pedigree_inbreeding(pedigree: Pedigree) -> dict[str, float]:
    return {k: float(v) for k, v in pedigree.founder_inbreeding.items()}


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
    samples: list[dict[str, Any]] = []
    for s in case.samples:
        entry: dict[str, Any] = {"id": s.id, "sex": int(s.sex),
                                 "profile": profile_to_dict(s.profile)}
        if s.dropout:
            entry["dropout"] = s.dropout
        if s.dropin:
            entry["dropin"] = s.dropin
        if s.y_haplotype is not None:
            entry["y_haplotype"] = y_haplotype_to_dict(s.y_haplotype)
        if s.mtdna is not None:
            entry["mtdna"] = mt_profile_to_dict(s.mtdna)
        samples.append(entry)
    out["samples"] = samples
    families = []
    for f in case.families:
        entry = {"name": f.name, "pedigree": pedigree_to_records(f.pedigree),
                                 "missing": list(f.missing)}
        if f.pedigree.founder_inbreeding:
            entry["founder_inbreeding"] = _pedigree_inbreeding(f.pedigree)
        entry["profiles"] = {pid: profile_to_dict(p) for pid, p in f.profiles.items()}
        if f.deceased:
            entry["deceased"] = list(f.deceased)
        if f.dropout:
            entry["dropout"] = dict(f.dropout)
        if f.dropin:
            entry["dropin"] = dict(f.dropin)
        if f.y_haplotypes:
            entry["y_haplotypes"] = {pid: y_haplotype_to_dict(h)
                                     for pid, h in f.y_haplotypes.items()}
        if f.mtdna_profiles:
            entry["mtdna_profiles"] = {pid: mt_profile_to_dict(p)
                                       for pid, p in f.mtdna_profiles.items()}
        families.append(entry)
    out["families"] = families
    lineage = lineage_to_dict(case.lineage, Path(base_dir) if base_dir is not None else None)
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
