"""Power planning: which relative to sample next for a missing person.

A reference family has typed relatives (the *donors*) and a missing person
(MP). Before the remains are found, or while they are unidentified, the
programme manager wants to know how strong the evidence would be for the
true MP, and how much one more donor would add. This module answers both by
the standard measures (Vigeland et al. 2020; forrel's ``missingPersonIP``,
``missingPersonEP`` and ``MPPsims``; Egeland, Pinto & Vigeland 2014; Kling,
Egeland, Tillmar & Prieto 2021, *Mass identifications*; docs/planning.md):

* **inclusion power** ``P(LR >= t)``: the distribution of the LR of the
  *true* MP, ``LR = P(MP = g | family data) / P(g)``, with the MP's profile
  ``g`` drawn from its conditional distribution given the family data;
* **exclusion power**: the probability that an *unrelated* person is
  genetically incompatible with the family (at least one marker, or more
  than ``max_incompatible`` markers, with a Mendelian incompatibility),
  computed exactly;
* the **false-positive rate** ``P(LR >= t)`` for an unrelated person;
* for each **candidate donor** ``X`` (an untyped relative, or a virtual new
  one such as a child of the MP): the same measures once ``X`` is typed,
  averaged over ``X``'s yet unknown profile, and the recommendation of the
  candidate with the highest inclusion power.

Method. Markers are independent given the pedigree, so everything is done
per marker and combined. At marker ``k`` one peeling pass gives
``q_k(g) = P(MP = g | data)`` (:func:`kinmatch.likelihood.pedigrees_genotype_distributions_packed`).
For a candidate ``X``, one contraction of the
pedigree's factor network with the allele variables of both the MP and ``X``
left open (markers of one network shape batched together) gives the exact
joint distribution ``J_k[g, x] = P(MP = g, X = x | data)``
(:func:`kinmatch.likelihood.peeling.joint_genotype_distributions`: the same
table as typing the MP as each genotype ``g`` in turn and peeling for
``X``). From ``J_k``:

* simulation: ``g ~ q_k``, ``x ~ J_k[g, :] / q_k(g)``, and
  ``LR_k = P(MP = g | data, X = x) / P(g) = J_k[g, x] / (r_k(x) P(g))`` with
  ``r_k(x) = P(X = x | data)`` (the column sums) — the joint simulation of
  forrel's ``MPPsims`` (``X`` given the data, then the MP given the data and
  ``X``), done by table lookups, vectorised over simulations;
* the exact expected ``log10 LR`` (a sum over ``J_k``) and the LR
  distribution on a fine log grid (a convolution over markers), next to the
  simulated one;
* the exact exclusion power: an unrelated person with genotype ``g`` is
  incompatible at marker ``k`` when ``J⁰_k[g, x] = 0`` (``⁰``: without
  mutation), so ``e_k(x) = sum_g P(g) [J⁰_k[g, x] = 0]``; profiles of ``X``
  are independent across markers, so the number of incompatible markers of
  an unrelated person is a sum of independent Bernoulli variables with
  ``p_k = E_x e_k(x)`` (a Poisson-binomial distribution, computed by a
  dynamic programme over markers) and the exclusion power is
  ``1 - prod_k (1 - p_k)`` exactly.

The MP's draws are shared by the current donors and every candidate (common
random numbers), so differences between candidates are not Monte Carlo
noise in the MP's profiles; each candidate's own draws come from a random
stream seeded by the seed and the candidate's id, so a candidate's numbers
do not depend on which other candidates are evaluated.

Mutation models follow forrel (``disableMutations = NA``): by default
(``mutations="auto"``) a marker's mutation model is switched off when the
family's data are consistent with Mendel's laws without it, and kept
otherwise; ``"keep"`` keeps every model, ``"disable"`` switches all off (an
error when some marker's data need a mutation). Incompatibilities are always
Mendelian (no mutation), as in the DVI exclusion count; a marker whose
family data break Mendel's laws excludes no one (forrel's ``NA``).

Lineage markers (Y-STRs, mtDNA) enter through :class:`LineageEvidence`:
an evidence system independent of the autosomal markers given the pedigree
adds its simulated ``log10 LR`` to every simulation and its exclusion
probability as one more term of the exclusion count. The Y-STR and mtDNA
systems are in :mod:`kinmatch.planning_lineage`; :func:`plan_case` builds
them from a DVI case's lineage data and databases (``DVICase.lineage``)
unless ``use_lineage=False``. With lineage, every summary keeps its
autosomal-only counterpart in :attr:`PowerSummary.autosomal`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from kinmatch.dvi.case import DVICase, prepare_case
from kinmatch.errors import KinmatchError
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.likelihood.peeling import (
    PedigreeMarkers,
    genotype_offsets,
    joint_genotype_distributions,
    pedigrees_genotype_distributions_packed,
)
from kinmatch.likelihood.population import genotype_log_probabilities
from kinmatch.markers import Marker
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.planning.lineage import lineage_systems
from kinmatch.relationships import describe_relationship

#: How mutation models are treated (forrel's ``disableMutations``: NA, FALSE, TRUE).
MUTATION_MODES = ("auto", "keep", "disable")

#: Virtual relatives that can be added to a family as candidate donors.
VIRTUAL_KINDS = ("son", "daughter", "brother", "sister")

#: Log10 grid step of the numerical LR distribution.
GRID_STEP = 1e-3


# ---------------------------------------------------------------------------
# The lineage hook


@runtime_checkable
class LineageEvidence(Protocol):
    """A lineage marker system (Y-STRs or mtDNA) of one family, for power
    planning.

    Lineage markers are inherited independently of the autosomal markers
    given the pedigree, so their LR multiplies the autosomal one in every
    simulation and their incompatibility is one more independent term of the
    exclusion count. An implementation simulates the lineage LR of the true
    MP (``true_missing=True``) or of an unrelated person, given the current
    donors ``donors`` plus ``candidate`` (``None``: the current donors only).
    It returns ``log10 LR`` per simulation (``-inf`` for an exclusion; ``0``
    when the line is not shared with any donor).
    """

    name: str

    def simulate_log10_lr(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                          candidate: str | None, n: int, rng: np.random.Generator, *,
                          true_missing: bool) -> NDArray[np.float64]: ...

    def exclusion_probability(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                              candidate: str | None) -> float: ...


# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class PowerSummary:
    """The power of one set of donors: the current ones, or the current ones
    plus one candidate."""

    label: str
    candidate: str | None
    relationship: str
    threshold: float
    #: simulated log10 LR of the true missing person, one per simulation
    log10_lr: NDArray[np.float64]
    #: simulated log10 LR of an unrelated person (``-inf``: excluded)
    log10_lr_unrelated: NDArray[np.float64]
    #: exact expected log10 LR of the true missing person
    expected_log10_lr: float
    #: P(LR >= threshold) for the true missing person from the log-grid
    #: distribution (exact up to the grid step; ``nan`` when not computed)
    inclusion_power_grid: float
    #: per marker: P(an unrelated person is incompatible), averaged over the
    #: candidate's profile (``nan`` where the family's data break Mendel's laws)
    exclusion_per_marker: NDArray[np.float64]
    #: P(an unrelated person is incompatible at exactly j markers), j = 0..
    incompatible_distribution: NDArray[np.float64]
    max_incompatible: int
    #: with lineage evidence: the same summary from the autosomal markers only
    autosomal: PowerSummary | None = None

    @property
    def n_simulations(self) -> int:
        return len(self.log10_lr)

    @property
    def inclusion_power(self) -> float:
        """Simulated P(LR >= threshold) for the true missing person."""
        return float(np.mean(self.log10_lr >= math.log10(self.threshold) - 1e-12))

    @property
    def ranking_power(self) -> float:
        """The inclusion power used to rank candidates: the log-grid value
        (free of Monte Carlo noise) when computed, else the simulated one."""
        grid = self.inclusion_power_grid
        return grid if math.isfinite(grid) else self.inclusion_power

    @property
    def inclusion_power_se(self) -> float:
        p, n = self.inclusion_power, self.n_simulations
        return math.sqrt(max(p * (1 - p), 0.0) / n) if n else math.nan

    @property
    def mean_log10_lr(self) -> float:
        return float(np.mean(self.log10_lr))

    @property
    def false_positive_rate(self) -> float:
        """Simulated P(LR >= threshold) for an unrelated person."""
        return float(np.mean(self.log10_lr_unrelated >= math.log10(self.threshold) - 1e-12))

    @property
    def exclusion_power(self) -> float:
        """P(an unrelated person is incompatible at one marker at least), exact."""
        return float(1.0 - self.incompatible_distribution[0])

    @property
    def exclusion_power_beyond(self) -> float:
        """P(an unrelated person has more than ``max_incompatible``
        incompatibilities): excluded by the DVI rule, exact."""
        return float(self.incompatible_distribution[self.max_incompatible + 1:].sum())

    @property
    def expected_incompatible(self) -> float:
        d = self.incompatible_distribution
        return float(np.dot(np.arange(len(d)), d))

    def quantiles(self, probs: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
                  ) -> dict[float, float]:
        return {p: float(np.quantile(self.log10_lr, p)) for p in probs}

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {
            "label": self.label,
            "candidate": self.candidate,
            "relationship": self.relationship,
            "inclusion_power": self.inclusion_power,
            "inclusion_power_se": self.inclusion_power_se,
            "inclusion_power_grid": num(self.inclusion_power_grid),
            "expected_log10_lr": num(self.expected_log10_lr),
            "mean_log10_lr": num(self.mean_log10_lr),
            "log10_lr_quantiles": {str(k): num(v) for k, v in self.quantiles().items()},
            "false_positive_rate": self.false_positive_rate,
            "exclusion_power": self.exclusion_power,
            "exclusion_power_beyond_max_incompatible": self.exclusion_power_beyond,
            "expected_incompatible": self.expected_incompatible,
            "exclusion_per_marker": [num(x) for x in self.exclusion_per_marker.tolist()],
            **({} if self.autosomal is None else {"autosomal": self.autosomal.to_dict()}),
        }


@dataclass(frozen=True)
class MissingPersonPlan:
    """Power of the current donors and of each candidate donor, for one
    missing person, and the recommended next donor."""

    family: str
    missing: str
    donors: tuple[str, ...]
    markers: tuple[str, ...]
    threshold: float
    n_simulations: int
    seed: int | None
    current: PowerSummary
    candidates: tuple[PowerSummary, ...]
    notes: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()

    def ranked(self) -> list[PowerSummary]:
        """Candidates by inclusion power (:attr:`PowerSummary.ranking_power`),
        ties (to 1e-9) broken by the expected log10 LR, then by id."""
        return sorted(self.candidates,
                      key=lambda s: (-round(s.ranking_power, 9), -round(s.expected_log10_lr, 9),
                                     s.label))

    @property
    def recommended(self) -> PowerSummary | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def to_dict(self) -> dict[str, Any]:
        best = self.recommended
        return {
            "family": self.family,
            "missing": self.missing,
            "donors": list(self.donors),
            "markers": list(self.markers),
            "threshold": self.threshold,
            "simulations": self.n_simulations,
            "seed": self.seed,
            "lineage": list(self.lineage),
            "current": self.current.to_dict(),
            "candidates": [s.to_dict() for s in self.ranked()],
            "recommended": None if best is None else best.candidate,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------
# Small exact tools: LR distributions and incompatibility counts


def poisson_binomial(p: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Distribution of the number of successes of independent Bernoulli
    trials with probabilities ``p`` (a dynamic programme over trials):
    element ``j`` is ``P(exactly j successes)``."""
    dist = np.ones(1)
    for pk in np.asarray(p, dtype=float):
        if not math.isfinite(pk) or pk <= 0:
            continue
        nxt = np.zeros(len(dist) + 1)
        nxt[:-1] += dist * (1.0 - pk)
        nxt[1:] += dist * pk
        dist = nxt
    return dist


