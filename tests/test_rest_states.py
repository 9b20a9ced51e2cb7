"""Unobserved alleles as pseudo-alleles (kinmatch.mutation.rest_states).

A genotype distribution over *every* allele of a marker is computed over
the observed alleles plus one to three pseudo-alleles and expanded back.
These tests check the pseudo-alleles' algebra for each mutation model and
the expanded distributions against brute-force enumeration over every
allele of every person (tests/enumeration.py), including the cases that must
fall back to the whole alphabet (inbred missing person, θ > 0, models that
are not lumpable).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from enumeration import brute_force_likelihood
from support import pedigree

from kinmatch.likelihood import network, peeling
from kinmatch.likelihood.peeling import genotype_distribution, genotype_distributions
from kinmatch.markers import Marker
from kinmatch.mutation import equal_matrix, proportional_matrix, rest_states, stepwise_matrix
from kinmatch.relationships import first_cousin_marriage_child

FREQS = np.array([0.05, 0.15, 0.3, 0.3, 0.2])
ALLELES = ["9", "10", "11", "12", "13"]
MODELS = {
    "none": None,
    "equal": {"model": "equal", "rate": 0.05},
    "proportional": {"model": "proportional", "rate": 0.05},
    "equal/proportional": {"female": {"model": "equal", "rate": 0.02},
                           "male": {"model": "proportional", "rate": 0.08}},
    "stepwise": {"model": "stepwise", "rate": 0.05, "rate2": 0.01, "range": 0.5},
}


# A missing child of untyped parents, a typed sibling and a typed grandparent:
# the missing person's alleles reach the unobserved alleles both from
# untyped founders and, with mutation, from observed alleles.
FAMILY = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                  ("S", "F", "M", 2), ("B", "F", "M", 1))


def test_no_mutation_is_one_state_with_the_frequencies():
    states = rest_states(FREQS, [1, 2], [0, 3, 4])
    assert states is not None
    assert states.basis.shape == (1, 3)
    np.testing.assert_allclose(states.basis[0], FREQS[[0, 3, 4]] / 0.55, rtol=1e-15)
    np.testing.assert_allclose(states.weights, [0.55], rtol=1e-15)
    assert states.female is None and states.male is None


def test_proportional_is_one_state_and_equal_two():
    rest = [0, 3, 4]
    prop = proportional_matrix(FREQS, 0.05)
    states = rest_states(FREQS, [1, 2], rest, prop, prop)
    assert states is not None and states.basis.shape == (1, 3)
    # rows of the extended matrix are probabilities
    np.testing.assert_allclose(states.female.sum(axis=1), 1.0, rtol=1e-13)
    # from an observed allele into the rest: alpha * p(rest)
    alpha = 0.05 / float(np.sum(FREQS * (1 - FREQS)))
    assert states.female[0, 2] == pytest.approx(alpha * 0.55, rel=1e-13)
    eq = equal_matrix(5, 0.05)
    states = rest_states(FREQS, [1, 2], rest, eq, eq)
    assert states is not None and states.basis.shape == (2, 3)
    np.testing.assert_allclose(states.female.sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(states.basis.sum(axis=1), 1.0, rtol=1e-13)
    # founders: all mass on the frequency-shaped state
    np.testing.assert_allclose(states.weights @ states.basis, FREQS[rest], rtol=1e-13)


def test_not_lumpable_has_no_states():
    step = stepwise_matrix([9, 10, 11, 12, 13], 0.05, 0.0, 0.5)
    assert rest_states(FREQS, [1, 2], [0, 3, 4], step, step) is None


def _check_distribution(ped, marker, data, person, theta=0.0):
    loglik, dist = genotype_distribution(ped, marker, data, person, theta)
    total = brute_force_likelihood(ped, marker, data, theta)
    assert math.exp(loglik) == pytest.approx(total, rel=1e-10)
    n = marker.n_alleles
    for a in range(n):
        for b in range(a, n):
            joint = brute_force_likelihood(ped, marker, {**data, person: (a, b)}, theta)
            assert dist[a, b] == pytest.approx(joint / total, rel=1e-9, abs=1e-16)


@pytest.mark.parametrize("model", MODELS)
def test_distribution_over_every_allele_matches_enumeration(model):
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS[model])
    _check_distribution(FAMILY, m, {"B": (1, 2), "S": (2, 3)}, "MP")
    # a sibling homozygous for an allele nobody else carries: with mutation
    # the missing person may carry any allele
    _check_distribution(FAMILY, m, {"S": (4, 4)}, "MP")


def test_pseudo_alleles_are_used_where_they_apply(monkeypatch):
    """The fast path is taken (else the tests above would not test it), and
    not for an inbred missing person or with θ > 0."""
    used = []
    original = network.rest_states

    def spy(*args):
        states = original(*args)
        used.append(states is not None)
        return states

    monkeypatch.setattr(network, "rest_states", spy)
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS["equal"])
    genotype_distribution(FAMILY, m, {"B": (1, 2), "S": (2, 3)}, "MP")
    assert used == [True]
    used.clear()
    genotype_distribution(FAMILY, m, {"B": (1, 2), "S": (2, 3)}, "MP", theta=0.02)
    inbred = first_cousin_marriage_child("A")
    genotype_distribution(inbred, m, {inbred.founders[0]: (1, 2)}, "A")
    assert used == []


@pytest.mark.parametrize("model", ["none", "equal"])
def test_inbred_missing_person_and_theta_fall_back_exactly(model):
    m = Marker.create("M", ALLELES[:3], [0.2, 0.3, 0.5], mutation=MODELS[model])
    # the child of paternal half-siblings: both alleles may be copies of one of F's
    inbred = pedigree(("F", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
                      ("X", "F", "M1", 1), ("Y", "F", "M2", 2), ("A", "X", "Y", 1))
    _check_distribution(inbred, m, {"X": (1, 2)}, "A")
    m = Marker.create("M", ALLELES[:4], [0.1, 0.2, 0.3, 0.4], mutation=MODELS[model])
    small = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                     ("S", "F", "M", 2))
    _check_distribution(small, m, {"S": (0, 1)}, "MP", theta=0.03)


@pytest.mark.parametrize("model", ["none", "equal", "proportional"])
def test_x_linked_distributions(model):
    m = Marker.create("X", ALLELES, FREQS, chromosome="X",
                      mutation=MODELS[model])
    fam = pedigree(("F", None, None, 1), ("M", None, None, 2), ("D", "F", "M", 2),
                   ("SON", "F", "M", 1), ("D2", "F", "M", 2))
    _check_distribution(fam, m, {"D": (1, 2)}, "SON")
    _check_distribution(fam, m, {"D": (1, 2), "F": (1, 1)}, "D2")


def test_inbred_founder_missing_person_falls_back():
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("C", "F", "M", 2),
                   inbreeding={"F": 0.25})
    m = Marker.create("M", ALLELES[:4], [0.1, 0.2, 0.3, 0.4], mutation=MODELS["equal"])
    _check_distribution(ped, m, {"C": (0, 1)}, "F")


def test_the_inbreeding_guard_is_needed(monkeypatch):
    """Expanding pseudo-alleles independently is wrong for an inbred person
    (both alleles may be one founder allele): forcing it changes P(a/a)."""
    m = Marker.create("M", ALLELES[:3], [0.2, 0.3, 0.5])
    inbred = pedigree(("F", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
                      ("X", "F", "M1", 1), ("Y", "F", "M2", 2), ("A", "X", "Y", 1))
    data = {"M1": (1, 1)}
    _, right = genotype_distribution(inbred, m, data, "A")
    monkeypatch.setattr(peeling, "independent_alleles", lambda pedigree, pid: True)
    _, forced = genotype_distribution(inbred, m, data, "A")
    total = brute_force_likelihood(inbred, m, data)
    exact = brute_force_likelihood(inbred, m, {**data, "A": (0, 0)}) / total
    assert right[0, 0] == pytest.approx(exact, rel=1e-10)
    assert abs(forced[0, 0] - exact) > 1e-3 * exact


def test_markers_of_different_sizes_in_one_batch():
    """Markers of 3 to 20 alleles, with pseudo-alleles (no mutation) or the
    whole alphabet (stepwise), computed together (one padded batch, one
    scatter per size) equal each computed alone."""

    many = [str(i) for i in range(5, 25)]
    markers = [
        Marker.create("SMALL-STEP", ALLELES[:3], [0.2, 0.3, 0.5], mutation=MODELS["stepwise"]),
        Marker.create("BIG", many, np.full(20, 0.05)),
        Marker.create("MID", ALLELES, FREQS),
        Marker.create("BIG-STEP", many[:12], np.full(12, 1 / 12), mutation=MODELS["stepwise"]),
    ]
    data = [{"B": (0, 1), "S": (1, 2)}, {"B": (1, 14), "S": (2, 3)},
            {"B": (3, 3), "S": (0, 3)}, {"B": (0, 11), "S": (5, 5)}]
    # and alone, a pair in one allele-count class whose whole-alphabet
    # marker (padded to a small alphabet) is smaller than the other marker
    pair = [Marker.create("STEP3", ALLELES[:3], [0.2, 0.3, 0.5], mutation=MODELS["stepwise"]),
            Marker.create("TEN", many[:10], np.full(10, 0.1))]
    pair_data = [{"B": (0, 1), "S": (1, 2)}, {"B": (0, 1), "S": (1, 1)}]
    for ms, ds in ((markers, data), (pair, pair_data)):
        logliks, dists = genotype_distributions(FAMILY, ms, ds, "MP")
        for k, (m, d) in enumerate(zip(ms, ds)):
            alone_ll, alone = genotype_distribution(FAMILY, m, d, "MP")
            assert logliks[k] == pytest.approx(alone_ll, rel=1e-13)
            np.testing.assert_allclose(dists[k], alone, rtol=1e-12, atol=1e-300)
            assert dists[k].shape == (m.n_alleles, m.n_alleles)
