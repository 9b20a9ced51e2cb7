"""Pedigree likelihoods of marker data by peeling.

The likelihood of genotypes observed on some members of a pedigree, at one
marker, is a sum over the unobserved alleles of everyone involved of a
product of small factors (Elston & Stewart 1971; Cannings, Thompson &
Skolnick 1978):

* a **founder factor** per founder allele: its population frequency ``p_a``
  (with founder inbreeding ``f``: ``f p_a [a = b] + (1 - f) p_a p_b`` over the
  founder's two alleles; with a subpopulation correction θ, one joint factor
  over all founder alleles of a family given by the Balding–Nichols sampling
  formula, see :func:`balding_nichols_founder_factor`);
* a **transmission factor** per allele a child received:
  ``T[a, b, c] = (M[a, c] + M[b, c]) / 2``, the probability that a parent with
  alleles ``a, b`` transmits ``c`` (``M`` is the mutation matrix of the
  parent's sex, the identity without mutation); for an X-linked marker a
  father transmits his single X allele to daughters only (``M[x, c]``);
* an **evidence factor** per typed person: 1 when the person's paternal and
  maternal alleles form the observed (unordered) genotype, else 0.

Each person carries two allele variables (paternal, maternal); males carry
one at X-linked markers. Summing the product over all variables is a tensor
contraction; peeling is the choice of the order in which variables are
summed out. We let :mod:`opt_einsum` choose that order for each pedigree
(greedy/optimal search over contraction paths), which is variable
elimination on the pedigree's allele graph. Elston–Stewart peeling of
nuclear families is one such order; pedigrees with loops need no explicit
loop breaking, because eliminating a variable of a loop simply produces a
factor over all the variables it is connected to — the exact equivalent of
conditioning on a loop breaker's genotype (cutset conditioning) and summing.

Three reductions keep this fast:

* people who are neither typed nor ancestors of someone typed are dropped
  (their factors sum to one);
* the variables of a typed person range only over the person's own alleles;
* alleles no one carries are merged into one *lumped* allele whenever the
  mutation model is strongly lumpable for them (always without mutation, and
  for the equal and proportional models), so a 50-allele STR costs no more
  than its observed alleles plus one.

Likelihoods are returned as natural logarithms; each factor is scaled to a
maximum of one and the scales are carried in log space, so many markers and
large pedigrees do not underflow.

What is worked out once and reused — contraction paths by network shape,
alphabets by marker — belongs to a :class:`PeelingContext`. Every entry
point takes one (``context=``); without it they share
:data:`DEFAULT_CONTEXT`, which lives as long as the process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import NamedTuple
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import KinmatchError, MarkerError, PedigreeError
from kinmatch.likelihood.contraction import (
    DEFAULT_PLANNER,
    ContractionPlanner,
    contract,
    einsum_subscripts,
)
from kinmatch.likelihood.observation import Genotype, Observation, observation_factor
from kinmatch.likelihood.population import balding_nichols_founder_factor
from kinmatch.markers import Marker
from kinmatch.mutation import lumped_matrix, rest_states
from kinmatch.pedigree import Pedigree, Sex

#: Largest θ founder factor (entries) that will be built.
THETA_FACTOR_LIMIT = 50_000_000


# ---------------------------------------------------------------------------
# Pure numerical building blocks










# ---------------------------------------------------------------------------
# The network of factors for one pedigree and a batch of markers


@dataclass(frozen=True)
class _Alphabet:
    """One marker's alphabet inside a network.

    ``frequencies`` (``n``), the mutation matrices restricted (or lumped) to
    the alphabet (``None`` without mutation), and each typed person's two
    alleles as positions in the alphabet.
    """

    frequencies: NDArray[np.float64]
    female: NDArray[np.float64] | None
    male: NDArray[np.float64] | None
    positions: tuple[Genotype, ...]  # in the order of the layout's typed people
    #: per uncertain person (layout order): observed positions (second -1 if one
    #: allele), drop-out, drop-in, homozygote drop-out, silent position (-1: none)
    observations: tuple[tuple[int, int, float, float, float, int], ...] = ()
    #: (alphabet size, marker's alleles): what each alphabet position stands
    #: for, when the unobserved alleles are pseudo-alleles
    #: (:class:`~kinmatch.mutation.RestStates`); ``None`` when position ``i``
    #: is allele ``i``
    expansion: NDArray[np.float64] | None = None

    @property
    def size(self) -> int:
        return len(self.frequencies)


def _check_x_genotypes(pedigree: Pedigree, marker: Marker, typed: Mapping[str, Genotype]) -> None:
    for pid, (a, b) in typed.items():
        sex = pedigree.sex(pid)
        if sex == Sex.UNKNOWN:
            raise PedigreeError(
                f"'{pid}' is typed at X-linked marker {marker.name} but has unknown sex"
            )
        if sex == Sex.MALE and a != b:
            raise MarkerError(
                f"'{pid}' is male but heterozygous ({marker.alleles[a]}/{marker.alleles[b]}) "
                f"at X-linked marker {marker.name}"
            )


def _alphabet(marker: Marker, typed: Mapping[str, Genotype], layout: _Layout,
              lump: bool, uncertain: Mapping[str, Observation] | None = None,
              expand: bool = False, context: PeelingContext | None = None) -> _Alphabet:
    """The alphabet a marker needs: the observed alleles, plus the others —
    merged into one lumped allele when the mutation model allows it (always
    without mutation), else all of them. Without untyped people in the
    network the observed alleles suffice.

    ``expand`` (for genotype distributions over every allele): the others
    become pseudo-alleles (:func:`~kinmatch.mutation.rest_states`) that can
    be expanded back to alleles, when the model allows it; else all of them.
    The templates are ``context``'s (default :data:`DEFAULT_CONTEXT`).
    """
    uncertain = uncertain or {}
    untyped = len(layout.people) > len(typed)
    alphabets = (context if context is not None else DEFAULT_CONTEXT).alphabets(marker)
    if not lump and not expand and untyped:  # the whole alphabet
        template = alphabets.whole(marker)
    else:
        observed = {a for g in typed.values() for a in g}
        for o in uncertain.values():
            observed.update(o.alleles)
            if o.silent is not None:
                observed.add(o.silent)
        has_rest = untyped and len(observed) < marker.n_alleles
        template = alphabets.template(marker, tuple(sorted(observed)), has_rest, lump, expand)
    position = template.position
    return _Alphabet(template.frequencies, template.female, template.male,
                     tuple((position[typed[pid][0]], position[typed[pid][1]])
                           for pid in layout.typed_people),
                     _observations(layout, uncertain, position.__getitem__)
                     if uncertain else (), template.expansion)


@dataclass(frozen=True)
class _AlphabetTemplate:
    """What an alphabet is for one marker and set of observed alleles
    (everything but the people's positions in it)."""

    frequencies: NDArray[np.float64]
    female: NDArray[np.float64] | None
    male: NDArray[np.float64] | None
    position: Mapping[int, int]  # allele index -> position in the alphabet
    expansion: NDArray[np.float64] | None = None


class _Identity(dict[int, int]):
    """Position of allele ``a`` in the whole alphabet: ``a``."""

    def __missing__(self, key: int) -> int:
        return key


def _sex_matrices(marker: Marker,
                  restrict: Callable[[NDArray[np.float64]], NDArray[np.float64]] = lambda m: m,
                  ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """The marker's (female, male) mutation matrices through ``restrict``
    (one object for both when the model is the same for both sexes;
    ``(None, None)`` without mutation)."""
    model = marker.mutation
    if model is None:
        return None, None
    female = restrict(model.female.matrix)
    return female, female if model.sex_equal else restrict(model.male.matrix)


def _whole_template(marker: Marker) -> _AlphabetTemplate:
    return _AlphabetTemplate(marker.allele_frequencies, *_sex_matrices(marker), _Identity())


def _make_template(marker: Marker, observed: tuple[int, ...], has_rest: bool, lump: bool,
                   expand: bool, whole: Callable[[], _AlphabetTemplate]) -> _AlphabetTemplate:
    """The alphabet of ``marker`` for ``observed`` alleles (see :func:`_alphabet`);
    ``whole`` gives the marker's whole alphabet."""
    model = marker.mutation
    freqs = marker.allele_frequencies
    seen = set(observed)
    rest = [i for i in range(marker.n_alleles) if i not in seen] if has_rest else []
    obs = list(observed)
    if rest and expand:
        states = rest_states(freqs, obs, rest, *_sex_matrices(marker))
        if states is None:
            return whole()
        expansion = np.zeros((len(obs) + len(states.weights), marker.n_alleles))
        expansion[np.arange(len(obs)), obs] = 1.0
        expansion[len(obs):, rest] = states.basis
        return _AlphabetTemplate(np.append(freqs[obs], states.weights), states.female,
                                 states.male, {a: i for i, a in enumerate(obs)}, expansion)
    if rest and lump and (len(rest) == 1 or model is None or model.lumpable(rest)):
        return _AlphabetTemplate(
            np.append(freqs[obs], freqs[rest].sum()),
            *_sex_matrices(marker, lambda m: lumped_matrix(m, obs, rest)),
            {a: i for i, a in enumerate(obs)})
    if rest or len(obs) == marker.n_alleles:
        return whole()
    # nobody untyped: the observed alleles suffice
    return _AlphabetTemplate(
        freqs[obs], *_sex_matrices(marker, lambda m: m[np.ix_(obs, obs)]),
        {a: i for i, a in enumerate(obs)})


class MarkerAlphabets:
    """One marker's alphabets (for a :class:`PeelingContext`): its whole
    alphabet, the alphabets of the observed-allele sets met so far (by
    observed alleles, whether unobserved alleles are in the network, and the
    mode: lumped, expanded), at most ``limit`` of them (the oldest dropped
    first), and the marker without mutation.

    Holds no reference to its marker (the context keeps it weakly by the
    marker, and a reference back would keep the marker alive forever).
    """

    __slots__ = ("_limit", "_mutation_free", "_templates", "_whole")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._whole: _AlphabetTemplate | None = None
        self._templates: dict[tuple[tuple[int, ...], bool, bool, bool], _AlphabetTemplate] = {}
        self._mutation_free: Marker | None = None

    def __len__(self) -> int:
        return len(self._templates)

    def whole(self, marker: Marker) -> _AlphabetTemplate:
        """The whole alphabet of ``marker`` (the marker these alphabets belong to)."""
        if self._whole is None:
            self._whole = _whole_template(marker)
        return self._whole

    def template(self, marker: Marker, observed: tuple[int, ...], has_rest: bool, lump: bool,
                 expand: bool) -> _AlphabetTemplate:
        """The alphabet of ``marker`` for ``observed`` alleles (see :func:`_alphabet`)."""
        key = (observed, has_rest, lump, expand)
        found = self._templates.get(key)
        if found is None:
            found = _make_template(marker, observed, has_rest, lump, expand,
                                   lambda: self.whole(marker))
            if len(self._templates) >= self._limit:
                del self._templates[next(iter(self._templates))]
            self._templates[key] = found
        return found

    def mutation_free(self, marker: Marker) -> Marker:
        """``marker`` without its mutation model (itself when it has none)."""
        if marker.mutation is None:
            return marker
        if self._mutation_free is None:
            self._mutation_free = replace(marker, mutation=None, mutation_spec=None)
        return self._mutation_free


class PeelingContext:
    """What the peeling engine works out once and reuses between calls.

    * ``planner``: contraction paths and compiled plans by network shape
      (:class:`~kinmatch.likelihood.contraction.ContractionPlanner`, with
      its bounds);
    * per marker (:class:`MarkerAlphabets`): alphabet templates by observed
      alleles, at most ``max_alphabets`` per marker, and the marker's
      mutation-free twin. Markers are held weakly: a marker's alphabets go
      when the marker is garbage-collected (markers compare by identity,
      so no other marker can ever find them).

    Everything lives as long as the context. Nothing it keeps changes a
    result. The entry points of this module take one as ``context=``;
    without it they use :data:`DEFAULT_CONTEXT`.
    """

    def __init__(self, planner: ContractionPlanner | None = None, *,
                 max_alphabets: int = 4096) -> None:
        self.planner = planner if planner is not None else ContractionPlanner()
        self.max_alphabets = max_alphabets
        self._markers: WeakKeyDictionary[Marker, MarkerAlphabets] = WeakKeyDictionary()

    def alphabets(self, marker: Marker) -> MarkerAlphabets:
        """The alphabets of ``marker`` kept by this context."""
        found = self._markers.get(marker)
        if found is None:
            found = self._markers[marker] = MarkerAlphabets(self.max_alphabets)
        return found

    def mutation_free(self, marker: Marker) -> Marker:
        """``marker`` without its mutation model (for Mendelian compatibility),
        made once per marker, so that its own alphabets are kept too."""
        return self.alphabets(marker).mutation_free(marker)

    @property
    def n_markers(self) -> int:
        """Markers whose alphabets are kept (alive ones only)."""
        return len(self._markers)


#: The context of every call that gives none: one per process, living as
#: long as it does. Its planner is
#: :data:`~kinmatch.likelihood.contraction.DEFAULT_PLANNER` (at most 20,000
#: paths and the 4,096 most recently used compiled plans); each marker's
#: alphabets (at most 4,096) go with the marker.
DEFAULT_CONTEXT = PeelingContext(DEFAULT_PLANNER)


def _observations(layout: _Layout, uncertain: Mapping[str, Observation],
                  position: Callable[[int], int]
                  ) -> tuple[tuple[int, int, float, float, float, int], ...]:
    out = []
    for pid in layout.uncertain_people:
        o = uncertain[pid]
        second = position(o.alleles[1]) if len(o.alleles) == 2 else -1
        silent = position(o.silent) if o.silent is not None else -1
        out.append((position(o.alleles[0]), second, o.dropout, o.dropin, o.hom_dropout, silent))
    return tuple(out)


#: Alphabets are padded (with alleles of frequency zero) to one of these
#: sizes, so that markers of similar size share one batched contraction.
_PADDED_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80,
                 96, 128)


def _padded_size(n: int) -> int:
    for size in _PADDED_SIZES:
        if size >= n:
            return size
    return n


@dataclass
class _Network:
    """Factors over allele variables for a batch of markers (axis 0 of every
    array); contracting sums the allele variables out, marker by marker."""

    n_markers: int
    arrays: list[NDArray[np.float64]] = field(default_factory=list)
    variables: list[tuple[int, ...]] = field(default_factory=list)
    log_scale: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    impossible: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        self.log_scale = np.zeros(self.n_markers)
        self.impossible = np.zeros(self.n_markers, dtype=bool)

    def add(self, array: NDArray[np.float64], variables: tuple[int, ...],
            scale: bool = False) -> None:
        if scale:
            top = array.reshape(self.n_markers, -1).max(axis=1)
            bad = top <= 0.0
            self.impossible |= bad
            top = np.where(bad, 1.0, top)
            array = array / top.reshape((-1,) + (1,) * (array.ndim - 1))
            self.log_scale += np.log(top)
        self.arrays.append(array)
        self.variables.append(variables)

    def contract(self, output: tuple[int, ...] = (),
                 planner: ContractionPlanner | None = None) -> NDArray[np.float64]:
        """Sum out every variable not in ``output``; shape ``(markers, *output dims)``.
        Paths are ``planner``'s (default :data:`DEFAULT_CONTEXT`'s)."""
        if not self.arrays:  # nobody typed and nothing to sum: the likelihood is 1
            return np.ones(self.n_markers)
        return contract(einsum_subscripts(self.variables, output), self.arrays, planner)


@dataclass(frozen=True)
class _Layout:
    """What a network looks like for one pedigree, typed set, chromosome and
    kept people: who is in it (people who are neither typed, kept, nor an
    ancestor of either are dropped), their allele variables, founders and
    transmissions, all by position. Pedigrees of different families with the
    same ``shape`` share one batched contraction."""

    people: tuple[str, ...]
    variables: tuple[tuple[int, ...], ...]  # (paternal, maternal), or (x,) for X males
    sexes: tuple[Sex, ...]
    typed: tuple[bool, ...]  # genotype known exactly
    uncertain: tuple[bool, ...]  # typed with drop-out / drop-in (an Observation)
    inbreeding: tuple[float, ...]  # founder inbreeding (0 for everyone else)
    founders: tuple[int, ...]
    # (parent, child variable, child) for every transmitted allele
    transmissions: tuple[tuple[int, int, int], ...]
    founder_components: tuple[tuple[int, ...], ...]
    kept: tuple[int, ...]
    #: founders in the network only because of the kept people: neither
    #: typed (exactly or uncertainly) nor a pedigree ancestor of anyone typed
    #: (at X a father is his son's ancestor though he passes him nothing).
    #: A network without the kept people would not hold them.
    free_founders: tuple[int, ...] = ()

    @property
    def shape(self) -> tuple[object, ...]:
        return (self.variables, self.sexes, self.typed, self.uncertain, self.inbreeding,
                self.founders, self.transmissions, self.founder_components, self.kept,
                self.free_founders)

    @cached_property
    def typed_people(self) -> tuple[str, ...]:
        return tuple(pid for pid, t in zip(self.people, self.typed) if t)

    @cached_property
    def uncertain_people(self) -> tuple[str, ...]:
        return tuple(pid for pid, u in zip(self.people, self.uncertain) if u)


def _layout(pedigree: Pedigree, typed: frozenset[str], keep: tuple[str, ...], is_x: bool,
            uncertain: frozenset[str] = frozenset()) -> _Layout:
    cache: dict[tuple[object, ...], _Layout] = pedigree.__dict__.setdefault("_layout_cache", {})
    key = (typed, keep, is_x, uncertain)
    found = cache.get(key)
    if found is not None:
        return found
    informative: set[str] = set()
    for pid in (*typed, *uncertain):
        informative.add(pid)
        informative |= pedigree.ancestors(pid)
    wanted = set(informative)
    for pid in keep:
        wanted.add(pid)
        wanted |= pedigree.ancestors(pid)
    people = tuple(pid for pid in pedigree.order if pid in wanted)
    index = {pid: i for i, pid in enumerate(people)}
    variables: list[tuple[int, ...]] = []
    nxt = 0
    for pid in people:
        count = 1 if (is_x and pedigree.sex(pid) == Sex.MALE) else 2
        variables.append(tuple(range(nxt, nxt + count)))
        nxt += count
    founders = tuple(i for i, pid in enumerate(people) if pedigree[pid].is_founder)
    transmissions: list[tuple[int, int, int]] = []
    for i, pid in enumerate(people):
        person = pedigree[pid]
        if person.is_founder:
            continue
        cv = variables[i]
        if len(cv) == 1:
            transmissions.append((index[person.mother], cv[0], i))  # type: ignore[index]
        else:
            transmissions.append((index[person.father], cv[0], i))  # type: ignore[index]
            transmissions.append((index[person.mother], cv[1], i))  # type: ignore[index]
    fset = set(founders)
    components = tuple(
        tuple(index[pid] for pid in comp if pid in index and index[pid] in fset)
        for comp in pedigree.components()
    )
    layout = _Layout(
        people=people,
        variables=tuple(variables),
        sexes=tuple(pedigree.sex(pid) for pid in people),
        typed=tuple(pid in typed for pid in people),
        uncertain=tuple(pid in uncertain for pid in people),
        inbreeding=tuple(pedigree.founder_inbreeding.get(pid, 0.0) for pid in people),
        founders=founders,
        transmissions=tuple(transmissions),
        founder_components=tuple(c for c in components if c),
        kept=tuple(index[pid] for pid in keep),
        free_founders=tuple(i for i in founders if people[i] not in informative),
    )
    if len(cache) < 256:
        cache[key] = layout
    return layout


#: Evidence over a typed person's (paternal, maternal) domain positions,
#: where the domain is (a, b) for a heterozygote a/b and (a, a) for a
#: homozygote: the allele pair forms the genotype exactly when ...
_EVIDENCE_HETEROZYGOUS = np.array([[0.0, 1.0], [1.0, 0.0]])  # ... one is a, the other b
_EVIDENCE_HOMOZYGOUS = np.array([[1.0, 0.0], [0.0, 0.0]])  # ... both are (the first) a


def _build_network(layout: _Layout, alphabets: Sequence[_Alphabet], size: int,
                   theta: float) -> _Network:
    """The factor network of a batch of markers (of one or several
    pedigrees) that share a layout shape.

    Every alphabet is padded to ``size`` alleles of frequency zero. A typed
    person's variables range over the person's own two alleles (the domain
    ``(a, b)``, or ``(a, a)`` for a homozygote); everyone else's over the
    whole alphabet.
    """
    k = len(alphabets)
    net = _Network(k)
    # Markers seen whole (not lumped) share their arrays: pad each distinct one once
    distinct: dict[tuple[int, int, int], int] = {}
    which = np.empty(k, dtype=np.intp)
    firsts: list[_Alphabet] = []
    for i, alpha in enumerate(alphabets):
        key = (id(alpha.frequencies), id(alpha.female), id(alpha.male))
        u = distinct.get(key)
        if u is None:
            u = distinct[key] = len(firsts)
            firsts.append(alpha)
        which[i] = u
    p_distinct = np.zeros((len(firsts), size))
    m_distinct = {sex: np.broadcast_to(np.eye(size), (len(firsts), size, size)).copy()
                  for sex in (Sex.FEMALE, Sex.MALE)}
    for u, alpha in enumerate(firsts):
        p_distinct[u, :alpha.size] = alpha.frequencies
        for sex, mat in ((Sex.FEMALE, alpha.female), (Sex.MALE, alpha.male)):
            if mat is not None:
                m_distinct[sex][u, :alpha.size, :alpha.size] = mat
    p = p_distinct[which]
    matrices = {sex: m[which] for sex, m in m_distinct.items()}
    rows = np.arange(k)
    everything = np.broadcast_to(np.arange(size), (k, size))
    domains: list[NDArray[np.intp]] = [everything] * len(layout.people)
    homozygous: dict[int, NDArray[np.bool_]] = {}
    if any(layout.typed):
        positions = np.array([alpha.positions for alpha in alphabets], dtype=np.intp)
        for j, person in enumerate(i for i, t in enumerate(layout.typed) if t):
            pos = positions[:, j, :]
            homozygous[person] = pos[:, 0] == pos[:, 1]
            domains[person] = pos[:, :1] if len(layout.variables[person]) == 1 else pos

    def gather(values: NDArray[np.float64], dom: NDArray[np.intp]) -> NDArray[np.float64]:
        return values[rows[:, None], dom]

    # Founder factors
    if theta > 0:
        for members in layout.founder_components:
            inbred = [i for i in members if layout.inbreeding[i] > 0]
            if inbred:
                raise PedigreeError(
                    "theta correction cannot be combined with founder inbreeding "
                    f"('{layout.people[inbred[0]]}')"
                )
            fvars = tuple(v for i in members for v in layout.variables[i])
            fdoms = [domains[i] for i in members for _ in layout.variables[i]]
            terms = math.prod(d.shape[1] for d in fdoms)
            if terms > THETA_FACTOR_LIMIT:
                raise KinmatchError(
                    f"theta correction over {len(members)} founders needs {terms:.3g} terms "
                    f"per marker; type fewer founders or use theta = 0"
                )
            factor = np.stack([balding_nichols_founder_factor(p[i], [d[i] for d in fdoms], theta)
                               for i in range(k)])
            net.add(factor, fvars, scale=True)
    else:
        for i in layout.founders:
            variables = layout.variables[i]
            dom = domains[i]
            f = layout.inbreeding[i]
            if f > 0 and len(variables) == 2:
                pd = gather(p, dom)
                same = dom[:, :, None] == dom[:, None, :]
                joint = pd[:, :, None] * (f * same + (1.0 - f) * pd[:, None, :])
                net.add(joint, variables, scale=True)
            else:
                # a typed founder's allele variables range over its genotype
                pd = p if dom is everything else gather(p, dom)
                for v in variables:
                    net.add(pd, (v,), scale=True)

    # Transmission factors. A parent with two alleles over a small domain
    # gets T[a, b, c] = (M[a, c] + M[b, c]) / 2; over the whole alphabet the
    # (N, N, N) tensor is replaced by two (2, N, N) factors joined by a
    # meiosis indicator s (which parental allele was passed on):
    # T[a, b, c] = sum_s A[s, a, c] B[s, b, c] with A = (M/2, 1), B = (1, M/2).
    next_variable = 1 + max((v for vs in layout.variables for v in vs), default=-1)
    for parent, child_var, child in layout.transmissions:
        pvars = layout.variables[parent]
        psex = layout.sexes[parent]
        pdom, cdom = domains[parent], domains[child]
        first = matrices[psex][rows[:, None, None], pdom[:, :, None], cdom[:, None, :]]
        if len(pvars) == 1:
            net.add(first, (*pvars, child_var))
        elif pdom.shape[1] <= 2:
            net.add(0.5 * (first[:, :, None, :] + first[:, None, :, :]), (*pvars, child_var))
        else:
            s = next_variable
            next_variable += 1
            ones = np.ones_like(first)
            net.add(np.stack([0.5 * first, ones], axis=1), (s, pvars[0], child_var))
            net.add(np.stack([ones, 0.5 * first], axis=1), (s, pvars[1], child_var))

    # Evidence factors (a typed male at an X marker is fixed by his domain)
    for person, hom in homozygous.items():
        variables = layout.variables[person]
        if len(variables) == 2:
            evidence = np.where(hom[:, None, None], _EVIDENCE_HOMOZYGOUS, _EVIDENCE_HETEROZYGOUS)
            net.add(evidence, variables)
    # Observations with drop-out / drop-in: P(seen alleles | genotype) over the whole alphabet
    if any(layout.uncertain):
        obs = np.array([alpha.observations for alpha in alphabets], dtype=float)  # (K, U, 5)
        for u, person in enumerate(i for i, x in enumerate(layout.uncertain) if x):
            o = obs[:, u, :]
            variables = layout.variables[person]
            factor = observation_factor(p, o[:, 0].astype(np.intp), o[:, 1].astype(np.intp),
                                        o[:, 2], o[:, 3], o[:, 4],
                                        hemizygous=len(variables) == 1,
                                        silent=o[:, 5].astype(np.intp))
            net.add(factor, variables)
    return net


@dataclass(frozen=True)
class PedigreeMarkers:
    """One pedigree with genotypes at a list of markers: a unit of work for
    the batched likelihood functions. ``keep`` names an untyped person whose
    genotype distribution is wanted."""

    pedigree: Pedigree
    markers: Sequence[Marker]
    genotypes: Sequence[Mapping[str, Genotype | Observation]]
    keep: str | None = None


@dataclass
class _Batch:
    """(job, marker) pairs whose networks share one shape."""

    layout: _Layout
    size: int
    entries: list[tuple[int, int]] = field(default_factory=list)
    alphabets: list[_Alphabet] = field(default_factory=list)


def _typed_and_uncertain(pedigree: Pedigree, marker: Marker,
                         data: Mapping[str, Genotype | Observation]
                         ) -> tuple[dict[str, Genotype], dict[str, Observation]]:
    """The people of ``pedigree`` typed at ``marker``, split into exact genotypes
    and uncertain observations (drop-out, drop-in, or one allele seen at a
    marker with a silent allele); an observation that is exact counts as its
    genotype."""
    typed: dict[str, Genotype] = {}
    uncertain: dict[str, Observation] = {}
    silent = marker.silent_index
    for pid, g in data.items():
        if pid not in pedigree:
            continue
        if silent is not None:
            g = _with_silent_observation(marker, pid, g, silent)
        if isinstance(g, Observation):
            if g.exact:
                typed[pid] = g.genotype
            else:
                uncertain[pid] = g
        else:
            typed[pid] = g
    return typed, uncertain


def _batches(jobs: Sequence[PedigreeMarkers], lump: bool, expand: bool = False,
             context: PeelingContext | None = None) -> list[_Batch]:
    """Group every marker of every job by network shape: the layout (who is
    typed, kept and connected, by position), the chromosome and the padded
    alphabet size. ``expand``: unobserved alleles become pseudo-alleles
    where the kept person's two alleles are independent (see
    :func:`_alphabet`)."""
    batches: dict[tuple[object, ...], _Batch] = {}
    for j, job in enumerate(jobs):
        pedigree = job.pedigree
        keep = (job.keep,) if job.keep is not None else ()
        job_expand = expand and job.keep is not None and _independent_alleles(pedigree, job.keep)
        for i, (marker, geno) in enumerate(zip(job.markers, job.genotypes)):
            typed, uncertain = _typed_and_uncertain(pedigree, marker, geno)
            if job.keep is not None and (job.keep in typed or job.keep in uncertain):
                raise KinmatchError(
                    f"'{job.keep}' is typed; the genotype distribution is for untyped people")
            if marker.is_x:
                _check_x_genotypes(pedigree, marker, typed)
                for pid in uncertain:
                    if pedigree.sex(pid) == Sex.UNKNOWN:
                        raise PedigreeError(f"'{pid}' is typed at X-linked marker "
                                            f"{marker.name} but has unknown sex")
            layout = _layout(pedigree, frozenset(typed), keep, marker.is_x, frozenset(uncertain))
            alpha = _alphabet(marker, typed, layout, lump, uncertain, job_expand, context)
            size = _padded_size(alpha.size)
            key = (layout.shape, size)
            batch = batches.get(key)
            if batch is None:
                batch = batches[key] = _Batch(layout, size)
            batch.entries.append((j, i))
            batch.alphabets.append(alpha)
    return _merge_small_batches(list(batches.values()))


def _independent_alleles(pedigree: Pedigree, pid: str) -> bool:
    """Whether a person's two alleles can never be identical by descent: the
    parents share no ancestor (nor is one the other's), or a founder is not
    inbred. Then, given which alleles are observed, the identities of the two
    alleles among the unobserved ones are independent."""
    parents = pedigree.parents(pid)
    if parents is None:
        return pedigree.founder_inbreeding.get(pid, 0.0) == 0.0
    father, mother = parents
    return not ((pedigree.ancestors(father) | {father})
                & (pedigree.ancestors(mother) | {mother}))


#: Fixed cost of one batched contraction, in the units of :func:`_batch_cost`
#: (numpy and opt_einsum call overhead, measured ~0.1-0.3 ms per contraction).
_CONTRACTION_OVERHEAD = 2e5


def _batch_cost(layout: _Layout, size: int, n: int) -> float:
    """Rough cost of contracting ``n`` markers of one layout padded to ``size``:
    peeling a nuclear family costs about ``size^3`` per untyped person."""
    untyped = sum(1 for t, u in zip(layout.typed, layout.uncertain) if not t) or 1
    return n * untyped * float(size) ** 3 + _CONTRACTION_OVERHEAD


def _merge_small_batches(batches: list[_Batch]) -> list[_Batch]:
    """Merge batches of one layout that differ only in alphabet size when
    padding the smaller alphabets costs less than another contraction: on
    small pedigrees the fixed cost of a contraction dominates."""
    by_shape: dict[tuple[object, ...], list[_Batch]] = {}
    for batch in batches:
        by_shape.setdefault(batch.layout.shape, []).append(batch)
    out: list[_Batch] = []
    for group in by_shape.values():
        group.sort(key=lambda b: b.size)
        current = group[0]
        for nxt in group[1:]:
            apart = (_batch_cost(current.layout, current.size, len(current.entries))
                     + _batch_cost(nxt.layout, nxt.size, len(nxt.entries)))
            together = _batch_cost(nxt.layout, nxt.size,
                                   len(current.entries) + len(nxt.entries))
            if together <= apart:
                current = _Batch(current.layout, nxt.size, current.entries + nxt.entries,
                                 current.alphabets + nxt.alphabets)
            else:
                out.append(current)
                current = nxt
        out.append(current)
    return out


def _with_silent_observation(marker: Marker, pid: str, g: Genotype | Observation,
                             silent: int) -> Genotype | Observation:
    """At a marker with a silent allele, one allele seen may be a/silent."""
    alleles = g.alleles if isinstance(g, Observation) else tuple(sorted(set(g)))
    if silent in alleles:
        raise MarkerError(f"'{pid}' is typed with the silent allele '{marker.silent_allele}' "
                          f"of marker {marker.name}, which cannot be observed")
    if isinstance(g, Observation):
        return replace(g, silent=silent)
    return Observation(alleles, silent=silent) if len(alleles) == 1 else g


def _check_theta(theta: float) -> None:
    if not 0 <= theta < 1:
        raise KinmatchError(f"theta must be in [0, 1), not {theta}")


def marker_loglik(
    pedigree: Pedigree,
    marker: Marker,
    genotypes: Mapping[str, Genotype | Observation],
    theta: float = 0.0,
    *,
    context: PeelingContext | None = None,
) -> float:
    """Natural log of the likelihood of the genotypes at one marker (``-inf`` if impossible)."""
    return float(markers_loglik(pedigree, [marker], [genotypes], theta, context=context)[0])


def markers_loglik(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype | Observation]],
    theta: float = 0.0,
    *,
    lump: bool = True,
    context: PeelingContext | None = None,
) -> NDArray[np.float64]:
    """Log-likelihood per marker.

    Markers whose networks have the same shape (the same typed people and a
    similar alphabet size) are contracted together in one batched call.
    ``lump=False`` switches allele lumping off (for benchmarks and checks).
    ``context``: what is reused between calls (default :data:`DEFAULT_CONTEXT`).
    """
    return pedigrees_loglik([PedigreeMarkers(pedigree, markers, genotypes)], theta,
                            lump=lump, context=context)[0]


