"""Reading Familias ``.fam`` files: the text, its sections and the DVI block."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kinmatch.errors import CaseFormatError, Location
from kinmatch.formats.familias.model import (
    FAMILIAS_FALSE,
    FAMILIAS_TRUE,
    KNOWN_RELATIONS,
    DVIFamily,
    DVIPedigree,
    DVIPerson,
    FamiliasDVI,
    FamiliasFile,
    FamiliasLocus,
    FamiliasModel,
    FamiliasMutation,
    FamiliasPedigree,
    FamiliasPerson,
    FamiliasRelation,
)
from kinmatch.pedigree import Sex

# ---------------------------------------------------------------------------
# Reading: text, lines and values


def read_familias(path: str | Path) -> FamiliasFile:
    """Read a Familias ``.fam`` file (UTF-8, Windows-1252 or Latin-1)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CaseFormatError("file not found", Location(str(p))) from None
    except OSError as err:
        raise CaseFormatError(f"cannot read file: {err.strerror}", Location(str(p))) from None
    text, encoding = decode_familias_bytes(data)
    fam = parse_familias(text, str(p))
    fam.encoding = encoding
    return fam


def decode_familias_bytes(data: bytes) -> tuple[str, str]:
    """Decode a file's bytes: UTF-8 (with or without BOM) if valid, else
    Windows-1252 (what Familias writes on Windows), else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class _Lines:
    """A cursor over the file's lines that turns every problem into a
    :class:`CaseFormatError` naming the file, line and field."""

    def __init__(self, lines: list[str], filename: str) -> None:
        self.lines = lines
        self.filename = filename
        self.pos = 0

    @property
    def line_no(self) -> int:
        """The 1-based number of the next line."""
        return self.pos + 1

    def error(self, message: str, line: int | None, field: str | None = None) -> CaseFormatError:
        return CaseFormatError(message, Location(self.filename, line, None, field))

    def at_end(self) -> bool:
        return self.pos >= len(self.lines)

    def peek(self) -> str | None:
        return None if self.at_end() else self.lines[self.pos]

    def take(self, what: str, field: str | None = None) -> tuple[int, str]:
        if self.at_end():
            last = max(len(self.lines), 1)
            raise self.error(f"the file ends after line {len(self.lines)}, but {what} was expected",
                             last, field)
        self.pos += 1
        return self.pos, self.lines[self.pos - 1].strip()

    def text(self, what: str, field: str | None = None) -> tuple[int, str]:
        """A (possibly quoted) text value."""
        line, raw = self.take(what, field)
        return line, _unquote(raw)

    def integer(self, what: str, field: str | None = None, minimum: int | None = None,
                maximum: int | None = None) -> tuple[int, int]:
        line, raw = self.take(what, field)
        if not _INT.fullmatch(raw):
            raise self.error(f"expected {what} (a whole number), found '{_show(raw)}'", line, field)
        value = _whole(raw, what, lambda m: self.error(m, line, field))
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
            raise self.error(f"expected {what} ({bounds}), found {value}", line, field)
        return line, value

    def number(self, what: str, field: str | None = None) -> tuple[int, float]:
        line, raw = self.take(what, field)
        return line, _parse_number(raw, what, lambda m: self.error(m, line, field))

    def boolean(self, what: str, field: str | None = None) -> tuple[int, bool]:
        line, raw = self.take(what, field)
        if raw not in (FAMILIAS_TRUE, FAMILIAS_FALSE):
            raise self.error(f"expected {what} ({FAMILIAS_TRUE} or {FAMILIAS_FALSE}), found "
                             f"'{_show(raw)}'", line, field)
        return line, raw == FAMILIAS_TRUE


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return raw


def _show(raw: str, limit: int = 60) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "..."


#: More digits than any count, index or year in a Familias file has (Python
#: refuses to convert integers of more than a few thousand digits).
_MAX_DIGITS = 18


def _whole(raw: str, what: str, error: Callable[[str], CaseFormatError]) -> int:
    """``int(raw)`` of a text that is a whole number; ``error(message)`` when
    it has too many digits to be one of a Familias file's counts or indices."""
    if len(raw.strip().lstrip("+-")) > _MAX_DIGITS:
        raise error(f"expected {what} (a whole number), found '{_show(raw.strip())}', which is "
                    "too large")
    return int(raw)