def exact_tail_probability(atoms: Sequence[tuple[Sequence[float], Sequence[float]]],
                           threshold_log10: float, *, limit: int = 5_000_000) -> float:
    """``P(sum_k V_k >= t)`` for independent discrete ``V_k``, by enumerating
    every combination (for small cases: tests and checks).

    ``atoms[k] = (values, probabilities)`` of ``V_k`` (log10 LRs; ``-inf``
    allowed; probabilities may sum to less than one). Values are merged
    exactly (equal sums combine), so the enumeration stays small when markers
    repeat values.
    """
    values = np.zeros(1)
    probs = np.ones(1)
    for atom_values, atom_probs in atoms:
        v = np.asarray(atom_values, dtype=float)
        p = np.asarray(atom_probs, dtype=float)
        keep = p > 0
        v, p = v[keep], p[keep]
        if len(values) * len(v) > limit:
            raise KinmatchError("too many combinations for exact enumeration")
        with np.errstate(invalid="ignore"):
            values = (values[:, None] + v[None, :]).ravel()
        probs = (probs[:, None] * p[None, :]).ravel()
        values, inverse = np.unique(np.round(values, 12), return_inverse=True)
        # numpy's stub types bincount as intp even with float weights (it returns float64)
        probs = np.bincount(  # type: ignore[assignment]
            inverse.ravel(), weights=probs, minlength=len(values))
    return float(probs[values >= threshold_log10 - 1e-9].sum())


