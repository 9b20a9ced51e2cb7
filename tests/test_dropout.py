"""Drop-out and drop-in: the observation model against explicit enumeration,
and pedigree likelihoods against the exact engine summed over true genotypes."""

from __future__ import annotations

import itertools
import json as _json
import math

import numpy as np
import pytest
from enumeration import brute_force_likelihood
from support import run_cli

from kinmatch.errors import CaseFormatError, KinmatchError, MarkerError
from kinmatch.formats.case_json import format_case, parse_case
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.likelihood.dropout import (
    dropout_profile_loglik_curve,
    estimate_sample_dropout,
    population_observation_loglik,
)
from kinmatch.likelihood.observation import Observation, observation_factor
from kinmatch.likelihood.peeling import markers_loglik
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records
from kinmatch.relationships import parent_child, unrelated

FREQS = np.array([0.1, 0.25, 0.3, 0.35])
ALLELES = [str(i) for i in range(1, 5)]


def enumerate_observation(genotype, observed, d, c, dh=None, hemizygous=False):
    """P(observed set | genotype) by listing every drop-out and drop-in event.

    A heterozygote's two allele copies drop out independently with
    probability d; a homozygote's signal disappears with probability dh
    (default: both copies independently, d**2); a hemizygote's one copy with
    d. Then no drop-in (1 - c) or one drop-in allele x (c p_x) not among the
    survivors."""
    a, b = genotype
    events = []  # (probability, surviving set)
    if hemizygous:
        events = [(1 - d, {a}), (d, set())]
    elif a == b:
        h = d * d if dh is None else dh
        events = [(1 - h, {a}), (h, set())]
    else:
        for keep_a, keep_b in itertools.product([True, False], repeat=2):
            prob = (1 - d if keep_a else d) * (1 - d if keep_b else d)
            events.append((prob, ({a} if keep_a else set()) | ({b} if keep_b else set())))
    total = 0.0
    for prob, survivors in events:
        if survivors == set(observed):
            total += prob * (1 - c)
        for x in range(len(FREQS)):
            if x not in survivors and survivors | {x} == set(observed):
                total += prob * c * FREQS[x]
    return total


@pytest.mark.parametrize("observed", [(0,), (2,), (0, 1), (1, 3)])
@pytest.mark.parametrize("d,c,dh", [(0.3, 0.0, None), (0.1, 0.05, None), (0.6, 0.2, 0.5),
                                    (0.0, 0.1, None)])
def test_observation_factor_equals_enumeration(observed, d, c, dh):
    n = len(FREQS)
    second = observed[1] if len(observed) == 2 else -1
    dh_value = d * d if dh is None else dh
    got = observation_factor(FREQS[None], np.array([observed[0]]), np.array([second]),
                             np.array([d]), np.array([c]), np.array([dh_value]))[0]
    for i, j in itertools.product(range(n), repeat=2):
        want = enumerate_observation((i, j), observed, d, c, dh)
        assert got[i, j] == pytest.approx(want, abs=1e-15), (i, j)
    hemi = observation_factor(FREQS[None], np.array([observed[0]]), np.array([second]),
                              np.array([d]), np.array([c]), np.array([dh_value]),
                              hemizygous=True)[0]
    for i in range(n):
        assert hemi[i] == pytest.approx(enumerate_observation((i, i), observed, d, c,
                                                              hemizygous=True), abs=1e-15)


def _marker(mutation=None, chromosome="autosomal"):
    return Marker.create("M", ALLELES, FREQS, mutation=mutation, chromosome=chromosome)


def _family():
    return pedigree_from_records([
        {"id": "F", "father": None, "mother": None, "sex": 1},
        {"id": "M", "father": None, "mother": None, "sex": 2},
        {"id": "C", "father": "F", "mother": "M", "sex": 1},
        {"id": "S", "father": "F", "mother": "M", "sex": 2},
    ])


