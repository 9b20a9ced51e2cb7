"""Joint identification: which samples are which missing persons, all at once.

An **assignment** ``a`` maps every post-mortem sample either to a missing
person or to ``*`` ("not among the missing"), using each missing person at
most once and never across a known sex difference. Its likelihood factorises
over reference families (Vigeland & Egeland, *DNA-based identification in
disaster victim identification*, 2021; dvir's ``dviJoint``)::

    L(a) = prod_F L(F with the samples a places in it) * prod_{s: a(s) = *} L(s)

and with ``g_F(A) = log L(F with A) - log L(F) - sum_{s in A} log L(s)``,

    log L(a) = sum_F log L(F) + sum_s log L(s) + sum_F g_F(A_F(a)).

For a family that receives one sample, ``g_F`` is the pairwise log-LR; a
family that receives several is peeled with all of them placed. With a flat
prior over assignments the posterior of ``a`` is ``L(a) / sum_b L(b)``, and
the posterior that sample ``s`` is missing person ``m`` is the sum over the
assignments that say so (dvir's ``Bmarginal``).

Exactness at scale: a pair with pairwise LR 0 cannot be in any assignment of
positive likelihood, so only positive pairs are enumerated. Samples and
families linked by positive pairs fall into connected **components** that are
independent: the likelihood is a product over components and so is the set
of assignments. Each component is enumerated on its own, posteriors are
computed per component, and the best assignments of the whole case are
merged from the components' sorted lists. The number of assignments dvir
would enumerate (every sex-consistent one, zero-likelihood ones included) is
reported as ``n_assignments`` for comparison.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import KinmatchError
from ..likelihood import markers_loglik
from ..pedigree import Sex
from .case import UNTYPED, PreparedCase
from .pairwise import PairwiseLR, sample_log_probabilities

#: Column index meaning "not among the missing" (dvir's ``*``).
NOT_MISSING = -1

#: Largest number of assignments enumerated in one component.
DEFAULT_COMPONENT_LIMIT = 2_000_000


@dataclass(frozen=True)
class JointResult:
    """Assignments of samples to missing persons, best first."""

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]
    assignments: NDArray[np.intp]  # (top, samples): column of the missing person, or NOT_MISSING
    loglik: NDArray[np.float64]  # (top,) natural log, best first
    posterior: NDArray[np.float64]  # (samples, missing + 1); last column = not among the missing
    n_assignments: int  # sex-consistent assignments in all (dvir's n)
    n_positive: int  # assignments of positive likelihood
    components: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # (samples, columns) each

    @property
    def lr_vs_best(self) -> NDArray[np.float64]:
        """``L(best) / L(row)`` per row (dvir's ``LR`` column)."""
        with np.errstate(over="ignore"):
            return np.exp(self.loglik[0] - self.loglik)

    def describe(self, row: int) -> dict[str, str]:
        """Row ``row`` as ``{sample: missing person or "*"}``."""
        return {s: (self.missing[c] if c != NOT_MISSING else "*")
                for s, c in zip(self.samples, self.assignments[row])}


class _FamilyGain:
    """``g_F(A)`` for sets of (sample, missing person) placed in one family, cached."""

    def __init__(self, prepared: PreparedCase, pairwise: PairwiseLR,
                 sample_loglik: NDArray[np.float64], family_loglik: NDArray[np.float64]) -> None:
        self.prepared = prepared
        self.pairwise = pairwise
        self.sample_loglik = sample_loglik  # (samples,) total over markers
        self.family_loglik = family_loglik  # (families,) total over markers
        self.cache: dict[tuple[int, tuple[tuple[int, int], ...]], float] = {}
        self.column_family = [next(i for i, f in enumerate(prepared.case.families)
                                   if f.name == fam) for fam in pairwise.families]

    def __call__(self, family: int, placed: tuple[tuple[int, int], ...]) -> float:
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

    def _compute(self, family: int, placed: tuple[tuple[int, int], ...]) -> float:
        prepared = self.prepared
        fam = prepared.case.families[family]
        g = prepared.sample_genotypes
        genotypes = []
        for k, base in enumerate(prepared.family_genotypes[family]):
            geno = dict(base)
            for s, c in placed:
                if g[s, k, 0] != UNTYPED:
                    geno[self.pairwise.missing[c]] = (int(g[s, k, 0]), int(g[s, k, 1]))
            genotypes.append(geno)
        total = float(markers_loglik(fam.pedigree, prepared.markers, genotypes,
                                     prepared.case.theta).sum())
        if math.isinf(total):
            return -math.inf
        return total - self.family_loglik[family] - sum(self.sample_loglik[s] for s, _ in placed)


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


def _enumerate(samples: Sequence[int], options: dict[int, list[int]], limit: int
               ) -> Iterator[tuple[int, ...]]:
    """Every injective partial assignment of ``samples`` to their ``options``."""
    count = 0
    chosen: list[int] = []
    used: set[int] = set()

    def rec(i: int) -> Iterator[tuple[int, ...]]:
        nonlocal count
        if i == len(samples):
            count += 1
            if count > limit:
                raise KinmatchError(
                    f"a component of {len(samples)} samples has more than {limit:,} possible "
                    "assignments; exclude more pairs (a stricter incompatibility limit) or "
                    "solve the undisputed identifications first")
            yield tuple(chosen)
            return
        chosen.append(NOT_MISSING)
        yield from rec(i + 1)
        chosen.pop()
        for c in options[samples[i]]:
            if c not in used:
                used.add(c)
                chosen.append(c)
                yield from rec(i + 1)
                chosen.pop()
                used.discard(c)

    yield from rec(0)


def count_assignments(allowed: NDArray[np.bool_]) -> int:
    """Number of injective partial assignments with ``allowed[s, c]`` (dvir's n).

    Dynamic programming over samples with the set of used columns as state,
    restricted to columns some sample may take; exact for the case sizes dvir
    can enumerate, and computed per connected component otherwise.
    """
    states: dict[frozenset[int], int] = {frozenset(): 1}
    for s in range(allowed.shape[0]):
        cols = np.flatnonzero(allowed[s])
        nxt: dict[frozenset[int], int] = {}
        for used, n in states.items():
            nxt[used] = nxt.get(used, 0) + n
            for c in cols:
                if c not in used:
                    key = used | {int(c)}
                    nxt[key] = nxt.get(key, 0) + n
        states = nxt
    return sum(states.values())


def joint_identification(prepared: PreparedCase, pairwise: PairwiseLR, *, top: int = 30,
                         component_limit: int = DEFAULT_COMPONENT_LIMIT) -> JointResult:
    """The best ``top`` assignments, their log-likelihoods and the posterior of each pair."""
    case = prepared.case
    sexes = np.array([int(s.sex) for s in case.samples])
    sample_ll = sample_log_probabilities(prepared, sexes == Sex.MALE).sum(axis=1)
    family_ll = np.array([float(markers_loglik(f.pedigree, prepared.markers, g, case.theta).sum())
                          for f, g in zip(case.families, prepared.family_genotypes)])
    gain = _FamilyGain(prepared, pairwise, sample_ll, family_ll)
    log_lr = pairwise.log_lr
    positive = pairwise.sex_compatible & np.isfinite(log_lr)
    if np.isneginf(family_ll).any():
        bad = case.families[int(np.flatnonzero(np.isneginf(family_ll))[0])].name
        raise KinmatchError(f"the reference data of family '{bad}' are impossible on their own "
                            "(a Mendelian inconsistency among the relatives); correct them first")
    base = float(family_ll.sum() + sample_ll.sum())
    n_samples, n_cols = log_lr.shape
    posterior = np.zeros((n_samples, n_cols + 1))
    posterior[:, n_cols] = 1.0
    comps = _components(positive, gain.column_family, len(case.families))
    ranked: list[tuple[NDArray[np.float64], NDArray[np.intp], list[int]]] = []
    n_positive = 1
    for comp_samples, comp_cols in comps:
        options = {s: [c for c in comp_cols if positive[s, c]] for s in comp_samples}
        rows = []
        values = []
        for assignment in _enumerate(comp_samples, options, component_limit):
            by_family: dict[int, list[tuple[int, int]]] = {}
            for s, c in zip(comp_samples, assignment):
                if c != NOT_MISSING:
                    by_family.setdefault(gain.column_family[c], []).append((s, c))
            v = sum(gain(f, tuple(p)) for f, p in by_family.items())
            if v == -math.inf:
                continue
            rows.append(assignment)
            values.append(v)
        vals = np.array(values)
        assign = np.array(rows, dtype=np.intp).reshape(len(rows), len(comp_samples))
        order = np.argsort(-vals, kind="stable")
        vals, assign = vals[order], assign[order]
        n_positive *= len(vals)
        weights = np.exp(vals - vals[0])
        weights /= weights.sum()
        for j, s in enumerate(comp_samples):
            posterior[s, :] = 0.0
            col = assign[:, j]
            np.add.at(posterior[s], np.where(col == NOT_MISSING, n_cols, col), weights)
        ranked.append((vals, assign, comp_samples))
    best_rows, best_ll = _merge_top(ranked, n_samples, top)
    allowed = pairwise.sex_compatible
    n_all = 1
    for comp_samples, comp_cols in _components(allowed, gain.column_family, len(case.families)):
        n_all *= count_assignments(allowed[np.ix_(comp_samples, comp_cols)])
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
    )


def _merge_top(ranked: list[tuple[NDArray[np.float64], NDArray[np.intp], list[int]]],
               n_samples: int, top: int) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """The ``top`` best combinations of the components' sorted lists (k-best product)."""
    if not ranked:
        return np.full((1, n_samples), NOT_MISSING, dtype=np.intp), np.zeros(1)
    start = tuple(0 for _ in ranked)

    def score(idx: tuple[int, ...]) -> float:
        return float(sum(r[0][i] for r, i in zip(ranked, idx)))

    heap = [(-score(start), start)]
    seen = {start}
    rows, values = [], []
    while heap and len(rows) < top:
        neg, idx = heapq.heappop(heap)
        row = np.full(n_samples, NOT_MISSING, dtype=np.intp)
        for (_, assign, samples), i in zip(ranked, idx):
            row[samples] = assign[i]
        rows.append(row)
        values.append(-neg)
        for j in range(len(ranked)):
            if idx[j] + 1 < len(ranked[j][0]):
                nxt = idx[:j] + (idx[j] + 1,) + idx[j + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-score(nxt), nxt))
    return np.array(rows, dtype=np.intp), np.array(values)


__all__ = ["JointResult", "NOT_MISSING", "count_assignments", "joint_identification"]
