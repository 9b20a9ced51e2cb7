"""The factor network of one pedigree layout at a batch of markers.

The peeling engine (:mod:`kinmatch.likelihood.peeling`) computes a pedigree
likelihood as the contraction of a network of small factors; this module
builds that network:

* the **layout** of a pedigree (:func:`pedigree_layout`): who stays in the
  network (the typed, the uncertain, the kept and their ancestors), each
  person's allele variables, the founders, every transmission — by
  position, so pedigrees of one shape share a layout shape;
* the **alphabet** of each marker (:func:`marker_alphabet`): the observed
  alleles, plus the others lumped into one allele or spanned by
  pseudo-alleles where the mutation model allows it, with the mutation
  matrices restricted to match; alphabets are padded to a few sizes
  (:func:`padded_size`) so markers of similar size share a contraction;
* the **factors** (:func:`build_network`): founder frequencies (with
  inbreeding, or one Balding–Nichols factor per family under θ),
  transmissions (meiosis indicators for untyped parents), evidence of typed
  people and observation factors of uncertain ones.

What is worked out once per marker (alphabet templates, mutation-free
twins) and per network shape (contraction paths) belongs to a
:class:`PeelingContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
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
from kinmatch.likelihood.population import balding_nichols_sequence
from kinmatch.markers import Marker
from kinmatch.mutation import lumped_matrix, rest_states
from kinmatch.pedigree import Pedigree, Sex


@dataclass(frozen=True)
class Alphabet:
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
    #: the marker's total allele frequency (1 up to the tolerance the readers
    #: accept): under θ the founder alleles are drawn from ``p / total``
    total: float = 1.0

    @property
    def size(self) -> int:
        return len(self.frequencies)


def check_x_genotypes(pedigree: Pedigree, marker: Marker, typed: Mapping[str, Genotype]) -> None:
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


def marker_alphabet(marker: Marker, typed: Mapping[str, Genotype], layout: Layout,
              lump: bool, uncertain: Mapping[str, Observation] | None = None,
              expand: bool = False, context: PeelingContext | None = None) -> Alphabet:
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
    return Alphabet(template.frequencies, template.female, template.male,
                     tuple((position[typed[pid][0]], position[typed[pid][1]])
                           for pid in layout.typed_people),
                     _observations(layout, uncertain, position.__getitem__)
                     if uncertain else (), template.expansion,
                     float(np.sum(marker.allele_frequencies)))


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
    """The alphabet of ``marker`` for ``observed`` alleles (see :func:`marker_alphabet`);
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
        """The alphabet of ``marker`` for ``observed`` alleles (see :func:`marker_alphabet`)."""
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


def _observations(layout: Layout, uncertain: Mapping[str, Observation],
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


def padded_size(n: int) -> int:
    for size in _PADDED_SIZES:
        if size >= n:
            return size
    return n


@dataclass
class Network:
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
            scale: bool = False, owned: bool = False) -> None:
        """Add a factor; ``scale``: divided by its maximum per marker (the
        scale kept in log space), in place if ``owned`` (nothing else holds it)."""
        if scale:
            top = array.reshape(self.n_markers, -1).max(axis=1)
            bad = top <= 0.0
            self.impossible |= bad
            top = np.where(bad, 1.0, top)
            if owned:
                array /= top.reshape((-1,) + (1,) * (array.ndim - 1))
            else:
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
class Layout:
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


