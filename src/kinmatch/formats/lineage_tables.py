"""Reading small delimited tables for the lineage module (not public).

Uses the shared plumbing of :mod:`kinmatch.formats._tables` for decoding and
splitting (the same encodings and line endings as every other reader), and
turns problems in the *content* into :class:`~kinmatch.errors.LineageError`
located at file, line, column and field.
"""

from __future__ import annotations

import re
from pathlib import Path

from kinmatch.errors import LineageError, Location
from kinmatch.formats.tables import (
    Row,
    decode_text,
    delimited_rows,
    header_key,
    read_bytes,
    sniff_delimiter,
    split_lines,
)
from kinmatch.lineage.mtdna import MtDatabase, MtProfile, SeqRange, parse_variants
from kinmatch.lineage.ystr import (
    Y_NULL_VALUES,
    Y_UNTYPED_VALUES,
    Y_VALUE_SEPARATORS,
    YFILER_PLUS,
    YDatabase,
    YHaplotype,
    YLocus,
    YLocusTable,
    canonical_locus,
    normalise_alleles,
    parse_allele,
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


def read_y_loci(source: str | Path, text: str | None = None) -> YLocusTable:
    """Read a locus table: columns ``locus``, ``rate`` (per meiosis), optional ``copies`` and
    ``source``. One row per locus; a multi-copy locus is one row with ``copies`` > 1."""
    name, rows = load_rows(source, text)
    header, body = rows[0], rows[1:]
    i_locus = column(header, "locus", "marker")
    i_rate = column(header, "rate", "mutation_rate", "mu")
    i_copies = column(header, "copies")
    i_source = column(header, "source", "reference")
    if i_locus is None or i_rate is None:
        raise lineage_error("a locus table needs the columns 'locus' and 'rate'", name,
                            header.line)
    loci: list[YLocus] = []
    seen: dict[str, int] = {}
    for row in body:
        locus_name = row.cell(i_locus)
        if not locus_name:
            raise lineage_error("empty locus name", name, row.line, i_locus + 1, "locus")
        key = canonical_locus(locus_name)
        if key in seen:
            raise lineage_error(f"locus {locus_name} is listed twice (first on line {seen[key]})",
                                name, row.line, i_locus + 1, "locus")
        seen[key] = row.line
        try:
            rate = float(row.cell(i_rate))
        except ValueError:
            raise lineage_error(f"the rate '{row.cell(i_rate)}' is not a number", name, row.line,
                                i_rate + 1, "rate") from None
        copies = 1
        if i_copies is not None and row.cell(i_copies):
            text_copies = row.cell(i_copies)
            if not text_copies.isdigit() or int(text_copies) < 1:
                raise lineage_error(f"copies must be a whole number >= 1, not '{text_copies}'",
                                    name, row.line, i_copies + 1, "copies")
            copies = int(text_copies)
        if not 0 <= rate < 1:
            raise lineage_error(f"a mutation rate must lie in [0, 1), not {rate}", name,
                                row.line, i_rate + 1, "rate")
        src = row.cell(i_source) if i_source is not None else ""
        loci.append(YLocus(locus_name, rate, copies, src))
    if not loci:
        raise lineage_error("the locus table lists no loci", name, header.line)
    return YLocusTable(loci)


def read_y_haplotypes(source: str | Path, loci: YLocusTable = YFILER_PLUS,
                      text: str | None = None,
                      ignore_unknown_loci: bool = False) -> dict[str, YHaplotype]:
    """Read Y-STR haplotypes from a table, keyed by sample, in file order.

    *Long* layout (a ``locus`` column): ``sample``, ``locus``, and ``alleles``
    (or ``allele``, or several ``allele1``, ``allele2``, ... columns), one row
    per sample and locus (or per copy: ``DYS385a`` and ``DYS385b`` rows).
    *Wide* layout: ``sample`` then one column per locus (or per copy).
    Alleles in one cell are separated by ``,`` ``/`` ``;`` or spaces (quote
    the cell in a comma-separated file). Tab, comma or semicolon delimited;
    ``#`` starts a comment line. Errors name the file, line, column and field.
    """
    name, rows = load_rows(source, text)
    header, body = rows[0], rows[1:]
    i_sample = column(header, "sample", "sampleid", "sample name", "id", "name")
    if i_sample is None:
        raise lineage_error("the first line must title a 'sample' column", name, header.line)
    i_locus = column(header, "locus", "marker")
    collected: dict[str, dict[str, list[str]]] = {}
    where: dict[tuple[str, str], dict[int | None, int]] = {}

    def add(sample: str, title: str, cell: str, row_line: int, col: int) -> None:
        resolved = loci.resolve(title)
        if resolved is None:
            if ignore_unknown_loci:
                return
            raise lineage_error(
                f"unknown Y-STR locus '{title}' (expected one of {', '.join(loci.names)}; "
                "give a locus table for other kits)", name, row_line, col, "locus")
        locus, copy = resolved
        slot = (sample, locus.name, copy)
        taken = where.setdefault(slot[:2], {})
        clash = [v for c, v in taken.items() if c == copy or copy is None or c is None]
        if clash:
            raise lineage_error(
                f"sample '{sample}' has {locus.name} twice (first on line {min(clash)})",
                name, row_line, col, locus.name)
        taken[copy] = row_line
        try:
            texts = [t for t in Y_VALUE_SEPARATORS.split(cell) if t]
            for t in texts:
                if t.lower() not in Y_NULL_VALUES | Y_UNTYPED_VALUES:
                    parse_allele(t)
        except LineageError as err:
            raise lineage_error(err.message, name, row_line, col, locus.name) from None
        collected.setdefault(sample, {}).setdefault(locus.name, []).append(cell)

    if i_locus is not None:
        allele_cols = [j for j, c in enumerate(header.cells)
                       if re.sub(r"[\s_\-.]+", "", c).lower().startswith("allele")]
        if not allele_cols:
            raise lineage_error("a long table needs an 'alleles' (or 'allele1', 'allele2', ...) "
                                "column", name, header.line)
        for row in body:
            sample = row.cell(i_sample)
            if not sample:
                raise lineage_error("empty sample name", name, row.line, i_sample + 1, "sample")
            locus_title = row.cell(i_locus)
            if not locus_title:
                raise lineage_error("empty locus name", name, row.line, i_locus + 1, "locus")
            cells = [row.cell(j) for j in allele_cols if row.cell(j)]
            add(sample, locus_title, " ".join(cells), row.line, allele_cols[0] + 1)
            collected.setdefault(sample, {})
    else:
        for row in body:
            sample = row.cell(i_sample)
            if not sample:
                raise lineage_error("empty sample name", name, row.line, i_sample + 1, "sample")
            if sample in collected:
                raise lineage_error(f"sample '{sample}' appears twice", name, row.line,
                                    i_sample + 1, "sample")
            collected[sample] = {}
            for j, title in enumerate(header.cells):
                if j == i_sample or not title:
                    continue
                add(sample, title, row.cell(j), row.line, j + 1)
    out: dict[str, YHaplotype] = {}
    for sample, per_locus in collected.items():
        alleles: dict[str, tuple[str, ...]] = {}
        for locus in loci:
            if locus.name in per_locus:
                try:
                    value = normalise_alleles(per_locus[locus.name], locus.copies)
                except LineageError as err:
                    line = min(where[(sample, locus.name)].values())
                    raise lineage_error(err.message, name, line, None, locus.name) from None
                if value is not None:
                    alleles[locus.name] = value
        out[sample] = YHaplotype(sample, alleles)
    if not out:
        raise lineage_error("the table holds no haplotypes", name, header.line)
    return out


def read_y_database(source: str | Path, loci: YLocusTable = YFILER_PLUS,
                    text: str | None = None) -> YDatabase:
    """A :class:`YDatabase` from a haplotype table (see :func:`read_y_haplotypes`)."""
    haplotypes = read_y_haplotypes(source, loci, text)
    return YDatabase(tuple(haplotypes.values()), loci, str(source))


def read_mt_profiles(source: str | Path, text: str | None = None,
                     default_range: str | SeqRange | None = None) -> dict[str, MtProfile]:
    """Read profiles from a table with columns ``sample``, ``range`` and ``variants``.

    ``range`` may be left out (or a cell left empty) when ``default_range`` is
    given. Tab, comma or semicolon delimited; ``#`` starts a comment line.
    Errors name the file, line, column and field.
    """
    name, rows = load_rows(source, text)
    header, body = rows[0], rows[1:]
    i_sample = column(header, "sample", "sampleid", "id", "name")
    i_range = column(header, "range", "sequenced range", "sequenced_range", "region")
    i_var = column(header, "variants", "profile", "haplotype", "differences", "mutations")
    if i_sample is None or i_var is None:
        raise lineage_error("an mtDNA table needs the columns 'sample' and 'variants' "
                            "(and 'range')", name, header.line)
    default = None
    if default_range is not None:
        default = default_range if isinstance(default_range, SeqRange) else \
            SeqRange.parse(default_range)
    out: dict[str, MtProfile] = {}
    lines: dict[str, int] = {}
    for row in body:
        sample = row.cell(i_sample)
        if not sample:
            raise lineage_error("empty sample name", name, row.line, i_sample + 1, "sample")
        if sample in out:
            raise lineage_error(f"sample '{sample}' appears twice (first on line {lines[sample]})",
                                name, row.line, i_sample + 1, "sample")
        range_text = row.cell(i_range) if i_range is not None else ""
        try:
            if range_text:
                seq_range = SeqRange.parse(range_text)
            elif default is not None:
                seq_range = default
            else:
                raise LineageError("no sequenced range given (and no default range)")
        except LineageError as err:
            col = (i_range + 1) if i_range is not None else None
            raise lineage_error(err.message, name, row.line, col, "range") from None
        try:
            variants = parse_variants(row.cell(i_var))
            profile = MtProfile(sample, variants, seq_range)
        except LineageError as err:
            raise lineage_error(err.message, name, row.line, i_var + 1, "variants") from None
        out[sample] = profile
        lines[sample] = row.line
    if not out:
        raise lineage_error("the table holds no profiles", name, header.line)
    return out


def read_mt_database(source: str | Path, text: str | None = None,
                     default_range: str | SeqRange | None = None) -> MtDatabase:
    """An :class:`MtDatabase` from a profile table (see :func:`read_mt_profiles`)."""
    return MtDatabase(tuple(read_mt_profiles(source, text, default_range).values()), str(source))


