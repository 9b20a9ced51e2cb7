"""PED-style pedigree tables and LINKAGE/PLINK .fam files."""

from __future__ import annotations

import pytest
from support import FORMATS, located_error

from kinmatch.errors import CaseFormatError, KinmatchError
from kinmatch.formats.pedigree_tables import (
    format_ped,
    format_plink_fam,
    parse_ped,
    parse_ped_families,
    parse_plink_fam,
    read_ped,
    read_ped_families,
    read_plink_fam,
    write_ped,
    write_plink_fam,
)
from kinmatch.ibd import kinship_coefficients
from kinmatch.pedigree import Pedigree, Sex


def summary(ped: Pedigree) -> list[tuple[str, str | None, str | None, int]]:
    return [(p.id, p.father, p.mother, int(p.sex)) for p in ped]


TRIO = [("F", None, None, 1), ("M", None, None, 2), ("C", "F", "M", 2)]


def test_example_ped():
    ped = read_ped(FORMATS / "family.ped")
    assert ped.ids == [
        "Grandfather",
        "Grandmother",
        "Father",
        "Mother",
        "Missing-Son",
        "Brother",
        "Aunt",
    ]
    assert ped.parents("Missing-Son") == ("Father", "Mother")
    assert ped.parents("Aunt") == ("Grandfather", "Grandmother")
    assert ped.sex("Aunt") == Sex.FEMALE and ped.sex("Brother") == Sex.MALE
    assert ped.founders == ["Grandfather", "Grandmother", "Mother"]
    phi = kinship_coefficients(ped)
    assert phi("Missing-Son", "Brother") == pytest.approx(0.25)
    assert phi("Missing-Son", "Aunt") == pytest.approx(0.125)
    assert list(read_ped_families(FORMATS / "family.ped")) == ["family"]


def test_example_plink_fam_with_two_families():
    families = read_plink_fam(FORMATS / "plink_two_families.fam")
    assert list(families) == ["FAM1", "FAM2"]
    assert families["FAM1"].ids == ["Grandfather", "Grandmother", "Father", "Mother", "Missing-Son"]
    assert summary(families["FAM2"]) == [
        ("F2-Father", None, None, 1),
        ("F2-Mother", None, None, 2),
        ("F2-Daughter", "F2-Father", "F2-Mother", 2),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "id\tfather\tmother\tsex\nF\t0\t0\t1\nM\t0\t0\t2\nC\tF\tM\t2\n",
        "F 0 0 1\nM 0 0 2\nC F M 2\n",
        "F\t0\t0\tM\nM\t0\t0\tF\nC\tF\tM\tF\n",
        "ID,Father,Mother,Sex\nF,,,male\nM,NA,NA,female\nC,F,M,Female\n",
        "id;fid;mid;sex\nF;.;.;1\nM;-;-;2\nC;F;M;2\n",
        "# a trio\nid fid mid sex\nF 0 0 m\nM 0 0 f\n\nC F M f\n",
        "sex,mother,father,id,phenotype\n1,0,0,F,-9\n2,0,0,M,-9\n2,M,F,C,2\n",
        "id\tfather\tmother\tsex\r\nF\t0\t0\t1\r\nM\t0\t0\t2\r\nC\tF\tM\t2\r\n",
    ],
)
def test_ped_variants(text):
    assert summary(parse_ped(text)) == TRIO


def test_unknown_sex_codings():
    text = "id father mother sex\nA 0 0 0\nB 0 0 U\nC 0 0 unknown\nD 0 0 -9\nE 0 0 NA\n"
    assert {p.sex for p in parse_ped(text)} == {Sex.UNKNOWN}


