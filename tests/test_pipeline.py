"""The library's pipelines (dvi.pipeline.run_dvi_case, kinship.analysis) and the
any-format readers (formats.cases): each equals the stages called one by one,
and the command line prints what they return."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import EXAMPLES, FORMATS, quiet, quietly, run_cli, shared_reference_path

import kinmatch
from kinmatch.dvi.case import PostMortemSample, estimate_case_dropout, prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.dvi.pipeline import STAGES, DVIOptions, run_dvi_case
from kinmatch.dvi.reassociation import merge_fragments
from kinmatch.dvi.solve import solve_case
from kinmatch.errors import CaseFormatError, KinmatchError, KinmatchWarning
from kinmatch.formats.cases import read_case, read_dvi_case, read_kinship_case
from kinmatch.formats.dvi_json import write_dvi_case
from kinmatch.kinship.analysis import analyse_kinship_case
from kinmatch.kinship.lr import kinship_lr

DVI_EXAMPLE = EXAMPLES / "dvi_case.json"


def test_run_dvi_case_equals_the_stages_one_by_one() -> None:
    case = read_dvi_case(DVI_EXAMPLE)
    stages: list[int] = []
    result = run_dvi_case(case, DVIOptions(threshold=1e3, top=5), on_stage=stages.append)
    assert stages == [*range(len(STAGES)), len(STAGES)]
    prepared = prepare_case(case)
    pairwise = pairwise_lr(prepared)
    np.testing.assert_array_equal(result.pairwise.log_lr, pairwise.log_lr)
    assert result.solution.to_dict() == solve_case(case, threshold=1e3).to_dict()
    joint = joint_identification(prepared, pairwise, top=5)
    np.testing.assert_array_equal(result.joint.loglik, joint.loglik)
    np.testing.assert_array_equal(result.joint.posterior, joint.posterior)
    assert result.case is case and result.fragments == {}


def test_dvir_case_gives_dvirs_conclusions_through_the_pipeline(dvir_dataset) -> None:
    case, ref = dvir_dataset("dvi_planecrash.json")
    expected = ref["dviSolve"]
    with quiet():
        result = run_dvi_case(case, DVIOptions(threshold=expected["threshold"]))
    got = result.to_dict()["solution"]["missing_persons"]
    assert len(got) == len(expected["AM"])
    for want, have in zip(expected["AM"], got):
        assert have["missing_person"] == want["Missing"]
        assert have["conclusion"] == want.get("Conclusion")
        if isinstance(want.get("LR"), float):
            assert have["lr"] == pytest.approx(want["LR"], rel=5e-9)


def test_options_merge_fragments_and_estimate_dropout() -> None:
    case = read_dvi_case(DVI_EXAMPLE)
    first = case.samples[0]
    names = list(first.profile)
    half = {k: first.profile[k] for k in names[: len(names) // 2 + 3]}
    other = {k: first.profile[k] for k in names[len(names) // 2 - 3:]}
    split = replace(case, samples=[PostMortemSample(first.id + "a", half, first.sex),
                                   PostMortemSample(first.id + "b", other, first.sex),
                                   *case.samples[1:]])
    options = DVIOptions(merge_fragments=True, identity_threshold=100, estimate_dropout=True,
                         dropin=0.01)
    with quiet():
        result = run_dvi_case(split, options)
        expected = merge_fragments(estimate_case_dropout(split, 0.01), threshold=100).case
    merged = f"{first.id}a+{first.id}b"
    assert result.fragments == {merged: (first.id + "a", first.id + "b")}
    assert [s.id for s in result.case.samples] == [s.id for s in expected.samples]
    assert [s.dropout for s in result.case.samples] == [s.dropout for s in expected.samples]
    assert all(s.dropout >= 0.01 for s in result.case.samples)
    with quiet():
        np.testing.assert_array_equal(result.pairwise.log_lr,
                                      pairwise_lr(prepare_case(expected)).log_lr)


def test_result_to_dict_is_what_the_cli_prints() -> None:
    case = read_dvi_case(DVI_EXAMPLE)
    result = run_dvi_case(case, source=str(DVI_EXAMPLE))
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)  # no NaN or infinity anywhere
    res = run_cli("dvi", str(DVI_EXAMPLE), "--json", "--no-progress")
    assert res.exit_code == 0, res.output
    printed = json.loads(res.output)
    assert printed.pop("truth") is None
    assert printed == json.loads(text)
    assert data["options"] == DVIOptions().to_dict()
    v1 = data["pairwise"]["samples"].index("V1")
    m1 = data["pairwise"]["missing"].index("M1")
    assert data["pairwise"]["log10_lr"][v1][m1] == pytest.approx(
        float(result.pairwise.log_lr[v1, m1]) / math.log(10), rel=1e-15)


def test_identifications_and_lr_parts() -> None:
    result = run_dvi_case(read_dvi_case(DVI_EXAMPLE))
    assert list(result.identifications) == ["V1"]
    row = result.identifications["V1"]
    parts = result.lr_parts(row)
    assert parts is not None
    assert parts.y is None and parts.mtdna is None
    assert parts.autosomal == pytest.approx(row.lr, rel=1e-12)
    assert result.joint_note is None


def test_analyse_kinship_case_equals_kinship_lr() -> None:
    case = read_kinship_case(EXAMPLES / "missing_person.json")
    analysis = analyse_kinship_case(case)
    direct = kinship_lr(case.hypotheses, case.markers, case.profiles, theta=case.theta,
                        reference=case.reference, minimum_frequency=case.minimum_frequency,
                        dropout=case.dropout, dropin=case.dropin)
    np.testing.assert_array_equal(analysis.result.loglik, direct.loglik)
    # the R pedsuite's number for this case
    assert analysis.result.total_lr("missing_son") == pytest.approx(3156.08113499255, rel=1e-9)
    assert analysis.lineage is None
    swapped = analyse_kinship_case(case, reference="missing_son")
    assert swapped.result.total_lr("unrelated") == pytest.approx(
        1 / analysis.result.total_lr("missing_son"), rel=1e-12)


def test_analyse_kinship_case_theta_overrides_the_case() -> None:
    case = read_kinship_case(EXAMPLES / "paternity.json")
    plain = analyse_kinship_case(case, theta=0.0)
    with_theta = analyse_kinship_case(case, theta=0.02)
    assert with_theta.result.theta == 0.02
    np.testing.assert_array_equal(
        plain.result.loglik,
        kinship_lr(case.hypotheses, case.markers, case.profiles, theta=0.0,
                   reference=case.reference).loglik)
    np.testing.assert_array_equal(
        with_theta.result.loglik,
        kinship_lr(case.hypotheses, case.markers, case.profiles, theta=0.02,
                   reference=case.reference).loglik)


def test_analyse_kinship_case_with_lineage_data() -> None:
    analysis = analyse_kinship_case(read_kinship_case(EXAMPLES / "missing_person_lineage.json"))
    assert analysis.lineage is not None
    assert analysis.lineage.results
    out = analysis.to_dict()
    assert out["lineage"]["poi"] == analysis.lineage.person
    json.dumps(out, allow_nan=False)


def test_read_case_tells_the_kind_from_the_content(tmp_path) -> None:
    assert type(read_case(EXAMPLES / "missing_person.json")).__name__ == "KinshipCase"
    assert type(read_case(DVI_EXAMPLE)).__name__ == "DVICase"
    # a DVI case written as Familias is read back as a DVI case
    dvi = read_dvi_case(DVI_EXAMPLE)
    path = tmp_path / "case.json"
    write_dvi_case(dvi, path)
    assert read_dvi_case(path).markers[0].name == dvi.markers[0].name
    with pytest.raises(CaseFormatError, match="kinship case; kinmatch dvi needs a DVI case"):
        read_dvi_case(EXAMPLES / "missing_person.json")
    with pytest.raises(CaseFormatError, match="genotype table: give the frequency database"):
        read_kinship_case(FORMATS / "profiles_wide.csv")
    with pytest.raises(CaseFormatError, match="not a DVI case"):
        read_dvi_case(FORMATS / "frequencies_long.csv")


def test_public_api_reads_and_runs_the_shipped_examples() -> None:
    case = kinmatch.read_dvi_case(DVI_EXAMPLE)
    assert isinstance(case, kinmatch.DVICase)
    result = kinmatch.run_dvi_case(case, kinmatch.DVIOptions())
    assert isinstance(result, kinmatch.DVIResult)
    lab = quietly(kinmatch.read_kinship_case, FORMATS / "genemapper_export.txt",
                  frequencies=FORMATS / "frequencies_familias.txt",
                  pedigree=FORMATS / "missing_son.ped", missing="Missing-Son",
                  poi="UHR-2024-007")
    assert isinstance(lab, kinmatch.KinshipCase)
    assert [h.name for h in lab.hypotheses] == ["missing_person", "unrelated"]


def test_a_familias_file_with_one_pedigree_gives_its_likelihood() -> None:
    """Familias shows the likelihood of a file with one pedigree; so does
    `kinmatch lr` (per marker and in total), equal to the pedsuite's numbers."""
    folder = shared_reference_path("familias-files", "the real Familias files")
    expected = next(e for e in json.loads((folder / "expected.json").read_text())["results"]
                    if e["file"] == "Ch4-example-4-8-4.fam")
    path = folder / "Ch4-example-4-8-4.fam"
    analysis = analyse_kinship_case(read_kinship_case(path))
    assert len(analysis.result.hypotheses) == 1
    assert list(analysis.result.markers) == expected["markers"]
    (want,) = expected["loglik_per_marker"].values()
    np.testing.assert_allclose(analysis.result.loglik[0], want, rtol=1e-9)
    (total,) = expected["loglik_total"].values()
    assert float(analysis.result.total_loglik[0]) == pytest.approx(total, rel=1e-9)
    res = run_cli("lr", str(path), width=120)
    assert res.exit_code == 0, res.output
    assert "-429.4005" in res.output and "3.26 × 10^-187" in res.output
    assert "one hypothesis: no LR" in res.output
    res = run_cli("lr", str(path), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["hypotheses"][0]["loglik"] == pytest.approx(total, rel=1e-9)


def test_warnings_come_once_and_before_the_results() -> None:
    res = run_cli("lr", str(FORMATS / "genemapper_export.txt"),
                  "--frequencies", str(FORMATS / "frequencies_familias.txt"),
                  "--pedigree", str(FORMATS / "missing_son.ped"), "--missing", "Missing-Son",
                  "--poi", "UHR-2024-007", width=200)
    assert res.exit_code == 0, res.output
    assert res.output.count("off-ladder allele (OL)") == 1
    assert res.output.index("warning:") < res.output.index("Marker")


def _with_sample(profile: dict[str, tuple[str, str]], sample_id: str = "EMPTY"):
    case = read_dvi_case(DVI_EXAMPLE)
    extra = PostMortemSample(sample_id, profile, case.samples[0].sex)
    return replace(case, samples=[*case.samples[:2], extra, *case.samples[2:]])


def test_a_sample_typed_at_no_marker_is_not_typed() -> None:
    """Never "Best: M1" for a sample with no data: its own conclusion, a
    warning, and the rest of the case computed as without it."""
    case = _with_sample({})
    with pytest.warns(KinmatchWarning, match="'EMPTY' is typed at 0 of 10 markers"):
        result = run_dvi_case(case)
    rows = {r.sample: r for r in result.solution.samples}
    assert rows["EMPTY"].conclusion == "Not typed" and rows["EMPTY"].missing_person is None
    assert [r.sample for r in result.solution.samples] == [s.id for s in case.samples]
    assert result.not_typed == ("EMPTY",)
    assert "EMPTY" not in result.pairwise.samples
    plain = run_dvi_case(read_dvi_case(DVI_EXAMPLE))
    assert result.solution.missing_persons == plain.solution.missing_persons
    res = run_cli("dvi", "--json", "--no-progress", str(_written(case)))
    assert res.exit_code == 0, res.output
    data = json.loads(res.output[res.output.index("{"):])
    assert data["not_typed"] == ["EMPTY"]


def test_min_markers_is_configurable() -> None:
    first = read_dvi_case(DVI_EXAMPLE).samples[0]
    two = dict(list(first.profile.items())[:2])
    case = _with_sample(two, "FEW")
    assert run_dvi_case(case, DVIOptions(min_markers=2)).not_typed == ()
    with pytest.warns(KinmatchWarning, match="'FEW' is typed at 2 of 10 markers"):
        result = run_dvi_case(case, DVIOptions(min_markers=3))
    assert {r.sample: r.conclusion for r in result.solution.samples}["FEW"] == "Not typed"
    with pytest.raises(KinmatchError, match="no sample is typed at 11 or more markers"), \
            pytest.warns(KinmatchWarning):
        run_dvi_case(case, DVIOptions(min_markers=11))


def _written(case) -> Path:
    path = Path(tempfile.mkdtemp()) / "case.json"
    write_dvi_case(case, path)
    return path


def test_not_typed_samples_are_counted() -> None:
    case = _with_sample({})
    with pytest.warns(KinmatchWarning):
        result = run_dvi_case(case)
    assert result.to_dict()["case"]["samples"] == len(case.samples) == 6
    res = run_cli("dvi", "--no-progress", str(_written(case)), width=200)
    assert res.exit_code == 0, res.output
    assert "6 samples" in res.output and "Not typed" in res.output


def test_a_one_hypothesis_case_round_trips_through_json(tmp_path: Path) -> None:
    """A case with one pedigree is a pedigree likelihood in JSON as in Familias."""
    folder = shared_reference_path("familias-files", "the real Familias files")
    out = tmp_path / "one.json"
    assert run_cli("convert", str(folder / "Ch4-example-4-8-4.fam"), str(out)).exit_code == 0
    res = run_cli("lr", str(out), width=120)
    assert res.exit_code == 0, res.output
    assert "-429.4005" in res.output


def test_a_pedigree_likelihood_of_zero_is_printed_with_who_conflicts(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    doc["hypotheses"] = doc["hypotheses"][:1]
    doc.pop("reference", None)
    for marker in doc["markers"]:
        marker.pop("mutation", None)
    first = doc["markers"][0]["name"]
    alleles = doc["markers"][0]["alleles"]
    people = list(doc["profiles"])
    doc["profiles"][people[0]][first] = [alleles[0], alleles[0]]
    doc["profiles"][people[1]][first] = [alleles[1], alleles[1]]
    path = tmp_path / "zero.json"
    path.write_text(json.dumps(doc))
    res = run_cli("lr", str(path), width=200)
    assert res.exit_code == 0, res.output
    assert "-∞ (likelihood 0)" in res.output
    assert f"{first}: the pedigree has likelihood 0" in res.output
