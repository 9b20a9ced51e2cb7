"""The θ (Balding–Nichols) founder factor and the peeling engine under θ.

The factor is built draw by draw for a batch of markers
(:func:`balding_nichols_founder_factors`); here it is checked against the
closed form over allele counts, entry by entry, and the engine's
likelihoods under θ (the urn's expansion over founder allele sources,
padded alphabets, loops, X markers, mutation, degraded observations, kept
founders) against brute-force enumeration.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from enumeration import brute_force_likelihood
from support import pedigree

from kinmatch.likelihood.network import (
    FRESH,
    build_network,
    marker_alphabet,
    pedigree_layout,
    polya_urn_sources,
)
from kinmatch.likelihood.observation import Observation
from kinmatch.likelihood.peeling import genotype_distribution, markers_loglik
from kinmatch.likelihood.population import (
    balding_nichols_founder_factor,
    balding_nichols_founder_factors,
)
from kinmatch.markers import Marker


def _closed_form(p: np.ndarray, alleles: tuple[int, ...], theta: float) -> float:
    """prod_a prod_{r < n_a} (r θ + (1 - θ) p_a) / prod_j (1 + (j - 2) θ)."""
    counts = np.bincount(alleles, minlength=len(p))
    num = math.prod((r * theta + (1 - theta) * p[a])
                    for a in range(len(p)) for r in range(counts[a]))
    den = math.prod(1 + (j - 2) * theta for j in range(1, len(alleles) + 1))
    return num / den


@pytest.mark.parametrize("seed", range(12))
def test_factor_equals_the_closed_form_over_counts(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    markers = 3
    p = rng.dirichlet(np.ones(n), markers) * rng.uniform(0.6, 1.0, (markers, 1))
    theta = float(rng.choice([1e-4, 0.01, 0.3, 0.9]))
    domains = []
    for _ in range(int(rng.integers(1, 6))):
        kind = rng.integers(3)
        if kind == 0:  # an untyped founder allele: the whole alphabet
            domains.append(np.broadcast_to(np.arange(n), (markers, n)))
        else:  # a typed founder's allele: its genotype, or one allele
            domains.append(rng.integers(0, n, (markers, 2 if kind == 1 else 1)))
    got = balding_nichols_founder_factors(p, domains, theta)
    assert got.shape == (markers, *(d.shape[1] for d in domains))
    for k in range(markers):
        single = balding_nichols_founder_factor(p[k], [d[k] for d in domains], theta)
        for index in itertools.product(*(range(d.shape[1]) for d in domains)):
            alleles = tuple(int(d[k, i]) for d, i in zip(domains, index))
            expected = _closed_form(p[k], alleles, theta)
            assert got[(k, *index)] == pytest.approx(expected, rel=1e-13, abs=0)
            assert single[index] == pytest.approx(expected, rel=1e-13, abs=0)


def test_factor_sums_to_one_over_the_whole_alphabet():
    p = np.array([[0.1, 0.2, 0.3, 0.4]])
    whole = np.broadcast_to(np.arange(4), (1, 4))
    for theta in (0.0, 0.05, 0.5):
        f = balding_nichols_founder_factors(p, [whole] * 5, theta)
        assert f.sum() == pytest.approx(1.0, rel=1e-13)


# a loop: a child of half-siblings, with an untyped grandparent and in-laws
LOOP = pedigree(("GF", None, None, 1), ("GM", None, None, 2), ("M2", None, None, 2),
                ("S", "GF", "GM", 1), ("D", "GF", "M2", 2), ("X", "S", "D", 1),
                ("Y", "S", "D", 2))
MODELS = [None, {"model": "equal", "rate": 0.02},
          {"model": "stepwise", "rate": 0.01, "rate2": 1e-4, "range": 0.2}]


@pytest.mark.parametrize("model", MODELS, ids=["none", "equal", "stepwise"])
@pytest.mark.parametrize("chromosome", ["autosomal", "X"])
@pytest.mark.parametrize("theta", [0.01, 0.3])
def test_looped_pedigree_equals_enumeration(model, chromosome, theta):
    rng = np.random.default_rng(7)
    marker = Marker.create("M", ["9", "10", "11", "12"], rng.dirichlet(np.ones(4) * 2),
                           chromosome=chromosome, mutation=model)
    x = chromosome == "X"
    data = {"X": (1, 1) if x else (1, 2), "Y": (0, 2), "M2": (2, 3)}
    got = markers_loglik(LOOP, [marker], [data], theta)[0]
    exact = brute_force_likelihood(LOOP, marker, data, theta)
    assert math.exp(got) == pytest.approx(exact, rel=1e-12)


def test_padding_a_theta_network_changes_nothing():
    """Padded alleles have frequency 0: no founder draws them, fresh or by
    copy, so padding (which lets markers of similar size share one
    contraction, as without θ) leaves the likelihood as it is."""
    marker = Marker.create("M", [str(a) for a in range(9)], np.full(9, 1 / 9),
                           mutation={"model": "stepwise", "rate": 0.01, "rate2": 1e-4,
                                     "range": 0.2})
    data = {"X": (1, 2), "Y": (0, 2), "M2": (2, 3)}
    layout = pedigree_layout(LOOP, frozenset(data), (), False)
    alpha = marker_alphabet(marker, data, layout, True)
    unpadded = build_network(layout, [alpha], alpha.size, 0.1)
    padded = build_network(layout, [alpha], 10, 0.1)
    a = float(unpadded.contract()[0]) * math.exp(unpadded.log_scale[0])
    b = float(padded.contract()[0]) * math.exp(padded.log_scale[0])
    assert a == pytest.approx(b, rel=1e-13)
    assert math.log(a) == pytest.approx(markers_loglik(LOOP, [marker], [data], 0.1)[0],
                                        rel=1e-13)


@pytest.mark.parametrize("seed", range(6))
def test_draws_sharing_an_axis_range_over_genotypes(seed):
    """An untyped founder's two alleles as one axis of unordered genotypes
    (a, b), a <= b: the entry is P(a, b, ...), one ordering."""
    rng = np.random.default_rng(seed)
    n, markers, theta = int(rng.integers(2, 5)), 2, float(rng.choice([0.01, 0.3]))
    p = rng.dirichlet(np.ones(n), markers)
    a, b = (np.broadcast_to(x, (markers, len(x))) for x in np.triu_indices(n))
    typed = rng.integers(0, n, (markers, 2))
    whole = np.broadcast_to(np.arange(n), (markers, n))
    domains, axes = [a, typed, b, whole, a, b], [0, 1, 0, 2, 3, 3]
    got = balding_nichols_founder_factors(p, domains, theta, axes)
    assert got.shape == (markers, len(a[0]), 2, n, len(a[0]))
    for k in range(markers):
        for index in itertools.product(*(range(s) for s in got.shape[1:])):
            alleles = tuple(int(d[k, index[x]]) for d, x in zip(domains, axes))
            assert got[(k, *index)] == pytest.approx(_closed_form(p[k], alleles, theta),
                                                     rel=1e-13, abs=0)


@pytest.mark.parametrize("theta", [0.05, 0.3])
def test_a_kept_founder_keeps_his_ordered_alleles(theta):
    """The genotype distribution of an untyped founder (who keeps both allele
    variables) equals enumeration with him typed as each genotype."""
    marker = Marker.create("M", ["9", "10", "11"], [0.2, 0.3, 0.5],
                           mutation={"model": "stepwise", "rate": 0.01, "rate2": 1e-4,
                                     "range": 0.2})
    data = {"X": (1, 2), "Y": (0, 2), "M2": (2, 2)}
    loglik, dist = genotype_distribution(LOOP, marker, data, "GF", theta)
    total = brute_force_likelihood(LOOP, marker, data, theta)
    assert math.exp(loglik) == pytest.approx(total, rel=1e-12)
    for g1, g2 in itertools.combinations_with_replacement(range(3), 2):
        joint = brute_force_likelihood(LOOP, marker, {**data, "GF": (g1, g2)}, theta)
        assert dist[g1, g2] == pytest.approx(joint / total, rel=1e-11, abs=1e-15)


# ---------------------------------------------------------------------------
# The urn's expansion (network.polya_urn_sources, network._polya_urn_expansion)

# three untyped founders, one of them with a single child, and a typed one
# (the shape of examples/missing_person.json), and a loop under two couples
FAMILY = pedigree(("F", None, None, 1), ("Mo", None, None, 2), ("C1", "F", "Mo", 1),
                  ("C2", "F", "Mo", 2), ("P", "F", "Mo", 1), ("W", None, None, 2),
                  ("G1", "C1", "W", 1), ("G2", "C1", "W", 2), ("H", None, None, 1),
                  ("G3", "H", "C2", 2))
COUSINS = pedigree(("GF", None, None, 1), ("GM", None, None, 2), ("S1", "GF", "GM", 1),
                   ("S2", "GF", "GM", 2), ("W1", None, None, 2), ("H2", None, None, 1),
                   ("C1", "S1", "W1", 1), ("C2", "H2", "S2", 2), ("X", "C1", "C2", 1))


@pytest.mark.parametrize("case", ["family", "family-typed-founder", "cousins", "unrelated"])
@pytest.mark.parametrize("model", MODELS, ids=["none", "equal", "stepwise"])
@pytest.mark.parametrize("chromosome", ["autosomal", "X"])
@pytest.mark.parametrize("theta", [0.01, 0.3])
def test_urn_expansion_equals_enumeration(case, model, chromosome, theta):
    """Untyped founders copying each other's alleles, one-child founders
    drawing one allele, typed founders drawn first, padded alphabets: the
    sum of the expansion's networks equals enumeration over every allele."""
    rng = np.random.default_rng(len(case) + 3)
    marker = Marker.create("M", ["9", "10", "11"], rng.dirichlet(np.ones(3) * 2),
                           chromosome=chromosome, mutation=model)
    x = chromosome == "X"
    if case.startswith("family"):
        ped = FAMILY
        data = {"C1": (0, 0) if x else (0, 1), "G1": (0, 0) if x else (0, 2),
                "G2": (1, 2), "G3": (2, 2), "P": (1, 1)}
        if case == "family-typed-founder":
            data["Mo"] = (0, 2)
    elif case == "cousins":
        ped = COUSINS
        data = {"X": (1, 1) if x else (1, 2), "C2": (0, 2), "W1": (2, 2), "H2": (0, 0)}
    else:  # two one-person families: drawn apart
        ped = pedigree(("A", None, None, 1), ("B", None, None, 2))
        data = {"A": (1, 1), "B": (1, 2)}
    got = markers_loglik(ped, [marker], [data], theta)[0]
    exact = brute_force_likelihood(ped, marker, data, theta)
    assert math.exp(got) == pytest.approx(exact, rel=1e-12)


