"""The project's error types.

Every problem with user input is raised as a :class:`KinmatchError` (or a
subclass) that says *where* the problem is (file, line, column, field) and
*what* was expected, so the command line can print one clear sentence instead
of a traceback.

Something the user should know but that does not stop the computation is a
:class:`KinmatchWarning`, issued by :func:`warn` through Python's warnings
— or, inside :func:`collected_warnings`, handed to the caller instead: a
server reading two uploads at once gives each request its own warnings
(Python's ``warnings.catch_warnings`` swaps process-wide state, so two
threads using it at once take each other's warnings).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in the input a problem sits. Every part is optional."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        text = ", ".join(parts)
        if self.field:
            text = f"{text}: field '{self.field}'" if text else f"field '{self.field}'"
        return text


class KinmatchError(Exception):
    """A problem with the input or the request, explained for the user.

    ``message`` says what is wrong and what was expected; ``location`` says
    where (file, line, column, field) when that is known.
    """

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message

    def at(self, *, file: str | None = None, line: int | None = None,
           column: int | None = None, field: str | None = None) -> KinmatchError:
        """Return a copy of this error with missing location parts filled in."""
        current = self.location
        merged = Location(
            file=current.file if current.file is not None else file,
            line=current.line if current.line is not None else line,
            column=current.column if current.column is not None else column,
            field=current.field if current.field is not None else field,
        )
        return type(self)(self.message, merged)


class PedigreeError(KinmatchError):
    """An inconsistent pedigree: unknown parents, wrong sexes, cycles, duplicates."""


class MarkerError(KinmatchError):
    """A bad marker: unknown alleles, bad frequencies, bad mutation model."""


class CaseFormatError(KinmatchError):
    """A malformed case file."""


class LineageError(KinmatchError):
    """Bad lineage-marker input (Y-STR haplotypes, mtDNA profiles, their databases)."""


class KinmatchWarning(UserWarning):
    """Something the user should know, but that does not stop the computation."""


#: the list collecting this thread's (or task's) warnings, inside collected_warnings()
_COLLECTOR: ContextVar[list[str] | None] = ContextVar("kinmatch_collected_warnings",
                                                      default=None)


def warn(message: str) -> None:
    """Emit a :class:`KinmatchWarning` pointing at the caller's caller — or,
    inside :func:`collected_warnings`, add ``message`` to its list."""
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.append(message)
        return
    warnings.warn(message, KinmatchWarning, stacklevel=3)


@contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """Collect the messages of the warnings :func:`warn` issues in this block,
    in order, instead of issuing them.

    The collector belongs to the running thread (or asyncio task: it is a
    context variable), so concurrent blocks each get their own warnings and
    no global state changes; blocks nest (the innermost collects)."""
    collected: list[str] = []
    token = _COLLECTOR.set(collected)
    try:
        yield collected
    finally:
        _COLLECTOR.reset(token)
