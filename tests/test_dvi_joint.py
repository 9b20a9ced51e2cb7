"""Joint DVI against dvir's dviJoint and Bmarginal, and against brute force."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from dvir_cases import dvir_case_paths, load_dvir_case
from enumeration import brute_force_likelihood
from kinmatch.dvi import DVICase, PostMortemSample, ReferenceFamily, pairwise_lr, prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex, pedigree_from_records

PATHS = [p for p in dvir_case_paths() if load_dvir_case(p)[1].get("joint")
         and load_dvir_case(p)[0].families]


def _solve(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_case(case)
        return joint_identification(prepared, pairwise_lr(prepared))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_joint_equals_dvir(path):
    case, data = load_dvir_case(path)
    result = _solve(case)
    expected = data["joint"]
    assert result.n_assignments == expected["n"]
    rows = [r for r in expected["top"] if "loglik" in r]  # dvir lists -Inf rows without loglik
    n = min(len(rows), len(result.loglik))
    assert n >= min(5, len(rows))
    want = np.array([r["loglik"] for r in rows[:n]])
    np.testing.assert_allclose(result.loglik[:n], want, rtol=1e-9, atol=0)
    # The same assignments at every log-likelihood level (ties may be listed in any order).
    def level_sets(values, assignments):
        levels: dict[float, set] = {}
        for v, a in zip(values, assignments):
            levels.setdefault(round(float(v), 6), set()).add(tuple(sorted(a.items())))
        return levels
    got = level_sets(result.loglik[:n], [result.describe(i) for i in range(n)])
    exp = level_sets(want, [{s: r[s] for s in result.samples} for r in rows[:n]])
    last = round(float(want[-1]), 6)  # the last level may be cut off by the top-n limit
    assert {k: v for k, v in got.items() if k != last} == {k: v for k, v in exp.items() if k != last}
    # Posterior per sample and missing person (flat prior), dvir's Bmarginal.
    b = data["Bmarginal"]
    rows_idx = [result.samples.index(s) for s in b["rows"]]
    cols_idx = [result.missing.index(c) if c != "*" else len(result.missing) for c in b["cols"]]
    np.testing.assert_allclose(result.posterior[np.ix_(rows_idx, cols_idx)],
                               np.array(b["values"], dtype=float), rtol=0, atol=1e-8)


def _random_case(rng):
    k = 3
    alleles = [str(10 + i) for i in range(k)]
    markers = [Marker.create(f"M{j}", alleles, rng.dirichlet(np.ones(k) * 2)) for j in range(2)]
    fams = []
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "MP1", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "MP2", "sex": 2, "father": "F", "mother": "Mo"},
        {"id": "Sib", "sex": 1, "father": "F", "mother": "Mo"}])
    fams.append(ReferenceFamily("F1", ped, ("MP1", "MP2"),
                                {"Sib": {m.name: tuple(rng.choice(alleles, 2)) for m in markers}}))
    ped2 = pedigree_from_records([
        {"id": "Fa", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "MP3", "sex": 1, "father": "Fa", "mother": "Mo"}])
    fams.append(ReferenceFamily("F2", ped2, ("MP3",),
                                {"Mo": {m.name: tuple(rng.choice(alleles, 2)) for m in markers}}))
    samples = [PostMortemSample(f"V{i}", {m.name: tuple(rng.choice(alleles, 2)) for m in markers},
                                Sex(int(rng.integers(0, 3)))) for i in range(3)]
    return DVICase(markers, samples, fams)


def _brute_assignment_likelihood(case, assignment):
    """L(a) by brute force: each family with its placed samples, times unplaced samples."""
    total = 1.0
    for fam in case.families:
        for marker in case.markers:
            g = {pid: tuple(marker.allele_index(a) for a in p[marker.name])
                 for pid, p in fam.profiles.items()}
            for s, mp in assignment.items():
                if mp in fam.missing:
                    sample = next(x for x in case.samples if x.id == s)
                    g[mp] = tuple(marker.allele_index(a) for a in sample.profile[marker.name])
            total *= brute_force_likelihood(fam.pedigree, marker, g)
    single = pedigree_from_records([{"id": "S", "sex": 1}])
    for sample in case.samples:
        if assignment[sample.id] == "*":
            for marker in case.markers:
                g = tuple(marker.allele_index(a) for a in sample.profile[marker.name])
                total *= brute_force_likelihood(single, marker, {"S": g})
    return total


def test_joint_equals_brute_force_on_random_small_cases():
    rng = np.random.default_rng(11)
    for _ in range(6):
        case = _random_case(rng)
        result = _solve(case)
        missing = [m for f in case.families for m in f.missing]
        sex_of = {m: f.pedigree.sex(m) for f in case.families for m in f.missing}
        likelihoods = {}
        for choice in itertools.product(["*"] + missing, repeat=len(case.samples)):
            used = [c for c in choice if c != "*"]
            if len(used) != len(set(used)):
                continue
            if any(c != "*" and s.sex != Sex.UNKNOWN and s.sex != sex_of[c]
                   for s, c in zip(case.samples, choice)):
                continue
            a = {s.id: c for s, c in zip(case.samples, choice)}
            likelihoods[choice] = _brute_assignment_likelihood(case, a)
        assert result.n_assignments == len(likelihoods)
        total = sum(likelihoods.values())
        best = max(likelihoods.values())
        assert math.exp(result.loglik[0]) == pytest.approx(best, rel=1e-10)
        for i in range(len(result.loglik)):
            choice = tuple(result.describe(i)[s.id] for s in case.samples)
            assert math.exp(result.loglik[i]) == pytest.approx(likelihoods[choice], rel=1e-10)
        for s, sample in enumerate(case.samples):
            for c, mp in enumerate(result.missing):
                p = sum(v for ch, v in likelihoods.items() if ch[s] == mp) / total
                assert result.posterior[s, c] == pytest.approx(p, rel=1e-9, abs=1e-14)
            p_none = sum(v for ch, v in likelihoods.items() if ch[s] == "*") / total
            assert result.posterior[s, -1] == pytest.approx(p_none, rel=1e-9, abs=1e-14)