def _seen_given(genotype: tuple[int, int], seen: tuple[int, ...], d: float) -> float:
    """P(seen alleles | genotype) with drop-out d and no drop-in (a homozygote's
    signal lost with d^2, each allele of a heterozygote with d)."""
    a, b = genotype
    if a == b:
        return 1 - d * d if seen == (a,) else 0.0
    if set(seen) == {a, b}:
        return (1 - d) ** 2
    if len(seen) == 1 and seen[0] in (a, b):
        return d * (1 - d)
    return 0.0


@pytest.mark.parametrize("theta", [0.05, 0.3])
@pytest.mark.parametrize("who", ["GM", "W1"])
def test_uncertain_founder_equals_enumeration_over_his_genotype(theta, who):
    """A founder typed with drop-out is a draw of the urn whose two alleles
    may copy earlier founders': the likelihood is Σ_g P(seen | g) P(data, g)."""
    marker = Marker.create("M", ["9", "10", "11"], [0.2, 0.3, 0.5],
                           mutation={"model": "stepwise", "rate": 0.02, "rate2": 1e-3,
                                     "range": 0.2})
    data = {"X": (1, 2), "C2": (0, 2), "H2": (0, 0)}
    seen, d = (1,), 0.25
    got = markers_loglik(COUSINS, [marker], [{**data, who: Observation(seen, dropout=d)}],
                         theta)[0]
    exact = sum(_seen_given((g1, g2), seen, d)
                * brute_force_likelihood(COUSINS, marker, {**data, who: (g1, g2)}, theta)
                for g1, g2 in itertools.combinations_with_replacement(range(3), 2))
    assert math.exp(got) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("theta", [0.05, 0.3])
