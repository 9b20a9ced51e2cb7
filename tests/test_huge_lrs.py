"""LRs beyond the float range (10^308): carried as log10, printed as 10^k, never
an OverflowError, "Infinity" in JSON or "∞" for a finite LR.

A trio typed at thousands of SNPs of frequency 0.5 — father A/A, mother
B/B, child A/B — has the per-marker paternity LR 1 / P(A) = 2, so
n markers give LR = 2^n = 10^(n log10 2): 10^3010 for 10,000 SNPs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from support import run_cli

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.dvi.pipeline import DVIOptions, run_dvi_case
from kinmatch.kinship.analysis import analyse_kinship_case
from kinmatch.kinship.case import Hypothesis, KinshipCase
from kinmatch.kinship.lr import format_power_of_ten
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records
from kinmatch.report.dvi_report import dvi_result_report_html, format_lr

LOG10_2 = math.log10(2)


def snp_markers(n: int) -> list[Marker]:
    return [Marker(f"rs{i}", ["A", "B"], [0.5, 0.5]) for i in range(n)]


def trio_profiles(n: int) -> dict[str, dict[str, tuple[str, str]]]:
    return {"F": {f"rs{i}": ("A", "A") for i in range(n)},
            "M": {f"rs{i}": ("B", "B") for i in range(n)},
            "C": {f"rs{i}": ("A", "B") for i in range(n)}}


PATERNITY = [{"id": "F", "sex": 1}, {"id": "M", "sex": 2},
             {"id": "C", "sex": 1, "father": "F", "mother": "M"}]
UNRELATED = [{"id": "F", "sex": 1}, {"id": "M", "sex": 2}, {"id": "X", "sex": 1},
             {"id": "C", "sex": 1, "father": "X", "mother": "M"}]


def write_trio_case(path: Path, n: int) -> Path:
    """The trio as a kinmatch JSON case file."""
    doc = {
        "format": "kinmatch-case", "version": 1, "title": f"Trio at {n} SNPs",
        "markers": [{"name": f"rs{i}", "alleles": ["A", "B"], "frequencies": [0.5, 0.5]}
                    for i in range(n)],
        "profiles": {p: {m: list(g) for m, g in prof.items()}
                     for p, prof in trio_profiles(n).items()},
        "hypotheses": [{"name": "paternity", "pedigree": PATERNITY},
                       {"name": "unrelated", "pedigree": UNRELATED}],
        "reference": "unrelated",
    }
    path.write_text(json.dumps(doc))
    return path


def trio_case(n: int) -> KinshipCase:
    return KinshipCase(markers=snp_markers(n), profiles=trio_profiles(n),
                       hypotheses=[Hypothesis("paternity", pedigree_from_records(PATERNITY)),
                                   Hypothesis("unrelated", pedigree_from_records(UNRELATED))],
                       reference="unrelated")


def test_power_of_ten_formatting() -> None:
    assert format_power_of_ten(412.5) == "3.16 × 10^412"
    assert format_power_of_ten(3010.2999566398066) == "2 × 10^3010"
    assert format_power_of_ten(-400.0) == "1 × 10^-400"
    assert format_power_of_ten(2.99999999) == "1 × 10^3"  # the mantissa rounds up to 10


def test_kinship_result_of_a_10000_snp_trio_carries_log10() -> None:
    n = 10_000
    result = analyse_kinship_case(trio_case(n)).result
    assert result.total_log10_lr("paternity") == pytest.approx(n * LOG10_2, rel=1e-9)
    assert result.total_lr("paternity") == math.inf  # beyond the floats, no OverflowError
    assert result.impossible_markers == {"paternity": (), "unrelated": ()}
    hyp = result.to_dict()["hypotheses"][0]
    assert hyp["lr"] is None and hyp["log10_lr"] == pytest.approx(n * LOG10_2, rel=1e-9)
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.slow
def test_kinmatch_lr_json_of_a_10000_snp_trio(tmp_path: Path) -> None:
    n = 10_000
    out = run_cli("lr", "--json", str(write_trio_case(tmp_path / "trio.json", n)))
    assert out.exit_code == 0, out.output
    assert "Infinity" not in out.output and "NaN" not in out.output
    data = json.loads(out.output)
    paternity = next(h for h in data["hypotheses"] if h["name"] == "paternity")
    assert paternity["log10_lr"] == pytest.approx(n * LOG10_2, rel=1e-9)
    assert paternity["log_lr"] == pytest.approx(n * math.log(2), rel=1e-9)
    assert paternity["lr"] is None  # beyond the float range: read log10_lr
    assert paternity["log10_lr_per_marker"][:3] == pytest.approx([LOG10_2] * 3, rel=1e-12)
    assert paternity["lr_per_marker"][:3] == pytest.approx([2.0] * 3, rel=1e-12)


def test_kinmatch_lr_table_of_a_trio_beyond_the_floats(tmp_path: Path) -> None:
    n = 2_000  # 2^2000 = 1.15 × 10^602 (the table prints every marker: kept smaller)
    out = run_cli("lr", str(write_trio_case(tmp_path / "trio.json", n)), width=200)
    assert out.exit_code == 0, out.output
    assert "1.15 × 10^602" in out.output
    assert f"{n * LOG10_2:.4f}" in out.output
    assert "Inf" not in out.output and "∞" not in out.output and "NaN" not in out.output


def dvi_case(n: int) -> DVICase:
    """One family (father A/A, mother B/B, missing son) and remains typed A/B at n SNPs:
    the pairwise LR is 2^n."""
    pedigree = pedigree_from_records([{"id": "F", "sex": 1}, {"id": "M", "sex": 2},
                                      {"id": "S", "sex": 1, "father": "F", "mother": "M"}])
    profiles = trio_profiles(n)
    family = ReferenceFamily("Fam", pedigree, ("S",),
                             profiles={"F": profiles["F"], "M": profiles["M"]})
    other = PostMortemSample("V2", {f"rs{i}": ("A", "A") for i in range(n)}, sex=1)
    return DVICase(markers=snp_markers(n), samples=[
        PostMortemSample("V1", profiles["C"], sex=1), other], families=[family],
        title="Trio beyond the floats")


def test_dvi_pairwise_lr_beyond_the_floats_is_json_safe_and_reported_as_a_power() -> None:
    n = 2_000
    result = run_dvi_case(dvi_case(n), DVIOptions())
    expected = n * LOG10_2
    v1, s = result.pairwise.samples.index("V1"), result.pairwise.missing.index("S")
    assert result.pairwise.log_lr[v1, s] / math.log(10) == pytest.approx(expected, rel=1e-9)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)  # no Infinity, no NaN
    assert "Infinity" not in text
    row = data["solution"]["missing_persons"][0]
    assert row["sample"] == "V1" and row["conclusion"] == "Undisputed"
    assert row["lr"] is None and row["log10_lr"] == pytest.approx(expected, rel=1e-9)
    sample_row = next(r for r in data["solution"]["samples"] if r["sample"] == "V1")
    assert sample_row["log10_lr"] == pytest.approx(expected, rel=1e-9)
    parts = data["lr_parts"]["missing_persons"][0]
    assert parts["log10_lr"] == pytest.approx(expected, rel=1e-9)
    assert parts["log10_lr_autosomal"] == pytest.approx(expected, rel=1e-9)
    assert data["pairwise"]["log10_lr"][v1][s] == pytest.approx(expected, rel=1e-9)
    lr_matrix = data["solution"]["lr_matrix"]
    assert lr_matrix["values"][v1][s] is None
    assert lr_matrix["log10_values"][v1][s] == pytest.approx(expected, rel=1e-9)

    html = dvi_result_report_html(result)
    power = format_power_of_ten(expected)
    assert power == "1.15 × 10^602"
    assert power in html
    assert f"{expected:.2f}" in html  # the log10 column
    assert '"num">∞<' not in html  # (LR 0 shows as −∞ in the log10 matrix, rightly)
    best_vs_none = format_power_of_ten(result.joint.loglik[0] / math.log(10)
                                       - result.joint.loglik[1] / math.log(10))
    assert best_vs_none in html  # the joint table's "LR best : this", also beyond the floats
    top = data["joint"]["top"]
    assert top[1]["lr_vs_best"] is None and top[1]["log10_lr_vs_best"] > 308


def test_report_format_lr_keeps_infinity_for_a_truly_infinite_lr() -> None:
    assert format_lr(math.inf) == "∞"
    assert format_lr(math.inf, 602.06) == "1.15 × 10^602"
    assert format_lr(0.0, -500.0) == "1 × 10^-500"
    assert format_lr(0.0) == "0"
    assert format_lr(123.4, 2.0913) == "123.4"  # a float LR prints as before


def sibling_case(n: int) -> DVICase:
    """Two missing brothers and two remains with the same profile (A/B at n SNPs;
    father A/A, mother B/B): each remains fits each brother with LR 2^n."""
    pedigree = pedigree_from_records([
        {"id": "F", "sex": 1}, {"id": "M", "sex": 2},
        {"id": "S1", "sex": 1, "father": "F", "mother": "M"},
        {"id": "S2", "sex": 1, "father": "F", "mother": "M"}])
    profiles = trio_profiles(n)
    family = ReferenceFamily("Fam", pedigree, ("S1", "S2"),
                             profiles={"F": profiles["F"], "M": profiles["M"]})
    return DVICase(markers=snp_markers(n), samples=[
        PostMortemSample("V1", profiles["C"], sex=1),
        PostMortemSample("V2", profiles["C"], sex=1)], families=[family])


@pytest.mark.parametrize("n", [40, 1_200])
def test_equal_lrs_beyond_the_floats_are_not_undisputed(n: int) -> None:
    """LRs of 2^1200 overflow to inf; two of them in one row must not make
    either undisputed (inf <= inf / threshold), and the symmetric GLR must not
    overflow: the conclusions are those of the same case at 40 SNPs."""
    result = run_dvi_case(sibling_case(n))
    rows = result.to_dict()["solution"]["missing_persons"]
    assert [(r["missing_person"], r["sample"], r["conclusion"]) for r in rows] == [
        ("S1", "V1/V2", "Symmetric match"), ("S2", "V1/V2", "Symmetric match")]
    json.dumps(result.to_dict(), allow_nan=False)
