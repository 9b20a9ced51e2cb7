"""``kinmatch plan``: which relative to sample next (power planning)."""

from __future__ import annotations

import json
import math

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kinmatch.cli.common import err_console, friendly, print_warnings
from kinmatch.dvi.case import DVICase
from kinmatch.errors import KinmatchError
from kinmatch.formats.cases import read_dvi_case
from kinmatch.planning.power import (
    VIRTUAL_KINDS,
    MissingPersonPlan,
    PowerSummary,
    count_candidates,
    plan_case,
)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items


@click.command("plan")
@click.argument("case", type=click.Path(dir_okay=False))
@click.option("--family", metavar="NAME", help="Plan for this family only (default: every family).")
@click.option("--threshold", type=click.FloatRange(0, min_open=True), default=1e4,
              show_default=True, help="LR needed for an identification (inclusion power is "
                                      "P(LR >= threshold)).")
@click.option("--simulations", "n_simulations", type=click.IntRange(1), default=1000,
              show_default=True, help="Simulated profiles of the missing person per donor set.")
@click.option("--seed", type=int, default=None,
              help="Seed of the random numbers (reproducible runs).")
@click.option("--candidates", metavar="ID,ID",
              help="Candidate donors to evaluate (with --family; default: every untyped "
                   "member of the family other than its missing persons).")
@click.option("--virtual", metavar="KIND,KIND",
              help="Also evaluate new relatives of the missing person: son, daughter, "
                   "brother, sister.")
@click.option("--max-incompatible", type=click.IntRange(0), default=2, show_default=True,
              help="An unrelated person with more incompatibilities than this is excluded "
                   "(the DVI rule); the table shows P(excluded) by this rule.")
@click.option("--mutations", type=click.Choice(["auto", "keep", "disable"]), default="auto",
              show_default=True,
              help="auto: switch mutation models off at markers where the family's data are "
                   "Mendel-consistent (as forrel); keep: keep them; disable: switch all off.")
@click.option("--lineage/--no-lineage", "use_lineage", default=True, show_default=True,
              help="Use the families' Y-STR / mtDNA data with the case's databases (the table "
                   "then shows the power with lineage next to the autosomal power).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress on the terminal (stderr).")
