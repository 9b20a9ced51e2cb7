"""Pedigree tables: PED-style tables and LINKAGE/PLINK ``.fam`` files.

**PED-style table** — one row per person, columns separated by tabs,
semicolons, commas or (without any of those) runs of spaces::

    id        father       mother       sex
    GF        0            0            1
    GM        0            0            2
    Father    GF           GM           1
    Mother    0            0            2
    Son       Father       Mother       1

- **With a header** (recognised by its titles, any case): the person
  (``id``, ``iid``, ``individual``, ``person``, ``name``), the father
  (``father``, ``fid``, ``pat``, ``dad``), the mother (``mother``, ``mid``,
  ``mat``, ``mom``/``mum``), the sex (``sex``, ``gender``) and optionally the
  family (``famid``, ``family``, ``ped``, ``pedigree``). ``fid``/``mid`` are
  pedtools' father and mother ids — except in PLINK-style headers, which have
  ``iid``: there ``fid`` is the family id and ``pat``/``mat`` the parents.
  Other columns (phenotype, affection, genotypes) are ignored.
- **Without a header**, by the number of columns: 4 = id, father, mother,
  sex; 5 = family, id, father, mother, sex; 6 = family, id, father, mother,
  sex, phenotype (LINKAGE).
- **Missing parent:** ``0``, empty, ``NA``, ``.``, ``-`` (also ``nan``,
  ``none``, ``null``). Give both parents or neither.
- **Sex:** ``1``/``M``/``male``, ``2``/``F``/``female``, ``0``/``U``/``unknown``
  (also empty, ``NA``, ``-9``, ``?``): any case.
- Lines starting with ``#`` are comments.

**LINKAGE/PLINK .fam** — six whitespace-separated columns and no header:
family id, individual id, father, mother, sex (1, 2, 0 or -9), phenotype
(ignored)::

    FAM1 Father 0 0 1 -9
    FAM1 Mother 0 0 2 -9
    FAM1 Son Father Mother 1 2

(A Familias ``.fam`` file is a different format with the same extension:
see :mod:`kinmatch.formats.familias`.)

Every person is checked with the line it is on: duplicate ids, one parent
only, a parent missing from the family, a father who is not male or a
mother who is not female, someone who is their own ancestor. Each error is a
:class:`~kinmatch.errors.CaseFormatError` naming the file, line, column and
field. A file with several families gives one
:class:`~kinmatch.pedigree.Pedigree` per family id (:func:`read_ped_families`,
:func:`read_plink_fam`); a file without a family column is one family named
after the file (its name without extension).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kinmatch.errors import KinmatchError, PedigreeError
from kinmatch.formats import tables
from kinmatch.formats.tables import Row
from kinmatch.pedigree import Individual, Pedigree, Sex, parent_id

_FIELDS = ("family", "id", "father", "mother", "sex")
_ID_TITLES = (
    "id",
    "iid",
    "individual",
    "individualid",
    "indid",
    "indiv",
    "person",
    "personid",
    "name",
    "sample",
)
_FAMILY_TITLES = ("famid", "family", "familyid", "fam", "ped", "pedigree", "pedid")
_FATHER_TITLES = ("father", "fatherid", "pat", "dad", "paternalid")
_MOTHER_TITLES = ("mother", "motherid", "mat", "mom", "mum", "maternalid")
_SEX_TITLES = ("sex", "gender")
_UNKNOWN_SEX = {"", "na", "-9", ".", "-", "?"}
_POSITIONAL = {
    4: {"id": 0, "father": 1, "mother": 2, "sex": 3},
    5: {"family": 0, "id": 1, "father": 2, "mother": 3, "sex": 4},
    6: {"family": 0, "id": 1, "father": 2, "mother": 3, "sex": 4},
}
_POSITIONAL_TITLES = {
    4: ("id", "father", "mother", "sex"),
    5: ("family", "id", "father", "mother", "sex"),
    6: ("family", "id", "father", "mother", "sex", "phenotype"),
}


@dataclass(frozen=True)
class _Layout:
    columns: dict[str, int]
    titles: tuple[str, ...]
    width: int
    has_header: bool

    def where(self, key: str) -> tuple[int, str]:
        """The 1-based column and the title of a field, for messages."""
        j = self.columns[key]
        return j + 1, self.titles[j] if j < len(self.titles) else key


@dataclass(frozen=True)
class _Person:
    family: str
    individual: Individual
    line: int


def _header_layout(row: Row) -> _Layout | None:
    keys = [tables.header_key(c) for c in row.cells]

    def find(names: Sequence[str]) -> int | None:
        return next((keys.index(n) for n in names if n in keys), None)

    plink = "iid" in keys
    columns: dict[str, int | None] = {
        "id": find(_ID_TITLES),
        "family": find(("fid", *_FAMILY_TITLES) if plink else _FAMILY_TITLES),
        "father": find(_FATHER_TITLES if plink else ("fid", *_FATHER_TITLES)),
        "mother": find(_MOTHER_TITLES if plink else ("mid", *_MOTHER_TITLES)),
        "sex": find(_SEX_TITLES),
    }
    found = [k for k in ("father", "mother", "sex") if columns[k] is not None]
    if columns["id"] is None or not found:
        return None
    return _Layout(
        {k: v for k, v in columns.items() if v is not None}, row.cells, len(row.cells), True
    )


def _layout(rows: Sequence[Row], file: str) -> _Layout:
    first = rows[0]
    layout = _header_layout(first)
    if layout is not None:
        missing = [k for k in ("id", "father", "mother", "sex") if k not in layout.columns]
        if missing:
            raise tables.error(
                f"the header lacks a column for {', '.join(missing)} (expected "
                "id, father, mother and sex)",
                file,
                first.line,
            )
        return layout
    n = len(first.cells)
    if n not in _POSITIONAL:
        raise tables.error(
            f"expected 4 columns (id, father, mother, sex), 5 (family first) or "
            f"6 (LINKAGE, phenotype last), or a header row; found {n}",
            file,
            first.line,
        )
    return _Layout(dict(_POSITIONAL[n]), _POSITIONAL_TITLES[n], n, False)


def _sex(value: str, file: str, line: int, column: int, title: str) -> Sex:
    if value.strip().lower() in _UNKNOWN_SEX:
        return Sex.UNKNOWN
    try:
        return Sex.parse(value)
    except PedigreeError as err:
        raise tables.error(err.message, file, line, column, title) from None


def _people(rows: Sequence[Row], layout: _Layout, file: str, default_family: str) -> list[_Person]:
    people = []
    cols = layout.columns
    needed = max(cols.values()) + 1
    for row in rows:
        n = len(row.cells)
        if n < needed or (not layout.has_header and n != layout.width):
            raise tables.error(f"expected {layout.width} columns, found {n}", file, row.line)
        tables.check_no_cells_beyond(row, layout.width, file)
        family = row.cell(cols["family"]) if "family" in cols else default_family
        if "family" in cols and not family:
            raise tables.error("the family id is empty", file, row.line, *layout.where("family"))
        pid = row.cell(cols["id"])
        if parent_id(pid) is None:
            what = "empty" if not pid else f"'{pid}', which means 'no parent'"
            raise tables.error(
                f"the individual id is {what}; give each person a name",
                file,
                row.line,
                *layout.where("id"),
            )
        sex = _sex(row.cell(cols["sex"]), file, row.line, *layout.where("sex"))
        father, mother = parent_id(row.cell(cols["father"])), parent_id(row.cell(cols["mother"]))
        people.append(_Person(family, Individual(pid, sex, father, mother), row.line))
    return people


def _check_family(people: Sequence[_Person], layout: _Layout, file: str) -> Pedigree:
    by_id: dict[str, _Person] = {}
    where = layout.where

    for person in people:
        ind = person.individual
        if ind.id in by_id:
            raise tables.error(
                f"individual '{ind.id}' appears twice in family "
                f"'{person.family}' (first on line {by_id[ind.id].line})",
                file,
                person.line,
                *where("id"),
            )
        by_id[ind.id] = person
    for person in people:
        ind = person.individual
        if (ind.father is None) != (ind.mother is None):
            missing = "father" if ind.father is None else "mother"
            raise tables.error(
                f"'{ind.id}' has only one parent; give both parents or neither "
                "(add an untyped parent if one is unknown)",
                file,
                person.line,
                *where(missing),
            )
        for role, parent, sex in (
            ("father", ind.father, Sex.MALE),
            ("mother", ind.mother, Sex.FEMALE),
        ):
            if parent is None:
                continue
            if parent == ind.id:
                raise tables.error(
                    f"'{ind.id}' is given as their own {role}", file, person.line, *where(role)
                )
            other = by_id.get(parent)
            if other is None:
                raise tables.error(
                    f"{role} '{parent}' of '{ind.id}' is not in family '{person.family}'",
                    file,
                    person.line,
                    *where(role),
                )
            if other.individual.sex != sex:
                word = "male" if sex == Sex.MALE else "female"
                raise tables.error(
                    f"'{parent}' is the {role} of '{ind.id}' but has sex "
                    f"{other.individual.sex.name.lower()} (line {other.line}); a {role} must be "
                    f"{word}",
                    file,
                    person.line,
                    *where(role),
                )
    try:
        return Pedigree([p.individual for p in people])
    except KinmatchError as err:
        line = people[0].line
        for quoted in re.findall(r"'([^']*)'", err.message):
            if quoted in by_id:
                line = by_id[quoted].line
                break
        raise tables.error(err.message, file, line, *where("id")) from None


def _families(
    rows: Sequence[Row], layout: _Layout, file: str, default_family: str
) -> dict[str, Pedigree]:
    people = _people(rows, layout, file, default_family)
    grouped: dict[str, list[_Person]] = {}
    for person in people:
        grouped.setdefault(person.family, []).append(person)
    return {family: _check_family(members, layout, file) for family, members in grouped.items()}


def _family_name(filename: str) -> str:
    return Path(filename).stem or filename


def _ped_rows(data: bytes | str, file: str) -> list[Row]:
    lines = tables.split_lines(tables.decode_text(data, file))
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = tables.sniff_delimiter(first, " ")
    if delimiter == " ":
        return tables.whitespace_rows(lines)
    rows = tables.delimited_rows(lines, delimiter, file)
    return [r for r in rows if not r.cells[0].startswith("#")]


def parse_ped_families(data: bytes | str, filename: str = "<pedigree>") -> dict[str, Pedigree]:
    """Read a PED-style table into ``{family id: Pedigree}`` (see the module docstring)."""
    rows = _ped_rows(data, filename)
    if not rows:
        raise tables.error(
            "the file holds no person; expected rows of id, father, mother, sex", filename, 1
        )
    layout = _layout(rows, filename)
    body = rows[1:] if layout.has_header else rows
    if not body:
        raise tables.error("the table has a header but no person", filename, rows[0].line)
    return _families(body, layout, filename, _family_name(filename))


def parse_ped(data: bytes | str, filename: str = "<pedigree>") -> Pedigree:
    """Read a PED-style table holding one family (several is an error: use the families reader)."""
    families = parse_ped_families(data, filename)
    if len(families) > 1:
        names = list(families)
        raise tables.error(
            f"the file holds {len(names)} families ({', '.join(names[:5])}"
            f"{'...' if len(names) > 5 else ''}); read it with read_ped_families",
            filename,
        )
    return next(iter(families.values()))


def read_ped_families(path: str | Path) -> dict[str, Pedigree]:
    """Read a PED-style pedigree file into ``{family id: Pedigree}``."""
    return parse_ped_families(tables.read_bytes(path), str(path))


def read_ped(path: str | Path) -> Pedigree:
    """Read a PED-style pedigree file holding one family."""
    return parse_ped(tables.read_bytes(path), str(path))


def parse_plink_fam(data: bytes | str, filename: str = "<plink.fam>") -> dict[str, Pedigree]:
    """Read a LINKAGE/PLINK ``.fam`` file into ``{family id: Pedigree}``."""
    rows = tables.whitespace_rows(tables.split_lines(tables.decode_text(data, filename)))
    if not rows:
        raise tables.error(
            "the file holds no person; expected rows of family, id, father, mother, sex, phenotype",
            filename,
            1,
        )
    for row in rows:
        if len(row.cells) != 6:
            raise tables.error(
                f"expected 6 whitespace-separated columns (family, id, father, "
                f"mother, sex, phenotype), found {len(row.cells)}",
                filename,
                row.line,
            )
    layout = _Layout(dict(_POSITIONAL[6]), _POSITIONAL_TITLES[6], 6, False)
    return _families(rows, layout, filename, _family_name(filename))


def read_plink_fam(path: str | Path) -> dict[str, Pedigree]:
    """Read a LINKAGE/PLINK ``.fam`` file (six columns) into ``{family id: Pedigree}``."""
    return parse_plink_fam(tables.read_bytes(path), str(path))


# -- writing -------------------------------------------------------------------------


def _as_families(pedigrees: Pedigree | Mapping[str, Pedigree], default: str) -> dict[str, Pedigree]:
    if isinstance(pedigrees, Pedigree):
        return {default: pedigrees}
    return dict(pedigrees)


def format_ped(pedigrees: Pedigree | Mapping[str, Pedigree], delimiter: str = "\t") -> str:
    """A PED-style table with a header: ``id father mother sex`` (``famid`` first for several).

    Missing parents are ``0``; sex is ``1`` (male), ``2`` (female) or ``0``.
    A mapping of families is written with a ``famid`` column.
    """
    families = _as_families(pedigrees, "1")
    with_family = not isinstance(pedigrees, Pedigree)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow((["famid"] if with_family else []) + ["id", "father", "mother", "sex"])
    for family, ped in families.items():
        for p in ped:
            writer.writerow(
                ([family] if with_family else [])
                + [p.id, p.father or "0", p.mother or "0", int(p.sex)]
            )
    return out.getvalue()


def write_ped(
    pedigrees: Pedigree | Mapping[str, Pedigree], path: str | Path, delimiter: str = "\t"
) -> None:
    """Write a PED-style table that :func:`read_ped` / :func:`read_ped_families` read back."""
    Path(path).write_text(format_ped(pedigrees, delimiter), encoding="utf-8", newline="")


def format_plink_fam(pedigrees: Pedigree | Mapping[str, Pedigree], family: str = "1") -> str:
    """A PLINK ``.fam`` text (phenotype ``-9``); ids must not contain spaces."""
    lines = []
    for fam, ped in _as_families(pedigrees, family).items():
        for p in ped:
            fields = [fam, p.id, p.father or "0", p.mother or "0", str(int(p.sex)), "-9"]
            for value in fields:
                if not value or any(ch.isspace() for ch in value):
                    raise KinmatchError(
                        f"cannot write '{value}' to a .fam file: PLINK ids may not "
                        "be empty or contain spaces"
                    )
            lines.append(" ".join(fields))
    return "\n".join(lines) + "\n"


def write_plink_fam(
    pedigrees: Pedigree | Mapping[str, Pedigree], path: str | Path, family: str = "1"
) -> None:
    """Write a LINKAGE/PLINK ``.fam`` file."""
    Path(path).write_text(format_plink_fam(pedigrees, family), encoding="utf-8", newline="")