def _parse_number(raw: str, what: str, error: Any) -> float:
    raw = raw.strip()
    if not _FLOAT.fullmatch(raw):
        raise error(f"expected {what} (a number), found '{_show(raw)}'")
    value = float(raw)
    if not math.isfinite(value):
        raise error(f"expected {what} (a number), found '{_show(raw)}', which is too large")
    return value


def _split_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------
# Reading: the main sections


def parse_familias(text: str, filename: str = "<familias>") -> FamiliasFile:
    """Parse the text of a Familias ``.fam`` file; see the module docstring
    for the layout."""
    cur = _Lines(_split_lines(text), filename)
    fam = FamiliasFile(source=filename)
    _read_header(cur, fam)
    raw_people = _read_persons(cur)
    fam.persons = [p for p, _ in raw_people]
    names = _check_unique_names(cur, fam.persons)
    _read_known_relations(cur, fam, names)
    _read_pedigrees(cur, fam, names)
    _read_database_line(cur, fam)
    _read_loci(cur, fam)
    _resolve_genotypes(cur, fam, raw_people)
    _read_trailer(cur, fam)
    return fam


def _read_header(cur: _Lines, fam: FamiliasFile) -> None:
    _, first = cur.text("the title line 'Output from Familias, version ...'", "/header")
    if not first.startswith("Output from Familias") and not first.startswith("Familias"):
        raise cur.error(f"this is not a Familias file: the first line is '{_show(first)}', "
                        "expected 'Output from Familias, version ...'", 1, "/header")
    _, second = cur.text("the comment line", "/header")
    _, version = cur.text("the Familias version", "/header/version")
    fam.comments = (first, second)
    fam.version = version
    # Line 4 is an empty quoted line in every Familias 3 file; pedFamilias also
    # accepts files where it is already the number of persons.
    if cur.peek() is not None and _unquote(cur.peek() or "") == "":
        cur.take("an empty line")


def _read_persons(cur: _Lines) -> list[tuple[FamiliasPerson, list[tuple[int, int, int, int]]]]:
    """Persons with their raw genotype triples (line, allele 1, allele 2, locus),
    resolved once the database has been read."""
    _, n = cur.integer("the number of persons", "/persons", minimum=0)
    out = []
    for i in range(n):
        ptr = f"/persons/{i}"
        line, name = cur.text(f"the name of person {i + 1}", f"{ptr}/name")
        if not name:
            raise cur.error(f"person {i + 1} has an empty name", line, f"{ptr}/name")
        _, flag1 = cur.take(f"the second line of person '{name}'", ptr)
        yob_line, yob_raw = cur.take(f"the year of birth of '{name}'", f"{ptr}/year_of_birth")
        m = re.fullmatch(r"(-?\d+)\s*(\(Consider dropouts\))?", yob_raw)
        if not m:
            raise cur.error(f"expected the year of birth of '{name}' (-1 if unknown, optionally "
                            f"followed by '(Consider dropouts)'), found '{_show(yob_raw)}'",
                            yob_line, f"{ptr}/year_of_birth")
        year = _whole(m.group(1), f"the year of birth of '{name}'",
                      partial(cur.error, line=yob_line, field=f"{ptr}/year_of_birth"))
        _, flag2 = cur.take(f"the fourth line of person '{name}'", ptr)
        _, male = cur.boolean(f"the sex of '{name}' (#TRUE# for male)", f"{ptr}/sex")
        _, k = cur.integer(f"the number of typed loci of '{name}'", f"{ptr}/genotypes", minimum=0)
        triples = []
        for j in range(k):
            gptr = f"{ptr}/genotypes/{j}"
            g_line, a1 = cur.integer(f"an allele index of '{name}'", gptr, minimum=0)
            _, a2 = cur.integer(f"an allele index of '{name}'", gptr, minimum=0)
            _, loc = cur.integer(f"a locus index of '{name}'", gptr, minimum=0)
            triples.append((g_line, a1, a2, loc))
        person = FamiliasPerson(
            name=name, sex=Sex.MALE if male else Sex.FEMALE,
            year_of_birth=None if year == -1 else year,
            consider_dropout=m.group(2) is not None, flags=(flag1, flag2), line=line)
        out.append((person, triples))
    return out


