"""Joint identification: which samples are which missing persons, all at once.

Model
-----
An **assignment** ``a`` maps every post-mortem sample either to a missing
person or to ``*`` ("not among the missing"), using each missing person at
most once and only through allowed pairs (by default every pair whose sexes
agree). Its likelihood factorises over reference families (Vigeland &
Egeland 2021, Joint DNA-based disaster victim identification, *Sci. Rep.*
11:13661; Kling, Egeland, Tillmar & Prieto 2021, *Mass Identifications*,
Academic Press; dvir's ``dviJoint``)::

    L(a) = prod_F L(F with the samples a places in it) * prod_{s: a(s) = *} L(s)

and with ``g_F(A) = log L(F with A) - log L(F) - sum_{s in A} log L(s)``,

    log L(a) = sum_F log L(F) + sum_s log L(s) + sum_F g_F(A_F(a)).

For a family that receives one sample, ``g_F`` is the pairwise log-LR; a
family that receives several is peeled with all of them placed.

Lineage markers. The pairwise log-LR is the combined one (autosomal + Y +
mtDNA, :mod:`.pairwise`). For a family that receives several samples the
autosomal markers are peeled jointly and the lineage parts are added per
placed pair, ``g_F(A) = g_F^auto(A) + sum_{(s, m) in A} (log LR_Y + log LR_mt)(s, m)``:
an approximation, since each pair's lineage part is computed from the
family's typed relatives only (a sample placed as one missing person does
not serve as a lineage reference for another placed in the same family, and
two placed samples' haplotypes are not compared with each other).

Priors. The posterior of ``a`` is ``pi(a) L(a) / sum_b pi(b) L(b)`` and the
posterior that sample ``s`` is missing person ``m`` is the sum over the
assignments that say so (dvir's ``Bmarginal``). The default prior is flat
(``pi = 1``, dvir's default). A user prior is of product form

    pi(a) ∝ prod_{(s, m) in a} w[s, m]        (w >= 0: prior odds of "s is m" vs "s is *")

given either as the matrix ``w`` (``prior=``) or per missing person
(``missing_prior=``, ``p_m`` = the probability that ``m`` is among the
remains): each ``m`` is among the remains with probability ``p_m``
independently and, if so, equally likely any of the ``n`` samples, given
that no two missing persons are the same sample. That prior is
``prod_{m in a} p_m / n * prod_{m not in a} (1 - p_m)``, which is the product
form with ``w[s, m] = p_m / (n (1 - p_m))``. A product-form prior keeps the
likelihood's factorisation, so everything below holds with
``B[s, m] = LR[s, m] w[s, m]`` in place of the LR.

Components
----------
A pair with LR 0 (or not allowed, or of prior 0) cannot be in an assignment
of positive weight. Samples and families linked by the remaining pairs fall
into connected **components** that are independent: the weight is a product
over components and so is the set of assignments. Each component is solved
on its own and the best assignments of the whole case are merged from the
components' sorted lists (a k-best product).

Small components are **enumerated** (exact, identical to dvir;
:func:`kinmatch.algorithms.assignments.enumerate_assignments`). A component
with more than ``component_limit`` assignments is solved by **bounding**
(the generic algorithms are in :mod:`kinmatch.algorithms`):

* **One missing person per family in the component** (the usual mass-fatality
  case): ``log L(a) - log L(nobody) = sum_{(s, m) in a} log LR[s, m]`` is
  additive, so the best assignment is a maximum-weight bipartite matching in
  which every sample may also take its own "not among the missing" column of
  weight 0, and the k best come from **Murty's** partitioning (K. G. Murty,
  *An algorithm for ranking all the assignments in order of increasing
  cost*, Operations Research 16, 1968;
  :class:`kinmatch.algorithms.assignments.KBestAssignments`). Top-k is exact.
* **Families with several missing persons**: a best-first branch-and-bound
  over the samples, a node being the choices of the first samples
  (:func:`kinmatch.algorithms.assignments.best_first_assignments`, the
  families being the groups of columns and :class:`FamilyGain` the gain).
  Its priority is the exact gain so far plus, per remaining sample, the
  largest increment it could add: ``log LR`` for a family with one missing
  person in the component, ``-log L(s)`` otherwise (the increment of placing
  ``s`` is ``sum_k log P(s's genotype at m | F, A) - log L(s) <= -log L(s)``
  because a conditional probability is at most 1). The bound is admissible,
  so leaves come out best first: top-k is exact. Exhausting ``max_nodes``
  raises an error rather than returning an inexact ranking.

Posterior bounds (bounded components)
-------------------------------------
The estimate is the posterior over the assignments listed (the top
``posterior_assignments`` by posterior weight), clipped into a certified
interval ``[lower, upper]``; ``posterior_error`` is the largest distance
from the estimate to the ends of the interval, and ``exact`` says whether
every component was enumerated completely. Intervals are intersections of
(:mod:`kinmatch.algorithms.matching_bounds`, with ``B[s, m]`` the pair
weights and "not among the missing" the unassigned column):

1. **Listed mass.** With ``E`` the listed weight, ``E[s, m]`` its part with
   ``s = m`` and ``R >= Z - E`` a bound on the weight not listed,
   ``E[s, m] / (E + R) <= P(s = m) <= (E[s, m] + R) / (E + R)`` (the
   posterior ``(E_sm + r) / (E + r')`` with ``0 <= r <= r' <= R`` is smallest
   at ``r = 0, r' = R`` and largest at ``r = r' = R``). In the branch-and-bound,
   ``R`` is the sum over the open nodes of ``exp(gain so far) * prod over the
   remaining samples of (1 + sum_m exp(max increment))`` (dropping the rule
   that a missing person is used once only adds terms). For Murty
   components ``R = Z+ - E`` with the relaxation
   ``Z <= min(prod_s (1 + sum_m B[s, m]), prod_m (1 + sum_s B[s, m]))``.
2. **Vertex-deletion recursion** (one missing person per family; the
   monomer-dimer recursion of Godsil, *Matchings and walks in graphs*, 1981,
   as used for certified bounds by Bayati, Gamarnik, Katz, Nair & Tetali,
   *Simple deterministic approximation algorithms for counting matchings*,
   STOC 2007). ``Z(H)`` is the sum of ``prod B`` over the matchings of the
   bipartite graph ``H`` (a matching = an assignment). With
   ``x(H, v) = Z(H - v) / Z(H)`` in ``(0, 1]``, splitting on how ``v`` is
   matched gives ``Z(H) = Z(H - v) + sum_u B[v, u] Z(H - v - u)``, i.e.

       x(H, v) = 1 / (1 + sum_{u ~ v} B[v, u] x(H - v, u)),

   and ``P(s = *) = x(G, s)``, ``P(s = m) = B[s, m] x(G, s) x(G - s, m)``.
   The map is decreasing in each ``x(H - v, u)``, so bounds alternate: from
   ``0 < x <= 1`` one gets ``1 / (1 + deg_H v) <= x(H, v)``, and with a lower
   bound ``l`` on the ``x(H - v, u)``, ``x(H, v) <= 1 / (1 + sum B[v, u] l_u)``;
   degrees in subgraphs are at most those in ``G`` minus the deleted
   neighbours, which keeps every step valid. Two levels of this are computed
   for every pair in ``O(samples × missing)``; they are tight whenever a
   pair's LR dominates the LRs of its row and column, which is the typical
   identification. Finally ``P(s = m) >= 1 - sum of the other upper bounds of
   row s`` and ``P(s = m) <= 1 - sum of the other lower bounds of column m``.

All bounds are computed in floating point; they are certified up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from kinmatch.algorithms.assignments import (
    UNASSIGNED,
    AssignmentLimitError,
    Placement,
    SearchLimitError,
    SearchResult,
    best_first_assignments,
    count_assignments,
    count_matchings,
    enumerate_assignments,
    k_best_assignments,
    k_best_combinations,
)
from kinmatch.algorithms.matching_bounds import (
    listed_mass,
    listed_mass_bounds,
    log_partition_upper_bound,
    vertex_deletion_bounds,
)
from kinmatch.dvi.case import UNTYPED, PreparedCase
from kinmatch.dvi.pairwise import (
    PairwiseCache,
    PairwiseLR,
    family_log_likelihoods,
    observed_log_probabilities,
    pair_sexes,
    sample_observation_weights,
    uncertain_genotypes,
)
from kinmatch.errors import KinmatchError
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.likelihood.peeling import (
    PedigreeMarkers,
    genotype_column,
    genotype_offsets,
    markers_loglik,
    pedigrees_genotype_distributions_packed,
    pedigrees_loglik,
)
from kinmatch.pedigree import Pedigree, Sex

#: Column index meaning "not among the missing" (dvir's ``*``): the generic
#: "unassigned" of :mod:`kinmatch.algorithms.assignments`.
NOT_MISSING = UNASSIGNED

#: Largest number of assignments enumerated in one component; larger ones are bounded.
DEFAULT_COMPONENT_LIMIT = 200_000

#: Assignments listed per bounded component for the posterior estimate.
DEFAULT_POSTERIOR_ASSIGNMENTS = 200

#: Node expansions allowed in the branch-and-bound of one component.
DEFAULT_MAX_NODES = 2_000_000

#: log-LRs are clipped here before exponentiating in the bounds (exp(600) is finite).
_LOG_CAP = 600.0

Method = Literal["auto", "enumerate", "bound"]


@dataclass(frozen=True)
class JointResult:
    """Assignments of samples to missing persons, best first, and posteriors.

    ``posterior[s, c]`` is P(sample ``s`` is missing person ``c``) (last
    column: not among the missing). Where ``exact`` is false, some component
    was too large to enumerate: ``posterior`` is then an estimate with
    certified ``posterior_lower <= true posterior <= posterior_upper`` and
    ``posterior_error = max(posterior - lower, upper - posterior)``; the
    ranking of ``assignments``/``loglik`` is exact in every case.
    """

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]
    assignments: NDArray[np.intp]  # (top, samples): column of the missing person, or NOT_MISSING
    loglik: NDArray[np.float64]  # (top,) natural log, best first
    posterior: NDArray[np.float64]  # (samples, missing + 1); last column = not among the missing
    n_assignments: int  # allowed assignments in all (dvir's n); -1 if too costly to count
    n_positive: int  # assignments of positive likelihood; -1 if a component was bounded
    components: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # (samples, columns) each
    posterior_lower: NDArray[np.float64]  # (samples, missing + 1)
    posterior_upper: NDArray[np.float64]  # (samples, missing + 1)
    exact: bool  # every component enumerated: posteriors exact
    component_exact: tuple[bool, ...] = ()  # per component

    @property
    def posterior_error(self) -> NDArray[np.float64]:
        """Largest possible error of each posterior (0 where exact)."""
        return np.maximum(self.posterior - self.posterior_lower,
                          self.posterior_upper - self.posterior)

    @property
    def max_posterior_error(self) -> float:
        """The stated error bound of the whole posterior table."""
        return float(self.posterior_error.max()) if self.posterior.size else 0.0

    @property
    def lr_vs_best(self) -> NDArray[np.float64]:
        """``L(best) / L(row)`` per row (dvir's ``LR`` column)."""
        with np.errstate(over="ignore"):
            return np.exp(self.loglik[0] - self.loglik)

    @property
    def log10_lr_vs_best(self) -> NDArray[np.float64]:
        """``log10(L(best) / L(row))`` per row: finite where the ratio overflows."""
        return (self.loglik[0] - self.loglik) / math.log(10)

    def describe(self, row: int) -> dict[str, str]:
        """Row ``row`` as ``{sample: missing person or "*"}``."""
        return {s: (self.missing[c] if c != NOT_MISSING else "*")
                for s, c in zip(self.samples, self.assignments[row])}


#: Placements that share a conditional peeling (:meth:`FamilyGain._prefetch_conditional`)
#: must number at least this many; below it peeling each placement is cheaper
#: (lumped alphabets, batched with its own shape).
SHARED_PEELING_MIN = 3


class FamilyGain:
    """``g_F(A)`` for sets of (sample, missing person) placed in one family, cached.

    ``g_F(A) = log L(F with A) - log L(F) - sum_{s in A} log L(s)`` (plus the
    placed pairs' lineage parts; module docstring): for one placed sample
    the pairwise log-LR, for several a peeling of the family with all of
    them placed. Called as ``gain(family, placement)``, the group gain of
    :func:`kinmatch.algorithms.assignments.best_first_assignments`, whose
    groups are the families (``column_family[c]``: the family of missing
    person ``c``).

    At X-linked markers each placed pair is read with its sex, as the
    pairwise LRs read it (:func:`~kinmatch.dvi.pairwise.pair_sexes`): a
    missing person of unknown sex takes the pair's sex in the family and
    ``L(s)`` reads the sample with it; where neither sex is known the
    sample's X-linked markers are left out of the placement and of ``L(s)``.
    ``sample_loglik`` reads each sample with its own sex (unknown: a woman).
    """

    def __init__(self, prepared: PreparedCase, pairwise: PairwiseLR,
                 sample_loglik: NDArray[np.float64], family_loglik: NDArray[np.float64]) -> None:
        self.prepared = prepared
        self.pairwise = pairwise
        self.sample_loglik = sample_loglik  # (samples,) total over markers
        self.family_loglik = family_loglik  # (families,) total over markers
        self.cache: dict[tuple[int, tuple[tuple[int, int], ...]], float] = {}
        families = prepared.case.families
        self.column_family = [next(i for i, f in enumerate(families) if f.name == fam)
                              for fam in pairwise.families]
        self.is_x = np.array([m.is_x for m in prepared.markers], dtype=bool)
        self.pair_sexes = pair_sexes(prepared, [
            families[f].pedigree.sex(mp) for f, mp in zip(self.column_family, pairwise.missing)])
        self._pair_loglik: dict[int, NDArray[np.float64]] | None = None
        if self.is_x.any():  # L(s) per reading: X-linked part as a man, as a woman, unread
            n = prepared.sample_genotypes.shape[0]
            man = observed_log_probabilities(prepared, np.ones(n, dtype=bool))
            woman = observed_log_probabilities(prepared, np.zeros(n, dtype=bool))
            autosomal = woman[:, ~self.is_x].sum(axis=1)
            self._pair_loglik = {Sex.MALE: autosomal + man[:, self.is_x].sum(axis=1),
                                 Sex.FEMALE: autosomal + woman[:, self.is_x].sum(axis=1),
                                 Sex.UNKNOWN: autosomal}
        self._pedigrees: dict[tuple[int, tuple[tuple[str, Sex], ...]], Pedigree] = {}

    def _sample_loglik(self, s: int, c: int) -> float:
        """``log L(s)`` read with the sex of the pair (s, c)."""
        if self._pair_loglik is None:
            return float(self.sample_loglik[s])
        return float(self._pair_loglik[int(self.pair_sexes[s, c])][s])

    def _pedigree(self, family: int, placed: tuple[tuple[int, int], ...],
                  kept: int | None = None, kept_sex: Sex = Sex.UNKNOWN) -> Pedigree:
        """The family's pedigree with each placed missing person of unknown sex
        given its pair's sex (and the kept missing person ``kept_sex``)."""
        pedigree = self.prepared.case.families[family].pedigree
        if not self.is_x.any():
            return pedigree
        missing = self.pairwise.missing
        sexes = {missing[c]: Sex(int(self.pair_sexes[s, c])) for s, c in placed}
        if kept is not None:
            sexes[missing[kept]] = kept_sex
        given = tuple(sorted((m, x) for m, x in sexes.items()
                             if x != Sex.UNKNOWN and pedigree.sex(m) == Sex.UNKNOWN))
        if not given:
            return pedigree
        found = self._pedigrees.get((family, given))
        if found is None:
            found = self._pedigrees[(family, given)] = pedigree.with_sexes(dict(given))
        return found

    def __call__(self, family: int, placed: Placement) -> float:
        if not placed:
            return 0.0
        if len(placed) == 1:
            s, c = placed[0]
            return float(self.pairwise.log_lr[s, c])
        key = (family, placed)
        found = self.cache.get(key)
        if found is None:
            found = self._compute(family, placed)
            self.cache[key] = found
        return found

    def prefetch(self, requests: Iterable[tuple[int, tuple[tuple[int, int], ...]]]) -> None:
        """Compute many placements at once: placements of one family that put
        samples in the same places share a network shape, so their peeling
        is one batched contraction (:func:`kinmatch.likelihood.pedigrees_loglik`)."""
        todo = [key for key in dict.fromkeys(requests)
                if len(key[1]) > 1 and key not in self.cache]
        if not todo:
            return
        if self.prepared.case.theta == 0:
            todo = self._prefetch_conditional(todo)
            if not todo:
                return
        prepared = self.prepared
        jobs = [PedigreeMarkers(self._pedigree(f, placed), prepared.markers,
                                self._genotypes(f, placed)) for f, placed in todo]
        for key, logliks in zip(todo, pedigrees_loglik(jobs, prepared.case.theta)):
            self.cache[key] = self._gain(key[0], key[1], float(logliks.sum()))

    def _prefetch_conditional(self, todo: list[tuple[int, tuple[tuple[int, int], ...]]]
                              ) -> list[tuple[int, tuple[tuple[int, int], ...]]]:
        """Placements that differ only in the sample put in their last
        missing person ``m`` share one peeling: the genotype distribution of
        ``m`` given the family and the other placed samples. Then
        ``log P(F, A) = sum_k [log P(F, A - m) + log P(m = g_k | F, A - m)]``
        over markers ``k`` (a lookup for the sample's genotype ``g_k``; a
        sum over the true genotype for degraded samples). Where the sample
        is untyped (or unread: X-linked markers of a pair of unknown sex)
        the term is the family's likelihood without ``m`` (people there only
        for ``m`` dropped, as the whole peeling drops them), not the sum over
        ``m``'s genotypes: the two differ where frequencies or mutation rows
        sum to 1 only within rounding. Returns the placements left for
        direct peeling (those in groups smaller than ``SHARED_PEELING_MIN``)."""
        groups: dict[tuple[int, tuple[tuple[int, int], ...], int, Sex], list[int]] = {}
        for f, placed in todo:  # (m read with the last pair's sex)
            *before, (s, c) = placed
            groups.setdefault((f, tuple(before), c, Sex(int(self.pair_sexes[s, c]))),
                              []).append(s)
        shared = {key: samples for key, samples in groups.items()
                  if len(samples) >= SHARED_PEELING_MIN}
        if not shared:
            return todo
        prepared = self.prepared
        jobs = [PedigreeMarkers(self._pedigree(f, prefix, c, sex), prepared.markers,
                                self._genotypes(f, prefix), keep=self.pairwise.missing[c])
                for f, prefix, c, sex in shared]
        logtotal, packed, logdata = pedigrees_genotype_distributions_packed(jobs,
                                                                            data_loglik=True)
        assert logdata is not None
        g = prepared.sample_genotypes
        n_alleles = np.array([m.n_alleles for m in prepared.markers], dtype=np.intp)
        offsets = genotype_offsets(n_alleles.tolist())
        summed = uncertain_genotypes(prepared)
        is_x = np.array([m.is_x for m in prepared.markers], dtype=bool)
        for row, ((f, prefix, c, sex), samples) in enumerate(shared.items()):
            hemizygous = sex == Sex.MALE
            rows = np.array(samples, dtype=np.intp)
            typed = g[rows, :, 0] != UNTYPED
            if sex == Sex.UNKNOWN:  # the X-linked markers of a pair of unknown sex are unread
                typed &= ~is_x[None, :]
            cols = genotype_column(g[rows, :, 0], g[rows, :, 1], n_alleles[None, :],
                                   offsets[None, :-1])
            with np.errstate(divide="ignore"):
                values = np.log(packed[row, np.where(typed, cols, 0)])
            for k in map(int, np.flatnonzero(summed[rows].any(axis=0))):
                which = np.flatnonzero(summed[rows, k])
                weights = sample_observation_weights(prepared, k, rows[which],
                                                     bool(hemizygous and is_x[k]))
                dist = packed[row, offsets[k]:offsets[k + 1]]
                with np.errstate(divide="ignore"):
                    values[which, k] = np.log(weights @ dist)
            totals = np.where(typed, values + logtotal[row][None, :],
                              logdata[row][None, :]).sum(axis=1)
            for s, total in zip(samples, totals):
                placed = (*prefix, (s, c))
                self.cache[(f, placed)] = self._gain(f, placed, float(total))
        return [(f, placed) for f, placed in todo if (f, placed) not in self.cache]

    def _genotypes(self, family: int, placed: tuple[tuple[int, int], ...]
                   ) -> list[dict[str, Any]]:
        prepared = self.prepared
        g = prepared.sample_genotypes
        genotypes = []
        for k, base in enumerate(prepared.family_genotypes[family]):
            geno = dict(base)
            for s, c in placed:
                unread = self.is_x[k] and self.pair_sexes[s, c] == Sex.UNKNOWN
                if g[s, k, 0] != UNTYPED and not unread:
                    geno[self.pairwise.missing[c]] = self._sample_genotype(s, k)
            genotypes.append(geno)
        return genotypes

    def _sample_genotype(self, s: int, k: int) -> Genotype | Observation:
        """The sample's genotype at marker k, or what it shows if degraded."""
        sample = self.prepared.case.samples[s]
        a, b = (int(x) for x in self.prepared.sample_genotypes[s, k])
        if sample.degraded:
            return Observation((a,) if a == b else (a, b), sample.dropout, sample.dropin)
        return (a, b)

    def _compute(self, family: int, placed: tuple[tuple[int, int], ...]) -> float:
        prepared = self.prepared
        total = float(markers_loglik(self._pedigree(family, placed), prepared.markers,
                                     self._genotypes(family, placed), prepared.case.theta).sum())
        return self._gain(family, placed, total)

    def _gain(self, family: int, placed: tuple[tuple[int, int], ...], total: float) -> float:
        if math.isinf(total):
            return -math.inf
        gain = total - self.family_loglik[family] - sum(self._sample_loglik(s, c)
                                                        for s, c in placed)
        if self.pairwise.has_lineage:  # lineage parts per placed pair (module docstring)
            lineage = self.pairwise.log_lr_lineage
            gain += float(sum(lineage[s, c] for s, c in placed))
        return gain


def _components(positive: NDArray[np.bool_], column_family: Sequence[int], n_families: int
                ) -> list[tuple[list[int], list[int]]]:
    """Connected components of samples and families joined by positive pairs."""
    n_samples = positive.shape[0]
    parent = list(range(n_samples + n_families))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s, c in zip(*np.nonzero(positive)):
        a, b = find(int(s)), find(n_samples + column_family[int(c)])
        if a != b:
            parent[a] = b
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for s in range(n_samples):
        if positive[s].any():
            groups.setdefault(find(s), ([], []))[0].append(s)
    for c, f in enumerate(column_family):
        if positive[:, c].any():
            groups.setdefault(find(n_samples + f), ([], []))[1].append(c)
    return list(groups.values())


# ---------------------------------------------------------------------------
# The joint analysis


def _prior_log_odds(n_samples: int, n_cols: int, prior: NDArray[np.float64] | None,
                    missing_prior: Sequence[float] | NDArray[np.float64] | None
                    ) -> NDArray[np.float64]:
    """``log w[s, m]`` of the product-form prior (module docstring)."""
    log_w = np.zeros((n_samples, n_cols))
    with np.errstate(divide="ignore"):
        if prior is not None:
            w = np.asarray(prior, dtype=float)
            if w.shape != (n_samples, n_cols) or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise KinmatchError(f"the pair prior must be a {n_samples} x {n_cols} matrix of "
                                    "finite non-negative prior odds")
            log_w += np.log(w)
        if missing_prior is not None:
            p = np.asarray(missing_prior, dtype=float)
            if p.shape != (n_cols,) or np.any(~(p >= 0)) or np.any(~(p < 1)):
                raise KinmatchError(f"the missing-person prior must give {n_cols} probabilities "
                                    "in [0, 1)")
            log_w += np.log(p / (max(n_samples, 1) * (1.0 - p)))[None, :]
    return log_w


def joint_identification(prepared: PreparedCase, pairwise: PairwiseLR, *, top: int = 30,
                         component_limit: int = DEFAULT_COMPONENT_LIMIT,
                         allowed: NDArray[np.bool_] | None = None,
                         prior: NDArray[np.float64] | None = None,
                         missing_prior: Sequence[float] | NDArray[np.float64] | None = None,
                         method: Method = "auto",
                         posterior_assignments: int = DEFAULT_POSTERIOR_ASSIGNMENTS,
                         max_nodes: int = DEFAULT_MAX_NODES,
                         cache: PairwiseCache | None = None) -> JointResult:
    """The best ``top`` assignments, their log-likelihoods and the posterior of each pair.

    ``allowed`` (samples × missing persons, default: every pair whose sexes
    agree) restricts the pairs an assignment may use (dvir's pairings).
    ``prior`` (samples × missing persons, prior odds ``w[s, m]`` of "s is m"
    against "s is *") or ``missing_prior`` (per missing person, the
    probability that it is among the remains) set a product-form prior over
    assignments (module docstring); the default is flat. The ranking of
    assignments is by likelihood (dvir's joint table); posteriors use the prior.

    ``method``: ``"enumerate"`` every component (an error past
    ``component_limit`` assignments), ``"bound"`` every component (Murty or
    branch-and-bound, posteriors with certified bounds), or ``"auto"``:
    enumerate components of at most ``component_limit`` assignments and
    bound the others. A bounded component lists its ``max(top,
    posterior_assignments)`` best assignments for the posterior estimate.

    ``cache``: the one the pairwise LRs were computed with, whose families'
    likelihoods are then not peeled again.
    """
    case = prepared.case
    sexes = np.array([int(s.sex) for s in case.samples])
    sample_ll = observed_log_probabilities(prepared, sexes == Sex.MALE).sum(axis=1)
    family_ll = family_log_likelihoods(prepared, cache=cache)
    gain = FamilyGain(prepared, pairwise, sample_ll, family_ll)
    log_lr = pairwise.log_lr
    n_samples, n_cols = log_lr.shape
    permitted = pairwise.sex_compatible.copy()
    if allowed is not None:
        mask = np.asarray(allowed, dtype=bool)
        if mask.shape != (n_samples, n_cols):
            raise KinmatchError(f"the allowed pairs must be a {n_samples} x {n_cols} matrix")
        permitted &= mask
    positive = permitted & np.isfinite(log_lr)
    log_w = _prior_log_odds(n_samples, n_cols, prior, missing_prior)
    flat = prior is None and missing_prior is None
    if np.isneginf(family_ll).any():
        bad = case.families[int(np.flatnonzero(np.isneginf(family_ll))[0])].name
        raise KinmatchError(f"the reference data of family '{bad}' are impossible on their own "
                            "(a Mendelian inconsistency among the relatives); correct them first")
    base = float(family_ll.sum() + sample_ll.sum())
    posterior = np.zeros((n_samples, n_cols + 1))
    posterior[:, n_cols] = 1.0
    lower = posterior.copy()
    upper = posterior.copy()
    comps = _components(positive, gain.column_family, len(case.families))
    ranked: list[tuple[NDArray[np.float64], NDArray[np.intp], list[int]]] = []
    n_positive = 1
    comp_exact: list[bool] = []
    for comp_samples, comp_cols in comps:
        options = {s: [c for c in comp_cols if positive[s, c]] for s in comp_samples}
        sub = positive[np.ix_(comp_samples, comp_cols)]
        enumerate_it = method == "enumerate"
        if method == "auto":
            if math.prod(1 + len(o) for o in options.values()) <= component_limit:
                enumerate_it = True
            else:
                size = count_matchings(sub, max_states=100_000)
                enumerate_it = size is not None and size <= component_limit
        if enumerate_it:
            vals, assign, post = _enumerated(comp_samples, options, gain, log_w, component_limit)
            n_positive *= len(vals)
            for j, s in enumerate(comp_samples):
                posterior[s] = lower[s] = upper[s] = post[j]
            ranked.append((vals, assign, comp_samples))
            comp_exact.append(True)
            continue
        n_positive = -1
        n_list = max(top, posterior_assignments)
        families = [gain.column_family[c] for c in comp_cols]
        additive = len(set(families)) == len(families)
        local = {c: i for i, c in enumerate(comp_cols)}
        w_lik = np.where(sub, log_lr[np.ix_(comp_samples, comp_cols)], -np.inf)
        w_post = w_lik + log_w[np.ix_(comp_samples, comp_cols)]
        if additive:
            lik_rows = k_best_assignments(w_lik, top if not flat else n_list)
            post_rows = lik_rows if flat else k_best_assignments(w_post, n_list)
            exhausted = len(post_rows[0]) < n_list
            b = np.exp(np.minimum(np.where(np.isfinite(w_post), w_post, -np.inf), _LOG_CAP))
            log_e, share = listed_mass(post_rows[0], post_rows[1], len(comp_cols))
            if exhausted:
                log_r = -math.inf
            else:
                log_z = log_partition_upper_bound(w_post)
                log_r = log_z + math.log(-math.expm1(log_e - log_z)) if log_z > log_e else -math.inf
            lo1, hi1 = listed_mass_bounds(log_e, share, log_r)
            if exhausted:
                lo, hi = lo1, hi1
            else:
                lo2, hi2 = vertex_deletion_bounds(b)
                lo, hi = np.maximum(lo1, lo2), np.minimum(hi1, hi2)
                hi = np.maximum(hi, lo)
            vals, assign = lik_rows
        else:
            bound = {}
            lineage = pairwise.log_lr_lineage
            for s in comp_samples:
                for c in options[s]:
                    shared = families.count(gain.column_family[c]) > 1
                    # autosomal increment <= -log L(s); the lineage part is added as it is
                    inc = (max(float(log_lr[s, c]), float(-sample_ll[s] + lineage[s, c]))
                           if shared else float(log_lr[s, c]))
                    bound[(s, c)] = inc + 1e-9 * (1.0 + abs(inc))
            zero_prior = np.zeros_like(log_w)
            lik = _search(comp_samples, options, bound, zero_prior, gain,
                          top if not flat else n_list, max_nodes)
            if flat:
                post_search = lik
            else:
                post_bound = {key: v + float(log_w[key]) for key, v in bound.items()}
                post_search = _search(comp_samples, options, post_bound, log_w, gain, n_list,
                                      max_nodes)
            post_assign = _local(post_search.rows, local, len(comp_samples))
            log_e, share = listed_mass(np.array(post_search.values), post_assign, len(comp_cols))
            exhausted = post_search.log_rest == -math.inf
            lo, hi = listed_mass_bounds(log_e, share, post_search.log_rest)
            vals = np.array(lik.values)
            # branch-and-bound rows hold global column indices already
            assign = np.array(lik.rows, dtype=np.intp).reshape(len(lik.rows), len(comp_samples))
            ranked.append((vals, assign, comp_samples))
            _store(posterior, lower, upper, comp_samples, comp_cols, share, lo, hi, n_cols)
            comp_exact.append(exhausted)
            continue
        # Murty rows are in local column indices
        assign = np.where(assign == NOT_MISSING, NOT_MISSING,
                          np.asarray(comp_cols, dtype=np.intp)[np.maximum(assign, 0)])
        ranked.append((vals, assign, comp_samples))
        _store(posterior, lower, upper, comp_samples, comp_cols, share, lo, hi, n_cols)
        comp_exact.append(exhausted)
    best_rows, best_ll = _merge_top(ranked, n_samples, top)
    n_all = 1
    for comp_samples, comp_cols in _components(permitted, gain.column_family, len(case.families)):
        sub = permitted[np.ix_(comp_samples, comp_cols)]
        count = count_matchings(sub)
        if count is None and math.prod(1 + int(r.sum()) for r in sub) <= 10 * component_limit:
            count = count_assignments(sub)
        if count is None:
            n_all = -1
            break
        n_all *= count
    return JointResult(
        samples=pairwise.samples,
        missing=pairwise.missing,
        families=pairwise.families,
        assignments=best_rows,
        loglik=base + best_ll,
        posterior=posterior,
        n_assignments=n_all,
        n_positive=n_positive,
        components=tuple((tuple(s), tuple(c)) for s, c in comps),
        posterior_lower=lower,
        posterior_upper=upper,
        exact=all(comp_exact),
        component_exact=tuple(comp_exact),
    )


def _local(rows: Sequence[tuple[int, ...]], local: dict[int, int], width: int) -> NDArray[np.intp]:
    """Rows of global column indices as local ones."""
    out = np.array([[local[c] if c != NOT_MISSING else NOT_MISSING for c in r] for r in rows],
                   dtype=np.intp)
    return out.reshape(len(rows), width)


def _store(posterior: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64],
           samples: Sequence[int], cols: Sequence[int], share: NDArray[np.float64],
           lo: NDArray[np.float64], hi: NDArray[np.float64], n_cols: int) -> None:
    """Write a bounded component's estimate (listed share clipped into [lo, hi]) and bounds."""
    target = [*cols, n_cols]
    est = np.clip(share, lo, hi)
    for j, s in enumerate(samples):
        posterior[s] = lower[s] = upper[s] = 0.0
        posterior[s, target] = est[j]
        lower[s, target] = lo[j]
        upper[s, target] = hi[j]


