"""Familias 3.x ``.fam`` files: reader, writer and conversions.

Familias (Egeland, Mostad et al.) stores a whole case in one text file, one
value per line. Text values are in double quotes, booleans are ``#TRUE#`` /
``#FALSE#``, indices are 0-based. Files written by Familias itself and by the
R package pedFamilias (``writeFam``) have these sections, in this order:

**Header** (4 lines)
    ``"Output from Familias, version 3.3.1"``, a comment (``"DO NOT EDIT!"``),
    the version (``3.3.1``, with `` (DVI)`` when saved from the DVI module)
    and an empty quoted line ``""``.

**Persons**
    The number of persons, then per person: the name; a flag (meaning not
    documented, kept verbatim); the year of birth (``-1`` = unknown),
    followed by `` (Consider dropouts)`` when drop-out is to be considered
    for this person; a second flag (kept verbatim); ``#TRUE#`` for a male,
    ``#FALSE#`` for a female; the number of typed loci and, per typed
    locus, three lines: the indices of the two alleles in the locus'
    allele list and the index of the locus in the database.

**Known relations**
    The literal ``"Known relations"``; the number of anonymous extra females
    and extra males (untyped people who exist only to connect others); the
    number of parent-child relations and, per relation, two lines: the
    index of the parent and of the child. People are numbered persons
    first, then the extra females, then the extra males. These relations
    hold in every pedigree.

**Pedigrees** (the hypotheses)
    The number of pedigrees, then per pedigree: its index, its name, its
    own numbers of extra females and males (numbered after the global
    extras), the number of relations and the relations. A parent line of
    the form ``<index> ... Direct ...`` marks a *direct* (identity)
    relation, Familias' way of stating that two people are monozygotic
    twins (or the same person).

**Database**
    A line ``#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )`` (``#TRUE#``
    would mean that precomputed probabilities follow; not supported); the
    number of loci; ``#TRUE#`` and the database name (or ``#FALSE#``); then
    per locus: the name; the mutation rates for females and males; the
    mutation model codes for females and males (0 equal, 1 proportional,
    2 stepwise (unstationary), 3 stepwise (stationary), 4 extended stepwise);
    the number of alleles including a silent allele; the mutation ranges
    (female, male); the rates of mutations to microvariants of another
    length class, ``rate2`` (female, male); ``#TRUE#`` if there is a silent
    allele and its frequency; a line ``<n>\\t(DatabaseSize = 1000 , Dropout
    probability = 0 , Minor allele frequency = 0 )``; and ``n`` pairs of
    lines, allele name and frequency.

**DVI** (files saved by the DVI module), after an empty line
    An INI-like block whose section depth is the number of brackets::

        [DVI]
        [[Unidentified persons]]      nPersons= ; [[[Person i ]]]: Name=, Gender=,
                                      [[[[DNA data]]]]: nSystems=, then
                                      SystemName= / Allele1= / Allele2= per locus
        [[Notes]]                     nFamilies= and one note line per family
        [[Reference Families]]        nFamilies= ; [[[Family i ]]]: Name=,
            [[[[Persons]]]]           nPersons= ; [[[[[Person j]]]]] as above
            [[[[Pedigrees]]]]         nPedigrees= ; [[[[[Pedigree j]]]]]: Name=,
                                      nRelations=, then Parent= / Child= pairs

    Alleles are given by name here. A pedigree may name people who are not
    among the family's persons: ``Missing person``, the placeholder for the
    missing person of the family, is the usual one.

**Settings**
    ``[Prior]`` and ``[Advanced]`` sections of ``Key= value`` lines; kept
    verbatim.

Conversions follow pedFamilias::readFam (and, for DVI, dvir::familias2dvir)
so that likelihoods equal the R pedsuite's: mutation codes 0 and 1 become
pedmut's equal and proportional models, codes 2 and 4 its stepwise model
with the file's rate, rate2 and range, and code 3 the same model made
stationary with the PM transformation; a stepwise model on a locus with
non-numeric alleles, alleles below 1 or microvariants with more than one
decimal falls back to the equal model (both sexes). A child with one parent
given gets an untyped other parent (``added_1``, ...).

Every problem in a file is a :class:`~kinmatch.errors.CaseFormatError`
naming the file, the line (1-based) and the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

from kinmatch.alleles import allele_number, canonical_allele
from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.errors import CaseFormatError, KinmatchError, Location, MarkerError, warn
from kinmatch.kinship.lr import Hypothesis
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.formats.case_json import KinshipCase

__all__ = [
    "DVIFamily",
    "DVIPedigree",
    "DVIPerson",
    "FamiliasDVI",
    "FamiliasFile",
    "FamiliasLocus",
    "FamiliasModel",
    "FamiliasMutation",
    "FamiliasPedigree",
    "FamiliasPerson",
    "FamiliasRelation",
    "decode_familias_bytes",
    "familias_markers",
    "familias_to_dvi_case",
    "familias_to_kinship_case",
    "format_familias",
    "kinship_case_to_familias",
    "locus_mutation_spec",
    "parse_familias",
    "read_familias",
    "write_familias",
]

KNOWN_RELATIONS = "Known relations"
REFERENCE_PEDIGREE = "Reference pedigree"
DEFAULT_VERSION = "3.2.8"
_TRUE, _FALSE = "#TRUE#", "#FALSE#"


# ---------------------------------------------------------------------------
# Data model


class FamiliasModel(IntEnum):
    """Familias' mutation model codes."""

    EQUAL = 0
    PROPORTIONAL = 1
    STEPWISE_UNSTATIONARY = 2
    STEPWISE_STATIONARY = 3
    STEPWISE_EXTENDED = 4


@dataclass(frozen=True)
class FamiliasMutation:
    """One sex's mutation model as Familias stores it."""

    model: FamiliasModel = FamiliasModel.EQUAL
    rate: float = 0.0
    range: float = 0.0
    rate2: float = 0.0