def _check_unique_names(cur: _Lines, persons: list[FamiliasPerson]) -> list[str]:
    seen: dict[str, int] = {}
    for i, p in enumerate(persons):
        if p.name in seen:
            raise cur.error(f"two persons are named '{p.name}'", p.line, f"/persons/{i}/name")
        seen[p.name] = i
    return list(seen)


def _extra_names(prefix: str, n: int, taken: set[str]) -> list[str]:
    out = []
    for j in range(1, n + 1):
        out.append(unique_name(f"{prefix}{j}", taken))
    return out


def unique_name(base: str, taken: set[str]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}.{k}"
    taken.add(name)
    return name


def _read_relations(cur: _Lines, people: list[str], ptr: str) -> list[FamiliasRelation]:
    _, n = cur.integer("the number of relations", f"{ptr}/relations", minimum=0)
    out = []
    for j in range(n):
        rptr = f"{ptr}/relations/{j}"
        line, raw = cur.take("the index of a parent", f"{rptr}/parent")
        direct, direct_text = False, " Direct"
        too_large = partial(cur.error, line=line, field=f"{rptr}/parent")
        if _INT.fullmatch(raw):
            parent = _whole(raw, "the index of a parent", too_large)
        else:
            m = re.fullmatch(r"(\d+)(.*)", raw)
            if not m or "direct" not in m.group(2).lower():
                raise cur.error(f"expected the index of a parent (a whole number, or "
                                f"'<index> Direct' for twins), found '{_show(raw)}'", line,
                                f"{rptr}/parent")
            parent = _whole(m.group(1), "the index of a parent", too_large)
            direct, direct_text = True, m.group(2)
        c_line, child = cur.integer("the index of a child", f"{rptr}/child")
        for idx, where, role in ((parent, line, "parent"), (child, c_line, "child")):
            if not 0 <= idx < len(people):
                raise cur.error(f"the {role} index {idx} names no person (there are "
                                f"{len(people)}: 0 to {len(people) - 1})", where, f"{rptr}/{role}")
        if parent == child:
            raise cur.error(f"'{people[parent]}' is given as their own parent", line, rptr)
        out.append(FamiliasRelation(people[parent], people[child], direct, direct_text, line))
    return out


def _read_known_relations(cur: _Lines, fam: FamiliasFile, names: list[str]) -> None:
    line, literal = cur.text(f"\"{KNOWN_RELATIONS}\"", "/known_relations")
    if literal != KNOWN_RELATIONS:
        raise cur.error(f"expected \"{KNOWN_RELATIONS}\" after the persons, found "
                        f"'{_show(literal)}' (is the number of persons or of genotypes wrong?)",
                        line, "/known_relations")
    _, n_fem = cur.integer("the number of extra females", "/known_relations/extra_females",
                           minimum=0)
    _, n_mal = cur.integer("the number of extra males", "/known_relations/extra_males", minimum=0)
    taken = set(names)
    known = FamiliasPedigree(KNOWN_RELATIONS, line=line)
    known.extra_females = _extra_names("extra_", n_fem, taken)
    extra_males = [unique_name(f"extra_{n_fem + j}", taken) for j in range(1, n_mal + 1)]
    known.extra_males = extra_males
    people = names + known.extra_females + known.extra_males
    known.relations = _read_relations(cur, people, "/known_relations")
    fam.known_relations = known


