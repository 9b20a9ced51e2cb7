"""Kinship LRs against textbook closed forms.

* Paternity index (PI) for every combination of child and alleged-father
  genotype on a 5-allele marker, mother untyped, and the trio PI with a typed
  mother — the classical tables (Evett & Weir 1998, *Interpreting DNA
  Evidence*, ch. 7; Buckleton et al., *Forensic DNA Evidence Interpretation*).
* The κ formula for any non-inbred pairwise relationship (Thompson 1975):

      LR = κ0 + κ1 · P(gA, gB | one allele IBD) / (P(gA) P(gB))
              + κ2 · [gA = gB] / P(gA)

  for full and half siblings, grandparent, avuncular, first, half-first and
  second cousins; every genotype pair of a 4-allele marker.
* Under θ: the duo PI for a homozygous child and father, derived from the
  Balding–Nichols sampling formula as pedprobr applies it.

None of these uses the peeling engine; each LR is computed by kinmatch's
``kinship_lr`` over the relationship's pedigree and compared to 1e-12.
"""

from __future__ import annotations

import itertools

import pytest

from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex, pedigree_from_records
from kinmatch.relationships import RELATIONSHIPS, parent_child, relationship_pedigree, unrelated

ALLELES = ["9", "10", "11", "12", "13"]
FREQS = [0.05, 0.15, 0.2, 0.25, 0.35]
P = dict(zip(ALLELES, FREQS))


def _genotypes(alleles):
    return list(itertools.combinations_with_replacement(alleles, 2))


def _lr(hypothesis_pedigree, profiles, alleles=ALLELES, freqs=FREQS, theta=0.0):
    marker = Marker.create("M", alleles, freqs)
    ids = list(profiles)
    null = pedigree_from_records(
        [{"id": pid, "sex": hypothesis_pedigree.sex(pid)} for pid in ids])
    hyps = [Hypothesis("H1", hypothesis_pedigree), Hypothesis("H2", null)]
    prof = {pid: {"M": g} for pid, g in profiles.items()}
    return kinship_lr(hyps, [marker], prof, theta=theta, reference="H2").total_lr("H1")


def paternity_index(child, father):
    """PI for a duo (mother untyped), no mutation: the textbook table.

    With ``c = {c1, c2}`` and the father's alleles ``f``: the father passes
    each of his alleles with probability 1/2, the unknown mother any allele
    with its frequency; the PI is that over ``P(child)``.
    """
    (c1, c2), (f1, f2) = child, father
    pa = P
    if c1 == c2:
        a = c1
        n = (f1 == a) + (f2 == a)  # copies of a in the father
        return {0: 0.0, 1: 1 / (2 * pa[a]), 2: 1 / pa[a]}[n]
    # heterozygous child a/b
    a, b = c1, c2
    fa = (f1 == a) + (f2 == a)
    fb = (f1 == b) + (f2 == b)
    if fa == 0 and fb == 0:
        return 0.0
    if fa == 2:
        return 1 / (2 * pa[a])
    if fb == 2:
        return 1 / (2 * pa[b])
    if fa == 1 and fb == 1:
        return (pa[a] + pa[b]) / (4 * pa[a] * pa[b])
    return 1 / (4 * pa[a]) if fa == 1 else 1 / (4 * pa[b])


@pytest.mark.parametrize("child", _genotypes(ALLELES))
def test_paternity_index_every_genotype_combination(child):
    for father in _genotypes(ALLELES):
        got = _lr(parent_child("AF", "C"), {"AF": father, "C": child})
        assert got == pytest.approx(paternity_index(child, father), rel=1e-12, abs=0)


