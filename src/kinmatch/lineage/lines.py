"""Which lineage markers a pedigree makes shared: the paternal (Y) and maternal (mtDNA) lines.

A Y chromosome passes only from father to son, so two men share a Y lineage
exactly when their father-chains (the man, his father, his father's father,
...) meet: the first man on both chains is their most recent common
patrilineal ancestor, and the number of meioses between them is the sum of
the two distances to him. A woman carries no Y; a person of unknown sex is
not assumed to carry one.

mtDNA passes from a mother to all her children, sons and daughters alike,
but only daughters pass it on. Two people share an mtDNA lineage exactly when
their mother-chains (the person, her or his mother, the mother's mother, ...)
meet; the first person on both chains is the common matrilineal ancestor
(a woman, unless the two people are the same person). The sexes of the two
people themselves do not matter: a man receives his mother's mtDNA.

Every person has one father and one mother, so each chain is unique, and so
is the meeting point, even in pedigrees with loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kinmatch.errors import PedigreeError
from kinmatch.pedigree import Pedigree, Sex

Line = Literal["paternal", "maternal"]


@dataclass(frozen=True)
class LineConnection:
    """How two people are joined along one uniparental line.

    ``meioses`` is the number of transmissions on the path ``a`` → common
    ancestor → ``b`` (``steps_a + steps_b``); ``path_a`` and ``path_b`` list
    the people from ``a`` (resp. ``b``) up to and including the common
    ancestor.
    """

    line: Line
    a: str
    b: str
    common_ancestor: str
    steps_a: int
    steps_b: int
    path_a: tuple[str, ...]
    path_b: tuple[str, ...]

    @property
    def meioses(self) -> int:
        return self.steps_a + self.steps_b


def _chain(pedigree: Pedigree, pid: str, line: Line) -> list[str]:
    """``pid`` followed by their father (or mother), that one's father (or mother), ..."""
    chain = [pid]
    current = pid
    while True:
        person = pedigree[current]
        nxt = person.father if line == "paternal" else person.mother
        if nxt is None:
            return chain
        chain.append(nxt)
        current = nxt


def _meet(pedigree: Pedigree, a: str, b: str, line: Line) -> LineConnection | None:
    for pid in (a, b):
        if pid not in pedigree:
            raise PedigreeError(f"individual '{pid}' is not in the pedigree")
    chain_a = _chain(pedigree, a, line)
    chain_b = _chain(pedigree, b, line)
    position_b = {pid: i for i, pid in enumerate(chain_b)}
    for i, pid in enumerate(chain_a):
        j = position_b.get(pid)
        if j is not None:
            return LineConnection(line, a, b, pid, i, j, tuple(chain_a[: i + 1]),
                                  tuple(chain_b[: j + 1]))
    return None


def paternal_line(pedigree: Pedigree, a: str, b: str) -> LineConnection | None:
    """The Y-chromosome connection of ``a`` and ``b``, or ``None``.

    ``None`` when either is not male (female or unknown sex) or when their
    father-chains do not meet in the pedigree.
    """
    for pid in (a, b):
        if pedigree.sex(pid) != Sex.MALE:
            return None
    return _meet(pedigree, a, b, "paternal")


def maternal_line(pedigree: Pedigree, a: str, b: str) -> LineConnection | None:
    """The mtDNA connection of ``a`` and ``b`` (either sex), or ``None``.

    ``None`` when their mother-chains do not meet in the pedigree.
    """
    return _meet(pedigree, a, b, "maternal")


def paternal_line_meioses(pedigree: Pedigree, a: str, b: str) -> int | None:
    """Meioses between ``a`` and ``b`` along the paternal line; ``None`` if they share no Y.

    >>> from kinmatch.relationships import avuncular
    >>> paternal_line_meioses(avuncular("uncle", "nephew"), "uncle", "nephew")
    3
    """
    link = paternal_line(pedigree, a, b)
    return None if link is None else link.meioses


def maternal_line_meioses(pedigree: Pedigree, a: str, b: str) -> int | None:
    """Meioses between ``a`` and ``b`` along the maternal line; ``None`` if they share no mtDNA.

    >>> from kinmatch.relationships import parent_child
    >>> maternal_line_meioses(parent_child("mother", "son", parent_sex=2), "mother", "son")
    1
    """
    link = maternal_line(pedigree, a, b)
    return None if link is None else link.meioses


@dataclass(frozen=True)
class LineageApplicability:
    """Which lineage evidence a pedigree makes informative for a pair."""

    paternal: LineConnection | None
    maternal: LineConnection | None

    @property
    def y_applies(self) -> bool:
        return self.paternal is not None

    @property
    def mtdna_applies(self) -> bool:
        return self.maternal is not None


def applicable_lineages(pedigree: Pedigree, a: str, b: str) -> LineageApplicability:
    """The paternal and maternal connections of ``a`` and ``b`` together."""
    return LineageApplicability(paternal_line(pedigree, a, b), maternal_line(pedigree, a, b))
