"""Lineage markers (Y-STR, mtDNA) in DVI and kinship: closed forms, the line policy,
exclusions, the degenerate no-lineage case, the JSON format, the CLI and the report."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from support import EXAMPLES, quiet, quietly, run_cli

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import FamilyGain, joint_identification
from kinmatch.dvi.lineage_evidence import LineageEvidenceCache, lineage_evidence
from kinmatch.dvi.pairwise import pairwise_candidates, pairwise_lr, sample_log_probabilities
from kinmatch.dvi.solve import solve_case
from kinmatch.errors import CaseFormatError, KinmatchError
from kinmatch.formats.dvi_json import (
    dvi_case_to_dict,
    parse_dvi_case,
    read_dvi_case,
    write_dvi_case,
)
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lineage import kinship_lineage_lr
from kinmatch.kinship.lr import kinship_lr
from kinmatch.likelihood.peeling import markers_loglik
from kinmatch.lineage.evidence import line_relatives, person_lineage_evidence
from kinmatch.lineage.mtdna import MtDatabase, parse_mt_profile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YDatabase, YLocus, YLocusTable, make_haplotype
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.report.dvi_report import dvi_report_html
from kinmatch.simulate import genotype_profile, simulate_genotypes

EXAMPLE = EXAMPLES / "dvi_case.json"
LINEAGE_EXAMPLE = EXAMPLES / "dvi_case_lineage.json"
M, F = Sex.MALE, Sex.FEMALE

# -- a small world: three Y loci, a tiny Y database, a tiny mtDNA database --------------

LOCI = YLocusTable([YLocus("DYS19", 0.01), YLocus("DYS390", 0.002), YLocus("DYS385", 0.006, 2)])
H_REF = {"DYS19": "14", "DYS390": "23", "DYS385": "11,14"}


def _y(sample: str, **changes: str) -> object:
    return make_haplotype(sample, {**H_REF, **changes}, LOCI)


def _y_database(n: int = 9) -> YDatabase:
    haps = tuple(make_haplotype(f"D{i}", {"DYS19": str(10 + i), "DYS390": "21",
                                          "DYS385": "12,13"}, LOCI) for i in range(n))
    return YDatabase(haps, LOCI, "tiny")


MT_RANGE = "16024-16569,1-576"
MT_REF = "73G 263G 315.1C 16129A 16223T"


def _mt(sample: str, variants: str = MT_REF) -> object:
    return parse_mt_profile(variants, MT_RANGE, sample)


def _mt_database(n: int = 20) -> MtDatabase:
    return MtDatabase(tuple(_mt(f"P{i}", f"263G 16{100 + i}T") for i in range(n)), "tiny")


def _settings(**kw: object) -> LineageSettings:
    return LineageSettings(y_database=_y_database(), y_loci=LOCI, mt_database=_mt_database(), **kw)


def _pedigree(missing_sex: Sex = M) -> Pedigree:
    """GF x GM: MP (missing), B (brother), S (sister); B x BW: NB; SH x S: NS, ND."""
    return Pedigree([
        Individual("GF", M), Individual("GM", F),
        Individual("MP", missing_sex, "GF", "GM"), Individual("B", M, "GF", "GM"),
        Individual("S", F, "GF", "GM"), Individual("BW", F), Individual("SH", M),
        Individual("NB", M, "B", "BW"), Individual("NS", M, "SH", "S"),
        Individual("ND", F, "SH", "S"),
    ])


def _markers() -> list:
    with quiet():
        return read_dvi_case(EXAMPLE).markers


def _simulated_case(seed: int = 7, *, missing_sex: Sex = M, lineage: bool = True,
                    y: dict | None = None, mt: dict | None = None,
                    samples_y: dict | None = None, samples_mt: dict | None = None) -> DVICase:
    markers = _markers()
    names = [m.name for m in markers]
    ped = _pedigree(missing_sex)
    sim = simulate_genotypes(ped, markers, 1, np.random.default_rng(seed))
    other = simulate_genotypes(Pedigree([Individual("U", missing_sex)]), markers, 1,
                               np.random.default_rng(seed + 1))
    prof = {pid: genotype_profile(names, markers, sim[pid][0]) for pid in ("NB", "NS", "MP")}
    sy, smt = samples_y or {}, samples_mt or {}
    samples = [
        PostMortemSample("V1", prof["MP"], missing_sex, y_haplotype=sy.get("V1"),
                         mtdna=smt.get("V1")),
        PostMortemSample("V2", genotype_profile(names, markers, other["U"][0]), missing_sex,
                         y_haplotype=sy.get("V2"), mtdna=smt.get("V2")),
    ]
    fam = ReferenceFamily("F", ped, ("MP",), {"NB": prof["NB"], "NS": prof["NS"]},
                          y_haplotypes=y or {}, mtdna_profiles=mt or {})
    return DVICase(markers, samples, [fam], lineage=_settings() if lineage else LineageSettings())


def _p_n(d: int, n: int, mu: float) -> float:
    """P_n(d) of the single-step model by brute force over the 3^n mutation paths."""
    total = 0.0
    for path in itertools.product((-1, 0, 1), repeat=n):
        if sum(path) == d:
            total += math.prod(1 - mu if s == 0 else mu / 2 for s in path)
    return total


# -- closed forms -----------------------------------------------------------------------


def test_brothers_son_with_identical_y_closed_form():
    case = _simulated_case(y={"NB": _y("NB")}, samples_y={"V1": _y("V1")})
    pw = pairwise_lr(prepare_case(case))
    # P_3(0) per locus (no net change over 3 meioses; DYS385's 2 copies at mu/2 each);
    # the reference haplotype is absent from the 9-man database: f = 1/(9+1)
    numerator = (_p_n(0, 3, 0.01) * _p_n(0, 3, 0.002) * _p_n(0, 3, 0.003) ** 2)
    assert numerator == pytest.approx(
        ((1 - 0.01) ** 3 + 1.5 * 0.01**2 * 0.99) * ((1 - 0.002) ** 3 + 1.5 * 0.002**2 * 0.998)
        * ((1 - 0.003) ** 3 + 1.5 * 0.003**2 * 0.997) ** 2, rel=1e-14)
    assert math.exp(pw.log_lr_y[0, 0]) == pytest.approx(numerator / (1 / 10), rel=1e-12)
    assert pw.log_lr_mtdna[0, 0] == 0.0
    ev = pw.lineage.get("V1", "MP").y
    assert (ev.relative, ev.meioses, ev.common_ancestor, ev.status) == ("NB", 3, "GF", "match")
    assert ev.frequency.method == "count_plus_one" and ev.frequency.database_size == 9
    np.testing.assert_allclose(pw.log_lr[0, 0], pw.log_lr_autosomal[0, 0] + pw.log_lr_y[0, 0],
                               rtol=1e-15)


def test_sisters_son_mtdna_match_is_one_over_the_upper_bound():
    case = _simulated_case(mt={"NS": _mt("NS")}, samples_mt={"V1": _mt("V1")})
    pw = pairwise_lr(prepare_case(case))
    f_upper = 1 - 0.05 ** (1 / 20)  # 0 of 20 database profiles match
    assert math.exp(pw.log_lr_mtdna[0, 0]) == pytest.approx(1 / f_upper, rel=1e-12)
    assert pw.log_lr_y[0, 0] == 0.0
    ev = pw.lineage.get("V1", "MP").mtdna
    assert (ev.relative, ev.meioses, ev.status) == ("NS", 3, "match")


def test_mtdna_mutation_rate_multiplies_the_match_lr():
    case = _simulated_case(mt={"NS": _mt("NS")}, samples_mt={"V1": _mt("V1")})
    case = replace(case, lineage=_settings(mt_mutation_rate=0.01))
    pw = pairwise_lr(prepare_case(case))
    f_upper = 1 - 0.05 ** (1 / 20)
    assert math.exp(pw.log_lr_mtdna[0, 0]) == pytest.approx(0.99**3 / f_upper, rel=1e-12)


def test_one_step_y_mismatch_over_three_meioses():
    case = _simulated_case(y={"NB": _y("NB", DYS19="15")}, samples_y={"V1": _y("V1")})
    ev = lineage_evidence(case).get("V1", "MP").y
    want = _p_n(1, 3, 0.01) * _p_n(0, 3, 0.002) * _p_n(0, 3, 0.003) ** 2 * 10
    assert ev.lr == pytest.approx(want, rel=1e-12)
    assert ev.status == "mismatch"


# -- the line policy ----------------------------------------------------------------------


def test_sisters_son_gives_mtdna_and_not_y():
    ped = _pedigree()
    assert [c.b for c in line_relatives(ped, "MP", ["NS", "NB", "ND"], "Y")] == ["NB"]
    assert [c.b for c in line_relatives(ped, "MP", ["NS", "NB", "ND"], "mtDNA")] == ["NS", "ND"]
    # a sister's son typed for Y contributes nothing; his mtDNA does
    case = _simulated_case(y={"NS": _y("NS")}, mt={"NS": _mt("NS")},
                           samples_y={"V1": _y("V1")}, samples_mt={"V1": _mt("V1")})
    pair = lineage_evidence(case).get("V1", "MP")
    assert pair.y is None and pair.mtdna is not None and pair.mtdna.relative == "NS"


def test_brothers_son_gives_y_and_not_mtdna():
    case = _simulated_case(y={"NB": _y("NB")}, mt={"NB": _mt("NB")},
                           samples_y={"V1": _y("V1")}, samples_mt={"V1": _mt("V1")})
    pair = lineage_evidence(case).get("V1", "MP")
    assert pair.mtdna is None and pair.y is not None and pair.y.relative == "NB"


def test_female_missing_person_gets_no_y():
    case = _simulated_case(missing_sex=F, y={"NB": _y("NB")}, mt={"NS": _mt("NS")},
                           samples_mt={"V1": _mt("V1")})
    pair = lineage_evidence(case).get("V1", "MP")
    assert pair.y is None and pair.mtdna is not None


def test_closest_relative_gives_the_lr_and_the_others_are_checked():
    case = _simulated_case(y={"NB": _y("NB"), "B": _y("B", DYS19="15")},
                           samples_y={"V1": _y("V1")})
    ev = lineage_evidence(case).get("V1", "MP").y
    assert (ev.relative, ev.meioses) == ("B", 2)  # the brother, not his son
    assert ev.others == (("NB", 3, "match"),)
    # another relative on the line who cannot descend from the remains excludes them
    # (the remains' son and the missing man's brother: a family consistent on its own)
    ped = Pedigree([Individual("GF", M), Individual("GM", F), Individual("MP", M, "GF", "GM"),
                    Individual("B", M, "GF", "GM"), Individual("W", F),
                    Individual("SON", M, "MP", "W")])
    family = {"SON": _y("SON", DYS390="24"), "B": _y("B", DYS390="21")}  # 3 steps, 3 meioses
    links = line_relatives(ped, "MP", list(family), "Y")
    y, _ = person_lineage_evidence(ped, "MP", sample_id="V1", y_haplotype=_y("V1", DYS390="25"),
                                   mtdna=None, relatives_y=family, relatives_mtdna={},
                                   settings=_settings(), links=(links, []))
    assert (y.relative, y.meioses) == ("SON", 1)
    assert y.excluded and y.excluded_by == "B" and y.lr == 0.0 and y.status == "exclusion"


def test_a_family_that_contradicts_itself_is_an_error_not_an_exclusion():
    # issue 13: the brother equals the remains, his son differs from him by 4 repeats at
    # DYS390 over one meiosis. Old: "exclusion", excluded by NB, LR 0. The data of the
    # family are impossible under both hypotheses: no LR, a clear error naming them.
    case = _simulated_case(y={"NB": _y("NB", DYS390="27"), "B": _y("B")},
                           samples_y={"V1": _y("V1")})
    with pytest.raises(KinmatchError) as err:
        lineage_evidence(case)
    msg = err.value.message
    assert "family 'F'" in msg and "impossible on their own" in msg
    assert "B and NB, 1 meiosis apart" in msg and "DYS390 23 vs 27" in msg
    assert "not an exclusion" in msg
    with pytest.raises(KinmatchError, match="impossible on their own"):
        pairwise_lr(prepare_case(case))
    # the same for two maternal relatives whose mtDNA excludes each other
    case = _simulated_case(mt={"NS": _mt("NS"), "S": _mt("S", "73G 263G 16129A 16311C 16362C")},
                           samples_mt={"V1": _mt("V1")})
    with pytest.raises(KinmatchError, match=r"mtDNA profiles of S and NS.*exclude each other"):
        lineage_evidence(case)
    # a consistent family with a one-step difference is evaluated as before
    ok = _simulated_case(y={"NB": _y("NB", DYS390="24"), "B": _y("B")},
                         samples_y={"V1": _y("V1")})
    ev = lineage_evidence(ok).get("V1", "MP").y
    assert ev.relative == "B" and ev.status == "match" and ev.lr > 0
    assert ev.others == (("NB", 3, "mismatch"),)


def test_mtdna_exclusion_and_inconclusive():
    excl = _simulated_case(mt={"NS": _mt("NS")},
                           samples_mt={"V1": _mt("V1", "73G 263G 315.1C 16129A 16311C 16362C")})
    pw = pairwise_lr(prepare_case(excl))
    assert np.isneginf(pw.log_lr_mtdna[0, 0]) and np.isneginf(pw.log_lr[0, 0])
    assert pw.lineage_exclusions[0, 0] == 1
    base = pairwise_lr(prepare_case(replace(excl, samples=[
        replace(s, mtdna=None) for s in excl.samples])))
    assert pw.incompatible[0, 0] == base.incompatible[0, 0] + 1
    inc = _simulated_case(mt={"NS": _mt("NS")},
                          samples_mt={"V1": _mt("V1", "73G 263G 315.1C 16129A 16223T 16311C")})
    ev = lineage_evidence(inc).get("V1", "MP").mtdna
    assert ev.status == "inconclusive" and ev.lr == 1.0 and ev.frequency is None
    assert pairwise_lr(prepare_case(inc)).log_lr_mtdna[0, 0] == 0.0


def test_y_difference_beyond_the_mutation_model_is_an_exclusion():
    case = _simulated_case(y={"NB": _y("NB", DYS390="28")}, samples_y={"V1": _y("V1")})
    pw = pairwise_lr(prepare_case(case))
    assert np.isneginf(pw.log_lr_y[0, 0]) and pw.lineage_exclusions[0, 0] == 1
    assert pw.lineage.get("V1", "MP").y.status == "exclusion"


# -- the degenerate case: no lineage data ---------------------------------------------------


def test_no_lineage_data_is_the_autosomal_engine_exactly():
    case = quietly(read_dvi_case, EXAMPLE)
    assert not case.has_lineage_data
    with_settings = replace(case, lineage=_settings())
    for c in (case, with_settings):
        pw = pairwise_lr(prepare_case(c))
        assert pw.lineage is None and not pw.has_lineage
        assert np.array_equal(pw.log_lr, pw.log_lr_per_marker.sum(axis=2), equal_nan=True)
        assert not pw.log_lr_y.any() and not pw.log_lr_mtdna.any()
    a = pairwise_lr(prepare_case(case))
    b = pairwise_lr(prepare_case(with_settings))
    assert np.array_equal(a.log_lr, b.log_lr, equal_nan=True)
    assert np.array_equal(a.incompatible, b.incompatible)
    with quiet():
        assert solve_case(case).to_dict() == solve_case(with_settings).to_dict()


def test_lineage_data_that_applies_nowhere_changes_nothing():
    plain = _simulated_case(lineage=False)
    # the sample is typed but no relative on its lines is; a relative typed off the lines
    odd = _simulated_case(y={"NS": _y("NS")}, samples_y={"V1": _y("V1")},
                          samples_mt={"V2": _mt("V2")})
    a, b = pairwise_lr(prepare_case(plain)), pairwise_lr(prepare_case(odd))
    assert b.lineage is None or len(b.lineage) == 0
    assert np.array_equal(a.log_lr, b.log_lr, equal_nan=True)
    assert np.array_equal(a.incompatible, b.incompatible)
    ja = joint_identification(prepare_case(plain), a)
    jb = joint_identification(prepare_case(odd), b)
    assert np.array_equal(ja.loglik, jb.loglik) and np.array_equal(ja.posterior, jb.posterior)


# -- DVI integration ------------------------------------------------------------------------


def _parents_case() -> DVICase:
    """The missing son of typed parents; two samples with the same autosomal profile,
    only one of which carries the mother's mtDNA."""
    markers = _markers()
    names = [m.name for m in markers]
    ped = Pedigree([Individual("FA", M), Individual("MO", F), Individual("MP", M, "FA", "MO")])
    sim = simulate_genotypes(ped, markers, 1, np.random.default_rng(3))
    prof = {p: genotype_profile(names, markers, sim[p][0]) for p in ("FA", "MO", "MP")}
    samples = [PostMortemSample("TRUE", prof["MP"], M, mtdna=_mt("TRUE")),
               PostMortemSample("TWIN", prof["MP"], M,
                                mtdna=_mt("TWIN", "73G 263G 315.1C 16129A 16311C 16362C"))]
    fam = ReferenceFamily("F", ped, ("MP",), {"FA": prof["FA"], "MO": prof["MO"]},
                          mtdna_profiles={"MO": _mt("MO")})
    return DVICase(markers, samples, [fam], lineage=_settings())


