"""Joint DVI against dvir's dviJoint and Bmarginal, and against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from dvir_cases import dvir_case_paths, load_dvir_case, params_or_absent
from enumeration import brute_force_likelihood
from support import quiet, slow_param

from kinmatch.dvi import joint as joint_module
from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import Individual, Pedigree, Sex, pedigree_from_records

PATHS = [p for p in dvir_case_paths() if load_dvir_case(p)[1].get("joint")
         and load_dvir_case(p)[0].families]
#: dvir's datasets whose joint solution takes seconds (the slow tier)
SLOW_JOINT = {"dvi_icmp", "dvi_grave"}


def _solve(case):
    with quiet():
        prepared = prepare_case(case)
        return joint_identification(prepared, pairwise_lr(prepared))


@pytest.mark.parametrize("path", params_or_absent(
    [slow_param(p) if p.stem in SLOW_JOINT else p for p in PATHS], "dvir's joint solutions"),
    ids=lambda p: p.stem)
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
    assert ({k: v for k, v in got.items() if k != last}
            == {k: v for k, v in exp.items() if k != last})
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
        for choice in itertools.product(["*", *missing], repeat=len(case.samples)):
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
        for s in range(len(case.samples)):
            for c, mp in enumerate(result.missing):
                p = sum(v for ch, v in likelihoods.items() if ch[s] == mp) / total
                assert result.posterior[s, c] == pytest.approx(p, rel=1e-9, abs=1e-14)
            p_none = sum(v for ch, v in likelihoods.items() if ch[s] == "*") / total
            assert result.posterior[s, -1] == pytest.approx(p_none, rel=1e-9, abs=1e-14)


def test_multi_missing_family_with_degraded_samples_equals_brute_force():
    """Two missing brothers and degraded remains: the joint log-likelihood of
    each assignment (peeling with the samples as Observations) equals the
    whole-pedigree likelihood ratio computed by the kinship engine."""

    rng = np.random.default_rng(3)
    markers = [Marker.create(f"M{k}", [str(a) for a in range(5)], rng.dirichlet(np.ones(5) * 2))
               for k in range(4)]
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "B1", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "B2", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "S", "sex": 2, "father": "F", "mother": "Mo"}])
    profiles = {"Mo": {m.name: ("0", "1") for m in markers},
                "S": {m.name: ("1", "2") for m in markers}}
    samples = [PostMortemSample("V1", {m.name: ("1",) for m in markers}, Sex.MALE, dropout=0.3),
               PostMortemSample("V2", {m.name: ("0", "2") for m in markers}, Sex.MALE)]
    case = DVICase(markers, samples, [ReferenceFamily("F1", ped, ("B1", "B2"), profiles)])
    prepared = prepare_case(case)
    pw = pairwise_lr(prepared)
    result = joint_identification(prepared, pw, top=20)
    empty = next(i for i in range(len(result.loglik)) if np.all(result.assignments[i] < 0))
    checked = 0
    for row in range(len(result.loglik)):
        placed = {result.missing[c]: samples[s] for s, c in enumerate(result.assignments[row])
                  if c >= 0}
        if len(placed) < 2:
            continue
        # H1: both remains are the brothers; H0: the family and two unrelated people
        h1 = Hypothesis("H1", ped)
        others = [Individual(i.id if i.id not in placed else f"_{i.id}", i.sex,
                             None if i.father is None else i.father,
                             None if i.mother is None else i.mother) for i in ped]
        h0 = Hypothesis("H0", Pedigree(others + [Individual(m, Sex.MALE) for m in placed]))
        profs = {**profiles, **{m: dict(s.profile) for m, s in placed.items()}}
        dropout = {m: s.dropout for m, s in placed.items() if s.dropout}
        want = kinship_lr([h1, h0], markers, profs, reference="H0", dropout=dropout)
        assert result.loglik[row] - result.loglik[empty] == pytest.approx(
            want.total_log_lr("H1"), rel=1e-9, abs=1e-9)
        checked += 1
    assert checked == 2  # V1 = B1, V2 = B2 and the other way round


@pytest.mark.parametrize("mutation", [None, {"model": "equal", "rate": 0.01}])
def test_shared_conditional_peeling_equals_peeling_each_placement(monkeypatch, mutation):
    """Placements that differ only in their last sample share one peeling
    (the last missing person's distribution given the rest); with degraded
    remains, an X marker and mutation, the joint analysis is unchanged."""

    rng = np.random.default_rng(5)
    alleles = [str(a) for a in range(6)]
    markers = [Marker.create(f"M{k}", alleles, rng.dirichlet(np.ones(6) * 2), mutation=mutation)
               for k in range(3)]
    markers.append(Marker.create("X1", alleles, rng.dirichlet(np.ones(6) * 2), chromosome="X"))
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        *({"id": f"B{i}", "sex": 1 + (i == 3), "father": "F", "mother": "Mo"}
          for i in range(1, 4)),
        {"id": "S", "sex": 2, "father": "F", "mother": "Mo"}])

    def profile(sex):
        out = {m.name: tuple(rng.choice(alleles, 2)) for m in markers[:3]}
        x = rng.choice(alleles, 2)
        out["X1"] = (x[0],) if sex == Sex.MALE else tuple(x)
        return out

    samples = [PostMortemSample(f"V{i}", profile(Sex.MALE), Sex.MALE,
                                dropout=0.2 if i == 2 else 0.0) for i in range(5)]
    samples.append(PostMortemSample("V5", profile(Sex.FEMALE), Sex.FEMALE))
    case = DVICase(markers, samples,
                   [ReferenceFamily("F1", ped, ("B1", "B2", "B3"), {"S": profile(Sex.FEMALE)})])
    prepared = prepare_case(case)
    pw = pairwise_lr(prepared)
    peeled = []
    original = joint_module.pedigrees_genotype_distributions_packed

    def spy(jobs, *args, **kwargs):
        peeled.append(len(jobs))
        return original(jobs, *args, **kwargs)

    monkeypatch.setattr(joint_module, "pedigrees_genotype_distributions_packed", spy)
    monkeypatch.setattr(joint_module, "SHARED_PEELING_MIN", 1)
    shared = joint_identification(prepared, pw, top=50)
    assert sum(peeled) > 10  # the shared peeling was used
    monkeypatch.setattr(joint_module, "SHARED_PEELING_MIN", 10**9)
    each = joint_identification(prepared, pw, top=50)
    np.testing.assert_array_equal(shared.assignments, each.assignments)
    np.testing.assert_allclose(shared.loglik, each.loglik, rtol=1e-11)
    np.testing.assert_allclose(shared.posterior, each.posterior, rtol=1e-9, atol=1e-15)