def _search(samples: list[int], options: dict[int, list[int]],
            bound: dict[tuple[int, int], float], log_prior: NDArray[np.float64],
            gain: FamilyGain, k: int, max_nodes: int) -> SearchResult:
    """:func:`~kinmatch.algorithms.assignments.best_first_assignments` over the
    families of a component, with the error explained for a DVI case."""
    try:
        return best_first_assignments(samples, options, bound, log_prior, gain,
                                      gain.column_family, k, max_nodes)
    except SearchLimitError:
        raise KinmatchError(
            f"the joint analysis of a component of {len(samples)} samples needed more than "
            f"{max_nodes:,} search nodes; exclude more pairs (a stricter incompatibility "
            "limit) or solve the undisputed identifications first") from None


def _enumerated(samples: list[int], options: dict[int, list[int]], gain: FamilyGain,
                log_w: NDArray[np.float64], limit: int
                ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64]]:
    """Every assignment of a component: log-likelihood gains sorted best first, the
    rows, and the exact posterior (samples × (missing + 1), columns global)."""
    n_cols = log_w.shape[1]
    rows = []
    values = []
    priors = []
    try:
        assignments = list(enumerate_assignments(samples, options, limit))
    except AssignmentLimitError:
        raise KinmatchError(
            f"a component of {len(samples)} samples has more than {limit:,} possible "
            "assignments; exclude more pairs (a stricter incompatibility limit) or "
            "solve the undisputed identifications first") from None
    requests = []
    for assignment in assignments:
        by_family_: dict[int, list[tuple[int, int]]] = {}
        for s, c in zip(samples, assignment):
            if c != NOT_MISSING:
                by_family_.setdefault(gain.column_family[c], []).append((s, c))
        requests += [(f, tuple(p)) for f, p in by_family_.items()]
    gain.prefetch(requests)
    for assignment in assignments:
        by_family: dict[int, list[tuple[int, int]]] = {}
        pv = 0.0
        for s, c in zip(samples, assignment):
            if c != NOT_MISSING:
                by_family.setdefault(gain.column_family[c], []).append((s, c))
                pv += float(log_w[s, c])
        v = sum(gain(f, tuple(p)) for f, p in by_family.items())
        if v == -math.inf:
            continue
        rows.append(assignment)
        values.append(v)
        priors.append(pv)
    vals = np.array(values)
    pri = np.array(priors)
    assign = np.array(rows, dtype=np.intp).reshape(len(rows), len(samples))
    order = np.argsort(-vals, kind="stable")
    vals, assign, pri = vals[order], assign[order], pri[order]
    post_w = vals + pri
    with np.errstate(invalid="ignore"):
        weights = np.exp(post_w - post_w.max())
    weights = np.nan_to_num(weights)
    weights /= weights.sum()
    post = np.zeros((len(samples), n_cols + 1))
    for j in range(len(samples)):
        col = assign[:, j]
        np.add.at(post[j], np.where(col == NOT_MISSING, n_cols, col), weights)
    return vals, assign, post


def _merge_top(ranked: list[tuple[NDArray[np.float64], NDArray[np.intp], list[int]]],
               n_samples: int, top: int) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The ``top`` best combinations of the components' sorted lists (k-best product)."""
    rows, values = [], []
    for value, idx in k_best_combinations([vals for vals, _, _ in ranked], top):
        row = np.full(n_samples, NOT_MISSING, dtype=np.intp)
        for (_, assign, samples), i in zip(ranked, idx):
            row[samples] = assign[i]
        rows.append(row)
        values.append(value)
    return np.array(rows, dtype=np.intp), np.array(values)


__all__ = ["DEFAULT_COMPONENT_LIMIT", "NOT_MISSING", "FamilyGain", "JointResult",
           "joint_identification"]