def test_mtdna_exclusion_decides_between_autosomal_twins_in_solve_case():
    case = _parents_case()
    without = replace(case, samples=[replace(s, mtdna=None) for s in case.samples])
    with quiet():
        plain = solve_case(without, threshold=100)
        solved = solve_case(case, threshold=100)
    assert plain.missing_person("MP").conclusion != "Undisputed"  # a tie
    row = solved.missing_person("MP")
    assert (row.sample, row.conclusion) == ("TRUE", "Undisputed")
    pw = pairwise_lr(prepare_case(case))
    assert row.lr == pytest.approx(math.exp(pw.log_lr[0, 0]), rel=1e-12)
    assert solved.exclusion_matrix.get("TWIN", "MP") == 1  # the lineage exclusion counts
    assert solved.lr_matrix.get("TWIN", "MP") == 0.0
    assert solved.sample("TWIN").conclusion in ("Excluded", "No match")


def test_lineage_exclusions_beyond_max_incompatible_are_excluded_at_once():
    case = _parents_case()
    with quiet():
        solved = solve_case(case, threshold=100, max_incompatible=0)
    assert solved.sample("TWIN").conclusion == "Excluded"


def test_candidates_and_joint_use_the_combined_lr():
    case = quietly(read_dvi_case, LINEAGE_EXAMPLE)
    prepared = prepare_case(case)
    pw = pairwise_lr(prepared)
    assert pw.has_lineage
    cand = pairwise_candidates(prepared, top=2)
    for s in range(len(cand.samples)):
        for j, m in enumerate(cand.missing_index[s]):
            if m >= 0:
                assert cand.log_lr[s, j] == pytest.approx(pw.log_lr[s, m], rel=1e-12)
                assert cand.incompatible[s, j] == pw.incompatible[s, m]
    joint = joint_identification(prepared, pw)
    excluded = ~np.isfinite(pw.log_lr)
    for row in joint.assignments:
        for s, c in enumerate(row):
            assert c < 0 or not excluded[s, c]
    best = joint.assignments[0]
    gain = sum(pw.log_lr[s, c] for s, c in enumerate(best) if c >= 0)
    assert joint.loglik[0] - joint.loglik[-1] == pytest.approx(
        gain - sum(pw.log_lr[s, c] for s, c in enumerate(joint.assignments[-1]) if c >= 0),
        rel=1e-9, abs=1e-9)


