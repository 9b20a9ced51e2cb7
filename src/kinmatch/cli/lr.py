"""``kinmatch lr``: kinship LRs of a case (JSON, Familias, or laboratory tables)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kinmatch.lineage.evidence import LineEvidence
from kinmatch.errors import CaseFormatError, KinmatchError, Location
from kinmatch.kinship.case import KinshipCase
from kinmatch.formats.case_json import read_case
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.lr import KinshipResult, kinship_lr
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YLineageResult
from kinmatch.kinship.lineage import KinshipLineageLR, kinship_lineage_lrs, lineage_poi
from kinmatch.cli._common import _fmt_log, _fmt_lr, _table_case_options, _table_case_settings, friendly, main


def print_lr_table(result: KinshipResult, title: str, console: Console) -> None:
    """The per-marker LR table, then the totals, for people reading a case."""
    others = [h for h in result.hypotheses if h != result.reference]
    table = Table(title=title or None, title_justify="left")
    table.add_column("Marker")
    for h in others:
        table.add_column(f"LR {h} : {result.reference}", justify="right")
    lrs = {h: result.lr(h) for h in others}
    for j, name in enumerate(result.markers):
        table.add_row(name, *[_fmt_lr(float(lrs[h][j])) for h in others])
    table.add_section()
    table.add_row("[bold]Total[/]", *[f"[bold]{_fmt_lr(result.total_lr(h))}[/]" for h in others])
    table.add_row("log10 LR", *[_fmt_log(result.total_log_lr(h) / math.log(10)) for h in others])
    console.print(table)
    summary = Table(show_header=True, box=None)
    summary.add_column("Hypothesis")
    summary.add_column("log-likelihood (ln)", justify="right")
    for h, ll in zip(result.hypotheses, result.total_loglik):
        mark = "  (reference)" if h == result.reference else ""
        summary.add_row(h + mark, _fmt_log(float(ll)))
    console.print(summary)


@dataclass(frozen=True)
class CaseLineage:
    """The lineage LRs of a kinship case: autosomal × Y × mtDNA per hypothesis, for the POI."""

    person: str | None
    results: list[KinshipLineageLR]
    not_applicable: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"poi": self.person, "results": [r.to_dict() for r in self.results],
                "not_applicable": dict(self.not_applicable)}


def case_lineage_lrs(result: KinshipResult, data: KinshipCase) -> CaseLineage | None:
    """The lineage LRs of a case with Y haplotypes or mtDNA profiles (``None`` without)."""
    if not data.has_lineage:
        return None
    typed = list(dict.fromkeys([*data.y_haplotypes, *data.mtdna_profiles]))
    person = data.poi or lineage_poi(data.hypotheses, result.reference, typed)
    if person is None:
        return CaseLineage(None, [], {h: "no person of interest: no typed person is unrelated "
                                         "to everyone in the reference hypothesis"
                                      for h in result.hypotheses if h != result.reference})
    results, skipped = kinship_lineage_lrs(
        result, data.hypotheses, person, y_haplotypes=data.y_haplotypes,
        mtdna_profiles=data.mtdna_profiles, settings=data.lineage or LineageSettings())
    return CaseLineage(person, results, skipped)


def _lineage_row(name: str, evidence: LineEvidence | None) -> list[str]:
    """Part, LR, relative (meioses), comparison and frequency of one lineage system."""
    if evidence is None:
        return [name, "1", "[dim]not applicable[/]", "", ""]
    result = evidence.result
    if isinstance(result, YLineageResult):
        comparison = evidence.status
        if result.mismatches:
            comparison += f" ({', '.join(result.mismatches)})"
        comparison += f", {len(result.loci_compared)} loci"
    else:
        comparison = f"{evidence.status}: {result.comparison.conclusion.value}"
    if evidence.excluded_by is not None and evidence.excluded_by != evidence.relative:
        comparison += f"; excluded by {evidence.excluded_by}"
    f = evidence.frequency
    freq = ""
    if f is not None:
        bound = "≤ " if f.method == "clopper_pearson" else ""
        count = f", {f.count}/{f.database_size}" if f.count is not None else ""
        freq = f"{bound}{f.value:.4g} ({f.method}{count})"
    return [name, _fmt_lr(evidence.lr), f"{evidence.relative} ({evidence.meioses} meioses)",
            escape(comparison), escape(freq)]


def print_lineage_table(lineage: CaseLineage, console: Console) -> None:
    """The lineage LRs: autosomal, Y, mtDNA and combined, per hypothesis against the reference."""
    if lineage.results:
        table = Table(title=f"Lineage markers: autosomal × Y-STR × mtDNA for {lineage.person} "
                            "(lineage LRs against unrelated)", title_justify="left")
        for name in ("Hypothesis", "Part", "LR", "Relative", "Comparison", "Frequency"):
            table.add_column(name, justify="right" if name == "LR" else "left", overflow="fold")
        for r in lineage.results:
            pair = f"{r.hypothesis} : {r.reference}"
            table.add_row(pair, "Autosomal", _fmt_lr(r.autosomal_lr), "", "", "")
            table.add_row("", *_lineage_row("Y-STR", r.y))
            table.add_row("", *_lineage_row("mtDNA", r.mtdna))
            table.add_row("", "[bold]Combined[/]", f"[bold]{_fmt_lr(r.lr)}[/]", "", "", "",
                          end_section=True)
        console.print(table)
    for name, reason in lineage.not_applicable.items():
        console.print(f"  lineage LR not applicable to {name}: {escape(reason)}")


@main.command("lr")
@click.argument("case", type=click.Path(dir_okay=False), required=False)
@click.option("--profiles", type=click.Path(dir_okay=False), metavar="FILE",
              help="Genotype table (wide CSV/TSV/.xlsx or GeneMapper export) of a case "
                   "assembled from tables.")
@_table_case_options
@click.option("--json", "as_json", is_flag=True, help="Print the log-likelihoods and LRs as JSON.")
@click.option("--reference", "reference", metavar="NAME",
              help="Hypothesis in the denominator (default: the case's, else the last one).")
@click.option("--theta", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Subpopulation correction θ (overrides the case's).")
@friendly
def lr_command(case: str | None, profiles: str | None, as_json: bool, reference: str | None,
               theta: float | None, **table: Any) -> None:
    """Kinship LRs for the hypotheses of a case.

    CASE is a kinmatch JSON case file or a Familias .fam file (each of its
    pedigrees is a hypothesis). A case can also be assembled from laboratory
    tables: a genotype table (--profiles, or CASE), a frequency database
    (--frequencies) and the hypotheses, either the missing-person question
    (--pedigree FAMILY.ped --missing ID --poi SAMPLE) or a hypotheses file
    (--hypotheses FILE.json):

    \b
      kinmatch lr --profiles run42.txt --frequencies db.txt \\
          --pedigree family.ped --missing Missing-Son --poi UHR-2024-007 \\
          --mutation stepwise --mutation-rate 0.002 \\
          --mutation-rate2 1e-6 --mutation-range 0.1

    Prints a table of LRs per marker and in total against the reference
    hypothesis; with --json, the log-likelihood of every hypothesis per
    marker and in total, and the LR of each against the reference.
    """
    settings = _table_case_settings(table, theta)
    if settings is not None:
        if case is not None and profiles is not None:
            raise KinmatchError("give the genotype table once: as CASE or as --profiles")
        source = profiles or case
        if source is None:
            raise KinmatchError("give the genotype table (--profiles FILE)")
        data = read_table_case(source, **settings)
        shown = source
    else:
        if profiles is not None:
            raise KinmatchError("--profiles builds a case from laboratory tables: give the "
                                "frequency database (--frequencies) and the hypotheses too")
        if case is None:
            raise KinmatchError("give a case file (JSON or Familias .fam), or a case "
                                "assembled from tables (--profiles, --frequencies, ...)")
        data = _read_kinship_case(case)
        shown = case
    try:
        result = kinship_lr(
            data.hypotheses,
            data.markers,
            data.profiles,
            theta=data.theta if theta is None else theta,
            reference=reference or data.reference,
            minimum_frequency=data.minimum_frequency,
            dropout=data.dropout,
            dropin=data.dropin,
        )
        lineage = case_lineage_lrs(result, data)
    except KinmatchError as err:
        raise err.at(file=shown) from None
    _print_result(result, data, shown, as_json, lineage)


def _read_kinship_case(path: str) -> KinshipCase:
    """A kinship case from a kinmatch JSON file or a Familias file, by content."""
    from kinmatch.formats.detect import INPUT_KINDS, detect_input
    from kinmatch.formats.familias.convert import familias_to_kinship_case
    from kinmatch.formats.familias.parse import read_familias

    kind = detect_input(path)
    if kind == "familias":
        fam = read_familias(path)
        if fam.dvi is not None and not fam.pedigrees:
            raise CaseFormatError("this Familias file holds a DVI case; kinmatch lr computes "
                                  "the LRs of a kinship case", Location(path))
        case = familias_to_kinship_case(fam)
        if not case.title:
            case.title = path
        return case
    if kind in ("kinship-json", "dvi-json"):
        return read_case(path)  # a DVI case file is refused with a located message
    if kind == "genotypes":
        raise CaseFormatError("this is a genotype table: give the frequency database "
                              "(--frequencies) and the hypotheses (--pedigree with --missing "
                              "and --poi, or --hypotheses) to build a case from it",
                              Location(path))
    raise CaseFormatError(f"this is {INPUT_KINDS[kind]}, not a case (expected a kinmatch JSON "
                          "case or a Familias .fam file)", Location(path))




def _print_result(result: KinshipResult, data: KinshipCase, case: str, as_json: bool,
                  lineage: CaseLineage | None = None) -> None:
    if as_json:
        out = {"case": case, "title": data.title, **result.to_dict()}
        if lineage is not None:
            out["lineage"] = lineage.to_dict()
        click.echo(json.dumps(out, indent=2))
        return
    console = Console(highlight=False)
    descriptions = {h.name: h.description for h in data.hypotheses if h.description}
    print_lr_table(result, data.title or case, console)
    for name, text in descriptions.items():
        console.print(f"  {name}: {text}")
    if lineage is not None:
        print_lineage_table(lineage, console)


if __name__ == "__main__":  # pragma: no cover
    main()