@dataclass
class FamiliasLocus:
    """A locus of the frequency database, with its mutation models and settings.

    ``alleles`` are the names as written in the file. ``database_size``,
    ``dropout`` and ``minor_allele_frequency`` come from the locus' info line
    (``None`` when the line lacks them); ``silent_allele`` and
    ``silent_frequency`` describe a silent (null) allele, which becomes a
    marker allele named ``"silent"`` (:data:`SILENT_ALLELE`) that is never
    observed. The per-locus drop-out probability is kept so that a file is
    written back as it was read.
    """

    name: str
    alleles: list[str]
    frequencies: list[float]
    female: FamiliasMutation = FamiliasMutation()
    male: FamiliasMutation = FamiliasMutation()
    silent_allele: bool = False
    silent_frequency: float = 0.0
    database_size: int | None = 1000
    dropout: float | None = 0.0
    minor_allele_frequency: float | None = 0.0
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasPerson:
    """A person of the case, with genotypes by locus name and allele names.

    ``flags`` are the second and fourth lines of the person's block, whose
    meaning Familias does not document; they are written back verbatim.
    """

    name: str
    sex: Sex
    genotypes: dict[str, tuple[str, str]] = field(default_factory=dict)
    year_of_birth: int | None = None
    consider_dropout: bool = False
    flags: tuple[str, str] = (_FALSE, _FALSE)
    line: int | None = field(default=None, compare=False, repr=False)
    genotype_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FamiliasRelation:
    """``parent`` is a parent of ``child``; with ``direct``, the two are
    genetically identical (monozygotic twins). ``direct_text`` is what
    follows the parent's index on a direct relation's line, written back
    as read."""

    parent: str
    child: str
    direct: bool = False
    direct_text: str = field(default=" Direct", compare=False, repr=False)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasPedigree:
    """A pedigree (hypothesis): its extra (anonymous) people and relations.

    The extras get the names pedFamilias gives them: ``extra_1``, ... for
    those of the known relations and ``extra_ped<k>_<j>`` for those of the
    ``k``-th pedigree.
    """

    name: str
    relations: list[FamiliasRelation] = field(default_factory=list)
    extra_females: list[str] = field(default_factory=list)
    extra_males: list[str] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class DVIPerson:
    """A person of the DVI module: an unidentified person (post-mortem
    sample) or a member of a reference family. ``genotypes`` map locus names
    to allele names as written."""

    name: str
    sex: Sex = Sex.UNKNOWN
    genotypes: dict[str, tuple[str, str]] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False, repr=False)
    genotype_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class DVIPedigree:
    """A pedigree of a reference family, as (parent, child) name pairs."""

    name: str
    relations: list[tuple[str, str]] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class DVIFamily:
    """A reference family: its persons (typed relatives and named missing
    persons) and its pedigrees."""

    name: str
    persons: list[DVIPerson] = field(default_factory=list)
    pedigrees: list[DVIPedigree] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasDVI:
    """The ``[DVI]`` section. ``notes`` are the raw lines of ``[[Notes]]``."""

    unidentified: list[DVIPerson] = field(default_factory=list)
    families: list[DVIFamily] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class FamiliasFile:
    """Everything a Familias file holds.

    ``known_relations`` hold in every pedigree; ``pedigrees`` are the
    hypotheses. ``settings`` are the raw lines of the ``[Prior]`` and
    ``[Advanced]`` sections. ``source`` and ``encoding`` say where the file
    came from and how it was decoded.
    """

    persons: list[FamiliasPerson] = field(default_factory=list)
    known_relations: FamiliasPedigree = field(
        default_factory=lambda: FamiliasPedigree(KNOWN_RELATIONS))
    pedigrees: list[FamiliasPedigree] = field(default_factory=list)
    loci: list[FamiliasLocus] = field(default_factory=list)
    theta: float = 0.0
    database_name: str | None = "unknown"
    n_databases: int = 1
    version: str = DEFAULT_VERSION
    comments: tuple[str, str] = (f"Output from Familias, version {DEFAULT_VERSION}",
                                 "(Written by kinmatch)")
    dvi: FamiliasDVI | None = None
    settings: list[str] = field(default_factory=list)
    source: str | None = field(default=None, compare=False)
    encoding: str = field(default="utf-8", compare=False)

    def locus(self, name: str) -> FamiliasLocus:
        for locus in self.loci:
            if locus.name == name:
                return locus
        raise KinmatchError(f"the Familias database has no locus '{name}'")


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
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
            raise self.error(f"expected {what} ({bounds}), found {value}", line, field)
        return line, value

    def number(self, what: str, field: str | None = None) -> tuple[int, float]:
        line, raw = self.take(what, field)
        return line, _parse_number(raw, what, lambda m: self.error(m, line, field))

    def boolean(self, what: str, field: str | None = None) -> tuple[int, bool]:
        line, raw = self.take(what, field)
        if raw not in (_TRUE, _FALSE):
            raise self.error(f"expected {what} ({_TRUE} or {_FALSE}), found '{_show(raw)}'", line,
                             field)
        return line, raw == _TRUE


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return raw


def _show(raw: str, limit: int = 60) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "..."


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
        year = int(m.group(1))
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
        out.append(_unique_name(f"{prefix}{j}", taken))
    return out