def test_joint_family_with_two_missing_adds_lineage_per_pair():

    markers = _markers()
    names = [m.name for m in markers]
    ped = Pedigree([Individual("FA", M), Individual("MO", F), Individual("M1", M, "FA", "MO"),
                    Individual("M2", M, "FA", "MO"), Individual("S", F, "FA", "MO")])
    sim = simulate_genotypes(ped, markers, 1, np.random.default_rng(11))
    prof = {p: genotype_profile(names, markers, sim[p][0]) for p in ("M1", "M2", "S")}
    samples = [PostMortemSample("V1", prof["M1"], M, mtdna=_mt("V1"), y_haplotype=_y("V1")),
               PostMortemSample("V2", prof["M2"], M, mtdna=_mt("V2"))]
    fam = ReferenceFamily("F", ped, ("M1", "M2"), {"S": prof["S"]},
                          mtdna_profiles={"S": _mt("S")})
    case = DVICase(markers, samples, [fam], lineage=_settings())
    prepared = prepare_case(case)
    pw = pairwise_lr(prepared)
    sexes = np.array([int(s.sex) for s in case.samples])
    sample_ll = sample_log_probabilities(prepared, sexes == M).sum(axis=1)
    family_ll = np.array([float(markers_loglik(f.pedigree, prepared.markers, g, 0.0).sum())
                          for f, g in zip(case.families, prepared.family_genotypes)])
    gain = FamilyGain(prepared, pw, sample_ll, family_ll)
    plain = FamilyGain(prepared, replace(pw, log_lr_mtdna=np.zeros_like(pw.log_lr_mtdna),
                                          lineage=None), sample_ll, family_ll)
    both = ((0, 0), (1, 1))
    assert gain(0, both) == pytest.approx(
        plain(0, both) + pw.log_lr_mtdna[0, 0] + pw.log_lr_mtdna[1, 1], rel=1e-12)
    joint = joint_identification(prepared, pw, method="bound")
    exact = joint_identification(prepared, pw, method="enumerate")
    np.testing.assert_allclose(joint.loglik[: len(exact.loglik)], exact.loglik[: len(joint.loglik)],
                               rtol=1e-9)


