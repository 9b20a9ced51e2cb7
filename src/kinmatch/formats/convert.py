"""Conversions between the formats kinmatch reads and writes (``kinmatch convert``).

=====================  ==========================================================
input                  outputs
=====================  ==========================================================
JSON kinship case      JSON kinship case, Familias ``.fam``, PED (one family per
                       hypothesis)
JSON DVI case          JSON DVI case, Familias ``.fam`` (DVI module)
Familias ``.fam``      JSON kinship case (a kinship file), JSON DVI case (a file
                       with a ``[DVI]`` section), Familias ``.fam``
hypotheses JSON        PED (one family per hypothesis), hypotheses JSON
PED / PLINK ``.fam``   PED, PLINK ``.fam``, hypotheses JSON (one hypothesis per
                       family; two or more families)
frequency database     Familias text, long CSV, wide CSV
genotype table         wide genotype CSV; with a frequency database and
                       hypotheses, a JSON kinship case
=====================  ==========================================================

The input's kind comes from its content (:func:`~kinmatch.formats.detect.detect_input`);
the output's from ``to`` or else from its extension and the input's kind.
Everything is read and converted in memory before the output is written,
and it is written atomically (a temporary file in the same folder, renamed
into place): a failure never leaves a half-written file, and the input is
never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard

from kinmatch.dvi.case import DVICase
from kinmatch.errors import CaseFormatError, KinmatchError, Location, warn
from kinmatch.formats.case_json import (
    format_case,
    hypotheses_to_dict,
    read_case,
    read_hypotheses_file,
)
from kinmatch.formats.detect import INPUT_KINDS, InputKind, detect_input
from kinmatch.formats.dvi_json import format_dvi_case, read_dvi_case
from kinmatch.formats.familias.convert import (
    familias_locus,
    familias_to_dvi_case,
    familias_to_kinship_case,
    kinship_case_to_familias,
)
from kinmatch.formats.familias.model import (
    REFERENCE_PEDIGREE,
    DVIFamily,
    DVIPedigree,
    DVIPerson,
    FamiliasDVI,
    FamiliasFile,
)
from kinmatch.formats.familias.parse import read_familias
from kinmatch.formats.familias.write import format_familias
from kinmatch.formats.files import (
    atomic_write_text,
    check_output_path,
    refuse_overwriting_inputs,
)
from kinmatch.formats.frequencies import (
    format_familias_frequencies,
    format_long_frequencies,
    format_wide_frequencies,
    read_frequency_database,
)
from kinmatch.formats.genotype_tables import format_genotype_csv
from kinmatch.formats.json_reader import dump_json
from kinmatch.formats.lineage_json import case_input_paths
from kinmatch.formats.pedigree_tables import (
    format_ped,
    format_plink_fam,
    read_ped_families,
    read_plink_fam,
)
from kinmatch.formats.profiles import read_profiles
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.case import Hypothesis, KinshipCase
from kinmatch.pedigree import Pedigree

OutputKind = Literal[
    "json", "familias", "ped", "plink-fam", "familias-frequencies", "long-csv", "wide-csv",
    "genotype-csv",
]

#: The output formats and what each is.
OUTPUT_KINDS: dict[str, str] = {
    "json": "kinmatch JSON (kinship case, DVI case or hypotheses, after the input)",
    "familias": "Familias .fam",
    "ped": "PED-style pedigree table (tab-separated, with a header)",
    "plink-fam": "LINKAGE/PLINK .fam (six columns)",
    "familias-frequencies": "Familias / pedsuite frequency text",
    "long-csv": "long frequency CSV (marker, allele, frequency)",
    "wide-csv": "wide frequency CSV (alleles down, markers across)",
    "genotype-csv": "wide genotype CSV (Sample, AMEL, markers)",
}

def _is_output_kind(kind: str) -> TypeGuard[OutputKind]:
    return kind in OUTPUT_KINDS


_CASE_INPUTS = ("kinship-json", "dvi-json", "familias")
_PEDIGREE_INPUTS = ("ped", "plink-fam", "hypotheses-json")


@dataclass(frozen=True)
class Conversion:
    """What a conversion did: the kinds read and written and the output path."""

    input: str
    input_kind: str
    output: str
    output_kind: str
    what: str


def output_kind(output: str | Path, input_kind: str, to: str | None = None) -> OutputKind:
    """The output format: ``to`` if given, else from the output's extension
    and the kind of input."""
    if to is not None:
        if not _is_output_kind(to):
            raise KinmatchError(f"unknown output format '{to}' (expected one of "
                                f"{', '.join(OUTPUT_KINDS)})")
        return to
    ext = Path(output).suffix.lower()
    pedigree_in = input_kind in _PEDIGREE_INPUTS
    if ext == ".json":
        return "json"
    if ext == ".fam":
        return "plink-fam" if pedigree_in else "familias"
    if ext in (".ped", ".pfam"):
        return "ped"
    if input_kind == "frequencies":
        if ext in (".txt", ".tsv", ".freq", ".frq"):
            return "familias-frequencies"
        if ext == ".csv":
            return "long-csv"
    if input_kind == "genotypes" and ext in (".csv", ".tsv", ".txt"):
        return "genotype-csv"
    if pedigree_in and ext in (".txt", ".tsv", ".csv"):
        return "ped"
    raise KinmatchError(f"cannot tell the output format from the name '{Path(output).name}'; "
                        f"give --to ({', '.join(OUTPUT_KINDS)})")


def _refuse(input_kind: str, out: str, hint: str = "") -> KinmatchError:
    return KinmatchError(f"cannot convert {INPUT_KINDS.get(input_kind, input_kind)} to "
                         f"{OUTPUT_KINDS.get(out, out)}{'; ' + hint if hint else ''}")


def _read_case_input(path: str, kind: str) -> KinshipCase | DVICase:
    if kind == "kinship-json":
        return read_case(path)
    if kind == "dvi-json":
        return read_dvi_case(path)
    fam = read_familias(path)
    if fam.dvi is not None:
        return familias_to_dvi_case(fam)
    return familias_to_kinship_case(fam)


def case_text(case: KinshipCase | DVICase, out: OutputKind, input_kind: str) -> str:
    """A kinship or DVI case written in an output format."""
    if out == "json":
        return format_dvi_case(case) if isinstance(case, DVICase) else format_case(case)
    if out == "familias":
        fam = (dvi_case_to_familias(case) if isinstance(case, DVICase)
               else kinship_case_to_familias(case))
        return format_familias(fam).replace("\n", "\r\n")
    if out == "ped" and isinstance(case, KinshipCase):
        return format_ped(_hypothesis_families(case.hypotheses))
    if out == "plink-fam" and isinstance(case, KinshipCase):
        return format_plink_fam(_hypothesis_families(case.hypotheses))
    if out == "ped" and isinstance(case, DVICase):
        return format_ped({f.name: f.pedigree for f in case.families})
    raise _refuse(input_kind, out)


def _hypothesis_families(hypotheses: list[Hypothesis]) -> dict[str, Pedigree]:
    return {h.name: h.pedigree for h in hypotheses}


def dvi_case_to_familias(case: DVICase, *, database_name: str = "unknown") -> FamiliasFile:
    """A Familias file (DVI module) holding a DVI case.

    Every reference family is written with its members as persons and two
    pedigrees, Familias' ``Reference pedigree`` (no relations) and the
    family's pedigree. Familias recognises missing persons by name: a
    missing person whose id does not begin with "Missing" is written as
    ``"Missing <id>"``, with a warning. Alleles seen in profiles but missing
    from a marker are added with the case's minimum frequency. Familias has
    no X-linked markers and no founder inbreeding: those are errors.
    """
    seen: dict[str, list[str]] = {m.name: [] for m in case.markers}
    profiles = [s.profile for s in case.samples] + [
        p for f in case.families for p in f.profiles.values()]
    for prof in profiles:
        for name, g in prof.items():
            if name in seen:
                seen[name].extend(g)
    markers = [m.with_alleles(seen[m.name], case.minimum_frequency) for m in case.markers]
    loci = [familias_locus(m) for m in markers]

    def genotypes(profile: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
        out = {}
        for name, g in profile.items():
            alleles = [str(a) for a in g]
            if alleles:
                out[name] = (alleles[0], alleles[-1])
        return out

    renamed: list[str] = []
    families = []
    for f in case.families:
        if f.pedigree.founder_inbreeding:
            raise KinmatchError(f"family '{f.name}' has inbred founders, which Familias "
                                "cannot represent")
        new = {m: (m if m.startswith("Missing") else f"Missing {m}") for m in f.missing}
        clash = [v for k, v in new.items() if v != k and v in f.pedigree]
        if clash:
            raise KinmatchError(f"family '{f.name}': cannot name the missing person "
                                f"'{clash[0]}' for Familias; the name is taken")
        renamed += [f"{k} → {v}" for k, v in new.items() if k != v]

        def familias_id(pid: str, new: dict[str, str] = new) -> str:
            return new.get(pid, pid)

        persons = [DVIPerson(familias_id(p.id), p.sex, genotypes(f.profiles.get(p.id, {})))
                   for p in f.pedigree]
        relations = [(familias_id(parent), familias_id(p.id)) for p in f.pedigree
                     for parent in (p.father, p.mother) if parent is not None]
        families.append(DVIFamily(f.name, persons, [DVIPedigree(REFERENCE_PEDIGREE, []),
                                                    DVIPedigree(f"{f.name} pedigree",
                                                                relations)]))
    if renamed:
        warn("Familias recognises missing persons by name; renamed: " + ", ".join(renamed[:5])
             + (", ..." if len(renamed) > 5 else ""))
    unidentified = [DVIPerson(s.id, s.sex, genotypes(s.profile)) for s in case.samples]
    return FamiliasFile(loci=loci, theta=case.theta, database_name=database_name,
                        version="3.3 (DVI)", dvi=FamiliasDVI(unidentified, families),
                        settings=["[Prior]", "UseList= No", f"Size= {len(case.samples)}"])


def _pedigree_families(path: str, kind: str) -> tuple[dict[str, Pedigree], list[Hypothesis],
                                                      str | None]:
    if kind == "hypotheses-json":
        hf = read_hypotheses_file(path)
        return _hypothesis_families(hf.hypotheses), hf.hypotheses, hf.reference
    families = read_plink_fam(path) if kind == "plink-fam" else read_ped_families(path)
    return families, [Hypothesis(name, ped) for name, ped in families.items()], None


def pedigree_text(path: str, kind: str, out: OutputKind) -> str:
    """Pedigrees (a PED/PLINK table or a hypotheses file) in an output format."""
    families, hypotheses, reference = _pedigree_families(path, kind)
    if out == "ped":
        return format_ped(families)
    if out == "plink-fam":
        return format_plink_fam(families)
    if out == "json":
        if len(hypotheses) < 2:
            raise CaseFormatError(
                f"a hypotheses file needs two or more hypotheses; the table holds "
                f"{len(hypotheses)} family ({', '.join(families)}): give one family per "
                "hypothesis (family id = hypothesis name)", Location(path))
        return dump_json(hypotheses_to_dict(hypotheses, reference))
    raise _refuse(kind, out)


def frequency_text(path: str, out: OutputKind, *, normalise: bool = False) -> str:
    """A frequency database in another of the three frequency formats."""
    db = read_frequency_database(path, normalise=normalise)
    if out == "familias-frequencies":
        return format_familias_frequencies(db)
    if out == "long-csv":
        return format_long_frequencies(db)
    if out == "wide-csv":
        return format_wide_frequencies(db)
    raise _refuse("frequencies", out, "a frequency database converts to familias-frequencies, "
                                      "long-csv or wide-csv")


#: The keys of ``table_case`` (:func:`convert`) that name files.
_TABLE_CASE_FILES = ("frequencies", "pedigree", "hypotheses")


def conversion_inputs(input: str | Path,
                      table_case: Mapping[str, Any] | None = None) -> list[Path]:
    """Every file a conversion reads: ``input`` (with the lineage database files
    a JSON case names) and the files of a table-based case."""
    paths = case_input_paths(input)
    for key in _TABLE_CASE_FILES:
        value = (table_case or {}).get(key)
        if value is not None:
            paths.append(Path(value))
    return paths


def convert(
    input: str | Path,
    output: str | Path,
    *,
    to: str | None = None,
    overwrite: bool = False,
    table_case: Mapping[str, Any] | None = None,
    normalise: bool = False,
) -> Conversion:
    """Convert ``input`` to ``output`` (see the module docstring).

    ``table_case`` holds the other parts of a table-based case when
    ``input`` is a genotype table (the keyword arguments of
    :func:`kinmatch.formats.table_case.read_table_case` other than
    ``profiles``); the output is then a JSON kinship case (or Familias).

    The output is never one of the files read (:func:`conversion_inputs`),
    even with ``overwrite``; that is refused before anything is read.
    """
    src, dst = str(input), str(output)
    inputs = conversion_inputs(src, table_case)
    refuse_overwriting_inputs(dst, inputs)
    check_output_path(dst)
    kind = detect_input(src)
    out = output_kind(dst, kind, to)
    if Path(dst).exists() and not overwrite:
        raise CaseFormatError("the output file exists; give another name or --force to "
                              "replace it", Location(dst))
    what: str
    if table_case is not None:
        if kind != "genotypes":
            raise CaseFormatError(f"with --frequencies the input is the genotype table, but "
                                  f"this is {INPUT_KINDS[kind]}", Location(src))
        case = read_table_case(src, **dict(table_case))
        text = case_text(case, out, "kinship-json")
        what = "kinship case"
    elif kind in _CASE_INPUTS:
        case_in = _read_case_input(src, kind)
        text = case_text(case_in, out, kind)
        what = "DVI case" if isinstance(case_in, DVICase) else "kinship case"
    elif kind in _PEDIGREE_INPUTS:
        text = pedigree_text(src, kind, out)
        what = "pedigrees"
    elif kind == "frequencies":
        text = frequency_text(src, out, normalise=normalise)
        what = "frequency database"
    else:  # genotypes
        if out == "json":
            raise KinmatchError("a genotype table alone is not a case: give the frequency "
                                "database (--frequencies) and the hypotheses (--pedigree with "
                                "--missing and --poi, or --hypotheses)")
        if out != "genotype-csv":
            raise _refuse(kind, out)
        text = format_genotype_csv(read_profiles(src))
        what = "genotype table"
    atomic_write_text(dst, text, protect=inputs)
    return Conversion(src, kind, dst, out, what)


__all__ = [
    "OUTPUT_KINDS",
    "Conversion",
    "InputKind",
    "OutputKind",
    "case_text",
    "conversion_inputs",
    "convert",
    "dvi_case_to_familias",
    "frequency_text",
    "output_kind",
    "pedigree_text",
]
