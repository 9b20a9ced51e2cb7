"""Joint DVI beyond enumeration: Murty k-best, branch-and-bound, certified posterior
bounds, priors and allowed pairs, checked against exhaustive enumeration and brute force."""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import quiet

from kinmatch.algorithms.assignments import (
    UNASSIGNED,
    count_assignments,
    count_matchings,
    k_best_assignments,
)
from kinmatch.algorithms.matching_bounds import vertex_deletion_bounds
from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import (
    NOT_MISSING,
    joint_identification,
)
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.errors import KinmatchError
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex, pedigree_from_records

STEPWISE = {"model": "stepwise", "rate": 0.01, "rate2": 1e-4, "range": 0.1}


def _markers(rng, n_markers, k=4, mutation=True):
    alleles = [str(10 + i) for i in range(k)]
    return [Marker.create(f"M{j}", alleles, rng.dirichlet(np.ones(k) * 2),
                          mutation=STEPWISE if mutation else None) for j in range(n_markers)]


def _geno(rng, markers):
    return {m.name: tuple(rng.choice(m.alleles, 2)) for m in markers}


def _case(rng, n_single, n_double, n_samples, n_markers=3):
    """Families with one missing person (a typed parent) and with two (typed sibling)."""
    markers = _markers(rng, n_markers)
    fams = []
    for i in range(n_single):
        ped = pedigree_from_records([
            {"id": f"P{i}", "sex": 1}, {"id": f"Q{i}", "sex": 2},
            {"id": f"S{i}", "sex": 1, "father": f"P{i}", "mother": f"Q{i}"}])
        fams.append(ReferenceFamily(f"F{i}", ped, (f"S{i}",), {f"P{i}": _geno(rng, markers)}))
    for i in range(n_double):
        ped = pedigree_from_records([
            {"id": f"DP{i}", "sex": 1}, {"id": f"DQ{i}", "sex": 2},
            {"id": f"A{i}", "sex": 1, "father": f"DP{i}", "mother": f"DQ{i}"},
            {"id": f"B{i}", "sex": 2, "father": f"DP{i}", "mother": f"DQ{i}"},
            {"id": f"C{i}", "sex": 1, "father": f"DP{i}", "mother": f"DQ{i}"}])
        fams.append(ReferenceFamily(f"D{i}", ped, (f"A{i}", f"B{i}"),
                                    {f"C{i}": _geno(rng, markers)}))
    samples = [PostMortemSample(f"V{i}", _geno(rng, markers), Sex.UNKNOWN)
               for i in range(n_samples)]
    return DVICase(markers, samples, fams)


def _prepared(case):
    with quiet():
        prepared = prepare_case(case)
        return prepared, pairwise_lr(prepared)


def _level_sets(result, n):
    levels: dict[float, set] = {}
    for i in range(n):
        level = round(float(result.loglik[i]), 6)
        levels.setdefault(level, set()).add(tuple(result.assignments[i]))
    return levels


def _same_ranking(a, b, n):
    np.testing.assert_allclose(a.loglik[:n], b.loglik[:n], rtol=0, atol=1e-8)
    la, lb = _level_sets(a, n), _level_sets(b, n)
    last = round(float(a.loglik[n - 1]), 6)
    assert {k: v for k, v in la.items() if k != last} == {k: v for k, v in lb.items() if k != last}