def trio_paternity_index(child, mother, father):
    """PI with the mother typed: 1/(2 p_x) or 1/p_x or 1/(p_a + p_b) for the
    obligate paternal allele(s) (Evett & Weir 1998, table 7.2)."""
    pa = P
    ca, cb = child
    # paternal alleles compatible with the mother
    possible = set()
    for m in set(mother):
        if m == ca:
            possible.add(cb)
        if m == cb:
            possible.add(ca)
    if not possible:
        raise ValueError("mother excluded")

    def transmit(parent, allele):
        return 0.5 * ((parent[0] == allele) + (parent[1] == allele))

    # P(child | mother, father) / P(child | mother, random man)
    num = 0.0
    den = 0.0
    for pat, mat in {(ca, cb), (cb, ca)}:
        tm = transmit(mother, mat)
        num += transmit(father, pat) * tm
        den += pa[pat] * tm
    return num / den


def test_trio_paternity_index_every_compatible_combination():
    trio = pedigree_from_records([
        {"id": "AF", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "C", "sex": 1, "father": "AF", "mother": "Mo"}])
    checked = 0
    small = ALLELES[:4]
    for child in _genotypes(small):
        for mother in _genotypes(small):
            if not set(child) & set(mother):
                continue
            for father in _genotypes(small):
                # H2: the mother is still the mother, the father unrelated
                h2 = pedigree_from_records([
                    {"id": "X", "sex": 1}, {"id": "Mo", "sex": 2},
                    {"id": "C", "sex": 1, "father": "X", "mother": "Mo"},
                    {"id": "AF", "sex": 1}])
                marker = Marker.create("M", ALLELES, FREQS)
                prof = {"AF": {"M": father}, "Mo": {"M": mother}, "C": {"M": child}}
                res = kinship_lr([Hypothesis("H1", trio), Hypothesis("H2", h2)], [marker], prof,
                                 reference="H2")
                expected = trio_paternity_index(child, mother, father)
                assert res.total_lr("H1") == pytest.approx(expected, rel=1e-12, abs=0)
                checked += 1
    assert checked > 300


def _prob_genotype(g):
    a, b = g
    return P4[a] ** 2 if a == b else 2 * P4[a] * P4[b]


def _prob_ibd1(ga, gb):
    """P(gA, gB | exactly one allele IBD): sum over the shared allele s and the
    two unshared alleles x (A's) and y (B's), each drawn from the population."""
    total = 0.0
    for s, x, y in itertools.product(P4, repeat=3):
        if sorted((s, x)) == sorted(ga) and sorted((s, y)) == sorted(gb):
            total += P4[s] * P4[x] * P4[y]
    return total


A4 = ["10", "11", "12", "13"]
F4 = [0.1, 0.2, 0.3, 0.4]
P4 = dict(zip(A4, F4))


def kappa_lr(kappa, ga, gb):
    k0, k1, k2 = kappa
    pa, pb = _prob_genotype(ga), _prob_genotype(gb)
    return k0 + k1 * _prob_ibd1(ga, gb) / (pa * pb) + k2 * (sorted(ga) == sorted(gb)) / pa


@pytest.mark.parametrize("name", [n for n in RELATIONSHIPS if n != "unrelated"])
def test_kappa_formula_every_genotype_pair(name):
    rel = RELATIONSHIPS[name]
    ped = relationship_pedigree(name, "A", "B", Sex.MALE, Sex.FEMALE)
    for ga in _genotypes(A4):
        for gb in _genotypes(A4):
            got = _lr(ped, {"A": ga, "B": gb}, alleles=A4, freqs=F4)
            assert got == pytest.approx(kappa_lr(rel.kappa, ga, gb), rel=1e-12, abs=0), (ga, gb)


def test_sibling_index_textbook_values():
    """Spot values of the full-sibling index (Evett & Weir table 7.6 style):
    identical heterozygotes aa/ab: (1 + p_a + p_b + 2 p_a p_b) / (8 p_a p_b)."""
    ped = RELATIONSHIPS["full_siblings"].build("A", "B")
    pa, pb = P4["10"], P4["11"]
    got = _lr(ped, {"A": ("10", "11"), "B": ("10", "11")}, alleles=A4, freqs=F4)
    assert got == pytest.approx((1 + pa + pb + 2 * pa * pb) / (8 * pa * pb), rel=1e-12)
    got = _lr(ped, {"A": ("10", "10"), "B": ("10", "10")}, alleles=A4, freqs=F4)
    assert got == pytest.approx((1 + pa) ** 2 / (4 * pa**2), rel=1e-12)


