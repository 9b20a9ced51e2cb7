"""GeneMapper ID / ID-X genotype exports (tab-delimited text).

GeneMapper exports its Genotypes table as tab-delimited text with one row per
sample and marker::

    Sample Name<TAB>Panel<TAB>Marker<TAB>Dye<TAB>Allele 1<TAB>Allele 2<TAB>Size 1<TAB>...
    Ref-Mother<TAB>GlobalFiler_v2<TAB>D3S1358<TAB>B<TAB>15<TAB>16<TAB>126.3<TAB>...
    Ref-Mother<TAB>GlobalFiler_v2<TAB>AMEL<TAB>R<TAB>X<TAB><TAB>...

- **Columns read:** the sample (``Sample Name``; else ``Sample File``), the
  marker (``Marker``; also ``Locus``) and the allele calls ``Allele 1`` ..
  ``Allele n`` (also ``Allele1``). All other columns (``Panel``, ``Dye``,
  ``Size n``, ``Height n``, ``Peak Area n``, ``Data Point n``, ``AE``, quality
  flags...) are ignored. Titles match in any case, with or without spaces. The
  delimiter is tab, or the comma or semicolon of the header line.
- **Rows of the allelic ladder** (``Sample Type`` = ``Allelic Ladder``) are
  skipped; every other row is a sample (controls included).
- **Homozygote:** GeneMapper writes one allele (``Allele 1`` = 16, ``Allele 2``
  empty): the genotype is 16/16.
- **AMEL** rows give the sex: X,X or X -> female, X,Y -> male, Y alone -> male
  with a warning. They are not part of the profile.
- **More than two alleles** at a marker (a mixture, a tri-allelic pattern, or
  a ladder left in the export) is an error naming the line.
- **OL** is GeneMapper's label for a peak outside every bin of the allelic
  ladder: an allele that exists but could not be designated. Neither dropping
  it (which would make a heterozygote look homozygous) nor guessing a
  designation is safe, so the marker is left *untyped* for that sample and a
  warning names the sample, the marker and the line; the rest of the profile
  is kept. This is what a reporting scientist does by hand before an OL
  allele is sized and designated (for example as a microvariant): the
  marker is not used.
- **-NB**: kinmatch found no documentation of ``-NB`` as a GeneMapper
  allele label (the documented labels are the designations of the bin set,
  ``OL``, and ``X``/``Y`` at Amelogenin), so it cannot confirm what the suffix
  means in a given laboratory's export. An allele call ending in ``-NB``
  (``17-NB``) is therefore not trusted as a designation: it is treated like
  OL (the marker is untyped for that sample, and a warning quotes the call).
  A *sample name* ending in ``-NB`` is kept exactly as written — sample names
  are identities and are never rewritten — so ``Ref1`` and ``Ref1-NB`` are
  two samples.
- **The same sample and marker twice** (a re-injection): the same genotype is
  accepted once; different results are an error naming both lines.
- At a known STR an allele must be a repeat number (``16``, ``9.3``); marker
  names are made canonical by :mod:`kinmatch.formats.marker_names`.

The result is a :class:`~kinmatch.formats.genotype_tables.GenotypeTable`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from kinmatch.errors import KinmatchError
from kinmatch.formats import tables
from kinmatch.formats.genotype_tables import (
    CalledProfiles,
    GenotypeCall,
    GenotypeTable,
    Site,
    emit,
    genotype_from_calls,
    sex_from_amelogenin,
)
from kinmatch.formats.marker_names import AMELOGENIN, canonical_marker_name
from kinmatch.formats.tables import Row
from kinmatch.pedigree import Sex

_ALLELE_TITLE = re.compile(r"^allele\s*(\d+)$", re.IGNORECASE)
_LADDER_TYPES = {"allelicladder", "ladder"}


def allele_numbers(header: Row) -> dict[int, int]:
    """``{n: 0-based index}`` of the ``Allele n`` columns (the first of a repeated title)."""
    found: dict[int, int] = {}
    for j, title in enumerate(header.cells):
        m = _ALLELE_TITLE.match(title.strip())
        if m:
            found.setdefault(int(m.group(1)), j)
    return found


def allele_columns(header: Row) -> list[int]:
    """0-based indices of the ``Allele n`` columns, in the order of n."""
    found = []
    for j, title in enumerate(header.cells):
        m = _ALLELE_TITLE.match(title.strip())
        if m:
            found.append((int(m.group(1)), j))
    return [j for _, j in sorted(found)]


def parse_genemapper_rows(rows: Sequence[Row], file: str) -> GenotypeTable:
    """Profiles from the rows of a GeneMapper export (header first)."""
    if not rows:
        raise tables.error(
            "the file is empty; expected a GeneMapper export with the columns "
            "'Sample Name', 'Marker' and 'Allele 1', 'Allele 2', ...",
            file,
            1,
        )
    header = rows[0]
    sample_index = tables.find_column(header, ("Sample Name", "Sample"))
    if sample_index is None:
        sample_index = tables.find_column(header, ("Sample File", "Sample File Name"))
    marker_index = tables.find_column(header, ("Marker", "Locus"))
    numbered = allele_numbers(header)
    alleles = allele_columns(header)
    type_index = tables.find_column(header, ("Sample Type",))
    missing = [
        name
        for name, idx in (("'Sample Name'", sample_index), ("'Marker'", marker_index))
        if idx is None
    ]
    # Allele 1 .. Allele n, at least two: without Allele 2 every genotype
    # would read as a homozygote.
    missing += [f"'Allele {n}'" for n in range(1, max(max(numbered, default=0), 2) + 1)
                if n not in numbered]
    if missing or sample_index is None or marker_index is None:
        raise tables.error(
            f"not a complete GeneMapper genotype export: the header lacks the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            file,
            header.line,
        )
    sample_title = header.cells[sample_index]
    marker_title = header.cells[marker_index]
    allele_title = header.cells[alleles[0]]
    width = len(header.cells)

    notes: list[str] = []
    profiles: CalledProfiles = {}
    sexes: dict[str, Sex] = {}
    markers: dict[str, None] = {}
    results: dict[tuple[str, str], tuple[int, GenotypeCall | Sex | None]] = {}
    for row in rows[1:]:
        tables.check_no_cells_beyond(row, width, file)
        if type_index is not None and tables.header_key(row.cell(type_index)) in _LADDER_TYPES:
            continue
        sample = row.cell(sample_index)
        if not sample:
            raise tables.error(
                "the sample name is empty", file, row.line, sample_index + 1, sample_title
            )
        raw_marker = row.cell(marker_index)
        marker_site = Site(file, row.line, marker_index + 1, marker_title)
        if not raw_marker:
            raise marker_site.error("the marker name is empty")
        try:
            marker = canonical_marker_name(raw_marker)
        except KinmatchError as err:
            raise marker_site.error(err.message) from None
        calls = [row.cell(j) for j in alleles]
        site = Site(file, row.line, alleles[0] + 1, allele_title)
        result: GenotypeCall | Sex | None
        if marker == AMELOGENIN:
            result = sex_from_amelogenin(calls, sample, site, notes)
        else:
            result = genotype_from_calls(calls, marker, sample, site, notes)
        earlier = results.get((sample, marker))
        if earlier is not None:
            if earlier[1] != result:
                raise site.error(
                    f"sample '{sample}' has two different results at marker {marker}: "
                    f"{_describe(earlier[1])} on line {earlier[0]} and {_describe(result)} here"
                )
            continue
        results[(sample, marker)] = (row.line, result)
        profile = profiles.setdefault(sample, {})
        sexes.setdefault(sample, Sex.UNKNOWN)
        if isinstance(result, Sex):
            sexes[sample] = result
            continue
        markers.setdefault(marker)
        if result is not None:
            profile[marker] = result
    if not profiles:
        raise tables.error("no samples: the export has no genotype rows after its header"
                           + (" (only allelic ladders)" if len(rows) > 1 else ""),
                           file, header.line)
    return GenotypeTable(profiles, sexes, tuple(markers), file, tuple(notes))


def _describe(result: GenotypeCall | Sex | None) -> str:
    if result is None:
        return "untyped"
    if isinstance(result, Sex):
        return result.name.lower()
    return "/".join(result)


def parse_genemapper(data: bytes | str, filename: str = "<genemapper>") -> GenotypeTable:
    """Read a GeneMapper ID/ID-X genotype export from its text or bytes."""
    rows = tables.text_rows(data, filename, None, default="\t")
    table = parse_genemapper_rows(rows, filename)
    emit(table.warnings)
    return table


def read_genemapper(path: str | Path) -> GenotypeTable:
    """Read a GeneMapper ID/ID-X genotype export (``.txt``, tab-delimited)."""
    return parse_genemapper(tables.read_bytes(path), str(path))
