"""Allele frequency databases: the Familias text format, long CSV and wide CSV.

Each reader returns a :class:`kinmatch.markers.FrequencyDatabase` for one
population, named by the ``population`` argument or else by the file name
without its extension (``OstAsiaDB_v2023.txt`` -> ``OstAsiaDB_v2023``). A
case with several populations loads several files into a dict with
:func:`read_frequency_databases`.

**Familias / pedsuite text format** (``.txt``), as norSTR publishes its
databases and pedtools' ``readFreqDatabase(format = "list")`` reads them::

    D3S1358
    14<TAB>0.052
    15<TAB>0.361
    ...

    vWA
    14<TAB>0.238
    ...

A marker-name line, then one ``allele<TAB>frequency`` line per allele, and a
blank line between markers. Variants that are read too: allele and frequency
separated by spaces instead of a tab; a marker name line directly after the
last allele of the previous marker (no blank line); a header line of column
titles at the top (``Allele<TAB>Frequency``: two tab-separated fields of
which the second is not a number, or ``Allele Frequency``); ``#`` comment
lines; a decimal comma (``0,052``).

**Long CSV**: one row per allele, with columns titled ``marker`` (or
``locus``), ``allele`` and ``frequency`` (or ``freq``), in any order, other
columns ignored; a ``population`` column, if present, must hold one value,
which names the database. Without a header the first three columns are
marker, allele, frequency::

    marker,allele,frequency
    D3S1358,14,0.052
    D3S1358,15,0.361

**Wide CSV** (pedtools' "allelic ladder" layout, as in norSTR's tables): one
row per allele, the first column the allele names, then one column per
marker; an empty cell (or ``NA``, ``NaN``, ``-``, ``.``, as R and pandas write
them) means the allele is absent at that marker::

    Allele,D3S1358,vWA,TH01
    9.3,,,0.031
    14,0.052,0.238,

CSV files may use comma, semicolon or tab (taken from the header line);
``.xlsx`` workbooks are read with the same long or wide layout.

**Rules for every format.** Marker names are made canonical
(:mod:`kinmatch.formats.marker_names`: ``PENTA_E`` -> ``Penta E``), allele
names too (:func:`kinmatch.alleles.canonical_allele`: ``10.0`` -> ``10``). A
frequency must be a number in [0, 1]; ``0`` means the allele is absent. A
marker's frequencies must sum to 1 within 1e-6, else the file is refused with
an error naming the file, the marker and its line — unless the caller passes
``normalise=True`` (divide by the sum) or ``rest_allele="99"`` (an extra allele
gets the missing mass); both are :meth:`kinmatch.markers.Marker.create`'s
options. Every problem is a :class:`~kinmatch.errors.CaseFormatError` with
file, line, column and field; nothing is returned from a file with a problem.

Writers produce each of the three forms: :func:`write_familias_frequencies`,
:func:`write_long_frequencies`, :func:`write_wide_frequencies`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kinmatch.alleles import allele_number, canonical_allele
from kinmatch.errors import KinmatchError
from kinmatch.formats import tables
from kinmatch.formats.genotype_tables import is_repeat_number
from kinmatch.formats.marker_names import canonical_marker_name, is_str_marker
from kinmatch.formats.tables import Row
from kinmatch.markers import FrequencyDatabase, Marker

FrequencyFormat = Literal["familias", "long", "wide"]
FREQUENCY_FORMATS: tuple[FrequencyFormat, ...] = ("familias", "long", "wide")


@dataclass
class _MarkerBlock:
    """The alleles of one marker as read, with where each came from."""

    name: str
    line: int
    column: int | None = None
    alleles: list[str] = field(default_factory=list)
    freqs: list[float] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)


def _population(population: str | None, filename: str) -> str:
    if population is not None and str(population).strip():
        return str(population).strip()
    return Path(filename).stem or filename


def _marker_name(raw: str, file: str, line: int, column: int | None) -> str:
    try:
        return canonical_marker_name(raw)
    except KinmatchError as err:
        raise tables.error(err.message, file, line, column, "marker") from None


def _frequency(text: str, file: str, line: int, column: int | None, marker: str) -> float:
    value = tables.parse_number(text)
    if value is None or not 0 <= value <= 1:
        found = tables.shown(text) if value is None else str(value)
        raise tables.error(
            f"marker {marker}: expected a frequency (a number from 0 to 1), found {found}",
            file,
            line,
            column,
            "frequency",
        )
    return value


def _add_allele(
    block: _MarkerBlock, raw: str, freq: float, file: str, line: int, column: int | None
) -> None:
    if is_str_marker(block.name) and not is_repeat_number(raw):
        # the rule of the genotype readers: a known STR's alleles are repeat numbers
        raise tables.error(
            f"marker {block.name}: expected an allele designation such as 16 or 9.3 at STR "
            f"marker {block.name}, found {tables.shown(raw.strip())}",
            file, line, column, "allele")
    try:
        allele = canonical_allele(raw)
    except KinmatchError as err:
        raise tables.error(
            f"marker {block.name}: {err.message}", file, line, column, "allele"
        ) from None
    if allele in block.seen:
        raise tables.error(
            f"marker {block.name}: allele '{allele}' is listed twice (first on "
            f"line {block.seen[allele]})",
            file,
            line,
            column,
            "allele",
        )
    block.seen[allele] = line
    if freq > 0:
        block.alleles.append(allele)
        block.freqs.append(freq)


def _database(
    blocks: Sequence[_MarkerBlock],
    population: str,
    file: str,
    normalise: bool,
    rest_allele: str | None,
) -> FrequencyDatabase:
    if not blocks:
        raise tables.error("the file holds no marker", file, 1)
    db = FrequencyDatabase(population)
    first: dict[str, int] = {}
    for block in blocks:
        if block.name in first:
            raise tables.error(
                f"marker {block.name} appears twice (first on line {first[block.name]})",
                file,
                block.line,
                block.column,
                "marker",
            )
        first[block.name] = block.line
        try:
            marker = Marker.create(
                block.name, block.alleles, block.freqs, normalise=normalise, rest_allele=rest_allele
            )
        except KinmatchError as err:
            raise tables.error(err.message, file, block.line, block.column, block.name) from None
        db.frequencies[marker.name] = (marker.alleles, marker.allele_frequencies)
    return db


# -- Familias text format ------------------------------------------------------------


def _split_allele_line(raw: str) -> tuple[str, str] | None:
    """``(allele, frequency text)`` if the line has two fields, else ``None``."""
    if "\t" in raw:
        parts = [p.strip() for p in raw.split("\t")]
        while parts and not parts[-1]:
            parts.pop()
        return (parts[0], parts[1]) if len(parts) == 2 else None
    parts = raw.split()
    return (parts[0], parts[1]) if len(parts) == 2 else None


def parse_familias_frequencies(
    data: bytes | str,
    filename: str = "<frequencies>",
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """Read a frequency database in the Familias/pedsuite text format (see the module docstring)."""
    lines = tables.split_lines(tables.decode_text(data, filename))
    blocks: list[_MarkerBlock] = []
    current: _MarkerBlock | None = None
    started = False
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            current = None
            continue
        if text.startswith("#"):
            continue
        pair = _split_allele_line(raw)
        numeric = pair is not None and tables.parse_number(pair[1]) is not None
        if not started:
            started = True
            if (
                pair is not None
                and not numeric
                and ("\t" in raw or pair[0].lower() in ("allele", "alleles"))
            ):
                continue  # a header line of column titles
        if current is not None and numeric and pair is not None:
            freq = _frequency(pair[1], filename, number, 2, current.name)
            _add_allele(current, pair[0], freq, filename, number, 1)
            continue
        if "\t" in text or (
            current is not None and tables.parse_number(text.split()[0]) is not None
        ):
            what = "a marker name" if current is None else "'allele<TAB>frequency'"
            raise tables.error(
                f"expected {what}, found {tables.shown(text)}", filename, number, 1
            )
        if numeric and current is None:
            raise tables.error(
                f"expected a marker name before the allele line {tables.shown(text)} "
                "(markers are separated by one blank line)",
                filename,
                number,
                1,
            )
        current = _MarkerBlock(_marker_name(text, filename, number, 1), number, 1)
        blocks.append(current)
    return _database(blocks, _population(population, filename), filename, normalise, rest_allele)


def read_familias_frequencies(
    path: str | Path,
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """Read a Familias/pedsuite frequency text file (e.g. norSTR's ``NorskDB_v2023.txt``)."""
    return parse_familias_frequencies(
        tables.read_bytes(path),
        str(path),
        population,
        normalise=normalise,
        rest_allele=rest_allele,
    )


# -- long and wide tables --------------------------------------------------------------

_MARKER_TITLES = ("marker", "locus", "loci", "markername", "str")
_ALLELE_TITLES = ("allele", "alleles", "allelename")
_FREQ_TITLES = ("frequency", "freq", "frequencies", "afreq", "allelefrequency")
_POPULATION_TITLES = ("population", "pop", "database")
#: Cells of a wide table that mean "allele absent at this marker" (as written by R and pandas).
_ABSENT = frozenset({"na", "n/a", "nan", "-", "."})


def long_columns(header: Row) -> tuple[int, int, int, int | None] | None:
    m = tables.find_column(header, _MARKER_TITLES)
    a = tables.find_column(header, _ALLELE_TITLES)
    f = tables.find_column(header, _FREQ_TITLES)
    if m is None or a is None or f is None:
        return None
    return m, a, f, tables.find_column(header, _POPULATION_TITLES)


def long_rows_database(
    rows: Sequence[Row],
    file: str,
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """A database from the rows of a long table (marker, allele, frequency per row)."""
    if not rows:
        raise tables.error(
            "the table is empty; expected the columns marker, allele, frequency", file, 1
        )
    columns = long_columns(rows[0])
    data = rows[1:]
    titles = ("marker", "allele", "frequency")
    if columns is None:
        first = rows[0]
        if len(first.cells) >= 3 and tables.parse_number(first.cell(2)) is not None:
            columns, data = (0, 1, 2, None), rows
        else:
            raise tables.error(
                "expected a header with the columns marker, allele and frequency "
                f"(found {', '.join(c or '(empty)' for c in first.cells)})",
                file,
                first.line,
            )
    else:
        titles = (rows[0].cells[columns[0]], rows[0].cells[columns[1]], rows[0].cells[columns[2]])
    mi, ai, fi, pi = columns
    blocks: dict[str, _MarkerBlock] = {}
    named: str | None = None
    for row in data:
        if pi is not None:
            value = row.cell(pi)
            if named is None:
                named = value
            elif value != named:
                raise tables.error(
                    f"the file holds a second population ('{value}' after "
                    f"'{named}'); give one population per file",
                    file,
                    row.line,
                    pi + 1,
                    "population",
                )
        raw_marker, raw_allele, raw_freq = row.cell(mi), row.cell(ai), row.cell(fi)
        if not raw_marker:
            raise tables.error("the marker name is empty", file, row.line, mi + 1, titles[0])
        marker = _marker_name(raw_marker, file, row.line, mi + 1)
        block = blocks.get(marker)
        if block is None:
            block = blocks[marker] = _MarkerBlock(marker, row.line, mi + 1)
        if not raw_allele:
            raise tables.error(
                f"marker {marker}: the allele name is empty", file, row.line, ai + 1, titles[1]
            )
        freq = _frequency(raw_freq, file, row.line, fi + 1, marker)
        _add_allele(block, raw_allele, freq, file, row.line, ai + 1)
    return _database(
        list(blocks.values()), _population(population or named, file), file, normalise, rest_allele
    )


def wide_rows_database(
    rows: Sequence[Row],
    file: str,
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """A database from the rows of a wide table (allele per row, one column per marker)."""
    if not rows:
        raise tables.error(
            "the table is empty; expected a header 'Allele, marker, marker, ...'", file, 1
        )
    header = rows[0]
    blocks: dict[int, _MarkerBlock] = {}
    for j, title in enumerate(header.cells[1:], start=1):
        if title:
            blocks[j] = _MarkerBlock(
                _marker_name(title, file, header.line, j + 1), header.line, j + 1
            )
    if not blocks:
        raise tables.error(
            "the header names no marker column (expected 'Allele, marker, marker, ...')",
            file,
            header.line,
        )
    width = len(header.cells)
    seen_alleles: dict[str, int] = {}
    for row in rows[1:]:
        raw_allele = row.cell(0)
        for j, value in enumerate(row.cells):
            if j == 0 or not value or value.lower() in _ABSENT:
                continue
            if j >= width or j not in blocks:
                raise tables.error(
                    f"a value ({tables.shown(value)}) in a column without a marker name",
                    file,
                    row.line,
                    j + 1,
                )
        if not raw_allele:
            raise tables.error(
                "the allele name is empty", file, row.line, 1, header.cell(0) or "allele"
            )
        try:
            key = canonical_allele(raw_allele)
        except KinmatchError as err:
            raise tables.error(
                err.message, file, row.line, 1, header.cell(0) or "allele"
            ) from None
        if key in seen_alleles:
            raise tables.error(
                f"allele '{key}' has two rows (first on line {seen_alleles[key]})",
                file,
                row.line,
                1,
                header.cell(0) or "allele",
            )
        seen_alleles[key] = row.line
        for j, block in blocks.items():
            value = row.cell(j)
            if value and value.lower() not in _ABSENT:
                freq = _frequency(value, file, row.line, j + 1, block.name)
                _add_allele(block, raw_allele, freq, file, row.line, j + 1)
    return _database(
        list(blocks.values()), _population(population, file), file, normalise, rest_allele
    )


def _table_rows(data: bytes | str, filename: str, delimiter: str | None) -> list[Row]:
    default = "\t" if Path(filename).suffix.lower() in (".tsv", ".tab") else ","
    return tables.text_rows(data, filename, delimiter, default=default)


def parse_long_frequencies(
    data: bytes | str,
    filename: str = "<frequencies.csv>",
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
    delimiter: str | None = None,
) -> FrequencyDatabase:
    """Read a long frequency CSV (marker, allele, frequency per row)."""
    return long_rows_database(
        _table_rows(data, filename, delimiter),
        filename,
        population,
        normalise=normalise,
        rest_allele=rest_allele,
    )


def parse_wide_frequencies(
    data: bytes | str,
    filename: str = "<frequencies.csv>",
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
    delimiter: str | None = None,
) -> FrequencyDatabase:
    """Read a wide frequency CSV (allele per row, one column per marker)."""
    return wide_rows_database(
        _table_rows(data, filename, delimiter),
        filename,
        population,
        normalise=normalise,
        rest_allele=rest_allele,
    )


def read_long_frequencies(
    path: str | Path,
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """Read a long frequency table from a CSV/TSV file or an ``.xlsx`` workbook."""
    rows = _rows_of(path)
    return long_rows_database(
        rows, str(path), population, normalise=normalise, rest_allele=rest_allele
    )


def read_wide_frequencies(
    path: str | Path,
    population: str | None = None,
    *,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """Read a wide frequency table from a CSV/TSV file or an ``.xlsx`` workbook."""
    rows = _rows_of(path)
    return wide_rows_database(
        rows, str(path), population, normalise=normalise, rest_allele=rest_allele
    )


def _rows_of(path: str | Path) -> list[Row]:
    data = tables.read_bytes(path)
    if tables.is_xlsx(path):
        return tables.xlsx_rows(data, str(path))
    return _table_rows(data, str(path), None)


# -- choosing the format -----------------------------------------------------------------


def sniff_frequency_format(data: bytes | str, filename: str) -> FrequencyFormat:
    """Guess the format of a text frequency file from its first line.

    A first line with a comma or semicolon, or with three or more tab-separated
    fields, starts a table: ``long`` if it titles marker, allele and frequency
    columns, else ``wide``. Anything else is the Familias text format.
    """
    lines = tables.split_lines(tables.decode_text(data, filename))
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = tables.sniff_delimiter(first, "\t")
    fields = first.split(delimiter)
    if (delimiter in ",;" and delimiter in first) or (delimiter == "\t" and len(fields) >= 3):
        rows = tables.delimited_rows([first], delimiter, filename)
        return "long" if rows and long_columns(rows[0]) is not None else "wide"
    return "familias"


def read_frequency_database(
    path: str | Path,
    population: str | None = None,
    *,
    format: FrequencyFormat | None = None,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> FrequencyDatabase:
    """Read one population's frequency database in any of the three formats.

    ``format`` is ``"familias"``, ``"long"`` or ``"wide"``; by default an
    ``.xlsx`` workbook is a long or wide table (by its header) and a text file
    is recognised by :func:`sniff_frequency_format`.
    """
    name = str(path)
    if format is not None and format not in FREQUENCY_FORMATS:
        raise tables.error(
            f"unknown frequency format '{format}' (expected one of {', '.join(FREQUENCY_FORMATS)})",
            name,
        )
    data = tables.read_bytes(path)
    if tables.is_xlsx(path):
        rows = tables.xlsx_rows(data, name)
        if format == "familias":
            raise tables.error("a Familias frequency file is text, not an Excel workbook", name)
        if format is None:
            format = "long" if rows and long_columns(rows[0]) is not None else "wide"
        builder = long_rows_database if format == "long" else wide_rows_database
        return builder(rows, name, population, normalise=normalise, rest_allele=rest_allele)
    if format is None:
        format = sniff_frequency_format(data, name)
    if format == "familias":
        return parse_familias_frequencies(
            data, name, population, normalise=normalise, rest_allele=rest_allele
        )
    parse = parse_long_frequencies if format == "long" else parse_wide_frequencies
    return parse(data, name, population, normalise=normalise, rest_allele=rest_allele)


def read_frequency_databases(
    sources: Mapping[str, str | Path] | Iterable[str | Path],
    *,
    format: FrequencyFormat | None = None,
    normalise: bool = False,
    rest_allele: str | None = None,
) -> dict[str, FrequencyDatabase]:
    """Read several populations' databases into ``{population: FrequencyDatabase}``.

    ``sources`` maps population names to files, or lists files (each then
    named by its file name without extension). All files are read before
    anything is returned; two databases with the same population name are an
    error.
    """
    pairs: list[tuple[str | None, str | Path]]
    if isinstance(sources, Mapping):
        pairs = [(str(k), v) for k, v in sources.items()]
    else:
        pairs = [(None, p) for p in sources]
    out: dict[str, FrequencyDatabase] = {}
    for population, path in pairs:
        db = read_frequency_database(
            path, population, format=format, normalise=normalise, rest_allele=rest_allele
        )
        if db.population in out:
            raise tables.error(f"a second database for population '{db.population}'", str(path))
        out[db.population] = db
    return out


# -- writing ---------------------------------------------------------------------------------


def _number(value: float) -> str:
    return repr(float(value))


def format_familias_frequencies(db: FrequencyDatabase) -> str:
    """The database in the Familias text format (full double precision)."""
    blocks = []
    for name, (alleles, freqs) in db.frequencies.items():
        lines = [name] + [f"{a}\t{_number(f)}" for a, f in zip(alleles, freqs)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def format_long_frequencies(db: FrequencyDatabase, delimiter: str = ",") -> str:
    """The database as a long table: ``marker,allele,frequency``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["marker", "allele", "frequency"])
    for name, (alleles, freqs) in db.frequencies.items():
        for a, f in zip(alleles, freqs):
            writer.writerow([name, a, _number(f)])
    return out.getvalue()


def format_wide_frequencies(db: FrequencyDatabase, delimiter: str = ",") -> str:
    """The database as a wide table: ``Allele`` then one column per marker (empty = absent)."""
    names = list(db.frequencies)
    table: dict[str, dict[str, float]] = {}
    for name, (alleles, freqs) in db.frequencies.items():
        for a, f in zip(alleles, freqs):
            table.setdefault(a, {})[name] = float(f)

    def order(label: str) -> tuple[int, float, str]:
        value = allele_number(label)
        return (0, value, "") if value is not None else (1, 0.0, label)

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["Allele", *names])
    for allele in sorted(table, key=order):
        writer.writerow(
            [allele, *(_number(table[allele][n]) if n in table[allele] else "" for n in names)]
        )
    return out.getvalue()


def write_familias_frequencies(db: FrequencyDatabase, path: str | Path) -> None:
    """Write the database as a Familias text file."""
    Path(path).write_text(format_familias_frequencies(db), encoding="utf-8", newline="")


def write_long_frequencies(db: FrequencyDatabase, path: str | Path, delimiter: str = ",") -> None:
    """Write the database as a long CSV (marker, allele, frequency)."""
    Path(path).write_text(format_long_frequencies(db, delimiter), encoding="utf-8", newline="")


def write_wide_frequencies(db: FrequencyDatabase, path: str | Path, delimiter: str = ",") -> None:
    """Write the database as a wide CSV (allele per row, one column per marker)."""
    Path(path).write_text(format_wide_frequencies(db, delimiter), encoding="utf-8", newline="")
