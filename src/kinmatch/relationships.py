"""Builders for the usual relationships, and for composing pedigrees.

Each builder returns a :class:`~kinmatch.pedigree.Pedigree` in which the two
named people have the stated relationship; the other members are untyped
connecting relatives named ``u1``, ``u2``, ... (never clashing with the named
people). :class:`PedigreeBuilder` composes anything else: founders,
children, and loops such as cousin marriages.

``RELATIONSHIPS`` maps the relationship names used in case files
(``"parent_child"``, ``"full_siblings"``, ...) to the builders, together with
their IBD coefficients (κ0, κ1, κ2) for non-inbred pairs.

:func:`describe_relationship` goes the other way: it names the relationship
of two people of any pedigree, for reports ("full siblings", or "brother").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kinmatch.errors import PedigreeError
from kinmatch.ibd import kinship_coefficients
from kinmatch.pedigree import Individual, Pedigree, Sex


class PedigreeBuilder:
    """Compose a pedigree person by person.

    >>> b = PedigreeBuilder()
    >>> f, m = b.founder(sex=Sex.MALE), b.founder(sex=Sex.FEMALE)
    >>> b.child(f, m, "A", Sex.MALE)
    'A'
    >>> len(b.build())
    3
    """

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self._people: dict[str, Individual] = {}
        self._reserved = set(reserved)
        self._counter = 0
        self._inbreeding: dict[str, float] = {}

    def _fresh(self) -> str:
        while True:
            self._counter += 1
            name = f"u{self._counter}"
            if name not in self._people and name not in self._reserved:
                return name

    def _add(self, person: Individual) -> str:
        if person.id in self._people:
            raise PedigreeError(f"individual '{person.id}' is added twice")
        self._people[person.id] = person
        return person.id

    def founder(self, id: str | None = None, sex: Sex | int = Sex.MALE,
                inbreeding: float = 0.0) -> str:
        pid = self._add(Individual(id or self._fresh(), Sex.parse(sex)))
        if inbreeding:
            self._inbreeding[pid] = inbreeding
        return pid

    def child(self, father: str, mother: str, id: str | None = None,
              sex: Sex | int = Sex.MALE) -> str:
        return self._add(Individual(id or self._fresh(), Sex.parse(sex), father, mother))

    def couple_child(self, parent: str, id: str | None = None, sex: Sex | int = Sex.MALE) -> str:
        """A child of ``parent`` with a new untyped partner of the other sex."""
        psex = self._people[parent].sex
        if psex == Sex.MALE:
            partner = self.founder(sex=Sex.FEMALE)
            return self.child(parent, partner, id, sex)
        if psex == Sex.FEMALE:
            partner = self.founder(sex=Sex.MALE)
            return self.child(partner, parent, id, sex)
        raise PedigreeError(f"'{parent}' has unknown sex and cannot be a parent")

    def descend(self, ancestor: str, generations: int, id: str | None = None,
                sex: Sex | int = Sex.MALE, line_sex: Sex | int = Sex.MALE) -> str:
        """A descendant ``generations`` below ``ancestor``; intermediate people
        (of sex ``line_sex``) each have a new untyped partner."""
        current = ancestor
        for g in range(generations):
            last = g == generations - 1
            current = self.couple_child(current, id if last else None, sex if last else line_sex)
        return current

    def siblings(self, ids_and_sexes: list[tuple[str | None, Sex | int]],
                 father: str | None = None, mother: str | None = None) -> list[str]:
        """Full siblings with (new, untyped unless given) parents."""
        father = father or self.founder(sex=Sex.MALE)
        mother = mother or self.founder(sex=Sex.FEMALE)
        return [self.child(father, mother, i, s) for i, s in ids_and_sexes]

    def build(self) -> Pedigree:
        return Pedigree(self._people.values(), self._inbreeding)


def _builder(a: str, b: str) -> PedigreeBuilder:
    for pid in (a, b):
        if not isinstance(pid, str) or not pid.strip():
            raise PedigreeError(f"a relationship needs two named people, not {pid!r}")
    if a == b:
        raise PedigreeError(f"a relationship needs two different people, not '{a}' twice")
    return PedigreeBuilder(reserved=(a, b))


def unrelated(a: str = "A", b: str = "B", sex_a: Sex | int = Sex.MALE,
              sex_b: Sex | int = Sex.MALE) -> Pedigree:
    """Two unrelated people (two one-person families)."""
    bld = _builder(a, b)
    bld.founder(a, sex_a)
    bld.founder(b, sex_b)
    return bld.build()


def parent_child(parent: str = "A", child: str = "B", parent_sex: Sex | int = Sex.MALE,
                 child_sex: Sex | int = Sex.MALE) -> Pedigree:
    bld = _builder(parent, child)
    bld.founder(parent, parent_sex)
    bld.couple_child(parent, child, child_sex)
    return bld.build()


def full_siblings(a: str = "A", b: str = "B", sex_a: Sex | int = Sex.MALE,
                  sex_b: Sex | int = Sex.MALE) -> Pedigree:
    bld = _builder(a, b)
    bld.siblings([(a, sex_a), (b, sex_b)])
    return bld.build()


def half_siblings(a: str = "A", b: str = "B", sex_a: Sex | int = Sex.MALE,
                  sex_b: Sex | int = Sex.MALE, shared: str = "father") -> Pedigree:
    """Half siblings sharing their ``shared`` parent ("father" or "mother")."""
    if shared not in ("father", "mother"):
        raise PedigreeError(f"half siblings share 'father' or 'mother', not '{shared}'")
    bld = _builder(a, b)
    common = bld.founder(sex=Sex.MALE if shared == "father" else Sex.FEMALE)
    bld.couple_child(common, a, sex_a)
    bld.couple_child(common, b, sex_b)
    return bld.build()


def lineal(ancestor: str = "A", descendant: str = "B", generations: int = 2,
           ancestor_sex: Sex | int = Sex.MALE, descendant_sex: Sex | int = Sex.MALE,
           line_sex: Sex | int = Sex.MALE) -> Pedigree:
    """Direct line: 1 = parent, 2 = grandparent, 3 = great-grandparent, ..."""
    if generations < 1:
        raise PedigreeError("a lineal relationship spans at least one generation")
    bld = _builder(ancestor, descendant)
    bld.founder(ancestor, ancestor_sex)
    bld.descend(ancestor, generations, descendant, descendant_sex, line_sex)
    return bld.build()


def grandparent(grandparent: str = "A", grandchild: str = "B",
                grandparent_sex: Sex | int = Sex.MALE, grandchild_sex: Sex | int = Sex.MALE,
                parent_sex: Sex | int = Sex.MALE) -> Pedigree:
    return lineal(grandparent, grandchild, 2, grandparent_sex, grandchild_sex, parent_sex)


def avuncular(uncle: str = "A", nephew: str = "B", uncle_sex: Sex | int = Sex.MALE,
              nephew_sex: Sex | int = Sex.MALE, parent_sex: Sex | int = Sex.MALE,
              half: bool = False) -> Pedigree:
    """Uncle/aunt and nephew/niece; ``half=True`` for a half-uncle."""
    bld = _builder(uncle, nephew)
    if half:
        common = bld.founder(sex=Sex.MALE)
        bld.couple_child(common, uncle, uncle_sex)
        sib = bld.couple_child(common, None, parent_sex)
    else:
        _, sib = bld.siblings([(uncle, uncle_sex), (None, parent_sex)])
    bld.couple_child(sib, nephew, nephew_sex)
    return bld.build()


def cousins(a: str = "A", b: str = "B", degree: int = 1, removal: int = 0, half: bool = False,
            sex_a: Sex | int = Sex.MALE, sex_b: Sex | int = Sex.MALE,
            line_sex: Sex | int = Sex.MALE) -> Pedigree:
    """Cousins of the given degree (1 = first cousins), removed ``removal``
    generations (``b`` is further down), full or half."""
    if degree < 1 or removal < 0:
        raise PedigreeError("cousins have degree >= 1 and removal >= 0")
    bld = _builder(a, b)
    if half:
        common = bld.founder(sex=Sex.MALE)
        s1 = bld.couple_child(common, None, line_sex)
        s2 = bld.couple_child(common, None, line_sex)
    else:
        s1, s2 = bld.siblings([(None, line_sex), (None, line_sex)])
    bld.descend(s1, degree, a, sex_a, line_sex)
    bld.descend(s2, degree + removal, b, sex_b, line_sex)
    return bld.build()


def first_cousins(a: str = "A", b: str = "B", **kw: object) -> Pedigree:
    return cousins(a, b, 1, **kw)  # type: ignore[arg-type]


def second_cousins(a: str = "A", b: str = "B", **kw: object) -> Pedigree:
    return cousins(a, b, 2, **kw)  # type: ignore[arg-type]


def half_first_cousins(a: str = "A", b: str = "B", **kw: object) -> Pedigree:
    return cousins(a, b, 1, half=True, **kw)  # type: ignore[arg-type]


def first_cousin_marriage_child(child: str = "A", child_sex: Sex | int = Sex.MALE) -> Pedigree:
    """A child of two first cousins: an inbred person in a pedigree with a loop."""
    bld = PedigreeBuilder(reserved=(child,))
    s1, s2 = bld.siblings([(None, Sex.MALE), (None, Sex.FEMALE)])
    c1 = bld.couple_child(s1, None, Sex.MALE)
    c2 = bld.couple_child(s2, None, Sex.FEMALE)
    bld.child(c1, c2, child, child_sex)
    return bld.build()


def sibling_mating_child(child: str = "A", child_sex: Sex | int = Sex.MALE) -> Pedigree:
    """A child of a brother and sister (full-sib mating)."""
    bld = PedigreeBuilder(reserved=(child,))
    brother, sister = bld.siblings([(None, Sex.MALE), (None, Sex.FEMALE)])
    bld.child(brother, sister, child, child_sex)
    return bld.build()


@dataclass(frozen=True)
class Relationship:
    """A named pairwise relationship with its builder and IBD coefficients."""

    name: str
    build: Callable[..., Pedigree]
    kappa: tuple[float, float, float]
    description: str


RELATIONSHIPS: Mapping[str, Relationship] = {
    r.name: r
    for r in [
        Relationship("unrelated", unrelated, (1.0, 0.0, 0.0), "no common ancestors"),
        Relationship("parent_child", parent_child, (0.0, 1.0, 0.0), "A is a parent of B"),
        Relationship("full_siblings", full_siblings, (0.25, 0.5, 0.25), "same father and mother"),
        Relationship("half_siblings", half_siblings, (0.5, 0.5, 0.0), "one parent in common"),
        Relationship("grandparent", grandparent, (0.5, 0.5, 0.0), "A is a grandparent of B"),
        Relationship("avuncular", avuncular, (0.5, 0.5, 0.0), "A is an uncle or aunt of B"),
        Relationship("first_cousins", first_cousins, (0.75, 0.25, 0.0),
                     "children of full siblings"),
        Relationship("half_first_cousins", half_first_cousins, (0.875, 0.125, 0.0),
                     "children of half siblings"),
        Relationship("second_cousins", second_cousins, (0.9375, 0.0625, 0.0),
                     "grandchildren of full siblings"),
    ]
}


def relationship_pedigree(name: str, a: str, b: str, sex_a: Sex | int, sex_b: Sex | int
                          ) -> Pedigree:
    """The pedigree of a named relationship between ``a`` and ``b``."""
    try:
        rel = RELATIONSHIPS[name]
    except KeyError:
        raise PedigreeError(
            f"unknown relationship '{name}'; expected one of {', '.join(RELATIONSHIPS)}"
        ) from None
    if name == "parent_child":
        return parent_child(a, b, sex_a, sex_b)
    if name == "grandparent":
        return grandparent(a, b, sex_a, sex_b)
    if name == "avuncular":
        return avuncular(a, b, sex_a, sex_b)
    return rel.build(a, b, sex_a=sex_a, sex_b=sex_b)


# ---------------------------------------------------------------------------
# Naming the relationship of two people of a pedigree

#: Per kind of relative: the pair's name, and the kin term for a male, a
#: female and a relative of unknown sex.
_NAMES: Mapping[str, tuple[str, tuple[str, str, str]]] = {
    "parent": ("parent-child", ("father", "mother", "parent")),
    "child": ("parent-child", ("son", "daughter", "child")),
    "full sibling": ("full siblings", ("brother", "sister", "sibling")),
    "half sibling": ("half siblings", ("half-brother", "half-sister", "half-sibling")),
    "partner": ("partners", ("partner", "partner", "partner")),
    "grandparent": ("grandparent-grandchild", ("grandfather", "grandmother", "grandparent")),
    "grandchild": ("grandparent-grandchild", ("grandson", "granddaughter", "grandchild")),
    "ancestor": ("ancestor-descendant", ("ancestor", "ancestor", "ancestor")),
    "descendant": ("ancestor-descendant", ("descendant", "descendant", "descendant")),
    "uncle": ("avuncular", ("uncle", "aunt", "parent's sibling")),
    "nephew": ("avuncular", ("nephew", "niece", "sibling's child")),
    "first cousin": ("first cousins", ("first cousin", "first cousin", "first cousin")),
    "unrelated": ("unrelated", ("no blood relation", "no blood relation", "no blood relation")),
}


def _grandparents(pedigree: Pedigree, parents: tuple[str, str] | None) -> set[str]:
    return {g for p in (parents or ()) for g in (pedigree.parents(p) or ())}


def _full_siblings(pedigree: Pedigree, x: str, y: str) -> bool:
    px, py = pedigree.parents(x), pedigree.parents(y)
    return x != y and px is not None and py is not None and set(px) == set(py)


def _relative_kind(pedigree: Pedigree, a: str, b: str) -> tuple[str, float | None]:
    """What ``b`` is to ``a`` (a key of ``_NAMES``, or ``"related"``) and
    their kinship coefficient when it was needed (see
    :func:`describe_relationship` for the rules)."""
    pa, pb = pedigree.parents(a), pedigree.parents(b)
    if pa is not None and b in pa:
        return "parent", None
    if pb is not None and a in pb:
        return "child", None
    if pa is not None and pb is not None:
        shared = set(pa) & set(pb)
        if len(shared) == 2:
            return "full sibling", None
        if len(shared) == 1:
            return "half sibling", None
    if b in pedigree.ancestors(a):
        return ("grandparent" if b in _grandparents(pedigree, pa) else "ancestor"), None
    if a in pedigree.ancestors(b):
        return ("grandchild" if a in _grandparents(pedigree, pb) else "descendant"), None
    phi = kinship_coefficients(pedigree)(a, b)
    if phi > 0 and pa is not None and pb is not None:
        if any(_full_siblings(pedigree, b, p) for p in pa):
            return "uncle", phi
        if any(_full_siblings(pedigree, a, p) for p in pb):
            return "nephew", phi
        if any(_full_siblings(pedigree, x, y) for x in pa for y in pb):
            return "first cousin", phi
    if any(a in (pedigree.parents(c) or ()) for c in pedigree.children(b)):
        return "partner", phi
    return ("unrelated" if phi == 0 else "related"), phi


def describe_relationship(pedigree: Pedigree, a: str, b: str, *, kin_term: bool = False) -> str:
    """A short name of the relationship of ``a`` and ``b`` in ``pedigree``.

    By default the pair's relationship, symmetric in ``a`` and ``b`` and
    lower case (as the pedsuite's verbalisr words them): "parent-child",
    "full siblings", "half siblings", "partners", "grandparent-grandchild",
    "ancestor-descendant", "avuncular", "first cousins", "related" (some
    other blood relation) or "unrelated". With ``kin_term=True``, what ``b``
    is to ``a``, in the word for ``b``'s sex: "father", "sister",
    "half-brother", "partner", "grandmother", "ancestor", "uncle",
    "niece", "first cousin", "no blood relation", or for any other blood
    relative the kinship coefficient, ``"φ = 0.03125"``.

    The relationship is read from the pedigree's structure, the first that
    applies of: parent, child, full or half sibling, grandparent or further
    ancestor, grandchild or further descendant, uncle or aunt, nephew or
    niece, first cousin (a parent of each are full siblings), partner (a
    child in common, no blood relation named above), and by the kinship
    coefficient ``φ`` related (``φ > 0``) or unrelated. Blood relatives are
    named by their closest tie in this order, whatever inbreeding adds (a
    double first cousin is a first cousin).
    """
    kind, phi = _relative_kind(pedigree, a, b)
    if kind == "related":
        return f"φ = {phi:.4g}" if kin_term else "related"
    pair, (male, female, either) = _NAMES[kind]
    if not kin_term:
        return pair
    sex = pedigree.sex(b)
    return male if sex == Sex.MALE else female if sex == Sex.FEMALE else either
