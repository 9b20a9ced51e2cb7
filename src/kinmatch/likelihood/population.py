"""Population genetics: allele sampling under Hardy–Weinberg and the θ correction.

Alleles of people of one subpopulation are Balding–Nichols draws: the
``j``-th allele drawn is ``a`` with probability
``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``, ``n_a`` counting the earlier
draws of ``a`` (Balding & Nichols 1994, *Forensic Sci. Int.* 64:125–140).
Every θ formula in kinmatch is a consequence of this one sampling formula:

* :func:`balding_nichols_founder_factor`: the joint probability of all
  founder alleles of a family (the peeling engine's founder factor);
* :func:`genotype_log_probabilities`: one person's genotype (two draws);
* :func:`match_log_lr`: the identity LR of two matching genotypes, one over
  the conditional match probability (four draws over two), NRC II 4.10.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


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
    counts = np.zeros((*shape, k), dtype=np.int64)
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


def genotype_log_probabilities(
    allele_frequencies: NDArray[np.float64], a: ArrayLike, b: ArrayLike,
    theta: float = 0.0, hemizygous: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Log-probabilities of unordered genotypes ``a/b`` of people with no typed
    relatives, each the founder of a one-person pedigree.

    ``a`` and ``b`` are allele indices into ``allele_frequencies`` (arrays of
    one shape, or scalars; a 0-d result for scalars). Without θ this is
    Hardy–Weinberg: ``p_a^2`` or ``2 p_a p_b``. With θ the two alleles are
    the first two Balding–Nichols draws (see
    :func:`balding_nichols_founder_factor`)::

        P(a/a) = p_a (θ + (1 - θ) p_a),    P(a/b) = 2 (1 - θ) p_a p_b.

    ``hemizygous`` (broadcast with ``a``) marks people who carry one allele
    (a male at an X-linked marker): ``p_a``, and ``-inf`` where such a
    genotype has two different alleles. Several markers at once: lay their
    frequency vectors end to end and offset each marker's indices.
    """
    p = np.asarray(allele_frequencies)
    a, b = np.asarray(a), np.asarray(b)
    pa, pb = p[a], p[b]
    homozygous = a == b
    with np.errstate(divide="ignore"):
        log_hom = np.log(pa) + np.log(theta + (1.0 - theta) * pa)
        log_het = math.log(2.0 * (1.0 - theta)) + np.log(pa) + np.log(pb)
        out = np.where(homozygous, log_hom, log_het)
        if hemizygous is not None:
            hemi = np.asarray(hemizygous, dtype=bool)
            if hemi.any():
                out = np.where(hemi, np.where(homozygous, np.log(pa), -math.inf), out)
    return out


def match_log_lr(
    pa: NDArray[np.float64], pb: NDArray[np.float64], homozygous: NDArray[np.bool_],
    theta: float = 0.0, hemizygous: bool = False,
) -> NDArray[np.float64]:
    """Natural-log identity LR of two matching genotypes ``a/b``, from the two
    alleles' frequencies (arrays of one shape).

    The LR of "same person" against "two unrelated people of one
    subpopulation" for two samples that both show ``a/b`` is
    ``P(a/b) / P(a/b, a/b)``, two Balding–Nichols draws over four (see
    :func:`balding_nichols_founder_factor`): one over the conditional match
    probability of NRC II (National Research Council 1996, *The Evaluation
    of Forensic DNA Evidence*, equations 4.10a/b)::

        a/a:  (1 + θ)(1 + 2θ) / [(2θ + (1 - θ) p_a)(3θ + (1 - θ) p_a)]
        a/b:  (1 + θ)(1 + 2θ) / [2 (θ + (1 - θ) p_a)(θ + (1 - θ) p_b)]

    which at θ = 0 are ``1 / p_a²`` and ``1 / (2 p_a p_b)``. ``hemizygous``
    (two males at an X-linked marker, one allele each, one draw over two):
    ``1 / (θ + (1 - θ) p_a)``, and ``-inf`` where ``homozygous`` is false.
    """
    one = 1.0 - theta
    with np.errstate(divide="ignore"):
        if hemizygous:
            return np.where(homozygous, -np.log(theta + one * pa), -math.inf)
        norm = math.log1p(theta) + math.log1p(2.0 * theta)
        hom_val = norm - np.log(2.0 * theta + one * pa) - np.log(3.0 * theta + one * pa)
        het_val = norm - math.log(2.0) - np.log(theta + one * pa) - np.log(theta + one * pb)
    return np.where(homozygous, hom_val, het_val)


__all__ = ["balding_nichols_founder_factor", "genotype_log_probabilities", "match_log_lr"]
