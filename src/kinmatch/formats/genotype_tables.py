"""Wide genotype tables (CSV, TSV, Excel ``.xlsx``) and the profiles every table reader returns.

A *wide* genotype table has one row per sample and one column per marker::

    Sample,AMEL,D3S1358,vWA,TH01,FGA
    Ref-Mother,X/X,15/16,17/18,9.3/9.3,22/24
    Ref-Brother,X/Y,15/17,16/17,6/9.3,21/22
    Remains-07,XY,16,17/18,OL,21/24

- **Header.** The first non-blank row names the columns. The sample column is
  the one titled ``Sample``, ``Sample Name``, ``Sample ID``, ``ID``, ``Name``,
  ``Individual`` or ``Person`` (any case, spaces/underscores ignored), else the
  first column. A ``Sex``/``Gender`` column (``M``/``F``/``1``/``2``/``male``...)
  gives the sex, as does Amelogenin. Columns titled ``Comment(s)``,
  ``Note(s)``, ``Remark(s)``, ``Kit``, ``Panel``, ``Run``, ``Date``,
  ``Sample Type``, ``Family``, ``Relationship`` or ``Role`` are ignored. Every
  other column is a marker, named in any spelling of
  :mod:`kinmatch.formats.marker_names` (``VWA``, ``Penta_E``, ``Amelogenin``...).
- **One column per marker:** the cell holds the genotype ``16/17``, ``16,17``,
  ``16;17`` or ``16 17``; one allele (``16``) is a homozygote. ``9,3`` is
  refused as ambiguous (the microvariant 9.3 written with a decimal comma, or
  9 and 3?): write ``9.3`` or ``9/3``.
- **Two columns per marker:** ``D3S1358`` followed by ``D3S1358.1``, or by a
  second column with the same title or no title; ``D3S1358_1``/``D3S1358_2``;
  ``D3S1358 a``/``D3S1358 b`` (separator space, ``_``, ``-`` or ``.``). One
  allele per cell; one filled cell and one empty cell is a homozygote.
- **Untyped:** an empty cell, ``-``, ``NA``, ``N/A``, ``ND`` or ``NR``.
- **Amelogenin** (``AMEL``, ``Amelogenin``, ``AM``): ``X/X``, ``XX`` or ``X``
  -> female; ``X/Y`` or ``XY`` -> male; ``Y`` alone -> male, with a warning
  (AMELX drop-out or deletion). Amelogenin gives the sex only; it is not in
  the profiles.
- **OL** (off-ladder: the software could not designate the allele) and calls
  with the suffix ``-NB``: the marker is left untyped for that sample, with a
  warning naming the sample, the marker and the line; the rest of the profile
  is kept. See :mod:`kinmatch.formats.genemapper` for why.
- More than two alleles at a marker (a mixture, a tri-allelic pattern) is an
  error naming the line. At a known STR an allele must be a repeat number
  (``16``, ``9.3``).

Excel workbooks are read from their first worksheet (or the one named by
``sheet=``); the row number is the "line" in messages. A date cell is refused:
Excel turns ``9/10`` into a date.

Every reader returns a :class:`GenotypeTable`: ``profiles`` as
``{sample: {canonical marker: (allele, allele)}}`` with canonical allele names
(:func:`kinmatch.alleles.canonical_allele`) in increasing order, ``sexes`` as
``{sample: Sex}``, the markers in file order and the warnings. Imports are
all-or-nothing: the whole file is checked before anything is returned, and
warnings are issued only for a file that was read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kinmatch.alleles import allele_number, canonical_allele
from kinmatch.errors import KinmatchError, Location, PedigreeError, warn
from kinmatch.formats import tables
from kinmatch.formats.marker_names import (
    AMELOGENIN,
    canonical_marker_name,
    is_str_marker,
    marker_info,
)
from kinmatch.formats.tables import Row
from kinmatch.pedigree import Sex

GenotypeCall = tuple[str, str]
CalledProfiles = dict[str, dict[str, GenotypeCall]]

#: Cell values that mean "not typed at this marker" (compared in lower case).
UNTYPED_VALUES = frozenset({"", "-", "--", "na", "n/a", "nd", "nr", "null", "none"})

#: GeneMapper's label for a peak it could not designate (off-ladder).
OFF_LADDER = "OL"

#: The allele-call suffix that is treated like OL (see :mod:`kinmatch.formats.genemapper`).
NB_SUFFIX = "-NB"

_SAMPLE_TITLES = (
    "sample name",
    "sample",
    "samplename",
    "sample id",
    "sampleid",
    "id",
    "name",
    "individual",
    "person",
    "specimen",
)
_SEX_TITLES = {"sex", "gender"}
_IGNORED_TITLES = {
    "comment",
    "comments",
    "note",
    "notes",
    "remark",
    "remarks",
    "kit",
    "panel",
    "run",
    "date",
    "sampletype",
    "family",
    "relationship",
    "role",
}
_STR_ALLELE = re.compile(r"^\d+(\.\d+)?$")
_AMBIGUOUS_COMMA = re.compile(r"^\d+,[1-4]$")
_CELL_SPLIT = re.compile(r"\s*[/,;]\s*|\s+")
_ALLELE_N = re.compile(r"^allele\s*\d+$", re.IGNORECASE)
_PAIR_SUFFIX = re.compile(r"^(.*?\S)[\s_\-.]+([12abAB])$")


@dataclass(frozen=True)
class GenotypeTable:
    """Profiles read from a laboratory table.

    ``profiles[sample][marker]`` is a pair of canonical allele names in
    increasing order (a homozygote repeats its allele); an untyped marker is
    absent. ``sexes`` has every sample (``Sex.UNKNOWN`` when neither
    Amelogenin nor a sex column says). ``markers`` lists the canonical marker
    names in file order, without Amelogenin.
    """

    profiles: CalledProfiles
    sexes: dict[str, Sex]
    markers: tuple[str, ...]
    source: str = ""
    warnings: tuple[str, ...] = field(default=())

    @property
    def samples(self) -> list[str]:
        return list(self.profiles)


@dataclass(frozen=True)
class Site:
    """Where a cell sits, for messages."""

    file: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def error(self, message: str) -> KinmatchError:
        return tables.error(message, self.file, self.line, self.column, self.field)

    def __str__(self) -> str:
        return str(Location(self.file, self.line, self.column, self.field))


# -- allele calls ----------------------------------------------------------------


def is_untyped(value: str) -> bool:
    """Whether a cell means "not typed" (empty, ``-``, ``NA``, ``ND``, ``NR``...)."""
    return value.strip().lower() in UNTYPED_VALUES


def is_off_ladder(value: str) -> bool:
    """Whether an allele call is ``OL`` (off-ladder, any case)."""
    return value.strip().upper() == OFF_LADDER


def has_nb_suffix(value: str) -> bool:
    """Whether an allele call ends in ``-NB`` (any case)."""
    return value.strip().upper().endswith(NB_SUFFIX)


def sort_genotype(a: str, b: str) -> GenotypeCall:
    """Two allele names in increasing order: numbers by value, before other names."""

    def key(label: str) -> tuple[int, float, str]:
        value = allele_number(label)
        return (0, value, "") if value is not None else (1, 0.0, label)

    return (a, b) if key(a) <= key(b) else (b, a)


def is_repeat_number(value: str) -> bool:
    """Whether an allele name is a repeat number (``16``, ``9.3``), as every
    allele of a known STR must be."""
    return _STR_ALLELE.match(value.strip()) is not None


def allele_name(value: str, marker: str, site: Site) -> str:
    """A canonical allele name; at a known STR it must be a repeat number (16, 9.3)."""
    text = value.strip()
    if is_str_marker(marker) and not is_repeat_number(text):
        raise site.error(
            f"expected an allele designation such as 16 or 9.3 (or OL) at STR "
            f"marker {marker}, found {tables.shown(text)}"
        )
    try:
        return canonical_allele(text)
    except KinmatchError as err:
        raise site.error(err.message) from None


def genotype_from_calls(
    calls: Sequence[str], marker: str, sample: str, site: Site, notes: list[str]
) -> GenotypeCall | None:
    """The genotype of one sample at one marker from its allele calls.

    Untyped cells are dropped; none left means untyped (``None``); one allele
    is a homozygote; more than two is an error. An ``OL`` or ``-NB`` call
    leaves the marker untyped and adds a note to ``notes``.
    """
    values = [c.strip() for c in calls if not is_untyped(c)]
    if not values:
        return None
    if len(values) > 2:
        raise site.error(
            f"{len(values)} alleles ({', '.join(values)}) for sample '{sample}' at marker "
            f"{marker}: a mixture or a tri-allelic pattern; kinmatch reads single-source "
            "profiles with at most two alleles per marker"
        )
    for value in values:
        if is_off_ladder(value):
            notes.append(
                f"{site}: sample '{sample}', marker {marker}: off-ladder allele (OL), which "
                "could not be designated; the marker is left untyped for this sample"
            )
            return None
        if has_nb_suffix(value):
            notes.append(
                f"{site}: sample '{sample}', marker {marker}: allele call '{value}' carries the "
                f"suffix '{NB_SUFFIX}', which is not a confirmed designation; the marker is left "
                "untyped for this sample"
            )
            return None
    labels = [allele_name(v, marker, site) for v in values]
    if len(labels) == 1:
        labels.append(labels[0])
    return sort_genotype(labels[0], labels[1])


def sex_from_amelogenin(calls: Sequence[str], sample: str, site: Site, notes: list[str]) -> Sex:
    """The sex given by Amelogenin calls: X,X or X -> female; X,Y -> male."""
    values: list[str] = []
    for call in calls:
        if is_untyped(call):
            continue
        text = call.strip().upper()
        if text in ("XX", "XY", "YY"):
            values.extend(text)
        else:
            values.append(text)
    if not values:
        return Sex.UNKNOWN
    if len(values) > 2:
        raise site.error(
            f"{len(values)} Amelogenin alleles ({', '.join(values)}) for sample "
            f"'{sample}': a mixture; expected X,X (female) or X,Y (male)"
        )
    if any(is_off_ladder(v) or has_nb_suffix(v) for v in values):
        notes.append(
            f"{site}: sample '{sample}': Amelogenin call '{'/'.join(values)}' could not be "
            "designated; the sex is left unknown"
        )
        return Sex.UNKNOWN
    bad = [v for v in values if v not in ("X", "Y")]
    if bad:
        raise site.error(
            f"expected Amelogenin alleles X and Y for sample '{sample}', found "
            f"{tables.shown(bad[0])}"
        )
    if "X" in values and "Y" in values:
        return Sex.MALE
    if "Y" in values:
        notes.append(
            f"{site}: sample '{sample}': Amelogenin shows Y only; taken as male "
            "(AMELX drop-out or deletion)"
        )
        return Sex.MALE
    return Sex.FEMALE


def parse_sex_cell(value: str, site: Site) -> Sex:
    """A sex cell: 1/2/0, M/F/U, male/female/unknown; empty or NA is unknown."""
    if is_untyped(value) or value.strip() == "?":
        return Sex.UNKNOWN
    try:
        return Sex.parse(value)
    except PedigreeError as err:
        raise site.error(err.message) from None


def merge_sex(current: Sex, new: Sex, sample: str, site: Site) -> Sex:
    """Combine two statements of a sample's sex; contradicting ones are an error."""
    if current == Sex.UNKNOWN:
        return new
    if new in (Sex.UNKNOWN, current):
        return current
    raise site.error(
        f"sample '{sample}' is {current.name.lower()} by one column and "
        f"{new.name.lower()} by another"
    )


