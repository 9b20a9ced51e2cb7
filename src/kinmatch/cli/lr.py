"""``kinmatch lr``: kinship LRs of a case (JSON, Familias, or laboratory tables)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kinmatch.cli.common import (
    format_log,
    format_lr_cell,
    friendly,
    print_warnings,
)
from kinmatch.cli.table_options import table_case_options, table_case_settings
from kinmatch.errors import KinmatchError
from kinmatch.formats.cases import read_kinship_case
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.analysis import CaseLineage, KinshipAnalysis, analyse_kinship_case
from kinmatch.kinship.lr import LN10, KinshipResult, format_power_of_ten
from kinmatch.lineage.evidence import LineEvidence
from kinmatch.lineage.ystr import YLineageResult


def lr_text(log_lr: float, lr: float | None = None) -> str:
    """An LR from its natural log (and its value, if known): as ``format_lr_cell`` within
    the float range, ``3.16 × 10^412`` beyond it, and words where it is no number."""
    if math.isnan(log_lr):
        return "undefined (0/0)"
    if log_lr == math.inf:
        return "ref. impossible"
    if log_lr == -math.inf:
        return "0"
    value = math.exp(log_lr) if lr is None and abs(log_lr) < 700 else lr
    if value is None or value == 0 or math.isinf(value):
        return format_power_of_ten(log_lr / LN10)
    return format_lr_cell(value)


def log10_text(log10_lr: float) -> str:
    """A log10 LR for the table; words where the LR is no number."""
    if math.isnan(log10_lr):
        return "undefined"
    if log10_lr == math.inf:
        return "ref. impossible"
    if log10_lr == -math.inf:
        return "-∞"
    return format_log(log10_lr)


def print_likelihood_table(result: KinshipResult, title: str, console: Console,
                           notes: Sequence[str] = ()) -> None:
    """One pedigree's likelihood per marker and in total (a case with one
    hypothesis, as Familias shows a file with one pedigree)."""
    name = result.hypotheses[0]
    table = Table(title=title or None, title_justify="left")
    for column in ("Marker", "Likelihood", "log-likelihood (ln)"):
        table.add_column(column, justify="left" if column == "Marker" else "right")
    for marker, ll in zip(result.markers, result.loglik[0]):
        value = float(ll)
        table.add_row(marker, "0" if value == -math.inf else format_power_of_ten(value / LN10),
                      "-∞ (likelihood 0)" if value == -math.inf else format_log(value))
    table.add_section()
    total = float(result.total_loglik[0])
    if total == -math.inf:
        table.add_row("[bold]Total[/]", "[bold]0[/]", "[bold]-∞ (likelihood 0)[/]")
    else:
        table.add_row("[bold]Total[/]", f"[bold]{format_power_of_ten(total / LN10)}[/]",
                      f"[bold]{format_log(total)}[/]")
    console.print(table)
    console.print(f"  pedigree likelihood of '{name}' (one hypothesis: no LR)")
    for note in notes:
        console.print(f"  [yellow]note:[/] {escape(note)}")


def print_lr_table(result: KinshipResult, title: str, console: Console,
                   notes: Sequence[str] = ()) -> None:
    """The per-marker LR table, then the totals, for people reading a case; ``notes``
    explain markers where the reference hypothesis is impossible."""
    others = [h for h in result.hypotheses if h != result.reference]
    table = Table(title=title or None, title_justify="left")
    table.add_column("Marker")
    for h in others:
        table.add_column(f"LR {h} : {result.reference}", justify="right")
    logs = {h: result.log_lr(h) for h in others}
    lrs = {h: result.lr(h) for h in others}
    for j, name in enumerate(result.markers):
        table.add_row(name, *[lr_text(float(logs[h][j]), float(lrs[h][j])) for h in others])
    table.add_section()
    table.add_row("[bold]Total[/]",
                  *[f"[bold]{lr_text(result.total_log_lr(h), result.total_lr(h))}[/]"
                    for h in others])
    table.add_row("log10 LR", *[log10_text(result.total_log10_lr(h)) for h in others])
    console.print(table)
    for note in notes:
        console.print(f"  [yellow]note:[/] {escape(note)}")
    summary = Table(show_header=True, box=None)
    summary.add_column("Hypothesis")
    summary.add_column("log-likelihood (ln)", justify="right")
    for h, ll in zip(result.hypotheses, result.total_loglik):
        mark = "  (reference)" if h == result.reference else ""
        summary.add_row(h + mark, "-∞ (likelihood 0)" if ll == -math.inf
                        else format_log(float(ll)))
    console.print(summary)


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
    return [name, format_lr_cell(evidence.lr), f"{evidence.relative} ({evidence.meioses} meioses)",
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
            table.add_row(pair, "Autosomal", lr_text(r.autosomal_log_lr, r.autosomal_lr),
                          "", "", "")
            table.add_row("", *_lineage_row("Y-STR", r.y))
            table.add_row("", *_lineage_row("mtDNA", r.mtdna))
            table.add_row("", "[bold]Combined[/]", f"[bold]{lr_text(r.log_lr, r.lr)}[/]", "", "",
                          "", end_section=True)
        console.print(table)
    for name, reason in lineage.not_applicable.items():
        console.print(f"  lineage LR not applicable to {name}: {escape(reason)}")


@click.command("lr")
@click.argument("case", type=click.Path(dir_okay=False), required=False)
@click.option("--profiles", type=click.Path(dir_okay=False), metavar="FILE",
              help="Genotype table (wide CSV/TSV/.xlsx or GeneMapper export) of a case "
                   "assembled from tables.")
@table_case_options
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
    settings = table_case_settings(table, theta)
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
        data = read_kinship_case(case)
        shown = case
    try:
        analysis = analyse_kinship_case(data, theta=theta, reference=reference)
    except KinmatchError as err:
        raise err.at(file=shown) from None
    _print_result(analysis, shown, as_json)


def _print_result(analysis: KinshipAnalysis, case: str, as_json: bool) -> None:
    result, data, lineage = analysis.result, analysis.case, analysis.lineage
    print_warnings()  # warnings first, once each, then the results
    if as_json:
        click.echo(json.dumps({"case": case, **analysis.to_dict()}, indent=2, allow_nan=False))
        return
    console = Console(highlight=False)
    descriptions = {h.name: h.description for h in data.hypotheses if h.description}
    if len(result.hypotheses) == 1:
        print_likelihood_table(result, data.title or case, console, analysis.notes)
    else:
        print_lr_table(result, data.title or case, console, analysis.notes)
    for name, text in descriptions.items():
        console.print(f"  {name}: {text}")
    if lineage is not None:
        print_lineage_table(lineage, console)