def test_a_kept_founder_drawn_after_others_keeps_his_ordered_alleles(theta):
    """The kept founder (GM, drawn after GF) copies GF's alleles through
    identity factors, his own variables staying the output."""
    marker = Marker.create("M", ["9", "10", "11"], [0.2, 0.3, 0.5])
    data = {"X": (1, 2), "C2": (0, 2), "W1": (2, 2)}
    loglik, dist = genotype_distribution(COUSINS, marker, data, "GM", theta)
    total = brute_force_likelihood(COUSINS, marker, data, theta)
    assert math.exp(loglik) == pytest.approx(total, rel=1e-12)
    for g1, g2 in itertools.combinations_with_replacement(range(3), 2):
        joint = brute_force_likelihood(COUSINS, marker, {**data, "GM": (g1, g2)}, theta)
        assert dist[g1, g2] == pytest.approx(joint / total, rel=1e-11, abs=1e-15)


@pytest.mark.parametrize("draws", [(1, 1, 1, 1), (2, 2), (2, 1, 2), (2, 2, 2), (1, 2, 2, 1)])
@pytest.mark.parametrize("symmetric", [False, True])
def test_urn_sources_count_every_choice_once(draws, symmetric):
    """The multiplicities add up to the number of source choices: draw d has
    1 + (earlier draws of other founders) of them; a symmetric founder's
    pairs of choices are listed once with multiplicity 2."""
    founders = [f for f, k in enumerate(draws) for _ in range(k)]
    terms = polya_urn_sources(founders, [0] * len(founders),
                              [symmetric and draws[f] == 2 for f in founders])
    expected = math.prod(1 + sum(1 for e in range(d) if founders[e] != founders[d])
                         for d in range(len(founders)))
    assert sum(m for _, m in terms) == expected
    assert len({s for s, _ in terms}) == len(terms)
    if not symmetric:
        assert len(terms) == expected
    # one family per founder: nobody copies anybody
    alone = polya_urn_sources(founders, founders, [False] * len(founders))
    assert alone == [((FRESH,) * len(founders), 1)]


