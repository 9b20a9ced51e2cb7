"""Simulating genotypes on pedigrees by gene dropping.

Founders draw their alleles from the population frequencies (Hardy–Weinberg,
no θ); every child receives one of each parent's two alleles with
probability 1/2 (Mendel's first law) and that allele then mutates according
to the parent's mutation matrix, ``P(child allele = c | parent allele = a)
= M[a, c]``. At X-linked markers a male has one allele, from his mother; a
father passes his single X allele to his daughters. This is the standard
gene-dropping simulation (MacCluer et al. 1986; forrel's ``profileSim``
/ ``markerSim`` do the same for unconditional simulation).

Everything is vectorised over replicates and markers: one call simulates
``n`` independent copies of a pedigree at all markers, as arrays of allele
indices, which is what case simulators and power calculations need.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from kinmatch.markers import Marker
from kinmatch.pedigree import Pedigree, Sex


def _draw(cdf: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.intp]:
    """Inverse-CDF draws: ``cdf`` (..., n) cumulative along the last axis, ``u`` (...)."""
    return np.minimum((cdf < u[..., None]).sum(axis=-1), cdf.shape[-1] - 1)


def simulate_genotypes(pedigree: Pedigree, markers: Sequence[Marker], n: int,
                       rng: np.random.Generator) -> dict[str, NDArray[np.intp]]:
    """Allele indices of everyone in ``pedigree`` at every marker, ``n`` times.

    Returns ``{person: array (n, markers, 2)}`` of allele indices into each
    marker's alleles, the paternal allele first; at X-linked markers a male's
    two entries are his one allele twice.
    """
    k = len(markers)
    size = max(m.n_alleles for m in markers)
    founder_cdf = np.ones((k, size))
    for j, m in enumerate(markers):
        c = np.cumsum(m.allele_frequencies)
        founder_cdf[j, :m.n_alleles] = c / c[-1]
    mutation_cdf: dict[Sex, NDArray[np.float64] | None] = {Sex.FEMALE: None, Sex.MALE: None}
    if any(m.mutation is not None for m in markers):
        for sex in (Sex.FEMALE, Sex.MALE):
            cdf = np.ones((k, size, size))
            for j, m in enumerate(markers):
                mat = np.eye(m.n_alleles)
                if m.mutation is not None:
                    mat = (m.mutation.female if sex == Sex.FEMALE else m.mutation.male).matrix
                c = np.cumsum(mat, axis=1)
                cdf[j, :m.n_alleles, :m.n_alleles] = c / c[:, -1:]
            mutation_cdf[sex] = cdf
    is_x = np.array([m.is_x for m in markers], dtype=bool)
    marker_index = np.arange(k)[None, :]
    out: dict[str, NDArray[np.intp]] = {}

    def transmit(parent: str) -> NDArray[np.intp]:
        alleles = out[parent]
        pick = rng.integers(0, 2, size=(n, k))
        allele = np.take_along_axis(alleles, pick[..., None], axis=2)[..., 0]
        cdf = mutation_cdf[pedigree.sex(parent)]
        if cdf is None:
            return allele
        return _draw(cdf[marker_index, allele], rng.random((n, k)))

    for pid in pedigree.order:
        person = pedigree[pid]
        parents = pedigree.parents(pid)
        if parents is None:
            alleles = _draw(founder_cdf[None, :, None, :], rng.random((n, k, 2)))
        else:
            paternal = transmit(parents[0])
            maternal = transmit(parents[1])
            alleles = np.stack([paternal, maternal], axis=2)
        if is_x.any() and pedigree.sex(pid) == Sex.MALE:
            # one X allele: from the mother (or the founder's first draw)
            single = alleles[..., 1] if not person.is_founder else alleles[..., 0]
            alleles[..., 0] = np.where(is_x, single, alleles[..., 0])
            alleles[..., 1] = np.where(is_x, single, alleles[..., 1])
        out[pid] = alleles
    return out


def genotype_profile(marker_names: Sequence[str], markers: Sequence[Marker],
                     alleles: NDArray[np.intp]) -> dict[str, tuple[str, str]]:
    """One person's simulated alleles (markers, 2) as a profile of allele names."""
    return {name: (m.alleles[int(a)], m.alleles[int(b)])
            for name, m, (a, b) in zip(marker_names, markers, alleles)}