def grid_tail_probability(atoms: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
                          threshold_log10: float, step: float = GRID_STEP) -> float:
    """``P(sum_k V_k >= t)`` from the distributions of the ``V_k`` rounded
    to a log10 grid of ``step`` and convolved (FFT) over markers; ``-inf``
    values never reach ``t``. Each marker's rounding moves the sum by at
    most ``step / 2``."""
    from scipy.signal import fftconvolve

    low = 0
    dist = np.ones(1)
    for v, p in atoms:
        v, p = np.asarray(v, dtype=float), np.asarray(p, dtype=float)
        finite = np.isfinite(v) & (p > 0)
        if not finite.any():
            return 0.0
        idx = np.rint(v[finite] / step).astype(np.int64)
        lo = int(idx.min())
        hist = np.bincount(idx - lo, weights=p[finite])
        dist = np.clip(fftconvolve(dist, hist), 0.0, None) if len(dist) > 1 and len(hist) > 1 \
            else np.convolve(dist, hist)
        low += lo
    t = math.ceil(threshold_log10 / step - 1e-6) - low
    return float(min(1.0, dist[max(t, 0):].sum())) if t < len(dist) else 0.0


# ---------------------------------------------------------------------------
# Virtual relatives and candidate descriptions


def _fresh(pedigree_ids: set[str], wanted: str) -> str:
    pid, i = wanted, 2
    while pid in pedigree_ids:
        pid = f"{wanted}-{i}"
        i += 1
    pedigree_ids.add(pid)
    return pid


