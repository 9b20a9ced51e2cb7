"""Marker-name aliases, GeneMapper exports and wide genotype tables (CSV, TSV, Excel)."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import openpyxl
import pytest
from support import FORMATS, located_error, quietly

from kinmatch.errors import CaseFormatError, KinmatchError, KinmatchWarning
from kinmatch.formats.genemapper import parse_genemapper, read_genemapper
from kinmatch.formats.genotype_tables import (
    GenotypeTable,
    format_genotype_csv,
    parse_wide_genotypes,
    parse_wide_genotypes_xlsx,
    read_genotype_table,
    write_genotype_csv,
)
from kinmatch.formats.marker_names import (
    AMELOGENIN,
    canonical_marker_name,
    is_sex_marker,
    is_str_marker,
    known_marker_names,
    marker_info,
    marker_kind,
)
from kinmatch.formats.profiles import read_profiles
from kinmatch.pedigree import Sex

GLOBALFILER = [
    "D3S1358",
    "vWA",
    "D16S539",
    "CSF1PO",
    "TPOX",
    "Yindel",
    "AMEL",
    "D8S1179",
    "D21S11",
    "D18S51",
    "DYS391",
    "D2S441",
    "D19S433",
    "TH01",
    "FGA",
    "D22S1045",
    "D5S818",
    "D13S317",
    "D7S820",
    "SE33",
    "D10S1248",
    "D1S1656",
    "D12S391",
    "D2S1338",
]
FUSION_6C = [
    "AMEL",
    "D3S1358",
    "D1S1656",
    "D2S441",
    "D10S1248",
    "D13S317",
    "Penta E",
    "D16S539",
    "D18S51",
    "D2S1338",
    "CSF1PO",
    "Penta D",
    "TH01",
    "vWA",
    "D21S11",
    "D7S820",
    "D5S818",
    "TPOX",
    "DYS391",
    "D8S1179",
    "D12S391",
    "D19S433",
    "FGA",
    "D22S1045",
    "SE33",
    "DYS576",
    "DYS570",
]
YFILER_PLUS = [
    "DYS576",
    "DYS389I",
    "DYS635",
    "DYS389II",
    "DYS627",
    "DYS460",
    "DYS458",
    "DYS19",
    "YGATAH4",
    "DYS448",
    "DYS391",
    "DYS456",
    "DYS390",
    "DYS438",
    "DYS392",
    "DYS518",
    "DYS570",
    "DYS437",
    "DYS385a",
    "DYS385b",
    "DYS449",
    "DYS393",
    "DYS439",
    "DYS481",
    "DYF387S1a",
    "DYF387S1b",
    "DYS533",
]
ARGUS_X12 = [
    "DXS10103",
    "DXS8378",
    "DXS7132",
    "DXS10134",
    "DXS10074",
    "DXS10101",
    "DXS10135",
    "DXS7423",
    "DXS10146",
    "DXS10079",
    "HPRTB",
    "DXS10148",
]


# -- marker names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("D21S11", "D21S11"),
        ("D21", "D21S11"),
        ("d21s11", "D21S11"),
        ("PENTA_E", "Penta E"),
        ("Penta E", "Penta E"),
        ("PentaE", "Penta E"),
        ("penta-e", "Penta E"),
        ("Penta.E", "Penta E"),
        ("PENTA_D", "Penta D"),
        ("Penta D", "Penta D"),
        ("vWA", "vWA"),
        ("VWA", "vWA"),
        ("vwa", "vWA"),
        ("AMEL", "AMEL"),
        ("Amelogenin", "AMEL"),
        ("AM", "AMEL"),
        ("TH01", "TH01"),
        ("TH0", "TH01"),
        ("THO1", "TH01"),
        ("CSF1PO", "CSF1PO"),
        ("CSF", "CSF1PO"),
        ("TPOX", "TPOX"),
        ("FGA", "FGA"),
        ("FIBRA", "FGA"),
        ("D8S1179", "D8S1179"),
        ("D8", "D8S1179"),
        ("SE33", "SE33"),
        ("ACTBP2", "SE33"),
        ("D2S1338", "D2S1338"),
        ("D19S433", "D19S433"),
        ("D22S1045", "D22S1045"),
        ("D10S1248", "D10S1248"),
        ("D1S1656", "D1S1656"),
        ("D12S391", "D12S391"),
        ("D2S441", "D2S441"),
        ("DYS391", "DYS391"),
        ("D3S1358", "D3S1358"),
        ("D5S818", "D5S818"),
        ("D7S820", "D7S820"),
        ("D13S317", "D13S317"),
        ("D16S539", "D16S539"),
        ("D18S51", "D18S51"),
        ("DYS385 a", "DYS385a"),
        ("DYS385-b", "DYS385b"),
        ("DYS385a/b", "DYS385"),
        ("Y GATA H4", "YGATAH4"),
        ("DYS389 II", "DYS389II"),
        ("Y indel", "Yindel"),
        ("hprt", "HPRTB"),
        ("dxs10103", "DXS10103"),
        ("  vWA  ", "vWA"),
        ("d6s1043", "D6S1043"),
        ("dys999", "DYS999"),
    ],
)
def test_canonical_marker_names(spelling, canonical):
    assert canonical_marker_name(spelling) == canonical


def test_every_locus_of_the_kits_is_known():
    for name in GLOBALFILER + FUSION_6C + YFILER_PLUS + ARGUS_X12:
        info = marker_info(name)
        assert info is not None and info.name == name, name
    assert {marker_kind(n) for n in ARGUS_X12} == {"X"}
    assert {marker_kind(n) for n in YFILER_PLUS} == {"Y"}
    assert marker_kind("Yindel") == "Y" and marker_kind("D3S1358") == "autosomal"
    assert set(known_marker_names("sex")) == {AMELOGENIN}


def test_amelogenin_is_a_sex_marker_not_an_str():
    for spelling in ("AMEL", "Amelogenin", "am", "AMELOGENIN"):
        assert is_sex_marker(spelling)
        assert not is_str_marker(spelling)
    assert not is_sex_marker("D3S1358") and is_str_marker("D3S1358")
    assert not is_sex_marker("Yindel")


def test_unknown_names_are_kept_and_ambiguous_shorthands_refused():
    assert canonical_marker_name("rs1490413") == "rs1490413"
    assert marker_kind("rs1490413") is None
    for bare in ("D2", "D19", "d22", "D1"):
        with pytest.raises(KinmatchError, match="ambiguous"):
            canonical_marker_name(bare)
    with pytest.raises(KinmatchError, match="empty"):
        canonical_marker_name("  ")


# -- GeneMapper ---------------------------------------------------------------------------

GM_HEADER = "Sample Name\tMarker\tDye\tAllele 1\tAllele 2\tAllele 3\tSize 1\tHeight 1\n"


def gm(*rows: str) -> str:
    return GM_HEADER + "".join(r + "\n" for r in rows)


def test_genemapper_example_export():
    with pytest.warns(KinmatchWarning) as record:
        table = read_genemapper(FORMATS / "genemapper_export.txt")
    assert table.samples == ["Ref-Mother-01", "Ref-Brother-02", "UHR-2024-007"]
    assert table.markers == (
        "D3S1358",
        "vWA",
        "D16S539",
        "CSF1PO",
        "TPOX",
        "D8S1179",
        "D21S11",
        "D18S51",
        "TH01",
        "FGA",
    )
    assert table.sexes == {
        "Ref-Mother-01": Sex.FEMALE,
        "Ref-Brother-02": Sex.MALE,
        "UHR-2024-007": Sex.MALE,
    }
    mother = table.profiles["Ref-Mother-01"]
    assert mother["D3S1358"] == ("15", "16")
    assert mother["D21S11"] == ("30", "31.2")
    assert len(mother) == 10 and AMELOGENIN not in mother
    brother = table.profiles["Ref-Brother-02"]
    assert brother["D16S539"] == ("11", "11")  # homozygote written with one allele
    assert brother["TPOX"] == ("8", "8")
    remains = table.profiles["UHR-2024-007"]
    assert "D8S1179" not in remains  # OL: untyped for this sample only
    assert remains["TH01"] == ("9", "9.3")
    assert len(remains) == 9
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert "line 30" in messages[0] and "UHR-2024-007" in messages[0]
    assert "D8S1179" in messages[0] and "OL" in messages[0]
    assert table.warnings == tuple(messages)


def test_genemapper_marker_aliases_and_amelogenin():
    table = parse_genemapper(
        gm(
            "S1\tAmelogenin\tR\tX\tY",
            "S1\tVWA\tB\t17\t16",
            "S1\tPENTA_E\tY\t5\t22",
            "S2\tAM\tR\tX\tX",
            "S2\tTHO1\tY\t9.3",
            "S3\tvWA\tB\t16",
        )
    )
    assert table.profiles["S1"] == {"vWA": ("16", "17"), "Penta E": ("5", "22")}
    assert table.profiles["S2"] == {"TH01": ("9.3", "9.3")}
    assert table.sexes == {"S1": Sex.MALE, "S2": Sex.FEMALE, "S3": Sex.UNKNOWN}


def test_genemapper_amelogenin_y_only_is_male_with_a_warning():
    with pytest.warns(KinmatchWarning, match="Y only"):
        table = parse_genemapper(gm("S1\tAMEL\tR\tY"))
    assert table.sexes["S1"] == Sex.MALE


def test_genemapper_mixture_is_an_error_naming_the_line():
    text = gm("S1\tD3S1358\tB\t15\t16", "S1\tvWA\tB\t16\t17\t18")
    with pytest.raises(CaseFormatError) as err:
        parse_genemapper(text, "run42.txt")
    loc = err.value.location
    assert (loc.file, loc.line, loc.column, loc.field) == ("run42.txt", 3, 4, "Allele 1")
    assert "3 alleles (16, 17, 18)" in str(err.value) and "mixture" in str(err.value)


def test_genemapper_nb_suffix_on_an_allele_untypes_the_marker():
    text = gm("S1\tD3S1358\tB\t15\t16-NB", "S1\tvWA\tB\t16\t17")
    with pytest.warns(KinmatchWarning, match=r"'16-NB'.*-NB") as record:
        table = parse_genemapper(text, "run.txt")
    assert table.profiles["S1"] == {"vWA": ("16", "17")}
    assert "line 2" in str(record[0].message) and "D3S1358" in str(record[0].message)


def test_genemapper_nb_suffix_on_a_sample_name_is_kept():
    table = parse_genemapper(gm("Ref1-NB\tD3S1358\tB\t15\t16", "Ref1\tD3S1358\tB\t15\t17"))
    assert table.profiles == {
        "Ref1-NB": {"D3S1358": ("15", "16")},
        "Ref1": {"D3S1358": ("15", "17")},
    }


def test_genemapper_skips_the_allelic_ladder_and_ignores_other_columns():
    text = (
        "Sample File\tSample Name\tSample Type\tMarker\tAllele 1\tAllele 2\tAllele 3\tAllele 4"
        "\tHeight 1\n"
        "A01.fsa\tLadder\tAllelic Ladder\tD3S1358\t12\t13\t14\t15\t900\n"
        "A02.fsa\tS1\tSample\tD3S1358\t14\t\t\t\t1800\n"
        "A03.fsa\tNEG\tNegative Control\tD3S1358\t\t\t\t\t\n"
    )
    table = parse_genemapper(text)
    assert table.profiles == {"S1": {"D3S1358": ("14", "14")}, "NEG": {}}


def test_genemapper_encodings_and_line_endings():
    body = gm("Müller\tD3S1358\tB\t15\t16").replace("\n", "\r\n")
    for data in (
        body.encode("utf-8"),
        b"\xef\xbb\xbf" + body.encode("utf-8"),
        body.encode("latin-1"),
        body.encode("utf-16"),
    ):
        table = parse_genemapper(data)
        assert table.profiles == {"Müller": {"D3S1358": ("15", "16")}}


def test_genemapper_comma_separated_export():
    table = parse_genemapper("Sample Name,Marker,Allele 1,Allele 2\nS1,D3S1358,15,16\n")
    assert table.profiles == {"S1": {"D3S1358": ("15", "16")}}


def test_genemapper_repeated_rows_must_agree():
    same = parse_genemapper(gm("S1\tD3S1358\tB\t15\t16", "S1\tD3S1358\tB\t16\t15"))
    assert same.profiles == {"S1": {"D3S1358": ("15", "16")}}
    with pytest.raises(CaseFormatError, match="line 2") as err:
        parse_genemapper(gm("S1\tD3S1358\tB\t15\t16", "S1\tD3S1358\tB\t15\t17"))
    assert err.value.location.line == 3


@pytest.mark.parametrize(
    "rows, line, column, words",
    [
        (("S1\tD3S1358\tB\tfifteen\t16",), 2, 4, "allele designation"),
        (("S1\tAMEL\tR\tX\tZ",), 2, 4, "Amelogenin"),
        (("\tD3S1358\tB\t15\t16",), 2, 1, "sample name is empty"),
        (("S1\t\tB\t15\t16",), 2, 2, "marker name is empty"),
        (("S1\tD2\tB\t15\t16",), 2, 2, "ambiguous"),
        (("S1\tD3S1358\tB\t15\t16\t\t\t\textra",), 2, 9, "beyond the last"),
    ],
)
def test_genemapper_errors_are_located(rows, line, column, words):
    loc = located_error(parse_genemapper, gm(*rows), "gm.txt", words)
    assert (loc.file, loc.line, loc.column) == ("gm.txt", line, column)


def test_genemapper_header_without_allele_columns():
    with pytest.raises(CaseFormatError, match="Allele 1") as err:
        parse_genemapper("Sample Name\tMarker\tSize\nS1\tD3S1358\t120\n", "x.txt")
    assert err.value.location.line == 1


def test_genemapper_import_is_all_or_nothing():
    text = gm("S1\tD3S1358\tB\tOL\t16", "S1\tvWA\tB\t16\t17\t18")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(CaseFormatError):
            parse_genemapper(text)
    assert not [w for w in record if issubclass(w.category, KinmatchWarning)]


# -- wide tables ---------------------------------------------------------------------------


def test_wide_csv_example():
    table = read_genotype_table(FORMATS / "profiles_wide.csv")
    assert table.samples == ["Ref-Father-03", "Ref-Sister-04", "UHR-2024-011"]
    assert table.markers == (
        "D3S1358",
        "vWA",
        "D16S539",
        "CSF1PO",
        "TPOX",
        "D8S1179",
        "D21S11",
        "D18S51",
        "TH01",
        "FGA",
        "Penta E",
    )
    assert table.sexes == {
        "Ref-Father-03": Sex.MALE,
        "Ref-Sister-04": Sex.FEMALE,
        "UHR-2024-011": Sex.MALE,
    }
    assert table.profiles["Ref-Father-03"]["Penta E"] == ("11", "17")
    assert table.profiles["Ref-Sister-04"]["D16S539"] == ("11", "11")
    assert table.profiles["Ref-Sister-04"]["TH01"] == ("9", "9")
    remains = table.profiles["UHR-2024-011"]
    assert remains["TH01"] == ("7", "9.3")
    assert "D21S11" not in remains and "FGA" not in remains  # empty cell and "-"
    assert len(remains) == 9


EXPECTED_PAIR = {
    "S1": {"D3S1358": ("15", "16"), "vWA": ("17", "17")},
    "S2": {"D3S1358": ("14", "14")},
}


@pytest.mark.parametrize(
    "text",
    [
        "Sample,D3S1358,vWA\nS1,15/16,17\nS2,14,\n",
        'Sample,D3S1358,vWA\nS1,"15,16",17/17\nS2,14,NA\n',
        "Sample,D3S1358,vWA\nS1,15 16,17\nS2,14/14,-\n",
        "Sample;D3S1358;vWA\nS1;15,16;17\nS2;14;\n",
        "Sample\tD3S1358\tvWA\nS1\t15;16\t17\nS2\t14\tND\n",
        "Sample,D3S1358,D3S1358.1,vWA,vWA.1\nS1,15,16,17,17\nS2,14,,,\n",
        "Sample,D3S1358_1,D3S1358_2,vWA_1,vWA_2\nS1,16,15,17,\nS2,14,14,,\n",
        "Sample,D3S1358 a,D3S1358 b,vWA-a,vWA-b\nS1,15,16,17,17\nS2,,14,,\n",
        "Sample,D3S1358,D3S1358,vWA,\nS1,15,16,17,17\nS2,14,,,\n",
        "Name,Comment,D3S1358,Kit,VWA\nS1,ok,15/16,GF,17\nS2,,14,GF,\n",
    ],
)
def test_wide_layouts(text):
    assert parse_wide_genotypes(text).profiles == EXPECTED_PAIR


def test_wide_sample_column_found_by_title():
    table = parse_wide_genotypes("D3S1358,Sample ID,Sex\n15/16,S1,F\n14,S2,male\n")
    assert table.profiles == {"S1": {"D3S1358": ("15", "16")}, "S2": {"D3S1358": ("14", "14")}}
    assert table.sexes == {"S1": Sex.FEMALE, "S2": Sex.MALE}


def test_wide_ol_untypes_one_marker_with_a_warning():
    with pytest.warns(KinmatchWarning, match=r"line 3.*'S2'.*vWA.*OL"):
        table = parse_wide_genotypes("Sample,D3S1358,vWA\nS1,15/16,17\nS2,14,OL/17\n", "w.csv")
    assert table.profiles["S2"] == {"D3S1358": ("14", "14")}


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ('Sample,TH01\nS1,"9,3"\n', 2, 2, "ambiguous"),
        ("Sample,D3S1358\nS1,15/16/17\n", 2, 2, "mixture"),
        ("Sample,D3S1358\nS1,15/\n", 2, 2, "expected a genotype"),
        ("Sample,D3S1358,D3S1358.1\nS1,15/16,17\n", 2, 2, "one allele per cell"),
        ("Sample,D3S1358\nS1,15\nS1,16\n", 3, 1, "appears twice"),
        ("Sample,D3S1358\n,15\n", 2, 1, "sample name is empty"),
        ("Sample,AMEL,Sex\nS1,X/Y,F\n", 2, 3, "male by one column"),
        ("Sample,D3S1358,vWA\nS1,15,16,17\n", 2, 4, "beyond the last"),
        ("Sample,D3S1358,VWA,vWA\nS1,15,16,17\n", 1, 4, "second column"),
        ("Sample,D3S1358_2\nS1,15\n", 1, 2, "second allele column"),
        ("Sample,D3S1358_1,vWA\nS1,15,16\n", 1, 2, "no second column"),
        ("Sample,D3S1358,Sex\nS1,15,x\n", 2, 3, "sex"),
        ("Sample,D3S1358\nS1,X\n", 2, 2, "allele designation"),
        ("Sample,Comment\nS1,none\n", 1, None, "no marker"),
    ],
)
def test_wide_errors_are_located(text, line, column, words):
    loc = located_error(parse_wide_genotypes, text, "table.csv", words)
    assert (loc.file, loc.line, loc.column) == ("table.csv", line, column)


def test_wide_table_encodings(tmp_path):
    text = "Sample,D3S1358\r\nJosé,15/16\r\n"
    for i, data in enumerate((text.encode("latin-1"), b"\xef\xbb\xbf" + text.encode("utf-8"))):
        path = tmp_path / f"t{i}.csv"
        path.write_bytes(data)
        assert read_genotype_table(path).profiles == {"José": {"D3S1358": ("15", "16")}}


def test_wide_tsv_file(tmp_path):
    path = tmp_path / "profiles.tsv"
    path.write_text("Sample\tD3S1358\tvWA\nS1\t15,16\t17\n")
    assert read_genotype_table(path).profiles == {
        "S1": {"D3S1358": ("15", "16"), "vWA": ("17", "17")}
    }


def write_xlsx(
    path: Path, rows: list[list[object]], title: str = "Profiles", extra_sheet: bool = False
) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row)
    if extra_sheet:
        other = book.create_sheet("Other")
        other.append(["Sample", "vWA"])
        other.append(["Z9", "14/15"])
    book.save(path)
    return path


def test_excel_one_column_per_marker(tmp_path):
    path = write_xlsx(
        tmp_path / "profiles.xlsx",
        [
            ["Sample", "AMEL", "D3S1358", "TH01", "FGA"],
            ["S1", "X/Y", "15/16", 9.3, 22],
            ["S2", "X", "14", "6/9.3", None],
            [None, None, None, None, None],
        ],
    )
    table = read_genotype_table(path)
    assert table.profiles == {
        "S1": {"D3S1358": ("15", "16"), "TH01": ("9.3", "9.3"), "FGA": ("22", "22")},
        "S2": {"D3S1358": ("14", "14"), "TH01": ("6", "9.3")},
    }
    assert table.sexes == {"S1": Sex.MALE, "S2": Sex.FEMALE}


def test_excel_two_columns_per_marker_and_sheet_choice(tmp_path):
    path = write_xlsx(
        tmp_path / "profiles.xlsx",
        [
            ["Sample", "D3S1358", None, "vWA", None],
            ["S1", 15, 16, 17, 17.0],
            ["S2", 14, None, None, None],
        ],
        extra_sheet=True,
    )
    assert read_genotype_table(path).profiles == EXPECTED_PAIR
    assert read_genotype_table(path, sheet="Other").profiles == {"Z9": {"vWA": ("14", "15")}}
    with pytest.raises(CaseFormatError, match="no worksheet named 'Missing'"):
        read_genotype_table(path, sheet="Missing")


def test_excel_date_cell_is_refused(tmp_path):
    path = write_xlsx(
        tmp_path / "profiles.xlsx", [["Sample", "TPOX"], ["S1", datetime.date(2024, 9, 10)]]
    )
    with pytest.raises(CaseFormatError, match="date") as err:
        read_genotype_table(path)
    assert (err.value.location.line, err.value.location.column) == (2, 2)


def test_excel_bytes_that_are_not_a_workbook():
    with pytest.raises(CaseFormatError, match="not a readable Excel"):
        parse_wide_genotypes_xlsx(b"Sample,D3S1358\nS1,15\n", "fake.xlsx")


def test_wide_csv_writer_round_trip(tmp_path):
    table = quietly(read_genemapper, FORMATS / "genemapper_export.txt")
    path = tmp_path / "out.csv"
    write_genotype_csv(table, path)
    again = read_genotype_table(path)
    assert again.profiles == table.profiles
    assert again.sexes == table.sexes
    assert again.markers == table.markers
    text = path.read_text()
    assert text.splitlines()[0].startswith("Sample,AMEL,D3S1358,vWA")
    assert "Ref-Brother-02,X/Y,15/17,16/17,11/11," in text


def test_wide_csv_writer_from_plain_profiles():
    text = format_genotype_csv({"A": {"TH01": ("6", "9.3")}, "B": {"vWA": ("16", "17")}})
    assert text == "Sample,TH01,vWA\nA,6/9.3,\nB,,16/17\n"
    assert isinstance(parse_wide_genotypes(text), GenotypeTable)


def test_missing_file_is_a_located_error(tmp_path):
    with pytest.raises(CaseFormatError, match="file not found") as err:
        read_genotype_table(tmp_path / "nope.csv")
    assert err.value.location.file.endswith("nope.csv")


def test_read_profiles_recognises_the_layout(tmp_path):
    gm_table = quietly(read_profiles, FORMATS / "genemapper_export.txt")
    assert gm_table.profiles == quietly(read_genemapper, FORMATS / "genemapper_export.txt").profiles
    wide = read_profiles(FORMATS / "profiles_wide.csv")
    assert wide.profiles == read_genotype_table(FORMATS / "profiles_wide.csv").profiles
    path = write_xlsx(
        tmp_path / "gm.xlsx",
        [
            ["Sample Name", "Marker", "Allele 1", "Allele 2"],
            ["S1", "D3S1358", 15, 16],
            ["S1", "AMEL", "X", "Y"],
        ],
    )
    table = read_profiles(path)
    assert table.profiles == {"S1": {"D3S1358": ("15", "16")}}
    assert table.sexes == {"S1": Sex.MALE}


def test_a_genemapper_export_is_not_read_as_a_wide_table():
    with pytest.raises(CaseFormatError, match="read_genemapper"):
        parse_wide_genotypes(gm("S1\tD3S1358\tB\t15\t16"), "gm.txt")
