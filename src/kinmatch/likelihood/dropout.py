"""Estimating the drop-out probability of a degraded sample.

A sample's drop-out probability ``d`` is rarely known; it is estimated from
the profile itself by maximum likelihood. Under the population model (the
remains of someone unrelated to the references, Hardy–Weinberg or the θ
correction), each marker's probability of what was seen is

    P(O_k | d) = sum_G P(G) P(O_k | G, d, c)

(:func:`kinmatch.likelihood.observation.observation_factor`), and the estimate maximises
``sum_k log P(O_k | d, something seen)`` over ``0 <= d < 1`` — conditioning on
the marker showing at least one allele, because a marker where everything
dropped out is recorded as untyped. Only markers that look
homozygous carry information about ``d`` (a heterozygote seen whole has
probability ``2 p_a p_b (1 - d)^2``, which favours ``d = 0``); a complete
profile gives ``d = 0``. This is the usual estimate for a sample when
nothing else is known (Gill et al. 2007, *Forensic Sci. Int. Genet.* 1:
the drop-out of a profile is estimated from its own allele balance and
loss; Haned et al. 2012 estimate it by maximum likelihood under each
hypothesis). Under a kinship hypothesis, maximising the hypothesis'
likelihood instead gives ``d`` per hypothesis: :func:`estimate_dropout`
takes any log-likelihood function of ``d`` for that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar

from kinmatch.errors import KinmatchError
from kinmatch.likelihood.observation import homozygote_dropout, observation_factor
from kinmatch.likelihood.population import genotype_log_probabilities
from kinmatch.markers import Marker

#: Largest drop-out probability an estimate may take.
MAX_DROPOUT = 0.99

#: Smallest drop-out probability given to a sample whose drop-out is estimated
#: (:func:`estimate_case_dropout`): old remains are never assumed complete.
DROPOUT_FLOOR = 0.01


@dataclass(frozen=True)
class _SeenMarkers:
    """What a sample shows at the (autosomal) markers where it shows
    something, with those markers' genotype probabilities, padded to the
    largest marker: everything the population log-likelihood needs but
    ``d`` and ``c``."""

    frequencies: NDArray[np.float64]  # (K, N), zero beyond each marker's alleles
    first: NDArray[np.intp]  # (K,) observed allele positions
    second: NDArray[np.intp]  # (K,) -1 where one allele was seen
    prior: NDArray[np.float64]  # (K, N, N) P(genotype a/b) at [a, b], a <= b
    prior_total: NDArray[np.float64]  # (K,)


def _seen_markers(markers: Sequence[Marker], profile: Mapping[str, Sequence[str]],
                  theta: float) -> _SeenMarkers:
    rows = []
    for marker in markers:
        alleles = profile.get(marker.name)
        if not alleles or marker.is_x:
            continue
        idx = sorted({marker.allele_index(a) for a in alleles})
        if len(idx) > 2:
            raise KinmatchError(f"marker {marker.name}: more than two alleles seen")
        rows.append((marker, idx[0], idx[1] if len(idx) == 2 else -1))
    size = max((m.n_alleles for m, _, _ in rows), default=1)
    freqs = np.zeros((len(rows), size))
    prior = np.zeros((len(rows), size, size))
    for k, (marker, _, _) in enumerate(rows):
        n = marker.n_alleles
        a, b = np.triu_indices(n)
        freqs[k, :n] = marker.allele_frequencies
        prior[k, a, b] = np.exp(genotype_log_probabilities(marker.allele_frequencies, a, b,
                                                           theta))
    return _SeenMarkers(freqs, np.array([r[1] for r in rows], dtype=np.intp),
                        np.array([r[2] for r in rows], dtype=np.intp), prior,
                        prior.sum(axis=(1, 2)))


def _seen_loglik(seen: _SeenMarkers, dropout: float, dropin: float) -> float:
    k = len(seen.first)
    if k == 0:
        return 0.0
    factor = observation_factor(seen.frequencies, seen.first, seen.second,
                                np.full(k, dropout), np.full(k, dropin),
                                np.full(k, homozygote_dropout(dropout)))
    # condition on something having been seen at the marker: a marker where
    # everything dropped out is usually recorded as not typed
    # (every genotype loses everything with probability d^2: both copies of a
    # heterozygote, or a homozygote's signal with the default d_hom = d^2)
    nothing = (1.0 - dropin) * homozygote_dropout(dropout) * seen.prior_total
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(np.einsum("kij,kij->k", seen.prior, factor))
                            - np.log1p(-nothing)))


def population_observation_loglik(
    markers: Sequence[Marker], profile: Mapping[str, Sequence[str]], dropout: float,
    dropin: float = 0.0, theta: float = 0.0,
) -> float:
    """``sum_k log [sum_G P(G) P(O_k | G, d, c) / (1 - P(nothing seen | d, c))]``
    for one sample of an unrelated person, over the markers where something
    was seen (diploid markers; X-linked markers are skipped). All markers are
    evaluated at once (padded to the largest)."""
    return _seen_loglik(_seen_markers(markers, profile, theta), dropout, dropin)


def estimate_dropout(loglik: Callable[[float], float], *, upper: float = MAX_DROPOUT,
                     tolerance: float = 1e-6) -> float:
    """The ``d`` in ``[0, upper]`` that maximises ``loglik(d)`` (bounded
    Brent search, then the boundary ``d = 0`` if it is at least as good)."""
    res = minimize_scalar(lambda d: -loglik(d), bounds=(0.0, upper), method="bounded",
                          options={"xatol": tolerance})
    best = float(res.x)
    if loglik(0.0) >= loglik(best):
        return 0.0
    return best


def estimate_sample_dropout(markers: Sequence[Marker], profile: Mapping[str, Sequence[str]],
                            *, dropin: float = 0.0, theta: float = 0.0) -> float:
    """Maximum-likelihood drop-out probability of one sample under the
    population model (see the module docstring)."""
    seen = _seen_markers(markers, profile, theta)
    return estimate_dropout(lambda d: _seen_loglik(seen, d, dropin))


def dropout_profile_loglik_curve(markers: Sequence[Marker], profile: Mapping[str, Sequence[str]],
                                 grid: NDArray[np.float64], *, dropin: float = 0.0,
                                 theta: float = 0.0) -> NDArray[np.float64]:
    """The population log-likelihood of a sample over a grid of ``d`` (for plots and checks)."""
    seen = _seen_markers(markers, profile, theta)
    return np.array([_seen_loglik(seen, float(d), dropin) for d in grid])


