"""The full DVI pipeline (dvir's dviSolve): reference datasets and hand-built cases.

Reference datasets: the AM and PM tables dvir 3.4.2's ``dviSolve`` produced
(``dviSolve`` entry of each ../shared/reference/dvir/dvi_*.json) must come out
row for row: same samples, missing persons, families, conclusions and
comments; LR and GLR to 5e-9 relative (the inputs' allele frequencies are
rounded to 10 significant digits, see tests/test_dvi_pairwise.py).

Hand-built cases: every marker has alleles 1, 2, 3 with frequencies
p1 = p2 = 0.1 and p3 = 0.8, so each expected LR is a short formula written
next to the case (per marker, then to the power of the number of markers).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dvir_cases import check_reference_cases_found, dvir_case_paths, load_dvir_case
from support import quietly

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.dvi.case import ReferenceFamily as RF
from kinmatch.dvi.solve import DVISolution, format_lr, solve_case, undisputed_entries
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import Individual, Pedigree, Sex, pedigree_from_records
from kinmatch.relationships import describe_relationship
from kinmatch.simulate import simulate_genotypes

RTOL = 5e-9  # rounded allele frequencies in the reference inputs (see module docstring)

PATHS = [p for p in dvir_case_paths()
         if load_dvir_case(p)[1].get("dviSolve") and load_dvir_case(p)[0].families]

AM_COLUMNS = [("Family", "family"), ("Missing", "missing_person"), ("Sample", "sample"),
              ("LR", "lr"), ("GLR", "glr"), ("Conclusion", "conclusion"), ("Comment", "comment")]
PM_COLUMNS = [("Sample", "sample"), ("Missing", "missing_person"), ("Family", "family"),
              ("LR", "lr"), ("GLR", "glr"), ("Conclusion", "conclusion"), ("Comment", "comment")]


def _solve(case: DVICase, **kw) -> DVISolution:
    return quietly(solve_case, case, **kw)


def _assert_table(expected, got, columns, label):
    assert len(got) == len(expected), f"{label}: {len(got)} rows, dvir has {len(expected)}"
    for e, g in zip(expected, got):
        key = e.get(columns[0][0])
        for dvir_name, name in columns:
            want, have = e.get(dvir_name), g[name]  # a key absent from dvir's JSON is NA
            where = f"{label} {key} {dvir_name}"
            if isinstance(want, (int, float)) and not isinstance(want, bool):
                assert have is not None, f"{where}: dvir {want}, got NA"
                assert have == pytest.approx(want, rel=RTOL, abs=0), where
            else:
                assert have == want, f"{where}: dvir {want!r}, got {have!r}"


def test_reference_cases_are_found():
    check_reference_cases_found(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_dvi_solve_equals_dvir(path):
    case, data = load_dvir_case(path)
    expected = data["dviSolve"]
    solution = _solve(case, threshold=expected["threshold"])
    out = solution.to_dict()
    _assert_table(expected["AM"], out["missing_persons"], AM_COLUMNS, "AM")
    _assert_table(expected["PM"], out["samples"], PM_COLUMNS, "PM")
    json.dumps(out)  # plain data


# ---------------------------------------------------------------------------
# Hand-built cases

P = 0.1  # frequency of alleles 1 and 2 (allele 3: 0.8)


def _markers(n):
    return [Marker.create(f"L{i}", ["1", "2", "3"], [P, P, 0.8]) for i in range(n)]


def _profile(n, *genotypes):
    """``genotypes`` repeated over ``n`` markers, or one genotype per marker."""
    gs = list(genotypes) * n if len(genotypes) == 1 else list(genotypes)
    assert len(gs) == n
    return {f"L{i}": tuple(g) for i, g in enumerate(gs)}


def _sample(sid, n, *genotypes, sex=Sex.MALE):
    return PostMortemSample(sid, _profile(n, *genotypes), sex)


def _grandfather_family(name, n, *, ref="R", m1="M1", m2="M2", genotype="11"):
    """``ref`` (typed ``genotype`` everywhere) -> son ``m1`` -> grandson ``m2``; wives untyped."""
    ped = pedigree_from_records([
        {"id": ref, "sex": 1}, {"id": f"{name}w1", "sex": 2},
        {"id": m1, "sex": 1, "father": ref, "mother": f"{name}w1"},
        {"id": f"{name}w2", "sex": 2},
        {"id": m2, "sex": 1, "father": m1, "mother": f"{name}w2"}])
    return ReferenceFamily(name, ped, (m1, m2), {ref: _profile(n, genotype)})


def _father_family(name, n, missing, *, ref, sex=Sex.MALE, genotype="11", missing_sex=1):
    """Typed father ``ref`` and his missing child ``missing``; mother untyped."""
    ped = pedigree_from_records([
        {"id": ref, "sex": 1}, {"id": f"{name}mo", "sex": 2},
        {"id": missing, "sex": missing_sex, "father": ref, "mother": f"{name}mo"}])
    return ReferenceFamily(name, ped, (missing,), {ref: _profile(n, genotype)})


def _grandchild_family(name, n, missing, *, ref):
    """Typed grandfather ``ref`` (1/1) of missing ``missing``; the parent between is untyped."""
    ped = pedigree_from_records([
        {"id": ref, "sex": 1}, {"id": f"{name}w", "sex": 2},
        {"id": f"{name}u", "sex": 1, "father": ref, "mother": f"{name}w"},
        {"id": f"{name}w2", "sex": 2},
        {"id": missing, "sex": 1, "father": f"{name}u", "mother": f"{name}w2"}])
    return ReferenceFamily(name, ped, (missing,), {ref: _profile(n, "11")})


def test_undisputed_steps_transfer_the_sample_into_its_family():
    """R (1/1) is the father of M1 and grandfather of M2; per marker, for V1 = 1/2:
    LR(V1, M1) = P(12 | father 11) / P(12) = p2 / (2 p1 p2) = 5 and
    LR(V1, M2) = (p2/2 + p1 p2) / (2 p1 p2) = 3; for V2 = 2/2, LR(V2, M1) = 0 and
    LR(V2, M2) = (p2/2) p2 / p2^2 = 1/2. Over 6 markers V1 = M1 is undisputed at
    threshold 20 (5^6 = 15625 >= 20 and 3^6 = 729 <= 15625/20). Once V1's profile sits
    at M1, V2 is M1's child: LR(V2, M2) = P(22 | father 12) / p2^2 = (p2/2) / p2^2 = 5,
    so 5^6 = 15625 at step 2."""
    n = 6
    case = DVICase(_markers(n), [_sample("V1", n, "12"), _sample("V2", n, "22")],
                   [_grandfather_family("F1", n)])
    sol = _solve(case, threshold=20)
    m1, m2 = sol.missing_person("M1"), sol.missing_person("M2")
    assert (m1.sample, m1.conclusion, m1.comment) == ("V1", "Undisputed", "Step 1")
    assert m1.lr == pytest.approx(5.0 ** 6, rel=1e-12)
    assert (m2.sample, m2.conclusion, m2.comment) == ("V2", "Undisputed", "Step 2")
    assert m2.lr == pytest.approx(5.0 ** 6, rel=1e-12)
    assert sol.sample("V2").missing_person == "M2" and sol.sample("V2").family == "F1"
    # the first LR matrix is the one before any transfer; V2 = 2/2 cannot be the son of
    # a 1/1 father (6 incompatibilities > 2), so that pair was excluded before any LR
    first = sol.lr_matrix
    assert first.get("V1", "M1") == pytest.approx(5.0 ** 6, rel=1e-12)
    assert first.get("V1", "M2") == pytest.approx(3.0 ** 6, rel=1e-12)
    assert math.isnan(first.get("V2", "M1")) and sol.exclusion_matrix.get("V2", "M1") == 6
    assert first.get("V2", "M2") == pytest.approx(0.5 ** 6, rel=1e-12)
    # a stricter threshold: (5/3)^6 = 21.4 < 25, so V1 = M1 is disputed by V1 = M2
    sol = _solve(case, threshold=25)
    assert sol.missing_person("M1").conclusion != "Undisputed"


def test_exclusion_loop_after_undisputed_removes_lr_zero_pairings():
    """V4 = 3/3 at L0 and 1/2 elsewhere: one incompatibility with M1 (a child of 1/1), so
    with max_incompatible = 2 the pair stays but has LR 0; against M2 it is compatible
    (LR (1/2) 3^5). V1 = M1 is undisputed at step 1 (15625 against 729 and 0). Then V1
    (1/2 at L0) is M2's father, so V4 = 3/3 at L0 becomes impossible for M2: the pairing
    is dropped with the other LR-0 pairings, and the second exclusion round excludes
    both V4 and M2 for having no compatible pairing."""
    n = 6
    v4 = _sample("V4", n, "33", "12", "12", "12", "12", "12")
    case = DVICase(_markers(n), [_sample("V1", n, "12"), v4], [_grandfather_family("F1", n)])
    sol = _solve(case, threshold=20)
    assert sol.lr_matrix.get("V4", "M2") == pytest.approx(0.5 * 3.0 ** 5, rel=1e-12)
    assert sol.exclusion_matrix.get("V4", "M1") == 1
    assert sol.missing_person("M1").conclusion == "Undisputed"
    m2 = sol.missing_person("M2")
    assert (m2.conclusion, m2.comment, m2.sample) == ("Excluded", "No compatible pairings", None)
    v = sol.sample("V4")
    assert (v.conclusion, v.comment, v.missing_person) == ("Excluded", "No compatible pairings",
                                                           None)
    stages = [(s.stage, s.iteration) for s in sol.steps]
    assert ("undisputed", 1) in stages and ("exclusion", 2) in stages


def test_exclusion_counts_inconsistencies_and_sex():
    """Daughter M3 of a 1/1 father: V5 = 3/3 everywhere is impossible at all 6 markers, and
    V5 is the only female, so both are excluded with "6+ inconsistencies". V6 has unknown
    sex and no missing person of unknown sex: "No compatible pairings". With
    max_incompatible = 6 the pair V5-M3 survives the first exclusions, but its LR is 0, so
    the undisputed step drops it and the second exclusion round excludes both for having
    no compatible pairing left."""
    n = 6
    case = DVICase(_markers(n),
                   [_sample("V1", n, "12"), _sample("V5", n, "33", sex=Sex.FEMALE),
                    _sample("V6", n, "12", sex=Sex.UNKNOWN)],
                   [_grandfather_family("F1", n),
                    _father_family("F2", n, "M3", ref="P2", missing_sex=2)])
    sol = _solve(case, threshold=20)
    assert (sol.sample("V5").conclusion, sol.sample("V5").comment) == (
        "Excluded", "6+ inconsistencies")
    m3 = sol.missing_person("M3")
    assert (m3.family, m3.conclusion, m3.comment) == ("F2", "Excluded", "6+ inconsistencies")
    assert (sol.sample("V6").conclusion, sol.sample("V6").comment) == (
        "Excluded", "No compatible pairings")
    assert math.isnan(sol.exclusion_matrix.get("V6", "M1"))
    sol = _solve(case, threshold=20, max_incompatible=6)
    assert (sol.sample("V5").conclusion, sol.sample("V5").comment) == (
        "Excluded", "No compatible pairings")
    assert (sol.missing_person("M3").conclusion, sol.missing_person("M3").comment) == (
        "Excluded", "No compatible pairings")
    assert sol.lr_matrix.get("V5", "M3") == 0.0


def test_nonidentifiable_missing_persons():
    """M9 is a founder married into F1, mother of an untyped child X of R, so unrelated to
    R and to M1 (whose mother is W): "Unrelated to all references" (were she M1's mother,
    M1 would link her). Family F9 has nobody typed: "No references in family"."""
    n = 6
    ped = pedigree_from_records([
        {"id": "R", "sex": 1}, {"id": "W", "sex": 2}, {"id": "M9", "sex": 2},
        {"id": "M1", "sex": 1, "father": "R", "mother": "W"},
        {"id": "X", "sex": 1, "father": "R", "mother": "M9"}])
    f1 = ReferenceFamily("F1", ped, ("M1", "M9"), {"R": _profile(n, "11")})
    ped9 = pedigree_from_records([{"id": "A", "sex": 1}, {"id": "B", "sex": 2},
                                  {"id": "M10", "sex": 1, "father": "A", "mother": "B"}])
    f9 = ReferenceFamily("F9", ped9, ("M10",), {})
    case = DVICase(_markers(n), [_sample("V1", n, "12")], [f1, f9])
    sol = _solve(case)
    assert (sol.missing_person("M9").conclusion, sol.missing_person("M9").comment) == (
        "Nonidentifiable", "Unrelated to all references")
    assert (sol.missing_person("M10").conclusion, sol.missing_person("M10").comment) == (
        "Nonidentifiable", "No references in family")
    # M1 is then the only missing person of F1: a simple family, LR 5^6 = 15625 >= 1e4,
    # and undisputed
    assert sol.missing_person("M1").conclusion == "Undisputed"


def test_simple_families_probable_disputed_inconclusive_no_match():
    """Four families, each R (1/1) grandfather of one missing man; per marker a 1/2
    grandchild has LR 3 and a 3/3 grandchild LR 1/2 (see the first test). Over 8
    markers: 3^8 = 6561 (above threshold2 = 1000, below threshold = 1e4),
    (1/2)^8 = 0.0039, and 3^4 (1/2)^4 = 5.06.
    - GA: VA 6561, VB 0.0039 -> Probable, runner-up VB;
    - GB: VC and VD both 6561 -> Disputed;
    - GC: VE 5.06 -> Inconclusive;
    - GC and GD together with VE and VF: both families are alike, so VE (5.06) is the
      best for both ("Inconclusive", a sample may be the best for two families) and VF
      (0.0039) is "No match" on the sample side."""
    n = 8
    fams = [_grandchild_family(f"G{x}", n, f"M{x}", ref=f"R{x}") for x in "ABCD"]
    case = DVICase(_markers(n), [_sample("VA", n, "12")], fams[:1])
    sol = _solve(case)
    # one family and one sample: Probable with no runner-up, on both sides
    ma = sol.missing_person("MA")
    assert (ma.sample, ma.conclusion, ma.comment) == ("VA", "Probable", "Runner-up: -")
    assert ma.lr == pytest.approx(3.0 ** 8, rel=1e-12)
    va = sol.sample("VA")
    assert (va.missing_person, va.family, va.conclusion, va.comment) == (
        "MA", "GA", "Probable", "Runner-up: -")

    case = DVICase(_markers(n), [_sample("VA", n, "12"), _sample("VB", n, "33")], fams[:1])
    sol = _solve(case)
    ma = sol.missing_person("MA")
    assert (ma.sample, ma.conclusion, ma.comment) == ("VA", "Probable",
                                                      "Runner-up: VB (LR=0.0039)")
    vb = sol.sample("VB")
    assert (vb.missing_person, vb.family, vb.conclusion, vb.comment) == ("", "", "No match", None)
    assert vb.lr == pytest.approx(0.5 ** 8, rel=1e-12)

    case = DVICase(_markers(n), [_sample("VC", n, "12"), _sample("VD", n, "12")], [fams[1]])
    sol = _solve(case)
    mb = sol.missing_person("MB")
    assert (mb.sample, mb.conclusion, mb.comment) == ("VC", "Disputed", "Also: VD (LR=6.6e+03)")
    # each sample has one missing person above threshold2: Probable on the PM side
    assert sol.sample("VD").conclusion == "Probable"

    mixed = ["12"] * 4 + ["33"] * 4
    case = DVICase(_markers(n), [_sample("VE", n, *mixed), _sample("VF", n, "33")], fams[2:])
    sol = _solve(case)
    mc, md = sol.missing_person("MC"), sol.missing_person("MD")
    assert (mc.sample, mc.conclusion, mc.comment) == ("VE", "Inconclusive", "Best: VE")
    assert mc.lr == pytest.approx(81 / 16, rel=1e-12)
    # both samples have the same LRs against MC and MD (same kind of family)
    assert (md.sample, md.conclusion, md.comment) == ("VE", "Inconclusive", "Best: VE")
    ve, vf = sol.sample("VE"), sol.sample("VF")
    assert (ve.missing_person, ve.conclusion, ve.comment) == ("", "Inconclusive", "Best: MC")
    assert (vf.missing_person, vf.conclusion, vf.comment) == ("", "No match", None)


def test_sample_disputed_between_two_families():
    """VA = 1/2 is a grandchild-like match (LR 3^8 = 6561) for both GA and GB: each family
    alone says Probable, the sample says Disputed between MA (first) and MB."""
    n = 8
    fams = [_grandchild_family(f"G{x}", n, f"M{x}", ref=f"R{x}") for x in "AB"]
    sol = _solve(DVICase(_markers(n), [_sample("VA", n, "12")], fams))
    assert [sol.missing_person(m).conclusion for m in ("MA", "MB")] == ["Probable"] * 2
    va = sol.sample("VA")
    assert (va.missing_person, va.family, va.conclusion, va.comment) == (
        "MA", "GA", "Disputed", "Also: MB (LR=6.6e+03)")
    # threshold2 above 6561: nothing probable, both inconclusive
    sol = _solve(DVICase(_markers(n), [_sample("VA", n, "12")], fams), threshold2=7000)
    assert sol.missing_person("MA").conclusion == "Inconclusive"
    assert sol.sample("VA").conclusion == "Inconclusive"


def _sibship(name, n, missing, *, parents=("11", "22"), sexes=(1, 1)):
    """Typed parents (genotypes ``parents``) with missing children ``missing``."""
    recs = [{"id": f"{name}fa", "sex": 1}, {"id": f"{name}mo", "sex": 2}]
    recs += [{"id": m, "sex": s, "father": f"{name}fa", "mother": f"{name}mo"}
             for m, s in zip(missing, sexes)]
    profiles = {f"{name}fa": _profile(n, parents[0]), f"{name}mo": _profile(n, parents[1])}
    return ReferenceFamily(name, pedigree_from_records(recs), tuple(missing), profiles)


def test_symmetric_match_one_sample_two_brothers():
    """Parents 1/1 and 2/2, two missing sons: a 1/2 sample fits either with LR
    1/(2 p1 p2) = 50 per marker, 50^3 = 125000 over 3 markers. Not undisputed (the row
    holds two equal LRs), both GLRs are 1, and the top two assignments differ only in
    which brother the sample is: symmetric match, GLR = L(top) / L(sample unassigned)
    = 125000."""
    n = 3
    case = DVICase(_markers(n), [_sample("V1", n, "12")], [_sibship("F1", n, ("M1", "M2"))])
    sol = _solve(case)
    for m, other in (("M1", "M2"), ("M2", "M1")):
        r = sol.missing_person(m)
        assert (r.sample, r.conclusion, r.comment) == (
            "V1", "Symmetric match", f"V1 also matches {other} (full siblings)")
        assert r.glr == pytest.approx(50.0 ** 3, rel=1e-9)
        assert r.lr == pytest.approx(50.0 ** 3, rel=1e-9)
    v = sol.sample("V1")
    assert (v.missing_person, v.family, v.conclusion, v.comment) == (
        "M1/M2", "F1", "Symmetric match", "M1 and M2 are full siblings")
    analysis = sol.complex_families[0]
    assert analysis.n_assignments == 3
    assert analysis.glr.get("V1", "M1") == pytest.approx(1.0, rel=1e-9)


def test_symmetric_match_two_samples_two_brothers():
    """As above with two 1/2 samples: the top assignments are the two ways of pairing
    them with the brothers (likelihood 1 each, relative to p-products), the next drops one
    sample (LR 50^3 less): "Full siblings: {M1, M2} = {V1, V2}" with GLR 125000; the AM
    rows carry no LR, the PM rows each sample's LR."""
    n = 3
    case = DVICase(_markers(n), [_sample("V1", n, "12"), _sample("V2", n, "12")],
                   [_sibship("F1", n, ("M1", "M2"))])
    sol = _solve(case)
    for m in ("M1", "M2"):
        r = sol.missing_person(m)
        assert (r.sample, r.lr, r.conclusion, r.comment) == (
            "V1/V2", None, "Symmetric match", "Full siblings: {M1, M2} = {V1, V2}")
        assert r.glr == pytest.approx(50.0 ** 3, rel=1e-9)
    for v in ("V1", "V2"):
        r = sol.sample(v)
        assert (r.missing_person, r.conclusion, r.comment) == (
            "M1/M2", "Symmetric match", "Full siblings: {V1, V2} = {M1, M2}")
        assert r.lr == pytest.approx(50.0 ** 3, rel=1e-9)