# -- kinship --------------------------------------------------------------------------------


def test_kinship_lr_combines_autosomal_y_and_mtdna():
    markers = _markers()
    names = [m.name for m in markers]
    ped = _pedigree()
    sim = simulate_genotypes(ped, markers, 1, np.random.default_rng(5))
    profiles = {p: genotype_profile(names, markers, sim[p][0]) for p in ("MP", "NB", "NS")}
    unrelated = Pedigree([*[i for i in ped if i.id != "MP"], Individual("MP", M)])
    h1, h2 = Hypothesis("missing", ped), Hypothesis("unrelated", unrelated)
    auto = kinship_lr([h1, h2], markers, profiles)
    result = kinship_lineage_lr(
        auto, h1, "MP", y_haplotype=_y("MP"), mtdna=_mt("MP"),
        relatives_y={"NB": _y("NB")}, relatives_mtdna={"NS": _mt("NS")}, settings=_settings(),
        reference_pedigree=unrelated)
    assert result.autosomal_lr == pytest.approx(auto.total_lr("missing"), rel=1e-12)
    assert result.y.relative == "NB" and result.mtdna.relative == "NS"
    assert result.lr == pytest.approx(result.autosomal_lr * result.y_lr * result.mtdna_lr,
                                      rel=1e-12)
    assert result.to_dict()["y"]["meioses"] == 3
    assert result.combined().total == pytest.approx(result.lr, rel=1e-12)
    with pytest.raises(KinmatchError, match="reference hypothesis"):
        kinship_lineage_lr(auto, h1, "MP", y_haplotype=_y("MP"), relatives_y={"NB": _y("NB")},
                           settings=_settings(), reference_pedigree=ped)