def emit(notes: Sequence[str]) -> None:
    """Issue the collected notes as :class:`~kinmatch.errors.KinmatchWarning`s."""
    for note in notes:
        warn(note)


# -- wide tables -------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """Columns of the header that belong together."""

    kind: str  # "marker", "sex", "ignore", "blank"
    title: str
    marker: str
    indices: tuple[int, ...]


def split_genotype_cell(value: str, site: Site) -> list[str]:
    """The allele calls in one cell: ``16/17``, ``16,17``, ``16;17``, ``16 17``, ``16``."""
    text = value.strip()
    if is_untyped(text):
        return []
    if _AMBIGUOUS_COMMA.match(text):
        raise site.error(
            f"'{text}' is ambiguous: write {text.replace(',', '.')} for the "
            f"microvariant or {text.replace(',', '/')} for two alleles"
        )
    parts = _CELL_SPLIT.split(text)
    if any(not p for p in parts):
        raise site.error(f"expected a genotype such as 16/17 or 16, found {tables.shown(text)}")
    return parts


def _pair_parts(title: str) -> tuple[str, str | None]:
    """A column title split into a marker and a two-column suffix (1, 2, a, b), if any."""
    if marker_info(title) is not None:
        return title, None
    m = _PAIR_SUFFIX.match(title)
    if m is None:
        return title, None
    return m.group(1), m.group(2).lower()