def test_complex_family_match_by_glr():
    """Untyped parents, a typed son S and two missing children (son M1, daughter M2), all
    1/1 at 4 markers. Per marker, two full siblings both 1/1 have LR
    (p^2 + p(1-p)/2)^2 / p^4 = 30.25, three have (p^2 + p(1-p)/4)^2 / p^6 = 1056.25.
    Pairwise LR(V1, M1) = LR(V2, M2) = 30.25^4 = 837339 (below threshold 1e6, so nothing
    is undisputed); jointly GLR = (1056.25 / 30.25)^4 = 1.486e6: both "Match (GLR)"."""
    n = 4
    ped = pedigree_from_records([
        {"id": "fa", "sex": 1}, {"id": "mo", "sex": 2},
        {"id": "S", "sex": 1, "father": "fa", "mother": "mo"},
        {"id": "M1", "sex": 1, "father": "fa", "mother": "mo"},
        {"id": "M2", "sex": 2, "father": "fa", "mother": "mo"}])
    fam = ReferenceFamily("F1", ped, ("M1", "M2"), {"S": _profile(n, "11")})
    case = DVICase(_markers(n), [_sample("V1", n, "11"), _sample("V2", n, "11", sex=Sex.FEMALE)],
                   [fam])
    sol = _solve(case, threshold=1e6)
    pair, trio = (P * P + P * (1 - P) / 2) ** 2 / P ** 4, (P * P + P * (1 - P) / 4) ** 2 / P ** 6
    for m, v in (("M1", "V1"), ("M2", "V2")):
        r = sol.missing_person(m)
        assert (r.sample, r.conclusion, r.comment) == (v, "Match (GLR)", "Joint: {M1,M2}")
        assert r.lr == pytest.approx(pair ** n, rel=1e-9)
        assert r.glr == pytest.approx((trio / pair) ** n, rel=1e-9)
        s = sol.sample(v)
        assert (s.missing_person, s.family, s.conclusion) == (m, "F1", "Match (GLR)")
    # at the default threshold 1e4 the pairwise LRs are enough: undisputed
    sol = _solve(case)
    assert [sol.missing_person(m).conclusion for m in ("M1", "M2")] == ["Undisputed"] * 2
    # above the GLR: inconclusive, with the best LR and GLR of each missing person
    sol = _solve(case, threshold=1e7)
    r = sol.missing_person("M1")
    assert (r.sample, r.conclusion) == (None, "Inconclusive")
    assert r.glr == pytest.approx((trio / pair) ** n, rel=1e-9)
    assert r.lr == pytest.approx(pair ** n, rel=1e-9)


