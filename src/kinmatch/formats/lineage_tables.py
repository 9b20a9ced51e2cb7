"""Reading small delimited tables for the lineage module (not public).

Uses the shared plumbing of :mod:`kinmatch.formats._tables` for decoding and
splitting (the same encodings and line endings as every other reader), and
turns problems in the *content* into :class:`~kinmatch.errors.LineageError`
located at file, line, column and field.
"""

from __future__ import annotations

from pathlib import Path

from kinmatch.errors import LineageError, Location
from kinmatch.formats.tables import (
    Row,
    decode_text,
    header_key,
    read_bytes,
    split_lines,
    delimited_rows,
    sniff_delimiter,
)


def lineage_error(message: str, file: str | None, line: int | None = None,
                  column: int | None = None, field: str | None = None) -> LineageError:
    return LineageError(message, Location(file, line, column, field))


def load_rows(source: str | Path, text: str | None = None,
              default_delimiter: str = "\t") -> tuple[str, list[Row]]:
    """The file name to report and the non-blank rows of a table.

    ``source`` is a path; give ``text`` to parse text held in memory (``source``
    is then only the name used in messages). Lines starting with ``#`` are
    comments.
    """
    name = str(source)
    data: bytes | str = text if text is not None else read_bytes(source)
    lines = split_lines(decode_text(data, name))
    lines = ["" if line.lstrip().startswith("#") else line for line in lines]
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise lineage_error("the table is empty (no header line)", name)
    delimiter = sniff_delimiter(first, default_delimiter)
    return name, delimited_rows(lines, delimiter, name)


def column(header: Row, *names: str) -> int | None:
    keys = [header_key(c) for c in header.cells]
    for name in names:
        key = header_key(name)
        if key in keys:
            return keys.index(key)
    return None
