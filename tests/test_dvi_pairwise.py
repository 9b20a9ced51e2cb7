"""DVI pairwise LRs and exclusion counts against dvir, the kinship engine and brute force.

Tolerance against dvir: the reference inputs store allele frequencies with 10
significant digits (``0.0002929967``), so each frequency carries a relative
rounding error of up to 5e-10, and an LR over 13–23 markers built from ~50
such frequencies inherits about 1e-9 of it (perturbing the frequencies of
dvi_icmp within their rounding moves LR(V1, M1) by up to 7e-10). We assert
5e-9 against dvir there, and 1e-12 against kinmatch's own independent paths
(whole-pedigree kinship LRs, brute-force enumeration) on the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import replace as dc_replace

import numpy as np
import pytest
from dvir_cases import (
    check_reference_cases_found,
    dvir_case_paths,
    load_dvir_case,
    params_or_absent,
)
from enumeration import brute_force_likelihood
from support import quiet

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.pairwise import PairwiseCache, pairwise_candidates, pairwise_lr
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import Individual, Pedigree, Sex, pedigree_from_records

RTOL_ROUNDED_INPUT = 5e-9
PATHS = [p for p in dvir_case_paths() if load_dvir_case(p)[0].families]


def _matrix(block):
    return np.array([[math.nan if v in (None, "NA") else v for v in row]
                     for row in block["values"]], dtype=float)


def _aligned(result, block, values):
    rows = [result.samples.index(r) for r in block["rows"]]
    cols = [result.missing.index(c) for c in block["cols"]]
    return values[np.ix_(rows, cols)]


def _solve(case):
    with quiet():
        return pairwise_lr(prepare_case(case))


def test_reference_cases_are_found():
    check_reference_cases_found(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_pairwise_lr_matrix_equals_dvir(path):
    case, data = load_dvir_case(path)
    result = _solve(case)
    expected = _matrix(data["pairwiseLR"])
    got = _aligned(result, data["pairwiseLR"], result.lr)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), "sex-mismatch pattern (NA) differs"
    zero = expected == 0
    assert np.all(got[zero] == 0)
    ok = ~np.isnan(expected) & ~zero
    rel = np.abs(got[ok] - expected[ok]) / expected[ok]
    assert rel.max(initial=0.0) <= RTOL_ROUNDED_INPUT, f"max relative error {rel.max():.3g}"


@pytest.mark.parametrize("path", params_or_absent(
    [p for p in PATHS if load_dvir_case(p)[1].get("exclusionMatrix")],
    "dvir's exclusion matrices"), ids=lambda p: p.stem)
def test_incompatibility_counts_equal_dvir_exclusion_matrix(path):
    case, data = load_dvir_case(path)
    result = _solve(case)
    expected = _matrix(data["exclusionMatrix"])
    got = _aligned(result, data["exclusionMatrix"], result.incompatible).astype(float)
    got[got < 0] = math.nan
    np.testing.assert_array_equal(got, expected)


def _renamed(ped, old, new):
    """The pedigree with person ``old`` called ``new``."""
    def r(pid):
        return new if pid == old else pid
    return Pedigree([Individual(r(x.id), x.sex, x.father and r(x.father), x.mother and r(x.mother))
                     for x in ped])


def _placement_hypotheses(fam, mp, sample):
    """H1: the family with the sample in ``mp``'s place; H2: the family (``mp``
    untyped, renamed) beside the sample as an unrelated person; and the profiles."""
    h1 = Hypothesis("H1", fam.pedigree)
    h2 = Hypothesis("H2", Pedigree(
        [*_renamed(fam.pedigree, mp, "__untyped__"), Individual(mp, fam.pedigree.sex(mp))]))
    profiles = {**{pid: dict(p) for pid, p in fam.profiles.items()}, mp: dict(sample.profile)}
    return [h1, h2], profiles


@pytest.mark.parametrize("name", ["dvi_planecrash.json", "dvi_symmetricSibs.json",
                                  "dvi_KETPchap484.json"])
def test_pairwise_lr_equals_whole_pedigree_kinship_lr(name, dvir_dataset):
    """LR(s, m) = L(F with s as m) / (L(F) L(s)), as a kinship LR of two pedigrees:
    H1 the family with the sample in m's place, H2 the family (m untyped, renamed)
    beside the sample as an unrelated person."""
    case, _ = dvir_dataset(name)
    result = _solve(case)
    markers = list(prepare_case(case).markers)
    for fam in case.families:
        for mp in fam.missing:
            c = result.missing.index(mp)
            for s, sample in enumerate(case.samples):
                if not result.sex_compatible[s, c]:
                    continue
                hypotheses, profiles = _placement_hypotheses(fam, mp, sample)
                want = kinship_lr(hypotheses, markers, profiles,
                                  reference="H2").total_log_lr("H1")
                got = result.log_lr[s, c]
                if math.isinf(want):
                    assert math.isinf(got) and got < 0
                else:
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


def _random_dvi(rng):
    k = int(rng.integers(2, 4))
    freqs = rng.dirichlet(np.ones(k) * 2)
    alleles = [str(10 + i) for i in range(k)]
    mutation = {"model": "equal", "rate": 0.05} if rng.random() < 0.5 else None
    marker = Marker.create("M", alleles, freqs, mutation=mutation)
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "MP", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "Sib", "sex": 2, "father": "F", "mother": "Mo"}])
    profiles = {}
    for pid in ("F", "Sib", "Mo"):
        if rng.random() < 0.6:
            profiles[pid] = {"M": tuple(rng.choice(alleles, 2))}
    samples = [PostMortemSample(f"V{i}", {"M": tuple(rng.choice(alleles, 2))},
                                Sex(int(rng.integers(0, 3)))) for i in range(3)]
    fam = ReferenceFamily("F1", ped, ("MP",), profiles)
    return DVICase([marker], samples, [fam]), marker, ped, profiles


def test_pairwise_lr_equals_brute_force_on_random_small_cases():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(25):
        case, marker, ped, profiles = _random_dvi(rng)
        result = _solve(case)
        idx = {pid: tuple(marker.allele_index(a) for a in p["M"]) for pid, p in profiles.items()}
        fam_l = brute_force_likelihood(ped, marker, idx)
        for s, sample in enumerate(case.samples):
            if sample.sex == Sex.FEMALE:
                assert math.isnan(result.log_lr[s, 0]) and result.incompatible[s, 0] == -1
                continue
            g = tuple(marker.allele_index(a) for a in sample.profile["M"])
            single = pedigree_from_records([{"id": "S", "sex": 1}])
            num = brute_force_likelihood(ped, marker, {**idx, "MP": g})
            den = fam_l * brute_force_likelihood(single, marker, {"S": g})
            if den == 0:
                continue
            lr = num / den
            got = result.lr[s, 0]
            assert got == pytest.approx(lr, rel=1e-12, abs=1e-300)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
@pytest.mark.parametrize("chunk_size", [3, 2048])
def test_screening_candidates_equal_the_dense_matrix(path, chunk_size):
    """pairwise_candidates (sparse product, chunked, top-K) gives each
    sample's best missing persons with the dense matrix's LRs and counts."""
    case, _ = load_dvir_case(path)
    with quiet():
        prepared = prepare_case(case)
        dense = pairwise_lr(prepared)
        top = 3
        cand = pairwise_candidates(prepared, top=top, chunk_size=chunk_size)
    log_lr = np.where(np.isnan(dense.log_lr), -np.inf, dense.log_lr)
    k = min(top, len(dense.missing))
    for s in range(len(dense.samples)):
        expected = np.sort(log_lr[s])[::-1][:k]
        got = cand.log_lr[s, :k]
        finite = np.isfinite(expected)
        assert np.array_equal(finite, np.isfinite(got))
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-9)
        for j in np.flatnonzero(finite):
            m = cand.missing_index[s, j]
            assert log_lr[s, m] == pytest.approx(got[j], rel=1e-12, abs=1e-9)
            assert cand.incompatible[s, j] == dense.incompatible[s, m]


@pytest.mark.parametrize("name", ["dvi_planecrash.json", "dvi_sim_30fam_50pm.json"])
@pytest.mark.parametrize("dropout,dropin", [(0.2, 0.0), (0.35, 0.05)])
def test_degraded_samples_equal_whole_pedigree_kinship_lr(name, dropout, dropin, dvir_dataset):
    """With drop-out / drop-in, the pairwise LR (matrix products over the
    true genotypes) equals the kinship LR of the whole pedigrees with the
    sample as an Observation; a complete sample (d = c = 0) is unchanged."""

    case, _ = dvir_dataset(name)
    samples = list(case.samples[:4])
    degraded = [dc_replace(s, dropout=dropout, dropin=dropin) for s in samples[:3]]
    case = dc_replace(case, samples=[*degraded, samples[3]], families=case.families[:3])
    result = _solve(case)
    plain = _solve(dc_replace(case, samples=samples))
    np.testing.assert_array_equal(result.log_lr_per_marker[3], plain.log_lr_per_marker[3])
    markers = list(prepare_case(case).markers)
    for fam in case.families:
        for mp in fam.missing:
            c = result.missing.index(mp)
            for s, sample in enumerate(degraded):
                if not result.sex_compatible[s, c]:
                    continue
                hypotheses, profiles = _placement_hypotheses(fam, mp, sample)
                want = kinship_lr(hypotheses, markers, profiles, reference="H2",
                                  dropout={mp: dropout}, dropin={mp: dropin})
                got = result.log_lr_per_marker[s, c]
                np.testing.assert_allclose(got, want.log_lr("H1"), rtol=1e-11, atol=1e-11)


def test_screening_with_degraded_samples_equals_the_dense_matrix():
    case, _ = load_dvir_case(next(p for p in PATHS if p.name == "dvi_sim_30fam_50pm.json"))
    case = dc_replace(case, samples=[dc_replace(s, dropout=0.3) if i % 3 == 0 else s
                                     for i, s in enumerate(case.samples)])
    with quiet():
        prepared = prepare_case(case)
        dense = pairwise_lr(prepared)
        cand = pairwise_candidates(prepared, top=2, chunk_size=7)
    log_lr = np.where(np.isnan(dense.log_lr), -np.inf, dense.log_lr)
    for s in range(len(dense.samples)):
        for j in range(2):
            m = cand.missing_index[s, j]
            want = np.sort(log_lr[s])[::-1][j]
            if np.isneginf(want):
                assert m == -1 and np.isneginf(cand.log_lr[s, j])
                continue
            assert cand.log_lr[s, j] == pytest.approx(want, rel=1e-12)
            assert cand.incompatible[s, j] == dense.incompatible[s, m]


def test_silent_allele_marker_equals_whole_pedigree_kinship_lr():
    """At a marker with a silent allele a sample seen homozygous may be
    a/silent: the pairwise LR sums over both, as the kinship engine does."""
    freqs = [0.2, 0.3, 0.4, 0.1]
    marker = Marker.create("M", ["10", "11", "12", "silent"], freqs, silent_allele="silent",
                           mutation={"model": "equal", "rate": 0.01})
    plain = Marker.create("N", ["10", "11", "12"], [0.3, 0.3, 0.4])
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "MP", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "Sib", "sex": 2, "father": "F", "mother": "Mo"}])
    profiles = {"F": {"M": ("10",), "N": ("10", "11")}, "Sib": {"M": ("10", "12"), "N": ("11",)}}
    samples = [PostMortemSample("V1", {"M": ("10",), "N": ("10", "11")}, Sex.MALE),
               PostMortemSample("V2", {"M": ("12",), "N": ("12",)}, Sex.MALE),
               PostMortemSample("V3", {"M": ("10", "11"), "N": ("11",)}, Sex.MALE)]
    case = DVICase([marker, plain], samples, [ReferenceFamily("F1", ped, ("MP",), profiles)])
    result = _solve(case)
    for s, sample in enumerate(samples):
        h1 = Hypothesis("H1", ped)
        h2 = Hypothesis("H2", Pedigree([*_renamed(ped, "MP", "__untyped__"),
                                        Individual("MP", Sex.MALE)]))
        want = kinship_lr([h1, h2], [marker, plain], {**profiles, "MP": dict(sample.profile)},
                          reference="H2")
        np.testing.assert_allclose(result.log_lr_per_marker[s, 0], want.log_lr("H1"),
                                   rtol=1e-12, atol=1e-12)
    assert result.log_lr_per_marker[1, 0, 0] > -np.inf  # 12 vs father 10: possible via silent


def _sibling_families(rng, marker, n):
    """``n`` families, each a missing son and his typed sister (random genotype)."""
    families = []
    for i in range(n):
        ped = pedigree_from_records([
            {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
            {"id": f"MP{i}", "sex": 1, "father": "F", "mother": "Mo"},
            {"id": "Sib", "sex": 2, "father": "F", "mother": "Mo"}])
        families.append(ReferenceFamily(f"F{i}", ped, (f"MP{i}",),
                                        {"Sib": {"M": tuple(rng.choice(marker.alleles, 2))}}))
    return families


def test_case_larger_than_the_distribution_cache():
    """A case with more families than the family cache holds is computed
    whole (the cache keeps the latest families) and gives the same LRs."""
    rng = np.random.default_rng(21)
    case, marker, _, _ = _random_dvi(rng)
    case = dc_replace(case, families=_sibling_families(rng, marker, 7))
    want = pairwise_lr(prepare_case(case), cache=PairwiseCache()).log_lr
    cache = PairwiseCache(max_families=3)
    got = pairwise_lr(prepare_case(case), cache=cache).log_lr
    np.testing.assert_array_equal(got, want)
    assert cache.n_families == 3


def test_cache_reuses_unchanged_families_and_recomputes_changed_ones():
    """A family whose data did not change is taken from the cache (the same
    rows); one whose data changed is peeled again; the LRs are those of a
    computation without cache."""
    rng = np.random.default_rng(22)
    case, marker, _, _ = _random_dvi(rng)
    families = _sibling_families(rng, marker, 3)
    case = dc_replace(case, families=families)
    cache = PairwiseCache()
    first = pairwise_lr(prepare_case(case), cache=cache)
    assert cache.n_families == 3
    hom = [(a, a) for a in marker.alleles[:2]]
    new = hom[1] if tuple(sorted(families[0].profiles["Sib"]["M"])) == hom[0] else hom[0]
    changed = dc_replace(families[0], profiles={"Sib": {"M": new}})
    case2 = dc_replace(case, families=[changed, *families[1:]])
    again = pairwise_lr(prepare_case(case2), cache=cache)
    assert cache.n_families == 4  # the changed family is new, the others were reused
    np.testing.assert_array_equal(again.log_lr, pairwise_lr(prepare_case(case2)).log_lr)
    np.testing.assert_array_equal(again.log_lr[:, 1:], first.log_lr[:, 1:])