# -- the JSON format --------------------------------------------------------------------------


def test_json_round_trip_inline(tmp_path):
    case = _simulated_case(y={"NB": _y("NB", DYS19="15")}, mt={"NS": _mt("NS")},
                           samples_y={"V1": _y("V1")},
                           samples_mt={"V1": parse_mt_profile("T16093Y 73G 263G", MT_RANGE, "V1")})
    path = tmp_path / "case.json"
    write_dvi_case(case, path)
    doc = json.loads(path.read_text())
    assert "haplotypes" in doc["lineage"]["y_database"]  # built in memory: written inline
    again = read_dvi_case(path)
    assert again.samples[0].y_haplotype == case.samples[0].y_haplotype
    assert again.samples[0].mtdna == case.samples[0].mtdna
    assert dict(again.families[0].y_haplotypes) == dict(case.families[0].y_haplotypes)
    assert dict(again.families[0].mtdna_profiles) == dict(case.families[0].mtdna_profiles)
    assert dvi_case_to_dict(again) == dvi_case_to_dict(case)
    a, b = pairwise_lr(prepare_case(case)), pairwise_lr(prepare_case(again))
    assert np.array_equal(a.log_lr, b.log_lr, equal_nan=True)
    assert np.array_equal(a.log_lr_y, b.log_lr_y) and np.array_equal(a.log_lr_mtdna,
                                                                      b.log_lr_mtdna)