def add_virtual_relatives(pedigree: Pedigree, missing: str, kinds: Sequence[str]
                          ) -> tuple[Pedigree, dict[str, str]]:
    """The pedigree with new, untyped relatives of ``missing`` (``son``,
    ``daughter``: a child with a new partner; ``brother``, ``sister``: a
    full sibling, adding untyped parents when the missing person has none).
    Returns the pedigree and ``{new id: kind}`` of the candidates added.
    Untyped additions change no likelihood."""
    people = list(pedigree.individuals)
    ids = {p.id for p in people}
    added: dict[str, str] = {}
    mp = pedigree[missing]
    partner: str | None = None
    parents = pedigree.parents(missing)
    for kind in kinds:
        if kind not in VIRTUAL_KINDS:
            raise KinmatchError(f"unknown virtual relative '{kind}'; expected one of "
                                f"{', '.join(VIRTUAL_KINDS)}")
        sex = Sex.MALE if kind in ("son", "brother") else Sex.FEMALE
        if kind in ("son", "daughter"):
            if mp.sex == Sex.UNKNOWN:
                raise KinmatchError(f"missing person '{missing}' has unknown sex; a virtual "
                                    "child needs a father and a mother")
            if partner is None:
                partner = _fresh(ids, f"{missing}-partner")
                people.append(Individual(partner, Sex.FEMALE if mp.sex == Sex.MALE else Sex.MALE))
            father, mother = (missing, partner) if mp.sex == Sex.MALE else (partner, missing)
            child = _fresh(ids, f"{missing}-{kind}")
            people.append(Individual(child, sex, father, mother))
            added[child] = kind
        else:
            if parents is None:
                if missing in pedigree.founder_inbreeding:
                    raise KinmatchError(f"missing person '{missing}' is an inbred founder; "
                                        "cannot add a virtual sibling")
                parents = (_fresh(ids, f"{missing}-father"), _fresh(ids, f"{missing}-mother"))
                people.append(Individual(parents[0], Sex.MALE))
                people.append(Individual(parents[1], Sex.FEMALE))
                people = [replace(p, father=parents[0], mother=parents[1]) if p.id == missing
                          else p for p in people]
            sib = _fresh(ids, f"{missing}-{kind}")
            people.append(Individual(sib, sex, parents[0], parents[1]))
            added[sib] = kind
    # parents must come before children in the list for readability only;
    # Pedigree orders them itself
    return Pedigree(people, pedigree.founder_inbreeding), added


# ---------------------------------------------------------------------------
# The computation


@dataclass
class _MarkerTables:
    """Per-marker quantities of one missing person (packed genotype order)."""

    marker: Marker  # the model used (mutation switched off where chosen)
    free: Marker  # the same marker without mutation
    q: NDArray[np.float64]  # P(MP = g | data), model used
    q0: NDArray[np.float64]  # P(MP = g | data), no mutation
    consistent: bool  # data consistent without mutation
    log_pop: NDArray[np.float64]  # log P(g) of a person of the MP's sex
    data: Mapping[str, Genotype | Observation]

    @property
    def pop(self) -> NDArray[np.float64]:
        return np.exp(self.log_pop)


def _seed_sequence(seed: int | None, key: str) -> np.random.SeedSequence:
    entropy = seed if seed is not None else np.random.SeedSequence().entropy
    return np.random.SeedSequence(entropy, spawn_key=(zlib.crc32(key.encode("utf-8")),))


def _draw(cdf: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.intp]:
    """Inverse-CDF draws along the last axis (``cdf`` (..., G) non-decreasing
    to 1, ``u`` (...))."""
    idx = (cdf <= u[..., None]).sum(axis=-1)
    return np.minimum(idx, cdf.shape[-1] - 1)


