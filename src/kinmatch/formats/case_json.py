"""kinmatch's own JSON case format, version 1, and the machinery its JSON readers share.

A kinship case file holds the markers (alleles, frequencies, mutation
models), the typed people's profiles, and two or more hypotheses: pedigrees
given person by person, or named relationships between two people. The
format is documented in ``docs/case-format.md`` and published as a JSON
Schema (draft 2020-12) shipped in the package,
``kinmatch/schemas/kinship-case.schema.json``; an example::

    {
      "format": "kinmatch-case",
      "version": 1,
      "title": "Paternity: is A the father of B?",
      "theta": 0.0,
      "markers": [
        {"name": "D3S1358", "chromosome": "autosomal",
         "alleles": ["14", "15", "16"], "frequencies": [0.2, 0.5, 0.3],
         "mutation": {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}}
      ],
      "profiles": {"A": {"D3S1358": ["14", "15"]}, "B": {"D3S1358": ["15", "16"]}},
      "hypotheses": [
        {"name": "paternity", "relationship": "parent_child", "between": ["A", "B"],
         "sexes": {"A": "male", "B": "male"}},
        {"name": "unrelated", "pedigree": [
           {"id": "A", "sex": "male"}, {"id": "B", "sex": "male"}]}
      ],
      "reference": "unrelated"
    }

Lineage markers are optional, written as in the DVI case format
(:mod:`kinmatch.formats.lineage_json`): ``"y_haplotypes"`` and
``"mtdna_profiles"`` by typed person, ``"poi"`` (the person of interest) and a
``"lineage"`` block with the databases (paths relative to the case file) and
models; :class:`KinshipCase` carries them (``lineage`` is ``None`` without the
block).

``version`` is optional: a file without it is read as version 1. A file of a
later version is refused with an error saying which version this kinmatch
reads. Reading goes in three steps, each stopping at the first problem with
a :class:`~kinmatch.errors.CaseFormatError` naming the file, the line and
column, and the field (as a JSON pointer such as ``/markers/2/frequencies``):

1. the JSON syntax, the ``format`` and the ``version``;
2. the schema (types, required and unknown fields, ranges), worded for people;
3. the meaning: frequencies sum to 1, pedigrees are consistent, every typed
   person is in every hypothesis, X-linked genotypes fit the sexes.

:class:`JsonReader` and the ``read_*`` helpers are shared with the DVI case
format (:mod:`kinmatch.formats.dvi_json`) and the hypotheses files of
table-based cases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kinmatch.alleles import canonical_allele
from kinmatch.errors import CaseFormatError, Location
from kinmatch.formats.files import atomic_write_text
from kinmatch.formats.json_reader import (
    FORMAT_VERSION,
    JsonReader,
    decode_json_bytes,
    describe,
    dump_json,
    plain_json,
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
from kinmatch.kinship.case import Hypothesis, KinshipCase, check_hypotheses
from kinmatch.lineage.mtdna import MtProfile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YHaplotype
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Individual, Pedigree, Sex, parent_id
from kinmatch.relationships import relationship_pedigree

FORMAT_NAME = "kinmatch-case"






# ---------------------------------------------------------------------------
# The shared reader machinery




















# ---------------------------------------------------------------------------
# Parts shared by kinmatch's JSON formats


def read_options(r: JsonReader, root: Mapping[str, Any]) -> tuple[float, bool]:
    """``options.minimum_frequency`` and ``options.normalise_frequencies``."""
    options = r.field(root, "options", "", dict, required=False, default={})
    min_freq = float(r.field(options, "minimum_frequency", "/options", (int, float),
                             required=False, default=DEFAULT_MINIMUM_FREQUENCY))
    if not 0 < min_freq < 1:
        raise r.error("/options/minimum_frequency", f"must be in (0, 1), not {min_freq}")
    normalise = r.field(options, "normalise_frequencies", "/options", bool, required=False,
                        default=False)
    return min_freq, bool(normalise)


def read_theta(r: JsonReader, root: Mapping[str, Any]) -> float:
    """``theta`` (default 0), in [0, 1)."""
    theta = float(r.field(root, "theta", "", (int, float), required=False, default=0.0))
    if not 0 <= theta < 1:
        raise r.error("/theta", f"theta must be in [0, 1), not {theta}")
    return theta


def read_markers(r: JsonReader, items: list[Any], normalise: bool) -> list[Marker]:
    """The ``markers`` list: every marker built and checked (frequencies, mutation model)."""
    if not items:
        raise r.error("/markers", "a case needs at least one marker")
    markers: list[Marker] = []
    names: set[str] = set()
    allowed = {"name", "chromosome", "alleles", "frequencies", "mutation", "rest_allele"}
    for i, item in enumerate(items):
        ptr = f"/markers/{i}"
        if not isinstance(item, dict):
            raise r.error(ptr, f"a marker is an object, not {describe(item)}")
        for key in item:
            if key not in allowed:
                raise r.error(f"{ptr}/{pointer_key(key)}", f"unknown marker field '{key}'")
        name = r.field(item, "name", ptr, str)
        if name in names:
            raise r.error(f"{ptr}/name", f"marker '{name}' is defined twice")
        names.add(name)
        chrom = r.field(item, "chromosome", ptr, str, required=False, default="autosomal")
        alleles = r.field(item, "alleles", ptr, list)
        for j, a in enumerate(alleles):
            if not isinstance(a, (str, int, float)) or isinstance(a, bool):
                raise r.error(f"{ptr}/alleles/{j}", f"an allele name is text, not {describe(a)}")
        freqs = r.field(item, "frequencies", ptr, list)
        for j, f in enumerate(freqs):
            if not isinstance(f, (int, float)) or isinstance(f, bool):
                raise r.error(f"{ptr}/frequencies/{j}", f"expected a number, found {describe(f)}")
        mutation = r.field(item, "mutation", ptr, dict, required=False)
        rest = r.field(item, "rest_allele", ptr, str, required=False)
        markers.append(r.wrap(ptr, partial(
            Marker.create, name, alleles, freqs, chromosome=chrom, mutation=mutation,
            normalise=normalise, rest_allele=rest)))
    return markers


def _canonical_alleles(labels: list[object]) -> tuple[str, ...]:
    return tuple(canonical_allele(a) for a in labels)


def read_profile(r: JsonReader, prof: Any, ptr: str, markers: Mapping[str, Marker]
                 ) -> dict[str, tuple[str, str]]:
    """One ``{marker: genotype}`` profile; untyped markers are left out."""
    if not isinstance(prof, dict):
        raise r.error(ptr, f"a profile maps marker names to genotypes, not {describe(prof)}")
    out: dict[str, tuple[str, str]] = {}
    for mname, geno in prof.items():
        gptr = f"{ptr}/{pointer_key(mname)}"
        if mname not in markers:
            raise r.error(gptr, f"marker '{mname}' is not defined in /markers")
        if geno is None or geno in ("-", "", ["-", "-"]):
            continue  # untyped at this marker
        if isinstance(geno, str):
            parts = [a.strip() for a in geno.replace(",", "/").split("/")]
        elif isinstance(geno, list):
            parts = geno
        else:
            raise r.error(gptr, f"a genotype is [\"a\", \"b\"] or \"a/b\", not {describe(geno)}")
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2:
            raise r.error(gptr, f"a genotype has two alleles, found {len(parts)}")
        labels: list[object] = []
        for a in parts:
            if not isinstance(a, (str, int, float)) or isinstance(a, bool):
                raise r.error(gptr, f"an allele name is text, not {describe(a)}")
            labels.append(a)
        canon = r.wrap(gptr, partial(_canonical_alleles, labels))
        out[mname] = (canon[0], canon[1])
    return out


def read_profile_block(r: JsonReader, items: dict[str, Any], markers: Mapping[str, Marker],
                  pointer: str = "/profiles") -> dict[str, dict[str, tuple[str, str]]]:
    """``{person: {marker: genotype}}`` at ``pointer``."""
    return {pid: read_profile(r, prof, f"{pointer}/{pointer_key(pid)}", markers)
            for pid, prof in items.items()}


_PERSON_FIELDS = ("id", "sex", "father", "mother", "fid", "mid")


def read_pedigree(r: JsonReader, records: list[Any], ptr: str,
                  inbreeding: Mapping[str, float] | None = None) -> Pedigree:
    """A pedigree given person by person (``id``, ``sex``, ``father``/``mother``)."""
    people = []
    for j, rec in enumerate(records):
        pptr = f"{ptr}/{j}"
        if not isinstance(rec, dict):
            raise r.error(pptr, f"a person is an object, not {describe(rec)}")
        for key in rec:
            if key not in _PERSON_FIELDS:
                raise r.error(f"{pptr}/{pointer_key(key)}", f"unknown person field '{key}'")
        pid = r.field(rec, "id", pptr, (str, int))
        sex = r.wrap(f"{pptr}/sex", partial(Sex.parse, rec.get("sex", 0)))
        father = parent_id(rec.get("father", rec.get("fid")))
        mother = parent_id(rec.get("mother", rec.get("mid")))
        people.append(Individual(str(pid), sex, father, mother))
    return r.wrap(ptr, lambda: Pedigree(people, inbreeding or {}))


def read_hypothesis(r: JsonReader, h: Any, ptr: str) -> Hypothesis:
    """One hypothesis: a ``pedigree`` or a ``relationship`` ``between`` two people."""
    if not isinstance(h, dict):
        raise r.error(ptr, f"a hypothesis is an object, not {describe(h)}")
    name = r.field(h, "name", ptr, str)
    description = r.field(h, "description", ptr, str, required=False, default="")
    has_ped, has_rel = "pedigree" in h, "relationship" in h
    if has_ped == has_rel:
        raise r.error(ptr, "a hypothesis gives either 'pedigree' or 'relationship' (exactly one)")
    if has_ped:
        records = r.field(h, "pedigree", ptr, list)
        inbreeding = r.field(h, "founder_inbreeding", ptr, dict, required=False, default={})
        pedigree = read_pedigree(r, records, f"{ptr}/pedigree", inbreeding)
    else:
        rel = r.field(h, "relationship", ptr, str)
        between = r.field(h, "between", ptr, list)
        if len(between) != 2 or not all(isinstance(x, str) for x in between):
            raise r.error(f"{ptr}/between", "expected the ids of two people, e.g. [\"A\", \"B\"]")
        sexes = r.field(h, "sexes", ptr, dict, required=False, default={})
        sex_a = r.wrap(f"{ptr}/sexes", lambda: Sex.parse(sexes.get(between[0], 1)))
        sex_b = r.wrap(f"{ptr}/sexes", lambda: Sex.parse(sexes.get(between[1], 1)))
        pedigree = r.wrap(f"{ptr}/relationship",
                          lambda: relationship_pedigree(rel, between[0], between[1], sex_a, sex_b))
        description = description or f"{rel.replace('_', ' ')}: {between[0]}, {between[1]}"
    return Hypothesis(name, pedigree, description)


def read_hypotheses(r: JsonReader, root: Mapping[str, Any], minimum: int = 2
                    ) -> tuple[list[Hypothesis], str | None]:
    """The ``hypotheses`` (at least ``minimum``, unique names) and the ``reference``
    among them. A kinship case may hold one (its pedigree likelihood, as
    Familias gives for a file with one pedigree); a hypotheses file two."""
    hyps = r.field(root, "hypotheses", "", list)
    if len(hyps) < minimum:
        raise r.error("/hypotheses", "a kinship case needs at least two hypotheses"
                      if minimum == 2 else "a kinship case needs at least one hypothesis")
    hypotheses = [read_hypothesis(r, h, f"/hypotheses/{i}") for i, h in enumerate(hyps)]
    names = [h.name for h in hypotheses]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise r.error(f"/hypotheses/{i}/name", f"hypothesis name '{name}' is used twice")
    reference = r.field(root, "reference", "", str, required=False)
    if reference is not None and reference not in names:
        raise r.error("/reference",
                      f"'{reference}' is not one of the hypotheses ({', '.join(names)})")
    return hypotheses, reference


# ---------------------------------------------------------------------------
# The kinship case


def read_case(path: str | Path) -> KinshipCase:
    """Read a kinship case from a kinmatch JSON case file."""
    return parse_case(read_json_text(path), str(path))


def parse_case(text: str | bytes, filename: str = "<case>",
               base_dir: str | Path | None = None) -> KinshipCase:
    """Parse the text (or bytes) of a kinmatch JSON case file.

    Lineage database files named under ``lineage`` are read relative to
    ``base_dir`` (default: the folder of ``filename``, or the working folder
    when ``filename`` is not a path such as ``"<case>"``).
    """
    r = JsonReader(decode_json_bytes(text, filename), filename)
    root = r.check_header(FORMAT_NAME)
    r.validate("kinship-case")
    known = {"format", "version", "title", "theta", "markers", "profiles", "hypotheses",
             "reference", "options", "description", "dropout", "dropin", "y_haplotypes",
             "mtdna_profiles", "lineage", "poi"}
    for key in root:
        if key not in known:
            raise r.error(f"/{pointer_key(key)}", f"unknown field '{key}' (expected one of "
                                                  f"{', '.join(sorted(known))})")

    title = r.field(root, "title", "", str, required=False, default="")
    theta = read_theta(r, root)
    min_freq, normalise = read_options(r, root)
    markers = read_markers(r, r.field(root, "markers", "", list), normalise)
    profiles = read_profile_block(r, r.field(root, "profiles", "", dict),
                                  {m.name: m for m in markers})
    hypotheses, reference = read_hypotheses(r, root, minimum=1)
    check_case_hypotheses(r, markers, profiles, hypotheses)
    dropout, dropin = _read_dropout(r, root, profiles)
    if base_dir is None:
        base_dir = Path(filename).parent if not filename.startswith("<") else Path(".")
    lineage, y_haps, mt_profiles, poi = _read_case_lineage(r, root, hypotheses, Path(base_dir))
    return KinshipCase(markers, profiles, hypotheses, reference, theta, title, min_freq, filename,
                       dropout=dropout, dropin=dropin, y_haplotypes=y_haps,
                       mtdna_profiles=mt_profiles, lineage=lineage, poi=poi)


def _read_case_lineage(r: JsonReader, root: Mapping[str, Any], hypotheses: list[Hypothesis],
                       base: Path) -> tuple[LineageSettings | None, dict[str, YHaplotype],
                                            dict[str, MtProfile], str | None]:
    """The lineage parts of a kinship case: the ``lineage`` block, the Y haplotypes and
    mtDNA profiles of typed people (each in every hypothesis) and the ``poi``."""
    lineage = None
    if "lineage" in root:
        lineage = read_lineage(r, r.field(root, "lineage", "", dict), base)
    loci = (lineage if lineage is not None else LineageSettings()).loci

    def check_person(pid: str, ptr: str) -> None:
        for h in hypotheses:
            if pid not in h.pedigree:
                raise r.error(ptr, f"typed person '{pid}' is missing from hypothesis '{h.name}'")

    y_haps: dict[str, YHaplotype] = {}
    for pid, value in r.field(root, "y_haplotypes", "", dict, required=False,
                              default={}).items():
        ptr = f"/y_haplotypes/{pointer_key(pid)}"
        check_person(pid, ptr)
        female = next((h.name for h in hypotheses if h.pedigree.sex(pid) == Sex.FEMALE), None)
        if female is not None:
            raise r.error(ptr, f"'{pid}' is female in hypothesis '{female}' and has no "
                               "Y chromosome")
        y_haps[pid] = read_y_haplotype(r, value, ptr, pid, loci)
    mt_profiles: dict[str, MtProfile] = {}
    for pid, value in r.field(root, "mtdna_profiles", "", dict, required=False,
                              default={}).items():
        ptr = f"/mtdna_profiles/{pointer_key(pid)}"
        check_person(pid, ptr)
        mt_profiles[pid] = read_mt_profile(r, value, ptr, pid)
    poi = r.field(root, "poi", "", str, required=False)
    if poi is not None:
        check_person(poi, "/poi")
    return lineage, y_haps, mt_profiles, poi


def _read_dropout(r: JsonReader, root: Mapping[str, Any],
                  profiles: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[dict[str, float | dict[str, float]], dict[str, float]]:
    """The drop-out / drop-in probabilities, for typed people only."""
    dropout: dict[str, float | dict[str, float]] = {}
    for pid, value in r.field(root, "dropout", "", dict, required=False, default={}).items():
        ptr = f"/dropout/{pointer_key(pid)}"
        if pid not in profiles or not profiles[pid]:
            raise r.error(ptr, f"a drop-out probability is given for '{pid}', who is not typed")
        if isinstance(value, dict):
            for mname in value:
                if mname not in profiles[pid]:
                    raise r.error(f"{ptr}/{pointer_key(mname)}",
                                  f"'{pid}' is not typed at marker '{mname}'")
            dropout[pid] = {k: float(v) for k, v in value.items()}
        else:
            dropout[pid] = float(value)
    dropin: dict[str, float] = {}
    for pid, value in r.field(root, "dropin", "", dict, required=False, default={}).items():
        if pid not in profiles or not profiles[pid]:
            raise r.error(f"/dropin/{pointer_key(pid)}",
                          f"a drop-in probability is given for '{pid}', who is not typed")
        dropin[pid] = float(value)
    return dropout, dropin


def check_case_hypotheses(r: JsonReader, markers: list[Marker],
                          profiles: Mapping[str, Mapping[str, tuple[str, str]]],
                          hypotheses: list[Hypothesis]) -> None:
    """Every typed person is in every hypothesis, with one sex, fitting the X markers."""
    typed = [pid for pid, prof in profiles.items() if prof]
    for i, h in enumerate(hypotheses):
        for pid in typed:
            if pid not in h.pedigree:
                raise r.error(f"/hypotheses/{i}",
                              f"typed person '{pid}' is missing from hypothesis '{h.name}'")
    r.wrap("/hypotheses", lambda: check_hypotheses(hypotheses, typed))
    _check_x_profiles(r, markers, profiles, hypotheses)


def _check_x_profiles(r: JsonReader, markers: list[Marker],
                      profiles: Mapping[str, Mapping[str, tuple[str, str]]],
                      hypotheses: list[Hypothesis]) -> None:
    """Males are hemizygous at X markers; people typed there need a known sex."""
    x_markers = {m.name for m in markers if m.is_x}
    if not x_markers:
        return
    for pid, prof in profiles.items():
        sexes = {h.pedigree.sex(pid) for h in hypotheses if pid in h.pedigree}
        for mname, (a, b) in prof.items():
            if mname not in x_markers:
                continue
            ptr = f"/profiles/{pointer_key(pid)}/{pointer_key(mname)}"
            if Sex.MALE in sexes and a != b:
                raise r.error(ptr, f"'{pid}' is male but heterozygous ({a}/{b}) at X-linked "
                                   f"marker {mname}; a male has one X allele")
            if sexes <= {Sex.UNKNOWN}:
                raise r.error(ptr, f"'{pid}' is typed at X-linked marker {mname} but has "
                                   "unknown sex in every hypothesis")


# ---------------------------------------------------------------------------
# Hypotheses files (for cases assembled from laboratory tables)


@dataclass
class HypothesesFile:
    """The hypotheses of a kinship case on their own (``"format": "kinmatch-hypotheses"``)."""

    hypotheses: list[Hypothesis]
    reference: str | None = None
    theta: float | None = None
    title: str = ""
    source: str | None = None
    reader: JsonReader | None = field(default=None, repr=False, compare=False)

    def locate(self, pointer: str, message: str) -> CaseFormatError:
        """An error at ``pointer`` of the file, with its line and column."""
        if self.reader is not None:
            return self.reader.error(pointer, message)
        return CaseFormatError(message, Location(self.source, field=pointer))


def read_hypotheses_file(path: str | Path) -> HypothesesFile:
    """Read a hypotheses file (``kinmatch-hypotheses``, see ``hypotheses.schema.json``)."""
    return parse_hypotheses_file(read_json_text(path), str(path))


def parse_hypotheses_file(text: str | bytes, filename: str = "<hypotheses>") -> HypothesesFile:
    """Parse the text (or bytes) of a hypotheses file."""
    r = JsonReader(decode_json_bytes(text, filename), filename)
    root = r.check_header("kinmatch-hypotheses")
    r.validate("hypotheses")
    hypotheses, reference = read_hypotheses(r, root)
    theta = read_theta(r, root) if "theta" in root else None
    title = r.field(root, "title", "", str, required=False, default="")
    return HypothesesFile(hypotheses, reference, theta, title, filename, r)


def hypotheses_to_dict(hypotheses: Iterable[Hypothesis], reference: str | None = None,
                       title: str = "") -> dict[str, Any]:
    """A hypotheses file as a JSON document (pedigrees written person by person)."""
    out: dict[str, Any] = {"format": "kinmatch-hypotheses", "version": FORMAT_VERSION}
    if title:
        out["title"] = title
    out["hypotheses"] = [hypothesis_to_dict(h) for h in hypotheses]
    if reference is not None:
        out["reference"] = reference
    return out


# ---------------------------------------------------------------------------
# Writing


def marker_to_dict(m: Marker) -> dict[str, Any]:
    """A marker as written in kinmatch's JSON formats."""
    entry: dict[str, Any] = {
        "name": m.name,
        "chromosome": m.chromosome,
        "alleles": list(m.alleles),
        "frequencies": [float(f) for f in m.allele_frequencies],
    }
    if m.mutation_spec is not None:
        entry["mutation"] = plain_json(m.mutation_spec)
    return entry