def pedigrees_loglik(jobs: Sequence[PedigreeMarkers], theta: float = 0.0, *,
                     lump: bool = True, context: PeelingContext | None = None
                     ) -> list[NDArray[np.float64]]:
    """:func:`markers_loglik` for many pedigrees at once: markers of
    different pedigrees whose networks have the same shape (families drawn
    alike, typed alike) are contracted in one batched call. ``context``:
    what is reused between calls (default :data:`DEFAULT_CONTEXT`)."""
    _check_theta(theta)
    context = context if context is not None else DEFAULT_CONTEXT
    out = [np.zeros(len(job.markers)) for job in jobs]
    for batch in _batches(jobs, lump, context=context):
        net = _build_network(batch.layout, batch.alphabets, batch.size, theta)
        values = net.contract(planner=context.planner)
        with np.errstate(divide="ignore"):
            logs = np.where(net.impossible | (values <= 0), -math.inf,
                            np.log(np.where(values > 0, values, 1.0)) + net.log_scale)
        for (j, i), value in zip(batch.entries, logs):
            out[j][i] = value
    return out


def genotype_distribution(
    pedigree: Pedigree,
    marker: Marker,
    genotypes: Mapping[str, Genotype | Observation],
    person: str,
    theta: float = 0.0,
    *,
    context: PeelingContext | None = None,
) -> tuple[float, NDArray[np.float64]]:
    """Joint probability of the data and each unordered genotype of ``person``.

    Returns ``(loglik_of_data, P)`` where ``P[a, b]`` (``a <= b``, allele
    indices of the marker, upper triangle) is the conditional probability
    that ``person`` has genotype ``a/b`` given the data. ``person`` must be
    untyped. One contraction gives the whole distribution.
    """
    logliks, dists = genotype_distributions(pedigree, [marker], [genotypes], person, theta,
                                            context=context)
    return float(logliks[0]), dists[0]


