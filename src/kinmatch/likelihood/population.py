"""Population genetics: allele sampling under Hardy–Weinberg and the θ correction.

Alleles of people of one subpopulation are Balding–Nichols draws: the
``j``-th allele drawn is ``a`` with probability
``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``, ``n_a`` counting the earlier
draws of ``a`` (Balding & Nichols 1994, *Forensic Sci. Int.* 64:125–140).
Every θ formula in kinmatch is a consequence of this one sampling formula:

* :func:`balding_nichols_founder_factor` (:func:`balding_nichols_founder_factors`
  for many markers): the joint probability of all founder alleles of a
  family (the peeling engine's founder factor);
* :func:`genotype_log_probabilities`: one person's genotype (two draws);
* :func:`match_log_lr`: the identity LR of two matching genotypes, one over
  the conditional match probability (four draws over two), NRC II 4.10.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided
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
    One marker of :func:`balding_nichols_founder_factors`.
    """
    p = np.asarray(p, dtype=float)
    return balding_nichols_founder_factors(
        p[None, :], [np.asarray(d, dtype=np.intp)[None, :] for d in domains], theta)[0]


def balding_nichols_founder_factors(
    p: NDArray[np.float64], domains: Sequence[NDArray[np.intp]], theta: float,
    axes: Sequence[int] | None = None,
) -> NDArray[np.float64]:
    """:func:`balding_nichols_founder_factor` for many markers at once.

    ``p`` is ``(M, n)`` (one frequency row per marker), each domain ``(M,
    d_j)`` (allele indices per marker); the result is ``(M, d_1, ..., d_J)``.

    Built draw by draw: the factor over the first ``t - 1`` draws is
    multiplied by the ``t``-th draw's probability ``((1 - θ) p_x + θ
    Σ_{s<t} [x_s = x]) / (1 + (t - 2) θ)``. The frequency part is one outer
    product; each earlier draw ``s`` adds ``θ / (1 + (t - 2) θ)`` times the
    factor so far on the "diagonal" ``x_t = x_s`` only, which for a draw
    over the whole alphabet is a scatter of the factor so far (``n`` times
    smaller than the new factor). Draws over small domains (typed founders)
    go first, so the whole costs a few passes over the result.

    ``axes`` (one per draw; default one axis per draw): the result axis of
    each draw. Draws that share an axis range jointly over its positions:
    an untyped founder's two alleles over the founder's unordered genotypes
    ``(a, b)``, ``a <= b``, as two domains, one of ``a`` and one of ``b``
    (the factor is then ``P(a, b, ...)``, one ordering; see
    :func:`_shared_axis_factors`).
    """
    p = np.asarray(p, dtype=float)
    if axes is not None and len(set(axes)) < len(axes):
        return _shared_axis_factors(p, domains, theta, axes)
    m, n = p.shape
    rows = np.arange(m)
    n_draws = len(domains)
    # small domains first: the dense updates of a draw over a small domain
    # then touch a small factor; the result is transposed back at the end
    order = sorted(range(n_draws), key=lambda j: domains[j].shape[1])
    doms = [np.asarray(domains[j], dtype=np.intp) for j in order]
    factor = np.ones((m,))
    wholes: list[bool] = []  # draws over the whole alphabet
    for t, dom in enumerate(doms):  # draw t + 1
        d = dom.shape[1]
        freq = p[rows[:, None], dom]  # (M, d)
        if t == 0:
            factor = freq.copy()
            wholes.append(d == n and bool(np.all(dom == np.arange(n))))
            continue
        den = 1.0 + (t - 1) * theta
        new = factor[..., None] * (((1.0 - theta) / den) * freq).reshape(
            (m,) + (1,) * t + (d,))
        copy = theta / den
        whole = d == n and bool(np.all(dom == np.arange(n)))
        for s in range(t):
            if whole and wholes[s]:
                # the diagonal x_s = x_t of the new factor: a view of the old one's shape
                strides = list(new.strides[:-1])
                strides[s + 1] += new.strides[-1]
                diagonal = as_strided(new, factor.shape, strides, writeable=True)
                diagonal += copy * factor
            elif whole:
                # new[k, ..., x_s = u, ..., x_t = doms[s][k, u]] += copy * factor[k, ..., u, ...]
                moved = np.moveaxis(new, (0, s + 1, t + 1), (0, 1, 2))
                before = np.moveaxis(factor, s + 1, 1)
                ds = doms[s].shape[1]
                moved[rows[:, None], np.arange(ds)[None, :], doms[s]] += copy * before
            else:
                same = doms[s][:, :, None] == dom[:, None, :]  # (M, d_s, d)
                shape = [m] + [1] * (t + 1)
                shape[s + 1] = doms[s].shape[1]
                shape[t + 1] = d
                new += copy * factor[..., None] * same.reshape(shape)
        factor = new
        wholes.append(whole)
    inverse = np.argsort(order)
    return factor.transpose((0, *(1 + int(a) for a in inverse)))


