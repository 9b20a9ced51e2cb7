"""Pedigree structure: individuals, their parents and sexes.

A :class:`Pedigree` is a set of individuals, each with an id, a sex and
either both parents or none (a *founder*). It may consist of several
disconnected families (a family plus an unrelated person, say). Validation
catches what makes a pedigree impossible: duplicate ids, unknown parents, a
father who is not male or a mother who is not female, self-parenting and
cycles (someone who is their own ancestor). Loops (cousin marriage, sibling
mating) are allowed; the likelihood engine handles them exactly.

Founders may be inbred: ``founder_inbreeding[id] = f`` gives the founder a
genotype distribution with inbreeding coefficient ``f``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import IntEnum

from kinmatch.errors import PedigreeError


class Sex(IntEnum):
    """Sex coded as in pedtools and LINKAGE files: 0 unknown, 1 male, 2 female."""

    UNKNOWN = 0
    MALE = 1
    FEMALE = 2

    @classmethod
    def parse(cls, value: object) -> Sex:
        """Accept 0/1/2, and the usual words and letters (M/F/male/female/unknown)."""
        if isinstance(value, Sex):
            return value
        if isinstance(value, bool):
            raise PedigreeError(f"sex must be 1 (male), 2 (female) or 0 (unknown), not {value!r}")
        if isinstance(value, int) and value in (0, 1, 2):
            return cls(value)
        text = str(value).strip().lower()
        table = {
            "0": cls.UNKNOWN, "unknown": cls.UNKNOWN, "u": cls.UNKNOWN, "?": cls.UNKNOWN,
            "1": cls.MALE, "m": cls.MALE, "male": cls.MALE,
            "2": cls.FEMALE, "f": cls.FEMALE, "female": cls.FEMALE,
        }
        if text in table:
            return table[text]
        raise PedigreeError(f"sex must be 1 (male), 2 (female) or 0 (unknown), not {value!r}")


@dataclass(frozen=True)
class Individual:
    """A person in a pedigree. ``father``/``mother`` are ids, or ``None`` for founders."""

    id: str
    sex: Sex = Sex.UNKNOWN
    father: str | None = None
    mother: str | None = None

    @property
    def is_founder(self) -> bool:
        return self.father is None


_MISSING_PARENT = {"", "0", "na", "nan", "none", "null", "-", "."}


def parent_id(value: object) -> str | None:
    """Read a parent id; the usual codings of 'no parent' (0, NA, empty, -) give ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in _MISSING_PARENT else text