def genotype_distributions(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype | Observation]],
    person: str,
    theta: float = 0.0,
    *,
    context: PeelingContext | None = None,
) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """:func:`genotype_distribution` for many markers; markers whose networks
    have the same shape are contracted in one batched call.

    Returns the log-likelihood of the data per marker (summed over the
    genotypes of ``person``) and, per marker, the ``(n, n)`` upper-triangular
    matrix ``P[a, b] = P(person = a/b | data)`` (for a male at an X-linked
    marker, ``P[a, a] = P(person = a | data)``). A marker whose data are
    impossible gets ``-inf`` and an all-zero matrix.
    """
    return pedigrees_genotype_distributions(
        [PedigreeMarkers(pedigree, markers, genotypes, keep=person)], theta, context=context)[0]


def pedigrees_genotype_distributions(
    jobs: Sequence[PedigreeMarkers], theta: float = 0.0, *,
    context: PeelingContext | None = None,
) -> list[tuple[NDArray[np.float64], list[NDArray[np.float64]]]]:
    """:func:`genotype_distributions` of each job's kept person, for many
    pedigrees at once (batched across pedigrees of the same shape).
    ``context``: what is reused between calls (default :data:`DEFAULT_CONTEXT`)."""
    out = []
    for job, (logliks, packed, _) in zip(jobs, _packed_distributions(jobs, theta,
                                                                     context=context)):
        sizes = [m.n_alleles for m in job.markers]
        offsets = genotype_offsets(sizes)
        dists = []
        for k, n in enumerate(sizes):
            d = np.zeros((n, n))
            d[np.triu_indices(n)] = packed[offsets[k]:offsets[k + 1]]
            dists.append(d)
        out.append((logliks, dists))
    return out