def _read_pedigrees(cur: _Lines, fam: FamiliasFile, names: list[str]) -> None:
    _, n = cur.integer("the number of pedigrees", "/pedigrees", minimum=0)
    base = names + fam.known_relations.extra_females + fam.known_relations.extra_males
    by_index: dict[int, FamiliasPedigree] = {}
    for i in range(n):
        ptr = f"/pedigrees/{i}"
        idx_line, idx = cur.integer("the index of a pedigree", f"{ptr}/index", 0, n - 1)
        if idx in by_index:
            raise cur.error(f"pedigree index {idx} is used twice", idx_line, f"{ptr}/index")
        line, name = cur.text("the name of a pedigree", f"{ptr}/name")
        _, n_fem = cur.integer(f"the number of extra females of pedigree '{name}'",
                               f"{ptr}/extra_females", minimum=0)
        _, n_mal = cur.integer(f"the number of extra males of pedigree '{name}'",
                               f"{ptr}/extra_males", minimum=0)
        taken = set(base)
        ped = FamiliasPedigree(name, line=line)
        ped.extra_females = _extra_names(f"extra_ped{idx + 1}_", n_fem, taken)
        ped.extra_males = [unique_name(f"extra_ped{idx + 1}_{n_fem + j}", taken)
                           for j in range(1, n_mal + 1)]
        people = base + ped.extra_females + ped.extra_males
        ped.relations = _read_relations(cur, people, ptr)
        by_index[idx] = ped
    fam.pedigrees = [by_index[i] for i in range(n)]


_DB_LINE = re.compile(r"#(TRUE|FALSE)#\s*(?:\((.*)\))?\s*")


def _read_database_line(cur: _Lines, fam: FamiliasFile) -> None:
    line, raw = cur.take("the database line '#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )'",
                         "/database")
    m = _DB_LINE.fullmatch(raw)
    if not m:
        raise cur.error("expected the database line '#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: "
                        f"0 )', found '{_show(raw)}' (is a number of relations wrong?)", line,
                        "/database")
    if m.group(1) == "TRUE":
        raise cur.error("this file holds precomputed probabilities (#TRUE# on the database "
                        "line), which kinmatch does not read; save the case without results",
                        line, "/database")
    info = m.group(2) or ""
    n_db = re.search(r"#Databases:\s*(\S+?)\s*(;|$)", info)
    if n_db:
        fam.n_databases = int(_parse_number(n_db.group(1), "the number of databases",
                                            lambda msg: cur.error(msg, line, "/database")))
    th = re.search(r"Theta/Kinship/Fst:\s*(\S+)", info)
    if th:
        theta = _parse_number(th.group(1), "theta (Theta/Kinship/Fst)",
                              lambda msg: cur.error(msg, line, "/database/theta"))
        if not 0 <= theta < 1:
            raise cur.error(f"theta must be in [0, 1), not {theta}", line, "/database/theta")
        fam.theta = theta


def _read_loci(cur: _Lines, fam: FamiliasFile) -> None:
    _, n = cur.integer("the number of loci", "/loci", minimum=0)
    _, has_name = cur.boolean("whether the database has a name", "/database/name")
    fam.database_name = cur.text("the database name", "/database/name")[1] if has_name else None
    names: set[str] = set()
    for i in range(n):
        locus = _read_locus(cur, i)
        if locus.name in names:
            raise cur.error(f"locus '{locus.name}' is in the database twice", locus.line,
                            f"/loci/{i}/name")
        names.add(locus.name)
        fam.loci.append(locus)


_INFO = re.compile(r"(\d+)\s*(?:\((.*)\))?\s*")