def test_json_round_trip_with_database_files(tmp_path):
    case = quietly(read_dvi_case, LINEAGE_EXAMPLE)
    assert set(case.lineage.sources) == {"y_database", "y_loci", "mt_database"}
    path = tmp_path / "sub" / "copy.json"
    path.parent.mkdir()
    write_dvi_case(case, path)
    doc = json.loads(path.read_text())
    assert isinstance(doc["lineage"]["y_database"], str)
    again = quietly(read_dvi_case, path)
    assert again.lineage.sources == case.lineage.sources
    a, b = pairwise_lr(prepare_case(case)), pairwise_lr(prepare_case(again))
    assert np.array_equal(a.log_lr, b.log_lr, equal_nan=True)


def test_the_lineage_example_has_both_lines():
    case = quietly(read_dvi_case, LINEAGE_EXAMPLE)
    pw = pairwise_lr(prepare_case(case))
    pair = pw.lineage.get("remains-07", "MA")
    assert (pair.y.relative, pair.y.meioses) == ("NBA", 3)
    assert (pair.mtdna.relative, pair.mtdna.meioses) == ("NSA", 3)
    # docs/lineage.md worked example (2.963 before DYS389II was compared as DYS389II - I)
    assert pair.y.lr == pytest.approx(2.987, rel=1e-3)
    assert pair.mtdna.lr == pytest.approx(26.1, rel=1e-2)
    b = pw.lineage.get("remains-11", "MB")
    assert b.y is None and b.mtdna.relative == "DBB"