def test_ped_encodings():
    text = "id\tfather\tmother\tsex\nJosé\t0\t0\t1\n"
    for data in (text.encode("latin-1"), b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        assert parse_ped(data).ids == ["José"]


def test_families_by_column_and_by_position():
    headed = "famid,id,father,mother,sex\nA,F,0,0,1\nA,M,0,0,2\nB,X,0,0,1\nA,C,F,M,2\n"
    families = parse_ped_families(headed)
    assert list(families) == ["A", "B"] and summary(families["A"]) == TRIO
    positional = "A F 0 0 1\nA M 0 0 2\nB X 0 0 1\nA C F M 2\n"
    assert {k: summary(v) for k, v in parse_ped_families(positional).items()} == {
        k: summary(v) for k, v in families.items()
    }
    plink_header = "FID IID PAT MAT SEX PHENOTYPE\nA F 0 0 1 -9\nA M 0 0 2 -9\nA C F M 2 1\n"
    assert summary(parse_ped_families(plink_header)["A"]) == TRIO
    with pytest.raises(CaseFormatError, match=r"2 families.*read_ped_families"):
        parse_ped(headed)


@pytest.mark.parametrize(
    "text, line, column, field, words",
    [
        ("id father mother sex\nC F M 1\nM 0 0 2\n", 2, 2, "father", "father 'F' of 'C' is not in"),
        ("id father mother sex\nF 0 0 1\nC F 0 1\n", 3, 3, "mother", "only one parent"),
        (
            "id father mother sex\nF 0 0 2\nM 0 0 2\nC F M 1\n",
            4,
            2,
            "father",
            "has sex female \\(line 2\\)",
        ),
        ("id father mother sex\nF 0 0 1\nM 0 0 0\nC F M 1\n", 4, 3, "mother", "a mother must be"),
        ("id father mother sex\nF 0 0 1\nF 0 0 1\n", 3, 1, "id", "appears twice"),
        ("id father mother sex\nF 0 0 1\nM 0 0 2\nC C M 1\n", 4, 2, "father", "own father"),
        ("id father mother sex\nA B M 1\nM 0 0 2\nB A M 1\n", 2, 1, "id", "cycle"),
        ("id father mother sex\nF 0 0 x\n", 2, 4, "sex", "sex must be"),
        ("id father mother sex\n0 0 0 1\n", 2, 1, "id", "no parent"),
        ("id father mother sex\nF 0 0\n", 2, None, None, "expected 4 columns"),
        ("F 0 0 1\nM 0 0 2 extra\n", 2, None, None, "expected 4 columns"),
        ("F 0 0\n", 1, None, None, "or a header row"),
        ("id father sex\nF 0 1\n", 1, None, None, "lacks a column for mother"),
        ("famid,id,father,mother,sex\n,F,0,0,1\n", 2, 1, "famid", "family id is empty"),
    ],
)
def test_ped_errors_are_located(text, line, column, field, words):
    loc = located_error(parse_ped_families, text, "fam.ped", words)
    assert (loc.file, loc.line, loc.column, loc.field) == ("fam.ped", line, column, field)


def test_plink_fam_needs_six_columns():
    with pytest.raises(CaseFormatError, match="expected 6") as err:
        parse_plink_fam("FAM1 F 0 0 1 -9\nFAM1 M 0 0 2\n", "x.fam")
    assert err.value.location.line == 2
    with pytest.raises(CaseFormatError, match="no person"):
        parse_plink_fam("\n# nothing\n", "x.fam")


def test_ped_writer_round_trip(tmp_path):
    ped = read_ped(FORMATS / "family.ped")
    path = tmp_path / "out.ped"
    write_ped(ped, path)
    assert path.read_text().splitlines()[:2] == ["id\tfather\tmother\tsex", "Grandfather\t0\t0\t1"]
    assert summary(read_ped(path)) == summary(ped)
    families = read_plink_fam(FORMATS / "plink_two_families.fam")
    write_ped(families, path)
    again = read_ped_families(path)
    assert {k: summary(v) for k, v in again.items()} == {k: summary(v) for k, v in families.items()}
    assert format_ped(ped, ",").startswith("id,father,mother,sex\n")


def test_plink_fam_writer_round_trip(tmp_path):
    families = read_plink_fam(FORMATS / "plink_two_families.fam")
    path = tmp_path / "out.fam"
    write_plink_fam(families, path)
    assert path.read_text().splitlines()[2] == "FAM1 Father Grandfather Grandmother 1 -9"
    again = read_plink_fam(path)
    assert {k: summary(v) for k, v in again.items()} == {k: summary(v) for k, v in families.items()}
    single = parse_ped("id father mother sex\nA B 0 1\n".replace("A B 0", "A 0 0"))
    assert format_plink_fam(single, "X") == "X A 0 0 1 -9\n"
    with pytest.raises(KinmatchError, match="spaces"):
        format_plink_fam(parse_ped("id,father,mother,sex\nJohn Smith,0,0,1\n"))
