"""Kinship coefficients and IBD (κ) coefficients from pedigree structure.

The kinship coefficient ``φ(a, b)`` is the probability that an allele drawn
at random from ``a`` and one from ``b`` are identical by descent. It follows
from the recursion (Karigl 1981; Lange, *Mathematical and statistical
methods for genetic analysis*, ch. 5), taking ``b`` not an ancestor of ``a``::

    φ(a, a) = (1 + F_a) / 2,  F_a = φ(father_a, mother_a) (founders: their inbreeding)
    φ(a, b) = (φ(father_a, b) + φ(mother_a, b)) / 2
    φ(a, b) = 0 for two different founders

For two people who are not inbred, the IBD coefficients (κ0, κ1, κ2), the
probabilities of sharing 0, 1 or 2 alleles IBD, are (Thompson 1975)::

    κ2 = φ(f_a, f_b) φ(m_a, m_b) + φ(f_a, m_b) φ(m_a, f_b)
    κ1 = 4 φ(a, b) - 2 κ2
    κ0 = 1 - κ1 - κ2

These are what the LR of a pairwise relationship rests on:
``LR = κ0 + κ1 P1/P0 + κ2 P2/P0`` (see the verification tests).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from kinmatch.errors import PedigreeError
from kinmatch.pedigree import Pedigree


def kinship_coefficients(pedigree: Pedigree) -> Callable[[str, str], float]:
    """A function ``phi(a, b)`` giving kinship coefficients in ``pedigree`` (memoised)."""
    depth = {pid: i for i, pid in enumerate(pedigree.order)}

    @cache
    def phi(a: str, b: str) -> float:
        if a == b:
            parents = pedigree.parents(a)
            if parents is None:
                return (1.0 + pedigree.founder_inbreeding.get(a, 0.0)) / 2.0
            return (1.0 + phi(*parents)) / 2.0
        # recurse on the later one in topological order (never an ancestor of the other)
        if depth[a] < depth[b]:
            a, b = b, a
        parents = pedigree.parents(a)
        if parents is None:
            return 0.0
        return (phi(parents[0], b) + phi(parents[1], b)) / 2.0

    return phi


def inbreeding_coefficient(pedigree: Pedigree, person: str) -> float:
    """``F = φ(father, mother)``, or the founder inbreeding of a founder."""
    phi = kinship_coefficients(pedigree)
    return 2.0 * phi(person, person) - 1.0


def kappa(pedigree: Pedigree, a: str, b: str) -> tuple[float, float, float]:
    """IBD coefficients (κ0, κ1, κ2) of two non-inbred people."""
    if a == b:
        raise PedigreeError("κ coefficients are for two different people")
    for pid in (a, b):
        if inbreeding_coefficient(pedigree, pid) > 0:
            raise PedigreeError(f"'{pid}' is inbred; κ coefficients assume non-inbred people")
    phi = kinship_coefficients(pedigree)
    pa, pb = pedigree.parents(a), pedigree.parents(b)
    k2 = 0.0
    if pa is not None and pb is not None:
        k2 = phi(pa[0], pb[0]) * phi(pa[1], pb[1]) + phi(pa[0], pb[1]) * phi(pa[1], pb[0])
    k1 = 4.0 * phi(a, b) - 2.0 * k2
    return (1.0 - k1 - k2, k1, k2)