def _sum_over_true_genotypes(ped, marker, genotypes, person, obs, hemizygous=False):
    """sum_G L(data, person = G) P(O | G), each term from the brute-force engine."""
    n = marker.n_alleles
    total = 0.0
    pairs = [(i, i) for i in range(n)] if hemizygous else \
        [(i, j) for i in range(n) for j in range(i, n)]
    for g in pairs:
        lik = brute_force_likelihood(ped, marker, {**genotypes, person: g})
        total += lik * enumerate_observation(g, obs.alleles, obs.dropout, obs.dropin,
                                             obs.homozygote_dropout, hemizygous=hemizygous)
    return total


@pytest.mark.parametrize("mutation", [None, {"model": "equal", "rate": 0.05}])
@pytest.mark.parametrize("obs", [Observation((2,), 0.3), Observation((0, 3), 0.2, 0.05),
                                 Observation((1,), 0.5, 0.1, homozygote_dropout=0.4)])
def test_degraded_child_equals_the_sum_over_true_genotypes(mutation, obs):
    ped, marker = _family(), _marker(mutation)
    genotypes = {"F": (0, 2), "S": (1, 2)}
    got = markers_loglik(ped, [marker], [{**genotypes, "C": obs}])[0]
    want = _sum_over_true_genotypes(ped, marker, genotypes, "C", obs)
    assert math.exp(got) == pytest.approx(want, rel=1e-12)


def test_two_degraded_people_and_an_untyped_founder():
    ped, marker = _family(), _marker({"model": "proportional", "rate": 0.01})
    o_c, o_s = Observation((2,), 0.25, 0.02), Observation((0, 2), 0.1)
    got = math.exp(markers_loglik(ped, [marker], [{"F": (0, 2), "C": o_c, "S": o_s}])[0])
    n = marker.n_alleles
    want = 0.0
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    for gc in pairs:
        for gs in pairs:
            lik = brute_force_likelihood(ped, marker, {"F": (0, 2), "C": gc, "S": gs})
            want += (lik * enumerate_observation(gc, (2,), 0.25, 0.02)
                     * enumerate_observation(gs, (0, 2), 0.1, 0.0))
    assert got == pytest.approx(want, rel=1e-12)


def test_x_linked_degraded_son():
    ped, marker = _family(), _marker(chromosome="X")
    obs = Observation((1,), 0.3, 0.05)
    got = math.exp(markers_loglik(ped, [marker], [{"M": (1, 2), "C": obs}])[0])
    want = _sum_over_true_genotypes(ped, marker, {"M": (1, 2)}, "C", obs, hemizygous=True)
    assert got == pytest.approx(want, rel=1e-12)


def test_no_dropout_is_exactly_the_exact_model():
    ped, marker = _family(), _marker({"model": "stepwise", "rate": 0.01, "rate2": 1e-4,
                                      "range": 0.1})
    exact = markers_loglik(ped, [marker] * 2, [{"F": (0, 2), "C": (2, 3)},
                                               {"F": (1, 1), "C": (1, 1)}])
    observed = markers_loglik(ped, [marker] * 2,
                              [{"F": Observation((0, 2)), "C": Observation((2, 3), 0.0, 0.0)},
                               {"F": (1, 1), "C": Observation((1,))}])
    assert np.array_equal(exact, observed)


def test_dropout_explains_a_mendelian_inconsistency():
    """A father 1/1 and a 'child' seen as 2 only: impossible without drop-out
    and mutation; with drop-out the child may be 1/2 with allele 1 lost."""
    ped, marker = _family(), _marker()
    assert markers_loglik(ped, [marker], [{"F": (0, 0), "C": (1, 1)}])[0] == -math.inf
    d = 0.2
    got = math.exp(markers_loglik(ped, [marker], [{"F": (0, 0), "C": Observation((1,), d)}])[0])
    # P(F = 1/1) * P(C = 1/2 | F) * P(see {2} | 1/2): C's maternal allele is 2 with p_2
    p1, p2 = FREQS[0], FREQS[1]
    assert got == pytest.approx(p1 * p1 * p2 * d * (1 - d), rel=1e-12)


