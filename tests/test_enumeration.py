"""The peeling engine against brute-force enumeration (tests/enumeration.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from enumeration import brute_force_likelihood
from support import pedigree, slow_param

from kinmatch.likelihood.peeling import genotype_distribution, marker_loglik
from kinmatch.markers import Marker
from kinmatch.relationships import (
    first_cousin_marriage_child,
    full_siblings,
    half_siblings,
    parent_child,
    sibling_mating_child,
    unrelated,
)

FREQS = [0.1, 0.2, 0.3, 0.4]
ALLELES = ["10", "11", "12", "13"]
MODELS = {
    "none": None,
    "equal": {"model": "equal", "rate": 0.05},
    "proportional": {"model": "proportional", "rate": 0.05},
    "stepwise": {"model": "stepwise", "rate": 0.05, "rate2": 0.01, "range": 0.5},
    "onestep": {"model": "onestep", "rate": 0.05},
    "sexspecific": {"female": {"model": "equal", "rate": 0.02},
                    "male": {"model": "stepwise", "rate": 0.08, "rate2": 0.01, "range": 0.3}},
}

TRIO = pedigree(("F", None, None, 1), ("M", None, None, 2), ("C", "F", "M", 1))
THREE_GEN = pedigree(("GF", None, None, 1), ("GM", None, None, 2), ("S", "GF", "GM", 1),
                     ("W", None, None, 2), ("D", "GF", "GM", 2), ("G1", "S", "W", 1),
                     ("G2", "S", "W", 2))
LOOPS = {
    "cousin_marriage": (first_cousin_marriage_child("A"), ["A"]),
    "sib_mating": (sibling_mating_child("A"), ["A"]),
}


def check(ped, marker, genotypes, theta=0.0):
    exact = brute_force_likelihood(ped, marker, genotypes, theta)
    got = marker_loglik(ped, marker, genotypes, theta)
    if exact == 0:
        assert got == -math.inf
    else:
        assert math.exp(got) == pytest.approx(exact, rel=1e-10, abs=0)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_small_relationships(model, theta):
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS[model])
    cases = [
        (parent_child(), {"A": (0, 1), "B": (1, 2)}),
        (parent_child(), {"A": (0, 0), "B": (3, 3)}),  # needs a mutation
        (full_siblings(), {"A": (0, 1), "B": (0, 2)}),
        (half_siblings(), {"A": (2, 2), "B": (2, 3)}),
        (unrelated(), {"A": (0, 1), "B": (0, 1)}),
        (TRIO, {"F": (0, 1), "C": (1, 2)}),  # mother untyped: lumping of allele 3
    ]
    for ped, g in cases:
        check(ped, m, g, theta)


@pytest.mark.parametrize("model", ["none", slow_param("equal"), "stepwise",
                                   slow_param("sexspecific")])
def test_three_generations_with_untyped_middle(model):
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS[model])
    check(THREE_GEN, m, {"GF": (0, 1), "G1": (1, 2), "G2": (0, 2)})
    check(THREE_GEN, m, {"D": (3, 3), "G2": (2, 3)}, theta=0.02)


@pytest.mark.parametrize("name", [slow_param("cousin_marriage"), "sib_mating"])
@pytest.mark.parametrize("model", ["none", "proportional", "onestep"])
def test_loops(name, model):
    ped, _ = LOOPS[name]
    m = Marker.create("M", ALLELES[:3], [0.2, 0.3, 0.5], mutation=MODELS[model])
    founders = ped.founders
    check(ped, m, {"A": (0, 0)})
    check(ped, m, {"A": (1, 1), founders[0]: (0, 1)})
    check(ped, m, {"A": (0, 1), founders[1]: (1, 2)}, theta=0.05)


def test_inbred_founder():
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("C", "F", "M", 2),
                   inbreeding={"F": 0.25})
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS["equal"])
    check(ped, m, {"C": (0, 0)})
    check(ped, m, {"F": (1, 1), "C": (1, 2)})


@pytest.mark.parametrize("model", ["none", "equal", "sexspecific"])
def test_x_linked(model):
    m = Marker.create("X", ALLELES, FREQS, chromosome="X", mutation=MODELS[model])
    fd = pedigree(("F", None, None, 1), ("M", None, None, 2), ("D", "F", "M", 2),
                  ("S", "F", "M", 1))
    check(fd, m, {"F": (1, 1), "D": (1, 2)})          # father-daughter
    check(fd, m, {"S": (0, 0), "D": (0, 3)})          # brother-sister
    check(fd, m, {"F": (1, 1), "S": (2, 2)})          # father-son: X not shared
    hs = pedigree(("F", None, None, 1), ("M1", None, None, 2), ("M2", None, None, 2),
                  ("A", "F", "M1", 2), ("B", "F", "M2", 2))
    check(hs, m, {"A": (0, 1), "B": (0, 2)})          # paternal half sisters
    check(hs, m, {"A": (0, 1), "B": (2, 3)}, theta=0.05)


@pytest.mark.slow
def test_genotype_distribution_matches_enumeration():
    m = Marker.create("M", ALLELES, FREQS, mutation=MODELS["stepwise"])
    data = {"GF": (0, 1), "G1": (1, 2)}
    loglik, dist = genotype_distribution(THREE_GEN, m, data, "D")
    total = brute_force_likelihood(THREE_GEN, m, data)
    assert math.exp(loglik) == pytest.approx(total, rel=1e-10)
    for a in range(4):
        for b in range(a, 4):
            joint = brute_force_likelihood(THREE_GEN, m, {**data, "D": (a, b)})
            assert dist[a, b] == pytest.approx(joint / total, rel=1e-9, abs=1e-15)
    assert dist.sum() == pytest.approx(1.0, rel=1e-12)


def _random_case(rng):
    n_founders = int(rng.integers(2, 4))
    rows = []
    for i in range(n_founders):
        rows.append((f"f{i}", None, None, 1 if i % 2 == 0 else 2))
    n_children = int(rng.integers(1, 4))
    for j in range(n_children):
        males = [r[0] for r in rows if r[3] == 1]
        females = [r[0] for r in rows if r[3] == 2]
        rows.append((f"c{j}", str(rng.choice(males)), str(rng.choice(females)),
                     int(rng.integers(1, 3))))
    ped = pedigree(*rows)
    k = int(rng.integers(2, 4))
    freqs = rng.dirichlet(np.ones(k))
    matrix = rng.dirichlet(np.ones(k) * 0.3, size=k) * 0.2 + np.eye(k) * 0.8
    chrom = "X" if rng.random() < 0.25 else "autosomal"
    spec = {"model": "custom", "matrix": matrix.tolist()} if rng.random() < 0.6 else None
    m = Marker.create("M", [str(10 + i) for i in range(k)], freqs, chromosome=chrom, mutation=spec)
    genotypes = {}
    for pid, *_ , sex in rows:
        if rng.random() < 0.6:
            a = int(rng.integers(k))
            b = a if (chrom == "X" and sex == 1) else int(rng.integers(k))
            genotypes[pid] = (a, b)
    theta = float(rng.choice([0.0, 0.0, 0.02]))
    return ped, m, genotypes, theta


def test_random_small_pedigrees():
    rng = np.random.default_rng(20261125)
    checked = 0
    for _ in range(40):
        ped, m, g, theta = _random_case(rng)
        if sum(2 for _ in ped) > 12:
            continue
        check(ped, m, g, theta)
        checked += 1
    assert checked >= 30
