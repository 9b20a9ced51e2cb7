"""``kinmatch dvi``: solve a DVI case and write the identification report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kinmatch.cli.common import err_console, friendly, print_warnings
from kinmatch.dvi.pipeline import STAGES, DVIOptions, DVIResult, run_dvi_case
from kinmatch.dvi.solve import IDENTIFYING, MissingPersonConclusion, SampleConclusion
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.files import (
    atomic_write_text,
    check_output_path,
    refuse_overwriting_inputs,
)
from kinmatch.formats.lineage_json import case_input_paths
from kinmatch.formats.truth_json import read_truth
from kinmatch.report.dvi_report import dvi_result_report_html, format_lr
from kinmatch.scenarios.scoring import score_dvi_result


@click.command("dvi")
@click.argument("case", type=click.Path(dir_okay=False))
@click.option("--threshold", type=click.FloatRange(1, min_open=False), default=1e4,
              show_default=True, help="LR (and GLR) needed for an identification.")
@click.option("--threshold2", type=click.FloatRange(1), default=None,
              help="LR for 'Probable' [default: max(1, threshold / 10)].")
@click.option("--max-incompatible", type=click.IntRange(0), default=2, show_default=True,
              help="Exclude pairs with more Mendelian incompatibilities than this.")
@click.option("--ignore-sex", is_flag=True, help="Pair samples with missing persons of either sex.")
@click.option("--merge-fragments", is_flag=True,
              help="Re-associate fragments first: samples whose identity LR reaches "
                   "--identity-threshold with no mismatch are merged into one individual.")
@click.option("--identity-threshold", type=click.FloatRange(1), default=1e6, show_default=True,
              help="Identity LR for merging fragments.")
@click.option("--max-assignments", type=click.IntRange(1), default=100_000, show_default=True,
              help="Largest joint analysis enumerated exactly (per family in the pipeline, per "
                   "component in the whole-case analysis); beyond it, k-best search with "
                   "posterior bounds.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True,
              help="Joint assignments to show.")
@click.option("--json", "as_json", is_flag=True,
              help="Print everything as JSON: pairwise LRs, exclusions, joint assignments, "
                   "posteriors and conclusions.")
@click.option("--report", "report", type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Write the HTML identification report.")
@click.option("--estimate-dropout", is_flag=True,
              help="Estimate each sample's drop-out probability by maximum likelihood from its "
                   "own profile (samples without one set in the case).")
@click.option("--min-markers", type=click.IntRange(0), default=1, show_default=True,
              help="A sample typed at fewer markers (and with no Y-STR or mtDNA data) is "
                   "'Not typed': left out with a warning.")
@click.option("--dropin", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Drop-in probability for the samples whose drop-out is estimated.")
@click.option("--truth", type=click.Path(dir_okay=False, exists=True), default=None,
              metavar="TRUTH.json",
              help="For simulated cases: compare the identifications with the truth "
                   "(kinmatch simulate writes it) and print correct, false and missed.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress on the terminal (stderr).")
@friendly
def dvi_command(case: str, threshold: float, threshold2: float | None, max_incompatible: int,
                ignore_sex: bool, merge_fragments: bool, identity_threshold: float,
                max_assignments: int, top: int, as_json: bool, report: str | None,
                estimate_dropout: bool, min_markers: int, dropin: float | None, truth: str | None,
                progress: bool) -> None:
    """Solve a DVI case: which remains are which missing person.

    CASE is a kinmatch JSON DVI case or a Familias DVI .fam file. Pairwise
    LRs, exclusions, undisputed identifications and the joint analysis
    follow dvir's dviSolve; the conclusions are printed as tables (or JSON
    with --json), and --report writes the HTML report with pedigree drawings
    (never over a file the command reads: the case, its lineage databases,
    the truth).
    """
    inputs: list[str | Path] = [*case_input_paths(case), *([truth] if truth else [])]
    if report:
        refuse_overwriting_inputs(report, inputs)
        check_output_path(report)
    truth_data = read_truth(truth) if truth else None  # its errors before any work
    options = DVIOptions(threshold=threshold, threshold2=threshold2,
                         max_incompatible=max_incompatible, ignore_sex=ignore_sex,
                         merge_fragments=merge_fragments, identity_threshold=identity_threshold,
                         max_assignments=max_assignments, top=top,
                         estimate_dropout=estimate_dropout, dropin=dropin,
                         min_markers=min_markers)
    stages = ["read the case", *STAGES, "write the report"]
    with Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not progress) as bar:
        task = bar.add_task(stages[0], total=len(stages))

        def advance(i: int) -> None:
            bar.update(task, completed=i, description=stages[i] if i < len(stages) else "done")

        dvi = read_dvi_case(case)
        result = run_dvi_case(dvi, options, source=case, on_stage=lambda i: advance(i + 1))
        if report:
            atomic_write_text(report, dvi_result_report_html(result), protect=inputs)
        advance(len(stages))

    scores = score_dvi_result(result, truth_data) if truth_data is not None else None
    print_warnings()  # warnings first, once each, then the results
    if as_json:
        out = result.to_dict()
        out["truth"] = scores
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    if scores is not None:
        _print_scores(scores)
    _print_dvi(result, report)


def _print_dvi(result: DVIResult, report: str | None) -> None:
    """The conclusions as tables for people reading a terminal."""
    dvi, solution, source = result.case, result.solution, result.source or ""
    lineage = dvi.has_lineage_data
    parts_columns = ("Autosomal", "Y", "mtDNA") if lineage else ()

    def parts(row: MissingPersonConclusion | SampleConclusion) -> list[str]:
        if not lineage:
            return []
        p = result.lr_parts(row)
        if p is None:
            return ["–", "–", "–"]
        return [format_lr(p.autosomal), format_lr(p.y), format_lr(p.mtdna)]

    console = Console(highlight=False)
    title = dvi.title or source
    n_samples = len(dvi.samples) + len(result.not_typed)
    console.print(f"[bold]{title}[/]: {n_samples} samples, {len(dvi.families)} families, "
                  f"{sum(len(f.missing) for f in dvi.families)} missing persons, "
                  f"{len(dvi.markers)} markers")
    # A large case lists what needs attention; every row is in --json and the report.
    large = len(solution.missing_persons) > LARGE_CASE_ROWS
    shown = [r for r in solution.missing_persons
             if not large or r.conclusion in (*IDENTIFYING, "Probable", "Disputed")]
    am = Table(title="Missing persons" + (" (identified, probable or disputed)" if large else ""),
               title_justify="left")
    columns = (("Missing", "Sample", *parts_columns, "LR", "Conclusion") if large else
               ("Family", "Missing", "Sample", *parts_columns, "LR", "GLR", "Conclusion",
                "Comment"))
    for col in columns:
        am.add_column(col, justify="right" if col in ("LR", "GLR", *parts_columns) else "left",
                      no_wrap=large and col in ("Missing", "Conclusion"))
    for r in shown:
        style = "bold" if r.conclusion in IDENTIFYING else None
        if large:
            am.add_row(r.missing_person, r.sample or "", *parts(r), format_lr(r.lr),
                       r.conclusion or "", style=style)
        else:
            am.add_row(r.family, r.missing_person, r.sample or "", *parts(r), format_lr(r.lr),
                       format_lr(r.glr), r.conclusion or "", r.comment or "", style=style)
    console.print(am)
    if not large:
        pm = Table(title="Post-mortem samples", title_justify="left")
        for col in ("Sample", "Missing", "Family", *parts_columns, "LR", "Conclusion",
                    "Comment"):
            pm.add_column(col, justify="right" if col in ("LR", *parts_columns) else "left")
        for pm_row in solution.samples:
            pm.add_row(pm_row.sample, pm_row.missing_person or "", pm_row.family or "",
                       *parts(pm_row), format_lr(pm_row.lr), pm_row.conclusion or "",
                       pm_row.comment or "")
        console.print(pm)
    else:
        console.print(f"[dim]{len(solution.missing_persons) - len(shown)} other missing "
                      "persons and every sample are listed in the report (--report) and "
                      "in --json.[/]")
    counts = Counter(r.conclusion for r in solution.missing_persons if r.conclusion)
    identified = sum(n for c, n in counts.items() if c in IDENTIFYING)
    console.print(f"{identified} of {len(solution.missing_persons)} missing persons identified"
                  + "".join(f"; {n} {c.lower()}" for c, n in sorted(counts.items())
                            if c not in IDENTIFYING))
    if result.joint_note:
        console.print(f"[dim]{result.joint_note}[/]")
    if report:
        console.print(f"report written to {report}")


#: Above this many missing persons the terminal lists only what needs attention.
LARGE_CASE_ROWS = 40


def _print_scores(scores: dict[str, Any]) -> None:
    console = Console(highlight=False)
    console.print(f"[bold]Against the truth:[/] {scores['correct']} correct, "
                  f"{scores['false']} false, {scores['missed']} missed "
                  f"(of {scores['identifiable']} recovered missing persons with reference "
                  "donors)")
    for sample, who in scores["false_identifications"]:
        console.print(f"  false: {sample} identified as {who}")