def test_observation_checks():
    with pytest.raises(KinmatchError):
        Observation((1, 1), 0.1)
    with pytest.raises(KinmatchError):
        Observation((1,), 1.0)
    assert Observation((2, 1)).genotype == (1, 2)


@pytest.mark.parametrize("d", [0.0, 0.1, 0.4])
@pytest.mark.parametrize("pa", [0.05, 0.3])
def test_paternity_index_with_a_degraded_child(d, pa):
    """Father a/b, child seen as a only, drop-out d (no drop-in):

        PI = {[p_a (1-d^2) + (1-p_a) d(1-d)]/2 + p_a d(1-d)/2}
             / [p_a^2 (1-d^2) + 2 p_a (1-p_a) d(1-d)]
    """

    marker = Marker.create("M", ["a", "b", "c"], [pa, 0.2, 0.8 - pa])
    result = kinship_lr([Hypothesis("paternity", parent_child("F", "C")),
                         Hypothesis("unrelated", unrelated("F", "C"))],
                        [marker], {"F": {"M": ["a", "b"]}, "C": {"M": ["a"]}},
                        dropout={"C": d})
    u = d * (1 - d)
    num = 0.5 * (pa * (1 - d * d) + (1 - pa) * u) + 0.5 * pa * u
    den = pa * pa * (1 - d * d) + 2 * pa * (1 - pa) * u
    assert result.lr("paternity")[0] == pytest.approx(num / den, rel=1e-12)


def test_maximum_likelihood_dropout_recovers_the_simulated_rate():
    """Profiles simulated with drop-out d = 0.3 over 400 markers: the ML
    estimate is within a few standard errors, and a complete profile gives 0."""

    rng = np.random.default_rng(11)
    markers = [Marker.create(f"M{i}", [str(a) for a in range(8)], rng.dirichlet(np.ones(8)))
               for i in range(400)]
    d_true = 0.3
    profile, complete = {}, {}
    for m in markers:
        g = rng.choice(8, size=2, p=m.allele_frequencies)
        complete[m.name] = [str(g[0]), str(g[1])]
        if g[0] == g[1]:
            seen = [g[0]] if rng.random() > d_true ** 2 else []
        else:
            seen = [a for a in g if rng.random() > d_true]
        if seen:
            profile[m.name] = [str(a) for a in seen]
    d_hat = estimate_sample_dropout(markers, profile)
    assert abs(d_hat - d_true) < 0.08
    grid = np.linspace(0, 0.9, 91)
    curve = dropout_profile_loglik_curve(markers, profile, grid)
    assert abs(grid[np.argmax(curve)] - d_hat) <= 0.011  # the grid agrees with the optimiser
    assert estimate_sample_dropout(markers, {k: v for k, v in complete.items()
                                             if v[0] != v[1]}) == 0.0


# ---------------------------------------------------------------------------
# Silent (null) alleles


def _silent_marker(silent_frequency=0.05, mutation=None):
    freqs = [*FREQS * (1 - silent_frequency), silent_frequency]
    return Marker.create("M", [*ALLELES, "silent"], freqs, silent_allele="silent",
                         mutation=mutation)


@pytest.mark.parametrize("ps", [0.0001, 0.05, 0.2])
def test_paternity_index_with_a_silent_allele(ps):
    """Father seen as a only (a/a or a/silent), child a/b:
    PI = (p_a + p_s) / (2 p_a (p_a + 2 p_s)); 1/(2 p_a) without the silent allele."""

    marker = _silent_marker(ps)
    pa = marker.allele_frequencies[0]
    result = kinship_lr([Hypothesis("paternity", parent_child("F", "C")),
                         Hypothesis("unrelated", unrelated("F", "C"))],
                        [marker], {"F": {"M": ["1"]}, "C": {"M": ["1", "2"]}})
    assert result.lr("paternity")[0] == pytest.approx((pa + ps) / (2 * pa * (pa + 2 * ps)),
                                                      rel=1e-12)