def _read_locus(cur: _Lines, i: int) -> FamiliasLocus:
    ptr = f"/loci/{i}"
    line, name = cur.text(f"the name of locus {i + 1}", f"{ptr}/name")
    if not name:
        raise cur.error(f"locus {i + 1} has an empty name", line, f"{ptr}/name")
    ptr = f"/loci/{name}"
    _, rate_f = cur.number(f"the female mutation rate of {name}", f"{ptr}/female/rate")
    _, rate_m = cur.number(f"the male mutation rate of {name}", f"{ptr}/male/rate")
    _, code_f = cur.integer(f"the female mutation model of {name} (0-4)", f"{ptr}/female/model",
                            0, 4)
    _, code_m = cur.integer(f"the male mutation model of {name} (0-4)", f"{ptr}/male/model", 0, 4)
    cur.integer(f"the number of alleles of {name} (with a silent allele)", f"{ptr}/alleles",
                minimum=0)
    _, range_f = cur.number(f"the female mutation range of {name}", f"{ptr}/female/range")
    _, range_m = cur.number(f"the male mutation range of {name}", f"{ptr}/male/range")
    _, rate2_f = cur.number(f"the female rate2 of {name}", f"{ptr}/female/rate2")
    _, rate2_m = cur.number(f"the male rate2 of {name}", f"{ptr}/male/rate2")
    _, silent = cur.boolean(f"whether {name} has a silent allele", f"{ptr}/silent_allele")
    silent_line, silent_freq = cur.number(f"the silent allele frequency of {name}",
                                          f"{ptr}/silent_frequency")
    if not 0 <= silent_freq < 1:
        raise cur.error(f"the silent allele frequency of {name} must be in [0, 1), not "
                        f"{silent_freq:g}", silent_line, f"{ptr}/silent_frequency")
    info_line, info = cur.take(f"the number of alleles of {name}", f"{ptr}/alleles")
    m = _INFO.fullmatch(info)
    if not m:
        raise cur.error(f"expected the number of alleles of {name} followed by '(DatabaseSize = "
                        f"..., Dropout probability = ..., Minor allele frequency = ...)', found "
                        f"'{_show(info)}'", info_line, f"{ptr}/alleles")
    n_alleles = _whole(m.group(1), f"the number of alleles of {name}",
                       lambda msg: cur.error(msg, info_line, f"{ptr}/alleles"))
    details = m.group(2) or ""

    def setting(key: str, what: str, below_one: bool | None = None) -> float | None:
        """The value of ``key = ...``; ``below_one``: a probability in [0, 1)
        (``True``) or in [0, 1] (``False``); ``None``: any number >= 0."""
        found = re.search(re.escape(key) + r"\s*=\s*([^\s,)]+)", details)
        if not found:
            return None
        where = f"{ptr}/{what.replace(' ', '_')}"
        value = _parse_number(found.group(1), f"the {what} of {name}",
                              lambda msg: cur.error(msg, info_line, where))
        if below_one is None:
            ok, bounds = value >= 0, "a number >= 0"
        elif below_one:
            ok, bounds = 0 <= value < 1, "in [0, 1)"
        else:
            ok, bounds = 0 <= value <= 1, "in [0, 1]"
        if not ok:
            raise cur.error(f"the {what} of {name} must be {bounds}, not {value:g}", info_line,
                            where)
        return value

    size = setting("DatabaseSize", "database size")
    locus = FamiliasLocus(
        name=name, alleles=[], frequencies=[],
        female=FamiliasMutation(FamiliasModel(code_f), rate_f, range_f, rate2_f),
        male=FamiliasMutation(FamiliasModel(code_m), rate_m, range_m, rate2_m),
        silent_allele=silent, silent_frequency=silent_freq,
        database_size=None if size is None else int(size),
        dropout=setting("Dropout probability", "dropout probability", below_one=True),
        minor_allele_frequency=setting("Minor allele frequency", "minor allele frequency",
                                       below_one=False),
        line=line)
    seen: set[str] = set()
    for j in range(n_alleles):
        a_line, allele = cur.text(f"allele {j + 1} of {name}", f"{ptr}/alleles/{j}")
        if not allele:
            raise cur.error(f"allele {j + 1} of {name} has an empty name", a_line,
                            f"{ptr}/alleles/{j}")
        if allele in seen:
            raise cur.error(f"allele '{allele}' of {name} is listed twice", a_line,
                            f"{ptr}/alleles/{j}")
        seen.add(allele)
        _, freq = cur.number(f"the frequency of allele '{allele}' of {name}",
                             f"{ptr}/alleles/{allele}/frequency")
        locus.alleles.append(allele)
        locus.frequencies.append(freq)
    return locus