def _follows(first: str | None, second: str | None) -> bool:
    if first is None:
        return second in (None, "1", "2")
    return (first, second) in (("1", "2"), ("a", "b"))


def _column_groups(header: Row, sample_index: int, file: str) -> list[_Group]:
    groups: list[_Group] = []
    seen: dict[str, int] = {}
    last_suffix: str | None = None
    for j, title in enumerate(header.cells):
        if j == sample_index:
            last_suffix = None
            continue
        site = Site(file, header.line, j + 1, title or None)
        key = tables.header_key(title)
        prev = groups[-1] if groups else None
        adjacent = prev is not None and prev.indices[-1] == j - 1 and len(prev.indices) == 1
        if not title:
            if adjacent and prev is not None and prev.kind == "marker" and last_suffix is None:
                groups[-1] = _Group("marker", prev.title, prev.marker, (prev.indices[0], j))
            else:
                groups.append(_Group("blank", "", "", (j,)))
            continue
        if key in _SEX_TITLES or key in _IGNORED_TITLES:
            groups.append(_Group("sex" if key in _SEX_TITLES else "ignore", title, "", (j,)))
            last_suffix = None
            continue
        base, suffix = _pair_parts(title)
        try:
            marker = canonical_marker_name(base)
        except KinmatchError as err:
            raise site.error(err.message) from None
        if (
            adjacent
            and prev is not None
            and prev.kind == "marker"
            and prev.marker == marker
            and _follows(last_suffix, suffix)
            and (suffix is not None or title == prev.title)
        ):
            groups[-1] = _Group("marker", prev.title, marker, (prev.indices[0], j))
            last_suffix = None
            continue
        if suffix is not None and suffix in ("2", "b"):
            raise site.error(
                f"column '{title}' looks like the second allele column of {marker} "
                "but does not follow its first column"
            )
        if marker in seen:
            raise site.error(
                f"marker {marker} has a second column '{title}' (the first is "
                f"column {seen[marker] + 1}); give each marker one column, or two "
                "side by side"
            )
        seen[marker] = j
        groups.append(_Group("marker", title, marker, (j,)))
        last_suffix = suffix
    for group in groups:
        if group.kind == "marker" and len(group.indices) == 1:
            _, suffix = _pair_parts(group.title)
            if suffix in ("1", "a") and marker_info(group.title) is None:
                raise tables.error(
                    f"column '{group.title}' looks like the first of two allele columns of "
                    f"{group.marker}, but no second column follows",
                    file,
                    header.line,
                    group.indices[0] + 1,
                    group.title,
                )
    return groups


