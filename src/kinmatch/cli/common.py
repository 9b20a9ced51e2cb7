"""Shared pieces of the command line: error handling (every problem with
the input is one line naming file, line, column and field, exit status 2,
no tracebacks), number formats, and the options of the commands that open
the shared case's database.

Light on purpose: it loads Click, Rich and :mod:`kinmatch.errors` only, so
``kinmatch db``, ``kinmatch audit`` and ``kinmatch admin`` start without
the numerics (the options that assemble a case from laboratory tables,
which need the formats, are in :mod:`kinmatch.cli.table_options`)."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from kinmatch.errors import KinmatchError, KinmatchWarning

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


@dataclass
class _Warnings:
    """The warnings the running command caught, and the messages printed."""

    caught: list[warnings.WarningMessage]
    printed: set[str] = field(default_factory=set)


_CURRENT: ContextVar[_Warnings | None] = ContextVar("kinmatch_warnings", default=None)


def friendly(fn: F) -> F:
    """Turn KinmatchErrors into one-line messages and warnings into notes.

    Each warning message is printed once (the same message raised again by a
    later stage is not repeated): before the results when the command calls
    :func:`print_warnings` ahead of its tables, else at the end."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KinmatchWarning)
            token = _CURRENT.set(_Warnings(caught))
            try:
                return fn(*args, **kwargs)
            except KinmatchError as err:
                print_warnings()
                err_console.print(f"[bold red]error:[/] {err}", markup=True, soft_wrap=True)
                sys.exit(2)
            finally:
                print_warnings()
                _CURRENT.reset(token)

    return wrapper  # type: ignore[return-value]


def print_warnings() -> None:
    """Print the KinmatchWarnings caught so far by the running command, each
    message once; a command calls it before printing its results."""
    state = _CURRENT.get()
    if state is None:
        return
    for w in state.caught:
        message = str(w.message)
        if issubclass(w.category, KinmatchWarning) and message not in state.printed:
            state.printed.add(message)
            err_console.print(f"[yellow]warning:[/] {message}", markup=True, soft_wrap=True)
    state.caught.clear()


def format_lr_cell(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    if math.isinf(value):
        return "Inf"
    if 1e-3 <= value < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def format_log(value: float) -> str:
    if math.isinf(value):
        return "-Inf" if value < 0 else "Inf"
    if math.isnan(value):
        return "NaN"
    return f"{value:.4f}"


def database_options(fn: F) -> F:
    """The --data and --database options of the commands that open the database."""
    fn = click.option("--database", metavar="URL", default=None,
                      help="postgresql://user@host/db (default: SQLite in the data folder; "
                           "or $KINMATCH_DATABASE_URL).")(fn)
    return click.option("--data", "data", type=click.Path(file_okay=False), default=None,
                        metavar="DIR",
                        help="Data folder: the SQLite database and the key file "
                             "(default: $KINMATCH_DATA or ./kinmatch-data).")(fn)