def test_a_silent_allele_turns_an_exclusion_into_a_small_lr():
    """Father seen a, child seen b: excluded without a silent allele; with one,
    both may carry it: PI = p_s / ((p_a + 2 p_s)(p_b + 2 p_s))."""

    hyps = [Hypothesis("paternity", parent_child("F", "C")),
            Hypothesis("unrelated", unrelated("F", "C"))]
    profiles = {"F": {"M": ["1"]}, "C": {"M": ["2"]}}
    plain = kinship_lr(hyps, [_marker()], profiles)
    assert plain.lr("paternity")[0] == 0.0
    marker = _silent_marker(0.03)
    pa, pb, ps = marker.allele_frequencies[[0, 1, 4]]
    result = kinship_lr(hyps, [marker], profiles)
    assert result.lr("paternity")[0] == pytest.approx(ps / ((pa + 2 * ps) * (pb + 2 * ps)),
                                                      rel=1e-12)


@pytest.mark.parametrize("mutation", [None, {"model": "equal", "rate": 0.05}])
def test_silent_allele_equals_the_sum_over_true_genotypes(mutation):
    """Everyone seen homozygous may carry the silent allele: the likelihood is
    the sum over their true genotypes (brute force treats 'silent' as an
    ordinary allele)."""
    marker = _silent_marker(0.08, mutation)
    ped = _family()
    seen = {"F": (0, 0), "C": (0, 2), "S": (2, 2)}
    got = math.exp(markers_loglik(ped, [marker], [seen])[0])
    sigma = marker.silent_index
    want = 0.0
    for gf in [(0, 0), (0, sigma)]:
        for gs in [(2, 2), (2, sigma)]:
            want += brute_force_likelihood(ped, marker, {"F": gf, "C": (0, 2), "S": gs})
    assert got == pytest.approx(want, rel=1e-12)


def test_silent_allele_with_dropout_equals_enumeration():
    marker = _silent_marker(0.1)
    n = marker.n_alleles
    sigma = marker.silent_index
    p = marker.allele_frequencies
    d, c = 0.3, 0.05
    got = observation_factor(p[None], np.array([1]), np.array([-1]), np.array([d]),
                             np.array([c]), np.array([d * d]), silent=np.array([sigma]))[0]
    for i, j in itertools.product(range(n), repeat=2):
        # enumerate copies: a silent copy never shows
        copies = [x for x in (i, j) if x != sigma]
        events = []
        if i == j and i != sigma:
            events = [(1 - d * d, {i}), (d * d, set())]
        elif not copies:
            events = [(1.0, set())]
        elif len(copies) == 1:
            events = [(1 - d, {copies[0]}), (d, set())]
        else:
            for ka, kb in itertools.product([True, False], repeat=2):
                events.append(((1 - d if ka else d) * (1 - d if kb else d),
                               ({i} if ka else set()) | ({j} if kb else set())))
        want = 0.0
        for prob, surv in events:
            if surv == {1}:
                want += prob * (1 - c)
            for x in range(n):
                if x != sigma and x not in surv and surv | {x} == {1}:
                    want += prob * c * p[x]
        assert got[i, j] == pytest.approx(want, abs=1e-15), (i, j)


def test_the_silent_allele_cannot_be_observed():
    marker = _silent_marker()
    with pytest.raises(MarkerError, match="silent"):
        markers_loglik(_family(), [marker], [{"F": (0, marker.silent_index)}])


# ---------------------------------------------------------------------------
# Drop-out in case files and on the command line


