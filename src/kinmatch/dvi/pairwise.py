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
(:func:`kinmatch.likelihood.genotype_log_probability`).

A marker where ``s`` placed as ``m`` breaks Mendel's laws — where
``P(m has s's genotype | F) = 0`` once mutations are switched off — is an
incompatibility; the number of such markers is reported per pair (dvir's
``exclusionMatrix``), whatever the mutation model would make of them. Where the sexes of ``s`` and ``m`` are both
known and differ, the pair is impossible and its LR is NaN (dvir's NA).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ..likelihood import (
    PedigreeMarkers,
    genotype_log_probabilities,
    pedigrees_genotype_distributions,
    pedigrees_loglik,
)
from ..pedigree import Sex
from .case import UNTYPED, PreparedCase


@dataclass(frozen=True)
class MissingPersonDistribution:
    """``P(missing person's genotype | family data)`` per marker."""

    family: str
    missing: str
    sex: Sex
    family_loglik: NDArray[np.float64]  # (markers,) log P(family data)
    distributions: tuple[NDArray[np.float64], ...]  # per marker, (n, n) upper triangle
    #: per marker, ``True`` where a genotype is Mendel-compatible with the family
    compatible: tuple[NDArray[np.bool_], ...]


@dataclass(frozen=True)
class PairwiseLR:
    """Pairwise log-LRs, samples × missing persons."""

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]  # the family of each missing person
    markers: tuple[str, ...]
    log_lr_per_marker: NDArray[np.float64]  # (samples, missing, markers); NaN where sexes differ
    incompatible: NDArray[np.int64]  # (samples, missing) markers with LR 0; -1 where sexes differ

    @property
    def log_lr(self) -> NDArray[np.float64]:
        """Total natural-log LR per pair (sum over markers); NaN where sexes differ."""
        return self.log_lr_per_marker.sum(axis=2)

    @property
    def lr(self) -> NDArray[np.float64]:
        with np.errstate(over="ignore"):
            return np.exp(self.log_lr)

    @property
    def sex_compatible(self) -> NDArray[np.bool_]:
        return self.incompatible >= 0


def missing_person_distributions(prepared: PreparedCase) -> list[MissingPersonDistribution]:
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
    """
    case = prepared.case
    markers = prepared.markers
    mutating = [k for k, m in enumerate(markers) if m.mutation is not None]
    without_mutation = [replace(markers[k], mutation=None, mutation_spec=None) for k in mutating]
    family_logliks = pedigrees_loglik(
        [PedigreeMarkers(f.pedigree, markers, g) for f, g in zip(case.families, prepared.family_genotypes)],
        case.theta)
    jobs = []
    for fam, genos in zip(case.families, prepared.family_genotypes):
        for mp in fam.missing:
            jobs.append(PedigreeMarkers(fam.pedigree, [*markers, *without_mutation],
                                        [*genos, *(genos[k] for k in mutating)], keep=mp))
    results = iter(pedigrees_genotype_distributions(jobs, case.theta))
    out = []
    n = len(markers)
    for fam, family_loglik in zip(case.families, family_logliks):
        for mp in fam.missing:
            logtotal, dists = next(results)
            with np.errstate(invalid="ignore"):
                scale = np.exp(np.where(np.isfinite(logtotal[:n]), logtotal[:n] - family_loglik,
                                        0.0))
            scaled = tuple(d * f for d, f in zip(dists[:n], scale))
            support = [d > 0 for d in dists[:n]]
            for k, plain in zip(mutating, dists[n:]):
                support[k] = plain > 0
            out.append(MissingPersonDistribution(fam.name, mp, fam.pedigree.sex(mp),
                                                 family_loglik, scaled, tuple(support)))
    return out


def sample_log_probabilities(prepared: PreparedCase, hemizygous: NDArray[np.bool_]
                             ) -> NDArray[np.float64]:
    """``log P(sample's genotype)`` per sample and marker (0 where untyped).

    ``hemizygous[s]`` says whether sample ``s`` is treated as male at X-linked
    markers. The sample is a one-person pedigree; see
    :func:`kinmatch.likelihood.genotype_log_probability` for the formulas.
    """
    g = prepared.sample_genotypes
    out = np.zeros(g.shape[:2])
    theta = prepared.case.theta
    for k, marker in enumerate(prepared.markers):
        rows = np.flatnonzero(g[:, k, 0] != UNTYPED)
        a, b = g[rows, k, 0], g[rows, k, 1]
        hemi = hemizygous[rows] if marker.is_x else np.zeros(len(rows), dtype=bool)
        out[rows, k] = genotype_log_probabilities(marker.allele_frequencies, a, b, theta, hemi)
    return out


def pairwise_lr(prepared: PreparedCase,
                distributions: list[MissingPersonDistribution] | None = None) -> PairwiseLR:
    """The pairwise LR matrix (see the module docstring)."""
    case = prepared.case
    dists = distributions if distributions is not None else missing_person_distributions(prepared)
    g = prepared.sample_genotypes
    n_samples, n_markers = g.shape[:2]
    sample_sex = np.array([int(s.sex) for s in case.samples], dtype=np.int64)
    typed = g[:, :, 0] != UNTYPED
    has_x = any(m.is_x for m in prepared.markers)
    log_pop = {sex: sample_log_probabilities(prepared, np.where(sample_sex == 0, sex == Sex.MALE,
                                                                sample_sex == Sex.MALE))
               for sex in ((Sex.MALE, Sex.FEMALE) if has_x else (Sex.MALE,))}
    out = np.zeros((n_samples, len(dists), n_markers))
    incompatible = np.zeros((n_samples, len(dists)), dtype=np.int64)
    for c, d in enumerate(dists):
        pop = log_pop[d.sex if (has_x and d.sex == Sex.FEMALE) else Sex.MALE]
        for k in range(n_markers):
            rows = np.flatnonzero(typed[:, k])
            values = d.distributions[k][g[rows, k, 0], g[rows, k, 1]]
            with np.errstate(divide="ignore"):
                out[rows, c, k] = np.log(values) - pop[rows, k]
            clash = ~d.compatible[k][g[rows, k, 0], g[rows, k, 1]]
            incompatible[rows[clash], c] += 1
        if d.sex != Sex.UNKNOWN:
            clash = (sample_sex != Sex.UNKNOWN) & (sample_sex != int(d.sex))
            out[clash, c, :] = math.nan
            incompatible[clash, c] = -1
    return PairwiseLR(
        samples=tuple(s.id for s in case.samples),
        missing=tuple(d.missing for d in dists),
        families=tuple(d.family for d in dists),
        markers=tuple(m.name for m in prepared.markers),
        log_lr_per_marker=out,
        incompatible=incompatible,
    )
