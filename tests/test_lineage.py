"""Lineage markers: which line a pedigree shares, Y-STR LRs, haplotype frequencies, mtDNA.

Verification by closed forms (binomial random walk, Clopper–Pearson via the
beta and binomial distributions) and brute force (enumerating mutation paths,
copy outcomes, pedigree paths).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from support import EXAMPLES, slow_param

from kinmatch.errors import KinmatchError, KinmatchWarning, LineageError
from kinmatch.formats.lineage_tables import (
    read_mt_database,
    read_mt_profiles,
    read_y_database,
    read_y_haplotypes,
    read_y_loci,
)
from kinmatch.lineage import ystr
from kinmatch.lineage.combined import CombinedLR
from kinmatch.lineage.lines import (
    applicable_lineages,
    maternal_line,
    maternal_line_meioses,
    paternal_line,
    paternal_line_meioses,
)
from kinmatch.lineage.mtdna import (
    MtConclusion,
    MtDatabase,
    SeqRange,
    compare_profiles,
    mt_frequency,
    mt_lineage_lr,
    mt_lineage_lr_in_pedigree,
    parse_mt_profile,
    parse_variants,
)
from kinmatch.lineage.stats import clopper_pearson_upper, counting_estimate
from kinmatch.lineage.ystr import (
    YFILER_PLUS,
    YDatabase,
    YLocus,
    YMutationModel,
    difference_distribution,
    discrete_laplace_dispersion,
    discrete_laplace_pmf,
    fit_discrete_laplace,
    haplotype_frequency,
    kappa,
    locus_probability,
    make_haplotype,
    paternal_transmission_probability,
    single_step_difference_probability,
    step_probability,
    y_lineage_lr,
    y_lineage_lr_in_pedigree,
)
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.relationships import (
    PedigreeBuilder,
    avuncular,
    cousins,
    first_cousin_marriage_child,
    full_siblings,
    half_siblings,
    lineal,
    parent_child,
)

LINEAGE_EXAMPLES = EXAMPLES / "lineage"
M, F, U = Sex.MALE, Sex.FEMALE, Sex.UNKNOWN


# ---------------------------------------------------------------------------
# Which line is shared
# ---------------------------------------------------------------------------


def test_brothers_son_shares_y_over_three_meioses():
    ped = avuncular("uncle", "nephew", uncle_sex=M, nephew_sex=M, parent_sex=M)
    link = paternal_line(ped, "uncle", "nephew")
    assert link is not None and link.meioses == 3
    assert link.common_ancestor == ped["uncle"].father
    assert link.path_b == ("nephew", ped["nephew"].father, link.common_ancestor)
    assert maternal_line_meioses(ped, "uncle", "nephew") is None


def test_sisters_son_shares_mtdna_not_y():
    ped = avuncular("uncle", "nephew", uncle_sex=M, nephew_sex=M, parent_sex=F)
    assert maternal_line_meioses(ped, "uncle", "nephew") == 3
    assert maternal_line(ped, "uncle", "nephew").common_ancestor == ped["uncle"].mother
    assert paternal_line_meioses(ped, "uncle", "nephew") is None


def test_parent_child_cases():
    fs = parent_child("f", "s", parent_sex=M, child_sex=M)
    assert paternal_line_meioses(fs, "f", "s") == 1
    assert maternal_line_meioses(fs, "f", "s") is None
    ms = parent_child("m", "s", parent_sex=F, child_sex=M)
    assert maternal_line_meioses(ms, "m", "s") == 1
    assert maternal_line(ms, "s", "m").common_ancestor == "m"
    assert paternal_line_meioses(ms, "m", "s") is None
    fd = parent_child("f", "d", parent_sex=M, child_sex=F)
    assert paternal_line_meioses(fd, "f", "d") is None
    assert maternal_line_meioses(fd, "f", "d") is None
    app = applicable_lineages(fd, "f", "d")
    assert not app.y_applies and not app.mtdna_applies


def test_other_built_relationships():
    assert paternal_line_meioses(lineal("gg", "d", 3), "gg", "d") == 3
    assert paternal_line_meioses(lineal("gg", "d", 3, line_sex=F), "gg", "d") is None
    sibs = full_siblings("a", "b", M, M)
    assert paternal_line_meioses(sibs, "a", "b") == 2
    assert maternal_line_meioses(sibs, "a", "b") == 2
    sisters = full_siblings("a", "b", F, F)
    assert paternal_line_meioses(sisters, "a", "b") is None
    assert maternal_line_meioses(sisters, "a", "b") == 2
    hm = half_siblings("a", "b", M, M, shared="mother")
    assert (paternal_line_meioses(hm, "a", "b"), maternal_line_meioses(hm, "a", "b")) == (None, 2)
    hf = half_siblings("a", "b", M, M, shared="father")
    assert (paternal_line_meioses(hf, "a", "b"), maternal_line_meioses(hf, "a", "b")) == (2, None)
    # first cousins through two brothers: Y over 4 meioses; through two sisters: mtDNA over 4
    assert paternal_line_meioses(cousins("a", "b", 1, line_sex=M), "a", "b") == 4
    assert maternal_line_meioses(cousins("a", "b", 1, line_sex=M), "a", "b") is None
    assert maternal_line_meioses(cousins("a", "b", 1, line_sex=F, sex_a=M, sex_b=F), "a", "b") == 4
    # second cousins once removed through men
    assert paternal_line_meioses(cousins("a", "b", 2, removal=1), "a", "b") == 7
    assert paternal_line_meioses(sibs, "a", "a") == 0


def test_unknown_sex_and_unrelated():
    ped = full_siblings("a", "b", M, U)
    assert paternal_line_meioses(ped, "a", "b") is None
    assert maternal_line_meioses(ped, "a", "b") == 2
    two = Pedigree([Individual("a", M), Individual("b", M)])
    assert paternal_line(two, "a", "b") is None and maternal_line(two, "a", "b") is None
    with pytest.raises(KinmatchError):
        paternal_line_meioses(two, "a", "zz")


def test_hand_built_pedigree_with_loop():
    # grandfather g + grandmother h; son s (m. w), daughter d (m. x);
    # s's son p and d's daughter q marry: child c.
    people = [
        Individual("g", M), Individual("h", F), Individual("w", F), Individual("x", M),
        Individual("s", M, "g", "h"), Individual("d", F, "g", "h"),
        Individual("p", M, "s", "w"), Individual("q", F, "x", "d"),
        Individual("c", M, "p", "q"),
    ]
    ped = Pedigree(people)
    assert paternal_line(ped, "c", "g").meioses == 3          # c - p - s - g
    assert paternal_line(ped, "c", "s").common_ancestor == "s"
    assert maternal_line(ped, "c", "h").meioses == 3          # c - q - d - h
    assert maternal_line(ped, "c", "s").meioses == 4          # c-q-d-h and s-h
    assert maternal_line_meioses(ped, "c", "g") is None
    assert paternal_line_meioses(ped, "c", "x") is None
    loop = first_cousin_marriage_child("A")
    assert paternal_line_meioses(loop, "A", "A") == 0


def _brute_line(ped: Pedigree, a: str, b: str, line: str) -> int | None:
    """Shortest a - c - b path over downward transmission edges of one line, for any c."""
    if line == "paternal" and (ped.sex(a) != M or ped.sex(b) != M):
        return None

    def depth(start: str) -> dict[str, int]:
        out = {start: 0}
        frontier = [start]
        while frontier:
            nxt = []
            for pid in frontier:
                sex = ped.sex(pid)
                if (line == "paternal" and sex != M) or (line == "maternal" and sex != F):
                    continue
                for child in ped.children(pid):
                    if line == "paternal" and ped.sex(child) != M:
                        continue
                    if child not in out:
                        out[child] = out[pid] + 1
                        nxt.append(child)
            frontier = nxt
        return out

    best = None
    for c in ped.ids:
        d = depth(c)
        if a in d and b in d:
            total = d[a] + d[b]
            best = total if best is None else min(best, total)
    return best


def test_lines_against_brute_force_on_random_pedigrees():
    rng = np.random.default_rng(7)
    for trial in range(40):
        bld = PedigreeBuilder()
        people = [bld.founder(sex=M), bld.founder(sex=F)]
        for _ in range(12):
            parent = people[int(rng.integers(len(people)))]
            sex = M if rng.random() < 0.5 else F
            people.append(bld.couple_child(parent, sex=sex))
        ped = bld.build()
        ids = ped.ids
        for a, b in itertools.combinations_with_replacement(ids, 2):
            assert paternal_line_meioses(ped, a, b) == _brute_line(ped, a, b, "paternal"), (
                trial, a, b)
            assert maternal_line_meioses(ped, a, b) == _brute_line(ped, a, b, "maternal"), (
                trial, a, b)


# ---------------------------------------------------------------------------
# The Y mutation model
# ---------------------------------------------------------------------------


def _brute_steps(n: int, mu: float, w: float = 0.0) -> dict[int, float]:
    """Enumerate every sequence of per-meiosis steps with its probability."""
    step = {0: 1 - mu, 1: mu * (1 - w) / 2, -1: mu * (1 - w) / 2}
    if w:
        step.update({2: mu * w / 2, -2: mu * w / 2})
    out: dict[int, float] = {}
    for path in itertools.product(step, repeat=n):
        p = math.prod(step[s] for s in path)
        out[sum(path)] = out.get(sum(path), 0.0) + p
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("mu", [0.002, 0.05, 0.3])
def test_single_step_closed_form_against_enumeration(n, mu):
    brute = _brute_steps(n, mu)
    for d in range(-n - 2, n + 3):
        expected = brute.get(d, 0.0)
        assert single_step_difference_probability(d, n, mu) == pytest.approx(
            expected, rel=1e-12, abs=1e-15)
        assert step_probability(d, n, mu) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    dist = difference_distribution(n, mu)
    assert dist.sum() == pytest.approx(1.0)
    for d in range(-n, n + 1):
        assert dist[d + 2 * n] == pytest.approx(brute.get(d, 0.0), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_multistep_convolution_against_enumeration(n):
    mu, w = 0.1, 0.2
    brute = _brute_steps(n, mu, w)
    for d in range(-2 * n, 2 * n + 1):
        assert step_probability(d, n, mu, w) == pytest.approx(
            brute.get(d, 0.0), rel=1e-12, abs=1e-15)
    assert step_probability(2 * n + 1, n, mu, w) == 0.0


def _brute_locus(remains, reference, n, rate_per_copy):
    """Sum over every ordered outcome of each copy's change (|d| <= n) giving
    the reference multiset."""
    target = sorted(int(a) for a in reference)
    total = 0.0
    for diffs in itertools.product(range(-n, n + 1), repeat=len(remains)):
        values = sorted(int(a) + d for a, d in zip(remains, diffs))
        if values == target:
            total += math.prod(single_step_difference_probability(d, n, rate_per_copy)
                               for d in diffs)
    return total


@pytest.mark.parametrize("remains,reference", [
    (("11", "14"), ("11", "14")), (("11", "14"), ("11", "15")), (("11", "14"), ("12", "15")),
    (("12", "12"), ("12", "13")), (("12", "13"), ("12", "12")), (("12", "13"), ("13", "13")),
    (("11", "12"), ("11", "12")),
])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_two_copy_locus_against_enumeration(remains, reference, n):
    locus = YLocus("DYS385", 0.08, 2)
    got, _ = locus_probability(remains, reference, n, locus)
    assert got == pytest.approx(_brute_locus(remains, reference, n, 0.04), rel=1e-12, abs=1e-15)


def test_locus_special_cases():
    locus = YLocus("DYS19", 0.01)
    model = YMutationModel(other_change_rate=1e-4)
    assert locus_probability((), (), 3, locus, model)[0] == 1.0
    assert locus_probability((), ("14",), 3, locus, model)[0] == pytest.approx(1 - (1 - 1e-4) ** 3)
    # partial repeat change is not stepwise
    assert locus_probability(("18.2",), ("18",), 1, locus, model)[0] == pytest.approx(1e-4)
    # microvariants step within their group
    assert locus_probability(("18.2",), ("19.2",), 1, locus, model)[0] == pytest.approx(0.005)
    # a duplication inherited: each copy mutates at the locus rate
    p, _ = locus_probability(("14", "15"), ("14", "16"), 1, locus, model)
    assert p == pytest.approx(0.99 * 0.005)
    # copy number differs: other_change_rate times the average over correspondences
    p, note = locus_probability(("14",), ("14", "15"), 1, locus, model)
    assert "copy number" in note
    assert p == pytest.approx(1e-4 * (0.99 + 0.005) / 2)


# ---------------------------------------------------------------------------
# Haplotypes, parsing and the Y LR
# ---------------------------------------------------------------------------


def test_make_haplotype_normalises():
    h = make_haplotype("x", {"DYS385a": "14", "DYS385b": "11", "Y GATA H4": "12", "DYS19": "14,14",
                             "DYF387S1": "36", "DYS448": "null", "DYS392": "", "DYS458": "17.20"})
    assert h.get("DYS385") == ("11", "14")
    assert h.get("YGATAH4") == ("12",)
    assert h.get("DYS19") == ("14",)
    assert h.get("DYF387S1") == ("36", "36")
    assert h.get("DYS448") == ()
    assert h.get("DYS392") is None
    assert h.get("DYS458") == ("17.2",)
    dup = make_haplotype("y", {"DYS19": "15/14"})
    assert dup.get("DYS19") == ("14", "15")
    with pytest.raises(LineageError) as err:
        make_haplotype("z", {"DYS19": "14x"})
    assert err.value.location.field == "DYS19"
    with pytest.raises(LineageError):
        make_haplotype("z", {"DYS999": "14"})


def _pair():
    base = {name: "12" for name in YFILER_PLUS.names}
    base["DYS385"] = "13,17"
    base["DYF387S1"] = "36,38"
    remains = make_haplotype("remains", base)
    ref = dict(base)
    ref["DYS576"] = "13"            # one step
    ref["DYS385"] = "13,18"         # one step in one copy
    ref.pop("DYS19")                # untyped in the reference
    return remains, make_haplotype("reference", ref)


def test_y_lr_factorises_by_locus():
    remains, reference = _pair()
    db = YDatabase((remains, remains, reference))
    n = 3
    result = y_lineage_lr(remains, reference, n, db)
    expected = 1.0
    for locus in YFILER_PLUS:
        if locus.name == "DYS19":
            continue
        mu = locus.mutation_rate / locus.copies
        if locus.name == "DYS576":
            expected *= single_step_difference_probability(1, n, mu)
        elif locus.name == "DYS385":
            expected *= (single_step_difference_probability(0, n, mu)
                         * single_step_difference_probability(1, n, mu))
        elif locus.copies == 2:
            expected *= single_step_difference_probability(0, n, mu) ** 2
        else:
            expected *= single_step_difference_probability(0, n, mu)
    assert result.numerator == pytest.approx(expected, rel=1e-12)
    assert result.loci_skipped == ("DYS19",)
    assert set(result.mismatches) == {"DYS576", "DYS385"}
    # reference seen once among the 3 comparable entries: (1+1)/(3+1)
    assert result.frequency.value == pytest.approx(0.5)
    assert result.lr == pytest.approx(expected / 0.5)
    same = y_lineage_lr(remains, remains, 1, frequency=0.01)
    assert same.lr == pytest.approx(math.prod(
        (1 - loc.mutation_rate / loc.copies) ** loc.copies for loc in YFILER_PLUS) / 0.01)
    # a two-step difference at one meiosis is impossible without multi-step mutations
    far = make_haplotype("far", {"DYS19": "14"})
    near = make_haplotype("near", {"DYS19": "12"})
    assert y_lineage_lr(near, far, 1, frequency=0.1).lr == 0.0
    assert y_lineage_lr(near, far, 1, frequency=0.1,
                        model=YMutationModel(multistep_fraction=0.04)).lr > 0


def test_y_lr_in_pedigree():
    remains, reference = _pair()
    brothers_son = avuncular("remains", "ref", parent_sex=M)
    r = y_lineage_lr_in_pedigree(brothers_son, "remains", "ref", remains, reference, frequency=0.01)
    assert r is not None and r.meioses == 3
    sisters_son = avuncular("remains", "ref", parent_sex=F)
    assert y_lineage_lr_in_pedigree(sisters_son, "remains", "ref", remains, reference,
                                    frequency=0.01) is None


def test_read_y_long_and_wide(tmp_path):
    long = tmp_path / "long.tsv"
    long.write_text("sample\tlocus\tallele1\tallele2\n"
                    "R\tDYS19\t14\t\n"
                    "R\tDYS385a\t11\t\n"
                    "R\tDYS385b\t14\t\n"
                    "R\tDYS448\t0\t\n"
                    "F\tDYS19\t14\t15\n"
                    "F\tDYS385\t11\t14\n")
    haps = read_y_haplotypes(long)
    assert haps["R"].get("DYS385") == ("11", "14")
    assert haps["R"].get("DYS448") == ()
    assert haps["F"].get("DYS19") == ("14", "15")
    wide = "sample,DYS19,DYS385,Y-GATA-H4\nA,14,\"11,14\",12\nB,15,11/13,NA\n"
    haps = read_y_haplotypes("wide.csv", text=wide)
    assert haps["B"].get("DYS385") == ("11", "13") and haps["B"].get("YGATAH4") is None


@pytest.mark.parametrize("text,line,field,words", [
    ("sample\tlocus\talleles\nR\tDYS19\t14\nR\tDYS390\t2x\n", 3, "DYS390", "not a Y-STR allele"),
    ("sample\tlocus\talleles\nR\tDYS19\t14\nR\tDYS19\t15\n", 3, "DYS19", "twice"),
    ("sample\tlocus\talleles\nR\tDYS999\t14\n", 2, "locus", "unknown Y-STR locus"),
    ("sample\tDYS19\tDYS390\nA\t14\t23\nB\t14\tOL\n", 3, "DYS390", "not a Y-STR allele"),
    ("sample\tDYS19\nA\t14\nA\t15\n", 3, "sample", "appears twice"),
])
def test_y_parse_errors_are_located(text, line, field, words):
    with pytest.raises(LineageError) as err:
        read_y_haplotypes("case_y.tsv", text=text)
    loc = err.value.location
    assert (loc.file, loc.line, loc.field) == ("case_y.tsv", line, field)
    assert words in err.value.message
    assert "case_y.tsv" in str(err.value)


def test_read_locus_table(tmp_path):
    table = read_y_loci("rates.tsv", text="locus\trate\tcopies\nDYS19\t0.002\t\nDYS385\t0.004\t2\n")
    assert table["dys385"].copies == 2 and table["DYS19"].mutation_rate == 0.002
    with pytest.raises(LineageError) as err:
        read_y_loci("rates.tsv", text="locus\trate\nDYS19\tfast\n")
    assert (err.value.location.line, err.value.location.field) == (2, "rate")
    with pytest.raises(LineageError) as err:
        read_y_loci("rates.tsv", text="locus\trate\nDYS19\t0.1\nDYS-19\t0.2\n")
    assert err.value.location.line == 3


def test_default_rate_table_is_complete_and_labelled():
    assert len(YFILER_PLUS) == 25
    assert sum(loc.copies for loc in YFILER_PLUS) == 27
    for loc in YFILER_PLUS:
        assert 1e-4 < loc.mutation_rate < 0.05 and loc.source
    assert "APPROXIMATE" in YFILER_PLUS["DYS385"].source


# ---------------------------------------------------------------------------
# Frequencies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("x,n", [(0, 1), (0, 200), (1, 200), (7, 165), (50, 60), (60, 60)])
def test_clopper_pearson_against_scipy(x, n):
    alpha = 0.05
    upper = clopper_pearson_upper(x, n, 0.95)
    if x < n:
        assert upper == pytest.approx(stats.beta.ppf(1 - alpha, x + 1, n - x), rel=1e-10)
        assert stats.binom.cdf(x, n, upper) == pytest.approx(alpha, rel=1e-7)
    else:
        assert upper == 1.0
    if x == 0:
        assert upper == pytest.approx(1 - alpha ** (1 / n))
    # the two-sided exact 90% interval has the same upper end
    ci = stats.binomtest(x, n).proportion_ci(confidence_level=0.90, method="exact")
    assert upper == pytest.approx(ci.high, rel=1e-9)


def _db(keys):
    return YDatabase(tuple(make_haplotype(f"d{i}", {"DYS19": k[0], "DYS390": k[1]})
                           for i, k in enumerate(keys)))


def test_counting_and_kappa():
    db = _db([("14", "23"), ("14", "23"), ("15", "23"), ("16", "24"), ("14", "24")])
    seen = make_haplotype("q", {"DYS19": "14", "DYS390": "23"})
    unseen = make_haplotype("u", {"DYS19": "17", "DYS390": "22"})
    est = haplotype_frequency(seen, db)
    assert (est.count, est.database_size, est.value) == (2, 5, pytest.approx(3 / 6))
    assert haplotype_frequency(seen, db, method="count").value == pytest.approx(0.4)
    assert haplotype_frequency(unseen, db, method="clopper_pearson").value == pytest.approx(
        1 - 0.05 ** (1 / 5))
    k, n = kappa(db, ("DYS19", "DYS390"))
    assert (k, n) == (pytest.approx(3 / 5), 5)
    assert haplotype_frequency(unseen, db, method="kappa").value == pytest.approx((1 - 3 / 5) / 5)
    # counting over one locus only; an entry untyped there is left out
    partial = YDatabase((*db.haplotypes, make_haplotype("p", {"DYS390": "23"})))
    est = haplotype_frequency(seen, partial, loci=("DYS19",), method="count")
    assert (est.count, est.database_size) == (3, 5)
    with pytest.raises(LineageError):
        haplotype_frequency(seen, db, method="magic")


def _simulate_mixture(rng, n, tau, centres, p):
    clusters = rng.choice(len(tau), size=n, p=tau)
    # discrete Laplace = difference of two geometric variables with success 1 - p
    out = np.empty((n, centres.shape[1]), dtype=int)
    for i, j in enumerate(clusters):
        g1 = rng.geometric(1 - p[j], size=centres.shape[1]) - 1
        g2 = rng.geometric(1 - p[j], size=centres.shape[1]) - 1
        out[i] = centres[j] + g1 - g2
    return out


def test_discrete_laplace_pmf_and_mle():
    xs = np.arange(-60, 61)
    for p in (0.05, 0.3, 0.7):
        assert discrete_laplace_pmf(xs, 0, p).sum() == pytest.approx(1.0, abs=1e-9)
        dbar = float((discrete_laplace_pmf(xs, 0, p) * np.abs(xs)).sum())
        # the closed-form MLE inverts the mean distance ...
        assert discrete_laplace_dispersion(np.array([dbar]))[0] == pytest.approx(p, rel=1e-6)
        # ... and maximises the likelihood numerically too
        res = optimize.minimize_scalar(
            lambda q, dbar=dbar: -(np.log((1 - q) / (1 + q)) + dbar * np.log(q)),
            bounds=(1e-6, 0.999),
            method="bounded", options={"xatol": 1e-10})
        assert res.x == pytest.approx(p, rel=1e-4)


@pytest.mark.slow
def test_discrete_laplace_fit_on_simulated_database(monkeypatch):
    rng = np.random.default_rng(11)
    loci = ["DYS19", "DYS390", "DYS391", "DYS392", "DYS393", "DYS437", "DYS438", "DYS439"]
    centres = np.array([[14, 23, 10, 13, 13, 14, 10, 12],
                        [16, 21, 11, 11, 12, 15, 9, 11],
                        [15, 24, 10, 14, 14, 16, 12, 13]])
    tau = np.array([0.5, 0.3, 0.2])
    p = np.array([[0.15] * 8, [0.2] * 8, [0.1] * 8])
    data = _simulate_mixture(rng, 1500, tau, centres, p[:, 0])
    db = YDatabase(tuple(make_haplotype(f"s{i}", dict(zip(loci, map(str, row))))
                         for i, row in enumerate(data)))
    model = fit_discrete_laplace(db, loci, max_clusters=5, seed=3)
    assert model.n_clusters == 3
    assert sorted(np.round(model.tau, 1)) == pytest.approx([0.2, 0.3, 0.5], abs=0.06)

    def true_prob(row):
        return float(sum(t * np.prod(discrete_laplace_pmf(row, c, pp[0]))
                         for t, c, pp in zip(tau, centres, p)))

    # estimates over a large set of distinct haplotypes sum to at most 1
    big = _simulate_mixture(np.random.default_rng(12), 20000, tau, centres, p[:, 0])
    distinct = {tuple(r) for r in big}
    total = 0.0
    for row in distinct:
        total += math.exp(model.log_probability_vector(np.asarray(row, dtype=float)))
    assert 0.5 < total <= 1.0
    # haplotype_frequency fits the same model (same options) and caches it on the database
    fits = []

    def counted_fit(*args, **kwargs):
        fits.append(args)
        return fit_discrete_laplace(*args, **kwargs)

    monkeypatch.setattr(ystr, "fit_discrete_laplace", counted_fit)
    first = make_haplotype("q", dict(zip(loci, map(str, big[0]))))
    est = haplotype_frequency(first, db, loci, method="discrete_laplace", max_clusters=5, seed=3)
    assert est.value == pytest.approx(model.probability(first)[0], rel=1e-9)
    second = make_haplotype("r", dict(zip(loci, map(str, big[1]))))
    again = haplotype_frequency(second, db, loci, method="discrete_laplace", max_clusters=5,
                                seed=3)
    assert again.value == pytest.approx(model.probability(second)[0], rel=1e-9)
    assert est.method == "discrete_laplace" and len(fits) == 1
    # sensible values: the cluster centres are the commonest haplotypes, estimated within 25 %
    for c in centres:
        h = make_haplotype("c", dict(zip(loci, map(str, c))))
        est = model.probability(h)[0]
        assert est == pytest.approx(true_prob(c), rel=0.25)
    # a haplotype far from every centre is rare but not zero
    odd = make_haplotype("o", dict(zip(loci, ["20", "30", "5", "20", "20", "20", "20", "20"])))
    assert 0 < model.probability(odd)[0] < 1e-8
    # an irregular allele is integrated out, which never lowers the estimate
    micro = make_haplotype("m", dict(zip(loci, ["14.2"] + [str(v) for v in centres[0][1:]])))
    assert model.probability(micro)[0] >= model.probability(
        make_haplotype("c", dict(zip(loci, map(str, centres[0])))))[0]


def test_discrete_laplace_sums_to_one_on_a_grid():
    rng = np.random.default_rng(5)
    data = _simulate_mixture(rng, 300, np.array([0.6, 0.4]), np.array([[14, 23], [17, 20]]),
                             np.array([0.2, 0.3]))
    db = YDatabase(tuple(make_haplotype(f"s{i}", {"DYS19": str(a), "DYS390": str(b)})
                         for i, (a, b) in enumerate(data)))
    model = fit_discrete_laplace(db, ("DYS19", "DYS390"))
    grid = sum(model.probability(make_haplotype("g", {"DYS19": str(a), "DYS390": str(b)}))[0]
               for a in range(1, 60) for b in range(1, 70))
    assert grid == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------------------
# mtDNA
# ---------------------------------------------------------------------------


def test_mt_notation_is_normalised():
    a = parse_mt_profile("16093c 16223T, 263G 315.1CC 249d A73G 16519C", sample="a")
    assert a.notation == "73G 249DEL 263G 315.1C 315.2C 16093C 16223T 16519C"
    for spelling in ("249d", "249DEL", "249del", "249-", "249D"):
        assert str(parse_variants(spelling)[0]) == "249DEL"
    assert parse_variants("16093Y")[0].is_heteroplasmy
    assert parse_variants("A73G")[0].ref == "A"
    for bad in ("16093X", "99999A", "315.1d", "73", "A73A", "16093C 16093T"):
        with pytest.raises(LineageError):
            parse_variants(bad)
    with pytest.raises(LineageError):
        parse_mt_profile("16093C", "1-576")          # outside the range


def test_seq_ranges():
    r = SeqRange.parse("16024-576")
    assert str(r) == "1-576,16024-16569" and len(r) == 576 + 546
    assert r == SeqRange.parse("16024-16569, 1-576")
    s = SeqRange.parse("16024-16365,73-340")
    assert str(r & s) == "73-340,16024-16365"
    assert r.covers(s) and not s.covers(r)
    for bad in ("", "1-99999", "abc"):
        with pytest.raises(LineageError):
            SeqRange.parse(bad)


def _profile(text, range="16024-16569,1-576", sample="x"):
    return parse_mt_profile(text, range, sample)


@pytest.mark.parametrize("a,b,n_diff,conclusion", [
    ("16223T 263G", "16223T 263G", 0, MtConclusion.MATCH),
    ("16223T 263G", "16223T", 1, MtConclusion.INCONCLUSIVE),
    ("16223T 263G", "16224C", 3, MtConclusion.EXCLUSION),
    ("16093Y 263G", "16093C 263G", 0, MtConclusion.MATCH),        # heteroplasmy vs one of its bases
    ("16093Y 263G", "263G", 0, MtConclusion.MATCH),               # ... vs the rCRS base
    ("T16093Y 263G", "263G", 0, MtConclusion.MATCH),
    ("16093Y 263G", "16093A 263G", 1, MtConclusion.INCONCLUSIVE),
    ("16093R", "16093Y", 1, MtConclusion.INCONCLUSIVE),           # no base in common
    ("16093Y", "16093K", 0, MtConclusion.MATCH),                  # share T
    ("16093N", "16093A", 0, MtConclusion.MATCH),
    ("249DEL 263G", "263G", 1, MtConclusion.INCONCLUSIVE),
    ("315.1C 16193.1C 263G", "263G", 0, MtConclusion.MATCH),      # C-stretch length ignored
    ("315.1C 263G 16183C 16189C", "263G 309.1C 309.2C", 2, MtConclusion.EXCLUSION),
])
def test_mt_comparison_rules(a, b, n_diff, conclusion):
    result = compare_profiles(_profile(a, sample="a"), _profile(b, sample="b"))
    assert len(result.differences) == n_diff
    assert result.conclusion == conclusion


def test_mt_comparison_options_and_ranges():
    a = _profile("16193.1C 263G")
    b = _profile("263G")
    assert (compare_profiles(a, b, ignore_c_stretch_length=False).conclusion
            == MtConclusion.INCONCLUSIVE)
    # a difference outside the other's range is not a difference
    short = _profile("16223T", "16024-16365")
    full = _profile("16223T 263G 16519C")
    cmp = compare_profiles(short, full)
    assert cmp.conclusion == MtConclusion.MATCH and str(cmp.range) == "16024-16365"
    assert compare_profiles(_profile("16223T 263G 16519C"), _profile("16223T"),
                            ignore_positions=[263, 16519]).conclusion == MtConclusion.MATCH
    with pytest.raises(LineageError):
        compare_profiles(_profile("73G", "1-576"), _profile("16223T", "16024-16569"))


def test_mt_frequency_and_lr():
    ref = _profile("16223T 263G", sample="ref")
    others = [_profile("16223T 263G", sample=f"m{i}") for i in range(3)]
    others += [_profile("16223T 263G 16093Y", sample="het")]            # cannot be excluded
    others += [_profile(f"16223T 263G {16100 + i}C", sample=f"o{i}") for i in range(15)]
    others += [_profile("16223T", "16100-16300", sample="short")]  # does not cover: left out
    db = MtDatabase(tuple(others))
    est = mt_frequency(ref, db)
    assert (est.count, est.database_size) == (4, 19)
    assert est.value == pytest.approx(stats.beta.ppf(0.95, 5, 15))
    remains = _profile("16223T 263G 16093Y", sample="remains")
    result = mt_lineage_lr(remains, ref, db, meioses=3)
    assert result.conclusion == MtConclusion.MATCH
    assert result.lr == pytest.approx(1 / est.value)
    with_mu = mt_lineage_lr(remains, ref, db, meioses=3, mutation_rate=0.01)
    assert with_mu.lr == pytest.approx(0.99**3 / est.value)
    plus_one = mt_lineage_lr(remains, ref, db, method="count_plus_one")
    assert plus_one.lr == pytest.approx(20 / 5)
    one = mt_lineage_lr(_profile("16223T"), ref, db)
    assert one.conclusion == MtConclusion.INCONCLUSIVE and one.lr is None
    assert mt_lineage_lr(_profile("16223T"), ref, db, inconclusive_lr=1.0).lr == 1.0
    excl = mt_lineage_lr(_profile("16224C"), ref, db)
    assert excl.conclusion == MtConclusion.EXCLUSION and excl.lr == 0.0


def test_mt_in_pedigree_and_combined():
    ref = _profile("16223T 263G", sample="ref")
    remains = _profile("16223T 263G", sample="remains")
    db = MtDatabase(tuple(_profile(f"{16100 + i}C", sample=f"o{i}") for i in range(99)))
    sisters_son = avuncular("remains", "ref", parent_sex=F)
    mt = mt_lineage_lr_in_pedigree(sisters_son, "remains", "ref", remains, ref, database=db)
    assert mt.meioses == 3
    assert mt.lr == pytest.approx(1 / (1 - 0.05 ** (1 / 99)))
    brothers_son = avuncular("remains", "ref", parent_sex=M)
    assert mt_lineage_lr_in_pedigree(brothers_son, "remains", "ref", remains, ref,
                                     database=db) is None
    y_remains, y_ref = _pair()
    y = y_lineage_lr(y_remains, y_ref, 3, frequency=0.002)
    combined = CombinedLR(autosomal=12.5, y=y, mtdna=mt)
    assert combined.total == pytest.approx(12.5 * y.lr * mt.lr)
    assert combined.parts["y"] == y.lr
    only = CombinedLR(autosomal=3.0, mtdna=mt_lineage_lr(_profile("16223T"), ref, db))
    assert only.total == 3.0 and any("inconclusive" in n for n in only.notes)


@pytest.mark.parametrize("text,line,field", [
    ("sample\trange\tvariants\na\t16024-576\t16223T\nb\t16024-576\t16223Q\n", 3, "variants"),
    ("sample\trange\tvariants\na\t16024-99999\t16223T\n", 2, "range"),
    ("sample\trange\tvariants\na\t16024-576\t16223T\na\t16024-576\t263G\n", 3, "sample"),
    ("sample\trange\tvariants\na\t16024-16365\t263G\n", 2, "variants"),
    ("sample\tvariants\na\t263G\n", 2, "range"),
])
def test_mt_parse_errors_are_located(text, line, field):
    with pytest.raises(LineageError) as err:
        read_mt_profiles("mt.tsv", text=text)
    assert (err.value.location.file, err.value.location.line, err.value.location.field) == (
        "mt.tsv", line, field)


def test_mt_default_range():
    profiles = read_mt_profiles("mt.csv", text="sample,variants\na,16223T 263G\n",
                                default_range="16024-576")
    assert str(profiles["a"].range) == "1-576,16024-16569"


# ---------------------------------------------------------------------------
# Shipped synthetic examples
# ---------------------------------------------------------------------------


def test_example_databases():
    y_path = LINEAGE_EXAMPLES / "y_database_synthetic.tsv"
    mt_path = LINEAGE_EXAMPLES / "mt_database_synthetic.tsv"
    for path in (y_path, mt_path):
        assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0]
    ydb = read_y_database(y_path)
    mdb = read_mt_database(mt_path)
    assert len(ydb) == 200 and len(mdb) == 200
    assert all(len(h.loci) == 25 for h in ydb.haplotypes)
    case = read_y_haplotypes(LINEAGE_EXAMPLES / "case_y.tsv")
    result = y_lineage_lr(case["remains-07"], case["ref-nephew"], 3, ydb)
    assert result.lr > 1 and result.mismatches
    mt_case = read_mt_profiles(LINEAGE_EXAMPLES / "case_mt.tsv")
    mt = mt_lineage_lr(mt_case["remains-07"], mt_case["ref-sisters-son"], mdb, meioses=3)
    assert mt.conclusion == MtConclusion.MATCH and mt.lr > 1


def test_example_rate_table_matches_default():
    table = read_y_loci(LINEAGE_EXAMPLES / "yfiler_plus_rates.tsv")
    assert [(x.name, x.mutation_rate, x.copies) for x in table] == [
        (x.name, x.mutation_rate, x.copies) for x in YFILER_PLUS]


@pytest.mark.parametrize("seed", [0, 1, slow_param(2)])
def test_mt_frequency_shortcut_equals_comparing_every_profile(seed):
    """mt_frequency counts plain profiles (single bases and deletions that
    differ from the listed rCRS base) by their sets of differences; it must
    count exactly what compare_profiles concludes, with heteroplasmies, N,
    insertions in and outside C-stretches, variants equal to the listed
    reference base, shorter ranges and every comparison option."""
    rng = np.random.default_rng(seed)
    pool = ["16223T", "263G", "16093C", "73G", "16519C", "309.1C", "315.1C", "16189C",
            "16311C", "152C", "16093Y", "N16129", "523DEL", "16182-", "A73G", "16129R",
            "455.1T", "150T"]
    pool = [t for t in pool if t not in ("N16129", "16182-")] + ["16129N", "16182DEL"]

    def position(token):
        return int("".join(c for c in token.split(".")[0] if c.isdigit()))

    def random_profile(i):
        short = rng.random() < 0.1
        usable = [t for t in pool if not short or 16024 <= position(t) <= 16365]
        k = int(rng.integers(0, 5))
        tokens, keys = [], set()
        for t in (rng.choice(usable, size=k, replace=False) if k else []):
            key = "".join(c for c in t if c.isdigit() or c == ".")
            if key not in keys:
                keys.add(key)
                tokens.append(str(t))
        return _profile(" ".join(tokens), "16024-16365" if short else "16024-16569,1-576",
                        sample=f"p{i}")

    db = MtDatabase(tuple(random_profile(i) for i in range(150)))
    options = [{}, {"ignore_c_stretch_length": False}, {"ignore_positions": [263, 16519]},
               {"inconclusive_differences": 2, "exclusion_differences": 3}]
    for q in range(25):
        query = random_profile(1000 + q)
        for opts in options:
            target = query.range
            comparable = [p for p in db.profiles if p.range.covers(target)]
            want = sum(compare_profiles(query, p, target, **opts).conclusion == MtConclusion.MATCH
                       for p in comparable)
            assert mt_frequency(query, db, **opts).count == want


# ---------------------------------------------------------------------------
# Issue 13, item 5: faults found against an independent implementation
# ---------------------------------------------------------------------------

YFILER = ("DYS456", "DYS389I", "DYS390", "DYS389II", "DYS458", "DYS19", "DYS385", "DYS393",
          "DYS391", "DYS439", "DYS635", "DYS392", "YGATAH4", "DYS437", "DYS438", "DYS448")


def _yfiler_only(db: YDatabase) -> YDatabase:
    return YDatabase(tuple(ystr.YHaplotype(h.sample, {k: v for k, v in h.alleles.items()
                                                     if k in YFILER})
                           for h in db.haplotypes), db.loci, "yfiler")


def _p0_product(loci, n):
    """prod over ``loci`` of P_n(0), DYS389II as the B block when DYS389I is there too."""
    out = 1.0
    for name in loci:
        mu = YFILER_PLUS[name].mutation_rate
        if name == "DYS389II" and "DYS389I" in loci:
            mu = max(mu - YFILER_PLUS["DYS389I"].mutation_rate, ystr.DYS389B_MIN_RATE)
        copies = YFILER_PLUS[name].copies
        out *= single_step_difference_probability(0, n, mu / copies) ** copies
    return out


def test_yfiler_database_with_a_yfiler_plus_case_compares_over_the_database_loci():
    # old: every database entry lacked a compared locus, N = 0 and (0+1)/(0+1) = 1, so a
    # 21-locus perfect match got Y LR 0.770 with no warning
    db = _yfiler_only(read_y_database(EXAMPLES / "lineage" / "y_database_synthetic.tsv"))
    case = read_y_haplotypes(EXAMPLES / "lineage" / "case_y.tsv")
    remains = case["remains-07"]
    same = ystr.YHaplotype("ref", dict(remains.alleles))
    with pytest.warns(KinmatchWarning, match="lacks DYS576, DYS460, DYS570, DYS481, DYS533"):
        res = y_lineage_lr(remains, same, 3, database=db)
    assert set(res.loci_compared) == set(YFILER)
    assert res.not_in_database == ("DYS576", "DYS460", "DYS570", "DYS481", "DYS533")
    assert "left out (not in the database)" in res.note
    for t in res.terms:
        if t.locus in res.not_in_database:
            assert t.probability is None and "not in the database" in t.note
    assert res.frequency.database_size == 200 and res.frequency.count == 0
    assert res.frequency.value == pytest.approx(1 / 201)
    assert res.numerator == pytest.approx(_p0_product(YFILER, 3), rel=1e-12)
    assert res.lr == pytest.approx(_p0_product(YFILER, 3) * 201, rel=1e-12)   # 175.2
    assert res.lr > 100


def test_a_transmission_worked_out_already_is_used_only_where_it_is_the_same():
    """y_lineage_lr(..., transmission=...) takes the caller's numerator and terms
    (over every locus typed in both) when the database has all those loci, and
    works them out over the database's loci otherwise: the result is the one
    computed from scratch either way."""
    full = read_y_database(EXAMPLES / "lineage" / "y_database_synthetic.tsv")
    case = read_y_haplotypes(EXAMPLES / "lineage" / "case_y.tsv")
    remains, reference = case["remains-07"], case["ref-nephew"]
    table = full.loci
    for db in (full, _yfiler_only(full)):
        for n in (1, 4):
            given = paternal_transmission_probability(remains, reference, n, table)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", KinmatchWarning)
                want = y_lineage_lr(remains, reference, n, database=db)
                got = y_lineage_lr(remains, reference, n, database=db, transmission=given)
            assert got == want
            assert (got.terms is given[1]) == (db is full)
    # a transmission the database cannot use (it lacks loci compared there) is not used
    bogus = (0.5, given[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KinmatchWarning)
        assert y_lineage_lr(remains, reference, 4, database=_yfiler_only(full),
                            transmission=bogus).numerator == want.numerator


def test_no_comparable_database_entry_is_an_error_never_frequency_one():
    # entries typed at DYS19 only or at DYS390 only: no entry is typed at both
    db = YDatabase(tuple(make_haplotype(f"d{i}", {"DYS19": "14"} if i % 2 else {"DYS390": "23"})
                         for i in range(10)))
    h = make_haplotype("q", {"DYS19": "14", "DYS390": "23"})
    for method in ("count_plus_one", "clopper_pearson", "count", "kappa"):
        with pytest.raises(LineageError, match="N = 0"):
            haplotype_frequency(h, db, ("DYS19", "DYS390"), method)
    with pytest.raises(LineageError, match="N = 0"):
        y_lineage_lr(h, h, 1, database=db)
    with pytest.raises(LineageError, match="N = 0"):
        counting_estimate(0, 0, "count_plus_one")


def test_dys389_shared_block_is_charged_once():
    # DYS389II spans DYS389I: a one-step change of the shared block shows at both
    mu1 = YFILER_PLUS["DYS389I"].mutation_rate
    mu2 = YFILER_PLUS["DYS389II"].mutation_rate
    mu_b = mu2 - mu1
    assert ystr.dys389b_rate(YFILER_PLUS["DYS389I"], YFILER_PLUS["DYS389II"]) == mu_b
    father = make_haplotype("f", {"DYS389I": "13", "DYS389II": "29", "DYS19": "14"})
    son = make_haplotype("s", {"DYS389I": "14", "DYS389II": "30", "DYS19": "14"})
    res = y_lineage_lr(father, son, 1, frequency=0.01)
    mu19 = YFILER_PLUS["DYS19"].mutation_rate
    want = mu1 / 2 * (1 - mu_b) * (1 - mu19)
    assert res.numerator == pytest.approx(want, rel=1e-12)
    old = mu1 / 2 * mu2 / 2 * (1 - mu19)      # both loci charged: about 460 times smaller
    assert res.numerator / old == pytest.approx(2 * (1 - mu_b) / mu2, rel=1e-12)
    assert 455 < res.numerator / old < 465
    term = next(t for t in res.terms if t.locus == "DYS389II")
    assert term.compared_as == (("16",), ("16",)) and term.matches and term.steps == (0,)
    assert res.mismatches == ("DYS389I",)
    # a change of the B block alone: DYS389II changes, DYS389I does not
    other = make_haplotype("o", {"DYS389I": "13", "DYS389II": "30", "DYS19": "14"})
    got = y_lineage_lr(father, other, 2, frequency=0.01).numerator
    assert got == pytest.approx(single_step_difference_probability(0, 2, mu1)
                                * single_step_difference_probability(1, 2, mu_b)
                                * single_step_difference_probability(0, 2, mu19), rel=1e-12)
    # without DYS389I in one profile, DYS389II is compared as itself at its own rate
    lone = make_haplotype("l", {"DYS389II": "30", "DYS19": "14"})
    got = y_lineage_lr(father, lone, 1, frequency=0.01)
    assert got.numerator == pytest.approx(mu2 / 2 * (1 - mu19), rel=1e-12)
    assert next(t for t in got.terms if t.locus == "DYS389II").compared_as is None
    # microvariants: bases of the tetranucleotide repeat
    assert ystr.dys389b_alleles(("13",), ("29.2",)) == ("16.2",)
    assert ystr.dys389b_alleles(("13.2",), ("29",)) == ("15.2",)
    assert ystr.dys389b_alleles((), ("29",)) is None
    # a table whose DYS389II rate is not above DYS389I's: the floor
    assert ystr.dys389b_rate(YLocus("DYS389I", 0.004), YLocus("DYS389II", 0.003)) == \
        ystr.DYS389B_MIN_RATE


def test_dys389_frequencies_use_the_same_representation():
    db = read_y_database(EXAMPLES / "lineage" / "y_database_synthetic.tsv")
    loci = ("DYS19", "DYS389I", "DYS389II", "DYS390")
    # counting: (I, II) and (I, II - I) identify the same haplotypes
    for h in db.haplotypes[:20]:
        est = haplotype_frequency(h, db, loci)
        keys = {(k.get("DYS19"), k.get("DYS389I"),
                 ystr.dys389b_alleles(k.get("DYS389I"), k.get("DYS389II")), k.get("DYS390"))
                for k in (h,)}
        same = sum(1 for k in db.haplotypes
                   if (k.get("DYS19"), k.get("DYS389I"),
                       ystr.dys389b_alleles(k.get("DYS389I"), k.get("DYS389II")),
                       k.get("DYS390")) in keys)
        assert est.count == same
    # discrete Laplace: the DYS389II column holds the B block
    model = fit_discrete_laplace(db, loci, clusters=1)
    assert model.dys389 == ("DYS389I", "DYS389II")
    j = model.columns.index(("DYS389II", 0))
    blocks = [int(ystr.dys389b_alleles(h.get("DYS389I"), h.get("DYS389II"))[0])
              for h in db.haplotypes]
    assert model.centres[0, j] == pytest.approx(np.median(blocks), abs=0.5)  # not ~29


def test_copy_number_change_is_the_other_change_times_the_stepwise_average():
    # docs/lineage.md: P = (1 - (1 - r)^n) × mean over correspondences of the stepwise terms
    r, n = 1e-4, 3
    model = YMutationModel(other_change_rate=r)
    dys385 = YLocus("DYS385", 0.0068, 2)
    p, note = locus_probability(("11", "14"), ("11",), n, dys385, model)
    mu = 0.0068 / 2
    stepwise = (single_step_difference_probability(0, n, mu)
                + single_step_difference_probability(3, n, mu)) / 2
    assert p == pytest.approx((1 - (1 - r) ** n) * stepwise, rel=1e-12)
    assert "copy number" in note
    # the rules a reviewer needs: null in both counts 1, "14,14" at a single-copy locus
    # is one allele, a partial-repeat change is the other change alone
    dys19 = YLocus("DYS19", 0.0022)
    assert locus_probability((), (), n, dys19, model)[0] == 1.0
    assert make_haplotype("x", {"DYS19": "14,14"}).get("DYS19") == ("14",)
    assert locus_probability(("18",), ("19.2",), n, dys19, model)[0] == \
        pytest.approx(1 - (1 - r) ** n)
    doc = (EXAMPLES.parent / "docs" / "lineage.md").read_text()
    assert "(1 − (1 − r)^n) × (1/C) Σ" in doc
