"""``kinmatch dvi``: solve a DVI case and write the identification report."""

from __future__ import annotations

import json
import math
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from kinmatch.errors import CaseFormatError, Location
from kinmatch.cli._common import _err, friendly, main


def _read_dvi_case(path: str) -> Any:
    """A DVI case from a kinmatch JSON DVI case or a Familias DVI file, by content."""
    from kinmatch.formats.detect import INPUT_KINDS, detect_input
    from kinmatch.formats.dvi_json import read_dvi_case
    from kinmatch.formats.familias.convert import familias_to_dvi_case
    from kinmatch.formats.familias.parse import read_familias

    kind = detect_input(path)
    if kind == "dvi-json":
        return read_dvi_case(path)
    if kind == "familias":
        fam = read_familias(path)
        if fam.dvi is None:
            raise CaseFormatError("this Familias file holds a kinship case, not a DVI case "
                                  "(use kinmatch lr)", Location(path))
        case = familias_to_dvi_case(fam)
        return case if case.title else _with_title(case, path)
    if kind == "kinship-json":
        raise CaseFormatError("this is a kinship case; kinmatch dvi needs a DVI case "
                              "(use kinmatch lr)", Location(path))
    raise CaseFormatError(f"this is {INPUT_KINDS[kind]}, not a DVI case (expected a kinmatch "
                          "JSON DVI case or a Familias DVI .fam file)", Location(path))


def _with_title(case: Any, title: str) -> Any:
    from dataclasses import replace

    return replace(case, title=title)


