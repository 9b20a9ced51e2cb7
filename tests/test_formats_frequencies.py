"""Frequency databases: Familias text format, long and wide CSV (and .xlsx), and the writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from support import FORMATS, located_error, shared_reference_path

from kinmatch.errors import CaseFormatError
from kinmatch.formats.frequencies import (
    format_familias_frequencies,
    format_long_frequencies,
    format_wide_frequencies,
    parse_familias_frequencies,
    parse_long_frequencies,
    parse_wide_frequencies,
    read_familias_frequencies,
    read_frequency_database,
    read_frequency_databases,
    read_long_frequencies,
    read_wide_frequencies,
    sniff_frequency_format,
    write_familias_frequencies,
    write_long_frequencies,
    write_wide_frequencies,
)
from kinmatch.markers import FrequencyDatabase


def shared_file(name: str) -> Path:
    return shared_reference_path(f"frequency-databases/{name}", "the norSTR databases")


def as_dict(db: FrequencyDatabase) -> dict[str, dict[str, float]]:
    return {m: dict(zip(a, (float(x) for x in f))) for m, (a, f) in db.frequencies.items()}


EXAMPLE = {
    "D3S1358": {"14": 0.052, "15": 0.361, "16": 0.327, "17": 0.195, "18": 0.065},
    "vWA": {"14": 0.238, "16": 0.172, "17": 0.251, "18": 0.201, "19": 0.138},
    "TH01": {"6": 0.103, "7": 0.274, "8": 0.058, "9": 0.472, "9.3": 0.031, "10": 0.062},
}


def assert_example(db: FrequencyDatabase) -> None:
    got = as_dict(db)
    assert list(got) == list(EXAMPLE)
    for marker, freqs in EXAMPLE.items():
        assert got[marker] == pytest.approx(freqs, abs=1e-15)
        assert set(got[marker]) == set(freqs)


# -- the norSTR databases (Familias format) ----------------------------------------------


def test_ostasia_database():
    db = read_familias_frequencies(shared_file("OstAsiaDB_v2023.txt"))
    assert db.population == "OstAsiaDB_v2023"
    assert len(db.marker_names) == 40
    assert db.marker_names[:3] == ["D1S1656", "TPOX", "D2S1360"]
    alleles, freqs = db.frequencies["D1S1656"]
    assert alleles[:3] == ("9", "10", "11")
    assert float(freqs[0]) == 0.001 and float(freqs[2]) == 0.114827
    assert "Penta E" in db.marker_names and "vWA" in db.marker_names
    for marker in (
        "D3S1358",
        "vWA",
        "D16S539",
        "CSF1PO",
        "TPOX",
        "D8S1179",
        "D21S11",
        "D18S51",
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
    ):
        assert marker in db.frequencies, marker  # every autosomal GlobalFiler locus
    for _, freqs in db.frequencies.values():
        assert abs(float(np.sum(freqs)) - 1) < 1e-6
    assert db.marker("TH01").allele_index("9.3") >= 0


def test_two_populations_in_one_case():
    paths = [shared_file("OstAsiaDB_v2023.txt"), shared_file("NorskDB_v2023.txt")]
    dbs = read_frequency_databases(paths)
    assert list(dbs) == ["OstAsiaDB_v2023", "NorskDB_v2023"]
    assert len(dbs["NorskDB_v2023"].marker_names) == 50
    alleles, freqs = dbs["NorskDB_v2023"].frequencies["D1S1656"]
    assert (alleles[1], float(freqs[1])) == ("11", 0.073863)
    named = read_frequency_databases({"East Asian": paths[0], "Norwegian": paths[1]})
    assert [db.population for db in named.values()] == ["East Asian", "Norwegian"]
    with pytest.raises(CaseFormatError, match="second database"):
        read_frequency_databases({"A": paths[0], "B": paths[0], "A ": paths[1]})


def test_real_database_round_trips_through_all_three_writers(tmp_path):
    db = read_familias_frequencies(shared_file("NorskDB_v2023.txt"), "Norway")
    for writer, reader, suffix in (
        (write_familias_frequencies, read_familias_frequencies, ".txt"),
        (write_long_frequencies, read_long_frequencies, ".csv"),
        (write_wide_frequencies, read_wide_frequencies, ".csv"),
    ):
        path = tmp_path / f"{writer.__name__}{suffix}"
        writer(db, path)
        again = reader(path, "Norway")
        assert again.marker_names == db.marker_names
        for marker in db.marker_names:
            a0, f0 = db.frequencies[marker]
            a1, f1 = again.frequencies[marker]
            assert dict(zip(a0, f0.tolist())) == dict(zip(a1, f1.tolist()))  # exact floats


# -- Familias text format -------------------------------------------------------------------

FAMILIAS = "D3S1358\n15\t0.4\n16\t0.6\n\nvWA\n16\t0.25\n17\t0.75\n"


@pytest.mark.parametrize(
    "text",
    [
        FAMILIAS,
        "Allele\tFrequency\n" + FAMILIAS,
        "Allele Frequency\n" + FAMILIAS,
        "# East Asian, 2023\n" + FAMILIAS,
        FAMILIAS.replace("\t", "  "),
        FAMILIAS.replace("\n\n", "\n"),
        FAMILIAS.replace("\n", "\r\n"),
        FAMILIAS.replace("0.", "0,"),
        FAMILIAS.replace("vWA", "VWA").replace("D3S1358", "d3s1358"),
        FAMILIAS + "\n\n",
    ],
)
def test_familias_variants(text):
    db = parse_familias_frequencies(text, "pop.txt")
    assert db.population == "pop"
    assert as_dict(db) == {"D3S1358": {"15": 0.4, "16": 0.6}, "vWA": {"16": 0.25, "17": 0.75}}


def test_familias_encodings():
    text = "Penta E\n5\t0.5\n24\t0.5\n"
    for data in (text.encode("latin-1"), b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        assert as_dict(parse_familias_frequencies(data)) == {"Penta E": {"5": 0.5, "24": 0.5}}


def test_frequencies_not_summing_to_one_name_file_marker_and_line():
    text = "D3S1358\n15\t0.4\n16\t0.6\n\nvWA\n16\t0.25\n17\t0.65\n"
    with pytest.raises(CaseFormatError) as err:
        parse_familias_frequencies(text, "pop.txt")
    loc = err.value.location
    assert (loc.file, loc.line, loc.field) == ("pop.txt", 5, "vWA")
    assert "sum to 0.9" in err.value.message and "vWA" in err.value.message
    db = parse_familias_frequencies(text, "pop.txt", normalise=True)
    assert as_dict(db)["vWA"] == pytest.approx({"16": 0.25 / 0.9, "17": 0.65 / 0.9})
    rest = parse_familias_frequencies(text, "pop.txt", rest_allele="99")
    assert as_dict(rest)["vWA"] == pytest.approx({"16": 0.25, "17": 0.65, "99": 0.1})


def test_zero_frequency_means_absent():
    db = parse_familias_frequencies("TH01\n6\t0\n9\t0.5\n9.3\t0.5\n")
    assert as_dict(db) == {"TH01": {"9": 0.5, "9.3": 0.5}}


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ("D3S1358\n15\t1.4\n", 2, 2, "from 0 to 1"),
        ("D3S1358\n15\t-0.1\n", 2, 2, "from 0 to 1"),
        ("D3S1358\n15\tabc\n", 2, 1, "allele<TAB>frequency"),
        ("D3S1358\n15\t0.5\n15.0\t0.5\n", 3, 1, "listed twice"),
        ("vWA\n1\t1\n\nVWA\n1\t1\n", 4, 1, "appears twice"),
        ("15\t0.5\n16\t0.5\n", 1, 1, "marker name"),
        ("D3S1358\n15\t0.5\n\n16\t0.5\n", 4, 1, "marker name"),
        ("D3S1358\n15 0.5 x\n", 2, 1, "allele<TAB>frequency"),
        ("D3S1358\n\nvWA\n1\t1\n", 1, 1, "no alleles"),
        ("D2\n1\t1\n", 1, 1, "ambiguous"),
    ],
)
def test_familias_errors_are_located(text, line, column, words):
    loc = located_error(parse_familias_frequencies, text, "f.txt", words)
    assert (loc.file, loc.line, loc.column) == ("f.txt", line, column)


def test_empty_frequency_file():
    with pytest.raises(CaseFormatError, match="no marker"):
        parse_familias_frequencies(b"", "empty.txt")


# -- long and wide CSV -------------------------------------------------------------------------


def test_long_csv_example():
    db = read_frequency_database(FORMATS / "frequencies_long.csv")
    assert db.population == "frequencies_long"
    assert_example(db)


def test_wide_csv_example():
    db = read_frequency_database(FORMATS / "frequencies_wide.csv", "East Asian")
    assert db.population == "East Asian"
    assert_example(db)
    assert db.frequencies["TH01"][0] == ("6", "7", "8", "9", "9.3", "10")


def test_wide_csv_written_by_r_with_na_and_row_names():
    text = '"","D3S1358","TH01"\n"9",NA,0.5\n"9.3",NA,0.5\n"15",1,NA\n'
    db = parse_wide_frequencies(text, "r.csv")
    assert as_dict(db) == {"D3S1358": {"15": 1.0}, "TH01": {"9": 0.5, "9.3": 0.5}}


def test_sniffing_the_format():
    assert sniff_frequency_format(FAMILIAS, "x") == "familias"
    assert sniff_frequency_format("marker,allele,frequency\n", "x") == "long"
    assert sniff_frequency_format("Locus;Allele;Freq\n", "x") == "long"
    assert sniff_frequency_format("Allele,D3S1358,vWA\n", "x") == "wide"
    assert sniff_frequency_format("Allele\tD3S1358\tvWA\n", "x") == "wide"


@pytest.mark.parametrize(
    "text",
    [
        "marker,allele,frequency\nD3S1358,15,0.4\nD3S1358,16,0.6\nvWA,16,0.25\nvWA,17,0.75\n",
        "Locus;Allele;Freq\nD3S1358;15;0,4\nD3S1358;16;0,6\nvWA;16;0,25\nvWA;17;0,75\n",
        "allele\tfrequency\tmarker\tn\n15\t0.4\tD3S1358\t12\n16\t0.6\tD3S1358\t5\n"
        "16\t0.25\tvWA\t1\n17\t0.75\tvWA\t3\n",
        "D3S1358,15,0.4\nD3S1358,16,0.6\nvWA,16,0.25\nvWA,17,0.75\n",
        "marker,allele,frequency\nD3S1358,15,0.4\nvWA,16,0.25\nD3S1358,16,0.6\nvWA,17,0.75\n",
    ],
)
def test_long_variants(text):
    db = parse_long_frequencies(text, "long.csv")
    assert as_dict(db) == {"D3S1358": {"15": 0.4, "16": 0.6}, "vWA": {"16": 0.25, "17": 0.75}}


def test_long_population_column():
    text = "population,marker,allele,frequency\nKorean,TH01,9,1\nKorean,vWA,17,1\n"
    assert parse_long_frequencies(text, "k.csv").population == "Korean"
    assert parse_long_frequencies(text, "k.csv", "Other").population == "Other"
    with pytest.raises(CaseFormatError, match="second population") as err:
        parse_long_frequencies(text.replace("Korean,vWA", "Japanese,vWA"), "k.csv")
    assert (err.value.location.line, err.value.location.column) == (3, 1)


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ("marker,allele,frequency\nD3S1358,15,0.4\nD3S1358,16,0.5\n", 2, 1, "sum to 0.9"),
        ("marker,allele,frequency\nD3S1358,15,x\n", 2, 3, "expected a frequency"),
        ("marker,allele,frequency\nD3S1358,,0.4\n", 2, 2, "allele name is empty"),
        ("marker,allele,frequency\n,15,0.4\n", 2, 1, "marker name is empty"),
        ("what,is,this\n", 1, None, "marker, allele and frequency"),
    ],
)
def test_long_errors_are_located(text, line, column, words):
    loc = located_error(parse_long_frequencies, text, "long.csv", words)
    assert (loc.file, loc.line, loc.column) == ("long.csv", line, column)


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ("Allele,D3S1358\n15,0.4\n16,0.5\n", 1, 2, "sum to 0.9"),
        ("Allele,D3S1358\n15,0.4\n15.0,0.6\n", 3, 1, "two rows"),
        ("Allele,D3S1358\n15,0.4,0.1\n16,0.6\n", 2, 3, "without a marker name"),
        ("Allele,D3S1358\n,0.4\n", 2, 1, "allele name is empty"),
        ("Allele,D3S1358\n15,1.5\n", 2, 2, "from 0 to 1"),
        ("Allele,D3S1358\nN,412\n", 2, 2, "from 0 to 1"),
        ("Allele\n15\n", 1, None, "no marker"),
    ],
)
def test_wide_errors_are_located(text, line, column, words):
    loc = located_error(parse_wide_frequencies, text, "wide.csv", words)
    assert (loc.file, loc.line, loc.column) == ("wide.csv", line, column)


def test_excel_long_and_wide(tmp_path):
    for name, rows in (
        ("long.xlsx", [["Marker", "Allele", "Frequency"], ["TH01", 9.3, 0.25], ["TH01", 9, 0.75]]),
        ("wide.xlsx", [["Allele", "TH01"], [9, 0.75], [9.3, 0.25]]),
    ):
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(tmp_path / name)
        db = read_frequency_database(tmp_path / name)
        assert as_dict(db) == {"TH01": {"9": 0.75, "9.3": 0.25}}, name
    with pytest.raises(CaseFormatError, match="Familias"):
        read_frequency_database(tmp_path / "wide.xlsx", format="familias")


def test_writers_produce_the_documented_text():
    db = parse_long_frequencies(
        "marker,allele,frequency\nTH01,9.3,0.25\nTH01,6,0.75\nvWA,17,1\n", "x.csv", "Test"
    )
    assert format_familias_frequencies(db) == "TH01\n9.3\t0.25\n6\t0.75\n\nvWA\n17\t1.0\n"
    assert format_long_frequencies(db) == (
        "marker,allele,frequency\nTH01,9.3,0.25\nTH01,6,0.75\nvWA,17,1.0\n"
    )
    assert format_wide_frequencies(db) == "Allele,TH01,vWA\n6,0.75,\n9.3,0.25,\n17,,1.0\n"


def test_example_round_trips(tmp_path):
    db = read_frequency_database(FORMATS / "frequencies_long.csv", "Example")
    for writer in (write_familias_frequencies, write_long_frequencies, write_wide_frequencies):
        path = tmp_path / f"{writer.__name__}.txt"
        writer(db, path)
        assert_example(read_frequency_database(path, "Example"))


def test_unknown_format_name():
    with pytest.raises(CaseFormatError, match="unknown frequency format"):
        read_frequency_database(FORMATS / "frequencies_long.csv", format="genepop")  # type: ignore[arg-type]
