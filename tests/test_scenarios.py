"""The Chōsei scenario: scoring against the truth, and the simulated case's shape."""

from __future__ import annotations

import itertools

import numpy as np

from kinmatch.scenarios.chosei import (
    amplicon_dropout,
    score_identifications,
    synthetic_markers,
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


def test_synthetic_databases_are_distributions_and_dropout_rises_with_length():
    markers = synthetic_markers(np.random.default_rng(0))
    assert set(markers) == {"Korean", "Japanese"}
    for population in markers.values():
        assert len(population) == 21
        for m in population:
            assert abs(m.allele_frequencies.sum() - 1) < 1e-12
    for degradation in (0.2, 0.8):
        d = [amplicon_dropout(length, degradation) for length in (100, 200, 300, 400)]
        assert all(x < y for x, y in itertools.pairwise(d))
    assert amplicon_dropout(300, 0.8) > amplicon_dropout(300, 0.2)
