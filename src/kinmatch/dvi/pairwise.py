"""Pairwise LRs of every post-mortem sample against every missing person.

For sample ``s`` and missing person ``m`` of reference family ``F`` the
pairwise LR compares "s is m" with "s is unrelated to F" (dvir's
``pairwiseLR``; Kling, Egeland & Vigeland, *Mass identifications*, 2021):

    LR(s, m) = P(F's data, s's data | s = m) / (P(F's data) P(s's data))
             = prod_k P(m has s's genotype at k | F's data at k) / P(s's genotype at k)

The numerator needs one peeling pass per family, missing person and marker,
which gives the whole genotype distribution of ``m`` given the family
(:func:`kinmatch.likelihood.genotype_distributions`); every sample's LR is
then a table lookup, so the cost grows with families + samples, not with
their product times the pedigree work. The denominator is the sample's
genotype probability as a one-person pedigree
(:func:`kinmatch.likelihood.population.genotype_log_probabilities`).

A marker where ``s`` placed as ``m`` breaks Mendel's laws — where
``P(m has s's genotype | F) = 0`` once mutations are switched off — is an
incompatibility; the number of such markers is reported per pair (dvir's
``exclusionMatrix``), whatever the mutation model would make of them.

Sex. Both hypotheses give the pair one sex (:func:`pair_sexes`): the
sample's if known (a sample of unknown sex heterozygous at an X-linked
marker, without drop-in, is a woman), else the missing person's. At
X-linked markers the sample is then one allele or two in the numerator and
the denominator alike, and a missing person of unknown sex is read with
the pair's sex (its family is peeled both ways). Where neither sex is
known the X-linked markers say nothing about the pair (LR 1); where the
two are known and differ the pair is impossible and its LR is NaN (dvir's
NA). Every LR equals the kinship LR of the same two pedigrees
(``tests/test_dvi_kinship_agreement.py``).

Lineage markers. When the case holds Y-STR haplotypes or mtDNA profiles
(:mod:`.lineage_evidence`), each pair also gets a Y part and an mtDNA part,
from the family's typed relatives on the missing person's paternal and
maternal lines, and the pair's LR is the product::

    log LR(s, m) = sum_k log LR_k(s, m) + log LR_Y(s, m) + log LR_mt(s, m)

``log_lr_per_marker`` stays autosomal; ``log_lr_y`` and ``log_lr_mtdna``
are 0 where a system does not apply, and without lineage data ``log_lr`` is
the autosomal sum exactly (bit for bit). A lineage exclusion (LR 0) adds one
to the pair's incompatibility count.

Recomputations. dviSolve recomputes the pairwise LRs after every step, and
only the families that received an identified sample change. A
:class:`PairwiseCache` keeps what the unchanged families and pairs need
(their missing persons' distributions, their lineage evidence) between
those recomputations: :func:`~kinmatch.dvi.solve.solve_case` makes one per
solve (or takes the caller's), and the functions here take it as
``cache=``; without one they compute everything.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from kinmatch.dvi.case import UNTYPED, PreparedCase, ReferenceFamily
from kinmatch.dvi.lineage_evidence import (
    LineageEvidenceCache,
    LineageEvidenceTable,
    lineage_evidence,
)
from kinmatch.likelihood.network import DEFAULT_CONTEXT, PeelingContext
from kinmatch.likelihood.observation import packed_observation_weights
from kinmatch.likelihood.peeling import (
    PedigreeMarkers,
    genotype_column,
    genotype_offsets,
    pedigrees_genotype_distributions_packed,
    pedigrees_loglik,
)
from kinmatch.likelihood.population import genotype_log_probabilities, urn_frequencies
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex


@dataclass(frozen=True)
class MissingPersonDistributions:
    """``P(missing person's genotype | family data)`` for every missing
    person, all markers in one row (the layout of
    :func:`kinmatch.likelihood.genotype_offsets`: marker ``k``'s unordered
    genotype ``a/b`` is column ``genotype_column(a, b, n_k, offsets[k])``)."""

    families: tuple[str, ...]
    missing: tuple[str, ...]
    sexes: tuple[Sex, ...]
    offsets: NDArray[np.intp]  # (markers + 1,)
    n_alleles: NDArray[np.intp]  # (markers,)
    family_loglik: NDArray[np.float64]  # (missing, markers) log P(family data)
    log_probability: NDArray[np.float64]  # (missing, genotypes); -inf where impossible
    #: ``True`` where a genotype is Mendel-compatible with the family (no mutation)
    compatible: NDArray[np.bool_]  # (missing, genotypes)
    #: Missing persons of unknown sex, when the case has X-linked markers: the
    #: rows above read them as women (two X alleles, as the peeling engine
    #: reads an unknown sex); ``male_log_probability[male_row[c]]`` and
    #: ``male_compatible[male_row[c]]`` read them as men (``male_row[c]`` is
    #: -1 for a missing person whose sex is known).
    male_row: NDArray[np.intp]  # (missing,)
    male_log_probability: NDArray[np.float64]  # (unknown sex, genotypes)
    male_compatible: NDArray[np.bool_]  # (unknown sex, genotypes)

    def columns(self, genotypes: NDArray[np.intp]) -> NDArray[np.intp]:
        """Columns of genotypes ``(..., markers, 2)``; ``-1`` where untyped."""
        a, b = genotypes[..., 0], genotypes[..., 1]
        cols = genotype_column(a, b, self.n_alleles, self.offsets[:-1])
        return np.where(a == UNTYPED, -1, cols)


@dataclass(frozen=True)
class PairwiseLR:
    """Pairwise log-LRs, samples × missing persons, with their parts.

    ``log_lr_per_marker`` holds the autosomal (and X) markers;
    ``log_lr_y`` and ``log_lr_mtdna`` (samples × missing) the lineage parts,
    0 where a system does not apply (``-inf`` for a lineage exclusion);
    ``lineage`` the evidence behind them (which relative, how many meioses,
    the frequency and its method). ``incompatible`` counts the Mendelian
    incompatibilities plus the lineage exclusions (``lineage_exclusions``
    alone), -1 where the sexes differ.
    """

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]  # the family of each missing person
    markers: tuple[str, ...]
    log_lr_per_marker: NDArray[np.float64]  # (samples, missing, markers); NaN where sexes differ
    incompatible: NDArray[np.int64]  # (samples, missing) markers with LR 0; -1 where sexes differ
    log_lr_y: NDArray[np.float64] | None = None  # (samples, missing); None is read as zeros
    log_lr_mtdna: NDArray[np.float64] | None = None  # (samples, missing)
    lineage_exclusions: NDArray[np.int64] | None = None  # (samples, missing)
    lineage: LineageEvidenceTable | None = None

    def __post_init__(self) -> None:
        shape = self.log_lr_per_marker.shape[:2]
        for name, dtype in (("log_lr_y", np.float64), ("log_lr_mtdna", np.float64),
                            ("lineage_exclusions", np.int64)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(shape, dtype=dtype))

    @cached_property
    def has_lineage(self) -> bool:
        """Whether some pair has a lineage part other than LR 1."""
        return bool(np.any(self.log_lr_y) or np.any(self.log_lr_mtdna))

    @cached_property
    def log_lr_autosomal(self) -> NDArray[np.float64]:
        """The autosomal natural-log LR per pair (sum over markers); NaN where sexes differ."""
        return _read_only(self.log_lr_per_marker.sum(axis=2))

    @cached_property
    def log_lr_lineage(self) -> NDArray[np.float64]:
        """``log_lr_y + log_lr_mtdna`` per pair."""
        return _read_only(self.log_lr_y + self.log_lr_mtdna)  # type: ignore[operator]

    @cached_property
    def log_lr(self) -> NDArray[np.float64]:
        """Combined natural-log LR per pair: autosomal + Y + mtDNA; NaN where sexes differ.

        Without lineage parts this is the autosomal sum itself (bit for bit).
        """
        total = self.log_lr_per_marker.sum(axis=2)
        if not self.has_lineage:
            return _read_only(total)
        with np.errstate(invalid="ignore"):
            total = total + self.log_lr_lineage
        total[~self.sex_compatible] = math.nan
        return _read_only(total)

    @cached_property
    def lr(self) -> NDArray[np.float64]:
        with np.errstate(over="ignore"):
            return _read_only(np.exp(self.log_lr))

    @cached_property
    def sex_compatible(self) -> NDArray[np.bool_]:
        return _read_only(self.incompatible >= 0)


def _read_only(values: NDArray[Any]) -> NDArray[Any]:
    """``values``, made read-only: the derived matrices of a :class:`PairwiseLR`
    are computed once and shared by every reader."""
    values.flags.writeable = False
    return values


#: One family's rows: its missing persons' family log-likelihoods (missing ×
#: markers), log-probabilities and Mendel-compatibility (missing × genotypes);
#: and the log-probabilities and compatibility of its missing persons of
#: unknown sex read as men (one row each, none without X-linked markers).
FamilyRows = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_],
                   NDArray[np.float64], NDArray[np.bool_]]


class PairwiseCache:
    """What the pairwise LRs of a case keep between recomputations.

    * the genotype distributions of the missing persons of the families
      peeled most recently, by family (pedigree, missing persons, data),
      markers (by identity) and θ — at most ``max_families`` families, the
      least recently used forgotten first (a case with more families than
      that is still computed whole, in one pass);
    * ``lineage``: the lineage evidence of the pairs evaluated
      (:class:`~kinmatch.dvi.lineage_evidence.LineageEvidenceCache`, at
      most ``max_lineage_pairs`` pairs);
    * ``peeling``: the peeling context the families are peeled in (default
      the process-wide :data:`~kinmatch.likelihood.peeling.DEFAULT_CONTEXT`).

    Everything lives as long as the cache: :func:`~kinmatch.dvi.solve.solve_case`
    makes one per solve unless given one. Nothing kept changes a result.
    """

    def __init__(self, *, max_families: int = 4096, max_lineage_pairs: int = 1_000_000,
                 peeling: PeelingContext | None = None) -> None:
        self.max_families = max_families
        self.lineage = LineageEvidenceCache(max_lineage_pairs)
        self.peeling = peeling if peeling is not None else DEFAULT_CONTEXT
        self._families: OrderedDict[tuple[object, ...], FamilyRows] = OrderedDict()

    @property
    def n_families(self) -> int:
        """Families whose distributions are kept."""
        return len(self._families)

    def _family(self, key: tuple[object, ...]) -> FamilyRows | None:
        found = self._families.get(key)
        if found is not None:
            self._families.move_to_end(key)
        return found

    def _keep(self, key: tuple[object, ...], rows: FamilyRows) -> None:
        self._families[key] = rows
        while len(self._families) > self.max_families:
            self._families.popitem(last=False)


def missing_person_distributions(prepared: PreparedCase, *, cache: PairwiseCache | None = None
                                 ) -> MissingPersonDistributions:
    """One peeling pass per family, missing person and marker.

    Each distribution is ``P(family data, m = g) / P(family data)`` with the
    denominator computed as a pedigree likelihood on its own (people who
    carry no information dropped), exactly as dvir and pedprobr form the
    ratio. With frequencies that sum to 1 only within the database's
    rounding, this differs from the normalised conditional distribution in
    the ninth digit, and it is the pedsuite's number.

    All families are computed together: markers of families whose networks
    have the same shape share one batched contraction, and the
    mutation-free pass that decides Mendelian compatibility rides along in
    the same batches.

    ``cache`` keeps the families' distributions between calls (families
    whose data did not change are not peeled again); without one every
    family is peeled.
    """
    case = prepared.case
    markers = prepared.markers
    n = len(markers)
    cache = cache if cache is not None else PairwiseCache()
    offsets = genotype_offsets([m.n_alleles for m in markers])
    keys = [_family_key(fam, genos, markers, case.theta)
            for fam, genos in zip(case.families, prepared.family_genotypes)]
    found: dict[int, FamilyRows] = {}
    todo = []
    for f, key in enumerate(keys):
        kept = cache._family(key)
        if kept is None:
            todo.append(f)
        else:
            found[f] = kept
    if todo:
        fresh = _family_distributions([case.families[f] for f in todo],
                                      [prepared.family_genotypes[f] for f in todo],
                                      markers, case.theta, offsets, cache.peeling)
        for f, family_rows in zip(todo, fresh):
            found[f] = family_rows
            cache._keep(keys[f], family_rows)  # (a case larger than the cache keeps
                                               # its latest families)
    rows = [found[f] for f in range(len(keys))]
    width = int(offsets[-1])
    family_loglik = np.vstack([r[0] for r in rows]) if rows else np.zeros((0, n))
    log_probability = np.vstack([r[1] for r in rows]) if rows else np.zeros((0, width))
    compatible = np.vstack([r[2] for r in rows]) if rows else np.zeros((0, width), dtype=bool)
    missing = [(fam.name, mp, fam.pedigree.sex(mp)) for fam in case.families for mp in fam.missing]
    male_row = np.full(len(missing), -1, dtype=np.intp)
    if any(m.is_x for m in markers):
        unknown = np.flatnonzero([sex == Sex.UNKNOWN for _, _, sex in missing])
        male_row[unknown] = np.arange(len(unknown))
    return MissingPersonDistributions(
        families=tuple(f for f, _, _ in missing),
        missing=tuple(m for _, m, _ in missing),
        sexes=tuple(x for _, _, x in missing),
        offsets=offsets,
        n_alleles=np.array([m.n_alleles for m in markers], dtype=np.intp),
        family_loglik=family_loglik,
        log_probability=log_probability,
        compatible=compatible,
        male_row=male_row,
        male_log_probability=(np.vstack([r[3] for r in rows]) if rows
                              else np.zeros((0, width))),
        male_compatible=(np.vstack([r[4] for r in rows]) if rows
                         else np.zeros((0, width), dtype=bool)),
    )


def _family_key(family: ReferenceFamily, genotypes: Sequence[Mapping[str, Any]],
                markers: Sequence[Marker], theta: float) -> tuple[object, ...]:
    data = tuple(tuple(sorted(g.items())) for g in genotypes)
    return (family.pedigree, family.missing, data, tuple(id(m) for m in markers),
            tuple(markers), float(theta))


def _family_distributions(families: Sequence[ReferenceFamily],
                          genotypes: Sequence[Sequence[Mapping[str, Any]]],
                          markers: Sequence[Marker], theta: float,
                          offsets: NDArray[np.intp], context: PeelingContext
                          ) -> list[FamilyRows]:
    """Per family: (its missing persons' family log-likelihood rows, their
    log-probability rows, their Mendel-compatibility rows, and the last two
    for its missing persons of unknown sex read as men), all families in
    one batched pass (in ``context``, which also keeps each marker's
    mutation-free twin for the compatibility pass).

    A missing person of unknown sex has no children (a parent's sex is
    known), so at X-linked markers the engine reads it as a woman (two X
    alleles, from both parents); where the case has X-linked markers it is
    also peeled as a man (one X allele, from the mother), for the pairs in
    which the sample's sex, or its genotype, says so (:func:`pair_sexes`).
    """
    mutating = any(m.mutation is not None for m in markers)
    has_x = any(m.is_x for m in markers)
    without_mutation = [context.mutation_free(m) for m in markers]
    jobs, owner = [], []
    for f, (fam, genos) in enumerate(zip(families, genotypes)):
        for mp in fam.missing:
            readings = [(fam.pedigree, False)]
            if has_x and fam.pedigree.sex(mp) == Sex.UNKNOWN:
                readings.append((fam.pedigree.with_sexes({mp: Sex.MALE}), True))
            for pedigree, male in readings:
                owner.append((f, male))
                jobs.append(PedigreeMarkers(pedigree, markers, genos, keep=mp))
                if mutating:
                    jobs.append(PedigreeMarkers(pedigree, without_mutation, genos, keep=mp))
    # The denominator is the family's likelihood on its own (untyped people
    # without typed descendants dropped), as the pedsuite forms the ratio
    if not jobs:
        return []
    logtotal, packed, logdata = pedigrees_genotype_distributions_packed(
        jobs, theta, data_loglik=True, context=context)
    step = 2 if mutating else 1
    family_loglik = logdata[::step]  # type: ignore[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        own = logtotal[::step]
        shift = np.where(np.isfinite(own), own - family_loglik, 0.0)
        log_probability = np.log(packed[::step]) + np.repeat(shift, np.diff(offsets), axis=1)
    compatible = packed[step - 1::step] > 0
    family_of = np.array([f for f, _ in owner])
    as_man = np.array([m for _, m in owner], dtype=bool)
    out: list[FamilyRows] = []
    for f in range(len(families)):
        rows, men = (family_of == f) & ~as_man, (family_of == f) & as_man
        out.append((family_loglik[rows], log_probability[rows], compatible[rows],
                    log_probability[men], compatible[men]))
    return out



def family_log_likelihoods(prepared: PreparedCase, *, cache: PairwiseCache | None = None
                           ) -> NDArray[np.float64]:
    """``log P(family data)`` per family, summed over markers (the
    pedsuite's: people who carry no information dropped).

    Families whose missing persons' distributions ``cache`` keeps
    (:func:`missing_person_distributions`) take it from that pass; the
    others are peeled together in one batched call."""
    case = prepared.case
    cache = cache if cache is not None else PairwiseCache()
    out = np.empty(len(case.families))
    todo = []
    for f, (fam, genos) in enumerate(zip(case.families, prepared.family_genotypes)):
        rows = cache._family(_family_key(fam, genos, prepared.markers, case.theta))
        if rows is not None and len(rows[0]):
            out[f] = float(rows[0][0].sum())
        else:
            todo.append(f)
    if todo:
        logliks = pedigrees_loglik(
            [PedigreeMarkers(case.families[f].pedigree, prepared.markers,
                             prepared.family_genotypes[f]) for f in todo], case.theta,
            context=cache.peeling)
        for f, values in zip(todo, logliks):
            out[f] = float(values.sum())
    return out


def sample_log_probabilities(prepared: PreparedCase, hemizygous: NDArray[np.bool_]
                             ) -> NDArray[np.float64]:
    """``log P(sample's genotype)`` per sample and marker (0 where untyped).

    ``hemizygous[s]`` says whether sample ``s`` is treated as male at X-linked
    markers. The sample is a one-person pedigree; see
    :func:`kinmatch.likelihood.population.genotype_log_probabilities` for the
    formulas.
    """
    g = prepared.sample_genotypes
    markers = prepared.markers
    typed = g[:, :, 0] != UNTYPED
    width = max((m.n_alleles for m in markers), default=1)
    table = np.ones((len(markers), width))
    for k, marker in enumerate(markers):
        table[k, :marker.n_alleles] = urn_frequencies(marker.allele_frequencies,
                                                      prepared.case.theta)
    # the markers' frequencies end to end: allele a of marker k is at k * width + a
    start = (np.arange(len(markers)) * width)[None, :]
    a, b = np.where(typed, g[:, :, 0], 0), np.where(typed, g[:, :, 1], 0)
    is_x = np.array([m.is_x for m in markers], dtype=bool)
    out = genotype_log_probabilities(table.ravel(), start + a, start + b, prepared.case.theta,
                                     hemizygous[:, None] & is_x[None, :])
    return np.where(typed, out, 0.0)


def sample_sexes(prepared: PreparedCase) -> NDArray[np.int64]:
    """Each sample's sex as the pairwise LRs read it (codes of
    :class:`~kinmatch.pedigree.Sex`): the recorded sex; for a sample of
    unknown sex that shows two alleles at an X-linked marker without drop-in,
    female (a man carries one X; with drop-in the second allele may be
    spurious)."""
    samples = prepared.case.samples
    sex = np.array([int(s.sex) for s in samples], dtype=np.int64)
    is_x = np.array([m.is_x for m in prepared.markers], dtype=bool)
    if is_x.any() and len(samples):
        g = prepared.sample_genotypes[:, is_x]
        two = (g[..., 0] != g[..., 1]).any(axis=1)  # (untyped is UNTYPED twice)
        no_dropin = np.array([s.dropin == 0.0 for s in samples], dtype=bool)
        sex[(sex == Sex.UNKNOWN) & two & no_dropin] = Sex.FEMALE
    return sex


def pair_sexes(prepared: PreparedCase, missing_sexes: Sequence[Sex]) -> NDArray[np.int64]:
    """(samples × missing) the sex of each pair, "the sample is the missing
    person", as a :class:`~kinmatch.pedigree.Sex` code: the sample's
    (:func:`sample_sexes`) if known, else the missing person's; -1 where the
    two are known and differ (an impossible pair, LR NaN).

    Both hypotheses of the pair's LR give the sample this sex, so at
    X-linked markers the sample is one allele (a man) or two (a woman) in
    the numerator and the denominator alike, and a missing person of
    unknown sex is read with it. Where neither sex is known (0) the
    X-linked markers cannot be read: they say nothing about the pair (LR 1,
    no incompatibility).
    """
    sample = sample_sexes(prepared)[:, None]
    missing = np.array([int(x) for x in missing_sexes], dtype=np.int64)[None, :]
    clash = (sample != Sex.UNKNOWN) & (missing != Sex.UNKNOWN) & (sample != missing)
    return np.where(clash, -1, np.where(sample != Sex.UNKNOWN, sample, missing))


def _x_markers(prepared: PreparedCase) -> NDArray[np.intp]:
    """Indices of the X-linked markers."""
    return np.flatnonzero([m.is_x for m in prepared.markers])


def _read_as_men(dists: MissingPersonDistributions, sexes: NDArray[np.int64],
                 cols: NDArray[np.intp], typed: NDArray[np.bool_], x: NDArray[np.intp],
                 out: NDArray[np.float64], incompatible: NDArray[np.bool_]) -> None:
    """At the X-linked markers ``x``, put the male reading of each missing
    person of unknown sex into its male pairs: ``out[s, c, k]`` (the
    log-probability looked up) and ``incompatible[c, s, k]``."""
    for c in np.flatnonzero(dists.male_row >= 0):
        men = np.flatnonzero(sexes[:, c] == Sex.MALE)
        if not len(men):
            continue
        row = dists.male_row[c]
        block = np.ix_(men, x)
        where, seen = cols[block], typed[block]
        out[men[:, None], c, x[None, :]] = np.where(
            seen, dists.male_log_probability[row, where], 0.0)
        incompatible[c][block] = ~dists.male_compatible[row, where] & seen


def pairwise_lr(prepared: PreparedCase,
                distributions: MissingPersonDistributions | None = None,
                lineage: LineageEvidenceTable | None = None, *,
                cache: PairwiseCache | None = None) -> PairwiseLR:
    """The pairwise LR matrix (see the module docstring): every sample's
    per-marker LR is a lookup in its missing person's genotype distribution
    divided by the sample's population probability; the lineage parts come
    from :func:`~kinmatch.dvi.lineage_evidence.lineage_evidence` (computed
    here when the case has lineage data and ``lineage`` is not given).
    At X-linked markers each pair is read with its sex (:func:`pair_sexes`).
    ``cache`` keeps what unchanged families and pairs need between calls."""
    dists = distributions if distributions is not None else \
        missing_person_distributions(prepared, cache=cache)
    n_samples = prepared.sample_genotypes.shape[0]
    sexes = pair_sexes(prepared, dists.sexes)
    x = _x_markers(prepared)
    cols = dists.columns(prepared.sample_genotypes)  # (S, K)
    typed = cols >= 0
    safe = np.where(typed, cols, 0)
    with np.errstate(invalid="ignore"):
        out = np.where(typed[None], dists.log_probability[:, safe], 0.0).transpose(1, 0, 2)
    incompatible_per_marker = ~dists.compatible[:, safe] & typed[None]  # (C, S, K)
    diploid = sample_log_probabilities(prepared, np.zeros(n_samples, dtype=bool))
    with np.errstate(invalid="ignore"):
        if len(x):
            _read_as_men(dists, sexes, safe, typed, x, out, incompatible_per_marker)
            hemizygous = sample_log_probabilities(prepared, np.ones(n_samples, dtype=bool))
            out -= np.where((sexes == Sex.MALE)[:, :, None], hemizygous[:, None, :],
                            diploid[:, None, :])
        else:
            out -= diploid[:, None, :]
    summed = uncertain_genotypes(prepared)
    rows = np.flatnonzero(summed.any(axis=1))
    if len(rows):
        values, clash_k = degraded_log_lr(prepared, dists, rows, summed[rows])
        r, k = np.nonzero(summed[rows])
        out[rows[r], :, k] = values[r, :, k]
        incompatible_per_marker[:, rows[r], k] = clash_k[r, :, k].T
    if len(x):  # X-linked markers say nothing about a pair of unknown sex
        unread = np.flatnonzero(sexes == Sex.UNKNOWN)
        s_u, c_u = np.unravel_index(unread, sexes.shape)
        out[s_u[:, None], c_u[:, None], x[None, :]] = 0.0
        incompatible_per_marker[c_u[:, None], s_u[:, None], x[None, :]] = False
    incompatible = incompatible_per_marker.sum(axis=2).T.astype(np.int64)
    clash = sexes < 0
    out[clash] = math.nan
    incompatible[clash] = -1
    parts: dict[str, object] = {}
    if lineage is None and prepared.case.has_lineage_data:
        lineage = lineage_evidence(prepared.case,
                                   cache=cache.lineage if cache is not None else None)
    if lineage is not None and len(lineage):
        y, mt, excl = lineage.dense()
        excl[clash] = 0
        incompatible = np.where(clash, incompatible, incompatible + excl)
        parts = {"log_lr_y": y, "log_lr_mtdna": mt, "lineage_exclusions": excl,
                 "lineage": lineage}
    return PairwiseLR(
        samples=tuple(s.id for s in prepared.case.samples),
        missing=dists.missing,
        families=dists.families,
        markers=tuple(m.name for m in prepared.markers),
        log_lr_per_marker=out,
        incompatible=incompatible,
        **parts,  # type: ignore[arg-type]
    )


def _genotype_log_probabilities_all(marker: Marker, theta: float, hemizygous: bool
                                    ) -> NDArray[np.float64]:
    """log P(genotype) of every unordered genotype of a marker, in packed
    order (a hemizygote's allele on the diagonal, -inf off it)."""
    n = marker.n_alleles
    a, b = np.triu_indices(n)
    hemi = np.full(len(a), hemizygous)
    return genotype_log_probabilities(urn_frequencies(marker.allele_frequencies, theta), a, b,
                                      theta, hemi)


def uncertain_genotypes(prepared: PreparedCase, start: int = 0, stop: int | None = None
                        ) -> NDArray[np.bool_]:
    """(samples × markers) where the true genotype is not the one seen, so that
    likelihoods sum over it with :func:`sample_observation_weights`: every
    typed marker of a degraded sample, and a homozygous-looking genotype at
    a marker with a silent allele. ``start:stop`` selects samples."""
    if stop is None:
        stop = prepared.sample_genotypes.shape[0]
    g = prepared.sample_genotypes[start:stop]
    degraded = np.array([s.degraded for s in prepared.case.samples[start:stop]], dtype=bool)
    silent = np.array([m.silent_allele is not None for m in prepared.markers], dtype=bool)
    typed = g[:, :, 0] != UNTYPED
    return typed & (degraded[:, None] | (silent[None, :] & (g[:, :, 0] == g[:, :, 1])))


def sample_observation_weights(prepared: PreparedCase, k: int, rows: NDArray[np.intp],
                               hemizygous: bool) -> NDArray[np.float64]:
    """``P(what sample s shows at marker k | G)`` for the samples ``rows``
    (typed at ``k``) and every unordered genotype ``G`` in packed order (a
    hemizygote's allele on the diagonal), from the samples' drop-out,
    drop-in and the marker's silent allele
    (:func:`kinmatch.likelihood.observation.packed_observation_weights`)."""
    samples = [prepared.case.samples[r] for r in rows]
    a, b = prepared.sample_genotypes[rows, k, 0], prepared.sample_genotypes[rows, k, 1]
    d = np.array([s.dropout for s in samples])
    c = np.array([s.dropin for s in samples])
    return packed_observation_weights(prepared.markers[k], a, b, d, c, hemizygous)


def observed_log_probabilities(prepared: PreparedCase, hemizygous: NDArray[np.bool_]
                               ) -> NDArray[np.float64]:
    """``log P(what each sample shows)`` per sample and marker, as a one-person
    pedigree: :func:`sample_log_probabilities`, except where the true genotype
    is uncertain (a degraded sample, or a homozygous-looking genotype at a
    marker with a silent allele), where it is ``log sum_G P(G) P(seen | G)`` —
    the denominator of the pairwise LR."""
    out = sample_log_probabilities(prepared, hemizygous)
    summed = uncertain_genotypes(prepared)
    for k, marker in enumerate(prepared.markers):
        rows = np.flatnonzero(summed[:, k])
        for hemi in ((False, True) if marker.is_x else (False,)):
            who = rows[hemizygous[rows] == hemi] if marker.is_x else rows
            if not len(who):
                continue
            pop = np.exp(_genotype_log_probabilities_all(marker, prepared.case.theta, hemi))
            out[who, k] = np.log(sample_observation_weights(prepared, k, who, hemi) @ pop)
    return out


def degraded_log_lr(prepared: PreparedCase, dists: MissingPersonDistributions,
                    rows: NDArray[np.intp], mask: NDArray[np.bool_] | None = None,
                    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Per-marker log-LRs and incompatibilities of samples whose true
    genotype is uncertain (drop-out / drop-in, or a silent allele).

    For a sample with drop-out / drop-in the true genotype is unknown, so
    each marker's LR sums over it (Gill et al. 2000; Balding & Buckleton 2009)::

        LR_k(s, m) = sum_G P(m = G | family) P(O_sk | G) / sum_G P(G) P(O_sk | G)

    with ``P(O | G)`` from :func:`sample_observation_weights`:
    a matrix product of the observation weights (samples × genotypes) with
    the missing persons' distributions (genotypes × missing persons), per
    marker. A marker is incompatible when no Mendel-compatible genotype
    explains what was seen. At X-linked markers each pair is read with its
    sex (:func:`pair_sexes`): a man's one allele or a woman's two, in the
    missing person's distribution and the population's alike; pairs of
    unknown sex are left at 0 there. Returns ``(rows, missing, markers)``
    log-LRs and incompatibility flags (0 / False where ``mask``, (rows ×
    markers), is False); pairs whose sexes differ are not marked here.
    """
    case = prepared.case
    g = prepared.sample_genotypes[rows]
    n_rows, n_missing = len(rows), len(dists.missing)
    out = np.zeros((n_rows, n_missing, len(prepared.markers)))
    incompatible = np.zeros((n_rows, n_missing, len(prepared.markers)), dtype=bool)
    if mask is None:
        mask = np.ones((n_rows, len(prepared.markers)), dtype=bool)
    sexes = pair_sexes(prepared, dists.sexes)[rows] if len(_x_markers(prepared)) else None
    for k, marker in enumerate(prepared.markers):
        typed = np.flatnonzero((g[:, k, 0] != UNTYPED) & mask[:, k])
        if not len(typed):
            continue
        lo, hi = dists.offsets[k], dists.offsets[k + 1]
        probs = np.exp(dists.log_probability[:, lo:hi])  # (missing, genotypes)
        compatible = dists.compatible[:, lo:hi].astype(float)
        readings = [(False, np.ones((len(typed), n_missing), dtype=bool))]
        if marker.is_x:
            assert sexes is not None
            readings = [(True, sexes[typed] == Sex.MALE), (False, sexes[typed] == Sex.FEMALE)]
        for hemizygous, pairs in readings:
            if not pairs.any():
                continue
            p, c = probs, compatible
            if hemizygous:  # missing persons of unknown sex, read as men
                p, c = p.copy(), c.copy()
                unknown = np.flatnonzero(dists.male_row >= 0)
                p[unknown] = np.exp(dists.male_log_probability[dists.male_row[unknown], lo:hi])
                c[unknown] = dists.male_compatible[dists.male_row[unknown], lo:hi]
            weights = sample_observation_weights(prepared, k, rows[typed], hemizygous)
            pop = np.exp(_genotype_log_probabilities_all(marker, case.theta, hemizygous))
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.log(weights @ p.T) - np.log(weights @ pop)[:, None]
            out[typed, :, k] = np.where(pairs, value, out[typed, :, k])
            incompatible[typed, :, k] = np.where(pairs, (weights @ c.T) <= 0,
                                                 incompatible[typed, :, k])
    return out, incompatible


@dataclass(frozen=True)
class PairwiseCandidates:
    """The best missing persons of every sample, for cases too large for a
    dense pairwise matrix: ``missing_index[s, j]`` is sample ``s``'s
    ``j``-th best missing person by LR (``-1`` when fewer qualify),
    ``log_lr[s, j]`` its natural-log LR and ``incompatible[s, j]`` its
    number of Mendelian incompatibilities."""

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]
    missing_index: NDArray[np.intp]  # (samples, top)
    log_lr: NDArray[np.float64]  # (samples, top); -inf where there is no candidate
    incompatible: NDArray[np.int64]  # (samples, top)


def pairwise_candidates(prepared: PreparedCase, *, top: int = 10, chunk_size: int = 2048,
                        distributions: MissingPersonDistributions | None = None,
                        progress: Callable[[int, int], None] | None = None,
                        cache: PairwiseCache | None = None,
                        ) -> PairwiseCandidates:
    """The ``top`` missing persons of every sample by pairwise LR, in bounded memory.

    The log-LR of sample ``s`` and missing person ``m`` is
    ``sum_k log P_m(g_sk) - log P(g_sk)``: a sparse one-hot matrix of the
    samples' genotype columns (samples × genotypes, one entry per typed
    marker) times the dense matrix of log-probabilities (genotypes ×
    missing persons). Samples go through in chunks of ``chunk_size``, so
    memory is ``chunk_size × missing persons`` however many samples there
    are; only each chunk's best ``top`` are kept. Pairs whose sexes differ
    are never candidates. The LRs equal :func:`pairwise_lr`'s, lineage parts
    included (added pair by pair from the sparse lineage evidence).
    ``cache`` keeps what unchanged families and pairs need between calls.
    """
    dists = distributions if distributions is not None else \
        missing_person_distributions(prepared, cache=cache)
    by_sample: dict[int, list[tuple[int, float, int]]] = {}
    if prepared.case.has_lineage_data:
        lineage = lineage_evidence(prepared.case,
                                   cache=cache.lineage if cache is not None else None)
        for (s_i, m_i), pair in lineage.pairs.items():
            by_sample.setdefault(s_i, []).append(
                (m_i, pair.log_lr_y + pair.log_lr_mtdna, pair.exclusions))
    n_samples = prepared.sample_genotypes.shape[0]
    n_missing = len(dists.missing)
    top = max(0, min(top, n_missing))
    cols = dists.columns(prepared.sample_genotypes)
    sexes = pair_sexes(prepared, dists.sexes)
    clash = sexes < 0
    x = _x_markers(prepared)
    is_x = np.zeros(len(prepared.markers), dtype=bool)
    is_x[x] = True
    diploid = sample_log_probabilities(prepared, np.zeros(n_samples, dtype=bool))
    autosomal_pops = diploid[:, ~is_x].sum(axis=1)
    if len(x):  # the denominators' X-linked part, read as men and as women
        hemizygous_pops = sample_log_probabilities(
            prepared, np.ones(n_samples, dtype=bool))[:, x].sum(axis=1)
        diploid_pops = diploid[:, x].sum(axis=1)
    # -inf (an impossible genotype) survives the sparse product: 1.0 * -inf = -inf
    log_p = np.ascontiguousarray(dists.log_probability.T)  # (genotypes, missing)
    unknown = np.flatnonzero(dists.male_row >= 0)  # missing persons of unknown sex
    log_p_men = np.ascontiguousarray(dists.male_log_probability[dists.male_row[unknown]].T)
    index = np.full((n_samples, top), -1, dtype=np.intp)
    best = np.full((n_samples, top), -math.inf)
    incompatible = np.zeros((n_samples, top), dtype=np.int64)
    for start in range(0, n_samples, chunk_size):
        stop = min(n_samples, start + chunk_size)
        c = cols[start:stop]
        chunk_sexes = sexes[start:stop]

        def onehot(which: NDArray[np.bool_], c: NDArray[np.intp] = c) -> Any:
            rows, markers = np.nonzero((c >= 0) & which[None, :])
            return sparse.csr_matrix((np.ones(len(rows)), (rows, c[rows, markers])),
                                     shape=(len(c), log_p.shape[0]))

        scores = np.asarray(onehot(~is_x) @ log_p)  # (chunk, missing)
        scores -= autosomal_pops[start:stop, None]
        if len(x):  # each pair read with its sex (pair_sexes); unknown: no X evidence
            on_x = onehot(is_x)
            x_part = np.asarray(on_x @ log_p)
            men = chunk_sexes == Sex.MALE
            if len(unknown):
                x_part[:, unknown] = np.where(men[:, unknown], np.asarray(on_x @ log_p_men),
                                              x_part[:, unknown])
            with np.errstate(invalid="ignore"):
                x_part -= np.where(men, hemizygous_pops[start:stop, None],
                                   diploid_pops[start:stop, None])
            x_part[chunk_sexes == Sex.UNKNOWN] = 0.0
            scores += x_part
        summed = uncertain_genotypes(prepared, start, stop)
        degraded_rows = list(start + np.flatnonzero(summed.any(axis=1)))
        degraded_counts = None
        if degraded_rows:
            dl, flags = degraded_log_lr(prepared, dists, np.array(degraded_rows))
            degraded_counts = flags.sum(axis=2)
            scores[np.array(degraded_rows) - start] = dl.sum(axis=2)
        lineage_excl = np.zeros(scores.shape, dtype=np.int64)
        for s_i in range(start, stop):
            for m_i, value, excl in by_sample.get(s_i, ()):
                scores[s_i - start, m_i] += value
                lineage_excl[s_i - start, m_i] = excl
        scores[clash[start:stop]] = -math.inf
        scores[np.isnan(scores)] = -math.inf
        if top:
            part = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            part_scores = np.take_along_axis(scores, part, axis=1)
            order = np.argsort(-part_scores, axis=1, kind="stable")
            chosen = np.take_along_axis(part, order, axis=1)
            index[start:stop] = chosen
            best[start:stop] = np.take_along_axis(scores, chosen, axis=1)
            safe = np.where(c >= 0, c, 0)
            incompat = (~dists.compatible[chosen[:, :, None], safe[:, None, :]]
                        & (c >= 0)[:, None, :])
            if len(x):
                chosen_sexes = np.take_along_axis(chunk_sexes, chosen, axis=1)
                male_row = dists.male_row[chosen]
                i, j = np.nonzero((male_row >= 0) & (chosen_sexes == Sex.MALE))
                incompat[i[:, None], j[:, None], x[None, :]] = (
                    ~dists.male_compatible[male_row[i, j][:, None], safe[i][:, x]]
                    & (c[i][:, x] >= 0))
                incompat[:, :, x] &= (chosen_sexes != Sex.UNKNOWN)[:, :, None]
            incompatible[start:stop] = incompat.sum(axis=2)
            if degraded_counts is not None:
                rel = np.array(degraded_rows) - start
                incompatible[np.array(degraded_rows)] = np.take_along_axis(
                    degraded_counts, chosen[rel], axis=1)
            if by_sample:
                incompatible[start:stop] += np.take_along_axis(lineage_excl, chosen, axis=1)
        if progress is not None:
            progress(stop, n_samples)
    none = np.isneginf(best)  # impossible pairs (sexes differ, LR 0) are no candidates
    index[none] = -1
    incompatible[none] = 0
    return PairwiseCandidates(
        samples=tuple(s.id for s in prepared.case.samples),
        missing=dists.missing,
        families=dists.families,
        missing_index=index,
        log_lr=best,
        incompatible=incompatible,
    )