def parse_wide_rows(rows: Sequence[Row], file: str) -> GenotypeTable:
    """Profiles from the rows of a wide table (header first); see the module docstring."""
    if not rows:
        raise tables.error(
            "the table is empty; expected a header row with a sample column "
            "and one column per marker",
            file,
            1,
        )
    header, data = rows[0], rows[1:]
    if is_long_genotype_header(header):
        raise tables.error(
            "this is a long table with one row per sample and marker (a "
            "GeneMapper export), not a wide table: read it with read_genemapper "
            "or read_profiles",
            file,
            header.line,
        )
    sample_index = tables.find_column(header, _SAMPLE_TITLES)
    if sample_index is None:
        sample_index = 0
    groups = _column_groups(header, sample_index, file)
    if not any(g.kind == "marker" for g in groups):
        raise tables.error("the header names no marker column", file, header.line)
    notes: list[str] = []
    profiles: CalledProfiles = {}
    sexes: dict[str, Sex] = {}
    first_line: dict[str, int] = {}
    width = len(header.cells)
    sample_title = header.cell(sample_index) or "sample"
    for row in data:
        tables.check_no_cells_beyond(row, width, file)
        sample = row.cell(sample_index)
        if not sample:
            raise tables.error(
                "the sample name is empty", file, row.line, sample_index + 1, sample_title
            )
        if sample in first_line:
            raise tables.error(
                f"sample '{sample}' appears twice (first on line {first_line[sample]})",
                file,
                row.line,
                sample_index + 1,
                sample_title,
            )
        first_line[sample] = row.line
        profile: dict[str, GenotypeCall] = {}
        sex = Sex.UNKNOWN
        for group in groups:
            site = Site(file, row.line, group.indices[0] + 1, group.title or None)
            if group.kind == "ignore":
                continue
            if group.kind == "blank":
                value = row.cell(group.indices[0])
                if value:
                    raise site.error(
                        f"a value ({tables.shown(value)}) in a column without a title"
                    )
                continue
            if group.kind == "sex":
                sex = merge_sex(sex, parse_sex_cell(row.cell(group.indices[0]), site), sample, site)
                continue
            calls = _group_calls(row, group, file)
            if group.marker == AMELOGENIN:
                sex = merge_sex(sex, sex_from_amelogenin(calls, sample, site, notes), sample, site)
                continue
            genotype = genotype_from_calls(calls, group.marker, sample, site, notes)
            if genotype is not None:
                profile[group.marker] = genotype
        profiles[sample] = profile
        sexes[sample] = sex
    if not profiles:
        raise tables.error("no samples: the table has no rows after its header", file,
                           header.line)
    markers = tuple(g.marker for g in groups if g.kind == "marker" and g.marker != AMELOGENIN)
    return GenotypeTable(profiles, sexes, markers, file, tuple(notes))