def pedigree_to_records(pedigree: Pedigree) -> list[dict[str, Any]]:
    """A pedigree person by person: ``{"id", "sex", "father", "mother"}`` (``"0"``: none)."""
    return [{"id": p.id, "sex": int(p.sex), "father": p.father or "0", "mother": p.mother or "0"}
            for p in pedigree]


def profile_to_dict(profile: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """A profile as ``{marker: [allele, allele]}`` (a one-allele genotype as written)."""
    return {k: [str(a) for a in g] for k, g in profile.items()}


def hypothesis_to_dict(h: Hypothesis) -> dict[str, Any]:
    """A hypothesis with its pedigree person by person."""
    entry: dict[str, Any] = {"name": h.name, "pedigree": pedigree_to_records(h.pedigree)}
    if h.description:
        entry["description"] = h.description
    if h.pedigree.founder_inbreeding:
        entry["founder_inbreeding"] = dict(h.pedigree.founder_inbreeding)
    return entry






def case_to_dict(case: KinshipCase, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The case as a version-1 JSON document (pedigrees written person by person).

    Lineage databases read from files are written as paths relative to
    ``base_dir`` (the folder the document will be written to; absolute paths
    when ``None``); databases built in memory are written inline.
    """
    out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if case.title:
        out["title"] = case.title
    out["theta"] = case.theta
    out["markers"] = [marker_to_dict(m) for m in case.markers]
    out["profiles"] = {pid: profile_to_dict(prof) for pid, prof in case.profiles.items()}
    out["hypotheses"] = [hypothesis_to_dict(h) for h in case.hypotheses]
    if case.reference is not None:
        out["reference"] = case.reference
    if not math.isclose(case.minimum_frequency, DEFAULT_MINIMUM_FREQUENCY):
        out["options"] = {"minimum_frequency": case.minimum_frequency}
    if case.dropout:
        out["dropout"] = {pid: (dict(v) if isinstance(v, dict) else v)
                          for pid, v in case.dropout.items()}
    if case.dropin:
        out["dropin"] = dict(case.dropin)
    if case.has_lineage or case.lineage is not None or case.poi is not None:
        if case.y_haplotypes:
            out["y_haplotypes"] = {pid: y_haplotype_to_dict(h)
                                   for pid, h in case.y_haplotypes.items()}
        if case.mtdna_profiles:
            out["mtdna_profiles"] = {pid: mt_profile_to_dict(p)
                                     for pid, p in case.mtdna_profiles.items()}
        if case.poi is not None:
            out["poi"] = case.poi
        if case.lineage is not None:
            out["lineage"] = lineage_to_dict(case.lineage,
                                             Path(base_dir) if base_dir is not None else None)
    return out


def format_case(case: KinshipCase, base_dir: str | Path | None = None) -> str:
    """The text of a kinship case file (see :func:`case_to_dict` for ``base_dir``)."""
    return dump_json(case_to_dict(case, base_dir))


def write_case(case: KinshipCase, path: str | Path) -> None:
    """Write a kinship case file (atomically: a failure leaves no partial file); lineage
    database files are referred to relative to the file's folder."""
    atomic_write_text(path, format_case(case, Path(path).parent))