def genotype_offsets(n_alleles: Sequence[int]) -> NDArray[np.intp]:
    """Where each marker's genotypes start when the unordered genotypes of
    several markers are laid out in one row (``n (n + 1) / 2`` per marker
    with ``n`` alleles); the last entry is the row length."""
    sizes = np.asarray(n_alleles, dtype=np.intp)
    return np.concatenate([[0], np.cumsum(sizes * (sizes + 1) // 2)]).astype(np.intp)


def genotype_column(a: NDArray[np.intp], b: NDArray[np.intp], n_alleles: NDArray[np.intp],
                    offset: NDArray[np.intp]) -> NDArray[np.intp]:
    """Column of the unordered genotype ``a/b`` in the layout of
    :func:`genotype_offsets`: the upper triangle row by row, so
    ``offset + lo n - lo (lo + 1) / 2 + hi`` with ``lo = min(a, b)``, ``hi = max(a, b)``."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return offset + lo * n_alleles - lo * (lo + 1) // 2 + hi


class PackedDistributions(NamedTuple):
    """What :func:`pedigrees_genotype_distributions_packed` returns (one row per job)."""

    #: ``log_total[j, k]``: log-likelihood of job ``j``'s data and kept person
    #: at marker ``k``, summed over the kept person's genotypes
    log_total: NDArray[np.float64]
    #: ``probability[j, column(a/b)]``: probability that the kept person has
    #: the unordered genotype ``a/b`` given the data
    probability: NDArray[np.float64]
    #: log-likelihood of the data alone, as :func:`pedigrees_loglik` gives
    #: it (people there only for the kept person dropped), if asked for;
    #: it differs from ``log_total`` only where the allele frequencies (or
    #: the rows of a mutation matrix) do not sum to 1
    log_data: NDArray[np.float64] | None = None


def pedigrees_genotype_distributions_packed(
    jobs: Sequence[PedigreeMarkers], theta: float = 0.0, *, data_loglik: bool = False,
    context: PeelingContext | None = None,
) -> PackedDistributions:
    """Genotype distributions of each job's kept person, for jobs that share
    one list of markers, laid out in one row per job (see
    :func:`genotype_offsets` and :class:`PackedDistributions`). ``context``:
    what is reused between calls (default :data:`DEFAULT_CONTEXT`)."""
    if not jobs:
        return PackedDistributions(np.zeros((0, 0)), np.zeros((0, 0)),
                                   np.zeros((0, 0)) if data_loglik else None)
    sizes = [m.n_alleles for m in jobs[0].markers]
    for job in jobs:
        if [m.n_alleles for m in job.markers] != sizes:
            raise KinmatchError("packed genotype distributions need the same markers in every job")
    results = _packed_distributions(jobs, theta, data_loglik, context)
    shape = (len(jobs), len(sizes))
    return PackedDistributions(
        np.array([r[0] for r in results]).reshape(shape),
        np.array([r[1] for r in results]).reshape(len(jobs), -1),
        np.array([r[2] for r in results]).reshape(shape) if data_loglik else None)


def _unordered_genotypes(joint: NDArray[np.float64],
                         expansions: Sequence[NDArray[np.float64] | None],
                         n_alleles: int) -> NDArray[np.float64]:
    """Kept people's ordered (paternal, maternal) allele probabilities over
    a (padded) alphabet, one row of ``joint`` per marker, as unordered
    genotype probabilities ``U[row, a, b]`` (``a <= b``) over the markers'
    ``n_alleles`` alleles.

    Every row is mapped to alleles by a matrix ``E`` (alphabet × alleles):
    the identity for a whole alphabet, what each pseudo-allele stands for
    otherwise (:class:`~kinmatch.mutation.RestStates`); the ordered
    probabilities over alleles are ``E^T J E`` (the two alleles are
    independent given their pseudo-alleles), and ``U[a, b] = P(a, b) +
    P(b, a)`` for ``a < b``, ``U[a, a] = P(a, a)``. A hemizygous male
    (``joint`` rows one-dimensional) has ``U[a, a] = P(a)``.
    """
    rows, size = joint.shape[0], joint.shape[1]
    n_max = n_alleles
    hemizygous = joint.ndim == 2
    ordered = np.zeros((rows, n_max) if hemizygous else (rows, n_max, n_max))
    # whole alphabets: positions are alleles (padding has probability 0)
    whole = [row for row, x in enumerate(expansions) if x is None]
    if whole:
        m = min(size, n_max)
        if hemizygous:
            ordered[whole, :m] = joint[whole, :m]
        else:
            ordered[np.ix_(whole, range(m), range(m))] = joint[whole, :m, :m]
    expanded = [row for row, x in enumerate(expansions) if x is not None]
    if expanded:
        width = max(expansions[row].shape[0] for row in expanded)  # type: ignore[union-attr]
        e = np.zeros((len(expanded), width, n_max))
        for k, row in enumerate(expanded):
            x = expansions[row]
            e[k, :x.shape[0], :x.shape[1]] = x  # type: ignore[union-attr]
        if hemizygous:
            ordered[expanded] = np.matmul(joint[expanded, None, :width], e)[:, 0]
        else:
            inner = np.matmul(joint[expanded, :width, :width], e)
            ordered[expanded] = np.matmul(np.ascontiguousarray(e.transpose(0, 2, 1)), inner)
    diagonal = np.arange(n_max)
    if hemizygous:
        out = np.zeros((rows, n_max, n_max))
        out[:, diagonal, diagonal] = ordered
        return out
    out = ordered + ordered.transpose(0, 2, 1)
    out[:, diagonal, diagonal] = ordered[:, diagonal, diagonal]
    return out


@lru_cache(maxsize=256)
def _upper_triangle(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    return np.triu_indices(n)


def _size_classes(n_alleles: NDArray[np.intp]) -> NDArray[np.intp]:
    """Powers of two (at least 16) that hold each marker's allele count."""
    return np.maximum(16, 2 ** np.ceil(np.log2(np.maximum(n_alleles, 1))).astype(np.intp))


@lru_cache(maxsize=4096)
def _packed_columns(n: int, n_max: int) -> NDArray[np.intp]:
    """Positions, in a flattened ``(n_max, n_max)`` matrix, of the unordered
    genotypes of ``n`` alleles in packed order (:func:`genotype_offsets`)."""
    upper, lower = _upper_triangle(n)
    return upper * n_max + lower


def _packed_distributions(jobs: Sequence[PedigreeMarkers], theta: float,
                          data_loglik: bool = False, context: PeelingContext | None = None,
                          ) -> list[tuple[NDArray[np.float64], NDArray[np.float64],
                                          NDArray[np.float64]]]:
    """Per job: the total log-likelihood per marker, the kept person's
    unordered genotype probabilities in the layout of
    :func:`genotype_offsets`, and (with ``data_loglik``; else the total
    again) the log-likelihood of the data alone.

    The total is the contraction's (the data and the kept person, summed
    over the kept person's genotypes); the likelihood of the data alone is
    the pedsuite's, in a network without the people who are there only for
    the kept person. The two differ by the frequency mass ``S = sum_a p_a``
    of each allele of the founders among those people (their other alleles,
    the kept person's included, pass through mutation matrices whose rows
    sum to 1, and nothing observed lies below them)::

        log P(data) = log sum_g P(data, kept = g) - n_free log S,

    which is exact whatever the frequencies sum to (databases rounded to a
    few digits sum to 1 only within about 1e-10). Where that does not hold
    the pruned network is peeled on its own: θ > 0 (joint founder
    factors), inbred free founders, and markers whose mutation matrices
    have rows summing to 1 only within more than :data:`_ROW_SUM_TOLERANCE`
    (a proportional model built on frequencies that do not sum to 1, a
    custom matrix).
    """
    _check_theta(theta)
    context = context if context is not None else DEFAULT_CONTEXT
    for job in jobs:
        if job.keep is None:
            raise KinmatchError("a genotype distribution needs the person to keep")
    offsets = [genotype_offsets([m.n_alleles for m in job.markers]) for job in jobs]
    logliks = [np.full(len(job.markers), -math.inf) for job in jobs]
    data = [np.full(len(job.markers), -math.inf) for job in jobs] if data_loglik else logliks
    # every job's row is a view into one buffer, so that a batch's
    # distributions are written with one scatter per alphabet size
    starts = np.concatenate([[0], np.cumsum([int(off[-1]) for off in offsets])])
    buffer = np.zeros(int(starts[-1]))
    packed = [buffer[starts[j]:starts[j + 1]] for j in range(len(jobs))]
    # per marker (by identity; the jobs keep the markers alive): log S, and
    # whether its mutation matrices' rows sum to 1
    terms: dict[int, tuple[float, bool]] = {}

    def marker_terms(batch: _Batch) -> tuple[NDArray[np.float64], list[bool]]:
        log_mass, exact = np.empty(len(batch.entries)), []
        for row, (j, i) in enumerate(batch.entries):
            marker = jobs[j].markers[i]
            found = terms.get(id(marker))
            if found is None:
                found = terms[id(marker)] = (math.log(math.fsum(marker.allele_frequencies)),
                                             _rows_sum_to_one(marker))
            log_mass[row] = found[0]
            exact.append(found[1])
        return log_mass, exact

    peel_alone: set[tuple[int, int]] = set()  # (job, marker)
    for batch in _batches(jobs, lump=False, expand=theta == 0, context=context):
        net = _build_network(batch.layout, batch.alphabets, batch.size, theta)
        joint = net.contract(output=batch.layout.variables[batch.layout.kept[0]],
                             planner=context.planner)
        rows = len(batch.entries)
        totals = joint.reshape(rows, -1).sum(axis=1)
        ok = ~net.impossible & (totals > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_totals = np.where(ok, np.log(np.where(ok, totals, 1.0)) + net.log_scale, -math.inf)
            joint = joint / np.where(ok, totals, 1.0).reshape((-1,) + (1,) * (joint.ndim - 1))
        joint[~ok] = 0.0
        log_data = log_totals
        if data_loglik:
            log_mass, exact = marker_terms(batch)
            peel_alone.update(e for e, ok in zip(batch.entries, exact) if not ok)
            free = batch.layout.free_founders
            if free and (theta > 0 or any(batch.layout.inbreeding[i] > 0 for i in free)):
                peel_alone.update(batch.entries)
            elif free:
                n_free = sum(len(batch.layout.variables[i]) for i in free)
                log_data = log_totals - n_free * log_mass
        n_alleles = np.empty(rows, dtype=np.intp)
        first = np.empty(rows, dtype=np.intp)  # where each row's genotypes start in the buffer
        for row, (j, i) in enumerate(batch.entries):
            logliks[j][i] = log_totals[row]
            data[j][i] = log_data[row]
            n_alleles[row] = jobs[j].markers[i].n_alleles
            first[row] = starts[j] + offsets[j][i]
        # markers of similar size are expanded together (padding every row
        # to the largest marker's n^2 would cost more than it saves)
        bucket = _size_classes(n_alleles)
        for size in np.unique(bucket):
            rows_in = np.flatnonzero(bucket == size)
            n_max = int(n_alleles[rows_in].max())
            unordered = _unordered_genotypes(
                joint[rows_in], [batch.alphabets[r].expansion for r in rows_in],
                n_max).reshape(len(rows_in), -1)
            for n in np.unique(n_alleles[rows_in]):
                members = np.flatnonzero(n_alleles[rows_in] == n)
                within = _packed_columns(int(n), n_max)
                buffer[first[rows_in[members], None] + np.arange(len(within))] = \
                    unordered[members[:, None], within]
    if peel_alone:
        by_job: dict[int, list[int]] = {}
        for j, i in sorted(peel_alone):
            by_job.setdefault(j, []).append(i)
        pruned = pedigrees_loglik(
            [PedigreeMarkers(jobs[j].pedigree, [jobs[j].markers[i] for i in which],
                             [jobs[j].genotypes[i] for i in which])
             for j, which in by_job.items()], theta, context=context)
        for (j, which), values in zip(by_job.items(), pruned):
            data[j][which] = values
    return list(zip(logliks, packed, data))


#: How far from 1 a mutation matrix's rows may sum for the likelihood of
#: the data alone to be taken from a genotype-distribution pass (the error
#: it leaves is of this order); pedmut's models on frequencies rounded to
#: ten digits are within 3e-13.
_ROW_SUM_TOLERANCE = 1e-12


def _rows_sum_to_one(marker: Marker) -> bool:
    model = marker.mutation
    if model is None:
        return True
    return all(float(np.max(np.abs(m.matrix.sum(axis=1) - 1.0))) <= _ROW_SUM_TOLERANCE
               for m in (model.female, model.male))


# ---------------------------------------------------------------------------
# The joint genotype distribution of two people

#: Largest number of joint-table entries contracted in one batched call
#: (bounds the memory of :func:`joint_genotype_distributions`).
_JOINT_ENTRIES = 20_000_000


def _fold_unordered(joint: NDArray[np.float64], axis: int, n: int) -> NDArray[np.float64]:
    """Fold an ordered allele pair (``axis``, ``axis + 1``) of length ``n`` into
    unordered genotypes in packed order (``P(a/b) = P(a, b) + P(b, a)``)."""
    a, b = np.triu_indices(n)
    moved = np.moveaxis(joint, (axis, axis + 1), (-2, -1))
    folded = moved[..., a, b] + np.where(a == b, 0.0, moved[..., b, a])
    return np.moveaxis(folded, -1, axis)


def _fold_hemizygous(joint: NDArray[np.float64], axis: int, n: int) -> NDArray[np.float64]:
    """A single allele axis as packed genotypes (the allele on the diagonal)."""
    a, b = np.triu_indices(n)
    moved = np.moveaxis(joint, axis, -1)
    out = np.where(a == b, moved[..., a], 0.0)
    return np.moveaxis(out, -1, axis)


def joint_genotype_distributions(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype | Observation]],
    persons: tuple[str, str],
    theta: float = 0.0,
) -> list[NDArray[np.float64]]:
    """The joint distribution of two untyped people's genotypes given the data.

    Per marker (``n`` alleles, ``G = n (n + 1) / 2`` unordered genotypes in
    the packed order of :func:`genotype_offsets`), the ``(G, G)`` matrix
    ``J[g, x] = P(persons[0] = g, persons[1] = x | data)``: the rows sum to
    the genotype distribution of ``persons[0]``
    (:func:`pedigrees_genotype_distributions_packed`), the columns to that
    of ``persons[1]``. A male at an X-linked marker has his allele ``a`` as
    the genotype ``a/a``. A marker whose data are impossible gets an
    all-zero matrix.

    Each marker's table is one contraction of the pedigree's network with
    both people's allele variables left open (markers whose networks have
    the same shape are contracted together); it equals ``P(persons[0] = g |
    data)`` times the distribution of ``persons[1]`` given the data and
    ``persons[0]`` typed as ``g``, row by row. Relatives' data may be exact
    genotypes or degraded observations (drop-out, drop-in;
    :class:`~kinmatch.likelihood.observation.Observation`). Markers with a silent
    allele are not supported.
    """
    _check_theta(theta)
    first, second = persons
    if first == second:
        raise KinmatchError(f"a joint genotype distribution needs two people, not '{first}' twice")
    for pid in persons:
        if pid not in pedigree:
            raise PedigreeError(f"'{pid}' is not in the pedigree")
    if len(markers) != len(genotypes):
        raise KinmatchError("one genotype mapping per marker is needed")
    groups: dict[tuple[object, ...], tuple[_Layout, int, list[int], list[_Alphabet]]] = {}
    for k, (marker, geno) in enumerate(zip(markers, genotypes)):
        if marker.silent_index is not None:
            raise MarkerError(f"{marker.name} has a silent allele: joint genotype "
                              "distributions do not support it")
        typed, uncertain = _typed_and_uncertain(pedigree, marker, geno)
        for pid in persons:
            if pid in typed or pid in uncertain:
                raise KinmatchError(
                    f"'{pid}' is typed; the joint genotype distribution is for untyped people")
        if marker.is_x:
            _check_x_genotypes(pedigree, marker, typed)
        layout = _layout(pedigree, frozenset(typed), (first, second), marker.is_x,
                         frozenset(uncertain))
        alpha = _alphabet(marker, typed, layout, False, uncertain)
        size = _padded_size(alpha.size)
        key = (layout.shape, size)
        if key not in groups:
            groups[key] = (layout, size, [], [])
        groups[key][2].append(k)
        groups[key][3].append(alpha)
    out: list[NDArray[np.float64]] = [np.zeros(0)] * len(markers)
    for layout, size, ks, alphas in groups.values():
        va = layout.variables[layout.kept[0]]
        vb = layout.variables[layout.kept[1]]
        per = size ** (len(va) + len(vb))
        step = max(1, _JOINT_ENTRIES // per)
        for start in range(0, len(ks), step):
            part_k, part_a = ks[start:start + step], alphas[start:start + step]
            net = _build_network(layout, part_a, size, theta)
            joint = np.asarray(net.contract(output=va + vb), dtype=float)
            if joint.ndim == 1:  # nothing to contract: both unconnected
                joint = joint.reshape((-1,) + (size,) * (len(va) + len(vb)))
            for row, k in enumerate(part_k):
                n = markers[k].n_alleles
                j = joint[row][(slice(0, n),) * (len(va) + len(vb))]
                j = _fold_unordered(j, 0, n) if len(va) == 2 else _fold_hemizygous(j, 0, n)
                j = _fold_unordered(j, 1, n) if len(vb) == 2 else _fold_hemizygous(j, 1, n)
                total = j.sum()
                if net.impossible[row] or not total > 0:
                    out[k] = np.zeros_like(j)
                else:
                    out[k] = j / total
    return out