def _group_calls(row: Row, group: _Group, file: str) -> list[str]:
    if len(group.indices) == 1:
        j = group.indices[0]
        return split_genotype_cell(row.cell(j), Site(file, row.line, j + 1, group.title))
    calls: list[str] = []
    for j in group.indices:
        site = Site(file, row.line, j + 1, group.title)
        parts = split_genotype_cell(row.cell(j), site)
        if len(parts) > 1:
            raise site.error(
                f"expected one allele per cell ({group.marker} has two columns), "
                f"found {tables.shown(row.cell(j))}"
            )
        calls.extend(parts)
    return calls


def is_long_genotype_header(header: Row) -> bool:
    """Whether a header row is GeneMapper's: ``Allele n`` columns (with a
    ``Marker`` column; a header lacking it is GeneMapper's too, so that
    reading it names the missing column; no wide table names a marker
    "Allele")."""
    return any(_ALLELE_N.match(c.strip()) for c in header.cells)


def parse_wide_genotypes(
    data: bytes | str, filename: str = "<genotypes>", delimiter: str | None = None
) -> GenotypeTable:
    """Read a wide genotype table from CSV/TSV text or bytes (delimiter sniffed if ``None``)."""
    rows = tables.text_rows(data, filename, delimiter, default=",")
    table = parse_wide_rows(rows, filename)
    emit(table.warnings)
    return table


