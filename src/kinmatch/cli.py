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
from .errors import KinmatchError, KinmatchWarning
from .formats.case_json import KinshipCase, read_case
from .kinship import KinshipResult, kinship_lr

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


@main.command("lr")
@click.argument("case", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the log-likelihoods and LRs as JSON.")
@click.option("--reference", "reference", metavar="NAME",
              help="Hypothesis in the denominator (default: the case's, else the last one).")
@click.option("--theta", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Subpopulation correction θ (overrides the case's).")
@_friendly
def lr_command(case: str, as_json: bool, reference: str | None, theta: float | None) -> None:
    """Kinship LRs for the hypotheses of CASE: a kinmatch JSON case file, or a
    Familias .fam file (each of its pedigrees is a hypothesis).

    Prints a table of LRs per marker and in total against the reference
    hypothesis; with --json, the log-likelihood of every hypothesis per
    marker and in total, and the LR of each against the reference.
    """
    data = _read_kinship_case(case)
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
        raise err.at(file=case) from None
    _print_result(result, data, case, as_json)


def _read_kinship_case(path: str) -> KinshipCase:
    """A kinship case from a kinmatch JSON file or a Familias file, by content."""
    from .formats.familias import familias_to_kinship_case, read_familias

    try:
        with open(path, "rb") as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except FileNotFoundError:
        raise KinmatchError(f"{path}: file not found") from None
    except OSError as err:
        raise KinmatchError(f"{path}: cannot be read ({err.strerror})") from None
    if head.startswith(b"{"):
        return read_case(path)
    if head.startswith(b'"Output from Familias') or path.lower().endswith(".fam"):
        case = familias_to_kinship_case(read_familias(path))
        if not case.title:
            case.title = path
        return case
    return read_case(path)


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
