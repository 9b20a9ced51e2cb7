"""Lineage evidence in power planning (kinmatch.planning_lineage)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from support import EXAMPLES, pedigree, run_cli

from kinmatch.formats.dvi_json import read_dvi_case
from kinmatch.lineage.mtdna import MtDatabase, parse_mt_profile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YDatabase, YLocus, YLocusTable, make_haplotype
from kinmatch.planning.lineage import (
    MtLineageEvidence,
    YLineageEvidence,
    lineage_systems,
    mutate_haplotype,
)
from kinmatch.planning.power import LineageEvidence, plan_case

EXAMPLE = EXAMPLES / "dvi_case_lineage.json"


# grandparents, the missing man, his brother and the brother's son; a sister and her son
FAMILY = pedigree(("GF", None, None, 1), ("GM", None, None, 2), ("MP", "GF", "GM", 1),
                  ("B", "GF", "GM", 1), ("BW", None, None, 2), ("NB", "B", "BW", 1),
                  ("S", "GF", "GM", 2), ("SH", None, None, 1), ("NS", "SH", "S", 1))


def _table(rate):
    return YLocusTable([YLocus("DYS19", rate), YLocus("DYS390", rate), YLocus("DYS391", rate)])


def _hap(sample, a, b, c, loci):
    return make_haplotype(sample, {"DYS19": a, "DYS390": b, "DYS391": c}, loci)


def _y_setup(rate=0.0):
    loci = _table(rate)
    ref = _hap("NB", 14, 23, 10, loci)
    rows = [(14, 23, 10), (14, 23, 10), (15, 23, 10), (14, 24, 11), (20, 23, 10),
            (14, 30, 10), (16, 22, 10), (14, 23, 5)]
    db = YDatabase(tuple(_hap(f"d{i}", *r, loci) for i, r in enumerate(rows)), loci)
    settings = LineageSettings(y_database=db, y_loci=loci)
    family = SimpleNamespace(y_haplotypes={"NB": ref}, mtdna_profiles={})
    return YLineageEvidence(family, settings), ref, db


def test_protocol():
    y, _, _ = _y_setup()
    assert isinstance(y, LineageEvidence)


def test_y_true_mp_lr_is_one_over_reference_frequency_without_mutation():
    y, ref, db = _y_setup(0.0)
    rng = np.random.default_rng(1)
    out = y.simulate_log10_lr(FAMILY, "MP", (), None, 200, rng, true_missing=True)
    x = sum(1 for h in db.haplotypes if h == ref)
    expected = math.log10(1.0 / ((x + 1) / (len(db) + 1)))  # count_plus_one
    assert np.all(out == expected)
    # an untyped brother (2 meioses, closer than the nephew) becomes the reference:
    # the MP's haplotype is drawn from the database, LR = 1/f(drawn haplotype)
    out = y.simulate_log10_lr(FAMILY, "MP", (), "B", 300, np.random.default_rng(2),
                              true_missing=True)
    allowed = {math.log10(1.0 / ((sum(1 for g in db.haplotypes if g == h) + 1) / (len(db) + 1)))
               for h in db.haplotypes}
    assert set(out.tolist()) <= allowed
    assert y.reference(FAMILY, "MP", "B").pid == "B"
    assert y.reference(FAMILY, "MP", "GF").meioses == 1
    # the sister's son does not share the Y; a woman carries none
    assert y.reference(FAMILY, "MP", "NS").pid == "NB"
    assert np.all(y.simulate_log10_lr(FAMILY, "S", (), None, 5, rng, true_missing=True) == 0)


def test_y_exclusion_probability_is_database_fraction():
    y, _, _ = _y_setup(0.003)
    # 3 meioses NB-MP: differences of more than 3 repeats at a locus exclude:
    # (20,23,10), (14,30,10) and (14,23,5)
    assert y.exclusion_probability(FAMILY, "MP", (), None) == pytest.approx(3 / 8)
    unrel = y.simulate_log10_lr(FAMILY, "MP", (), None, 4000, np.random.default_rng(3),
                                true_missing=False)
    assert np.mean(np.isneginf(unrel)) == pytest.approx(3 / 8, abs=0.03)
    # untyped candidate reference: averaged over simulated references, in [0, 1]
    p = y.exclusion_probability(FAMILY, "MP", (), "B")
    assert 0 < p < 1


def test_y_exclusion_unique_reference():
    loci = _table(0.003)
    ref = _hap("NB", 14, 23, 10, loci)
    rows = [(14, 23, 10), (20, 23, 10), (14, 30, 10), (15, 23, 11), (14, 14, 10)]
    db = YDatabase(tuple(_hap(f"d{i}", *r, loci) for i, r in enumerate(rows)), loci)
    y = YLineageEvidence(SimpleNamespace(y_haplotypes={"NB": ref}, mtdna_profiles={}),
                         LineageSettings(y_database=db, y_loci=loci))
    assert y.exclusion_probability(FAMILY, "MP", (), None) == pytest.approx(3 / 5)


def test_mutate_haplotype_rates():
    loci = _table(0.0)
    h = _hap("x", 14, 23, 10, loci)
    assert mutate_haplotype(h, 5, loci, np.random.default_rng(0)) == h
    loci = _table(0.5)
    rng = np.random.default_rng(0)
    diffs = [int(mutate_haplotype(h, 1, loci, rng).alleles["DYS19"][0]) - 14
             for _ in range(4000)]
    assert set(diffs) <= {-1, 0, 1}
    assert np.mean(np.array(diffs) == 0) == pytest.approx(0.5, abs=0.03)


def test_mt_true_mp_and_exclusion():
    ref = parse_mt_profile("16223T 263G", sample="NS")
    profiles = ["16223T 263G", "263G", "16126C 263G 16294T", "73G 16129A 263G", "16223T 263G"]
    db = MtDatabase(tuple(parse_mt_profile(v, sample=f"m{i}") for i, v in enumerate(profiles)))
    mt = MtLineageEvidence(SimpleNamespace(y_haplotypes={}, mtdna_profiles={"NS": ref}),
                           LineageSettings(mt_database=db, mt_frequency_method="count_plus_one"))
    assert mt.reference(FAMILY, "MP", None).meioses == 3
    out = mt.simulate_log10_lr(FAMILY, "MP", (), None, 50, np.random.default_rng(1),
                               true_missing=True)
    assert np.all(out == math.log10(1.0 / (3 / 6)))
    # "263G" differs once (inconclusive, not excluded); the 3rd and 4th differ at 3
    # positions (excluded: >= 2 differences)
    assert mt.exclusion_probability(FAMILY, "MP", (), None) == pytest.approx(2 / 5)
    # a woman is on the maternal line too: the mother as candidate is closer
    assert mt.reference(FAMILY, "MP", "GM").pid == "GM"


@pytest.mark.slow
def test_example_power_with_lineage_at_least_autosomal():
    case = read_dvi_case(EXAMPLE)
    systems = lineage_systems(case)
    assert [s.name for s in systems["A"]] == ["Y-STR", "mtDNA"]
    assert [s.name for s in systems["B"]] == ["mtDNA"]
    plans = plan_case(case, candidates=None, n_simulations=150, seed=5)
    assert all(p.lineage for p in plans)
    for p in plans:
        assert not any("not used" in n for n in p.notes)
        for s in (p.current, *p.candidates):
            assert s.autosomal is not None
            assert s.exclusion_power >= s.autosomal.exclusion_power - 1e-12
            assert s.inclusion_power >= s.autosomal.inclusion_power - 0.02
            assert s.ranking_power >= s.autosomal.ranking_power - 0.05
            assert s.mean_log10_lr > s.autosomal.mean_log10_lr
    off = plan_case(case, n_simulations=20, seed=5, use_lineage=False)
    assert all(not p.lineage and p.current.autosomal is None for p in off)
    assert all(any("not used" in n for n in p.notes) for p in off)


@pytest.mark.slow
def test_reproducible_with_seed():
    case = read_dvi_case(EXAMPLE)
    a = plan_case(case, family="A", candidates=["BA"], n_simulations=60, seed=11)
    b = plan_case(case, family="A", candidates=["BA"], n_simulations=60, seed=11)
    for x, y in zip(a, b):
        assert np.array_equal(x.current.log10_lr, y.current.log10_lr)
        assert np.array_equal(x.candidates[0].log10_lr, y.candidates[0].log10_lr)
        assert np.array_equal(x.candidates[0].log10_lr_unrelated,
                              y.candidates[0].log10_lr_unrelated)
        assert x.candidates[0].exclusion_power == y.candidates[0].exclusion_power


@pytest.mark.slow
def test_cli_lineage_column():
    args = ["plan", str(EXAMPLE), "--family", "A", "--candidates", "BA,SA",
            "--simulations", "50", "--seed", "1", "--no-progress"]
    res = run_cli(*args, width=200)
    assert res.exit_code == 0, res.output
    assert "Autos." in res.output
    assert "lineage: Y-STR, mtDNA" in res.output
    res = run_cli(*args, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["lineage"] is True
    plan = data["plans"][0]
    assert plan["lineage"] == ["Y-STR", "mtDNA"]
    assert "autosomal" in plan["current"]
    res = run_cli(*args, "--no-lineage", width=200)
    assert res.exit_code == 0, res.output
    assert "Autos." not in res.output
    assert "not used" in res.output