def _joint_tables(pedigree: Pedigree, tables: Sequence[_MarkerTables], missing: str,
                  keep: str, theta: float, free: bool = False) -> list[NDArray[np.float64]]:
    """``J_k[g, x] = P(MP = g, keep = x | data)`` for every marker (``free``:
    without mutation), each from one contraction of the pedigree's network
    (:func:`~kinmatch.likelihood.peeling.joint_genotype_distributions`)."""
    markers = [t.free if free else t.marker for t in tables]
    return joint_genotype_distributions(pedigree, markers, [t.data for t in tables],
                                        (missing, keep), theta)


def _marker_tables(pedigree: Pedigree, markers: Sequence[Marker],
                   genotypes: Sequence[Mapping[str, Genotype | Observation]], missing: str,
                   theta: float, mutations: str) -> list[_MarkerTables]:
    if mutations not in MUTATION_MODES:
        raise KinmatchError(f"mutations must be one of {', '.join(MUTATION_MODES)}, "
                            f"not '{mutations}'")
    free = [replace(m, mutation=None, mutation_spec=None) if m.mutation is not None else m
            for m in markers]
    log0, q0, _ = pedigrees_genotype_distributions_packed(
        [PedigreeMarkers(pedigree, free, genotypes, keep=missing)], theta)
    consistent = np.isfinite(log0[0])
    if mutations == "disable" and not consistent.all():
        bad = [m.name for m, ok in zip(markers, consistent) if not ok]
        raise KinmatchError(f"the family's data at {', '.join(bad)} break Mendel's laws; "
                            "they need a mutation model (use mutations 'auto' or 'keep')")
    used = [f if (mutations == "disable" or (mutations == "auto" and ok)) else m
            for m, f, ok in zip(markers, free, consistent)]
    q = q0
    if any(u.mutation is not None for u in used):
        logq, q, _ = pedigrees_genotype_distributions_packed(
            [PedigreeMarkers(pedigree, used, genotypes, keep=missing)], theta)
        bad = [m.name for m, v in zip(markers, logq[0]) if not np.isfinite(v)]
        if bad:
            raise KinmatchError(f"the family's data at {', '.join(bad)} are impossible "
                                "even with the mutation model")
    offsets = genotype_offsets([m.n_alleles for m in markers])
    sex = pedigree.sex(missing)
    tables = []
    for k, (m, u, f) in enumerate(zip(markers, used, free)):
        a, b = np.triu_indices(m.n_alleles)
        hemi = np.full(len(a), m.is_x and sex == Sex.MALE)
        log_pop = genotype_log_probabilities(m.allele_frequencies, a, b, theta, hemi)
        lo, hi = offsets[k], offsets[k + 1]
        tables.append(_MarkerTables(u, f, q[0, lo:hi], q0[0, lo:hi], bool(consistent[k]),
                                    log_pop, genotypes[k]))
    return tables


def _log10_ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num > 0, np.log10(np.where(num > 0, num, 1.0))
                        - np.log10(np.where(den > 0, den, 1.0)), -math.inf)


@dataclass
class _Evaluation:
    log10_lr: NDArray[np.float64]
    log10_lr_unrelated: NDArray[np.float64]
    expected: float
    grid_atoms: list[tuple[NDArray[np.float64], NDArray[np.float64]]]
    exclusion: NDArray[np.float64]


def _evaluate_current(tables: Sequence[_MarkerTables], mp_draws: NDArray[np.intp],
                      unrelated_u: NDArray[np.float64]) -> _Evaluation:
    n, k = mp_draws.shape
    log_lr = np.zeros(n)
    log_lr_unrel = np.zeros(n)
    expected = 0.0
    atoms = []
    exclusion = np.full(k, math.nan)
    for j, t in enumerate(tables):
        pop = t.pop
        values = _log10_ratio(t.q, pop)
        log_lr += values[mp_draws[:, j]]
        cdf = np.cumsum(pop) / pop.sum()
        log_lr_unrel += values[_draw(cdf, unrelated_u[:, j])]
        support = t.q > 0
        expected += float(np.dot(t.q[support], values[support]))
        atoms.append((values[support], t.q[support]))
        if t.consistent:
            exclusion[j] = float(pop[t.q0 <= 0].sum())
    return _Evaluation(log_lr, log_lr_unrel, expected, atoms, exclusion)


