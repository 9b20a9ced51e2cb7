"""TODO docstring."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def balding_nichols_founder_factor(
    p: NDArray[np.float64], domains: Sequence[NDArray[np.intp]], theta: float
) -> NDArray[np.float64]:
    """Joint probability of all founder alleles of a family under θ.

    The ``j``-th allele drawn (``j = 1, 2, ...``) is ``a`` with probability
    ``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``, where ``n_a`` counts the
    earlier draws of ``a`` (Balding & Nichols 1994, eq. 4.10 of Balding &
    Steele, *Weight-of-evidence for forensic DNA profiles*). The product is
    exchangeable, so it depends on the allele counts only::

        P = prod_a prod_{r < n_a} (r θ + (1 - θ) p_a) / prod_{j=1..K} (1 + (j - 2) θ)

    This is how pedprobr applies ``theta``: all founders of a pedigree share
    one sampling sequence. ``domains`` gives the allowed allele indices of
    each of the ``K`` founder alleles; the result has one axis per allele.
    """
    k = len(p)
    n_draws = len(domains)
    # log of prod_{r<n} (r θ + (1-θ) p_a), for n = 0..K, per allele
    r = np.arange(n_draws)[:, None]
    with np.errstate(divide="ignore"):
        terms = np.log(r * theta + (1.0 - theta) * p[None, :])
    cum = np.vstack([np.zeros((1, k)), np.cumsum(terms, axis=0)])  # (K+1, k)
    shape = tuple(len(d) for d in domains)
    counts = np.zeros(shape + (k,), dtype=np.int64)
    for axis, dom in enumerate(domains):
        onehot = np.zeros((len(dom), k), dtype=np.int64)
        onehot[np.arange(len(dom)), dom] = 1
        view = [1] * n_draws + [k]
        view[axis] = len(dom)
        counts = counts + onehot.reshape(view)
    log_num = cum[counts, np.arange(k)].sum(axis=-1)
    j = np.arange(1, n_draws + 1)
    log_den = float(np.sum(np.log1p((j - 2) * theta)))
    return np.exp(log_num - log_den)


def genotype_log_probability(
    allele_frequencies: NDArray[np.float64], a: int, b: int, theta: float = 0.0,
    hemizygous: bool = False,
) -> float:
    """Log-probability of the unordered genotype ``a/b`` of one person with no
    typed relatives, as the founder of a one-person pedigree.

    Without θ this is Hardy–Weinberg: ``p_a^2`` or ``2 p_a p_b``. With θ the
    two alleles are the first two Balding–Nichols draws (see
    :func:`balding_nichols_founder_factor`)::

        P(a/a) = p_a (θ + (1 - θ) p_a),    P(a/b) = 2 (1 - θ) p_a p_b.

    A hemizygous person (male, X-linked marker) carries one allele: ``p_a``.
    """
    p = allele_frequencies
    if hemizygous:
        return math.log(p[a]) if a == b else -math.inf
    if a == b:
        return math.log(p[a]) + math.log(theta + (1.0 - theta) * p[a])
    return math.log(2.0 * (1.0 - theta)) + math.log(p[a]) + math.log(p[b])


def genotype_log_probabilities(
    allele_frequencies: NDArray[np.float64], a: NDArray[np.intp], b: NDArray[np.intp],
    theta: float = 0.0, hemizygous: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """:func:`genotype_log_probability` for arrays of genotypes ``a/b``
    (``hemizygous`` marks people with one allele; ``-inf`` where a
    hemizygous genotype has two different alleles)."""
    p = allele_frequencies
    return log_genotype_probabilities(p[a], p[b], a == b, theta, hemizygous)


def log_genotype_probabilities(
    pa: NDArray[np.float64], pb: NDArray[np.float64], homozygous: NDArray[np.bool_],
    theta: float = 0.0, hemizygous: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """:func:`genotype_log_probabilities` from the two alleles' frequencies
    (arrays of any one shape, e.g. samples × markers)."""
    with np.errstate(divide="ignore"):
        log_hom = np.log(pa) + np.log(theta + (1.0 - theta) * pa)
        log_het = math.log(2.0 * (1.0 - theta)) + np.log(pa) + np.log(pb)
        out = np.where(homozygous, log_hom, log_het)
        if hemizygous is not None and hemizygous.any():
            out = np.where(hemizygous, np.where(homozygous, np.log(pa), -math.inf), out)
    return out