def _unique_name(base: str, taken: set[str]) -> str:
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
        if _INT.fullmatch(raw):
            parent = int(raw)
        else:
            m = re.fullmatch(r"(\d+)(.*)", raw)
            if not m or "direct" not in m.group(2).lower():
                raise cur.error(f"expected the index of a parent (a whole number, or "
                                f"'<index> Direct' for twins), found '{_show(raw)}'", line,
                                f"{rptr}/parent")
            parent, direct, direct_text = int(m.group(1)), True, m.group(2)
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
    extra_males = [_unique_name(f"extra_{n_fem + j}", taken) for j in range(1, n_mal + 1)]
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
        ped.extra_males = [_unique_name(f"extra_ped{idx + 1}_{n_fem + j}", taken)
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
    _, silent_freq = cur.number(f"the silent allele frequency of {name}",
                                f"{ptr}/silent_frequency")
    info_line, info = cur.take(f"the number of alleles of {name}", f"{ptr}/alleles")
    m = _INFO.fullmatch(info)
    if not m:
        raise cur.error(f"expected the number of alleles of {name} followed by '(DatabaseSize = "
                        f"..., Dropout probability = ..., Minor allele frequency = ...)', found "
                        f"'{_show(info)}'", info_line, f"{ptr}/alleles")
    n_alleles = int(m.group(1))
    details = m.group(2) or ""

    def setting(key: str, what: str) -> float | None:
        found = re.search(re.escape(key) + r"\s*=\s*([^\s,)]+)", details)
        if not found:
            return None
        where = f"{ptr}/{what.replace(' ', '_')}"
        return _parse_number(found.group(1), f"the {what} of {name}",
                             lambda msg: cur.error(msg, info_line, where))

    size = setting("DatabaseSize", "database size")
    locus = FamiliasLocus(
        name=name, alleles=[], frequencies=[],
        female=FamiliasMutation(FamiliasModel(code_f), rate_f, range_f, rate2_f),
        male=FamiliasMutation(FamiliasModel(code_m), rate_m, range_m, rate2_m),
        silent_allele=silent, silent_frequency=silent_freq,
        database_size=None if size is None else int(size),
        dropout=setting("Dropout probability", "dropout probability"),
        minor_allele_frequency=setting("Minor allele frequency", "minor allele frequency"),
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
        if not _INT.fullmatch(raw) or int(raw) < 0:
            raise self.error(f"expected '{key}= <whole number>', found '{_show(raw)}'", line,
                             f"{ptr}/{key}")
        return line, int(raw)

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
    dvi = FamiliasDVI()
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


# ---------------------------------------------------------------------------
# Writing


def write_familias(fam: FamiliasFile, path: str | Path, encoding: str = "utf-8") -> None:
    """Write ``fam`` as a Familias ``.fam`` file.

    Familias on Windows reads Windows-1252; give ``encoding="cp1252"`` for
    it when every name can be written so. Lines end in CRLF as Familias
    writes them.
    """
    text = format_familias(fam)
    try:
        data = text.replace("\n", "\r\n").encode(encoding)
    except UnicodeEncodeError as err:
        raise KinmatchError(f"cannot write '{err.object[err.start:err.end]}' in {encoding}; "
                            "write the file as UTF-8") from None
    Path(path).write_bytes(data)


def format_familias(fam: FamiliasFile) -> str:
    """The text of a Familias file (LF line endings)."""
    out: list[str] = []
    out += [_quote(fam.comments[0]), _quote(fam.comments[1]), fam.version, '""']
    people = _format_persons(fam, out)
    _format_pedigrees(fam, people, out)
    _format_database(fam, out)
    if fam.dvi is not None:
        out.append("")
        out += _format_dvi(fam.dvi)
    out += fam.settings
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    if '"' in text or "\n" in text or "\r" in text:
        raise KinmatchError(f"a Familias file cannot hold a name with quotes or line breaks: "
                            f"{text!r}")
    return f'"{text}"'


def _fmt(x: float) -> str:
    """A number, exactly: integers without a point, others in shortest form."""
    x = float(x)
    if not math.isfinite(x):
        raise KinmatchError(f"cannot write the number {x} in a Familias file")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _format_persons(fam: FamiliasFile, out: list[str]) -> list[str]:
    loci = {locus.name: (k, locus) for k, locus in enumerate(fam.loci)}
    out.append(str(len(fam.persons)))
    for p in fam.persons:
        if p.sex not in (Sex.MALE, Sex.FEMALE):
            raise KinmatchError(f"person '{p.name}' has unknown sex; Familias needs male or "
                                "female")
        year = -1 if p.year_of_birth is None else p.year_of_birth
        out += [_quote(p.name), p.flags[0],
                f"{year}{' (Consider dropouts)' if p.consider_dropout else ''}", p.flags[1],
                _TRUE if p.sex == Sex.MALE else _FALSE, str(len(p.genotypes))]
        for locus_name, (a1, a2) in p.genotypes.items():
            if locus_name not in loci:
                raise KinmatchError(f"person '{p.name}' is typed at '{locus_name}', which is not "
                                    "in the database")
            k, locus = loci[locus_name]
            for a in (a1, a2):
                if a not in locus.alleles:
                    raise KinmatchError(f"person '{p.name}' has allele '{a}' at {locus_name}, "
                                        "which is not in the database")
            out += [str(locus.alleles.index(a1)), str(locus.alleles.index(a2)), str(k)]
    return [p.name for p in fam.persons]


def _format_relations(rels: Sequence[FamiliasRelation], people: list[str], out: list[str]) -> None:
    index = {name: k for k, name in enumerate(people)}
    out.append(str(len(rels)))
    for r in rels:
        for name in (r.parent, r.child):
            if name not in index:
                raise KinmatchError(f"relation {r.parent} -> {r.child}: '{name}' is neither a "
                                    "person nor an extra of this pedigree")
        parent = str(index[r.parent])
        out += [f"{parent}{r.direct_text}" if r.direct else parent, str(index[r.child])]


def _format_pedigrees(fam: FamiliasFile, people: list[str], out: list[str]) -> None:
    known = fam.known_relations
    out += [_quote(KNOWN_RELATIONS), str(len(known.extra_females)), str(len(known.extra_males))]
    base = people + known.extra_females + known.extra_males
    _format_relations(known.relations, base, out)
    out.append(str(len(fam.pedigrees)))
    for i, ped in enumerate(fam.pedigrees):
        out += [str(i), _quote(ped.name), str(len(ped.extra_females)), str(len(ped.extra_males))]
        _format_relations(ped.relations, base + ped.extra_females + ped.extra_males, out)


def _format_database(fam: FamiliasFile, out: list[str]) -> None:
    out.append(f"{_FALSE} (#Databases: {fam.n_databases} ;Theta/Kinship/Fst: {_fmt(fam.theta)} )")
    out.append(str(len(fam.loci)))
    if fam.database_name is None:
        out.append(_FALSE)
    else:
        out += [_TRUE, _quote(fam.database_name)]
    for locus in fam.loci:
        f, m = locus.female, locus.male
        n = len(locus.alleles)
        if len(locus.frequencies) != n:
            raise KinmatchError(f"locus {locus.name} has {n} alleles but "
                                f"{len(locus.frequencies)} frequencies")
        out += [_quote(locus.name), _fmt(f.rate), _fmt(m.rate), str(int(f.model)),
                str(int(m.model)), str(n + int(locus.silent_allele)), _fmt(f.range), _fmt(m.range),
                _fmt(f.rate2), _fmt(m.rate2), _TRUE if locus.silent_allele else _FALSE,
                _fmt(locus.silent_frequency)]
        details = []
        if locus.database_size is not None:
            details.append(f"DatabaseSize = {locus.database_size}")
        if locus.dropout is not None:
            details.append(f"Dropout probability = {_fmt(locus.dropout)}")
        if locus.minor_allele_frequency is not None:
            details.append(f"Minor allele frequency = {_fmt(locus.minor_allele_frequency)}")
        out.append(f"{n}\t({' , '.join(details)} )" if details else str(n))
        for allele, freq in zip(locus.alleles, locus.frequencies, strict=True):
            out += [_quote(allele), _fmt(freq)]


def _format_dvi_person(p: DVIPerson, depth: int, header: str) -> list[str]:
    out = [header, f"Name= {p.name}"]
    if p.sex != Sex.UNKNOWN:
        out.append(f"Gender= {'Male' if p.sex == Sex.MALE else 'Female'}")
    out += ["[" * (depth + 1) + "DNA data" + "]" * (depth + 1), f"nSystems= {len(p.genotypes)}"]
    for locus, (a1, a2) in p.genotypes.items():
        out += [f"SystemName= {locus}", f"Allele1= {a1}", f"Allele2= {a2}"]
    return out


def _format_dvi(dvi: FamiliasDVI) -> list[str]:
    out = ["[DVI]", "[[Unidentified persons]]", f"nPersons= {len(dvi.unidentified)}"]
    for i, p in enumerate(dvi.unidentified, start=1):
        out += _format_dvi_person(p, 3, f"[[[Person {i} ]]]")
    out.append("[[Notes]]")
    out += dvi.notes or [f"nFamilies= {len(dvi.families)}"] + [""] * len(dvi.families)
    out += ["[[Reference Families]]", f"nFamilies= {len(dvi.families)}"]
    for i, fam in enumerate(dvi.families, start=1):
        out += [f"[[[Family {i} ]]]", f"Name= {fam.name}", "[[[[Persons]]]]",
                f"nPersons= {len(fam.persons)}"]
        for j, p in enumerate(fam.persons, start=1):
            out += _format_dvi_person(p, 5, f"[[[[[Person {j}]]]]]")
        out += ["[[[[Pedigrees]]]]", f"nPedigrees= {len(fam.pedigrees)}"]
        for j, ped in enumerate(fam.pedigrees, start=1):
            out += [f"[[[[[Pedigree {j}]]]]]", f"Name= {ped.name}",
                    f"nRelations= {len(ped.relations)}"]
            for parent, child in ped.relations:
                out += [f"Parent= {parent}", f"Child= {child}"]
    return out


# ---------------------------------------------------------------------------
# Conversion: loci to markers (pedFamilias' mapping)


def _kinmatch_allele(raw: str) -> str:
    """kinmatch's name for a Familias allele: canonical numbers, and spaces
    or separators (which kinmatch does not allow) replaced by '_'."""
    try:
        return canonical_allele(raw)
    except MarkerError:
        return canonical_allele(re.sub(r"[\s/,;]+", "_", raw.strip()))


def _stepwise_possible(alleles: Sequence[str]) -> str | None:
    """Why pedFamilias would not use a stepwise model here (``None`` if it would):
    every allele must be a number >= 1 with at most one decimal."""
    for a in alleles:
        v = allele_number(a.strip())
        if v is None:
            return f"non-numeric allele '{a}'"
        if v < 1:
            return f"allele '{a}' below 1"
        if round(v, 1) != v:
            return f"microvariant '{a}' with more than one decimal"
    return None


def _mutation_spec(mut: FamiliasMutation) -> dict[str, Any]:
    if mut.model == FamiliasModel.EQUAL:
        return {"model": "equal", "rate": mut.rate}
    if mut.model == FamiliasModel.PROPORTIONAL:
        return {"model": "proportional", "rate": mut.rate}
    spec: dict[str, Any] = {"model": "stepwise", "rate": mut.rate, "rate2": mut.rate2,
                            "range": mut.range}
    if mut.model == FamiliasModel.STEPWISE_STATIONARY:
        spec["transform"] = "PM"
    return spec


def _is_trivial(mut: FamiliasMutation) -> bool:
    stepwise = mut.model >= FamiliasModel.STEPWISE_UNSTATIONARY
    return mut.rate == 0 and (not stepwise or mut.rate2 == 0)


def locus_mutation_spec(locus: FamiliasLocus) -> dict[str, Any] | None:
    """The kinmatch mutation spec of a locus, mapped as pedFamilias::readFam
    maps Familias models to pedmut models (see the module docstring).
    ``None`` when neither sex mutates."""
    female, male = locus.female, locus.male
    if max(female.model, male.model) >= FamiliasModel.STEPWISE_UNSTATIONARY:
        why = _stepwise_possible(locus.alleles)
        if why is not None:
            warn(f"locus {locus.name}: {why} does not fit a stepwise mutation model; "
                 "using the equal model with the same rates (as pedFamilias does)")
            female = FamiliasMutation(FamiliasModel.EQUAL, female.rate)
            male = FamiliasMutation(FamiliasModel.EQUAL, male.rate)
    if _is_trivial(female) and _is_trivial(male):
        return None
    f_spec, m_spec = _mutation_spec(female), _mutation_spec(male)
    return f_spec if f_spec == m_spec else {"female": f_spec, "male": m_spec}


#: Name of a Familias locus' silent allele among a kinmatch marker's alleles.
SILENT_ALLELE = "silent"


def _locus_marker(locus: FamiliasLocus, chromosome: str, filename: str | None) -> Marker:
    where = Location(filename, locus.line, None, f"/loci/{locus.name}")
    try:
        labels = [_kinmatch_allele(a) for a in locus.alleles]
    except MarkerError as err:
        raise CaseFormatError(f"locus {locus.name}: {err.message}", where) from None
    frequencies = list(locus.frequencies)
    silent = None
    if locus.silent_allele and locus.silent_frequency > 0:
        # the silent allele is one more allele of the locus, never observed
        silent = SILENT_ALLELE
        if silent in labels:
            raise CaseFormatError(f"locus {locus.name} has an allele named '{silent}' and a "
                                  "silent allele", where)
        labels.append(silent)
        if abs(sum(frequencies) - 1) <= 1e-6:
            # the observable alleles' frequencies sum to 1: scale them to make room
            frequencies = [f * (1 - locus.silent_frequency) for f in frequencies]
        frequencies.append(locus.silent_frequency)
    total = sum(frequencies)
    normalise = False
    if abs(total - 1) > 1e-6:
        if round(total, 3) != 1:
            raise CaseFormatError(f"the allele frequencies of {locus.name} sum to {total:.6g}, "
                                  "not 1", where)
        warn(f"locus {locus.name}: allele frequencies sum to {total:.9g}; normalised to 1")
        normalise = True
    spec = locus_mutation_spec(locus)
    try:
        # Extreme parameters (e.g. range ** step underflowing to 0) give NaN
        # matrices, which Marker.create rejects; numpy need not warn first.
        with np.errstate(all="ignore"):
            return Marker.create(locus.name, labels, frequencies, chromosome=chromosome,
                                 mutation=spec, normalise=normalise, silent_allele=silent)
    except MarkerError as err:
        if _has_pm(spec):
            warn(f"locus {locus.name}: {err.message}; using the equal model with the same rates "
                 "(as pedFamilias does when stabilisation fails)")
            fallback = replace(locus,
                               female=FamiliasMutation(FamiliasModel.EQUAL, locus.female.rate),
                               male=FamiliasMutation(FamiliasModel.EQUAL, locus.male.rate))
            return _locus_marker(fallback, chromosome, filename)
        raise CaseFormatError(err.message, where) from None


def _has_pm(spec: Mapping[str, Any] | None) -> bool:
    if spec is None:
        return False
    parts = [spec["female"], spec["male"]] if "female" in spec else [spec]
    return any(str(p.get("transform", "")).upper() == "PM" for p in parts)


def familias_markers(fam: FamiliasFile, chromosome: str = "autosomal") -> list[Marker]:
    """The database's loci as kinmatch markers. Familias has no X-linked
    loci; ``chromosome="X"`` declares every locus X-linked (pedFamilias'
    ``Xchrom``)."""
    if chromosome not in ("autosomal", "X"):
        raise KinmatchError(f"chromosome must be 'autosomal' or 'X', not '{chromosome}'")
    return [_locus_marker(locus, chromosome, fam.source) for locus in fam.loci]


def _profile(genotypes: Mapping[str, tuple[str, str]], lines: Mapping[str, int],
             known_loci: set[str], owner: str, filename: str | None, ptr: str
             ) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for locus, (a1, a2) in genotypes.items():
        where = Location(filename, lines.get(locus), None, f"{ptr}/{locus}")
        if locus not in known_loci:
            raise CaseFormatError(f"'{owner}' is typed at {locus}, which is not in the database",
                                  where)
        try:
            out[locus] = (_kinmatch_allele(a1), _kinmatch_allele(a2))
        except MarkerError as err:
            raise CaseFormatError(f"'{owner}' at {locus}: {err.message}", where) from None
    return out


# ---------------------------------------------------------------------------
# Conversion: pedigrees


def _add_missing_parents(fathers: dict[str, str], mothers: dict[str, str], order: list[str],
                         sexes: dict[str, Sex]) -> list[str]:
    """Give every child with one parent an untyped other parent, named as
    pedFamilias names them (``added_1``, ...; fathers first)."""
    taken = set(order)
    no_father = [c for c in order if c in mothers and c not in fathers]
    no_mother = [c for c in order if c in fathers and c not in mothers]
    added = []
    k = 0
    for children, table, sex in ((no_father, fathers, Sex.MALE), (no_mother, mothers, Sex.FEMALE)):
        for child in children:
            k += 1
            name = _unique_name(f"added_{k}", taken)
            table[child] = name
            sexes[name] = sex
            added.append(name)
    return added


def _build_pedigree(order: list[str], sexes: dict[str, Sex],
                    relations: Iterable[tuple[str, str, int | None]], keep: set[str] | None,
                    where: Location) -> Pedigree:
    """A kinmatch pedigree from parent-child pairs, with missing parents added.
    ``keep``: if given, only people in a relation or in ``keep`` are kept."""
    fathers: dict[str, str] = {}
    mothers: dict[str, str] = {}
    for parent, child, line in relations:
        loc = Location(where.file, line if line is not None else where.line, None, where.field)
        for name in (parent, child):
            if name not in sexes:
                raise CaseFormatError(f"the relation {parent} -> {child} names '{name}', who is "
                                      "not in the pedigree", loc)
        sex = sexes[parent]
        table, role = (fathers, "father") if sex == Sex.MALE else (mothers, "mother")
        if sex == Sex.UNKNOWN:
            raise CaseFormatError(f"the sex of '{parent}', a parent of '{child}', is unknown",
                                  loc)
        if child in table and table[child] != parent:
            warn(f"{loc}: '{child}' has two {role}s, '{table[child]}' and '{parent}'; the later "
                 "relation is used and the earlier ignored (as pedFamilias does)")
        table[child] = parent
    added = _add_missing_parents(fathers, mothers, order, sexes)
    related = set(fathers) | set(fathers.values()) | set(mothers.values())
    people = [Individual(pid, sexes[pid], fathers.get(pid), mothers.get(pid))
              for pid in order + added
              if keep is None or pid in related or pid in keep]
    try:
        return Pedigree(people)
    except KinmatchError as err:
        raise CaseFormatError(err.message, where) from None


def _hypothesis_pedigree(fam: FamiliasFile, ped: FamiliasPedigree, typed: set[str]) -> Pedigree:
    known = fam.known_relations
    sexes = {p.name: p.sex for p in fam.persons}
    extras_f = known.extra_females + (ped.extra_females if ped is not known else [])
    extras_m = known.extra_males + (ped.extra_males if ped is not known else [])
    sexes.update({e: Sex.FEMALE for e in extras_f})
    sexes.update({e: Sex.MALE for e in extras_m})
    order = [p.name for p in fam.persons] + extras_f + extras_m
    rels = known.relations + (ped.relations if ped is not known else [])
    where = Location(fam.source, ped.line, None, f"/pedigrees/{ped.name}")
    for r in rels:
        if r.direct:
            raise CaseFormatError(
                f"pedigree '{ped.name}': '{r.parent}' and '{r.child}' are joined by a direct "
                "(identity) relation, Familias' way of stating monozygotic twins; kinmatch's "
                "likelihood engine does not handle twins yet (type only one of them)",
                Location(fam.source, r.line, None, where.field))
    return _build_pedigree(order, sexes, ((r.parent, r.child, r.line) for r in rels), typed, where)


def familias_to_kinship_case(
    fam: FamiliasFile,
    *,
    theta: float | None = None,
    chromosome: str = "autosomal",
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
) -> KinshipCase:
    """The kinship case of a Familias file: one hypothesis per pedigree
    (the known relations alone when the file has no pedigrees), the
    persons' genotypes as profiles and the loci as markers.

    Children with one parent get an untyped other parent; untyped people
    without relations are left out of each hypothesis (they do not change
    likelihoods). ``theta`` overrides the file's θ; ``chromosome="X"``
    declares the loci X-linked (Familias files carry neither setting when
    written by pedFamilias). Twins (direct relations) are an error.
    """
    markers = familias_markers(fam, chromosome)
    known_loci = {m.name for m in markers}
    profiles: dict[str, dict[str, tuple[str, str]]] = {}
    for i, p in enumerate(fam.persons):
        if p.genotypes:
            profiles[p.name] = _profile(p.genotypes, p.genotype_lines, known_loci, p.name,
                                        fam.source, f"/persons/{i}/genotypes")
    typed = set(profiles)
    # Without pedigrees, pedFamilias takes the known relations as the one pedigree.
    known = fam.known_relations
    peds = fam.pedigrees or ([known] if typed or known.relations else [])
    hypotheses: list[Hypothesis] = []
    for ped in peds:
        if any(h.name == ped.name for h in hypotheses):
            raise CaseFormatError(f"two pedigrees are named '{ped.name}'",
                                  Location(fam.source, ped.line, None, "/pedigrees"))
        hypotheses.append(Hypothesis(ped.name, _hypothesis_pedigree(fam, ped, typed)))
    # Familias' drop-out: a probability per locus, for the persons marked
    # "consider dropouts" (Familias 3; Kling, Tillmar & Egeland 2014)
    rates = {locus.name: float(locus.dropout) for locus in fam.loci if (locus.dropout or 0) > 0}
    dropout: dict[str, float | dict[str, float]] = {}
    for person in fam.persons:
        typed_at = {name: d for name, d in rates.items() if name in profiles.get(person.name, {})}
        if person.consider_dropout and typed_at:
            dropout[person.name] = typed_at
    return KinshipCase(
        markers=markers,
        profiles=profiles,
        hypotheses=hypotheses,
        reference=None,
        theta=fam.theta if theta is None else theta,
        title=Path(fam.source).stem if fam.source else "",
        minimum_frequency=minimum_frequency,
        source=fam.source,
        extra={"familias_version": fam.version, "database": fam.database_name},
        dropout=dropout,
    )


# ---------------------------------------------------------------------------
# Conversion: DVI


@dataclass(frozen=True)
class _ReferencePedigree:
    """One pedigree of a reference family as dvir builds it: the relatives,
    the missing persons (``missing``, in pedigree order) and anyone needed to
    connect them."""

    name: str
    pedigree: Pedigree
    missing: tuple[str, ...]


def _decide_parent_sexes(order: list[str], sexes: dict[str, Sex],
                         relations: list[tuple[str, str]], where: Location) -> None:
    """Parents of undecided sex (``Missing person``) get the sex opposite to
    their partners', as pedFamilias decides it: female when every partner is
    male (or there is none), male when every partner is female."""
    parents = [p for p, _ in relations]
    for p in dict.fromkeys(parents):
        if sexes[p] != Sex.UNKNOWN:
            continue
        children = {c for q, c in relations if q == p}
        partners = {q for q, c in relations if c in children and q != p}
        if all(sexes[q] == Sex.MALE for q in partners):
            sexes[p] = Sex.FEMALE
        elif all(sexes[q] == Sex.FEMALE for q in partners):
            sexes[p] = Sex.MALE
        else:
            raise CaseFormatError(f"cannot decide the sex of '{p}', a parent together with "
                                  f"{', '.join(sorted(partners))}", where)


def _reference_pedigree(family: DVIFamily, ped: DVIPedigree, typed: set[str], filename: str | None,
                        missing_prefix: str, undecided_sex: Sex) -> _ReferencePedigree:
    where = Location(filename, ped.line, None,
                     f"/DVI/Reference Families/{family.name}/Pedigrees/{ped.name}")
    sexes = {p.name: p.sex for p in family.persons}
    order = [p.name for p in family.persons]
    named = [p for p, _ in ped.relations] + [c for _, c in ped.relations]
    for name in dict.fromkeys(named):
        if name not in sexes:
            order.append(name)
            sexes[name] = Sex.UNKNOWN
    _decide_parent_sexes(order, sexes, ped.relations, where)
    for name in order:
        if sexes[name] == Sex.UNKNOWN:
            sexes[name] = undecided_sex
    full = _build_pedigree(order, sexes, ((p, c, None) for p, c in ped.relations), None, where)
    components = full.components()
    with_typed = [c for c in components if typed & set(c)]
    if len(with_typed) > 1:
        raise CaseFormatError(f"the typed relatives of family '{family.name}' are in "
                              f"{len(with_typed)} unconnected parts of pedigree '{ped.name}'",
                              where)
    if with_typed:
        members = set(with_typed[0])
        full = full.subset([pid for pid in full.ids if pid in members])
    missing = tuple(pid for pid in full.ids if pid.startswith(missing_prefix))
    return _ReferencePedigree(ped.name, full, missing)


def familias_to_dvi_case(
    fam: FamiliasFile,
    *,
    missing_prefix: str = "Missing",
    undecided_sex: Sex = Sex.UNKNOWN,
) -> DVICase:
    """The DVI case of a Familias DVI file.

    Each reference family's pedigrees are built as dvir::familias2dvir
    builds them: people named in relations but not among the family's
    persons (``Missing person``) are added, parents of undecided sex get
    the sex opposite to their partners', children with one parent get an
    untyped other parent, only the part connected to the typed relatives is
    kept, and the missing persons are the people whose names begin with
    ``missing_prefix``. People whose sex is still undecided get
    ``undecided_sex`` (pedFamilias makes them female; pass ``Sex.FEMALE``
    to reproduce dvir's sex checks).
    """
    if fam.dvi is None:
        raise KinmatchError(f"{fam.source or 'the file'} has no [DVI] section")
    markers = familias_markers(fam)
    known_loci = {m.name for m in markers}
    ptr = "/DVI/Unidentified persons"
    samples = [
        PostMortemSample(p.name,
                         _profile(p.genotypes, p.genotype_lines, known_loci, p.name, fam.source,
                                  f"{ptr}/{p.name}"),
                         p.sex if p.sex != Sex.UNKNOWN else undecided_sex)
        for p in fam.dvi.unidentified
    ]
    families = []
    for family in fam.dvi.families:
        fptr = f"/DVI/Reference Families/{family.name}"
        profiles = {p.name: _profile(p.genotypes, p.genotype_lines, known_loci, p.name,
                                     fam.source, f"{fptr}/{p.name}")
                    for p in family.persons if p.genotypes}
        chosen = [p for p in family.pedigrees if p.name != REFERENCE_PEDIGREE] or family.pedigrees
        if len(chosen) != 1:
            names = ", ".join(p.name for p in chosen)
            raise CaseFormatError(
                f"reference family '{family.name}' has {len(chosen)} alternative pedigrees "
                f"({names}); a DVI analysis needs one pedigree per family",
                Location(fam.source, chosen[0].line if chosen else None, None, fptr))
        ref = _reference_pedigree(family, chosen[0], set(profiles), fam.source, missing_prefix,
                                  undecided_sex)
        kept = {pid: prof for pid, prof in profiles.items() if pid in ref.pedigree}
        try:
            families.append(ReferenceFamily(family.name, ref.pedigree, ref.missing, kept))
        except KinmatchError as err:
            raise CaseFormatError(err.message, Location(fam.source, chosen[0].line, None,
                                                        fptr)) from None
    return DVICase(markers, samples, _unique_missing(families), title=fam.source or "")


def _unique_missing(families: list[ReferenceFamily]) -> list[ReferenceFamily]:
    """Familias names the missing person of every family alike ("Missing
    person"); a DVI case needs case-wide unique ids, so a label used in
    several families becomes ``"<label> (<family>)"`` in each of them."""
    count: dict[str, int] = {}
    for f in families:
        for m in f.missing:
            count[m] = count.get(m, 0) + 1
    out = []
    for f in families:
        new = {m: f"{m} ({f.name})" for m in f.missing if count[m] > 1}
        if not new:
            out.append(f)
            continue

        def r(pid: str | None, new: dict[str, str] = new) -> str | None:
            return None if pid is None else new.get(pid, pid)

        ped = Pedigree([Individual(r(x.id) or x.id, x.sex, r(x.father), r(x.mother))
                        for x in f.pedigree], f.pedigree.founder_inbreeding)
        out.append(ReferenceFamily(f.name, ped, tuple(new.get(m, m) for m in f.missing),
                                   f.profiles))
    return out


# ---------------------------------------------------------------------------
# Conversion: a kinship case to Familias


_MODEL_ALIASES = {"prop": "proportional", "step": "stepwise", "eq": "equal", "none": "trivial"}


def _familias_mutation(spec: Mapping[str, Any] | None, marker: str) -> FamiliasMutation:
    if spec is None:
        return FamiliasMutation()
    model = str(spec.get("model", "")).lower()
    model = _MODEL_ALIASES.get(model, model)
    transform = spec.get("transform")
    pm = transform is not None and str(transform).upper() == "PM"
    rate = float(spec.get("rate") or 0.0)
    if model == "trivial":
        return FamiliasMutation()
    if model in ("equal", "proportional") and not pm:
        code = FamiliasModel.EQUAL if model == "equal" else FamiliasModel.PROPORTIONAL
        return FamiliasMutation(code, rate)
    if model == "stepwise":
        code = FamiliasModel.STEPWISE_STATIONARY if pm else FamiliasModel.STEPWISE_EXTENDED
        return FamiliasMutation(code, rate, float(spec.get("range") or 0.0),
                                float(spec.get("rate2") or 0.0))
    what = f"the {model} model" + (" with the PM transformation" if pm else "")
    raise KinmatchError(f"marker {marker}: Familias has no equivalent of {what} (it has equal, "
                        "proportional, stepwise and stationary stepwise)")


def _familias_locus(marker: Marker) -> FamiliasLocus:
    if marker.is_x:
        raise KinmatchError(f"marker {marker.name} is X-linked; Familias files have no X-linked "
                            "markers")
    spec = marker.mutation_spec
    if spec is not None and ("female" in spec or "male" in spec):
        female = _familias_mutation(spec.get("female"), marker.name)
        male = _familias_mutation(spec.get("male"), marker.name)
    else:
        female = male = _familias_mutation(spec, marker.name)
    if marker.silent_allele is not None:
        keep = [i for i, a in enumerate(marker.alleles) if a != marker.silent_allele]
        return FamiliasLocus(marker.name, [marker.alleles[i] for i in keep],
                             [float(marker.allele_frequencies[i]) for i in keep], female, male,
                             silent_allele=True,
                             silent_frequency=float(
                                 marker.allele_frequencies[marker.silent_index]))
    return FamiliasLocus(marker.name, list(marker.alleles),
                         [float(f) for f in marker.allele_frequencies], female, male)


def kinship_case_to_familias(case: KinshipCase, *, database_name: str = "unknown") -> FamiliasFile:
    """A Familias file holding a kinship case.

    Familias knows one list of persons for all pedigrees: everyone of every
    hypothesis is a person, each hypothesis a pedigree of parent-child
    relations. An untyped person whose sex differs between hypotheses (say
    parent '1', a father in one hypothesis and a mother in another) is
    written as a separate person ``'1 [H2]'`` in the later hypothesis, so
    that every pedigree keeps its meaning. Alleles seen in profiles but
    missing from a marker are added to its database with the case's minimum
    frequency, as the likelihood computation adds them. Familias has no
    X-linked markers, no founder inbreeding and no one-step or custom
    mutation models: those are errors.
    """
    seen = {name: [a for prof in case.profiles.values() if name in prof for a in prof[name]]
            for name in (m.name for m in case.markers)}
    markers = [m.with_alleles(seen[m.name], case.minimum_frequency) for m in case.markers]
    loci = [_familias_locus(m) for m in markers]
    typed = {pid for pid, prof in case.profiles.items() if prof}
    sexes: dict[str, Sex] = {}
    first_seen: dict[str, str] = {}
    taken = {ind.id for h in case.hypotheses for ind in h.pedigree} | set(case.profiles)
    pedigrees = []
    for h in case.hypotheses:
        if h.pedigree.founder_inbreeding:
            raise KinmatchError(f"hypothesis '{h.name}' has inbred founders, which Familias "
                                "cannot represent")
        rename: dict[str, str] = {}
        for ind in h.pedigree:
            known = sexes.get(ind.id)
            if known is None or known == ind.sex:
                sexes[ind.id] = ind.sex
                first_seen.setdefault(ind.id, h.name)
            elif ind.id in typed:
                if Sex.UNKNOWN in (known, ind.sex):
                    sexes[ind.id] = known if ind.sex == Sex.UNKNOWN else ind.sex
                    continue
                raise KinmatchError(f"'{ind.id}' is {ind.sex.name.lower()} in hypothesis "
                                    f"'{h.name}' but {known.name.lower()} in "
                                    f"'{first_seen[ind.id]}'; Familias has one sex per person")
            else:
                rename[ind.id] = _unique_name(f"{ind.id} [{h.name}]", taken)
                sexes[rename[ind.id]] = ind.sex
        rels = []
        for ind in h.pedigree:
            if ind.father is not None and ind.mother is not None:
                child = rename.get(ind.id, ind.id)
                rels += [FamiliasRelation(rename.get(ind.father, ind.father), child),
                         FamiliasRelation(rename.get(ind.mother, ind.mother), child)]
        pedigrees.append(FamiliasPedigree(h.name, rels))
    for pid in case.profiles:
        sexes.setdefault(pid, Sex.UNKNOWN)
    persons = []
    for pid, sex in sexes.items():
        if sex == Sex.UNKNOWN:
            warn(f"'{pid}' has unknown sex; written as female (Familias needs a sex)")
            sex = Sex.FEMALE
        genotypes = {name: (canonical_allele(g[0]), canonical_allele(g[-1]))
                     for name, g in case.profiles.get(pid, {}).items()}
        persons.append(FamiliasPerson(pid, sex, genotypes))
    return FamiliasFile(persons=persons, pedigrees=pedigrees, loci=loci, theta=case.theta,
                        database_name=database_name, source=case.source)
