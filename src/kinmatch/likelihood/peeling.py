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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import KinmatchError, MarkerError, PedigreeError
from kinmatch.likelihood.network import (
    DEFAULT_CONTEXT,
    Alphabet,
    Layout,
    PeelingContext,
    build_network,
    check_theta,
    check_x_genotypes,
    marker_alphabet,
    padded_size,
    pedigree_layout,
    typed_and_uncertain,
)
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.markers import Marker
from kinmatch.pedigree import Pedigree, Sex


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

    layout: Layout
    size: int
    entries: list[tuple[int, int]] = field(default_factory=list)
    alphabets: list[Alphabet] = field(default_factory=list)




def _batches(jobs: Sequence[PedigreeMarkers], lump: bool, expand: bool = False,
             context: PeelingContext | None = None, pad: bool = True) -> list[_Batch]:
    """Group every marker of every job by network shape: the layout (who is
    typed, kept and connected, by position), the chromosome and the padded
    alphabet size. ``expand``: unobserved alleles become pseudo-alleles
    where the kept person's two alleles are independent (see
    :func:`marker_alphabet`). ``pad=False``: alphabets keep their own size
    and batches are not merged (θ networks are padded too: padded alleles
    have frequency 0, so no founder draws them)."""
    batches: dict[tuple[object, ...], _Batch] = {}
    for j, job in enumerate(jobs):
        pedigree = job.pedigree
        keep = (job.keep,) if job.keep is not None else ()
        job_expand = expand and job.keep is not None and independent_alleles(pedigree, job.keep)
        for i, (marker, geno) in enumerate(zip(job.markers, job.genotypes)):
            typed, uncertain = typed_and_uncertain(pedigree, marker, geno)
            if job.keep is not None and (job.keep in typed or job.keep in uncertain):
                raise KinmatchError(
                    f"'{job.keep}' is typed; the genotype distribution is for untyped people")
            if marker.is_x:
                check_x_genotypes(pedigree, marker, typed)
                for pid in uncertain:
                    if pedigree.sex(pid) == Sex.UNKNOWN:
                        raise PedigreeError(f"'{pid}' is typed at X-linked marker "
                                            f"{marker.name} but has unknown sex")
            layout = pedigree_layout(pedigree, frozenset(typed), keep, marker.is_x,
                                     frozenset(uncertain))
            alpha = marker_alphabet(marker, typed, layout, lump, uncertain, job_expand, context)
            size = padded_size(alpha.size) if pad else alpha.size
            key = (layout.shape, size)
            batch = batches.get(key)
            if batch is None:
                batch = batches[key] = _Batch(layout, size)
            batch.entries.append((j, i))
            batch.alphabets.append(alpha)
    return _merge_small_batches(list(batches.values())) if pad else list(batches.values())


def independent_alleles(pedigree: Pedigree, pid: str) -> bool:
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


def _batch_cost(layout: Layout, size: int, n: int) -> float:
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
    check_theta(theta)
    context = context if context is not None else DEFAULT_CONTEXT
    out = [np.zeros(len(job.markers)) for job in jobs]
    for batch in _batches(jobs, lump, context=context):
        net = build_network(batch.layout, batch.alphabets, batch.size, theta)
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
    check_theta(theta)
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
        net = build_network(batch.layout, batch.alphabets, batch.size, theta)
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
    check_theta(theta)
    first, second = persons
    if first == second:
        raise KinmatchError(f"a joint genotype distribution needs two people, not '{first}' twice")
    for pid in persons:
        if pid not in pedigree:
            raise PedigreeError(f"'{pid}' is not in the pedigree")
    if len(markers) != len(genotypes):
        raise KinmatchError("one genotype mapping per marker is needed")
    groups: dict[tuple[object, ...], tuple[Layout, int, list[int], list[Alphabet]]] = {}
    for k, (marker, geno) in enumerate(zip(markers, genotypes)):
        if marker.silent_index is not None:
            raise MarkerError(f"{marker.name} has a silent allele: joint genotype "
                              "distributions do not support it")
        typed, uncertain = typed_and_uncertain(pedigree, marker, geno)
        for pid in persons:
            if pid in typed or pid in uncertain:
                raise KinmatchError(
                    f"'{pid}' is typed; the joint genotype distribution is for untyped people")
        if marker.is_x:
            check_x_genotypes(pedigree, marker, typed)
        layout = pedigree_layout(pedigree, frozenset(typed), (first, second), marker.is_x,
                         frozenset(uncertain))
        alpha = marker_alphabet(marker, typed, layout, False, uncertain)
        size = padded_size(alpha.size)
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
            net = build_network(layout, part_a, size, theta)
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