def _evaluate_candidate(pedigree: Pedigree, tables: Sequence[_MarkerTables], missing: str,
                        candidate: str, mp_draws: NDArray[np.intp],
                        unrelated_u: NDArray[np.float64], rng: np.random.Generator,
                        theta: float, grid: bool) -> _Evaluation:
    n, k = mp_draws.shape
    log_lr = np.zeros(n)
    log_lr_unrel = np.zeros(n)
    expected = 0.0
    atoms = []
    exclusion = np.full(k, math.nan)
    u_x = rng.random((n, k))
    u_x_unrel = rng.random((n, k))
    joints = _joint_tables(pedigree, tables, missing, candidate, theta)
    need_free = [j for j, t in enumerate(tables) if t.consistent and t.marker.mutation is not None]
    joints0: dict[int, NDArray[np.float64]] = {}
    if need_free:
        sub = [tables[j] for j in need_free]
        joints0 = dict(zip(need_free, _joint_tables(pedigree, sub, missing, candidate, theta,
                                                    free=True)))
    for j, t in enumerate(tables):
        pop = t.pop
        joint = joints[j]
        r = joint.sum(axis=0)  # P(X = x | data)
        # LR of MP genotype g once X = x is known: J[g, x] / (r[x] P(g))
        with np.errstate(divide="ignore", invalid="ignore"):
            lr_table = _log10_ratio(joint, r[None, :] * pop[:, None])
        # the true MP: g ~ q (shared draws), x ~ J[g, :] / q(g)
        g = mp_draws[:, j]
        rows, inverse = np.unique(g, return_inverse=True)
        cdf = np.cumsum(joint[rows], axis=1)
        cdf /= np.where(cdf[:, -1:] > 0, cdf[:, -1:], 1.0)
        x = _draw(cdf[inverse.ravel()], u_x[:, j])
        log_lr += lr_table[g, x]
        # an unrelated person: g ~ P(g), x ~ r independently
        g_u = _draw(np.cumsum(pop) / pop.sum(), unrelated_u[:, j])
        x_u = _draw(np.cumsum(r) / r.sum(), u_x_unrel[:, j])
        log_lr_unrel += lr_table[g_u, x_u]
        positive = joint > 0
        expected += float(np.sum(joint[positive] * lr_table[positive]))
        if grid:
            atoms.append((lr_table[positive], joint[positive]))
        # exclusion: incompatible MP genotypes once X = x is typed (no mutation)
        if t.consistent:
            joint0 = joints0.get(j, joint)
            r0 = joint0.sum(axis=0)
            # e(x) = P(unrelated genotype incompatible | X = x); 0 where x breaks Mendel's laws
            e = np.where(r0 > 0, pop @ (joint0 <= 0), 0.0)
            exclusion[j] = float(np.dot(r / r.sum(), e))
    return _Evaluation(log_lr, log_lr_unrel, expected, atoms, exclusion)


def _summary(label: str, candidate: str | None, relationship: str, ev: _Evaluation,
             threshold: float, max_incompatible: int, extra_exclusion: Sequence[float],
             grid: bool) -> PowerSummary:
    t = math.log10(threshold)
    ip_grid = grid_tail_probability(ev.grid_atoms, t) if grid and ev.grid_atoms else math.nan
    probs = np.concatenate([np.nan_to_num(ev.exclusion, nan=0.0), np.asarray(extra_exclusion)])
    return PowerSummary(
        label=label, candidate=candidate, relationship=relationship, threshold=threshold,
        log10_lr=ev.log10_lr, log10_lr_unrelated=ev.log10_lr_unrelated,
        expected_log10_lr=ev.expected, inclusion_power_grid=ip_grid,
        exclusion_per_marker=ev.exclusion,
        incompatible_distribution=poisson_binomial(probs),
        max_incompatible=max_incompatible,
    )


