"""Shared plumbing of the table readers: bytes to text, text to rows, located errors.

Not a public module. Every reader in :mod:`kinmatch.formats` that reads a
laboratory table goes through these functions, so that they all accept the
same encodings (UTF-8 with or without BOM, UTF-16 with BOM, latin-1) and line
endings (LF, CRLF, CR), and all report problems the same way: a
:class:`~kinmatch.errors.CaseFormatError` naming the file, the 1-based line
and column, and the field.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from kinmatch.errors import CaseFormatError, KinmatchError, Location

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Row:
    """One row of a table: its 1-based line (or spreadsheet row) and its cells, stripped."""

    line: int
    cells: tuple[str, ...]

    def cell(self, index: int) -> str:
        """The cell at a 0-based index, or ``""`` past the end of a short row."""
        return self.cells[index] if 0 <= index < len(self.cells) else ""

    @property
    def is_blank(self) -> bool:
        return not any(self.cells)


def shown(text: str) -> str:
    """A cell's text quoted for a message, with invisible characters escaped."""
    return f"'{text}'" if text.isprintable() else repr(text)


def error(
    message: str,
    file: str,
    line: int | None = None,
    column: int | None = None,
    field: str | None = None,
) -> CaseFormatError:
    """A :class:`CaseFormatError` located at ``file``, ``line``, ``column`` and ``field``."""
    return CaseFormatError(message, Location(file, line, column, field))




def read_bytes(path: str | Path) -> bytes:
    """The bytes of a file; a missing or unreadable file is a :class:`CaseFormatError`."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise error("file not found", str(p)) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", str(p)) from None
    except OSError as err:
        raise error(f"cannot read file: {err.strerror or err}", str(p)) from None


def decode_text(data: bytes | str, file: str) -> str:
    """Text from bytes: UTF-8 (BOM or not), UTF-16 with a BOM, else latin-1.

    A NUL character left after decoding means a binary file (or UTF-16
    without a BOM), which is refused.
    """
    if isinstance(data, str):
        text = data
        if text.startswith("\ufeff"):
            text = text[1:]
    elif data.startswith(b"\xef\xbb\xbf"):
        text = _decode(data[3:], "utf-8", file)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode(data, "utf-16", file)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + text.count("\r", 0, nul) - text.count("\r\n", 0, nul) + 1
        raise error(
            "the file holds NUL characters: it is a binary file (or UTF-16 text "
            "without a byte-order mark), not a text table",
            file,
            line,
        )
    return text


def _decode(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise error(
            f"not {encoding.upper()} text although it starts with a {encoding.upper()} "
            f"byte-order mark ({err.reason} at byte {err.start})",
            file,
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines of a text, split at LF, CRLF or CR only (not at other Unicode breaks)."""
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def sniff_delimiter(header: str, default: str) -> str:
    """The field delimiter of a table from its header line: tab, semicolon or comma."""
    if "\t" in header:
        return "\t"
    outside = re.sub(r'"[^"]*"', "", header)
    semicolons, commas = outside.count(";"), outside.count(",")
    if semicolons and semicolons >= commas:
        return ";"
    if commas:
        return ","
    return default


def delimited_rows(lines: Sequence[str], delimiter: str, file: str) -> list[Row]:
    """Rows of a delimited text (CSV or TSV, quotes allowed), blank rows dropped.

    Each row carries the line it starts on.
    """
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            row = Row(start, tuple(cell.strip() for cell in record))
            if not row.is_blank:
                rows.append(row)
            start = reader.line_num + 1
    except csv.Error as err:
        raise error(
            f"cannot split the line into fields: {err}", file, reader.line_num or start
        ) from None
    return rows


def whitespace_rows(lines: Sequence[str]) -> list[Row]:
    """Rows of a whitespace-separated text, blank lines and ``#`` comments dropped."""
    rows = []
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            continue
        cells = tuple(line.split())
        if cells:
            rows.append(Row(number, cells))
    return rows


def text_rows(
    data: bytes | str, file: str, delimiter: str | None = None, default: str = ","
) -> list[Row]:
    """Decode a delimited text file and split it into rows (delimiter sniffed if ``None``)."""
    lines = split_lines(decode_text(data, file))
    if delimiter is None:
        first = next((line for line in lines if line.strip()), "")
        delimiter = sniff_delimiter(first, default)
    return delimited_rows(lines, delimiter, file)


def xlsx_rows(data: bytes, file: str, sheet: str | None = None) -> list[Row]:
    """The rows of one worksheet of an Excel ``.xlsx`` workbook (the first one by default).

    Cells become text: numbers without a redundant ``.0``, empty cells ``""``.
    A date or time cell is refused, because it is almost always an allele
    pair such as ``9/10`` that Excel turned into a date.
    """
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise error("reading .xlsx needs the openpyxl package", file) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types on bad input
        raise error(
            f"not a readable Excel .xlsx workbook ({type(err).__name__}: {err})", file
        ) from None
    try:
        names = list(book.sheetnames)
        if not names:
            raise error("the workbook has no worksheet", file)
        if sheet is None:
            ws = book[names[0]]
        elif sheet in names:
            ws = book[sheet]
        else:
            raise error(f"no worksheet named '{sheet}' (the workbook has {', '.join(names)})", file)
        title = ws.title
        rows: list[Row] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = tuple(
                _excel_cell(v, file, title, number, col) for col, v in enumerate(values, start=1)
            )
            row = Row(number, cells)
            if not row.is_blank:
                rows.append(row)
        return rows
    except KinmatchError:
        raise
    except Exception as err:  # a damaged workbook fails while being read
        raise error(f"cannot read the Excel workbook ({type(err).__name__}: {err})", file) from None
    finally:
        try:
            book.close()
        except Exception:  # closing a damaged workbook may fail too
            pass


def _excel_cell(value: object, file: str, sheet: str, row: int, column: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date, time, timedelta)):
        raise error(
            f"worksheet '{sheet}': the cell holds a date or time ({value}); Excel turns "
            "an entry such as 9/10 into a date: format the column as text and enter it again",
            file,
            row,
            column,
        )
    return str(value).strip()


def is_xlsx(path: str | Path) -> bool:
    """Whether a path names an Excel workbook (``.xlsx`` or ``.xlsm``)."""
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def header_key(text: str) -> str:
    """A column title for matching: lower case, without spaces, ``_``, ``-``, ``.``."""
    return re.sub(r"[\s_\-.]+", "", text).lower()


def find_column(header: Row, names: Iterable[str]) -> int | None:
    """The 0-based index of the first column whose title is one of ``names``, else ``None``."""
    wanted = [header_key(n) for n in names]
    keys = [header_key(c) for c in header.cells]
    for name in wanted:
        if name in keys:
            return keys.index(name)
    return None


_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")


def parse_number(text: str) -> float | None:
    """A finite number from text (a decimal comma is accepted: ``0,125``), else ``None``."""
    t = text.strip()
    if "_" in t:
        return None
    if _DECIMAL_COMMA.match(t):
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def check_no_cells_beyond(row: Row, width: int, file: str) -> None:
    """A located error if ``row`` holds a value right of the last titled column."""
    for j in range(width, len(row.cells)):
        if row.cells[j]:
            raise error(f"a value ({shown(row.cells[j])}) beyond the last titled column",
                        file, row.line, j + 1)
