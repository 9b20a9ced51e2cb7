"""Markers, frequencies, allele names and mutation models."""

from __future__ import annotations

import numpy as np
import pytest

from kinmatch.alleles import canonical_allele, is_microvariant
from kinmatch.errors import KinmatchWarning, MarkerError
from kinmatch.markers import FrequencyDatabase, Marker
from kinmatch.mutation import (
    always_lumpable,
    is_lumpable,
    is_reversible,
    is_stationary,
    make_stationary,
    mutation_matrix,
    overall_mutation_rate,
)

ALLELES = ["9", "9.3", "10", "11", "12"]
FREQS = [0.1, 0.2, 0.3, 0.25, 0.15]


def test_allele_names():
    assert canonical_allele("10.0") == "10"
    assert canonical_allele(9.3) == "9.3"
    assert canonical_allele(" 30.2 ") == "30.2"
    assert canonical_allele("A") == "A"
    assert is_microvariant("9.3") and not is_microvariant("10") and not is_microvariant("A")
    assert canonical_allele(" Rest  allele ") == "Rest allele"
    for bad in ["", "1\t2", "8/9", "8,9", None, True]:
        with pytest.raises(MarkerError):
            canonical_allele(bad)


def test_marker_validation():
    m = Marker.create("TH01", ALLELES, FREQS)
    assert m.allele_index("9.3") == 1 and m.allele_index(10) == 2
    with pytest.raises(MarkerError, match="TH01 has no allele '13'"):
        m.allele_index("13")
    with pytest.raises(MarkerError, match=r"sum to 0.9"):
        Marker.create("M", ["1", "2"], [0.5, 0.4])
    with pytest.raises(MarkerError, match="must be positive"):
        Marker.create("M", ["1", "2"], [1.0, 0.0])
    with pytest.raises(MarkerError, match="listed twice"):
        Marker.create("M", ["1", "1.0"], [0.5, 0.5])
    with pytest.raises(MarkerError, match="2 alleles but 3 frequencies"):
        Marker.create("M", ["1", "2"], [0.5, 0.25, 0.25])
    with pytest.raises(MarkerError, match="chromosome"):
        Marker.create("M", ["1", "2"], [0.5, 0.5], chromosome="Y")


def test_normalise_and_rest_allele_are_explicit():
    m = Marker.create("M", ["1", "2"], [0.5, 0.3], normalise=True)
    np.testing.assert_allclose(m.allele_frequencies, [0.625, 0.375])
    r = Marker.create("M", ["1", "2"], [0.5, 0.3], rest_allele="99")
    assert r.alleles == ("1", "2", "99")
    np.testing.assert_allclose(r.allele_frequencies, [0.5, 0.3, 0.2])
    ok = Marker.create("M", ["1", "2"], [0.5, 0.5000005])  # within 1e-6
    assert ok.n_alleles == 2


def test_unseen_allele_added_with_minimum_frequency_and_warning():
    m = Marker.create("M", ["10", "12"], [0.6, 0.4], mutation={"model": "stepwise", "rate": 0.01,
                                                              "rate2": 0.001, "range": 0.5})
    with pytest.warns(KinmatchWarning, match="allele\\(s\\) 11 not in the frequency database"):
        m2 = m.with_alleles(["11", "10"], minimum_frequency=0.01)
    assert m2.alleles == ("10", "11", "12")  # numeric order
    np.testing.assert_allclose(m2.allele_frequencies, np.array([0.6, 0.01, 0.4]) / 1.01)
    assert m2.mutation is not None and m2.mutation.female.n_alleles == 3
    assert m.with_alleles(["10"]) is m


def test_frequency_database_names_population():
    db = FrequencyDatabase("Korean")
    db.add("D3S1358", ["15", "16"], [0.4, 0.6])
    assert db.marker("D3S1358").n_alleles == 2
    with pytest.raises(MarkerError, match="not in the Korean frequency database"):
        db.marker("TH01")


def test_equal_and_proportional_properties():
    p = np.array(FREQS)
    eq = mutation_matrix("equal", ALLELES, p, rate=0.01).matrix
    assert eq[0, 1] == pytest.approx(0.0025) and eq[0, 0] == pytest.approx(0.99)
    assert always_lumpable(eq) and not is_stationary(eq, p)
    assert is_stationary(eq, np.full(5, 0.2)) and is_reversible(eq, np.full(5, 0.2))
    prop = mutation_matrix("proportional", ALLELES, p, rate=0.01).matrix
    assert is_stationary(prop, p) and is_reversible(prop, p) and always_lumpable(prop)
    assert overall_mutation_rate(prop, p) == pytest.approx(0.01, rel=1e-12)


