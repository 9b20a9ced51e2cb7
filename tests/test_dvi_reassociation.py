"""Fragment re-association: identity LRs, clustering and merged profiles.

Identity LRs are checked against closed forms (Hardy–Weinberg at θ = 0, NRC
II 4.10a/b with θ) and against brute force: P(g1, g2 | same) / P(g1, g2 |
unrelated) by explicit enumeration of the ordered Balding–Nichols sampling
sequences (two draws for one person, four for two). Clustering is checked on
a simulated case whose truth is known, and merging by running the pairwise
LRs on the merged case and on the same case built by hand.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
import pytest

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.dvi.reassociation import (
    DEFAULT_IDENTITY_THRESHOLD,
    DEFAULT_MAX_MISMATCHES,
    degraded_identity_log_lr,
    identity_lr,
    merge_fragments,
    merged_sample,
    reassociate,
)
from kinmatch.errors import KinmatchError, KinmatchWarning
from kinmatch.likelihood.population import genotype_log_probabilities
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex, pedigree_from_records

LN10 = math.log(10.0)


def _marker(name, freqs, chromosome="autosomal"):
    return Marker.create(name, [str(10 + i) for i in range(len(freqs))], freqs,
                         chromosome=chromosome)


def _case(markers, profiles, theta=0.0, sexes=None, families=()):
    sexes = sexes or {}
    samples = [PostMortemSample(sid, prof, sexes.get(sid, Sex.UNKNOWN))
               for sid, prof in profiles.items()]
    return DVICase(list(markers), samples, list(families), theta=theta)


# --------------------------------------------------------------------------- brute force


def _sequence_probability(seq, p, theta):
    """Balding–Nichols: draw j (1-based) is a with (n_a θ + (1-θ) p_a) / (1 + (j-2) θ)."""
    seen = Counter()
    prob = 1.0
    for j, a in enumerate(seq, start=1):
        prob *= (seen[a] * theta + (1 - theta) * p[a]) / (1 + (j - 2) * theta)
        seen[a] += 1
    return prob


def _brute_force_identity_lr(g1, g2, p, theta, hemizygous=False):
    """P(g1, g2 | same person) / P(g1, g2 | unrelated), by enumerating sampling sequences."""
    n = len(p)
    ploidy = 1 if hemizygous else 2

    def genotype(seq):
        return tuple(sorted(seq)) if ploidy == 2 else (seq[0], seq[0])

    same = sum(_sequence_probability(seq, p, theta)
               for seq in itertools.product(range(n), repeat=ploidy)
               if genotype(seq) == g1 and g1 == g2)
    unrelated = sum(_sequence_probability(seq, p, theta)
                    for seq in itertools.product(range(n), repeat=2 * ploidy)
                    if genotype(seq[:ploidy]) == g1 and genotype(seq[ploidy:]) == g2)
    return same / unrelated


def test_sampling_sequences_are_a_distribution():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    for theta in (0.0, 0.05, 0.3):
        for length in (1, 2, 3, 4):
            total = sum(_sequence_probability(seq, p, theta)
                        for seq in itertools.product(range(4), repeat=length))
            assert total == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("theta", [0.0, 0.02, 0.1, 0.3])
def test_identity_lr_equals_brute_force_enumeration(theta):
    freqs = np.array([0.05, 0.15, 0.3, 0.5])
    marker = _marker("M", freqs)
    genotypes = [(a, b) for a in range(4) for b in range(a, 4)]
    profiles = {f"G{a}{b}": {"M": (marker.alleles[a], marker.alleles[b])} for a, b in genotypes}
    result = identity_lr(_case([marker], profiles, theta=theta))
    p = marker.allele_frequencies
    for i, g1 in enumerate(genotypes):
        # the numerator, two draws, is kinmatch's one-person genotype probability
        two = sum(_sequence_probability(seq, p, theta)
                  for seq in itertools.product(range(4), repeat=2) if tuple(sorted(seq)) == g1)
        assert math.log(two) == pytest.approx(genotype_log_probabilities(p, *g1, theta), abs=1e-13)
        for j, g2 in enumerate(genotypes):
            if i == j:
                assert math.isnan(result.log_lr[i, j])
                continue
            want = _brute_force_identity_lr(g1, g2, p, theta)
            assert g1 != g2 and want == 0.0
            assert result.lr[i, j] == 0.0 and result.n_mismatches[i, j] == 1
    # a match: two samples with the same genotype
    for g in genotypes:
        alleles = (marker.alleles[g[0]], marker.alleles[g[1]])
        pair = identity_lr(_case([marker], {"A": {"M": alleles}, "B": {"M": alleles}},
                                 theta=theta))
        want = _brute_force_identity_lr(g, g, p, theta)
        assert pair.lr[0, 1] == pytest.approx(want, rel=1e-12)
        assert pair.log_lr_concordant[1, 0] == pytest.approx(math.log(want), rel=1e-12)
        assert pair.n_compared[0, 1] == 1 and pair.n_mismatches[0, 1] == 0


@pytest.mark.parametrize("theta", [0.0, 0.03, 0.2])
def test_x_linked_male_pair_equals_brute_force(theta):
    freqs = np.array([0.1, 0.25, 0.65])
    x = _marker("X1", freqs, chromosome="X")
    p = x.allele_frequencies
    for a in range(3):
        prof = {"X1": (x.alleles[a],)}
        male = identity_lr(_case([x], {"A": prof, "B": prof}, theta=theta,
                                 sexes={"A": Sex.MALE, "B": Sex.MALE}))
        want = _brute_force_identity_lr((a, a), (a, a), p, theta, hemizygous=True)
        assert want == pytest.approx(1 / (theta + (1 - theta) * p[a]), rel=1e-13)
        assert male.lr[0, 1] == pytest.approx(want, rel=1e-12)
        # one male, one of unknown sex: the same person would be male too
        half = identity_lr(_case([x], {"A": prof, "B": prof}, theta=theta,
                                 sexes={"A": Sex.MALE}))
        assert half.lr[0, 1] == pytest.approx(want, rel=1e-12)
        # two females, or sexes unknown: diploid homozygote
        female = identity_lr(_case([x], {"A": prof, "B": prof}, theta=theta,
                                   sexes={"A": Sex.FEMALE, "B": Sex.FEMALE}))
        assert female.lr[0, 1] == pytest.approx(
            _brute_force_identity_lr((a, a), (a, a), p, theta), rel=1e-12)


# --------------------------------------------------------------------------- closed forms


def test_closed_forms_without_theta():
    m1 = _marker("M1", [0.1, 0.2, 0.7])
    m2 = _marker("M2", [0.05, 0.95])
    case = _case([m1, m2], {"A": {"M1": ("10", "11"), "M2": ("10", "10")},
                            "B": {"M1": ("11", "10"), "M2": ("10",)}})
    result = identity_lr(case)
    het = 1 / (2 * 0.1 * 0.2)
    hom = 1 / 0.05 ** 2
    assert result.lr[0, 1] == pytest.approx(het * hom, rel=1e-13)
    assert result.log10_lr[1, 0] == pytest.approx(math.log10(het * hom), rel=1e-13)
    assert result.n_compared[0, 1] == 2 and result.n_mismatches[0, 1] == 0
    assert result.samples == ("A", "B") and result.markers == ("M1", "M2")


@pytest.mark.parametrize("theta", [0.01, 0.03, 0.1])
def test_nrc2_4_10_match_probabilities_with_theta(theta):
    p, q, r = 0.12, 0.3, 0.58
    m = _marker("M", [p, q, r])
    het = identity_lr(_case([m], {"A": {"M": ("10", "11")}, "B": {"M": ("10", "11")}},
                            theta=theta))
    hom = identity_lr(_case([m], {"A": {"M": ("12", "12")}, "B": {"M": ("12", "12")}},
                            theta=theta))
    # NRC II (1996) 4.10b and 4.10a: conditional match probabilities
    match_het = (2 * (theta + (1 - theta) * p) * (theta + (1 - theta) * q)
                 / ((1 + theta) * (1 + 2 * theta)))
    match_hom = ((2 * theta + (1 - theta) * r) * (3 * theta + (1 - theta) * r)
                 / ((1 + theta) * (1 + 2 * theta)))
    assert het.lr[0, 1] == pytest.approx(1 / match_het, rel=1e-13)
    assert hom.lr[0, 1] == pytest.approx(1 / match_hom, rel=1e-13)
    # θ makes a match less surprising
    no_theta = identity_lr(_case([m], {"A": {"M": ("10", "11")}, "B": {"M": ("10", "11")}}))
    assert het.lr[0, 1] < no_theta.lr[0, 1]


def test_mismatch_gives_lr_zero_and_is_counted():
    m1, m2, m3 = (_marker(f"M{i}", [0.2, 0.3, 0.5]) for i in (1, 2, 3))
    case = _case([m1, m2, m3], {"A": {"M1": ("10", "11"), "M2": ("10", "12"), "M3": ("12", "12")},
                                "B": {"M1": ("10", "11"), "M2": ("11", "12"), "M3": ("11", "12")}})
    result = identity_lr(case)
    assert result.lr[0, 1] == 0.0 and result.log_lr[0, 1] == -math.inf
    assert result.n_compared[0, 1] == 3 and result.n_mismatches[0, 1] == 2
    # the LR over the agreeing marker alone is kept for screening
    assert math.exp(result.log_lr_concordant[0, 1]) == pytest.approx(1 / (2 * 0.2 * 0.3))


def test_untyped_markers_contribute_one():
    m1, m2, m3 = (_marker(f"M{i}", [0.2, 0.3, 0.5]) for i in (1, 2, 3))
    full = {"M1": ("10", "11"), "M3": ("12", "12")}
    case = _case([m1, m2, m3], {"A": {**full, "M2": ("10", "10")},  # M2 untyped in B
                                "B": dict(full),
                                "C": {"M1": ("10", "11"), "M2": ("11", "11")}})  # M3 untyped in C
    result = identity_lr(case)
    assert result.lr[0, 1] == pytest.approx(1 / (2 * 0.2 * 0.3) / 0.5 ** 2, rel=1e-13)
    assert result.n_compared[0, 1] == 2
    # B and C share only M1
    assert result.lr[1, 2] == pytest.approx(1 / (2 * 0.2 * 0.3), rel=1e-13)
    assert result.n_compared[1, 2] == 1 and result.n_mismatches[1, 2] == 0
    # nothing in common: LR 1, nothing compared
    empty = identity_lr(_case([m1, m2], {"A": {"M1": ("10", "11")}, "B": {"M2": ("10", "11")}}))
    assert empty.lr[0, 1] == 1.0 and empty.n_compared[0, 1] == 0
    assert empty.n_compared[0, 0] == 1  # the diagonal counts the typed markers


def test_known_sexes_that_differ_give_lr_zero():
    m = _marker("M", [0.2, 0.3, 0.5])
    x = _marker("X", [0.2, 0.3, 0.5], chromosome="X")
    prof = {"M": ("10", "11")}
    result = identity_lr(_case([m, x], {"A": prof, "B": prof, "C": prof,
                                        "D": {**prof, "X": ("10", "11")}},
                               sexes={"A": Sex.MALE, "B": Sex.FEMALE}))
    assert result.sex_conflict[0, 1] and result.lr[0, 1] == 0.0
    assert not result.sex_conflict[0, 2] and result.lr[0, 2] > 1
    # D is of unknown sex but heterozygous at an X-linked marker: female
    assert result.sex_conflict[0, 3] and not result.sex_conflict[1, 3]


def test_blocks_give_the_same_matrices_as_one_block():
    rng = np.random.default_rng(3)
    case = _simulated_case(rng, n_people=6, n_fragments=14, n_markers=8, keep=0.6)[0]
    case.theta = 0.02
    whole = identity_lr(case, chunk_size=10_000)
    for size in (1, 3, 5):
        part = identity_lr(case, chunk_size=size)
        np.testing.assert_array_equal(part.n_compared, whole.n_compared)
        np.testing.assert_array_equal(part.n_mismatches, whole.n_mismatches)
        np.testing.assert_allclose(part.log_lr_concordant, whole.log_lr_concordant,
                                   rtol=1e-13, atol=1e-13)
    assert np.allclose(whole.log_lr_concordant, whole.log_lr_concordant.T, equal_nan=True)
    with pytest.raises(KinmatchError):
        identity_lr(case, chunk_size=0)


# --------------------------------------------------------------------------- clustering


def _simulated_case(rng, n_people=10, n_fragments=25, n_markers=21, keep=0.7, n_alleles=8):
    """People with random genotypes from random frequencies, split into fragments
    that each lose markers at random (each fragment keeps at least one)."""
    markers = [_marker(f"L{k}", rng.dirichlet(np.ones(n_alleles))) for k in range(n_markers)]
    people = []
    for _ in range(n_people):
        people.append({m.name: tuple(rng.choice(m.alleles, 2, p=m.allele_frequencies))
                       for m in markers})
    owner = list(range(n_people)) + list(rng.integers(0, n_people, n_fragments - n_people))
    owner = [int(o) for o in rng.permutation(owner)]
    sexes = rng.integers(0, 3, n_people)
    profiles, truth, sex_of = {}, {}, {}
    for f, person in enumerate(owner):
        kept = [m.name for m in markers if rng.random() < keep] or [markers[0].name]
        fid = f"F{f + 1}"
        profiles[fid] = {name: people[person][name] for name in kept}
        truth.setdefault(person, []).append(fid)
        # some fragments have their sex determined, others not
        sex_of[fid] = Sex(int(sexes[person])) if rng.random() < 0.5 else Sex.UNKNOWN
    return _case(markers, profiles, sexes=sex_of), truth, people, markers


def test_simulated_fragments_are_reassociated_into_the_true_individuals():
    rng = np.random.default_rng(20240611)
    case, truth, people, _ = _simulated_case(rng)
    result = reassociate(case)
    assert result.threshold == DEFAULT_IDENTITY_THRESHOLD
    assert result.max_mismatches == DEFAULT_MAX_MISMATCHES == 0
    want = sorted(tuple(sorted(v, key=lambda s: int(s[1:]))) for v in truth.values())
    got = sorted(tuple(c.members) for c in result.clusters)
    assert got == want
    assert len(result.clusters) == 10 and sum(len(c.members) for c in result.clusters) == 25
    assert all(c.consistent for c in result.clusters)
    assert result.fragmented and not result.inconsistent
    # every link is a true pair with an LR over the threshold
    person_of = {f: p for p, frags in truth.items() for f in frags}
    for link in result.links:
        assert person_of[link.a] == person_of[link.b]
        assert link.log10_lr >= 6 and link.n_mismatches == 0 and link.n_compared >= 1
    # the matrix path finds the same clusters as the streamed one
    again = reassociate(case, identity=identity_lr(case), chunk_size=4)
    assert again.groups == result.groups and again.links == result.links
    # merged profiles are the people's profiles restricted to markers typed in any fragment
    merged = merge_fragments(case, result)
    assert len(merged.case.samples) == 10
    for sample in merged.case.samples:
        frags = merged.individuals[sample.id]
        assert sample.id == "+".join(frags)
        person = person_of[frags[0]]
        typed = {name for f in frags for name in case.samples[_index(case, f)].profile}
        assert set(sample.profile) == typed
        for name in typed:
            assert sorted(sample.profile[name]) == sorted(people[person][name])
    assert sorted(merged.fragment_to_individual) == sorted(s.id for s in case.samples)


@pytest.mark.parametrize("seed", range(8))
def test_heavy_marker_loss_splits_people_but_never_joins_two(seed):
    rng = np.random.default_rng(seed)
    case, truth, _, _ = _simulated_case(rng, n_markers=12, keep=0.4)
    person_of = {f: p for p, frags in truth.items() for f in frags}
    for threshold in (1e4, DEFAULT_IDENTITY_THRESHOLD):
        result = reassociate(case, threshold=threshold)
        for cluster in result.clusters:
            assert len({person_of[m] for m in cluster.members}) == 1
            assert cluster.consistent


def _index(case, sid):
    return [s.id for s in case.samples].index(sid)


def test_threshold_decides_links():
    m1, m2 = _marker("M1", [0.1, 0.2, 0.7]), _marker("M2", [0.1, 0.2, 0.7])
    # LR 1/(2·0.1·0.2) · 1/0.7² ≈ 51
    case = _case([m1, m2], {"A": {"M1": ("10", "11"), "M2": ("12", "12")},
                            "B": {"M1": ("10", "11"), "M2": ("12", "12")}})
    lr = 1 / (2 * 0.1 * 0.2) / 0.7 ** 2
    assert reassociate(case).groups == (("A",), ("B",))
    assert reassociate(case, threshold=lr).groups == (("A", "B"),)  # LR equal to the threshold
    assert reassociate(case, threshold=lr * 1.0001).groups == (("A",), ("B",))
    for bad in (0, -1, math.inf, math.nan, "x"):
        with pytest.raises(KinmatchError):
            reassociate(case, threshold=bad)
    for bad in (-1, 0.5, 1.0, "1", True):
        with pytest.raises(KinmatchError):
            reassociate(case, max_mismatches=bad)


def test_transitive_cluster_with_conflict_is_flagged_and_not_merged():
    markers = [_marker(f"M{i}", [0.05, 0.1, 0.15, 0.7]) for i in range(7)]
    g = ("10", "11")
    # A–B agree on M0–M2, B–C on M3–M5; A and C differ at M6, where B is untyped
    profiles = {
        "A": {"M0": g, "M1": g, "M2": g, "M6": ("10", "10")},
        "B": {"M0": g, "M1": g, "M2": g, "M3": g, "M4": g, "M5": g},
        "C": {"M3": g, "M4": g, "M5": g, "M6": ("12", "13")},
        "D": {"M0": ("13", "13")},
    }
    case = _case(markers, profiles)
    result = reassociate(case, threshold=1e3)
    assert result.groups == (("A", "B", "C"), ("D",))
    bad = result.inconsistent
    assert len(bad) == 1 and bad[0].members == ("A", "B", "C")
    cluster = bad[0]
    assert not cluster.consistent and not cluster.sex_conflict
    assert [c.marker for c in cluster.marker_conflicts] == ["M6"]
    assert dict(cluster.marker_conflicts[0].genotypes) == {"A": ("10", "10"), "C": ("12", "13")}
    assert cluster.conflicting_pairs == (("A", "C"),)
    assert {(lk.a, lk.b) for lk in cluster.links} == {("A", "B"), ("B", "C")}
    assert "M6" in cluster.describe()
    with pytest.raises(KinmatchError, match="inconsistent"):
        merged_sample(case, cluster)
    with pytest.raises(KinmatchError, match="inconsistent"):
        merge_fragments(case, result, on_inconsistent="raise")
    with pytest.warns(KinmatchWarning, match="not merged"):
        merged = merge_fragments(case, result)
    assert [s.id for s in merged.case.samples] == ["A", "B", "C", "D"]
    assert merged.unmerged == (cluster,)
    assert merged.individuals == {"A": ("A",), "B": ("B",), "C": ("C",), "D": ("D",)}


def test_sex_conflict_is_linked_and_flagged():
    markers = [_marker(f"M{i}", [0.05, 0.1, 0.85]) for i in range(4)]
    prof = {f"M{i}": ("10", "11") for i in range(4)}
    case = _case(markers, {"A": prof, "B": prof, "C": prof},
                 sexes={"A": Sex.MALE, "B": Sex.FEMALE})
    ident = identity_lr(case)
    assert ident.lr[0, 1] == 0.0 and ident.lr[0, 2] > 1e6
    result = reassociate(case)
    assert result.groups == (("A", "B", "C"),)
    cluster = result.clusters[0]
    assert cluster.sex_conflict and not cluster.consistent and not cluster.marker_conflicts
    assert cluster.conflicting_pairs == (("A", "B"),) and cluster.sex == Sex.UNKNOWN
    assert any(lk.sex_conflict for lk in cluster.links)
    # without B, A and C merge into a male
    ok = reassociate(_case(markers, {"A": prof, "C": prof}, sexes={"A": Sex.MALE}))
    assert ok.clusters[0].consistent and ok.clusters[0].sex == Sex.MALE


def test_unknown_sex_heterozygous_at_x_conflicts_with_a_male():
    auto = [_marker(f"M{i}", [0.05, 0.1, 0.85]) for i in range(4)]
    x = _marker("X1", [0.3, 0.7], chromosome="X")
    prof = {f"M{i}": ("10", "11") for i in range(4)}
    case = _case([*auto, x], {"A": prof, "B": {**prof, "X1": ("10", "11")}},
                 sexes={"A": Sex.MALE})
    cluster = reassociate(case).clusters[0]
    assert cluster.members == ("A", "B") and cluster.sex_conflict and not cluster.consistent


def test_allowing_mismatches_links_for_review_only():
    markers = [_marker(f"M{i}", [0.05, 0.1, 0.85]) for i in range(6)]
    prof = {f"M{i}": ("10", "11") for i in range(6)}
    other = {**prof, "M5": ("10", "10")}
    case = _case(markers, {"A": prof, "B": other})
    assert reassociate(case).groups == (("A",), ("B",))
    loose = reassociate(case, max_mismatches=1)
    assert loose.groups == (("A", "B"),)
    assert loose.links[0].n_mismatches == 1
    assert loose.links[0].log10_lr == pytest.approx(5 * math.log10(1 / (2 * 0.05 * 0.1)))
    assert loose.inconsistent == loose.clusters
    assert [c.marker for c in loose.clusters[0].marker_conflicts] == ["M5"]


# --------------------------------------------------------------------------- merged cases


def _family():
    ped = pedigree_from_records([
        {"id": "Fa", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "MP", "sex": 1, "father": "Fa", "mother": "Mo"},
        {"id": "MP2", "sex": 2, "father": "Fa", "mother": "Mo"}])
    return ped


def test_merged_case_gives_the_pairwise_lrs_of_the_hand_built_case():
    freqs = [0.1, 0.15, 0.2, 0.25, 0.3]
    markers = [_marker(f"M{i}", freqs) for i in range(6)]
    fa = {"M0": ("10", "11"), "M1": ("12", "13"), "M2": ("10", "14"), "M3": ("11", "12"),
          "M4": ("13", "14"), "M5": ("10", "10")}
    mo = {"M0": ("12", "13"), "M1": ("10", "14"), "M2": ("11", "12"), "M3": ("13", "13"),
          "M4": ("10", "11"), "M5": ("12", "14")}
    child = {"M0": ("10", "12"), "M1": ("12", "14"), "M2": ("10", "11"), "M3": ("11", "13"),
             "M4": ("13", "10"), "M5": ("10", "12")}
    other = {"M0": ("14", "14"), "M1": ("11", "11"), "M2": ("13", "13"), "M3": ("10", "14"),
             "M4": ("12", "12"), "M5": ("11", "13")}
    fam = ReferenceFamily("F1", _family(), ("MP", "MP2"), {"Fa": fa, "Mo": mo})
    fragments = {
        "V1": {k: child[k] for k in ("M0", "M1", "M2", "M3")},
        "V2": {k: other[k] for k in ("M0", "M1", "M2", "M3", "M4")},
        "V3": {k: child[k] for k in ("M2", "M3", "M4")},
        "V4": {k: other[k] for k in ("M3", "M4", "M5")},
        "V5": {k: child[k] for k in ("M3", "M4", "M5")},
    }
    sexes = {"V1": Sex.MALE, "V2": Sex.UNKNOWN, "V3": Sex.UNKNOWN, "V5": Sex.MALE}
    case = _case(markers, fragments, theta=0.01, sexes=sexes, families=[fam])
    merged = merge_fragments(case, threshold=100)
    assert merged.individuals == {"V1+V3+V5": ("V1", "V3", "V5"), "V2+V4": ("V2", "V4")}
    hand = _case(markers, {"V1+V3+V5": child, "V2+V4": other}, theta=0.01,
                 sexes={"V1+V3+V5": Sex.MALE}, families=[fam])
    assert merged.case.samples == hand.samples
    assert merged.case.families == case.families and merged.case.theta == case.theta
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = pairwise_lr(prepare_case(merged.case))
        want = pairwise_lr(prepare_case(hand))
    assert got.samples == want.samples == ("V1+V3+V5", "V2+V4")
    np.testing.assert_array_equal(got.log_lr_per_marker, want.log_lr_per_marker)
    np.testing.assert_array_equal(got.incompatible, want.incompatible)
    assert got.log_lr[0, 0] > 0  # the merged child matches its family
    joint_got = joint_identification(prepare_case(merged.case), got)
    joint_want = joint_identification(prepare_case(hand), want)
    np.testing.assert_array_equal(joint_got.assignments, joint_want.assignments)
    np.testing.assert_allclose(joint_got.loglik, joint_want.loglik, rtol=1e-13)
    # the same from a prepared case, and with another separator
    again = merge_fragments(prepare_case(case), threshold=100, separator="_")
    assert [s.id for s in again.case.samples] == ["V1_V3_V5", "V2_V4"]
    # the merged individual's profile is richer than any fragment's
    assert pairwise_lr(prepare_case(case)).log_lr[0, 0] < got.log_lr[0, 0]


def test_merge_keeps_singletons_and_order_and_rejects_id_collisions():
    markers = [_marker(f"M{i}", [0.05, 0.1, 0.85]) for i in range(6)]
    prof = {f"M{i}": ("10", "11") for i in range(6)}
    lone = {"M0": ("12", "12")}
    case = _case(markers, {"S": lone, "A": prof, "T": lone | {"M1": ("10", "12")}, "B": prof})
    merged = merge_fragments(case)
    assert [s.id for s in merged.case.samples] == ["S", "A+B", "T"]
    assert merged.case.samples[0] is case.samples[0]
    clash = _case(markers, {"A": prof, "B": prof, "A+B": {"M0": ("12", "12")}})
    with pytest.raises(KinmatchError, match="collide"):
        merge_fragments(clash)
    with pytest.raises(KinmatchError):
        merge_fragments(case, reassociate(clash))
    with pytest.raises(KinmatchError):
        merge_fragments(case, on_inconsistent="ignore")


def test_many_samples_stream_in_bounded_blocks():
    rng = np.random.default_rng(5)
    case, truth, _, _ = _simulated_case(rng, n_people=300, n_fragments=600, n_markers=20,
                                        keep=0.8)
    result = reassociate(case, chunk_size=50)
    want = sorted(tuple(sorted(v, key=lambda s: int(s[1:]))) for v in truth.values())
    assert sorted(result.groups) == want


# --------------------------------------------------------------------------- degraded fragments


def _seen_after_dropout(genotype, d, rng):
    a, b = genotype
    if a == b:
        return (a,) if rng.random() > d * d else ()
    return tuple(x for x in (a, b) if rng.random() > d)


def _observation_probability(genotype, seen, d):
    """P(seen | genotype) with independent drop-out d per copy (no drop-in), by listing events."""
    a, b = genotype
    total = 0.0
    if a == b:
        for prob, surv in ((1 - d * d, {a}), (d * d, set())):
            total += prob * (surv == set(seen))
        return total
    for ka, kb in itertools.product([True, False], repeat=2):
        surv = ({a} if ka else set()) | ({b} if kb else set())
        total += (1 - d if ka else d) * (1 - d if kb else d) * (surv == set(seen))
    return total


@pytest.mark.parametrize("d1,d2", [(0.3, 0.0), (0.2, 0.4)])
def test_degraded_identity_lr_equals_enumeration(d1, d2):
    """theta = 0: LR = sum_G P(G) P(O1|G) P(O2|G) / [sum_G P(G) P(O1|G)] [sum_G P(G) P(O2|G)]."""

    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    marker = _marker("M", freqs)
    genotypes = [(a, b) for a in range(4) for b in range(a, 4)]
    prior = {g: (freqs[g[0]] ** 2 if g[0] == g[1] else 2 * freqs[g[0]] * freqs[g[1]])
             for g in genotypes}
    for seen1 in [(0,), (0, 2), (3,)]:
        for seen2 in [(0,), (0, 2), (1, 2)]:
            if d2 == 0 and len(seen2) == 1:
                seen2 = (seen2[0], seen2[0])
            names1 = [marker.alleles[a] for a in seen1]
            names2 = [marker.alleles[a] for a in seen2]
            case = DVICase([marker], [PostMortemSample("A", {"M": names1}, dropout=d1),
                                      PostMortemSample("B", {"M": names2}, dropout=d2)], [])
            prepared = prepare_case(case)
            got = degraded_identity_log_lr(prepared, 0, 1, 0)
            o2 = tuple(sorted(set(seen2)))
            w1 = {g: _observation_probability(g, seen1, d1) for g in genotypes}
            w2 = {g: (_observation_probability(g, o2, d2) if d2 > 0 else float(g == tuple(seen2)))
                  for g in genotypes}
            num = sum(prior[g] * w1[g] * w2[g] for g in genotypes)
            den = (sum(prior[g] * w1[g] for g in genotypes)
                   * sum(prior[g] * w2[g] for g in genotypes))
            if num == 0:
                assert got == -math.inf
            else:
                assert math.exp(got) == pytest.approx(num / den, rel=1e-12)


@pytest.mark.parametrize("theta", [0.0, 0.05])
def test_degraded_formula_reduces_to_the_match_lr_for_complete_samples(theta):
    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    marker = _marker("M", freqs)
    for g in [("10", "12"), ("11", "11")]:
        case = _case([marker], {"A": {"M": g}, "B": {"M": g}}, theta=theta)
        got = degraded_identity_log_lr(prepare_case(case), 0, 1, 0)
        want = _brute_force_identity_lr(tuple(sorted(int(a) - 10 for a in g)),
                                        tuple(sorted(int(a) - 10 for a in g)), freqs, theta)
        assert math.exp(got) == pytest.approx(want, rel=1e-12)


def test_degraded_fragments_are_reassociated_with_the_dropout_model():
    """Fragments that lost alleles (d = 0.3) mismatch as plain genotypes; with
    their drop-out probability they link to the right person, the clusters
    are the truth, and merged profiles are consistent with the people."""
    rng = np.random.default_rng(77)
    markers = [_marker(f"L{k}", rng.dirichlet(np.ones(8))) for k in range(24)]
    people = [{m.name: tuple(sorted(rng.choice(8, 2, p=m.allele_frequencies))) for m in markers}
              for _ in range(6)]
    d = 0.3
    samples, truth = [], {}
    for person in range(6):
        for f in range(3):
            fid = f"P{person}F{f}"
            profile = {}
            for m in markers:
                seen = _seen_after_dropout(people[person][m.name], d, rng)
                if seen:
                    profile[m.name] = [m.alleles[a] for a in seen]
            samples.append(PostMortemSample(fid, profile, dropout=d))
            truth.setdefault(person, []).append(fid)
    case = DVICase(markers, samples, [])
    plain = reassociate(DVICase(markers, [PostMortemSample(s.id, s.profile) for s in samples],
                                []))
    assert len(plain.clusters) > 6  # without the model, dropped alleles look like mismatches
    result = reassociate(case, threshold=1e6)
    want = sorted(tuple(v) for v in truth.values())
    assert sorted(tuple(c.members) for c in result.clusters) == want
    assert all(c.consistent for c in result.clusters)
    merged = merge_fragments(case, result)
    for sample in merged.case.samples:
        person = int(sample.id[1])
        assert sample.dropout <= d  # lost only if lost in every fragment typed there
        for m in markers:
            seen = sample.profile.get(m.name)
            if seen:
                assert {m.allele_index(a) for a in seen} <= set(people[person][m.name])


@pytest.mark.parametrize("theta", [0.0, 0.02])
def test_degraded_matrix_equals_the_pairwise_formula(theta):
    """identity_lr's rows for degraded samples (vectorised over the other
    samples, weights shared between pairs) equal the sum over markers of
    degraded_identity_log_lr for each pair, with an X marker read male for
    a male pair; a marker no genotype explains counts as a mismatch."""

    rng = np.random.default_rng(41)
    markers = [_marker(f"L{k}", rng.dirichlet(np.ones(6))) for k in range(5)]
    markers.append(_marker("X1", rng.dirichlet(np.ones(5)), chromosome="X"))
    samples = []
    for i in range(7):
        profile = {}
        for m in markers:
            a, b = sorted(rng.choice(m.n_alleles, 2))
            if m.is_x and i < 3:
                b = a
            if rng.random() < 0.85:
                profile[m.name] = [m.alleles[a]] if rng.random() < 0.3 else \
                    [m.alleles[a], m.alleles[b]]
        degraded = i % 3 != 2
        samples.append(PostMortemSample(f"S{i}", profile, Sex.MALE if i < 3 else Sex.UNKNOWN,
                                        dropout=0.2 if degraded else 0.0,
                                        dropin=0.01 if degraded else 0.0))
    case = DVICase(markers, samples, [], theta=theta)
    prepared = prepare_case(case)
    result = identity_lr(prepared)
    g = prepared.sample_genotypes
    checked = 0
    for s1, s2 in itertools.combinations(range(7), 2):
        if not (samples[s1].degraded or samples[s2].degraded):
            continue
        total, mismatches = 0.0, 0
        for k, m in enumerate(prepared.markers):
            if g[s1, k, 0] < 0 or g[s2, k, 0] < 0:
                continue
            hemi = m.is_x and (s1 < 3 or s2 < 3)
            value = degraded_identity_log_lr(prepared, s1, s2, k, hemi)
            if value == -math.inf:
                mismatches += 1
            else:
                total += value
        assert result.n_mismatches[s1, s2] == mismatches
        assert result.log_lr_concordant[s1, s2] == pytest.approx(total, rel=1e-12, abs=1e-12)
        assert result.log_lr_concordant[s2, s1] == pytest.approx(total, rel=1e-12, abs=1e-12)
        checked += 1
    assert checked >= 15
