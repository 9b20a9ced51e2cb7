"""The Chōsei scenario: scoring against the truth, and the simulated case's shape."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kinmatch.markers import FrequencyDatabase
from kinmatch.scenarios.chosei import (
    GLOBALFILER,
    amplicon_dropout,
    case_title,
    east_asian_database,
    scenario_markers,
    score_identifications,
)

TRUTH = {
    "fragments": {"R1": "K1", "R2": "K1", "R3": "K2", "R4": "K3"},
    "recovered": ["K1", "K2", "K3", "K4"],
    "families_without_donor": ["K4"],
}


def test_scoring_counts_correct_false_and_missed():
    result = score_identifications({"R1+R2": "K1", "R3": "K3"}, TRUTH,
                                   merged={"R1+R2": ["R1", "R2"]})
    assert result["correct"] == [("R1+R2", "K1")]
    assert result["false"] == [("R3", "K3")]
    assert result["missed"] == ["K2", "K3"]  # K4 has no donor: not identifiable
    assert result["identifiable"] == 3


def test_a_merged_individual_with_a_foreign_fragment_is_false():
    result = score_identifications({"R1+R3": "K1"}, TRUTH, merged={"R1+R3": ["R1", "R3"]})
    assert result["false"] == [("R1+R3", "K1")] and not result["correct"]


def test_dropout_rises_with_amplicon_length_and_degradation():
    for degradation in (0.2, 0.8):
        d = [amplicon_dropout(length, degradation) for length in (100, 200, 300, 400)]
        assert all(x < y for x, y in itertools.pairwise(d))
    assert amplicon_dropout(300, 0.8) > amplicon_dropout(300, 0.2)


def test_the_case_has_the_east_asian_frequencies_at_every_globalfiler_locus():
    database = east_asian_database()
    markers = scenario_markers(np.random.default_rng(0), database)
    assert markers.synthetic_loci == () and markers.database == "norSTR East Asian v2023"
    assert [m.name for m in markers.case] == [name for name, *_ in GLOBALFILER]
    for m in markers.case:
        alleles, freqs = database.frequencies[m.name]
        assert m.alleles == alleles and m.allele_frequencies.tolist() == freqs.tolist()
    assert case_title(markers) == ("Chōsei mine flood 1942 (simulated; autosomal STR frequencies "
                                   "norSTR East Asian v2023; Y-STR and mtDNA databases SYNTHETIC)")


def test_a_locus_the_database_lacks_is_synthetic_and_named_so():
    full = east_asian_database()
    partial = FrequencyDatabase("East Asian without SE33",
                                {k: v for k, v in full.frequencies.items() if k != "SE33"})
    markers = scenario_markers(np.random.default_rng(0), partial)
    assert markers.synthetic_loci == ("SE33",)
    se33 = next(m for m in markers.case if m.name == "SE33")
    lo, hi, micro = next((lo, hi, micro) for name, _, lo, hi, micro in GLOBALFILER
                         if name == "SE33")
    assert set(se33.alleles) == {str(a) for a in range(lo, hi + 1)} | set(micro)
    assert abs(se33.allele_frequencies.sum() - 1) < 1e-12
    assert "SYNTHETIC at SE33" in case_title(markers)


def test_population_frequencies_follow_the_balding_nichols_model():
    """p_pop ~ Dirichlet(p (1 − F)/F) has mean p and variance F p (1 − p) at each allele
    (F = F_ST = 0.005): checked over 400 populations drawn around the East Asian table."""
    fst, n = 0.005, 400
    markers = scenario_markers(np.random.default_rng(1), fst=fst,
                               populations=[f"P{i}" for i in range(n)])
    variance_sum = expected_sum = 0.0
    for k, m in enumerate(markers.case):
        p = m.allele_frequencies
        drawn = np.array([population[k].allele_frequencies
                          for population in markers.populations.values()])
        assert np.allclose(drawn.sum(axis=1), 1, atol=1e-12)
        assert [population[k].alleles for population in markers.populations.values()] == \
            [m.alleles] * n
        standard_error = np.sqrt(fst * p * (1 - p) / n)
        assert np.all(np.abs(drawn.mean(axis=0) - p) < 4.5 * standard_error), m.name
        variance_sum += drawn.var(axis=0, ddof=1).sum()
        expected_sum += (p * (1 - p)).sum()
    # the pooled estimate of F over every allele; its standard error here is about 0.5 %
    assert variance_sum / expected_sum == pytest.approx(fst, rel=0.05)