@pytest.mark.parametrize("theta", [0.01, 0.3])
def test_frequencies_summing_to_one_within_tolerance_are_drawn_as_p_over_their_sum(theta):
    """The urn is the Dirichlet-multinomial with α ∝ p, so under θ a marker
    whose frequencies sum to 1 + 8e-7 (accepted by the readers) gives
    exactly enumeration with p / Σp — whatever the order of the draws —
    while without θ its frequencies are used as they are."""
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.ones(3) * 2)
    loose = Marker.create("M", ["9", "10", "11"], p * (1 + 8e-7))
    exact = Marker.create("M", ["9", "10", "11"], p)
    assert abs(float(np.sum(loose.allele_frequencies)) - 1) > 5e-7
    data = {"C1": (0, 1), "G1": (0, 2), "G2": (1, 2), "G3": (2, 2), "P": (1, 1),
            "Mo": (0, 1)}
    got = markers_loglik(FAMILY, [loose], [data], theta)[0]
    assert math.isfinite(got)  # data consistent without mutation
    assert math.exp(got) == pytest.approx(brute_force_likelihood(FAMILY, exact, data, theta),
                                          rel=1e-12)
    plain = markers_loglik(FAMILY, [loose], [data], 0.0)[0]
    assert math.exp(plain) == pytest.approx(brute_force_likelihood(FAMILY, loose, data, 0.0),
                                            rel=1e-12)