def test_complex_family_skipped_above_max_assignments():
    n = 3
    case = DVICase(_markers(n), [_sample("V1", n, "12")], [_sibship("F1", n, ("M1", "M2"))])
    sol = _solve(case, max_assignments=2)
    assert sol.complex_families[0].joint is None
    assert [sol.missing_person(m).conclusion for m in ("M1", "M2")] == ["Inconclusive"] * 2


def test_undisputed_entries_rule():
    nan = math.nan
    m = np.array([[1e5, 5.0, nan], [10.0, 2e4, 1.0], [nan, 3.0, 0.5]])
    # (0,0): 1e5 >= 1e4 and 5, 10 <= 10; (1,1): 2e4 but 5 > 2 -> disputed
    assert undisputed_entries(m, 1e4) == [(0, 0)]
    assert undisputed_entries(m, 1e4, strict=True) == []
    # column-major order, threshold minus eps
    assert undisputed_entries(np.array([[0.0, 1e4 - 1e-9], [1e4, 0.0]]), 1e4) == [(1, 0), (0, 1)]


def test_format_and_relationships():
    assert format_lr(29077.3) == "2.9e+04"
    assert format_lr(0.00390625) == "0.0039"
    assert format_lr(math.inf) == "Inf"
    ped = pedigree_from_records([
        {"id": "fa", "sex": 1}, {"id": "mo", "sex": 2}, {"id": "mo2", "sex": 2},
        {"id": "A", "sex": 1, "father": "fa", "mother": "mo"},
        {"id": "B", "sex": 2, "father": "fa", "mother": "mo"},
        {"id": "C", "sex": 1, "father": "fa", "mother": "mo2"},
        {"id": "wA", "sex": 2}, {"id": "D", "sex": 1, "father": "A", "mother": "wA"}])
    assert describe_relationship(ped, "A", "B") == "full siblings"
    assert describe_relationship(ped, "A", "C") == "half siblings"
    assert describe_relationship(ped, "A", "D") == "parent-child"
    assert describe_relationship(ped, "fa", "D") == "grandparent-grandchild"
    assert describe_relationship(ped, "B", "D") == "avuncular"
    assert describe_relationship(ped, "mo", "wA") == "unrelated"