def test_stepwise_microvariants_and_range():
    m = mutation_matrix("stepwise", ALLELES, FREQS, rate=0.01, rate2=0.001, range=0.5).matrix
    np.testing.assert_allclose(m.sum(axis=1), 1, rtol=1e-14)
    # 9 -> 9.3 is a non-integer step: rate2 split over the 1 allele of other groups
    assert m[0, 1] == pytest.approx(0.001)
    # 9.3 is alone in its group: diagonal 1 - rate2
    assert m[1, 1] == pytest.approx(0.999)
    # from 10: integer neighbours 9 (1 step), 11 (1 step), 12 (2 steps): weights 0.5,0.5,0.25
    assert m[2, 3] == pytest.approx(0.01 * 0.5 / 1.25)
    assert m[2, 4] == pytest.approx(0.01 * 0.25 / 1.25)
    assert not always_lumpable(m)
    assert not is_lumpable(m, [0, 4])
    with pytest.raises(MarkerError, match="numeric allele names"):
        mutation_matrix("stepwise", ["A", "B"], None, rate=0.01, rate2=0, range=0.5)


def test_onestep():
    m = mutation_matrix("onestep", ["9", "10", "11", "13"], None, rate=0.004).matrix
    assert m[0, 1] == pytest.approx(0.004) and m[1, 0] == pytest.approx(0.002)
    assert m[3, 3] == 1.0  # no neighbour one step away


def test_pm_transform_is_stationary_and_keeps_the_rate():
    p = np.array(FREQS)
    step = mutation_matrix("stepwise", ALLELES, p, rate=0.01, rate2=0.001, range=0.5)
    stat = mutation_matrix("stepwise", ALLELES, p, rate=0.01, rate2=0.001, range=0.5,
                           transform="PM")
    assert not is_stationary(step.matrix, p)
    assert is_stationary(stat.matrix, p)
    assert overall_mutation_rate(stat.matrix, p) == pytest.approx(
        overall_mutation_rate(step.matrix, p), rel=1e-10)
    np.testing.assert_allclose(make_stationary(stat.matrix, p), stat.matrix, rtol=1e-10)


@pytest.mark.parametrize("model, alleles, params", [
    # 11.3 alone in its group and no mutation between groups: it never mutates
    ("stepwise", ["10", "11", "12", "11.3"], {"rate": 0.15, "rate2": 0.0, "range": 0.5}),
    # 13 has no neighbour one step away: it never mutates
    ("onestep", ["10", "11", "13"], {"rate": 0.05}),
])
def test_pm_transform_of_a_model_in_which_some_alleles_never_mutate_is_refused(
        model, alleles, params):
    """Such a model has no single stationary distribution under which alleles
    mutate (its equations are singular, or give 0/0): a located error, not a
    LinAlgError or a matrix of NaN."""
    p = np.full(len(alleles), 1 / len(alleles))
    with pytest.raises(MarkerError, match=r"no stationary \(PM\) version"):
        mutation_matrix(model, alleles, p, transform="PM", **params)
    with pytest.raises(MarkerError, match=r"marker M: no stationary \(PM\) version"):
        Marker.create("M", alleles, p, mutation={"model": model, "transform": "PM", **params})


def test_custom_matrix_checked():
    with pytest.raises(MarkerError, match="row 1 sums to"):
        mutation_matrix("custom", ["1", "2"], None, matrix=[[0.5, 0.4], [0.1, 0.9]])
    with pytest.raises(MarkerError, match="2 x 2"):
        mutation_matrix("custom", ["1", "2"], None, matrix=[[1.0]])
    with pytest.raises(MarkerError, match="unknown mutation model"):
        mutation_matrix("fancy", ["1", "2"], None, rate=0.1)


def test_sex_specific_model():
    m = Marker.create("M", ["10", "11", "12"], [0.2, 0.3, 0.5],
                      mutation={"female": {"model": "equal", "rate": 0.001},
                                "male": {"model": "equal", "rate": 0.004}})
    assert m.mutation is not None and not m.mutation.sex_equal
    assert m.mutation.matrix_for(1)[0, 0] == pytest.approx(0.996)
    assert m.mutation.matrix_for(2)[0, 0] == pytest.approx(0.999)