@friendly
def plan_command(case: str, family: str | None, threshold: float, n_simulations: int,
                 seed: int | None, candidates: str | None, virtual: str | None,
                 max_incompatible: int, mutations: str, use_lineage: bool, as_json: bool,
                 progress: bool) -> None:
    """Power planning: which relative to sample next.

    For each missing person of the DVI case CASE (a kinmatch JSON DVI case or
    a Familias DVI file), or of the family --family, simulate the LR of the
    true missing person with the current donors and with each candidate
    donor added; print the inclusion power P(LR >= threshold), the expected
    log10 LR, the exclusion power (exact) and the false-positive rate, and
    recommend the candidate with the highest inclusion power. Families with
    Y-STR haplotypes or mtDNA profiles are planned with that evidence too
    when the case names the databases (--no-lineage: autosomal only).
    """
    dvi = read_dvi_case(case)
    cands = _split(candidates)
    kinds = _split(virtual) or []
    for kind in kinds:
        if kind not in VIRTUAL_KINDS:
            raise KinmatchError(f"--virtual: unknown relative '{kind}'; expected "
                                f"{', '.join(VIRTUAL_KINDS)}")
    if cands is not None and family is None:
        if len(dvi.families) != 1:
            raise KinmatchError("--candidates needs --family NAME (the case has "
                                f"{len(dvi.families)} families)")
        family = dvi.families[0].name
    total = count_candidates(dvi, family, cands, kinds)
    with Progress(SpinnerColumn(), TextColumn("{task.description:<32}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not progress) as bar:
        task = bar.add_task("current donors", total=max(total, 1))
        done = 0

        def tick(fam: str, mp: str, cand: str) -> None:
            nonlocal done
            bar.update(task, completed=done, description=f"{fam} / {mp}: {cand}")
            done += 1

        plans = plan_case(dvi, family=family, candidates=cands, virtual=kinds,
                          threshold=threshold, n_simulations=n_simulations, seed=seed,
                          max_incompatible=max_incompatible, mutations=mutations,
                          use_lineage=use_lineage, progress=tick)
        bar.update(task, completed=total)

    print_warnings()  # warnings first, once each, then the results
    if as_json:
        out = {"case": {"source": case, "title": dvi.title, "families": len(dvi.families)},
               "threshold": threshold, "simulations": n_simulations, "seed": seed,
               "max_incompatible": max_incompatible, "mutations": mutations,
               "lineage": use_lineage,
               "plans": [p.to_dict() for p in plans]}
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    _print_plans(plans, dvi, case, threshold, max_incompatible)


def _pct(p: float) -> str:
    if math.isnan(p):
        return "–"
    if 0 < p < 0.001:
        return "<0.1%"
    if 0.999 < p < 1:
        return ">99.9%"
    return f"{100 * p:.1f}%"


def _num(x: float) -> str:
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "-Inf" if x < 0 else "Inf"
    return f"{x:.2f}"


def _print_plans(plans: list[MissingPersonPlan], dvi: DVICase, source: str, threshold: float,
                 max_incompatible: int) -> None:
    console = Console(highlight=False)
    title = dvi.title or source
    console.print(f"[bold]{title}[/]: power planning, LR threshold {threshold:g}, "
                  f"{plans[0].n_simulations if plans else 0} simulations"
                  + (f", seed {plans[0].seed}" if plans and plans[0].seed is not None else ""))
    console.print(f"[dim]Power: P(LR ≥ {threshold:g}) for the true missing person (exact on a "
                  "log10 grid), sim.: the same simulated; E log10: expected log10 LR (exact); "
                  "Excl.: P(an unrelated person has ≥ 1 Mendelian incompatibility), "
                  f"Excl.>{max_incompatible}: P(more than {max_incompatible}) (exact); "
                  f"False+: P(LR ≥ {threshold:g}) for an unrelated person (simulated).[/]")
    if any(plan.lineage for plan in plans):
        console.print("[dim]With lineage: Power, sim., E log10, Excl. and False+ include the "
                      "family's Y-STR / mtDNA evidence (simulated; Excl. counts a lineage "
                      "exclusion as one incompatibility); Autos.: the power from the autosomal "
                      "markers alone.[/]")
    for plan in plans:
        donors = ", ".join(plan.donors) or "none"
        lin = f"; lineage: {', '.join(plan.lineage)}" if plan.lineage else ""
        table = Table(title=f"Family {plan.family}, missing {plan.missing} — typed: {donors} "
                            f"({len(plan.markers)} markers{lin})", title_justify="left")
        cols = [("Add donor", False), ("Relation", False)]
        if plan.lineage:
            cols.append(("Autos.", True))
        cols += [("Power", True), ("sim.", True), ("E log10", True), ("Excl.", True),
                 (f"Excl.>{max_incompatible}", True), ("False+", True)]
        for col, right in cols:
            table.add_column(col, justify="right" if right else "left")
        best = plan.recommended

        _plan_row(table, bool(plan.lineage), plan.current, "(none: current)", "", "dim")
        for s in plan.ranked():
            _plan_row(table, bool(plan.lineage), s, ("★ " if s is best else "") + s.label,
                      s.relationship, "bold" if s is best else None)
        console.print(table)
        if best is None:
            console.print("No candidate donor to evaluate.")
        else:
            gain = best.ranking_power - plan.current.ranking_power
            console.print(f"Recommendation: sample [bold]{best.label}[/] ({best.relationship}): "
                          f"inclusion power {_pct(plan.current.ranking_power)} → "
                          f"{_pct(best.ranking_power)}, expected log10 LR "
                          f"{_num(plan.current.expected_log10_lr)} → "
                          f"{_num(best.expected_log10_lr)}"
                          + ("" if gain > 0 else "; no candidate improves the inclusion power"))
        for note in plan.notes:
            console.print(f"[dim]note: {note}[/]")


def _plan_row(table: Table, lineage: bool, s: PowerSummary, name: str, relation: str,
              style: str | None = None) -> None:
    """One donor set's row of a plan table."""
    cells = [name, relation]
    if lineage:
        cells.append(_pct(s.autosomal.ranking_power) if s.autosomal is not None else "–")
    cells += [_pct(s.ranking_power), _pct(s.inclusion_power), _num(s.expected_log10_lr),
              _pct(s.exclusion_power), _pct(s.exclusion_power_beyond),
              _pct(s.false_positive_rate)]
    table.add_row(*cells, style=style)
