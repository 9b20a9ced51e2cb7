"""The likelihood of the data alone from a genotype-distribution pass.

A genotype distribution of a missing person is one contraction of a network
that holds the missing person and the ancestors they need. Its total is
``sum_g P(data, MP = g)``; the pedsuite's denominator is the likelihood of
the data in a network without the people who are there only for the missing
person. The two differ by ``S = sum_a p_a`` per allele of those people's
founders, which is 1 only within the rounding of a frequency database
(about 1e-10 for dvir's). kinmatch divides that mass out
(``data_loglik=True``); these tests check the result against the pruned
likelihood computed on its own, with frequencies summing to ``1 + 5e-7``
so that the correction is far above rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import pedigree

from kinmatch.likelihood.peeling import (
    PedigreeMarkers,
    pedigrees_genotype_distributions_packed,
    pedigrees_loglik,
)
from kinmatch.markers import Marker

EXCESS = 5e-7
ALLELES = ["9", "10", "11", "12", "13"]
FREQS = np.array([0.05, 0.15, 0.3, 0.3, 0.2]) * (1 + EXCESS)


# MP's mother W1 and her parents are there only for MP: W1's parents GF, GM
# are free founders (4 alleles autosomal; at X GF has 1, GM 2). F and W2 are
# ancestors of the typed half-sibling H.
FAMILY = pedigree(("F", None, None, 1), ("W2", None, None, 2), ("GF", None, None, 1),
                  ("GM", None, None, 2), ("W1", "GF", "GM", 2), ("MP", "F", "W1", 1),
                  ("H", "F", "W2", 2))


def _check(ped, markers, data, keep, theta=0.0, free_alleles=None):
    jobs = [PedigreeMarkers(ped, markers, data, keep=keep)]
    result = pedigrees_genotype_distributions_packed(jobs, theta, data_loglik=True)
    pruned = pedigrees_loglik([PedigreeMarkers(ped, markers, data)], theta)[0]
    np.testing.assert_allclose(result.log_data[0], pruned, rtol=0, atol=1e-13)
    if free_alleles is not None:  # the correction is really there
        np.testing.assert_allclose(result.log_total[0] - result.log_data[0],
                                   free_alleles * math.log1p(EXCESS), rtol=1e-6)
    # without data_loglik the field is not filled
    assert pedigrees_genotype_distributions_packed(jobs, theta).log_data is None


@pytest.mark.parametrize("mutation", [None, {"model": "equal", "rate": 0.05},
                                      {"model": "stepwise", "rate": 0.05, "range": 0.5,
                                       "rate2": 0.01}])
def test_free_founders_mass_is_divided_out(mutation):
    m = Marker.create("M", ALLELES, FREQS, mutation=mutation)
    data = [{"H": (1, 2)}, {"H": (3, 3), "F": (2, 3)}]
    _check(FAMILY, [m, m], data, "MP", free_alleles=np.array([4, 4]))


def test_x_linked_free_founders():
    m = Marker.create("X", ALLELES, FREQS, chromosome="X")
    # at X, MP (male) inherits from W1 only; GF gives one allele, GM two
    _check(FAMILY, [m], [{"H": (1, 2)}], "MP", free_alleles=np.array([3]))


def test_x_linked_father_of_a_typed_son_is_not_free():
    """Full brothers at X: the father passes neither son anything, but he
    is the typed brother's ancestor, so the family's own network holds him
    too (and his allele's mass S): nothing is divided out."""
    m = Marker.create("X", ALLELES, FREQS, chromosome="X")
    brothers = pedigree(("F", None, None, 1), ("M", None, None, 2), ("B", "F", "M", 1),
                        ("MP", "F", "M", 1))
    _check(brothers, [m], [{"B": (1, 1)}], "MP", free_alleles=np.array([0]))


def test_mutation_rows_not_summing_to_one_are_peeled_alone():
    """The proportional model built on frequencies summing to 1 + 5e-7 has
    rows summing to 1 + alpha (S - 1); a custom matrix may be off by up to
    1e-6. Transmissions into the missing person then carry their row sums,
    so those markers' family likelihood is peeled on its own."""
    prop = Marker.create("P", ALLELES, FREQS, mutation={"model": "proportional", "rate": 0.05})
    rows = np.full((5, 5), 0.01) + np.eye(5) * 0.95
    custom = Marker.create("C", ALLELES, FREQS,
                           mutation={"model": "custom", "matrix": (rows * (1 + 5e-7)).tolist()})
    data = [{"H": (1, 2), "F": (1, 3)}] * 2
    _check(FAMILY, [prop, custom], data, "MP")


def test_no_free_founders_no_correction():
    m = Marker.create("M", ALLELES, FREQS)
    # MP's father F is typed: W1's line is still free; MP's half-sib's mother is not
    _check(FAMILY, [m], [{"W1": (0, 1), "H": (1, 2)}], "MP", free_alleles=np.array([0]))


def test_theta_and_inbred_free_founders_are_peeled_alone():
    m = Marker.create("M", ALLELES, FREQS)
    _check(FAMILY, [m], [{"H": (1, 2)}], "MP", theta=0.02)
    inbred = pedigree(("F", None, None, 1), ("W2", None, None, 2), ("W1", None, None, 2),
                      ("MP", "F", "W1", 1), ("H", "F", "W2", 2), inbreeding={"W1": 0.1})
    _check(inbred, [m], [{"H": (1, 2)}], "MP")