def _resolve_genotypes(cur: _Lines, fam: FamiliasFile,
                       raw: list[tuple[FamiliasPerson, list[tuple[int, int, int, int]]]]) -> None:
    """Turn the persons' (allele index, allele index, locus index) triples
    into allele names, now that the database is known."""
    for i, (person, triples) in enumerate(raw):
        for j, (line, a1, a2, loc) in enumerate(triples):
            ptr = f"/persons/{i}/genotypes/{j}"
            if loc >= len(fam.loci):
                raise cur.error(f"'{person.name}' is typed at locus index {loc}, but the database "
                                f"has {len(fam.loci)} loci (0 to {len(fam.loci) - 1})", line + 2,
                                ptr)
            locus = fam.loci[loc]
            for a, offset in ((a1, 0), (a2, 1)):
                if a >= len(locus.alleles):
                    raise cur.error(f"'{person.name}' has allele index {a} at {locus.name}, which "
                                    f"has {len(locus.alleles)} alleles (0 to "
                                    f"{len(locus.alleles) - 1}): unknown allele", line + offset,
                                    ptr)
            if locus.name in person.genotypes:
                raise cur.error(f"'{person.name}' is typed twice at {locus.name}", line, ptr)
            person.genotypes[locus.name] = (locus.alleles[a1], locus.alleles[a2])
            person.genotype_lines[locus.name] = line


def _read_trailer(cur: _Lines, fam: FamiliasFile) -> None:
    """The optional ``[DVI]`` block and the ``[Prior]``/``[Advanced]`` settings."""
    while not cur.at_end() and not (cur.peek() or "").strip():
        cur.take("")
    start = cur.pos
    rest = cur.lines[start:]
    if rest and not rest[0].strip().startswith("["):
        raise cur.error(f"unexpected text '{_show(rest[0].strip())}' after the database "
                        "(is a number of alleles or loci wrong?)", start + 1, "/database")
    dvi_start = dvi_end = None
    for k, raw in enumerate(rest):
        level, name = _header(raw)
        if level == 1:
            if name == "DVI" and dvi_start is None:
                dvi_start = k
            elif dvi_start is not None and dvi_end is None:
                dvi_end = k
    if dvi_start is None:
        fam.settings = _strip_blank(rest)
        return
    dvi_end = len(rest) if dvi_end is None else dvi_end
    numbered = [(start + k + 1, rest[k]) for k in range(dvi_start, dvi_end)]
    fam.dvi = _parse_dvi(numbered, cur.filename)
    fam.settings = _strip_blank(rest[:dvi_start] + rest[dvi_end:])


def _strip_blank(lines: list[str]) -> list[str]:
    out = [line.rstrip() for line in lines]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


# ---------------------------------------------------------------------------
# Reading: the DVI block


def _header(raw: str) -> tuple[int, str]:
    """``(depth, name)`` of a section header such as ``[[[Person 1 ]]]``, or
    ``(0, "")`` for other lines."""
    text = raw.strip()
    m = re.fullmatch(r"(\[+)([^\[\]]*)(\]+)", text)
    if not m or len(m.group(1)) != len(m.group(3)):
        return 0, ""
    return len(m.group(1)), m.group(2).strip()


@dataclass
class _Section:
    name: str
    level: int
    line: int
    body: list[tuple[int, str]] = field(default_factory=list)
    children: list[_Section] = field(default_factory=list)

    def entries(self) -> list[tuple[int, str, str]]:
        """``Key= value`` lines as (line, key, value)."""
        out = []
        for line, raw in self.body:
            if "=" in raw:
                key, value = raw.split("=", 1)
                out.append((line, key.strip(), value.strip()))
        return out


