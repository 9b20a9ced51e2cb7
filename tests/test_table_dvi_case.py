"""DVI cases assembled from laboratory tables
(:func:`kinmatch.formats.table_case.table_dvi_case`): which sample is whose
reference profile and which is remains, the markers kept, and the tables
refused because the match would be a guess."""

from __future__ import annotations

import pytest
from support import pedigree

from kinmatch.errors import CaseFormatError, KinmatchWarning
from kinmatch.formats.genotype_tables import GenotypeTable
from kinmatch.formats.table_case import frequency_markers, table_dvi_case
from kinmatch.markers import FrequencyDatabase
from kinmatch.pedigree import Sex


def database() -> FrequencyDatabase:
    db = FrequencyDatabase("test")
    db.add("D3S1358", ["15", "16", "17"], [0.5, 0.3, 0.2])
    db.add("TH01", ["6", "9.3"], [0.4, 0.6])
    db.add("DXS10135", ["18", "19"], [0.5, 0.5])
    db.add("DYS391", ["10", "11"], [0.5, 0.5])
    return db


FAMILIES = {
    "K1": pedigree(("FA", None, None, 1), ("MO", None, None, 2), ("MP1", "FA", "MO", 1),
                   ("SIS", "FA", "MO", 2)),
    "K2": pedigree(("GF", None, None, 1), ("GM", None, None, 2), ("MP2", "GF", "GM", 2)),
}


def table(profiles: dict[str, dict[str, tuple[str, str]]], source: str = "lab.txt",
          sexes: dict[str, Sex] | None = None) -> GenotypeTable:
    sexes = sexes or {}
    return GenotypeTable(profiles, {s: sexes.get(s, Sex.UNKNOWN) for s in profiles},
                         tuple(dict.fromkeys(m for p in profiles.values() for m in p)), source)


def test_samples_named_like_relatives_are_references_the_rest_remains() -> None:
    references = table({"SIS": {"D3S1358": ("15", "16")}, "GM": {"TH01": ("6", "9.3")}})
    remains = table({"B-07": {"D3S1358": ("16", "17"), "TH01": ("9.3", "9.3")}},
                    "remains.txt", {"B-07": Sex.FEMALE})
    case = table_dvi_case([references, remains], database(), FAMILIES, ["MP1", "MP2"])
    assert [(f.name, f.missing, dict(f.profiles)) for f in case.families] == [
        ("K1", ("MP1",), {"SIS": {"D3S1358": ("15", "16")}}),
        ("K2", ("MP2",), {"GM": {"TH01": ("6", "9.3")}})]
    assert [(s.id, s.sex, dict(s.profile)) for s in case.samples] == [
        ("B-07", Sex.FEMALE, {"D3S1358": ("16", "17"), "TH01": ("9.3", "9.3")})]
    # the markers typed in the case, in the order they were first seen
    assert [m.name for m in case.markers] == ["D3S1358", "TH01"]
    assert list(case.markers[0].allele_frequencies) == [0.5, 0.3, 0.2]


def test_y_markers_are_left_out_and_x_markers_are_x_linked() -> None:
    typed = table({"SIS": {"DXS10135": ("18", "19"), "DYS391": ("10", "10")},
                   "R": {"DXS10135": ("18", "18")}})
    with pytest.warns(KinmatchWarning, match="Y-chromosome markers .* left out: DYS391"):
        case = table_dvi_case([typed], database(), FAMILIES, ["MP1", "MP2"])
    assert [(m.name, m.chromosome) for m in case.markers] == [("DXS10135", "X")]
    with pytest.warns(KinmatchWarning, match="left out: DYS391"):
        markers = frequency_markers(database())
    assert [m.name for m in markers] == ["D3S1358", "TH01", "DXS10135"]


@pytest.mark.parametrize("tables, missing, words", [
    ([table({"MP1": {"TH01": ("6", "6")}})], ["MP1", "MP2"],
     "sample 'MP1' is the missing person of family 'K1'"),
    ([table({"SIS": {}}), table({"SIS": {}}, "other.txt")], ["MP1", "MP2"],
     "sample 'SIS' is in two genotype tables: lab.txt and other.txt"),
    ([table({"R": {"D8S1179": ("12", "13")}})], ["MP1", "MP2"],
     "marker D8S1179 is typed but is not in the frequency database"),
    ([table({"FA": {"DXS10135": ("18", "19")}})], ["MP1", "MP2"],
     "sample 'FA' is male but heterozygous"),
    ([], ["MP1"], "family K2 has no missing person"),
    ([], ["MP1", "MP2", "X"], "the missing person 'X' is in no pedigree"),
])
def test_what_the_tables_cannot_say_is_refused(tables: list[GenotypeTable], missing: list[str],
                                               words: str) -> None:
    with pytest.raises(CaseFormatError, match=words):
        table_dvi_case(tables, database(), FAMILIES, missing)


def test_a_person_of_two_families_cannot_be_matched_by_name() -> None:
    families = {**FAMILIES, "K3": pedigree(("H", None, None, 1), ("SIS", None, None, 2),
                                           ("MP3", "H", "SIS", 1))}
    with pytest.raises(CaseFormatError, match="sample 'SIS' is a person of families K1, K3"):
        table_dvi_case([table({"SIS": {"TH01": ("6", "6")}})], database(), families,
                       ["MP1", "MP2", "MP3"])
    with pytest.raises(CaseFormatError, match="'SIS' is in families K1, K3; a missing person "
                                              "needs an id unique"):
        table_dvi_case([], database(), families, ["SIS", "MP2", "MP3"])