def pedigree_layout(pedigree: Pedigree, typed: frozenset[str], keep: tuple[str, ...], is_x: bool,
            uncertain: frozenset[str] = frozenset()) -> Layout:
    cache: dict[tuple[object, ...], Layout] = pedigree.__dict__.setdefault("_layout_cache", {})
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
    layout = Layout(
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


def build_network(layout: Layout, alphabets: Sequence[Alphabet], size: int,
                   theta: float) -> Network | NetworkSum:
    """The factor network of a batch of markers (of one or several
    pedigrees) that share a layout shape.

    Every alphabet is padded to ``size`` alleles of frequency zero. A typed
    person's variables range over the person's own two alleles (the domain
    ``(a, b)``, or ``(a, a)`` for a homozygote); everyone else's over the
    whole alphabet.
    """
    k = len(alphabets)
    net = Network(k)
    # Markers seen whole (not lumped) share their arrays: pad each distinct one once
    distinct: dict[tuple[int, int, int], int] = {}
    which = np.empty(k, dtype=np.intp)
    firsts: list[Alphabet] = []
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

    next_variable = 1 + max((v for vs in layout.variables for v in vs), default=-1)
    # Founder factors (under θ they come with the urn's expansion, added to
    # the rest of the network at the end: :func:`_polya_urn_expansion`)
    single_draw = _single_draw_founders(layout) if theta > 0 else frozenset()
    if theta == 0:
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
    for parent, child_var, child in layout.transmissions:
        pvars = layout.variables[parent]
        psex = layout.sexes[parent]
        pdom, cdom = domains[parent], domains[child]
        first = matrices[psex][rows[:, None, None], pdom[:, :, None], cdom[:, None, :]]
        if len(pvars) == 1 or parent in single_draw:
            net.add(first, (pvars[0], child_var))
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
    if theta > 0:
        # the urn draws from p / Σp (see population.urn_frequencies): Σp of the
        # whole marker, which an alphabet of observed alleles alone does not hold
        totals = np.array([alpha.total for alpha in alphabets])
        return _polya_urn_expansion(net, layout, p / totals[:, None], domains, theta,
                                    single_draw)
    return net


#: Most terms the θ expansion of one network may have (see
#: :func:`polya_urn_sources`); past it the computation is refused.
MAX_THETA_TERMS = 20_000


@dataclass
class NetworkSum:
    """A weighted sum of networks over the same markers: the likelihood is
    ``Σ_c weight_c × contraction_c``. Contracting sets ``log_scale`` and
    ``impossible`` for the sum (as :class:`Network` holds them)."""

    n_markers: int
    terms: list[tuple[float, Network]]
    log_scale: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    impossible: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def contract(self, output: tuple[int, ...] = (),
                 planner: ContractionPlanner | None = None) -> NDArray[np.float64]:
        """Each term contracted (:meth:`Network.contract`), scaled to a
        common log scale per marker (the largest) and summed with its weight."""
        values = [net.contract(output, planner) for _, net in self.terms]
        scales = np.array([np.where(net.impossible, -np.inf, net.log_scale)
                           for _, net in self.terms])
        top = scales.max(axis=0)
        self.impossible = ~np.isfinite(top)
        self.log_scale = np.where(self.impossible, 0.0, top)
        total = np.zeros_like(values[0])
        shape = (-1,) + (1,) * (total.ndim - 1)
        for (weight, _), v, scale in zip(self.terms, values, scales):
            with np.errstate(invalid="ignore"):
                factor = np.where(np.isfinite(scale), np.exp(scale - self.log_scale), 0.0)
            total += (weight * factor).reshape(shape) * v
        return total


def _single_draw_founders(layout: Layout) -> frozenset[int]:
    """Untyped founders (neither kept nor typed uncertainly) with two allele
    variables and one child in the network: under θ they draw one allele
    (the child gets either with probability 1/2, the two are exchangeable,
    and the urn's law of the other draws does not change when an allele
    that reaches nobody is left out: the Pólya urn is consistent under
    marginalisation)."""
    children: dict[int, int] = {}
    for parent, _, _ in layout.transmissions:
        children[parent] = children.get(parent, 0) + 1
    return frozenset(i for i in layout.founders
                     if len(layout.variables[i]) == 2 and not layout.typed[i]
                     and not layout.uncertain[i] and i not in layout.kept
                     and children.get(i, 0) == 1)


#: A draw's source in one term of the expansion: fresh (from the base; for
#: a founder's second allele, from the base or a copy of his first).
FRESH = -1


def polya_urn_sources(founders: Sequence[int], families: Sequence[int],
                      symmetric: Sequence[bool], limit: int = MAX_THETA_TERMS,
                      ) -> list[tuple[tuple[int, ...], int]]:
    """The terms of the Pólya urn's expansion over founder allele draws.

    ``founders[d]`` is the founder of draw ``d`` (a founder's draws are
    consecutive, one or two), ``families[d]`` his connected family;
    ``symmetric[d]``: that founder's two alleles are exchangeable in the
    whole network (not typed exactly, not kept). Draw ``d`` is ``x`` with probability
    ``(β(x) + θ Σ_e [x_e = x]) / D_d`` over the earlier draws ``e`` of the
    family: one term per *source*, fresh (:data:`FRESH`) or one earlier draw
    of another founder of the family (a founder's second allele copies his
    first inside its fresh term, ``β(y) + θ [x = y]``). The expansion is the
    sum over every choice of sources, one per draw.

    Choices that differ only in which allele of a symmetric founder whose
    own draws are both fresh is copied give equal terms (swapping his two
    alleles is a symmetry of the network): of each such pair only the
    choice whose first copy of the founder is of his first allele is
    listed, with multiplicity 2. Returns ``(sources, multiplicity)`` per
    term; :class:`KinmatchError` past ``limit`` terms.
    """
    n = len(founders)
    first = {f: founders.index(f) for f in reversed(founders)}
    pair = [d + 1 < n and founders[d + 1] == founders[d] and first[founders[d]] == d
            for d in range(n)]  # d is the first of a founder's two draws
    out: list[tuple[tuple[int, ...], int]] = []
    sources: list[int] = []

    def swappable(g: int) -> bool:
        """Founder of first draw ``g``: symmetric, both draws fresh, not yet copied."""
        return (pair[g] and symmetric[g] and sources[g] == FRESH and sources[g + 1] == FRESH
                and not any(e in (g, g + 1) for e in sources[g + 2:]))

    def walk(d: int, multiplicity: int) -> None:
        if d == n:
            out.append((tuple(sources), multiplicity))
            if len(out) > limit:
                raise KinmatchError(f"theta correction needs more than {limit} terms "
                                    "per marker")
            return
        sources.append(FRESH)
        walk(d + 1, multiplicity)
        sources.pop()
        for e in range(first[founders[d]]):
            if families[e] != families[d]:
                continue
            g = first[founders[e]]
            m = multiplicity
            if pair[g] and swappable(g):
                if e != g:
                    continue  # the founder's second allele before any copy of his first
                m *= 2
            sources.append(e)
            walk(d + 1, m)
            sources.pop()

    walk(0, 1)
    return out


def _polya_urn_expansion(body: Network, layout: Layout, p: NDArray[np.float64],
                         domains: Sequence[NDArray[np.intp]], theta: float,
                         single_draw: frozenset[int]) -> Network | NetworkSum:
    """The θ founder factors: ``body`` (every factor but the founders') times
    the joint probability of the founder alleles, as a sum of networks.

    All founder alleles of a connected family are Balding–Nichols draws
    (:mod:`kinmatch.likelihood.population`), as pedprobr's ``likTheta``
    draws them. The law is exchangeable, so the typed founders' alleles go
    first: their probability is a constant per marker (their variables
    range over their genotypes, and every ordering of their alleles has that
    one probability), and they leave a Pólya urn with base ``β = (1 - θ) p
    + θ c`` (``c``: their allele counts). Draw ``i`` of the family is then
    ``x`` with probability ``(β(x) + θ Σ_{earlier untyped draws j} [x_j =
    x]) / (1 + (i - 2) θ)``. Expanding the product of these sums over the
    draws (:func:`polya_urn_sources`) gives one term per choice of sources:
    in a term, a draw that copies an earlier one *is* that allele (its
    variable is replaced by the earlier one's, weight ``θ / D``), and each
    fresh draw is an independent founder allele with factor ``β / D`` — a
    network like one without θ, contracted in a θ = 0 peeling order, with a
    few founder alleles identified. The likelihood is the weighted sum of
    their contractions: exact, since the expansion is finite. No factor
    over all founder alleles is ever built.

    Kept founders' variables are linked to their source by an identity
    factor rather than replaced (an output variable stays itself).
    """
    k, size = p.shape
    eye = np.eye(size)
    draws: list[tuple[int, int]] = []  # (founder, variable)
    scales: list[float] = []  # 1 / D of each draw
    fresh: list[NDArray[np.float64]] = []  # β / D of each draw
    families: list[int] = []
    for c, members in enumerate(layout.founder_components):
        inbred = [i for i in members if layout.inbreeding[i] > 0]
        if inbred:
            raise PedigreeError(
                "theta correction cannot be combined with founder inbreeding "
                f"('{layout.people[inbred[0]]}')"
            )
        typed = [i for i in members if layout.typed[i]]
        base = (1.0 - theta) * p
        drawn = 0
        if typed:
            alleles = np.concatenate([domains[i] for i in typed], axis=1)
            log_typed, counts = balding_nichols_sequence(p, alleles, theta)
            bad = ~np.isfinite(log_typed)
            body.impossible |= bad
            body.log_scale += np.where(bad, 0.0, log_typed)
            base = base + theta * counts
            drawn = alleles.shape[1]
        for i in members:
            if layout.typed[i]:
                continue
            variables = layout.variables[i][:1] if i in single_draw else layout.variables[i]
            for x in variables:
                drawn += 1
                draws.append((i, x))
                scales.append(1.0 / (1.0 + (drawn - 2) * theta))
                fresh.append(base * scales[-1])
                families.append(c)
    if not draws:
        return body
    founders = [i for i, _ in draws]
    # an uncertain founder's observation is symmetric in his two alleles
    symmetric = [len(layout.variables[i]) == 2 and i not in single_draw
                 and i not in layout.kept for i in founders]
    fixed = [i in layout.kept for i in founders]
    try:
        terms = polya_urn_sources(founders, families, symmetric)
    except KinmatchError:
        names = ", ".join(dict.fromkeys(layout.people[i] for i in founders))
        raise KinmatchError(
            f"theta correction over {len(draws)} untyped founder alleles ({names}) needs more "
            f"than {MAX_THETA_TERMS} networks per marker (one per way the founder alleles "
            "can copy each other in the Balding–Nichols urn); type more founders or use "
            "theta = 0") from None
    second = {d for d in range(1, len(draws)) if founders[d] == founders[d - 1]}
    fresh_pair = {d: fresh[d][:, None, :] + (theta * scales[d]) * eye for d in second}
    link = np.broadcast_to(eye, (k, size, size))
    out: list[tuple[float, Network]] = []
    for sources, multiplicity in terms:
        net = Network(k)
        net.log_scale = body.log_scale.copy()
        net.impossible = body.impossible.copy()
        weight = float(multiplicity)
        rename: dict[int, int] = {}
        for d, e in enumerate(sources):
            if e == FRESH:
                continue
            weight *= theta * scales[d]
            target = draws[e][1]
            target = rename.get(target, target)
            if fixed[d]:
                net.add(link, (target, draws[d][1]))
            else:
                rename[draws[d][1]] = target
        for array, variables in zip(body.arrays, body.variables):
            _add_renamed(net, array, variables, rename)
        for d, e in enumerate(sources):
            if e != FRESH:
                continue
            if d in second:
                _add_renamed(net, fresh_pair[d], (draws[d - 1][1], draws[d][1]), rename,
                             scale=True)
            else:
                net.add(fresh[d], (draws[d][1],), scale=True)
        out.append((weight, net))
    return NetworkSum(k, out)


def _add_renamed(net: Network, array: NDArray[np.float64], variables: tuple[int, ...],
                 rename: Mapping[int, int], scale: bool = False) -> None:
    """Add a factor with its variables renamed; a variable that now appears
    twice keeps the diagonal (the two alleles are one)."""
    mapped = tuple(rename.get(v, v) for v in variables)
    if len(set(mapped)) < len(mapped):
        word = {v: chr(ord("b") + i) for i, v in reversed(list(enumerate(mapped)))}
        unique = tuple(dict.fromkeys(mapped))
        array = np.einsum("a" + "".join(word[v] for v in mapped) + "->a"
                          + "".join(word[v] for v in unique), array)
        mapped = unique
    net.add(array, mapped, scale=scale)


def typed_and_uncertain(pedigree: Pedigree, marker: Marker,
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


def check_theta(theta: float) -> None:
    if not 0 <= theta < 1:
        raise KinmatchError(f"theta must be in [0, 1), not {theta}")