def _check_bounds(bounded, exact):
    tol = 1e-9
    assert np.all(bounded.posterior_lower <= exact.posterior + tol)
    assert np.all(exact.posterior <= bounded.posterior_upper + tol)
    assert np.all(bounded.posterior_lower <= bounded.posterior + tol)
    assert np.all(bounded.posterior <= bounded.posterior_upper + tol)
    assert np.all(np.abs(bounded.posterior - exact.posterior) <= bounded.posterior_error + tol)
    if bounded.exact:
        np.testing.assert_allclose(bounded.posterior, exact.posterior, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_k_best_assignments_list_every_partial_matching_once_best_first(seed):
    """Murty's ranking (k_best_assignments) against every partial matching of a
    small weight matrix, enumerated: the same matchings, each once, with their
    values, in decreasing order (weights rounded to 0.1 so that values tie;
    -inf: pair not allowed)."""
    rng = np.random.default_rng(300 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    w = np.round(rng.normal(size=(n, m)), 1)
    w[rng.random((n, m)) < 0.25] = -np.inf
    every = {}
    options = [[UNASSIGNED] + [c for c in range(m) if np.isfinite(w[r, c])] for r in range(n)]
    for cols in itertools.product(*options):
        used = [c for c in cols if c != UNASSIGNED]
        if len(used) == len(set(used)):
            every[cols] = sum(float(w[r, c]) for r, c in enumerate(cols) if c != UNASSIGNED)
    values, rows = k_best_assignments(w, len(every) + 3)
    assert len(values) == len(every) and {tuple(r) for r in rows} == set(every)
    np.testing.assert_allclose(values, sorted(every.values(), reverse=True), rtol=0, atol=1e-12)
    np.testing.assert_allclose(values, [every[tuple(r)] for r in rows], rtol=0, atol=1e-12)
    k = max(1, len(every) // 3)
    top, _ = k_best_assignments(w, k)
    np.testing.assert_array_equal(top, values[:k])


@pytest.mark.parametrize("seed", range(6))
def test_murty_top_k_and_bounds_equal_enumeration(seed):
    rng = np.random.default_rng(100 + seed)
    prepared, pw = _prepared(_case(rng, n_single=5, n_double=0, n_samples=5))
    exact = joint_identification(prepared, pw, top=40, method="enumerate")
    for budget in (1, 10, 10_000):  # bounded, partly listed, completely listed
        bounded = joint_identification(prepared, pw, top=40, method="bound",
                                       posterior_assignments=budget)
        _same_ranking(bounded, exact, min(40, len(exact.loglik)))
        _check_bounds(bounded, exact)
    assert bounded.exact  # every assignment listed


@pytest.mark.parametrize("seed", range(4))
def test_branch_and_bound_top_k_and_bounds_equal_enumeration(seed):
    rng = np.random.default_rng(200 + seed)
    prepared, pw = _prepared(_case(rng, n_single=2, n_double=1, n_samples=4, n_markers=2))
    exact = joint_identification(prepared, pw, top=25, method="enumerate")
    for budget in (1, 20, 100_000):
        bounded = joint_identification(prepared, pw, top=25, method="bound",
                                       posterior_assignments=budget)
        _same_ranking(bounded, exact, min(25, len(exact.loglik)))
        _check_bounds(bounded, exact)
    assert bounded.exact


def test_recursion_bounds_contain_brute_force_posteriors():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n, m = rng.integers(1, 5), rng.integers(1, 5)
        b = np.exp(rng.normal(0, 3, size=(n, m))) * (rng.random((n, m)) < 0.8)
        lo, hi = vertex_deletion_bounds(b)
        post = np.zeros((n, m + 1))
        total = 0.0
        for choice in itertools.product(range(-1, m), repeat=n):
            used = [c for c in choice if c >= 0]
            if len(used) != len(set(used)):
                continue
            w = math.prod(b[s, c] for s, c in enumerate(choice) if c >= 0)
            total += w
            for s, c in enumerate(choice):
                post[s, c if c >= 0 else m] += w
        post /= total
        assert np.all(lo <= post + 1e-12) and np.all(post <= hi + 1e-12)


def test_count_matchings():
    rng = np.random.default_rng(3)
    for _ in range(20):
        allowed = rng.random((rng.integers(0, 6), rng.integers(0, 6))) < 0.6
        assert count_matchings(allowed) == count_assignments(allowed)
    full = np.ones((4, 3), dtype=bool)
    assert count_matchings(full) == sum(math.comb(4, k) * math.comb(3, k) * math.factorial(k)
                                        for k in range(4))


def _brute_posterior(pw, prepared, row_prior, allowed=None):
    """Bmarginal by brute force over every assignment with the joint likelihood of
    joint_identification (enumerated without prior) and an arbitrary row prior."""
    flat = joint_identification(prepared, pw, top=10**6, method="enumerate", allowed=allowed)
    n_cols = len(pw.missing)
    weights = np.array([row_prior(tuple(a)) for a in flat.assignments]) * np.exp(
        flat.loglik - flat.loglik[0])
    post = np.zeros((len(pw.samples), n_cols + 1))
    for a, w in zip(flat.assignments, weights):
        for s, c in enumerate(a):
            post[s, c if c != NOT_MISSING else n_cols] += w
    return post / weights.sum()


def test_missing_person_prior_against_brute_force():
    rng = np.random.default_rng(17)
    for seed in range(3):
        prepared, pw = _prepared(_case(np.random.default_rng(seed), 3, 1, 4, n_markers=2))
        n, n_cols = len(pw.samples), len(pw.missing)
        p = rng.uniform(0.05, 0.95, size=n_cols)

        def generative(a, p=p, n=n, n_cols=n_cols):
            # each m present with probability p_m, then equally likely any of the n samples,
            # given no two missing persons are the same sample
            present = {c for c in a if c != NOT_MISSING}
            return math.prod(p[c] / n if c in present else 1 - p[c] for c in range(n_cols))

        want = _brute_posterior(pw, prepared, generative)
        got = joint_identification(prepared, pw, missing_prior=p, method="enumerate")
        np.testing.assert_allclose(got.posterior, want, rtol=1e-9, atol=1e-12)
        bounded = joint_identification(prepared, pw, missing_prior=p, method="bound",
                                       posterior_assignments=3)
        assert np.all(bounded.posterior_lower <= want + 1e-9)
        assert np.all(want <= bounded.posterior_upper + 1e-9)
        # the ranking stays by likelihood
        flat = joint_identification(prepared, pw, method="enumerate")
        np.testing.assert_allclose(got.loglik, flat.loglik)


def test_pair_prior_against_brute_force():
    rng = np.random.default_rng(5)
    prepared, pw = _prepared(_case(rng, 4, 0, 4, n_markers=3))
    w = rng.uniform(0, 3, size=(len(pw.samples), len(pw.missing)))
    w[0, 1] = 0.0  # a pair ruled out a priori

    def prior(a):
        return math.prod(w[s, c] for s, c in enumerate(a) if c != NOT_MISSING)

    want = _brute_posterior(pw, prepared, prior)
    got = joint_identification(prepared, pw, prior=w, method="enumerate")
    np.testing.assert_allclose(got.posterior, want, rtol=1e-9, atol=1e-12)
    assert got.posterior[0, 1] == 0.0
    bounded = joint_identification(prepared, pw, prior=w, method="bound", posterior_assignments=5)
    assert np.all(bounded.posterior_lower <= want + 1e-9)
    assert np.all(want <= bounded.posterior_upper + 1e-9)
    # flat prior = all-ones odds
    ones = joint_identification(prepared, pw, prior=np.ones_like(w), method="enumerate")
    np.testing.assert_allclose(ones.posterior,
                               joint_identification(prepared, pw, method="enumerate").posterior)


def test_allowed_pairs_equal_nan_restriction():
    rng = np.random.default_rng(9)
    prepared, pw = _prepared(_case(rng, 3, 1, 4, n_markers=2))
    allowed = rng.random((len(pw.samples), len(pw.missing))) < 0.6
    got = joint_identification(prepared, pw, allowed=allowed, top=10**6)
    per_marker = pw.log_lr_per_marker.copy()
    per_marker[~allowed] = math.nan
    incompatible = pw.incompatible.copy()
    incompatible[~allowed] = -1
    old = joint_identification(prepared, replace(pw, log_lr_per_marker=per_marker,
                                                 incompatible=incompatible), top=10**6)
    assert got.n_assignments == old.n_assignments == count_assignments(allowed)
    _same_ranking(got, old, len(old.loglik))
    np.testing.assert_allclose(got.posterior, old.posterior)
    for a in got.assignments:
        assert all(c == NOT_MISSING or allowed[s, c] for s, c in enumerate(a))
    with pytest.raises(KinmatchError):
        joint_identification(prepared, pw, allowed=allowed[:, :-1])


@pytest.mark.slow
def test_chosei_sized_case_is_solved_jointly():
    """183 families with one missing person each and their 183 remains (24 STRs with a
    stepwise mutation model, so nearly every pair has LR > 0 and one component holds all)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from dvi_scale_bench import build_case

    case, truth = build_case(915, 183, np.random.default_rng(5))
    case = replace(case, samples=[s for s in case.samples if s.id in truth])
    prepared, pw = _prepared(case)
    assert np.isfinite(pw.log_lr).mean() > 0.9
    result = joint_identification(prepared, pw, top=10)  # timed by bench/dvi_chosei_bench.py
    assert len(result.components) == 1 and not result.exact
    assert np.all(np.diff(result.loglik) <= 1e-9)
    best = result.describe(0)
    correct = sum(1 for s, m in best.items() if m != "*"
                  and result.families[result.missing.index(m)] == truth[s])
    wrong = sum(1 for s, m in best.items() if m != "*"
                and result.families[result.missing.index(m)] != truth[s])
    assert correct >= 170 and wrong <= 5
    assert np.all(result.posterior_lower <= result.posterior + 1e-12)
    assert np.all(result.posterior <= result.posterior_upper + 1e-12)
    # most identifications are certified: posterior lower bound above 0.99
    certified = sum(result.posterior_lower[i, result.missing.index(m)] > 0.99
                    for i, (s, m) in enumerate(best.items()) if m != "*")
    assert certified >= 140