@main.command("dvi")
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
                estimate_dropout: bool, dropin: float | None, truth: str | None,
                progress: bool) -> None:
    """Solve a DVI case: which remains are which missing person.

    CASE is a kinmatch JSON DVI case or a Familias DVI .fam file. Pairwise
    LRs, exclusions, undisputed identifications and the joint analysis
    follow dvir's dviSolve; the conclusions are printed as tables (or JSON
    with --json), and --report writes the HTML report with pedigree drawings.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kinmatch.dvi.joint import joint_identification
    from kinmatch.dvi.pairwise import pairwise_lr
    from kinmatch.dvi.case import prepare_case
    from kinmatch.dvi.solve import solve_case
    from kinmatch.dvi.reassociation import merge_fragments as merge

    stages = ["read the case", "drop-out and fragments", "pairwise LRs", "solve (dviSolve)",
              "joint analysis", "write the report"]
    with Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=_err, transient=True, disable=not progress) as bar:
        task = bar.add_task(stages[0], total=len(stages))

        def advance(i: int) -> None:
            bar.update(task, completed=i, description=stages[i] if i < len(stages) else "done")

        dvi = _read_dvi_case(case)
        advance(1)
        if estimate_dropout:
            dvi = _with_estimated_dropout(dvi, dropin)
        fragments: dict[str, tuple[str, ...]] = {}
        if merge_fragments:
            merged = merge(dvi, threshold=identity_threshold)
            dvi = merged.case
            fragments = {k: v for k, v in merged.individuals.items() if len(v) > 1}
        advance(2)
        prepared = prepare_case(dvi)
        pairwise = pairwise_lr(prepared)
        advance(3)
        solution = solve_case(dvi, threshold=threshold, threshold2=threshold2,
                              max_incompatible=max_incompatible, ignore_sex=ignore_sex,
                              max_assignments=max_assignments)
        advance(4)
        joint = joint_identification(prepared, pairwise, top=top,
                                     component_limit=max_assignments)
        joint_note = None
        if not joint.exact:
            joint_note = (f"The joint analysis is too large to enumerate; the {len(joint.loglik)} "
                          "best assignments are exact (k-best search) and each posterior is "
                          "given with guaranteed bounds (largest uncertainty "
                          f"{joint.max_posterior_error:.2g}).")
        advance(5)
        if report:
            from kinmatch.formats.files import atomic_write_text
            from kinmatch.report.dvi_report import dvi_report_html

            html = dvi_report_html(dvi, solution, pairwise, joint=joint, joint_note=joint_note,
                                   fragments=fragments, source=case, top_assignments=top)
            atomic_write_text(report, html)
        advance(6)

    scores = _score(solution, dvi, truth, fragments) if truth else None
    if as_json:
        from kinmatch.report.dvi_report import row_parts

        def log10s(values: Any) -> list[list[float | None]]:
            return [[None if not math.isfinite(v) else v / math.log(10) for v in row]
                    for row in values.tolist()]

        out = {
            "case": {"source": case, "title": dvi.title, "samples": len(dvi.samples),
                     "families": len(dvi.families), "theta": dvi.theta,
                     "markers": [m.name for m in dvi.markers]},
            "fragments": {k: list(v) for k, v in fragments.items()},
            "pairwise": {
                "samples": list(pairwise.samples), "missing": list(pairwise.missing),
                "families": list(pairwise.families),
                "log10_lr": [[None if math.isnan(v) else (None if math.isinf(v) else v / math.log(10))
                              for v in row] for row in pairwise.log_lr.tolist()],
                "incompatible": pairwise.incompatible.tolist(),
                "log10_lr_autosomal": log10s(pairwise.log_lr_autosomal),
                "log10_lr_y": log10s(pairwise.log_lr_y),
                "log10_lr_mtdna": log10s(pairwise.log_lr_mtdna),
                "lineage_exclusions": pairwise.lineage_exclusions.tolist(),
                "lineage": [] if pairwise.lineage is None else pairwise.lineage.to_dict(),
            },
            "solution": solution.to_dict(),
            "lr_parts": {
                "missing_persons": [
                    {"family": r.family, "missing_person": r.missing_person, "sample": r.sample,
                     **(p.to_dict() if (p := row_parts(pairwise, r)) is not None else {})}
                    for r in solution.missing_persons],
                "samples": [
                    {"sample": r.sample, "missing_person": r.missing_person,
                     **(p.to_dict() if (p := row_parts(pairwise, r)) is not None else {})}
                    for r in solution.samples],
            },
            "joint": None if joint is None else {
                "exact": bool(joint.exact),
                "n_assignments": joint.n_assignments,
                "top": [{"assignment": joint.describe(i), "loglik": float(joint.loglik[i]),
                         "lr_vs_best": float(joint.lr_vs_best[i])}
                        for i in range(len(joint.loglik))],
                "posterior": {"samples": list(joint.samples),
                              "missing": [*joint.missing, "*"],
                              "values": joint.posterior.tolist(),
                              "lower": joint.posterior_lower.tolist(),
                              "upper": joint.posterior_upper.tolist()},
            },
            "joint_note": joint_note,
            "truth": scores,
        }
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    if scores is not None:
        _print_scores(scores)
    _print_dvi(solution, dvi, case, report, joint_note, pairwise)


def _print_dvi(solution: Any, dvi: Any, source: str, report: str | None,
               joint_note: str | None, pairwise: Any = None) -> None:
    from collections import Counter

    from kinmatch.report.dvi_report import IDENTIFYING, format_lr, row_parts

    lineage = pairwise is not None and dvi.has_lineage_data
    parts_columns = ("Autosomal", "Y", "mtDNA") if lineage else ()

    def parts(row: Any) -> list[str]:
        if not lineage:
            return []
        p = row_parts(pairwise, row)
        if p is None:
            return ["–", "–", "–"]
        return [format_lr(p.autosomal), format_lr(p.y), format_lr(p.mtdna)]

    console = Console(highlight=False)
    title = dvi.title or source
    console.print(f"[bold]{title}[/]: {len(dvi.samples)} samples, {len(dvi.families)} families, "
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
        for r in solution.samples:
            pm.add_row(r.sample, r.missing_person or "", r.family or "", *parts(r),
                       format_lr(r.lr), r.conclusion or "", r.comment or "")
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
    if joint_note:
        console.print(f"[dim]{joint_note}[/]")
    if report:
        console.print(f"report written to {report}")


#: Above this many missing persons the terminal lists only what needs attention.
LARGE_CASE_ROWS = 40


def _with_estimated_dropout(dvi: Any, dropin: float | None) -> Any:
    """The case with each sample's drop-out estimated by maximum likelihood
    (:func:`kinmatch.dropout.estimate_case_dropout`, at least
    :data:`kinmatch.dropout.DROPOUT_FLOOR`), unless the case sets one."""
    from kinmatch.dvi.case import estimate_case_dropout

    return estimate_case_dropout(dvi, dropin)


def _score(solution: Any, dvi: Any, truth_path: str, fragments: dict[str, tuple[str, ...]]
           ) -> dict[str, Any]:
    """Identifications (conclusions that name one) against a simulated case's truth."""
    from kinmatch.report.dvi_report import IDENTIFYING
    from kinmatch.scenarios.chosei import score_identifications

    with open(truth_path, encoding="utf-8") as fh:
        truth = json.load(fh)
    miner_of = {name: fam["miner"] for name, fam in truth.get("families", {}).items()}
    identified = {r.sample: miner_of.get(r.family, r.missing_person)
                  for r in solution.missing_persons
                  if r.conclusion in IDENTIFYING and r.sample and "/" not in r.sample}
    result = score_identifications(identified, truth, fragments)
    return {"correct": len(result["correct"]), "false": len(result["false"]),
            "missed": len(result["missed"]), "identifiable": result["identifiable"],
            "false_identifications": [list(x) for x in result["false"]],
            "missed_miners": result["missed"]}


def _print_scores(scores: dict[str, Any]) -> None:
    console = Console(highlight=False)
    console.print(f"[bold]Against the truth:[/] {scores['correct']} correct, "
                  f"{scores['false']} false, {scores['missed']} missed "
                  f"(of {scores['identifiable']} recovered missing persons with reference "
                  "donors)")
    for sample, who in scores["false_identifications"]:
        console.print(f"  false: {sample} identified as {who}")