def plan_missing_person(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype | Observation]],
    missing: str,
    *,
    family: str = "",
    candidates: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    virtual: Sequence[str] = (),
    threshold: float = 1e4,
    n_simulations: int = 1000,
    seed: int | None = None,
    theta: float = 0.0,
    max_incompatible: int = 2,
    mutations: str = "auto",
    lineage: Sequence[LineageEvidence] = (),
    grid: bool = True,
    progress: Callable[[str], None] | None = None,
) -> MissingPersonPlan:
    """Power of the current donors and of each candidate donor for one
    missing person (see the module docstring).

    ``genotypes[k]`` maps the typed relatives to their genotype (allele
    indices of ``markers[k]``), or to what a degraded relative shows (an
    :class:`~kinmatch.likelihood.observation.Observation`). ``candidates``:
    the ids to evaluate (default: every untyped member except ``missing`` and
    ``exclude``, e.g. the other missing persons); ``virtual``: kinds of new
    relatives of the missing person to add as candidates
    (:data:`VIRTUAL_KINDS`). ``progress`` is called with each candidate's id
    before it is evaluated.
    """
    if threshold <= 0:
        raise KinmatchError(f"the LR threshold must be positive, not {threshold}")
    if n_simulations < 1:
        raise KinmatchError("at least one simulation is needed")
    if missing not in pedigree:
        raise KinmatchError(f"missing person '{missing}' is not in the pedigree")
    if len(markers) != len(genotypes):
        raise KinmatchError("one genotype mapping per marker is needed")
    notes: list[str] = []
    strangers = sorted({pid for g in genotypes for pid in g if pid not in pedigree})
    if strangers:
        raise KinmatchError(f"typed person(s) {', '.join(strangers)} not in the pedigree")
    typed = sorted({pid for g in genotypes for pid in g}, key=pedigree.order.index)
    if missing in typed:
        raise KinmatchError(f"missing person '{missing}' is typed")
    ext, added = add_virtual_relatives(pedigree, missing, virtual) if virtual else (pedigree, {})
    if candidates is None:
        skip = {missing, *exclude, *typed}
        chosen = [pid for pid in pedigree.ids if pid not in skip]
    else:
        chosen = []
        for pid in candidates:
            if pid not in pedigree:
                raise KinmatchError(f"candidate '{pid}' is not in the pedigree of "
                                    f"{family or 'the family'}")
            if pid == missing or pid in exclude:
                raise KinmatchError(f"candidate '{pid}' is a missing person")
            if pid in typed:
                raise KinmatchError(f"candidate '{pid}' is already typed")
            if pid not in chosen:
                chosen.append(pid)
    chosen += list(added)
    # markers the planner can use
    kept: list[int] = []
    for k, m in enumerate(markers):
        if m.silent_allele is not None:
            notes.append(f"{m.name} (silent allele) left out")
            continue
        kept.append(k)
    has_x = any(markers[k].is_x for k in kept)
    if has_x:
        unknown = [pid for pid in (missing, *chosen) if ext.sex(pid) == Sex.UNKNOWN]
        if unknown:
            notes.append("X-linked markers left out: unknown sex of " + ", ".join(unknown))
            kept = [k for k in kept if not markers[k].is_x]
    if not kept:
        raise KinmatchError(f"no marker of {family or 'the family'} can be used for planning")
    use_markers = [markers[k] for k in kept]
    use_genotypes = [dict(genotypes[k]) for k in kept]
    tables = _marker_tables(ext, use_markers, use_genotypes, missing, theta, mutations)
    impossible = [t.marker.name for t in tables if not t.q.sum() > 0]
    if impossible:
        notes.append("left out (the family's data break Mendel's laws and the marker has no "
                      "mutation model): " + ", ".join(impossible))
        tables = [t for t in tables if t.q.sum() > 0]
        if not tables:
            raise KinmatchError(f"no marker of {family or 'the family'} can be used for "
                                "planning")
    inconsistent = [t.marker.name for t in tables if not t.consistent]
    if inconsistent:
        notes.append("family data break Mendel's laws at " + ", ".join(inconsistent)
                      + " (no exclusions there)")

    k = len(tables)
    base = np.random.default_rng(_seed_sequence(seed, f"missing:{missing}"))
    mp_u = base.random((n_simulations, k))
    unrelated_u = base.random((n_simulations, k))
    mp_draws = np.empty((n_simulations, k), dtype=np.intp)
    for j, t in enumerate(tables):
        mp_draws[:, j] = _draw(np.cumsum(t.q) / t.q.sum(), mp_u[:, j])
    donors = tuple(typed)

    def lineage_terms(candidate: str | None, rng: np.random.Generator
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[float]]:
        true = np.zeros(n_simulations)
        unrel = np.zeros(n_simulations)
        excl = []
        for system in lineage:
            true += system.simulate_log10_lr(ext, missing, donors, candidate, n_simulations,
                                             rng, true_missing=True)
            unrel += system.simulate_log10_lr(ext, missing, donors, candidate, n_simulations,
                                              rng, true_missing=False)
            excl.append(float(system.exclusion_probability(ext, missing, donors, candidate)))
        return true, unrel, excl

    def finish(label: str, candidate: str | None, relationship: str, ev: _Evaluation,
               rng: np.random.Generator) -> PowerSummary:
        extra: list[float] = []
        autosomal = None
        if lineage:
            autosomal = _summary(label, candidate, relationship, ev, threshold,
                                 max_incompatible, [], grid)
            true, unrel, extra = lineage_terms(candidate, rng)
            ev.log10_lr = ev.log10_lr + true
            ev.log10_lr_unrelated = ev.log10_lr_unrelated + unrel
            ev.expected += float(np.mean(true))
            ev.grid_atoms = []  # the grid is autosomal only
        out = _summary(label, candidate, relationship, ev, threshold, max_incompatible,
                       extra, grid)
        return out if autosomal is None else replace(out, autosomal=autosomal)

    current = finish("current donors", None, "",
                     _evaluate_current(tables, mp_draws, unrelated_u),
                     np.random.default_rng(_seed_sequence(seed, f"lineage:{missing}")))
    summaries = []
    for cand in chosen:
        if progress is not None:
            progress(cand)
        rng = np.random.default_rng(_seed_sequence(seed, f"candidate:{missing}:{cand}"))
        ev = _evaluate_candidate(ext, tables, missing, cand, mp_draws, unrelated_u, rng,
                                 theta, grid)
        relationship = (f"new {added[cand]}" if cand in added
                        else describe_relationship(ext, missing, cand, kin_term=True))
        summaries.append(finish(cand, cand, relationship, ev, rng))
    return MissingPersonPlan(
        family=family, missing=missing, donors=donors,
        markers=tuple(t.marker.name for t in tables), threshold=threshold,
        n_simulations=n_simulations, seed=seed, current=current,
        candidates=tuple(summaries), notes=tuple(notes),
        lineage=tuple(s.name for s in lineage),
    )