def _doc() -> dict:
    return json.loads(LINEAGE_EXAMPLE.read_text())


def _parse(doc: dict) -> DVICase:
    return quietly(parse_dvi_case, json.dumps(doc, indent=2), str(LINEAGE_EXAMPLE))


def test_json_errors_are_located():
    doc = _doc()
    doc["samples"][0]["y_haplotype"]["DYS390"] = "2x"
    with pytest.raises(CaseFormatError) as err:
        _parse(doc)
    assert err.value.location.field == "/samples/0/y_haplotype/DYS390"
    assert err.value.location.line is not None and "2x" in err.value.message

    doc = _doc()
    doc["families"][0]["mtdna_profiles"]["NSA"]["variants"] = "73G 99999T"
    with pytest.raises(CaseFormatError) as err:
        _parse(doc)
    assert err.value.location.field == "/families/0/mtdna_profiles/NSA/variants"

    doc = _doc()
    doc["lineage"]["y_database"] = "lineage/no_such_file.tsv"
    with pytest.raises(CaseFormatError) as err:
        _parse(doc)
    assert err.value.location.field == "/lineage/y_database" and "not found" in err.value.message

    doc = _doc()
    doc["families"][1]["y_haplotypes"] = {"DBB": {"DYS19": "14"}}
    with pytest.raises(CaseFormatError, match="female"):
        _parse(doc)

    doc = _doc()
    doc["lineage"]["y_frequency_method"] = "guess"
    with pytest.raises(CaseFormatError) as err:
        _parse(doc)
    assert err.value.location.field == "/lineage/y_frequency_method"

    doc = _doc()
    doc["samples"][0]["mtdna"] = {"range": MT_RANGE}
    with pytest.raises(CaseFormatError, match="variants"):
        _parse(doc)


