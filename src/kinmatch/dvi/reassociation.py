"""Fragment re-association: which post-mortem samples come from the same person.

Remains of one person are often recovered as several fragments, each typed on
its own and many only partially. Before remains are matched to families, the
fragments are grouped into individuals and each individual's profile is put
together from its fragments (dvir's ``directMatch`` and ``mergePM``;
Familias' *direct match* / *blind search*).

Identity LR
-----------
For two samples with genotypes ``g1`` and ``g2`` at a marker,

    LR = P(g1, g2 | same person) / P(g1, g2 | two unrelated people)

and the LR of a pair is the product over the markers typed in both (a marker
untyped in either sample contributes 1). For complete samples the numerator
is 0 unless ``g1 = g2``, and then it is the probability of the one genotype,
so a mismatching marker gives LR 0; degraded samples are compared with the
drop-out model (see *Clustering* below and :func:`degraded_identity_log_lr`).

With the subpopulation correction θ (Balding & Nichols 1994), alleles drawn
from one subpopulation follow the sampling formula used everywhere in
kinmatch (:func:`kinmatch.likelihood.population.balding_nichols_founder_factor`): the
``j``-th allele drawn is ``a`` with probability
``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``, where ``n_a`` counts the
earlier ``a`` draws. The numerator is the probability of two draws (the
genotype, :func:`kinmatch.likelihood.population.genotype_log_probabilities`),
the denominator the probability of four draws (the two genotypes of two
unrelated people of the same subpopulation), so the LR of a match is one
over the conditional match probability of NRC II (1996), equations 4.10a/b
(:func:`kinmatch.likelihood.population.match_log_lr`):

    homozygote a/a:    LR = (1 + θ)(1 + 2θ) / [(2θ + (1 - θ) p_a)(3θ + (1 - θ) p_a)]
    heterozygote a/b:  LR = (1 + θ)(1 + 2θ) / [2 (θ + (1 - θ) p_a)(θ + (1 - θ) p_b)]

which at θ = 0 are ``1 / p_a²`` and ``1 / (2 p_a p_b)``, the inverse of the
genotype's Hardy–Weinberg probability (dvir's ``directMatch`` with
``dropout = 0``, which has no θ). At an X-linked marker a male carries one
allele, and two male samples that share allele ``a`` give
``LR = 1 / (θ + (1 - θ) p_a)`` (``1 / p_a`` at θ = 0). A pair is treated as
male at X-linked markers when either sample is recorded male (the other,
if of unknown sex, must be the same person and so male too), as
:mod:`.pairwise` gives an unknown-sex sample the sex of the missing person.

Two samples whose sexes are known and differ cannot be one person: their LR
is 0 (dvir does the same). A sample of unknown sex that is heterozygous at an
X-linked marker is female for this purpose.

The matrices are computed block by block: for ``c`` rows at a time, the
genotype codes of those rows are compared with those of all later samples,
``c × S × K`` comparisons, with ``c`` chosen so that a block holds about
:data:`BLOCK_ELEMENTS` elements. The whole computation is ``S² K / 2``
comparisons and its working memory is bounded by the block size; clustering
(:func:`reassociate`) keeps only the links found in each block, so 5,000
samples never need an ``S × S`` matrix. :func:`identity_lr` returns the full
matrices when they are wanted.

Clustering
----------
Two samples are **linked** when their genotypes agree at all but at most
``max_mismatches`` of the markers typed in both, at least one marker is
compared, and the identity LR computed over the markers where they agree is
at least ``threshold``. Linking looks at the genotypes only: a pair whose
recorded sexes differ but whose genotypes say "same person" is linked, so
that the contradiction is reported instead of silently splitting the person
in two. Individuals are the connected components of the link graph (dvir's
``mergePM``). A component is **consistent** when, at every marker, all its
members typed there have the same genotype and the members' known (or
implied) sexes agree. Linking is transitive, so a component can contain two
members that were never compared directly and that disagree (A–B and B–C
agree, A and C differ where B is untyped); such a component, or one with a
sex contradiction, is **inconsistent**: it is reported with the conflicting
markers, genotypes and pairs, and it is never merged.

Defaults. ``threshold`` is :data:`DEFAULT_IDENTITY_THRESHOLD` = 10⁶. dvir's
``mergePM`` uses 10⁴. Under "different unrelated people" the LR has
expectation at most 1, so ``P(LR ≥ t) ≤ 1/t`` (Markov's inequality) and
among ``S(S - 1)/2`` pairs at most ``S(S - 1)/(2t)`` false links are
expected: with 1,000 fragments at most 50 for 10⁴ and 0.5 for 10⁶.
Victims of one disaster are often relatives (siblings share a genotype at a
marker far more often than unrelated people), which is another reason not
to merge on a handful of shared markers. Pass ``threshold=1e4`` for dvir's
threshold. ``max_mismatches`` defaults to 0: a marker that no genotype
explains makes the identity LR 0. Degraded samples (a drop-out / drop-in
probability on the :class:`~kinmatch.dvi.case.PostMortemSample`) are
compared with the observation model of
:func:`kinmatch.likelihood.observation.observation_weights`: the LR of a marker sums over
the true genotype (:func:`degraded_identity_log_lr`), a fragment showing
``12`` where another shows ``12/14`` is consistent with one person, and a
marker is a mismatch only if no genotype explains both. Allowing mismatches
(a stand-in for a typing-error model) links pairs on the LR over their
agreeing markers; every cluster built with such a link is inconsistent by
construction, and so reported for review, not merged.

Merged profiles
---------------
For a consistent cluster, :func:`merge_fragments` makes one
:class:`~kinmatch.dvi.case.PostMortemSample` whose genotype at each marker is
the one typed in any member (they agree), whose sex is the members' known
sex, and whose id joins the members' ids (``"V1+V7"``); a new
:class:`~kinmatch.dvi.case.DVICase` holds the individuals in place of the
fragments, with the mapping individual → fragments, so that pairwise and
joint identification run on individuals.

Correspondence with dvir and Familias
-------------------------------------
* dvir ``directMatch(x, y)`` with ``dropout = dropin = typingError = 0`` is
  ``identity_lr(case).lr[x, y]`` at θ = 0: the same per-marker rule (1 for a
  marker missing in either sample, 0 for a mismatch, else one over the
  genotype probability) and 0 for known, different sexes. dvir has no θ;
  with drop-out, dvir's ``directMatch(dropout = d)`` corresponds to a
  sample's ``dropout`` here (kinmatch has no typing-error model).
* dvir ``mergePM(pm, threshold, method = "combine", names = "combine")``:
  its ``LRmat`` is :attr:`IdentityLR.lr` (dvir puts 0 on the diagonal,
  kinmatch NaN), ``nonmissing`` is the diagonal of
  :attr:`IdentityLR.n_compared`, ``groups`` are :attr:`Reassociation.groups`
  (the same connected components of pairs with LR ≥ threshold, except
  that a pair whose known sexes differ, LR 0 in both, is linked here on its
  genotypes so that its cluster is reported as inconsistent), and
  ``pmReduced`` is ``merge_fragments(...).case.samples``; dvir's names join
  the group's ids in input order with ``"_"``, which ``separator="_"``
  reproduces. Where the members' genotypes conflict, dvir sets the marker
  to missing in the combined profile and lists it in ``problems``; kinmatch
  does not merge the cluster at all and reports it
  (:attr:`Reassociation.inconsistent`, with the conflicting markers and
  pairs). dvir's ``method = "first"`` / ``"mostcomplete"``, which keep one
  member's profile and drop the others' markers, have no counterpart:
  a consistent cluster's combined profile carries strictly more evidence.
* Familias 3 compares post-mortem profiles with each other in its DVI
  module (*direct match*, with drop-out, drop-in and typing-error models)
  and in its *blind search*, which tests every pair of profiles for a
  chosen relationship, identity here, and lists the pairs whose LR exceeds
  a user-chosen threshold (Kling, Tillmar & Egeland 2014; Egeland, Kling &
  Mostad 2016). The search over all pairs is :func:`identity_lr` /
  :func:`reassociate`, the threshold ``threshold``; without error models,
  ``max_mismatches`` is the only tolerance for discordant markers.

References: D. J. Balding & R. A. Nichols (1994), DNA profile match
probability calculation, *Forensic Sci. Int.* 64:125–140; National Research
Council (1996), *The Evaluation of Forensic DNA Evidence* (NRC II), §4.10;
D. Kling, A. O. Tillmar & T. Egeland (2014), Familias 3 – Extensions and
new functionality, *FSI: Genetics* 13:121–127; T. Egeland, D. Kling &
P. Mostad (2016), *Relationship Inference with Familias and R*, ch. 3 and 4;
D. Kling, T. Egeland, A. Tillmar & L. Prieto (2021), *Mass
Identifications: Statistical Methods in Forensic Genetics*, Academic Press;
M. D. Vigeland & T. Egeland, dvir (``directMatch``, ``mergePM``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kinmatch.dvi.case import UNTYPED, DVICase, PostMortemSample, PreparedCase, prepare_case
from kinmatch.errors import KinmatchError, warn
from kinmatch.likelihood.observation import observation_weights
from kinmatch.likelihood.population import balding_nichols_founder_factor, match_log_lr
from kinmatch.pedigree import Sex

#: Smallest identity LR that links two fragments (see the module docstring).
DEFAULT_IDENTITY_THRESHOLD = 1e6

#: Mismatching markers allowed in a link: none, as there is no drop-out model.
DEFAULT_MAX_MISMATCHES = 0

#: Joins the fragment ids of a merged individual: ``"V1+V7"``.
DEFAULT_SEPARATOR = "+"

#: About this many (row, column, marker) elements are compared per block.
BLOCK_ELEMENTS = 4_000_000

#: Relative slack when an LR is compared with the threshold (an LR equal to
#: the threshold up to rounding links).
_THRESHOLD_SLACK = 1e-12


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class IdentityLR:
    """Identity LRs of every pair of post-mortem samples.

    All matrices are ``(samples, samples)`` and symmetric. ``log_lr_concordant``
    is the natural-log LR over the markers where the two genotypes agree;
    ``log_lr`` is the identity LR proper, ``-inf`` where a marker mismatches
    or the sexes differ. On the diagonal the log-LRs are NaN, ``n_compared``
    is the number of markers the sample is typed at and ``n_mismatches`` 0.
    """

    samples: tuple[str, ...]
    markers: tuple[str, ...]
    theta: float
    log_lr_concordant: NDArray[np.float64]
    n_compared: NDArray[np.integer]  # markers typed in both
    n_mismatches: NDArray[np.integer]  # markers typed in both with different genotypes
    sex_conflict: NDArray[np.bool_]  # known (or implied) sexes differ

    @property
    def log_lr(self) -> NDArray[np.float64]:
        """Natural-log identity LR: ``-inf`` for a mismatch or a sex conflict."""
        out = np.where((self.n_mismatches > 0) | self.sex_conflict, -np.inf,
                       self.log_lr_concordant)
        np.fill_diagonal(out, np.nan)
        return out

    @property
    def log10_lr(self) -> NDArray[np.float64]:
        return self.log_lr / math.log(10.0)

    @property
    def lr(self) -> NDArray[np.float64]:
        with np.errstate(over="ignore"):
            return np.exp(self.log_lr)

    def index(self, sample: str) -> int:
        return self.samples.index(sample)


@dataclass(frozen=True)
class IdentityLink:
    """Two samples linked as the same person."""

    a: str
    b: str
    log10_lr: float  # over the markers where they agree (the identity LR when no mismatch)
    n_compared: int
    n_mismatches: int
    sex_conflict: bool


@dataclass(frozen=True)
class MarkerConflict:
    """A marker at which members of one cluster have different genotypes."""

    marker: str
    genotypes: Mapping[str, tuple[str, str]]  # member -> allele names, members typed there


@dataclass(frozen=True)
class FragmentCluster:
    """One putative individual: a connected component of linked fragments."""

    id: str  # the members' ids joined by the separator; the sample id for a singleton
    members: tuple[str, ...]  # input order
    indices: tuple[int, ...]  # positions of the members in the case's samples
    consistent: bool
    sex: Sex  # the members' known sex; UNKNOWN if none is known or they conflict
    links: tuple[IdentityLink, ...] = ()
    marker_conflicts: tuple[MarkerConflict, ...] = ()
    sex_conflict: bool = False
    #: pairs of members that are directly contradictory (a mismatching marker or sexes)
    conflicting_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def is_fragmented(self) -> bool:
        return len(self.members) > 1

    @property
    def weakest_link_log10_lr(self) -> float:
        """Smallest log10 LR among the links that joined the cluster (``nan`` if none)."""
        return min((lk.log10_lr for lk in self.links), default=math.nan)

    def describe(self) -> str:
        text = self.id
        if self.consistent:
            return text
        parts = []
        if self.sex_conflict:
            parts.append("sexes differ")
        for mc in self.marker_conflicts:
            parts.append(f"{mc.marker}: " + ", ".join(f"{s} {'/'.join(g)}"
                                                       for s, g in mc.genotypes.items()))
        return f"{text} (inconsistent: {'; '.join(parts)})"


@dataclass(frozen=True)
class Reassociation:
    """Fragments grouped into individuals."""

    samples: tuple[str, ...]
    markers: tuple[str, ...]
    theta: float
    threshold: float
    max_mismatches: int
    clusters: tuple[FragmentCluster, ...]  # every sample in exactly one, ordered by first member
    links: tuple[IdentityLink, ...]

    @property
    def fragmented(self) -> tuple[FragmentCluster, ...]:
        """Clusters of more than one fragment."""
        return tuple(c for c in self.clusters if c.is_fragmented)

    @property
    def inconsistent(self) -> tuple[FragmentCluster, ...]:
        return tuple(c for c in self.clusters if not c.consistent)

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        """The members of every cluster, singletons included."""
        return tuple(c.members for c in self.clusters)

    def cluster_of(self, sample: str) -> FragmentCluster:
        for c in self.clusters:
            if sample in c.members:
                return c
        raise KinmatchError(f"'{sample}' is not a post-mortem sample of this case")


@dataclass(frozen=True)
class MergedCase:
    """A DVI case with the fragments of each consistent cluster merged."""

    case: DVICase
    #: every sample of ``case`` -> the fragment ids it stands for (itself when unmerged)
    individuals: Mapping[str, tuple[str, ...]]
    reassociation: Reassociation
    #: inconsistent clusters whose fragments were left as separate samples
    unmerged: tuple[FragmentCluster, ...] = field(default=())

    @property
    def fragment_to_individual(self) -> dict[str, str]:
        return {frag: ind for ind, frags in self.individuals.items() for frag in frags}


# --------------------------------------------------------------------------- per-sample tables


@dataclass(frozen=True)
class _Tables:
    codes: NDArray[np.int64]  # (S, K) genotype code a * n + b, UNTYPED where untyped
    match_log_lr: NDArray[np.float64]  # (S, K) log LR of a match, diploid
    hemizygous_delta: NDArray[np.float64] | None  # (S, K) change for a male pair at X markers
    male: NDArray[np.bool_]  # (S,) recorded male
    sex: NDArray[np.int64]  # (S,) recorded or implied sex, 0 unknown
    degraded: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    prepared: PreparedCase | None = None
    #: per degraded sample, its identity log-LR and mismatches with everyone
    degraded_rows: dict[int, tuple[NDArray[np.float64], NDArray[np.int64]]] = field(
        default_factory=dict)


def _tables(prepared: PreparedCase) -> _Tables:
    g = prepared.sample_genotypes
    n_samples, n_markers = g.shape[:2]
    theta = float(prepared.case.theta)
    codes = np.full((n_samples, n_markers), UNTYPED, dtype=np.int64)
    match = np.zeros((n_samples, n_markers))
    any_x = any(m.is_x for m in prepared.markers)
    delta = np.zeros((n_samples, n_markers)) if any_x else None
    sex = np.array([int(s.sex) for s in prepared.case.samples], dtype=np.int64)
    het_x = np.zeros(n_samples, dtype=bool)
    for k, marker in enumerate(prepared.markers):
        p = marker.allele_frequencies
        rows = np.flatnonzero(g[:, k, 0] != UNTYPED)
        a, b = g[rows, k, 0], g[rows, k, 1]
        codes[rows, k] = a.astype(np.int64) * marker.n_alleles + b
        hom = a == b
        pa, pb = p[a], p[b]
        # 1 / P(second genotype = first | first), NRC II 4.10a (hom) and 4.10b (het)
        diploid = match_log_lr(pa, pb, hom, theta)
        match[rows, k] = diploid
        if marker.is_x and delta is not None:
            # two males sharing allele a: 1 / (θ + (1 - θ) p_a)
            haploid = match_log_lr(pa, pb, hom, theta, hemizygous=True)
            delta[rows, k] = np.where(hom, haploid - diploid, 0.0)
            het_x[rows[~hom]] = True
    implied = np.where((sex == int(Sex.UNKNOWN)) & het_x, int(Sex.FEMALE), sex)
    degraded = np.array([s.degraded for s in prepared.case.samples], dtype=bool)
    tables = _Tables(codes, match, delta, sex == int(Sex.MALE), implied, degraded, prepared)
    if degraded.any():
        tables = replace(tables, degraded_rows=_degraded_rows(prepared, tables))
    return tables


@dataclass(frozen=True)
class _Block:
    rows: slice  # rows r0:r1
    cols: slice  # columns r0:S
    log_lr: NDArray[np.float64]  # over concordant markers
    n_compared: NDArray[np.int64]
    n_mismatches: NDArray[np.int64]
    sex_conflict: NDArray[np.bool_]


def _chunk_rows(n_samples: int, n_markers: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if chunk_size < 1:
            raise KinmatchError(f"chunk_size must be a positive number of rows, not {chunk_size}")
        return int(chunk_size)
    return max(1, BLOCK_ELEMENTS // max(1, n_samples * max(1, n_markers)))


def _blocks(t: _Tables, chunk_size: int | None) -> Iterator[_Block]:
    """Rows ``r0:r1`` against columns ``r0:S`` (the upper triangle and diagonal)."""
    n_samples, n_markers = t.codes.shape
    step = _chunk_rows(n_samples, n_markers, chunk_size)
    typed = t.codes != UNTYPED
    for r0 in range(0, n_samples, step):
        r1 = min(n_samples, r0 + step)
        a = t.codes[r0:r1, None, :]
        b = t.codes[None, r0:, :]
        both = typed[r0:r1, None, :] & typed[None, r0:, :]
        equal = both & (a == b)
        n_compared = both.sum(axis=2, dtype=np.int64)
        n_mismatches = n_compared - equal.sum(axis=2, dtype=np.int64)
        log_lr = np.einsum("ijk,ik->ij", equal, t.match_log_lr[r0:r1])
        if t.hemizygous_delta is not None and t.male.any():
            male_pair = t.male[r0:r1, None] | t.male[None, r0:]
            extra = np.einsum("ijk,ik->ij", equal, t.hemizygous_delta[r0:r1])
            log_lr = log_lr + np.where(male_pair, extra, 0.0)
        sa, sb = t.sex[r0:r1, None], t.sex[None, r0:]
        sex_conflict = (sa != 0) & (sb != 0) & (sa != sb)
        if t.degraded_rows:
            _degraded_pairs(t, r0, r1, log_lr, n_mismatches)
        yield _Block(slice(r0, r1), slice(r0, n_samples), log_lr, n_compared, n_mismatches,
                     sex_conflict)


def _shown_given_alleles(prepared: PreparedCase, s: int, k: int, hemizygous: bool
                         ) -> NDArray[np.float64]:
    """``P(what sample s shows at marker k | ordered alleles)``: (n, n), or (n,)
    for one allele (a male at an X marker); an indicator for a complete
    sample, :func:`kinmatch.likelihood.observation.observation_weights` for
    a degraded one."""
    marker = prepared.markers[k]
    sample = prepared.case.samples[s]
    a, b = (int(x) for x in prepared.sample_genotypes[s, k])
    n = marker.n_alleles
    if not sample.degraded:
        if hemizygous:
            w = np.zeros(n)
            w[a] = 1.0
            return w
        w = np.zeros((n, n))
        w[a, b] = w[b, a] = 1.0
        return w
    return observation_weights(marker, np.array([a]), np.array([b]), np.array([sample.dropout]),
                               np.array([sample.dropin]), hemizygous)[0]


def degraded_identity_log_lr(prepared: PreparedCase, s1: int, s2: int, k: int,
                             hemizygous: bool = False) -> float:
    """Identity log-LR at one marker when either sample may have lost alleles.

    With ``E_i(x) = P(what sample i shows | ordered alleles x)`` and ``B_m``
    the Balding–Nichols probability of ``m`` ordered allele draws (θ as for
    every kinmatch likelihood; ``d`` alleles per person, 2, or 1 for a male
    at an X marker)::

        LR = sum_x B_d(x) E_1(x) E_2(x) / sum_{x, y} B_2d(x, y) E_1(x) E_2(y)

    the same person carrying ``x`` against two unrelated people of one
    subpopulation carrying ``x`` and ``y``. For complete samples this is the
    NRC II 4.10 match LR (or 0 for a mismatch); ``-inf`` when no genotype
    explains both.
    """
    marker = prepared.markers[k]
    p = marker.allele_frequencies
    theta = float(prepared.case.theta)
    e1 = _shown_given_alleles(prepared, s1, k, hemizygous)
    e2 = _shown_given_alleles(prepared, s2, k, hemizygous)
    d = e1.ndim
    everything = np.arange(marker.n_alleles)
    same = balding_nichols_founder_factor(p, [everything] * d, theta)
    apart = balding_nichols_founder_factor(p, [everything] * (2 * d), theta)
    num = float(np.sum(same * e1 * e2))
    axes = tuple(range(d))
    den = float(np.tensordot(np.tensordot(e1, apart, axes=(axes, axes)), e2, axes=(axes, axes)))
    if num <= 0.0:
        return -math.inf
    return math.log(num) - math.log(den)


def _degraded_rows(prepared: PreparedCase, t: _Tables
                   ) -> dict[int, tuple[NDArray[np.float64], NDArray[np.int64]]]:
    """For every degraded sample ``d``: its identity log-LR with every sample
    (over the markers both show and that some genotype explains) and the
    number of markers none explains — the sums of
    :func:`degraded_identity_log_lr`, vectorised over the other samples."""
    g = prepared.sample_genotypes
    n_samples = g.shape[0]
    typed = g[:, :, 0] != UNTYPED
    theta = float(prepared.case.theta)
    degraded = np.flatnonzero(t.degraded)
    out = {int(d): (np.zeros(n_samples), np.zeros(n_samples, dtype=np.int64)) for d in degraded}
    tables: dict[tuple[int, int], tuple[NDArray[np.float64], NDArray[np.float64] | None]] = {}
    # each sample's observation weights at the current marker, computed once
    # and shared by its pairs (markers outermost: memory stays one marker's)
    weights: dict[tuple[int, bool], NDArray[np.float64]] = {}

    def observed(s: int, k: int, hemi: bool) -> NDArray[np.float64]:
        w = weights.get((s, hemi))
        if w is None:
            w = weights[(s, hemi)] = _shown_given_alleles(prepared, s, k, hemi)
        return w

    for k in range(len(prepared.markers)):
        weights.clear()
        tables.clear()
        marker = prepared.markers[k]
        for d in degraded[typed[degraded, k]]:
            total, mismatches = out[int(d)]
            male_pair = t.male[d] | t.male
            others = np.flatnonzero(typed[:, k])
            others = others[others != d]
            for hemi in ((False, True) if marker.is_x else (False,)):
                who = others[male_pair[others] == hemi] if marker.is_x else others
                if not len(who):
                    continue
                dim = 1 if hemi else 2
                key = (int(k), dim)
                if key not in tables:
                    everything = np.arange(marker.n_alleles)
                    p = marker.allele_frequencies
                    same_ = balding_nichols_founder_factor(p, [everything] * dim, theta)
                    apart_ = (None if theta == 0 else  # θ = 0: two people are independent
                              balding_nichols_founder_factor(p, [everything] * 2 * dim, theta))
                    tables[key] = (same_, apart_)
                same, apart = tables[key]
                e = observed(int(d), int(k), hemi)
                axes = tuple(range(dim))
                v = same * e  # the same person carries x
                if apart is None:
                    m = float(np.sum(v)) * same  # someone else carries y
                else:
                    m = np.tensordot(e, apart, axes=(axes, axes))
                num, den = np.empty(len(who)), np.empty(len(who))
                exact = ~t.degraded[who]
                a, b = g[who[exact], k, 0], g[who[exact], k, 1]
                if hemi:
                    num[exact], den[exact] = v[a], m[a]
                else:
                    het = a != b
                    num[exact] = v[a, b] + np.where(het, v[b, a], 0.0)
                    den[exact] = m[a, b] + np.where(het, m[b, a], 0.0)
                inexact = np.flatnonzero(~exact)
                if len(inexact):  # other degraded samples: sum over their true genotypes
                    e2 = np.stack([observed(int(who[r]), int(k), hemi) for r in inexact])
                    flat = e2.reshape(len(inexact), -1)
                    num[inexact], den[inexact] = flat @ v.ravel(), flat @ m.ravel()
                ok = num > 0
                total[who[ok]] += np.log(num[ok]) - np.log(den[ok])
                mismatches[who[~ok]] += 1
    return out


def _explainable(prepared: PreparedCase, members: list[int], k: int) -> bool:
    """Whether one genotype explains what every member shows at marker ``k``."""
    weights = [_shown_given_alleles(prepared, s, k, False) for s in members]
    return bool(np.any(np.prod(np.stack(weights), axis=0) > 0))


def _degraded_pairs(t: _Tables, r0: int, r1: int, log_lr: NDArray[np.float64],
                    n_mismatches: NDArray[np.int64]) -> None:
    """Overwrite the block's pairs that involve a degraded sample: the LR
    sums over the true genotypes, a marker is a mismatch only if no genotype
    explains both samples, and the LR is over the other markers."""
    rows = t.degraded_rows
    for d, (values, mismatches) in rows.items():
        if r0 <= d < r1:  # the degraded sample's own row in this block
            log_lr[d - r0, :] = values[r0:]
            n_mismatches[d - r0, :] = mismatches[r0:]
        if d >= r0:  # its column, for every row of the block (the block's
            # rectangle holds pairs on both sides of the diagonal, and
            # identity_lr writes it and its transpose)
            log_lr[:, d - r0] = values[r0:r1]
            n_mismatches[:, d - r0] = mismatches[r0:r1]


def _prepared(case: DVICase | PreparedCase) -> PreparedCase:
    return case if isinstance(case, PreparedCase) else prepare_case(case)


# --------------------------------------------------------------------------- identity LRs


def identity_lr(case: DVICase | PreparedCase, *, chunk_size: int | None = None) -> IdentityLR:
    """Identity LRs, compared markers and mismatches of every pair of samples.

    See the module docstring for the formulas. ``chunk_size`` is the number
    of rows per block (default: about :data:`BLOCK_ELEMENTS` elements per
    block). The result holds four ``S × S`` matrices; to cluster many
    thousands of samples without them, call :func:`reassociate` directly.
    """
    prepared = _prepared(case)
    t = _tables(prepared)
    n_samples, n_markers = t.codes.shape
    count_type = np.int16 if n_markers <= np.iinfo(np.int16).max else np.int32
    log_lr = np.zeros((n_samples, n_samples))
    n_compared = np.zeros((n_samples, n_samples), dtype=count_type)
    n_mismatches = np.zeros((n_samples, n_samples), dtype=count_type)
    sex_conflict = np.zeros((n_samples, n_samples), dtype=bool)
    for blk in _blocks(t, chunk_size):
        for target, values in ((log_lr, blk.log_lr), (n_compared, blk.n_compared),
                               (n_mismatches, blk.n_mismatches), (sex_conflict, blk.sex_conflict)):
            target[blk.rows, blk.cols] = values
            target[blk.cols, blk.rows] = values.T
    np.fill_diagonal(log_lr, np.nan)
    return IdentityLR(
        samples=tuple(s.id for s in prepared.case.samples),
        markers=tuple(m.name for m in prepared.markers),
        theta=float(prepared.case.theta),
        log_lr_concordant=log_lr,
        n_compared=n_compared,
        n_mismatches=n_mismatches,
        sex_conflict=sex_conflict,
    )


# --------------------------------------------------------------------------- clustering


def _check_rules(threshold: float, max_mismatches: int) -> None:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise KinmatchError(f"the identity LR threshold must be a positive number, not {threshold}")
    whole = isinstance(max_mismatches, (int, np.integer)) and not isinstance(max_mismatches, bool)
    if not whole or max_mismatches < 0:
        raise KinmatchError(
            f"max_mismatches must be a non-negative whole number, not {max_mismatches}")


def _links_from_matrices(identity: IdentityLR, log_threshold: float, max_mismatches: int
                         ) -> list[tuple[int, int, float, int, int, bool]]:
    n = len(identity.samples)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    ok = (upper & (identity.n_compared >= 1) & (identity.n_mismatches <= max_mismatches)
          & (identity.log_lr_concordant >= log_threshold))
    i, j = np.nonzero(ok)
    return [(int(a), int(b), float(identity.log_lr_concordant[a, b]),
             int(identity.n_compared[a, b]), int(identity.n_mismatches[a, b]),
             bool(identity.sex_conflict[a, b])) for a, b in zip(i, j)]


def _links_streamed(t: _Tables, log_threshold: float, max_mismatches: int,
                    chunk_size: int | None) -> list[tuple[int, int, float, int, int, bool]]:
    out = []
    for blk in _blocks(t, chunk_size):
        r0, c0 = blk.rows.start, blk.cols.start
        rows = np.arange(r0, blk.rows.stop)[:, None]
        cols = np.arange(c0, blk.cols.stop)[None, :]
        ok = ((cols > rows) & (blk.n_compared >= 1) & (blk.n_mismatches <= max_mismatches)
              & (blk.log_lr >= log_threshold))
        for i, j in zip(*np.nonzero(ok)):
            out.append((int(r0 + i), int(c0 + j), float(blk.log_lr[i, j]),
                        int(blk.n_compared[i, j]), int(blk.n_mismatches[i, j]),
                        bool(blk.sex_conflict[i, j])))
    return out


def reassociate(
    case: DVICase | PreparedCase,
    *,
    threshold: float = DEFAULT_IDENTITY_THRESHOLD,
    max_mismatches: int = DEFAULT_MAX_MISMATCHES,
    identity: IdentityLR | None = None,
    separator: str = DEFAULT_SEPARATOR,
    chunk_size: int | None = None,
) -> Reassociation:
    """Group the post-mortem samples into individuals (see the module docstring).

    Pairs with at least one compared marker, at most ``max_mismatches``
    mismatching markers and an identity LR over their agreeing markers of at
    least ``threshold`` are linked; clusters are the connected components,
    each checked for consistency. ``identity`` reuses matrices from
    :func:`identity_lr`; without it the links are found block by block and
    no ``S × S`` matrix is formed.
    """
    _check_rules(threshold, max_mismatches)
    prepared = _prepared(case)
    samples = prepared.case.samples
    ids = tuple(s.id for s in samples)
    marker_names = tuple(m.name for m in prepared.markers)
    if identity is not None and (identity.samples != ids or identity.markers != marker_names
                                 or identity.theta != float(prepared.case.theta)):
        raise KinmatchError("the identity LRs were computed for other samples, markers or theta")
    t = _tables(prepared)
    log_threshold = math.log(threshold) - _THRESHOLD_SLACK * max(1.0, abs(math.log(threshold)))
    raw = (_links_from_matrices(identity, log_threshold, max_mismatches) if identity is not None
           else _links_streamed(t, log_threshold, max_mismatches, chunk_size))
    links = [IdentityLink(ids[i], ids[j], lg / math.log(10.0), nc, nm, sc)
             for i, j, lg, nc, nm, sc in raw]
    n = len(ids)
    if raw:
        ii = np.array([r[0] for r in raw]), np.array([r[1] for r in raw])
        graph = coo_matrix((np.ones(len(raw)), ii), shape=(n, n))
    else:
        graph = coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = {}
    for s, lab in enumerate(labels):
        members.setdefault(int(lab), []).append(s)
    link_of: dict[int, list[IdentityLink]] = {}
    for (i, _j, *_), lk in zip(raw, links):
        link_of.setdefault(int(labels[i]), []).append(lk)
    clusters = []
    for lab, idx in sorted(members.items(), key=lambda item: item[1][0]):
        clusters.append(_cluster(prepared, t, idx, tuple(link_of.get(lab, ())), separator))
    return Reassociation(
        samples=ids, markers=marker_names, theta=float(prepared.case.theta),
        threshold=float(threshold), max_mismatches=int(max_mismatches),
        clusters=tuple(clusters), links=tuple(links))


def _cluster(prepared: PreparedCase, t: _Tables, idx: list[int], links: tuple[IdentityLink, ...],
             separator: str) -> FragmentCluster:
    samples = prepared.case.samples
    names = tuple(samples[i].id for i in idx)
    cid = separator.join(names)
    recorded = {int(samples[i].sex) for i in idx} - {int(Sex.UNKNOWN)}
    if len(idx) == 1:
        return FragmentCluster(cid, names, tuple(idx), True, samples[idx[0]].sex, links)
    codes = t.codes[idx]
    g = prepared.sample_genotypes
    conflicts = []
    for k, marker in enumerate(prepared.markers):
        col = codes[:, k]
        typed = col != UNTYPED
        members_degraded = t.degraded[idx] & typed
        if members_degraded.any():
            clash = not _explainable(prepared, [idx[m] for m in np.flatnonzero(typed)], k)
        else:
            clash = len(np.unique(col[typed])) > 1
        if clash:
            genotypes = {names[m]: (marker.alleles[g[idx[m], k, 0]],
                                    marker.alleles[g[idx[m], k, 1]])
                         for m in np.flatnonzero(typed)}
            conflicts.append(MarkerConflict(marker.name, genotypes))
    sexes = t.sex[idx]
    sex_conflict = len(set(sexes[sexes != 0].tolist())) > 1
    pairs = []
    if conflicts or sex_conflict:
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                both = (codes[x] != UNTYPED) & (codes[y] != UNTYPED)
                if t.degraded[idx[x]] or t.degraded[idx[y]]:
                    clash = any(not _explainable(prepared, [idx[x], idx[y]], int(k))
                                for k in np.flatnonzero(both))
                else:
                    clash = bool(np.any(both & (codes[x] != codes[y])))
                clash |= bool(sexes[x] != 0 and sexes[y] != 0 and sexes[x] != sexes[y])
                if clash:
                    pairs.append((names[x], names[y]))
    consistent = not conflicts and not sex_conflict
    sex = Sex(recorded.pop()) if consistent and recorded else Sex.UNKNOWN
    return FragmentCluster(cid, names, tuple(idx), consistent, sex, links, tuple(conflicts),
                           sex_conflict, tuple(pairs))


# --------------------------------------------------------------------------- merging


def merged_sample(case: DVICase, cluster: FragmentCluster) -> PostMortemSample:
    """One sample for a consistent cluster: each marker's genotype from the first
    complete member typed there (all complete members agree), the members'
    known sex, and the cluster's id.

    Where only degraded members show a marker, the merged profile holds the
    union of the alleles they show (the marker is left untyped if that is
    more than two alleles, which only drop-in explains) and the allele is
    lost in the merged profile only if it dropped out of every one of them:
    the merged drop-out probability at that marker is the product of theirs.
    The merged sample carries the largest such product over its markers
    (conservative where fewer fragments overlap) and the members' largest
    drop-in probability; a cluster of complete samples merges to a complete one.
    """
    if not cluster.consistent:
        raise KinmatchError(f"cluster {cluster.describe()} is inconsistent and cannot be merged")
    members = [case.samples[i] for i in cluster.indices]
    profile: dict[str, tuple[str, ...]] = {}
    dropout, dropin = 0.0, 0.0
    for marker in case.markers:
        complete = [s for s in members if not s.degraded and s.profile.get(marker.name)]
        if complete:
            profile[marker.name] = tuple(complete[0].profile[marker.name])
            continue
        degraded = [s for s in members if s.degraded and s.profile.get(marker.name)]
        if not degraded:
            continue
        seen: list[str] = []
        for s in degraded:
            for a in s.profile[marker.name]:
                if a not in seen:
                    seen.append(a)
        if len(seen) > 2:
            continue
        profile[marker.name] = tuple(seen)
        dropout = max(dropout, math.prod(s.dropout for s in degraded))
        dropin = max(dropin, max(s.dropin for s in degraded))
    y = next((s.y_haplotype for s in members if s.y_haplotype is not None), None)
    mt = next((s.mtdna for s in members if s.mtdna is not None), None)
    return PostMortemSample(cluster.id, profile, cluster.sex, dropout=dropout, dropin=dropin,
                            y_haplotype=y, mtdna=mt)


def merge_fragments(
    case: DVICase | PreparedCase,
    reassociation: Reassociation | None = None,
    *,
    threshold: float = DEFAULT_IDENTITY_THRESHOLD,
    max_mismatches: int = DEFAULT_MAX_MISMATCHES,
    separator: str = DEFAULT_SEPARATOR,
    on_inconsistent: Literal["separate", "raise"] = "separate",
) -> MergedCase:
    """A new case whose samples are individuals rather than fragments.

    Each consistent cluster of several fragments becomes one merged sample
    (:func:`merged_sample`) placed where its first fragment was; singletons
    are kept as they are. Inconsistent clusters are never merged: with
    ``on_inconsistent="separate"`` their fragments stay separate samples and
    a warning names them (they are also in ``MergedCase.unmerged``); with
    ``"raise"`` a :class:`KinmatchError` describes them. ``reassociation``
    defaults to :func:`reassociate` with ``threshold``, ``max_mismatches``
    and ``separator``.
    """
    if on_inconsistent not in ("separate", "raise"):
        raise KinmatchError(
            f"on_inconsistent must be 'separate' or 'raise', not '{on_inconsistent}'")
    prepared = case if isinstance(case, PreparedCase) else None
    dvi = case.case if isinstance(case, PreparedCase) else case
    if reassociation is None:
        reassociation = reassociate(prepared if prepared is not None else dvi, threshold=threshold,
                                    max_mismatches=max_mismatches, separator=separator)
    if reassociation.samples != tuple(s.id for s in dvi.samples):
        raise KinmatchError("the reassociation was computed for other post-mortem samples")
    bad = reassociation.inconsistent
    if bad:
        listed = "; ".join(c.describe() for c in bad)
        if on_inconsistent == "raise":
            raise KinmatchError(
                f"{len(bad)} cluster(s) of linked fragments are inconsistent: {listed}")
        warn(f"{len(bad)} cluster(s) of linked fragments are inconsistent and were not merged; "
             f"their fragments stay separate samples: {listed}")
    new_samples: list[PostMortemSample] = []
    individuals: dict[str, tuple[str, ...]] = {}
    for cluster in reassociation.clusters:
        if cluster.consistent and cluster.is_fragmented:
            new_samples.append(merged_sample(dvi, cluster))
            individuals[cluster.id] = cluster.members
        else:
            for i in cluster.indices:
                new_samples.append(dvi.samples[i])
                individuals[dvi.samples[i].id] = (dvi.samples[i].id,)
    # keep input order: by the position of each new sample's first fragment
    first = {s.id: i for i, s in enumerate(dvi.samples)}
    new_samples.sort(key=lambda s: first[individuals[s.id][0]])
    ids = [s.id for s in new_samples]
    clash = sorted({i for i in ids if ids.count(i) > 1})
    if clash:
        raise KinmatchError(
            f"merged sample id(s) {', '.join(clash)} collide with existing sample ids; "
            "choose another separator")
    merged = replace(dvi, samples=new_samples)
    return MergedCase(merged, {s.id: individuals[s.id] for s in new_samples}, reassociation, bad)
