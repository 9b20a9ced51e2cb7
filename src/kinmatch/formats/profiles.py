"""Profiles from a laboratory genotype table of either layout, told apart by its header:
a GenemapperID(-X) export (:mod:`kinmatch.formats.genemapper`) or a wide table
(:mod:`kinmatch.formats.genotype_tables`)."""

from __future__ import annotations

from pathlib import Path

from kinmatch.formats import tables
from kinmatch.formats.genemapper import parse_genemapper_rows
from kinmatch.formats.genotype_tables import (
    GenotypeTable,
    emit,
    is_long_genotype_header,
    parse_wide_rows,
)


def read_profiles(path: str | Path, *, sheet: str | None = None) -> GenotypeTable:
    """Read profiles from any genotype table kinmatch knows, recognised by its header.

    A header with a ``Marker`` column and ``Allele 1``, ``Allele 2``... columns
    is a GeneMapper export (one row per sample and marker, see
    :mod:`kinmatch.formats.genemapper`); any other is a wide table. Text files
    (tab, semicolon or comma) and ``.xlsx`` workbooks are both read.
    """
    data = tables.read_bytes(path)
    if tables.is_xlsx(path):
        rows = tables.xlsx_rows(data, str(path), sheet)
    else:
        default = "\t" if Path(path).suffix.lower() in (".tsv", ".tab", ".txt") else ","
        rows = tables.text_rows(data, str(path), None, default=default)
    if rows and is_long_genotype_header(rows[0]):
        table = parse_genemapper_rows(rows, str(path))
    else:
        table = parse_wide_rows(rows, str(path))
    emit(table.warnings)
    return table