def test_y_haplotypes_without_a_database_is_a_clear_error():
    case = replace(_simulated_case(y={"NB": _y("NB")}, samples_y={"V1": _y("V1")}),
                   lineage=LineageSettings())
    with pytest.raises(KinmatchError, match="no Y haplotype database"):
        pairwise_lr(prepare_case(case))


# -- CLI and report ----------------------------------------------------------------------------


def test_cli_json_has_the_parts():
    result = run_cli("dvi", "--no-progress", str(LINEAGE_EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    pw = data["pairwise"]
    for key in ("log10_lr_autosomal", "log10_lr_y", "log10_lr_mtdna", "lineage_exclusions",
                "lineage"):
        assert key in pw
    case = quietly(read_dvi_case, LINEAGE_EXAMPLE)
    want = pairwise_lr(prepare_case(case))
    assert pw["log10_lr_y"][0][0] == pytest.approx(want.log_lr_y[0, 0] / math.log(10), rel=1e-12)
    lin = {(e["sample"], e["missing_person"]): e for e in pw["lineage"]}
    assert lin[("remains-07", "MA")]["y"]["relative"] == "NBA"
    assert lin[("remains-07", "MA")]["mtdna"]["frequency"]["method"] == "clopper_pearson"
    row = next(r for r in data["lr_parts"]["missing_persons"] if r["missing_person"] == "MA")
    assert row["lr"] == pytest.approx(row["lr_autosomal"] * row["lr_y"] * row["lr_mtdna"],
                                      rel=1e-12)
    assert row["y"]["meioses"] == 3


def test_cli_tables_show_the_parts_only_with_lineage_data():
    out = run_cli("dvi", "--no-progress", str(LINEAGE_EXAMPLE), width=220).output
    assert "Autosomal" in out and "mtDNA" in out
    plain = run_cli("dvi", "--no-progress", str(EXAMPLE), width=220).output
    assert "Autosomal" not in plain


def test_report_has_the_part_columns_and_the_lineage_evidence():
    case = _parents_case()
    solution = quietly(solve_case, case, threshold=100)
    html = dvi_report_html(case, solution, pairwise_lr(prepare_case(case)))
    for text in ("Autosomal LR", "Y LR", "mtDNA LR", "Lineage evidence per pair",
                 "Relative used", "clopper_pearson", "Meioses"):
        assert text in html
    plain = quietly(read_dvi_case, EXAMPLE)
    with quiet():
        html0 = dvi_report_html(plain, solve_case(plain), pairwise_lr(prepare_case(plain)))
    assert "Autosomal LR" not in html0


def test_evidence_kept_between_calls_follows_the_family_data():
    """A LineageEvidenceCache keeps the pairs lineage_evidence computed (dviSolve
    asks again after every step); a family whose reference profiles change is
    computed anew, and so is everything under other settings."""
    case = _simulated_case(y={"NB": _y("NB")}, samples_y={"V1": _y("V1")})
    cache = LineageEvidenceCache()
    first = lineage_evidence(case, cache=cache).get("V1", "MP").y
    again = lineage_evidence(case, cache=cache).get("V1", "MP").y
    assert again is first  # the same object: not recomputed
    # the nephew's haplotype now differs at one locus: a new, smaller LR
    fam = replace(case.families[0], y_haplotypes={"NB": _y("NB", DYS19="15")})
    changed = lineage_evidence(replace(case, families=[fam]), cache=cache).get("V1", "MP").y
    assert changed.status == "mismatch" and changed.lr < first.lr
    fresh = lineage_evidence(replace(case, families=[fam], lineage=_settings()),
                             cache=cache).get("V1", "MP").y
    assert fresh is not changed and fresh.lr == pytest.approx(changed.lr, rel=1e-15)
