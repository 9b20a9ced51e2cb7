"""Power planning (kinmatch.planning, `kinmatch plan`) against closed forms,
brute-force enumeration and Monte Carlo error bounds."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from support import EXAMPLES, pedigree, run_cli

from kinmatch.errors import KinmatchError
from kinmatch.formats.dvi_json import read_dvi_case
from kinmatch.likelihood.observation import Observation
from kinmatch.likelihood.peeling import (
    PedigreeMarkers,
    genotype_distribution,
    joint_genotype_distributions,
    markers_loglik,
    pedigrees_genotype_distributions_packed,
)
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex
from kinmatch.planning.power import (
    add_virtual_relatives,
    exact_tail_probability,
    grid_tail_probability,
    plan_case,
    plan_missing_person,
    poisson_binomial,
)

EXAMPLE = EXAMPLES / "dvi_case.json"


def _markers(sizes, seed=0, mutation=None):
    rng = np.random.default_rng(seed)
    out = []
    for k, n in enumerate(sizes):
        f = rng.dirichlet(np.full(n, 3.0))
        f = np.maximum(f, 0.02)
        out.append(Marker.create(f"M{k}", [str(i + 10) for i in range(n)], f / f.sum(),
                                 mutation=mutation))
    return out


def _hw(p, a, b):
    return p[a] ** 2 if a == b else 2 * p[a] * p[b]


TRIO = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1))
TRIO_DATA = [{"F": (0, 1), "M": (1, 2)}, {"F": (0, 0), "M": (1, 2)}, {"F": (1, 2), "M": (0, 3)}]


def _trio_atoms(markers, data):
    """Exact per-marker log10 LR distribution of the true missing child of
    two typed parents, without mutation: the four Mendelian combinations."""
    atoms = []
    for m, d in zip(markers, data):
        p = m.allele_frequencies
        probs: dict[tuple[int, int], float] = {}
        for a in d["F"]:
            for b in d["M"]:
                g = (min(a, b), max(a, b))
                probs[g] = probs.get(g, 0.0) + 0.25
        atoms.append(([math.log10(q / _hw(p, *g)) for g, q in probs.items()],
                      list(probs.values())))
    return atoms


def _brute_tail(atoms, t):
    total = 0.0
    for combo in itertools.product(*[list(zip(v, p)) for v, p in atoms]):
        if sum(v for v, _ in combo) >= t - 1e-9:
            total += math.prod(p for _, p in combo)
    return total


# ---------------------------------------------------------------------------
# exact tools


def test_exact_tail_probability_equals_brute_force():
    rng = np.random.default_rng(4)
    atoms = [(rng.normal(size=5), rng.dirichlet(np.ones(5))) for _ in range(3)]
    for t in (-2.0, -0.3, 0.0, 0.7, 2.5):
        assert exact_tail_probability(atoms, t) == pytest.approx(_brute_tail(atoms, t), abs=1e-12)


def test_poisson_binomial_equals_brute_force():
    p = [0.1, 0.5, 0.0, 0.93, 0.27]
    brute = np.zeros(len(p) + 1)
    for bits in itertools.product([0, 1], repeat=len(p)):
        brute[sum(bits)] += math.prod(pk if b else 1 - pk for pk, b in zip(p, bits))
    dist = poisson_binomial(p)
    assert np.allclose(dist, brute[:len(dist)], atol=1e-15)
    assert dist.sum() == pytest.approx(1.0)


def test_grid_tail_probability_matches_exact_away_from_atoms():
    markers = _markers([4, 4, 5], seed=1)
    atoms = _trio_atoms(markers, TRIO_DATA)
    sums = np.unique(np.round([sum(c) for c in itertools.product(*[a[0] for a in atoms])], 9))
    for lo, hi in itertools.pairwise(sums):
        if hi - lo > 0.02:
            t = (lo + hi) / 2
            assert grid_tail_probability(atoms, t) == pytest.approx(
                exact_tail_probability(atoms, t), abs=1e-9)


# ---------------------------------------------------------------------------
# the current donors: closed forms


def test_missing_child_of_typed_parents_closed_form():
    markers = _markers([4, 4, 5], seed=1)
    atoms = _trio_atoms(markers, TRIO_DATA)
    sums = sorted({round(sum(c), 9) for c in itertools.product(*[a[0] for a in atoms])})
    t = sums[len(sums) // 2] - 1e-6  # P(LR >= t) strictly between 0 and 1
    exact = exact_tail_probability(atoms, t)
    assert exact == pytest.approx(_brute_tail(atoms, t), abs=1e-12)
    assert 0.05 < exact < 0.95
    n = 20_000
    plan = plan_missing_person(TRIO, markers, TRIO_DATA, "MP", threshold=10 ** t,
                               n_simulations=n, seed=11)
    cur = plan.current
    se = math.sqrt(exact * (1 - exact) / n)
    assert abs(cur.inclusion_power - exact) < 4.5 * se
    expected = sum(float(np.dot(v, p)) for v, p in atoms)
    assert cur.expected_log10_lr == pytest.approx(expected, abs=1e-12)
    sd = math.sqrt(sum(float(np.dot(np.square(v), p)) - float(np.dot(v, p)) ** 2
                       for v, p in atoms))
    assert abs(cur.mean_log10_lr - expected) < 4.5 * sd / math.sqrt(n)
    # simulated LRs take only the exact values
    values = {round(s, 6) for s in (sum(c) for c in
                                     itertools.product(*[a[0] for a in atoms]))}
    assert {round(v, 6) for v in np.unique(cur.log10_lr)} <= values


def test_exclusion_power_equals_brute_force():
    # a mother and a brother are typed; the missing person is the brother's full sibling
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("B", "F", "M", 1),
                   ("MP", "F", "M", 1))
    markers = _markers([3, 4, 5, 4], seed=2)
    data = [{"M": (0, 1), "B": (1, 2)}, {"M": (0, 0), "B": (0, 3)},
            {"M": (1, 4), "B": (2, 4)}, {"M": (2, 3), "B": (1, 3)}]
    plan = plan_missing_person(ped, markers, data, "MP", candidates=[], n_simulations=10,
                               seed=1, max_incompatible=1)
    per_marker = []
    for m, d in zip(markers, data):
        p = m.allele_frequencies
        e = 0.0
        for a in range(m.n_alleles):
            for b in range(a, m.n_alleles):
                if math.isinf(markers_loglik(ped, [m], [{**d, "MP": (a, b)}])[0]):
                    e += _hw(p, a, b)
        per_marker.append(e)
    assert np.allclose(plan.current.exclusion_per_marker, per_marker, atol=1e-12)
    # the number of incompatible markers: every subset of markers
    brute = np.zeros(len(markers) + 1)
    for bits in itertools.product([0, 1], repeat=len(markers)):
        brute[sum(bits)] += math.prod(e if b else 1 - e for e, b in zip(per_marker, bits))
    dist = plan.current.incompatible_distribution
    assert np.allclose(dist, brute[:len(dist)], atol=1e-12)
    assert plan.current.exclusion_power == pytest.approx(1 - math.prod(1 - e for e in per_marker))
    assert plan.current.exclusion_power_beyond == pytest.approx(brute[2:].sum())


def test_unrelated_false_positive_rate_within_monte_carlo_error():
    markers = _markers([4, 4, 5], seed=1)
    atoms = []
    for m, d in zip(markers, TRIO_DATA):
        # an unrelated person: genotype from the population, LR = P(g | parents) / P(g)
        p = m.allele_frequencies
        vals, probs = [], []
        for a in range(m.n_alleles):
            for b in range(a, m.n_alleles):
                kids = {(min(x, y), max(x, y)) for x in d["F"] for y in d["M"]}
                pg = sum(0.25 for x in d["F"] for y in d["M"]
                         if (min(x, y), max(x, y)) == (a, b))
                vals.append(math.log10(pg / _hw(p, a, b)) if (a, b) in kids else -math.inf)
                probs.append(_hw(p, a, b))
        atoms.append((vals, probs))
    t = 1.0
    exact = exact_tail_probability(atoms, t)
    n = 20_000
    plan = plan_missing_person(TRIO, markers, TRIO_DATA, "MP", threshold=10 ** t,
                               n_simulations=n, seed=5)
    se = math.sqrt(max(exact * (1 - exact), 1e-4) / n)
    assert abs(plan.current.false_positive_rate - exact) < 4.5 * se


# ---------------------------------------------------------------------------
# candidates


def _cousin_family():
    return pedigree(
                    ("GF", None, None, 1), ("GM", None, None, 2),
                    ("A", "GF", "GM", 1), ("WA", None, None, 2), ("MP", "A", "WA", 1),
                    ("B", "GF", "GM", 1), ("WB", None, None, 2), ("C", "B", "WB", 1),
                    ("WC", None, None, 2), ("CC", "C", "WC", 1),
                    )


def _distribution(ped, marker, data, person):
    """``P(person = g | data)`` (packed genotype order)."""
    job = PedigreeMarkers(ped, [marker], [data], keep=person)
    return pedigrees_genotype_distributions_packed([job], 0.0).probability[0]


def _joint_by_rows(ped, marker, data, persons):
    """``J[g, x] = P(a = g, b = x | data)`` for ``persons = (a, b)``, row by
    row: ``P(a = g | data)`` times the distribution of ``b`` given the data
    and ``a`` typed as ``g`` (one peeling pass per genotype ``g`` of ``a``)."""
    first, second = persons
    q = _distribution(ped, marker, data, first)
    a, b = np.triu_indices(marker.n_alleles)
    support = np.flatnonzero(q > 0)
    joint = np.zeros((len(q), len(q)))
    if len(support):
        jobs = [PedigreeMarkers(ped, [marker], [{**data, first: (int(a[c]), int(b[c]))}],
                                keep=second) for c in support]
        rows = pedigrees_genotype_distributions_packed(jobs, 0.0).probability
        joint[support] = q[support, None] * rows
    return joint


def test_joint_tables_direct_equal_row_by_row():
    ped = _cousin_family()
    markers = _markers([3, 4], seed=3, mutation={"model": "equal", "rate": 0.05})
    data = [{"C": (0, 1), "WB": (1, 2)}, {"C": (2, 3)}]
    for keep in ("A", "CC", "GM", "WA"):
        direct = joint_genotype_distributions(ped, markers, data, ("MP", keep), 0.0)
        for m, geno, d in zip(markers, data, direct):
            rows = _joint_by_rows(ped, m, geno, ("MP", keep))
            assert np.allclose(d, rows, atol=1e-12)
            assert np.allclose(d.sum(axis=1), _distribution(ped, m, geno, "MP"), atol=1e-12)


def test_joint_tables_with_degraded_relatives():
    """Relatives seen through drop-out and drop-in (Observations) are summed over
    their true genotypes, in the direct contraction as in the row-by-row route."""
    ped = _cousin_family()
    markers = _markers([3, 4], seed=3, mutation={"model": "equal", "rate": 0.05})
    data = [{"C": Observation((0,), dropout=0.3, dropin=0.05), "WB": (1, 2)},
            {"C": Observation((2, 3), dropout=0.2), "CC": Observation((1,), dropout=0.4)}]
    for keep in ("A", "GM", "WA"):
        direct = joint_genotype_distributions(ped, markers, data, ("MP", keep), 0.0)
        for m, geno, d in zip(markers, data, direct):
            rows = _joint_by_rows(ped, m, geno, ("MP", keep))
            assert np.allclose(d, rows, atol=1e-12)
            assert np.allclose(d.sum(axis=1), _distribution(ped, m, geno, "MP"), atol=1e-12)
    with pytest.raises(KinmatchError, match="is typed"):
        joint_genotype_distributions(ped, markers, data, ("MP", "C"))


def test_joint_tables_x_linked():
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                   ("S", "F", "M", 2))
    x = Marker.create("X1", ["1", "2", "3"], [0.2, 0.3, 0.5], chromosome="X")
    data = [{"M": (0, 1)}]
    for keep in ("F", "S"):
        direct = joint_genotype_distributions(ped, [x], data, ("MP", keep), 0.0)[0]
        rows = _joint_by_rows(ped, x, data[0], ("MP", keep))
        assert np.allclose(direct, rows, atol=1e-12)


def test_joint_genotype_distributions_refuses_what_it_cannot_compute():
    ped = _cousin_family()
    markers = _markers([3])
    with pytest.raises(KinmatchError, match="typed"):
        joint_genotype_distributions(ped, markers, [{"C": (0, 1)}], ("MP", "C"))
    with pytest.raises(KinmatchError, match="two people"):
        joint_genotype_distributions(ped, markers, [{"C": (0, 1)}], ("MP", "MP"))
    with pytest.raises(KinmatchError, match="not in the pedigree"):
        joint_genotype_distributions(ped, markers, [{"C": (0, 1)}], ("MP", "nobody"))
    silent = Marker.create("S", ["10", "11", "0"], [0.5, 0.4, 0.1], silent_allele="0")
    with pytest.raises(KinmatchError, match="silent allele"):
        joint_genotype_distributions(ped, [silent], [{"C": (0, 1)}], ("MP", "A"))


def test_candidate_expected_lr_and_exclusion_equal_brute_force():
    ped = _cousin_family()
    markers = _markers([3, 4], seed=3)
    data = [{"C": (0, 1), "WB": (1, 2)}, {"C": (2, 3)}]
    plan = plan_missing_person(ped, markers, data, "MP", candidates=["A"], n_simulations=4000,
                               seed=2, threshold=10)
    cand = plan.candidates[0]
    expected = 0.0
    p_excl = []
    atoms = []
    for m, d in zip(markers, data):
        p = m.allele_frequencies
        n = m.n_alleles
        genos = [(a, b) for a in range(n) for b in range(a, n)]
        _, px = genotype_distribution(ped, m, d, "A")  # P(A = x | data)
        _, pg = genotype_distribution(ped, m, d, "MP")
        e_marker, vals, probs = 0.0, [], []
        for x in genos:
            if px[x] <= 0:
                continue
            _, post = genotype_distribution(ped, m, {**d, "A": x}, "MP")  # P(MP | data, A = x)
            e_x = sum(_hw(p, *g) for g in genos if post[g] <= 0)
            e_marker += px[x] * e_x
            for g in genos:
                joint = px[x] * post[g]
                if joint > 0:
                    value = math.log10(post[g] / _hw(p, *g))
                    expected += joint * value
                    vals.append(value)
                    probs.append(joint)
        p_excl.append(e_marker)
        atoms.append((vals, probs))
        assert pg.sum() == pytest.approx(1.0)
    assert cand.expected_log10_lr == pytest.approx(expected, abs=1e-9)
    assert np.allclose(cand.exclusion_per_marker, p_excl, atol=1e-12)
    exact_ip = exact_tail_probability(atoms, 1.0)
    assert cand.inclusion_power_grid == pytest.approx(exact_ip, abs=1e-3)
    se = math.sqrt(exact_ip * (1 - exact_ip) / 4000)
    assert abs(cand.inclusion_power - exact_ip) < 4.5 * se + 1e-3


def test_parent_beats_cousins_child_when_only_a_cousin_is_typed():
    ped = _cousin_family()
    markers = _markers([6] * 12, seed=7)
    rng = np.random.default_rng(0)
    data = []
    for m in markers:
        a, b = sorted(rng.choice(m.n_alleles, 2, p=m.allele_frequencies))
        data.append({"C": (int(a), int(b))})
    plan = plan_missing_person(ped, markers, data, "MP", candidates=["CC", "A", "GM"],
                               n_simulations=500, seed=1, threshold=100)
    ranked = [s.label for s in plan.ranked()]
    assert ranked[0] == "A"
    assert plan.recommended.candidate == "A"
    by = {s.label: s for s in plan.candidates}
    # the cousin's child carries nothing more once the cousin is typed
    assert by["CC"].expected_log10_lr == pytest.approx(plan.current.expected_log10_lr, abs=1e-9)
    assert np.allclose(by["CC"].log10_lr, plan.current.log10_lr)
    assert by["A"].ranking_power > by["GM"].ranking_power > plan.current.ranking_power
    assert by["A"].expected_log10_lr > by["GM"].expected_log10_lr


def test_default_candidates_are_the_untyped_members():
    ped = _cousin_family()
    markers = _markers([4], seed=1)
    plan = plan_missing_person(ped, markers, [{"C": (0, 1)}], "MP", n_simulations=20, seed=1,
                               exclude=["WC"])
    assert {s.label for s in plan.candidates} == set(ped.ids) - {"MP", "C", "WC"}
    with pytest.raises(KinmatchError, match="already typed"):
        plan_missing_person(ped, markers, [{"C": (0, 1)}], "MP", candidates=["C"])
    with pytest.raises(KinmatchError, match="not in the pedigree"):
        plan_missing_person(ped, markers, [{"C": (0, 1)}], "MP", candidates=["nobody"])


def test_virtual_relatives():
    ped = _cousin_family()
    ext, added = add_virtual_relatives(ped, "MP", ["son", "sister"])
    son = next(i for i, k in added.items() if k == "son")
    sister = next(i for i, k in added.items() if k == "sister")
    assert ext[son].father == "MP" and ext.sex(son) == Sex.MALE
    assert ext.parents(sister) == ped.parents("MP") and ext.sex(sister) == Sex.FEMALE
    # a founder missing person gets untyped parents for a sibling
    lone = pedigree(("MP", None, None, 2), ("X", None, None, 1))
    ext2, added2 = add_virtual_relatives(lone, "MP", ["brother", "daughter"])
    bro = next(i for i, k in added2.items() if k == "brother")
    assert ext2.parents(bro) == ext2.parents("MP") is not None
    dau = next(i for i, k in added2.items() if k == "daughter")
    assert ext2[dau].mother == "MP"
    # untyped additions change nothing for the current donors; a son is informative
    markers = _markers([5] * 4, seed=2)
    data = [{"C": (0, 1)}, {"C": (2, 2)}, {"C": (1, 3)}, {"C": (0, 4)}]
    plain = plan_missing_person(ped, markers, data, "MP", candidates=[], n_simulations=200,
                                seed=3)
    virt = plan_missing_person(ped, markers, data, "MP", candidates=[], virtual=["son"],
                               n_simulations=200, seed=3)
    assert np.array_equal(plain.current.log10_lr, virt.current.log10_lr)
    assert [s.relationship for s in virt.candidates] == ["new son"]
    assert virt.candidates[0].expected_log10_lr > virt.current.expected_log10_lr


def test_reproducible_with_a_seed():
    ped = _cousin_family()
    markers = _markers([5] * 5, seed=2)
    data = [{"C": (0, 1)}, {"C": (2, 2)}, {"C": (1, 3)}, {"C": (0, 4)}, {"C": (3, 4)}]
    one = plan_missing_person(ped, markers, data, "MP", candidates=["A", "GF"],
                              n_simulations=300, seed=42)
    two = plan_missing_person(ped, markers, data, "MP", candidates=["A", "GF"],
                              n_simulations=300, seed=42)
    other = plan_missing_person(ped, markers, data, "MP", candidates=["A", "GF"],
                                n_simulations=300, seed=43)
    alone = plan_missing_person(ped, markers, data, "MP", candidates=["GF"],
                                n_simulations=300, seed=42)
    for a, b in zip((one.current, *one.candidates), (two.current, *two.candidates)):
        assert np.array_equal(a.log10_lr, b.log10_lr)
        assert np.array_equal(a.log10_lr_unrelated, b.log10_lr_unrelated)
    assert not np.array_equal(one.candidates[0].log10_lr, other.candidates[0].log10_lr)
    # a candidate's numbers do not depend on the other candidates evaluated
    assert np.array_equal(one.candidates[1].log10_lr, alone.candidates[0].log10_lr)


def test_mutation_modes():
    markers = _markers([4, 4], seed=1, mutation={"model": "equal", "rate": 0.01})
    bad = [{"F": (0, 0), "M": (1, 1)}, {"F": (0, 1), "M": (1, 2)}]
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                   ("S", "F", "M", 2))
    data = [{"F": (0, 0), "M": (1, 1), "S": (2, 3)}, bad[1]]  # S breaks Mendel at M0
    plan = plan_missing_person(ped, markers, data, "MP", n_simulations=50, seed=1)
    assert any("Mendel" in note for note in plan.notes)
    assert math.isnan(plan.current.exclusion_per_marker[0])
    assert plan.current.exclusion_per_marker[1] > 0
    with pytest.raises(KinmatchError, match="Mendel"):
        plan_missing_person(ped, markers, data, "MP", n_simulations=50, mutations="disable")
    keep = plan_missing_person(ped, markers, bad, "MP", n_simulations=50, seed=1,
                               mutations="keep")
    auto = plan_missing_person(ped, markers, bad, "MP", n_simulations=50, seed=1)
    # with the mutation model kept every genotype is possible (LR > 0 but small)
    assert keep.current.expected_log10_lr < auto.current.expected_log10_lr


class _ConstantLineage:
    """A stand-in lineage system: log10 LR 2 for the true MP, -inf (an
    exclusion) for unrelated people with probability 1/2."""

    name = "Y-STR (test)"

    def simulate_log10_lr(self, pedigree, missing, donors, candidate, n, rng, *, true_missing):
        if true_missing:
            return np.full(n, 2.0)
        return np.where(rng.random(n) < 0.5, -np.inf, 0.0)

    def exclusion_probability(self, pedigree, missing, donors, candidate):
        return 0.5


def test_lineage_hook_adds_to_every_simulation():
    markers = _markers([4, 4, 5], seed=1)
    base = plan_missing_person(TRIO, markers, TRIO_DATA, "MP", n_simulations=100, seed=1)
    lin = plan_missing_person(TRIO, markers, TRIO_DATA, "MP", n_simulations=100, seed=1,
                              lineage=[_ConstantLineage()])
    assert np.allclose(lin.current.log10_lr, base.current.log10_lr + 2.0)
    assert lin.current.expected_log10_lr == pytest.approx(base.current.expected_log10_lr + 2)
    assert 1 - lin.current.exclusion_power == pytest.approx(
        0.5 * (1 - base.current.exclusion_power))
    assert lin.lineage == ("Y-STR (test)",)


# ---------------------------------------------------------------------------
# whole cases and the command line


def test_plan_case_every_missing_person():
    case = read_dvi_case(EXAMPLE)
    plans = plan_case(case, n_simulations=100, seed=1)
    assert [(p.family, p.missing) for p in plans] == case.missing_persons
    f1 = plans[0]
    assert f1.recommended.candidate == "FA1"  # the untyped father of M1
    with pytest.raises(KinmatchError, match="no family"):
        plan_case(case, family="nope")


def test_cli_table_and_json():
    result = run_cli("plan", str(EXAMPLE), "--seed", "3", "--simulations", "200",
                     "--no-progress")
    assert result.exit_code == 0, result.output
    assert "Recommendation" in result.output and "FA1" in result.output
    result = run_cli("plan", str(EXAMPLE), "--family", "F3", "--seed", "3",
                     "--simulations", "200", "--virtual", "son", "--json",
                     "--no-progress")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    (plan,) = out["plans"]
    assert plan["family"] == "F3" and plan["missing"] == "M3"
    labels = [c["candidate"] for c in plan["candidates"]]
    assert set(labels) == {"GF3", "GM3", "B3", "W3", "M3-son"}
    assert plan["recommended"] == labels[0]
    again = run_cli("plan", str(EXAMPLE), "--family", "F3", "--seed", "3",
                    "--simulations", "200", "--virtual", "son", "--json",
                    "--no-progress")
    assert again.output == result.output
    result = run_cli("plan", str(EXAMPLE), "--family", "F3",
                     "--candidates", "B3,GM3", "--json", "--no-progress",
                     "--simulations", "50")
    assert result.exit_code == 0, result.output
    assert {c["candidate"] for c in json.loads(result.output)["plans"][0]["candidates"]} \
        == {"B3", "GM3"}


def test_cli_errors():
    for args, message in ((["--family", "F9"], "no family"),
                          (["--candidates", "GF3"], "--family"),
                          (["--family", "F3", "--candidates", "R3"], "already typed"),
                          (["--virtual", "cousin"], "unknown relative")):
        result = run_cli("plan", str(EXAMPLE), "--no-progress", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output


def test_markers_with_x_and_unknown_sex_are_left_out():
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                   ("U", "F", "M", 0))
    auto = _markers([4], seed=1)[0]
    x = Marker.create("X1", ["1", "2", "3"], [0.2, 0.3, 0.5], chromosome="X")
    plan = plan_missing_person(ped, [auto, x], [{"M": (0, 1)}, {"M": (0, 1)}], "MP",
                               n_simulations=20, seed=1)
    assert plan.markers == ("M0",)
    assert any("X-linked" in n for n in plan.notes)
    plan = plan_missing_person(ped, [auto, x], [{"M": (0, 1)}, {"M": (0, 1)}], "MP",
                               candidates=["F"], n_simulations=20, seed=1)
    assert plan.markers == ("M0", "X1")


def test_impossible_marker_without_mutation_model_is_left_out():
    markers = _markers([4, 4], seed=1)
    ped = pedigree(("F", None, None, 1), ("M", None, None, 2), ("MP", "F", "M", 1),
                   ("S", "F", "M", 2))
    data = [{"F": (0, 0), "M": (1, 1), "S": (2, 3)}, {"F": (0, 1), "M": (1, 2)}]
    plan = plan_missing_person(ped, markers, data, "MP", n_simulations=50, seed=1)
    assert plan.markers == ("M1",)
    assert any("left out" in note for note in plan.notes)