def _degraded_case_json(dropout):
    return {
        "format": "kinmatch-case", "version": 1,
        "markers": [{"name": "M", "alleles": ["a", "b", "c"], "frequencies": [0.2, 0.3, 0.5]},
                    {"name": "N", "alleles": ["a", "b"], "frequencies": [0.4, 0.6]}],
        "profiles": {"F": {"M": "a/b", "N": "a/a"}, "C": {"M": "a", "N": "b"}},
        "hypotheses": [
            {"name": "paternity", "pedigree": [{"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
                                               {"id": "C", "sex": 1, "father": "F",
                                                "mother": "Mo"}]},
            {"name": "unrelated", "pedigree": [{"id": "F", "sex": 1}, {"id": "C", "sex": 1}]}],
        "dropout": dropout,
    }


@pytest.mark.parametrize("dropout", [{"C": 0.2}, {"C": {"M": 0.3, "N": 0.1}}])
def test_case_file_dropout_reaches_the_lr(tmp_path, dropout):
    import json as _json

    from kinmatch.formats.case_json import parse_case
    from kinmatch.kinship.lr import kinship_lr

    text = _json.dumps(_degraded_case_json(dropout))
    case = parse_case(text, "degraded.json")
    assert case.dropout == dropout
    want = kinship_lr(case.hypotheses, case.markers, case.profiles, dropout=dropout)
    # without drop-out, N (father a/a, child b) excludes paternity; with it, it does not
    assert want.lr("paternity")[1] > 0
    again = parse_case(format_case(case), "again.json")
    assert again.dropout == dropout
    path = tmp_path / "degraded.json"
    path.write_text(text)
    out = run_cli("lr", str(path), "--json")
    assert out.exit_code == 0, out.output
    data = _json.loads(out.output)
    got = next(h["lr"] for h in data["hypotheses"] if h["name"] == "paternity")
    total = float(np.exp(want.total_log_lr("paternity")))
    assert got == pytest.approx(total, rel=1e-12)


def test_dropout_for_an_untyped_person_is_a_located_error():
    doc = _degraded_case_json({"X": 0.2})
    with pytest.raises(CaseFormatError, match=r"degraded.json.*dropout/X.*not typed"):
        parse_case(_json.dumps(doc, indent=1), "degraded.json")
    doc = _degraded_case_json({"C": 1.5})
    with pytest.raises(CaseFormatError, match="dropout"):
        parse_case(_json.dumps(doc, indent=1), "degraded.json")


def _brute_force_seen_probability(p, observed, d, c, theta):
    """sum over unordered genotypes G of P(G) P(O | G), enumerating which
    copies survive and whether one allele dropped in (independent of
    kinmatch.likelihood.observation_factor); and P(nothing seen)."""
    n = len(p)
    total = nothing = 0.0
    for i in range(n):
        for j in range(i, n):
            if i == j:
                prior = p[i] * (theta + (1 - theta) * p[i])
                survive = {frozenset({i}): 1 - d * d, frozenset(): d * d}  # d_hom = d^2
            else:
                prior = 2 * (1 - theta) * p[i] * p[j]
                survive = {frozenset({i, j}): (1 - d) ** 2, frozenset({i}): d * (1 - d),
                           frozenset({j}): d * (1 - d), frozenset(): d * d}
            for kept, ps in survive.items():
                if not kept:
                    nothing += prior * ps * (1 - c)
                if kept == observed:
                    total += prior * ps * (1 - c)
                for x in range(n):  # one drop-in allele not already seen
                    if x not in kept and kept | {x} == observed:
                        total += prior * ps * c * p[x]
    return total, nothing


@pytest.mark.parametrize("theta", [0.0, 0.02])
def test_population_observation_loglik_equals_enumeration(theta):
    rng = np.random.default_rng(5)
    markers = [Marker.create(f"M{i}", [str(a) for a in range(n)], rng.dirichlet(np.ones(n)))
               for i, n in enumerate((3, 6, 9, 4))]
    profile = {"M0": ["1"], "M1": ["2", "5"], "M2": ["7"], "M3": ["0", "3"]}
    for d, c in ((0.0, 0.0), (0.3, 0.0), (0.2, 0.05), (0.6, 0.1)):
        want = 0.0
        for m in markers:
            observed = frozenset(int(a) for a in profile[m.name])
            seen, nothing = _brute_force_seen_probability(m.allele_frequencies, observed, d, c,
                                                          theta)
            want += math.log(seen) - math.log(1 - nothing)
        got = population_observation_loglik(markers, profile, d, c, theta)
        assert got == pytest.approx(want, rel=1e-12)