def _section_tree(numbered: list[tuple[int, str]], filename: str) -> _Section:
    root = _Section("", 0, 0)
    stack = [root]
    for line, raw in numbered:
        level, name = _header(raw)
        if level == 0:
            if raw.strip().startswith("["):
                raise CaseFormatError(f"malformed section header '{_show(raw.strip())}' (the "
                                      "brackets do not match)",
                                      Location(filename, line, None, "/DVI"))
            stack[-1].body.append((line, raw.rstrip()))
            continue
        while stack[-1].level >= level:
            stack.pop()
        if stack[-1].level != level - 1:
            raise CaseFormatError(
                f"section '{raw.strip()}' is nested {level} deep but follows a section "
                f"{stack[-1].level} deep", Location(filename, line, None, "/DVI"))
        node = _Section(name, level, line)
        stack[-1].children.append(node)
        stack.append(node)
    return root


class _DVIReader:
    """Interprets the section tree of the ``[DVI]`` block."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def error(self, message: str, line: int | None, field: str) -> CaseFormatError:
        return CaseFormatError(message, Location(self.filename, line, None, field))

    def value(self, node: _Section, key: str, ptr: str, required: bool = True
              ) -> tuple[int, str] | None:
        for line, k, v in node.entries():
            if k == key:
                return line, v
        if required:
            raise self.error(f"section [{node.name}] lacks '{key}='", node.line, f"{ptr}/{key}")
        return None

    def count(self, node: _Section, key: str, ptr: str) -> tuple[int, int]:
        found = self.value(node, key, ptr)
        assert found is not None
        line, raw = found
        value = _whole(raw, f"'{key}= <whole number>'",
                       lambda msg: self.error(msg, line, f"{ptr}/{key}")) \
            if _INT.fullmatch(raw) else -1
        if value < 0:
            raise self.error(f"expected '{key}= <whole number>', found '{_show(raw)}'", line,
                             f"{ptr}/{key}")
        return line, value

    def child(self, node: _Section, name: str, ptr: str) -> _Section:
        for c in node.children:
            if c.name == name:
                return c
        raise self.error(f"section [{node.name}] lacks its [{name}] section", node.line,
                         f"{ptr}/{name}")

    def counted_children(self, node: _Section, key: str, prefix: str, ptr: str) -> list[_Section]:
        line, n = self.count(node, key, ptr)
        kids = [c for c in node.children if c.name.startswith(prefix)]
        if len(kids) != n:
            raise self.error(f"'{key}= {n}' but there are {len(kids)} [{prefix} ...] sections",
                             line, f"{ptr}/{key}")
        return kids

    def person(self, node: _Section, ptr: str) -> DVIPerson:
        found = self.value(node, "Name", ptr)
        assert found is not None
        line, name = found
        if not name:
            raise self.error("a person has an empty name", line, f"{ptr}/Name")
        sex = Sex.UNKNOWN
        gender = self.value(node, "Gender", ptr, required=False)
        if gender is not None:
            table = {"male": Sex.MALE, "female": Sex.FEMALE, "": Sex.UNKNOWN,
                     "unknown": Sex.UNKNOWN}
            if gender[1].lower() not in table:
                raise self.error(f"expected 'Gender= Male' or 'Gender= Female', found "
                                 f"'{_show(gender[1])}'", gender[0], f"{ptr}/Gender")
            sex = table[gender[1].lower()]
        person = DVIPerson(name, sex, line=line)
        dna = [c for c in node.children if c.name == "DNA data"]
        if dna:
            self.dna(dna[0], person, f"{ptr}/DNA data")
        return person

    def dna(self, node: _Section, person: DVIPerson, ptr: str) -> None:
        count_line, n = self.count(node, "nSystems", ptr)
        entries = [e for e in node.entries() if e[1] != "nSystems"]
        if len(entries) != 3 * n:
            raise self.error(f"'nSystems= {n}' but {len(entries)} lines follow (expected "
                             f"{3 * n}: SystemName=, Allele1=, Allele2= per locus)", count_line,
                             f"{ptr}/nSystems")
        for j in range(n):
            triple = entries[3 * j: 3 * j + 3]
            keys = ("SystemName", "Allele1", "Allele2")
            for (line, key, value), want in zip(triple, keys, strict=True):
                if key != want:
                    raise self.error(f"expected '{want}=', found '{key}='", line, f"{ptr}/{j}")
                if not value:
                    raise self.error(f"'{want}=' is empty", line, f"{ptr}/{j}/{want}")
            locus = triple[0][2]
            if locus in person.genotypes:
                raise self.error(f"'{person.name}' is typed twice at {locus}", triple[0][0],
                                 f"{ptr}/{j}")
            person.genotypes[locus] = (triple[1][2], triple[2][2])
            person.genotype_lines[locus] = triple[0][0]

    def pedigree(self, node: _Section, ptr: str) -> DVIPedigree:
        found = self.value(node, "Name", ptr)
        assert found is not None
        count_line, n = self.count(node, "nRelations", ptr)
        entries = [e for e in node.entries() if e[1] not in ("Name", "nRelations")]
        if len(entries) != 2 * n:
            raise self.error(f"'nRelations= {n}' but {len(entries)} lines follow (expected "
                             f"{2 * n}: Parent=, Child= per relation)", count_line,
                             f"{ptr}/nRelations")
        ped = DVIPedigree(found[1], line=found[0])
        for j in range(n):
            (p_line, p_key, parent), (c_line, c_key, child) = entries[2 * j: 2 * j + 2]
            if p_key != "Parent" or not parent:
                raise self.error(f"expected 'Parent= <name>', found '{p_key}= {parent}'", p_line,
                                 f"{ptr}/relations/{j}/Parent")
            if c_key != "Child" or not child:
                raise self.error(f"expected 'Child= <name>', found '{c_key}= {child}'", c_line,
                                 f"{ptr}/relations/{j}/Child")
            if parent == child:
                raise self.error(f"'{parent}' is given as their own parent", p_line,
                                 f"{ptr}/relations/{j}")
            ped.relations.append((parent, child))
        return ped

    def family(self, node: _Section, ptr: str) -> DVIFamily:
        found = self.value(node, "Name", ptr)
        assert found is not None
        fam = DVIFamily(found[1], line=found[0])
        persons = self.child(node, "Persons", ptr)
        names: set[str] = set()
        for j, p in enumerate(self.counted_children(persons, "nPersons", "Person",
                                                    f"{ptr}/Persons")):
            person = self.person(p, f"{ptr}/Persons/{j}")
            if person.name in names:
                raise self.error(f"family '{fam.name}' has two persons named '{person.name}'",
                                 person.line, f"{ptr}/Persons/{j}/Name")
            names.add(person.name)
            fam.persons.append(person)
        peds = self.child(node, "Pedigrees", ptr)
        for j, p in enumerate(self.counted_children(peds, "nPedigrees", "Pedigree",
                                                    f"{ptr}/Pedigrees")):
            fam.pedigrees.append(self.pedigree(p, f"{ptr}/Pedigrees/{j}"))
        return fam


def _parse_dvi(numbered: list[tuple[int, str]], filename: str) -> FamiliasDVI:
    root = _section_tree(numbered, filename)
    dvi_node = root.children[0]
    reader = _DVIReader(filename)
    dvi = FamiliasDVI(line=dvi_node.line)
    for node in dvi_node.children:
        ptr = f"/DVI/{node.name}"
        if node.name == "Unidentified persons":
            names: set[str] = set()
            for j, p in enumerate(reader.counted_children(node, "nPersons", "Person", ptr)):
                person = reader.person(p, f"{ptr}/{j}")
                if person.name in names:
                    raise reader.error(f"two unidentified persons are named '{person.name}'",
                                       person.line, f"{ptr}/{j}/Name")
                names.add(person.name)
                dvi.unidentified.append(person)
        elif node.name == "Notes":
            # One line per family after 'nFamilies=' (often empty): kept verbatim.
            dvi.notes = [raw for _, raw in node.body]
        elif node.name == "Reference Families":
            for j, f in enumerate(reader.counted_children(node, "nFamilies", "Family", ptr)):
                dvi.families.append(reader.family(f, f"{ptr}/{j}"))
    return dvi