def plan_case(case: DVICase, *, family: str | None = None,
              candidates: Sequence[str] | None = None,
              virtual: Sequence[str] = (), threshold: float = 1e4, n_simulations: int = 1000,
              seed: int | None = None, max_incompatible: int = 2, mutations: str = "auto",
              lineage: Mapping[str, Sequence[LineageEvidence]] | None = None,
              use_lineage: bool = True,
              grid: bool = True,
              progress: Callable[[str, str, str], None] | None = None,
              ) -> list[MissingPersonPlan]:
    """:func:`plan_missing_person` for every missing person of a DVI case
    (:class:`kinmatch.dvi.DVICase`), or of the family named ``family``.

    ``candidates`` (with one family) restricts the candidate donors (by
    default every untyped relative who is not a missing person and not
    listed as deceased in the family);
    ``lineage`` maps family names to their lineage evidence systems (default:
    built from the case's Y-STR / mtDNA data and databases by
    :func:`kinmatch.planning_lineage.lineage_systems`; none when
    ``use_lineage`` is false);
    ``progress(family, missing, candidate)`` is called before each candidate.
    """
    families = list(case.families)
    if family is not None:
        families = [f for f in families if f.name == family]
        if not families:
            raise KinmatchError(f"no family named '{family}' (have: "
                                f"{', '.join(f.name for f in case.families)})")
    if candidates is not None and len(families) != 1:
        raise KinmatchError("candidate donors can be given for one family only (name it)")
    # the families alone (every other setting of the case kept); samples play no part
    sub = replace(case, samples=[], families=families) if isinstance(case, DVICase) else \
        DVICase(markers=list(case.markers), samples=[], families=families, theta=case.theta,
                minimum_frequency=case.minimum_frequency, title=case.title)
    prepared = prepare_case(sub)
    if not use_lineage:
        lineage = {}
    elif lineage is None:
        lineage = lineage_systems(sub)
    plans = []
    for fam, genos in zip(families, prepared.family_genotypes):
        for mp in fam.missing:
            others = [m for m in fam.missing if m != mp]

            def tick(cand: str, _f: str = fam.name, _m: str = mp) -> None:
                if progress is not None:
                    progress(_f, _m, cand)

            systems = tuple((lineage or {}).get(fam.name, ()))
            plan = plan_missing_person(
                fam.pedigree, prepared.markers, genos, mp, family=fam.name,
                candidates=candidates, exclude=[*others, *getattr(fam, "deceased", ())],
                virtual=virtual, threshold=threshold,
                n_simulations=n_simulations, seed=seed, theta=case.theta,
                max_incompatible=max_incompatible, mutations=mutations,
                lineage=systems, grid=grid, progress=tick)
            if getattr(fam, "has_lineage_data", False) and not systems:
                why = ("lineage evidence switched off" if not use_lineage
                       else "no matching Y / mtDNA database in the case")
                plan = replace(plan, notes=(
                    *plan.notes,
                    f"the family's Y-STR / mtDNA data are not used ({why}): planning is "
                    "autosomal"))
            plans.append(plan)
    return plans


def count_candidates(case: DVICase, family: str | None = None,
                     candidates: Sequence[str] | None = None, virtual: Sequence[str] = ()
                     ) -> int:
    """How many candidate evaluations :func:`plan_case` will make (for a progress bar)."""
    total = 0
    for fam in case.families:
        if family is not None and fam.name != family:
            continue
        typed = {pid for pid, prof in fam.profiles.items() if prof}
        for _missing in fam.missing:
            if candidates is not None:
                n = len(dict.fromkeys(candidates))
            else:
                dead = set(getattr(fam, "deceased", ()))
                n = sum(1 for pid in fam.pedigree.ids
                        if pid not in typed and pid not in fam.missing and pid not in dead)
            total += n + len(virtual)
    return total