def test_identified_degraded_sample_joins_its_family_as_an_observation():
    """A degraded sample identified at step 1 is added to its family with its
    drop-out probability: the next LRs use it as an observation, as the
    kinship engine does with the same drop-out."""

    rng = np.random.default_rng(5)
    markers = [Marker.create(f"M{k}", [str(a) for a in range(6)], rng.dirichlet(np.ones(6)))
               for k in range(25)]
    ped = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
        {"id": "B1", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "B2", "sex": 1, "father": "F", "mother": "Mo"},
        {"id": "W", "sex": 2}, {"id": "S1", "sex": 1, "father": "B1", "mother": "W"}])
    sim = simulate_genotypes(ped, markers, 1, rng)

    def prof(pid, drop=False):
        out = {}
        for m, (a, b) in zip(markers, sim[pid][0]):
            seen = sorted({int(a), int(b)})
            if drop and len(seen) == 2 and rng.random() < 0.3:
                seen = seen[:1]
            out[m.name] = tuple(m.alleles[x] for x in seen)
        return out

    fam = RF("Fam", ped, ("B1", "B2"), {"F": prof("F"), "Mo": prof("Mo"), "S1": prof("S1")})
    v1 = PostMortemSample("V1", prof("B1", drop=True), Sex.MALE, dropout=0.3)
    v2 = PostMortemSample("V2", prof("B2"), Sex.MALE)
    case = DVICase(markers, [v1, v2], [fam])
    solution = _solve(case)
    assert solution.missing_person("B1").conclusion == "Undisputed"
    assert solution.missing_person("B2").sample == "V2"
    got = solution.missing_person("B2").lr  # step 2, with V1 in the family
    h1 = Hypothesis("H1", ped)
    others = [Individual(i.id if i.id != "B2" else "_B2", i.sex, i.father, i.mother) for i in ped]
    h0 = Hypothesis("H0", Pedigree([*others, Individual("B2", Sex.MALE)]))
    profiles = {"F": fam.profiles["F"], "Mo": fam.profiles["Mo"], "S1": fam.profiles["S1"],
                "B1": v1.profile, "B2": v2.profile}
    want = kinship_lr([h1, h0], markers, profiles, reference="H0", dropout={"B1": 0.3})
    assert got == pytest.approx(float(np.exp(want.total_log_lr("H1"))), rel=1e-9)