def parse_wide_genotypes_xlsx(
    data: bytes, filename: str = "<genotypes.xlsx>", sheet: str | None = None
) -> GenotypeTable:
    """Read a wide genotype table from the bytes of an Excel ``.xlsx`` workbook."""
    rows = tables.xlsx_rows(data, filename, sheet)
    table = parse_wide_rows(rows, filename)
    emit(table.warnings)
    return table


def read_genotype_table(
    path: str | Path, *, sheet: str | None = None, delimiter: str | None = None
) -> GenotypeTable:
    """Read a wide genotype table: ``.xlsx``/``.xlsm`` as Excel, anything else as CSV/TSV.

    For text files the delimiter (tab, semicolon or comma) is taken from the
    header line unless given.
    """
    data = tables.read_bytes(path)
    if tables.is_xlsx(path):
        return parse_wide_genotypes_xlsx(data, str(path), sheet)
    default = "\t" if Path(path).suffix.lower() in (".tsv", ".tab", ".txt") else ","
    rows = tables.text_rows(data, str(path), delimiter, default=default)
    table = parse_wide_rows(rows, str(path))
    emit(table.warnings)
    return table




# -- writing -------------------------------------------------------------------------


_AMEL_TEXT = {Sex.MALE: "X/Y", Sex.FEMALE: "X/X", Sex.UNKNOWN: ""}


def format_genotype_csv(
    table: GenotypeTable | Mapping[str, Mapping[str, Sequence[str]]],
    *,
    sexes: Mapping[str, Sex] | None = None,
    markers: Sequence[str] | None = None,
    delimiter: str = ",",
) -> str:
    """A wide genotype table as text: ``Sample``, ``AMEL`` (when a sex is known), markers.

    Genotypes are written ``a/b`` (a homozygote ``a/a``); untyped cells are
    empty. ``table`` is a :class:`GenotypeTable` or a ``{sample: {marker:
    (a, b)}}`` mapping; ``sexes`` and ``markers`` override the table's.
    """
    if isinstance(table, GenotypeTable):
        profiles: Mapping[str, Mapping[str, Sequence[str]]] = table.profiles
        sexes = table.sexes if sexes is None else sexes
        markers = table.markers if markers is None else markers
    else:
        profiles = table
    if markers is None:
        order: dict[str, None] = {}
        for prof in profiles.values():
            order.update(dict.fromkeys(prof))
        markers = list(order)
    sexes = sexes or {}
    with_sex = any(s != Sex.UNKNOWN for s in sexes.values())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["Sample", *([AMELOGENIN] if with_sex else []), *markers])
    for sample, prof in profiles.items():
        row = [sample]
        if with_sex:
            row.append(_AMEL_TEXT[Sex(sexes.get(sample, Sex.UNKNOWN))])
        for marker in markers:
            genotype = prof.get(marker)
            row.append("" if not genotype else "/".join(str(a) for a in genotype))
        writer.writerow(row)
    return out.getvalue()


def write_genotype_csv(
    table: GenotypeTable | Mapping[str, Mapping[str, Sequence[str]]],
    path: str | Path,
    *,
    sexes: Mapping[str, Sex] | None = None,
    markers: Sequence[str] | None = None,
    delimiter: str = ",",
) -> None:
    """Write a wide genotype CSV (UTF-8) that :func:`read_genotype_table` reads back."""
    text = format_genotype_csv(table, sexes=sexes, markers=markers, delimiter=delimiter)
    Path(path).write_text(text, encoding="utf-8", newline="")
