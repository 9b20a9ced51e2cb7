"""Every kinship case computed by the R pedsuite (tests/data/kinship_cases.json).

Likelihoods per marker, LRs per marker and in total, and log-likelihoods must
equal pedprobr's to 1e-9 relative. One case is a documented exception:
``pair_full_sibs_sexspec`` H1, where pedprobr's value is not the exact
likelihood; there we assert that kinmatch equals exact brute-force
enumeration and that pedprobr deviates from it (see KNOWN_PEDSUITE_DEVIATIONS).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from reference_cases import (
    KNOWN_PEDSUITE_DEVIATIONS,
    load_reference,
    reference_case,
    reference_markers,
)

from kinmatch.kinship.lr import kinship_lr
from kinmatch.mutation import mutation_matrix

CASES = load_reference()
RTOL = 1e-9


def _result(case, from_parameters=False):
    kc = reference_case(case)
    markers = reference_markers(case, from_parameters) if from_parameters else kc.markers
    return kinship_lr(kc.hypotheses, markers, kc.profiles, theta=kc.theta, reference="H2")


def _assert_close(got, expected, what):
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, what
    zero = expected == 0
    assert np.all(got[zero] == 0), f"{what}: expected exact zeros at {np.flatnonzero(zero)}"
    rel = np.abs(got[~zero] - expected[~zero]) / np.abs(expected[~zero])
    assert np.all(rel <= RTOL), f"{what}: max relative error {rel.max():.3g}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_likelihoods_equal_pedprobr(case):
    result = _result(case)
    exp = case["expected"]
    for h, key in (("H1", "likelihood_H1_per_marker"), ("H2", "likelihood_H2_per_marker")):
        if (case["id"], h) in KNOWN_PEDSUITE_DEVIATIONS:
            continue
        row = result.hypotheses.index(h)
        _assert_close(np.exp(result.loglik[row]), exp[key], f"{case['id']} {h} likelihoods")
        total = exp[f"loglik_{h}"]
        got_total = float(result.total_loglik[row])
        if total == "-Inf":
            assert got_total == -math.inf
        else:
            assert got_total == pytest.approx(total, rel=RTOL)
    if not any((case["id"], h) in KNOWN_PEDSUITE_DEVIATIONS for h in ("H1", "H2")):
        _assert_close(result.lr("H1"), exp["LR_per_marker"], f"{case['id']} LR per marker")
        assert result.total_lr("H1") == pytest.approx(exp["LR_total"], rel=RTOL, abs=0)


@pytest.mark.parametrize(
    "case", [c for c in CASES if any(c2["mutation"] for c2 in c["markers"])],
    ids=lambda c: c["id"],
)
def test_models_built_from_pedmut_parameters_give_the_same_likelihoods(case):
    """Our equal/proportional/stepwise/onestep builders reproduce pedmut's matrices."""
    exact = _result(case)
    rebuilt = _result(case, from_parameters=True)
    np.testing.assert_allclose(rebuilt.loglik, exact.loglik, rtol=1e-12)


@pytest.mark.parametrize(
    "case", [c for c in CASES if any(c2["mutation"] for c2 in c["markers"])],
    ids=lambda c: c["id"],
)
def test_mutation_matrices_equal_pedmut(case):
    for m in case["markers"]:
        for sex in ("female", "male"):
            spec = m["mutation"][sex]
            built = mutation_matrix(spec["model"], m["alleles"], m["afreq"], rate=spec["rate"],
                                    rate2=spec.get("rate2"), range=spec.get("range"))
            np.testing.assert_allclose(built.matrix, np.array(spec["matrix"]), rtol=1e-12,
                                       atol=1e-15, err_msg=f"{case['id']} {m['name']} {sex}")


def _full_sibs_exact(p, male, female, ga, gb):
    """Full siblings, untyped parents: sum over all four founder alleles."""
    n = len(p)

    def child(g, f, m):
        tp = 0.5 * (male[f[0]] + male[f[1]])
        tm = 0.5 * (female[m[0]] + female[m[1]])
        a, b = g
        return tp[a] * tm[b] + (tp[b] * tm[a] if a != b else 0.0)

    total = 0.0
    for f0, f1, m0, m1 in itertools.product(range(n), repeat=4):
        total += p[f0] * p[f1] * p[m0] * p[m1] * child(ga, (f0, f1), (m0, m1)) * child(
            gb, (f0, f1), (m0, m1))
    return total


def test_known_deviation_full_sibs_sexspec_is_pedprobr_not_kinmatch():
    case = next(c for c in CASES if c["id"] == "pair_full_sibs_sexspec")
    result = _result(case)
    persons = {p["id"]: p for p in case["hypotheses"][0]["persons"]}
    deviations = []
    for j, m in enumerate(case["markers"]):
        al = m["alleles"]
        ga = [al.index(a) for a in persons["A"]["genotypes"][m["name"]]]
        gb = [al.index(a) for a in persons["B"]["genotypes"][m["name"]]]
        exact = _full_sibs_exact(np.array(m["afreq"]), np.array(m["mutation"]["male"]["matrix"]),
                                 np.array(m["mutation"]["female"]["matrix"]), ga, gb)
        assert math.exp(result.loglik[0, j]) == pytest.approx(exact, rel=1e-12)
        ref = case["expected"]["likelihood_H1_per_marker"][j]
        deviations.append(abs(ref - exact) / exact)
    # pedprobr is off by 1e-5 .. 2e-3 here; if a future pedsuite fixes this,
    # this assertion fails and the case should move back into the main test.
    assert max(deviations) > 1e-4
    # H2 (unrelated) is unaffected and agrees exactly.
    _assert_close(np.exp(result.loglik[1]), case["expected"]["likelihood_H2_per_marker"], "H2")
