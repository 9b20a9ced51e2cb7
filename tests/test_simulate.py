"""Gene dropping (kinmatch.simulate) against the probabilities it should follow."""

from __future__ import annotations

import numpy as np

from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records
from kinmatch.simulate import simulate_genotypes

FREQS = [0.1, 0.2, 0.3, 0.4]


def _trio():
    return pedigree_from_records([
        {"id": "F", "father": None, "mother": None, "sex": 1},
        {"id": "M", "father": None, "mother": None, "sex": 2},
        {"id": "S", "father": "F", "mother": "M", "sex": 1},
        {"id": "D", "father": "F", "mother": "M", "sex": 2},
    ])


def test_founder_alleles_follow_the_frequencies():
    marker = Marker.create("A", ["1", "2", "3", "4"], FREQS)
    n = 40_000
    sim = simulate_genotypes(_trio(), [marker], n, np.random.default_rng(1))
    counts = np.bincount(sim["F"][:, 0, :].ravel(), minlength=4) / (2 * n)
    se = np.sqrt(np.array(FREQS) * (1 - np.array(FREQS)) / (2 * n))
    assert np.all(np.abs(counts - FREQS) < 4.5 * se)


def test_children_receive_one_allele_of_each_parent_without_mutation():
    marker = Marker.create("A", ["1", "2", "3", "4"], FREQS)
    sim = simulate_genotypes(_trio(), [marker, marker], 5_000, np.random.default_rng(2))
    f, m, s = sim["F"], sim["M"], sim["S"]
    assert np.all((s[..., 0] == f[..., 0]) | (s[..., 0] == f[..., 1]))
    assert np.all((s[..., 1] == m[..., 0]) | (s[..., 1] == m[..., 1]))
    # Mendel: a heterozygous father passes each allele half the time
    het = f[:, 0, 0] != f[:, 0, 1]
    share = np.mean(s[het, 0, 0] == f[het, 0, 0])
    assert abs(share - 0.5) < 4.5 * np.sqrt(0.25 / het.sum())


def test_mutation_rate_of_the_equal_model():
    rate = 0.2
    marker = Marker.create("A", ["1", "2", "3", "4"], FREQS,
                           mutation={"model": "equal", "rate": rate})
    n = 40_000
    sim = simulate_genotypes(_trio(), [marker], n, np.random.default_rng(3))
    f, s = sim["F"][:, 0], sim["S"][:, 0]
    hom = f[:, 0] == f[:, 1]
    changed = np.mean(s[hom, 0] != f[hom, 0])
    assert abs(changed - rate) < 4.5 * np.sqrt(rate * (1 - rate) / hom.sum())


def test_x_chromosome_transmission():
    marker = Marker.create("X1", ["1", "2", "3", "4"], FREQS, chromosome="X")
    sim = simulate_genotypes(_trio(), [marker], 5_000, np.random.default_rng(4))
    f, m, s, d = sim["F"][:, 0], sim["M"][:, 0], sim["S"][:, 0], sim["D"][:, 0]
    assert np.all(f[:, 0] == f[:, 1]) and np.all(s[:, 0] == s[:, 1])  # males: one allele
    assert np.all((s[:, 0] == m[:, 0]) | (s[:, 0] == m[:, 1]))  # a son's X is his mother's
    assert np.all(d[:, 0] == f[:, 0])  # a daughter's paternal X is her father's