class Pedigree:
    """A validated pedigree.

    Individuals keep their input order; :attr:`order` lists them with every
    parent before its children, which is the order the likelihood engine
    uses.
    """

    def __init__(
        self,
        individuals: Iterable[Individual],
        founder_inbreeding: Mapping[str, float] | None = None,
    ) -> None:
        people = list(individuals)
        self._by_id: dict[str, Individual] = {}
        for person in people:
            if not isinstance(person.id, str) or not person.id.strip():
                raise PedigreeError("an individual has an empty id")
            if person.id in self._by_id:
                raise PedigreeError(f"individual '{person.id}' appears twice")
            self._by_id[person.id] = person
        self.individuals: tuple[Individual, ...] = tuple(people)
        self._children: dict[str, list[str]] = {p.id: [] for p in people}
        for person in people:
            self._check_parents(person)
            if person.father is not None and person.mother is not None:
                self._children[person.father].append(person.id)
                self._children[person.mother].append(person.id)
        self.order: tuple[str, ...] = self._topological_order()
        self.founder_inbreeding: dict[str, float] = {}
        for pid, f in (founder_inbreeding or {}).items():
            if pid not in self._by_id:
                raise PedigreeError(f"founder inbreeding given for unknown individual '{pid}'")
            if not self._by_id[pid].is_founder:
                raise PedigreeError(f"'{pid}' has parents; only founders can have founder "
                                    "inbreeding")
            if not 0 <= float(f) <= 1:
                raise PedigreeError(f"founder inbreeding of '{pid}' must be in [0, 1], not {f}")
            if float(f) > 0:
                self.founder_inbreeding[pid] = float(f)

    # -- validation -------------------------------------------------------

    def _check_parents(self, person: Individual) -> None:
        pid = person.id
        if (person.father is None) != (person.mother is None):
            raise PedigreeError(
                f"'{pid}' has only one parent given; give both parents or neither "
                "(add an untyped parent if one is unknown)"
            )
        for role, parent, sex in (("father", person.father, Sex.MALE),
                                  ("mother", person.mother, Sex.FEMALE)):
            if parent is None:
                continue
            if parent == pid:
                raise PedigreeError(f"'{pid}' is given as their own {role}")
            if parent not in self._by_id:
                raise PedigreeError(f"{role} '{parent}' of '{pid}' is not in the pedigree")
            actual = self._by_id[parent].sex
            if actual != sex:
                word = "male" if sex == Sex.MALE else "female"
                raise PedigreeError(
                    f"'{parent}' is the {role} of '{pid}' but has sex {int(actual)} "
                    f"({actual.name.lower()}); a {role} must be {word}"
                )

    def _topological_order(self) -> tuple[str, ...]:
        indegree = {p.id: (0 if p.is_founder else 2) for p in self.individuals}
        ready = [p.id for p in self.individuals if p.is_founder]
        order: list[str] = []
        while ready:
            pid = ready.pop(0)
            order.append(pid)
            for child in self._children[pid]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(self.individuals):
            stuck = [p.id for p in self.individuals if p.id not in set(order)]
            raise PedigreeError(
                "the pedigree has a cycle: " + ", ".join(stuck[:5])
                + " would be their own ancestor(s)"
            )
        return tuple(order)

    # -- queries ----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.individuals)

    def __iter__(self) -> Iterator[Individual]:
        return iter(self.individuals)

    def __contains__(self, pid: object) -> bool:
        return pid in self._by_id

    def __getitem__(self, pid: str) -> Individual:
        try:
            return self._by_id[pid]
        except KeyError:
            raise PedigreeError(f"individual '{pid}' is not in the pedigree") from None

    def __repr__(self) -> str:
        more = "..." if len(self) > 8 else ""
        return f"Pedigree({len(self)} individuals: {', '.join(self.ids[:8])}{more})"

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.individuals]

    @property
    def founders(self) -> list[str]:
        return [p.id for p in self.individuals if p.is_founder]

    @property
    def nonfounders(self) -> list[str]:
        return [p.id for p in self.individuals if not p.is_founder]

    def children(self, pid: str) -> list[str]:
        return list(self._children[self[pid].id])

    def parents(self, pid: str) -> tuple[str, str] | None:
        person = self[pid]
        if person.father is None or person.mother is None:
            return None
        return person.father, person.mother

    def sex(self, pid: str) -> Sex:
        return self[pid].sex

    def components(self) -> list[list[str]]:
        """The connected families, each as a list of ids in pedigree order."""
        parent_of = {p.id: p.id for p in self.individuals}

        def find(x: str) -> str:
            while parent_of[x] != x:
                parent_of[x] = parent_of[parent_of[x]]
                x = parent_of[x]
            return x

        for p in self.individuals:
            if p.father is not None and p.mother is not None:
                for q in (p.father, p.mother):
                    ra, rb = find(p.id), find(q)
                    if ra != rb:
                        parent_of[ra] = rb
        groups: dict[str, list[str]] = {}
        for pid in self.order:
            groups.setdefault(find(pid), []).append(pid)
        return list(groups.values())

    def has_loops(self) -> bool:
        """Whether the pedigree has a loop (marriage or inbreeding loop).

        Counts in the bipartite graph of individuals and matings: a forest has
        edges = nodes - components.
        """
        matings = {(p.father, p.mother) for p in self.individuals if p.father is not None}
        edges = 2 * len(matings) + len(self.nonfounders)
        nodes = len(self.individuals) + len(matings)
        return edges > nodes - len(self.components())

    def ancestors(self, pid: str) -> set[str]:
        out: set[str] = set()
        stack = [pid]
        while stack:
            parents = self.parents(stack.pop())
            if parents:
                for q in parents:
                    if q not in out:
                        out.add(q)
                        stack.append(q)
        return out

    def descendants(self, pid: str) -> set[str]:
        out: set[str] = set()
        stack = [pid]
        while stack:
            for c in self._children[stack.pop()]:
                if c not in out:
                    out.add(c)
                    stack.append(c)
        return out

    def subset(self, ids: Iterable[str]) -> Pedigree:
        """The sub-pedigree of ``ids``; every kept non-founder must keep both parents."""
        keep = set(ids)
        people = [p for p in self.individuals if p.id in keep]
        inbreeding = {k: v for k, v in self.founder_inbreeding.items() if k in keep}
        return Pedigree(people, inbreeding)

    def with_sexes(self, sexes: Mapping[str, Sex]) -> Pedigree:
        """This pedigree with the people of ``sexes`` given those sexes (a
        parent's sex cannot change: the pedigree is validated again)."""
        if not sexes:
            return self
        people = [replace(p, sex=sexes[p.id]) if p.id in sexes else p for p in self.individuals]
        return Pedigree(people, self.founder_inbreeding)

    def is_inbred_founder(self, pid: str) -> bool:
        return pid in self.founder_inbreeding


def pedigree_from_records(
    records: Iterable[Mapping[str, object]],
    founder_inbreeding: Mapping[str, float] | None = None,
) -> Pedigree:
    """Build a pedigree from dicts with ``id``, ``sex`` and ``father``/``mother``
    (or pedtools' ``fid``/``mid``); 0, NA or an empty value means no parent."""
    people = []
    for rec in records:
        pid = str(rec.get("id", "")).strip()
        father = parent_id(rec.get("father", rec.get("fid")))
        mother = parent_id(rec.get("mother", rec.get("mid")))
        people.append(Individual(pid, Sex.parse(rec.get("sex", 0)), father, mother))
    return Pedigree(people, founder_inbreeding)