def _shared_axis_factors(p: NDArray[np.float64], domains: Sequence[NDArray[np.intp]],
                         theta: float, axes: Sequence[int]) -> NDArray[np.float64]:
    """:func:`balding_nichols_founder_factors` with draws sharing axes: each
    draw multiplies the factor by its probability given the earlier draws,
    ``((1 - θ) p_x + θ Σ_{s<t} [x_s = x]) / (1 + (t - 2) θ)``, broadcast
    over the axes of the draws involved (one pass over the factor per
    earlier draw)."""
    m = p.shape[0]
    rows = np.arange(m)
    n_axes = max(axes) + 1
    size = {a: domains[j].shape[1] for j, a in enumerate(axes)}
    order = sorted(range(len(domains)), key=lambda j: (size[axes[j]], axes[j]))
    present: list[int] = []  # axes of the factor so far, in order

    def spread(values: NDArray[np.float64] | NDArray[np.bool_], over: Sequence[int]
               ) -> NDArray[np.float64]:
        """``values`` (M, d_over[0], ...) broadcast onto the factor's axes."""
        shape = [m] + [1] * len(present)
        for a in over:
            shape[1 + present.index(a)] = size[a]
        positions = [present.index(a) for a in over]
        order_ = np.argsort(positions)
        moved = np.asarray(values, dtype=float).transpose((0, *(1 + int(i) for i in order_)))
        return moved.reshape(shape)

    factor = np.ones((m,))
    for t, j in enumerate(order):
        axis, dom = axes[j], domains[j]
        if axis not in present:
            present.append(axis)
            factor = factor[..., None]
        freq = spread(p[rows[:, None], dom], [axis])
        if t == 0:
            factor = factor * freq
            continue
        den = 1.0 + (t - 1) * theta
        term = ((1.0 - theta) / den) * freq
        for s in order[:t]:
            if axes[s] == axis:
                same = spread(domains[s] == dom, [axis])
            else:
                same = spread(domains[s][:, :, None] == dom[:, None, :], [axes[s], axis])
            term = term + (theta / den) * same
        factor = factor * term
    return factor.transpose((0, *(1 + present.index(a) for a in range(n_axes))))


def balding_nichols_sequence(
    p: NDArray[np.float64], alleles: NDArray[np.intp], theta: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-probability of a sequence of Balding–Nichols draws, and the
    allele counts it leaves, for many markers at once.

    ``p`` is ``(M, n)``, ``alleles`` ``(M, T)`` (allele indices per marker).
    Draw ``j`` is ``a`` with probability ``(n_a θ + (1 - θ) p_a) / (1 + (j -
    2) θ)`` (:func:`balding_nichols_founder_factor`), so the sequence has
    log-probability ``Σ_j log((c_{<j}(x_j) θ + (1 - θ) p_{x_j}) / (1 + (j -
    2) θ))``; ``-inf`` where a drawn allele has frequency 0.

    Returns ``(log_p (M,), counts (M, n))``. The draws that follow are a
    Pólya urn started from these counts: the next draw (number ``T + 1``)
    is ``a`` with probability ``(θ counts_a + (1 - θ) p_a) / (1 + (T - 1) θ)``
    — the typed founders of a family, drawn first, leave the untyped ones
    this urn (the joint law is exchangeable, so the order of the draws does
    not change the joint probability).
    """
    p = np.asarray(p, dtype=float)
    m, n = p.shape
    rows = np.arange(m)
    counts = np.zeros((m, n))
    log_p = np.zeros(m)
    with np.errstate(divide="ignore"):
        for j in range(alleles.shape[1]):  # draw j + 1
            a = alleles[:, j]
            log_p += np.log(counts[rows, a] * theta + (1.0 - theta) * p[rows, a]) \
                - math.log1p((j - 1) * theta)
            counts[rows, a] += 1.0
    return log_p, counts


def urn_frequencies(allele_frequencies: NDArray[np.float64], theta: float
                    ) -> NDArray[np.float64]:
    """The frequencies founder alleles are drawn from: ``p`` without θ; with
    θ, ``p / Σp`` — the Balding–Nichols urn is the Dirichlet-multinomial with
    ``α = p (1 - θ) / θ``, whose draws follow ``α / Σα`` — so frequencies
    that sum to 1 only within the readers' tolerance give the same value
    whatever the order of the draws (and exactly pedprobr's when they sum to 1)."""
    p = np.asarray(allele_frequencies, dtype=float)
    return p / p.sum(axis=-1, keepdims=True) if theta > 0 else p


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


__all__ = ["balding_nichols_founder_factor", "balding_nichols_founder_factors",
           "balding_nichols_sequence", "genotype_log_probabilities", "match_log_lr"]