@pytest.mark.parametrize("theta", [0.01, 0.03, 0.1])
def test_paternity_index_under_theta(theta):
    """Child a/a, alleged father a/a, mother untyped, under Balding–Nichols.

    As pedprobr applies θ, the founder alleles of one connected pedigree are
    one sampling sequence, the ``j``-th draw being ``a`` with probability
    ``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``. Under H1 the sequence is the
    father's a, a and the mother's transmitted a (her other allele sums out):

        P(H1) = p_a (θ + (1-θ) p_a) (2θ + (1-θ) p_a) / (1 + θ)

    Under H2 (unrelated: two separate pedigrees) each person is its own
    sequence: ``P(H2) = [p_a (θ + (1-θ) p_a)]^2``. Hence

        PI = (2θ + (1-θ) p_a) / ((1 + θ) p_a (θ + (1-θ) p_a)).
    """
    pa = P["11"]
    got = _lr(parent_child("AF", "C"), {"AF": ("11", "11"), "C": ("11", "11")}, theta=theta)
    expected = (2 * theta + (1 - theta) * pa) / ((1 + theta) * pa * (theta + (1 - theta) * pa))
    assert got == pytest.approx(expected, rel=1e-12)
    # Unrelated vs unrelated is 1, whatever θ.
    assert _lr(unrelated("AF", "C"), {"AF": ("11", "11"), "C": ("11", "11")},
               theta=theta) == pytest.approx(1.0, rel=1e-14)


def _x_marker():
    return Marker.create("X1", A4, F4, chromosome="X")


def _x_lr(records, profiles):
    ped = pedigree_from_records(records)
    null = pedigree_from_records([{"id": pid, "sex": ped.sex(pid)} for pid in profiles])
    prof = {pid: {"X1": g} for pid, g in profiles.items()}
    res = kinship_lr([Hypothesis("H1", ped), Hypothesis("H2", null)], [_x_marker()], prof,
                     reference="H2")
    return res.total_lr("H1")


def test_x_linked_father_daughter_and_paternal_half_sisters():
    """A father passes his single X to every daughter: on the X, father and
    daughter share one allele IBD with certainty, and so do paternal half
    sisters (κ = (0, 1, 0)). For father a, daughter a/b: LR = 1/(2 p_a);
    daughter a/a: LR = 1/p_a. Half sisters: the κ1 term of the κ formula."""
    fd = [{"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
          {"id": "D", "sex": 2, "father": "F", "mother": "Mo"}]
    hs = [{"id": "F", "sex": 1}, {"id": "M1", "sex": 2}, {"id": "M2", "sex": 2},
          {"id": "A", "sex": 2, "father": "F", "mother": "M1"},
          {"id": "B", "sex": 2, "father": "F", "mother": "M2"}]
    for a in A4:
        for d in _genotypes(A4):
            expected = (d.count(a) == 2) / P4[a] + (d.count(a) == 1) / (2 * P4[a])
            assert _x_lr(fd, {"F": (a,), "D": d}) == pytest.approx(expected, rel=1e-12, abs=0)
    for ga in _genotypes(A4):
        for gb in _genotypes(A4):
            expected = kappa_lr((0.0, 1.0, 0.0), ga, gb)
            assert _x_lr(hs, {"A": ga, "B": gb}) == pytest.approx(expected, rel=1e-12, abs=0)


def test_x_linked_mother_son():
    """A son's X is one of his mother's two: mother a/b, son x:
    LR = ([x = a] + [x = b]) / (2 p_x)."""
    ms = [{"id": "Fa", "sex": 1}, {"id": "Mo", "sex": 2},
          {"id": "S", "sex": 1, "father": "Fa", "mother": "Mo"}]
    for m in _genotypes(A4):
        for x in A4:
            expected = m.count(x) / (2 * P4[x])
            assert _x_lr(ms, {"Mo": m, "S": (x,)}) == pytest.approx(expected, rel=1e-12, abs=0)
