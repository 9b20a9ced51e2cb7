"""The ``kinmatch`` command line.

Every problem with the input is printed as one line naming the file, line,
column and field, and the command exits with status 2; no tracebacks.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import CaseFormatError, KinmatchError, KinmatchWarning, Location
from .formats.case_json import KinshipCase, read_case
from .formats.convert import OUTPUT_KINDS, convert
from .formats.table_case import MUTATION_MODELS, mutation_spec, read_table_case
from .kinship import KinshipResult, kinship_lr
from .markers import DEFAULT_MINIMUM_FREQUENCY

F = TypeVar("F", bound=Callable[..., Any])

_err = Console(stderr=True, highlight=False)


def _friendly(fn: F) -> F:
    """Turn KinmatchErrors into one-line messages and warnings into notes."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KinmatchWarning)
            try:
                result = fn(*args, **kwargs)
            except KinmatchError as err:
                _flush_warnings(caught)
                _err.print(f"[bold red]error:[/] {err}", markup=True, soft_wrap=True)
                sys.exit(2)
        _flush_warnings(caught)
        return result

    return wrapper  # type: ignore[return-value]


def _flush_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        if issubclass(w.category, KinmatchWarning):
            _err.print(f"[yellow]warning:[/] {w.message}", markup=True, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kinmatch")
def main() -> None:
    """kinmatch: identify human remains by DNA kinship.

    Pedigree likelihoods and kinship likelihood ratios (LRs) from autosomal
    and X-linked STR/SNP markers, with mutation models and the θ correction.
    """


def _fmt_lr(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    if math.isinf(value):
        return "Inf"
    if 1e-3 <= value < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _fmt_log(value: float) -> str:
    if math.isinf(value):
        return "-Inf" if value < 0 else "Inf"
    if math.isnan(value):
        return "NaN"
    return f"{value:.4f}"


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


def _table_case_options(fn: F) -> F:
    """The options that assemble a kinship case from laboratory tables."""
    options = [
        click.option("--frequencies", "frequencies", type=click.Path(dir_okay=False),
                     metavar="FILE",
                     help="Allele frequency database (Familias text, long or wide CSV, .xlsx). "
                          "Giving it means the case is assembled from tables."),
        click.option("--pedigree", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Reference family: a PED table or PLINK .fam; with --missing and "
                          "--poi it gives the hypotheses 'missing_person' and 'unrelated'."),
        click.option("--missing", metavar="ID", help="The missing person's id in --pedigree."),
        click.option("--poi", metavar="SAMPLE",
                     help="The person of interest: a sample of the genotype table."),
        click.option("--hypotheses", "hypotheses", type=click.Path(dir_okay=False),
                     metavar="FILE",
                     help="Hypotheses file (JSON, \"format\": \"kinmatch-hypotheses\"), "
                          "instead of --pedigree/--missing/--poi."),
        click.option("--mutation", type=click.Choice(MUTATION_MODELS, case_sensitive=False),
                     default=None, help="Mutation model used at every marker (default none)."),
        click.option("--mutation-rate", type=click.FloatRange(0, 1), default=None,
                     metavar="RATE", help="Mutation rate per transmission."),
        click.option("--mutation-rate2", type=click.FloatRange(0, 1), default=None,
                     metavar="RATE", help="Stepwise: rate of mutations to microvariants."),
        click.option("--mutation-range", type=click.FloatRange(0, min_open=True), default=None,
                     metavar="K", help="Stepwise: relative probability of each further step."),
        click.option("--stationary", is_flag=True,
                     help="Make the mutation model stationary (PM transformation)."),
        click.option("--minimum-frequency", type=click.FloatRange(0, 1, min_open=True,
                                                                  max_open=True),
                     default=DEFAULT_MINIMUM_FREQUENCY, show_default=True,
                     help="Frequency of alleles missing from the database."),
        click.option("--normalise", is_flag=True,
                     help="Divide each marker's frequencies by their sum instead of refusing "
                          "frequencies that do not sum to 1."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _table_case_settings(kwargs: dict[str, Any], theta: float | None) -> dict[str, Any] | None:
    """The keyword arguments of ``read_table_case`` from the table options, or
    ``None`` when no table option was given."""
    keys = ("frequencies", "pedigree", "missing", "poi", "hypotheses")
    if kwargs.get("frequencies") is None:
        given = [k for k in keys[1:] if kwargs.get(k) is not None]
        if given:
            raise KinmatchError(f"--{given[0]} builds a case from laboratory tables: give the "
                                "frequency database too (--frequencies FILE)")
        return None
    spec = mutation_spec(kwargs.get("mutation"), kwargs.get("mutation_rate"),
                         kwargs.get("mutation_rate2"), kwargs.get("mutation_range"),
                         bool(kwargs.get("stationary")))
    return {
        "frequencies": kwargs["frequencies"],
        "pedigree": kwargs.get("pedigree"),
        "missing": kwargs.get("missing"),
        "poi": kwargs.get("poi"),
        "hypotheses": kwargs.get("hypotheses"),
        "mutation": spec,
        "theta": theta,
        "minimum_frequency": kwargs.get("minimum_frequency", DEFAULT_MINIMUM_FREQUENCY),
        "normalise": bool(kwargs.get("normalise")),
    }


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
@_friendly
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
        )
    except KinmatchError as err:
        raise err.at(file=shown) from None
    _print_result(result, data, shown, as_json)


def _read_kinship_case(path: str) -> KinshipCase:
    """A kinship case from a kinmatch JSON file or a Familias file, by content."""
    from .formats.detect import INPUT_KINDS, detect_input
    from .formats.familias import familias_to_kinship_case, read_familias

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


@main.command("convert")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False), metavar="[INPUT] OUTPUT")
@click.option("--to", "to", type=click.Choice(list(OUTPUT_KINDS)), default=None,
              help="Output format (default: from OUTPUT's extension and the input).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists (never the input).")
@click.option("--profiles", type=click.Path(dir_okay=False), metavar="FILE",
              help="Genotype table of a case assembled from tables (instead of INPUT).")
@_table_case_options
@click.option("--theta", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Subpopulation correction θ of a case assembled from tables.")
@_friendly
def convert_command(paths: tuple[str, ...], to: str | None, force: bool, profiles: str | None,
                    theta: float | None, **table: Any) -> None:
    """Convert INPUT to OUTPUT; the input's format is read from its content.

    \b
    Cases:        kinmatch JSON (kinship or DVI) <-> Familias .fam;
                  kinship case -> PED (one family per hypothesis)
    Pedigrees:    PED <-> PLINK .fam <-> hypotheses JSON (one family per hypothesis)
    Frequencies:  Familias text <-> long CSV <-> wide CSV (--to wide-csv)
    Genotypes:    GeneMapper export / wide table -> wide genotype CSV
    Tables case:  genotype table + --frequencies + hypotheses -> JSON case

    \b
      kinmatch convert case.fam case.json
      kinmatch convert run42.txt case.json --frequencies db.txt \\
          --pedigree family.ped --missing Missing-Son --poi UHR-2024-007

    The output is written whole or not at all, and never over the input.
    """
    settings = _table_case_settings(table, theta)
    if profiles is not None:
        if settings is None:
            raise KinmatchError("--profiles builds a case from laboratory tables: give the "
                                "frequency database (--frequencies) and the hypotheses too")
        if len(paths) != 1:
            raise KinmatchError("with --profiles give only OUTPUT")
        source, output = profiles, paths[0]
    else:
        if len(paths) != 2:
            raise KinmatchError("give INPUT and OUTPUT")
        source, output = paths
    done = convert(source, output, to=to, overwrite=force, table_case=settings,
                   normalise=bool(table.get("normalise")))
    label = "kinmatch JSON" if done.output_kind == "json" else OUTPUT_KINDS[done.output_kind]
    _err.print(f"wrote {done.output} ({label}): the {done.what} of {done.input}",
               soft_wrap=True, markup=False)


def _print_result(result: KinshipResult, data: KinshipCase, case: str, as_json: bool) -> None:
    if as_json:
        out = {"case": case, "title": data.title, **result.to_dict()}
        click.echo(json.dumps(out, indent=2))
        return
    console = Console(highlight=False)
    descriptions = {h.name: h.description for h in data.hypotheses if h.description}
    print_lr_table(result, data.title or case, console)
    for name, text in descriptions.items():
        console.print(f"  {name}: {text}")


if __name__ == "__main__":  # pragma: no cover
    main()


# ---------------------------------------------------------------------------
# kinmatch dvi


def _read_dvi_case(path: str) -> Any:
    """A DVI case from a kinmatch JSON DVI case or a Familias DVI file, by content."""
    from .formats.detect import INPUT_KINDS, detect_input
    from .formats.dvi_json import read_dvi_case
    from .formats.familias import familias_to_dvi_case, read_familias

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


def _upper_bound_assignments(allowed: Any) -> float:
    """prod over samples of (1 + candidates): at least the number of assignments."""
    import numpy as np

    return float(np.prod((1.0 + allowed.sum(axis=1)).astype(float)))


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
              help="Largest joint analysis (number of assignments) to run.")
@click.option("--top", type=click.IntRange(1), default=10, show_default=True,
              help="Joint assignments to show.")
@click.option("--json", "as_json", is_flag=True,
              help="Print everything as JSON: pairwise LRs, exclusions, joint assignments, "
                   "posteriors and conclusions.")
@click.option("--report", "report", type=click.Path(dir_okay=False), metavar="FILE.html",
              help="Write the HTML identification report.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show progress on the terminal (stderr).")
@_friendly
def dvi_command(case: str, threshold: float, threshold2: float | None, max_incompatible: int,
                ignore_sex: bool, merge_fragments: bool, identity_threshold: float,
                max_assignments: int, top: int, as_json: bool, report: str | None,
                progress: bool) -> None:
    """Solve a DVI case: which remains are which missing person.

    CASE is a kinmatch JSON DVI case or a Familias DVI .fam file. Pairwise
    LRs, exclusions, undisputed identifications and the joint analysis
    follow dvir's dviSolve; the conclusions are printed as tables (or JSON
    with --json), and --report writes the HTML report with pedigree drawings.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .dvi import joint_identification, merge_fragments as merge, pairwise_lr, prepare_case
    from .dvi import solve_case

    stages = ["read the case", "re-associate fragments", "pairwise LRs", "solve (dviSolve)",
              "joint analysis", "write the report"]
    with Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=_err, transient=True, disable=not progress) as bar:
        task = bar.add_task(stages[0], total=len(stages))

        def advance(i: int) -> None:
            bar.update(task, completed=i, description=stages[i] if i < len(stages) else "done")

        dvi = _read_dvi_case(case)
        advance(1)
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
        joint, joint_note = None, None
        import numpy as np

        allowed = np.nan_to_num(pairwise.lr, nan=0.0) > 0
        if pairwise.incompatible.size:
            allowed &= pairwise.incompatible <= max_incompatible
        bound = _upper_bound_assignments(allowed)
        if bound <= max_assignments:
            joint = joint_identification(prepared, pairwise, top=top)
        else:
            joint_note = (f"The joint analysis of the whole case was not run: up to {bound:.3g} "
                          f"assignments exceed --max-assignments {max_assignments}. The "
                          "conclusions above come from the stepwise pipeline (exclusions, "
                          "undisputed identifications, joint analysis per family).")
        advance(5)
        if report:
            from .formats._io import atomic_write_text
            from .report.dvi_report import dvi_report_html

            html = dvi_report_html(dvi, solution, pairwise, joint=joint, joint_note=joint_note,
                                   fragments=fragments, source=case, top_assignments=top)
            atomic_write_text(report, html)
        advance(6)

    if as_json:
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
            },
            "solution": solution.to_dict(),
            "joint": None if joint is None else {
                "n_assignments": joint.n_assignments,
                "top": [{"assignment": joint.describe(i), "loglik": float(joint.loglik[i]),
                         "lr_vs_best": float(joint.lr_vs_best[i])}
                        for i in range(len(joint.loglik))],
                "posterior": {"samples": list(joint.samples),
                              "missing": [*joint.missing, "*"],
                              "values": joint.posterior.tolist()},
            },
            "joint_note": joint_note,
        }
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    _print_dvi(solution, dvi, case, report, joint_note)


def _print_dvi(solution: Any, dvi: Any, source: str, report: str | None,
               joint_note: str | None) -> None:
    from collections import Counter

    from .report.dvi_report import IDENTIFYING, format_lr

    console = Console(highlight=False)
    title = dvi.title or source
    console.print(f"[bold]{title}[/]: {len(dvi.samples)} samples, {len(dvi.families)} families, "
                  f"{sum(len(f.missing) for f in dvi.families)} missing persons, "
                  f"{len(dvi.markers)} markers")
    am = Table(title="Missing persons", title_justify="left")
    for col in ("Family", "Missing", "Sample", "LR", "GLR", "Conclusion", "Comment"):
        am.add_column(col, justify="right" if col in ("LR", "GLR") else "left")
    for r in solution.missing_persons:
        style = "bold" if r.conclusion in IDENTIFYING else None
        am.add_row(r.family, r.missing_person, r.sample or "", format_lr(r.lr), format_lr(r.glr),
                   r.conclusion or "", r.comment or "", style=style)
    console.print(am)
    pm = Table(title="Post-mortem samples", title_justify="left")
    for col in ("Sample", "Missing", "Family", "LR", "Conclusion", "Comment"):
        pm.add_column(col, justify="right" if col == "LR" else "left")
    for r in solution.samples:
        pm.add_row(r.sample, r.missing_person or "", r.family or "", format_lr(r.lr),
                   r.conclusion or "", r.comment or "")
    console.print(pm)
    counts = Counter(r.conclusion for r in solution.missing_persons if r.conclusion)
    identified = sum(n for c, n in counts.items() if c in IDENTIFYING)
    console.print(f"{identified} of {len(solution.missing_persons)} missing persons identified"
                  + "".join(f"; {n} {c.lower()}" for c, n in sorted(counts.items())
                            if c not in IDENTIFYING))
    if joint_note:
        console.print(f"[dim]{joint_note}[/]")
    if report:
        console.print(f"report written to {report}")
