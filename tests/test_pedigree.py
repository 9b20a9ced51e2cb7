"""Pedigree validation, relationship builders and IBD coefficients."""

from __future__ import annotations

import pytest

from kinmatch.errors import PedigreeError
from kinmatch.ibd import inbreeding_coefficient, kappa, kinship_coefficients
from kinmatch.pedigree import Individual, Pedigree, Sex, pedigree_from_records
from kinmatch.relationships import (
    RELATIONSHIPS,
    PedigreeBuilder,
    avuncular,
    cousins,
    first_cousin_marriage_child,
    full_siblings,
    half_siblings,
    lineal,
    relationship_pedigree,
    sibling_mating_child,
)

M, F = Sex.MALE, Sex.FEMALE


def test_valid_pedigree_order_and_queries():
    ped = pedigree_from_records([
        {"id": "C", "father": "A", "mother": "B", "sex": 1},
        {"id": "A", "father": "0", "mother": "0", "sex": 1},
        {"id": "B", "fid": "NA", "mid": "", "sex": "F"},
    ])
    assert ped.order.index("A") < ped.order.index("C")
    assert ped.founders == ["A", "B"] and ped.nonfounders == ["C"]
    assert ped.children("A") == ["C"] and ped.parents("C") == ("A", "B")
    assert not ped.has_loops()


@pytest.mark.parametrize(
    "people, message",
    [
        ([Individual("A", M), Individual("A", F)], "appears twice"),
        ([Individual("C", M, "X", "Y")], "father 'X' of 'C' is not in the pedigree"),
        ([Individual("A", F), Individual("B", F), Individual("C", M, "A", "B")],
         "'A' is the father of 'C' but has sex 2"),
        ([Individual("A", M), Individual("B", M), Individual("C", M, "A", "B")],
         "'B' is the mother of 'C' but has sex 1"),
        ([Individual("A", M, "A", "B"), Individual("B", F)], "their own father"),
        ([Individual("A", M, "B", None), Individual("B", M)], "only one parent"),
        ([Individual("A", M, "C", "D"), Individual("B", F), Individual("C", M, "A", "B"),
          Individual("D", F)], "cycle"),
        ([Individual("", M)], "empty id"),
    ],
)
def test_invalid_pedigrees_are_explained(people, message):
    with pytest.raises(PedigreeError, match=message):
        Pedigree(people)


def test_unknown_sex_words_rejected():
    with pytest.raises(PedigreeError, match="sex must be"):
        Sex.parse("x")


def test_founder_inbreeding_only_on_founders():
    people = [Individual("A", M), Individual("B", F), Individual("C", M, "A", "B")]
    with pytest.raises(PedigreeError, match="only founders"):
        Pedigree(people, {"C": 0.1})
    with pytest.raises(PedigreeError, match=r"in \[0, 1\]"):
        Pedigree(people, {"A": 1.5})
    assert inbreeding_coefficient(Pedigree(people, {"A": 0.25}), "A") == pytest.approx(0.25)


@pytest.mark.parametrize("name", [n for n in RELATIONSHIPS])
def test_relationship_builders_have_the_textbook_kappa(name):
    ped = relationship_pedigree(name, "A", "B", M, F)
    assert kappa(ped, "A", "B") == pytest.approx(RELATIONSHIPS[name].kappa, abs=1e-15)
    assert ped.sex("A") == M and ped.sex("B") == F


@pytest.mark.parametrize(
    "ped, expected",
    [
        (half_siblings("A", "B", shared="mother"), (0.5, 0.5, 0.0)),
        (lineal("A", "B", 3), (0.75, 0.25, 0.0)),  # great-grandparent
        (avuncular("A", "B", half=True), (0.75, 0.25, 0.0)),  # half-uncle
        (cousins("A", "B", degree=1, removal=1), (0.875, 0.125, 0.0)),  # first cousins once removed
        (cousins("A", "B", degree=3), (1 - 1 / 64, 1 / 64, 0.0)),  # third cousins
    ],
)
def test_more_relationships(ped, expected):
    assert kappa(ped, "A", "B") == pytest.approx(expected, abs=1e-15)


def test_loops_and_inbreeding():
    cm = first_cousin_marriage_child("A")
    assert cm.has_loops()
    assert inbreeding_coefficient(cm, "A") == pytest.approx(1 / 16)
    sm = sibling_mating_child("A")
    assert sm.has_loops()
    assert inbreeding_coefficient(sm, "A") == pytest.approx(1 / 4)
    assert not full_siblings().has_loops()


def test_builder_composes_double_first_cousins():
    b = PedigreeBuilder(reserved=("A", "B"))
    b1, s1 = b.siblings([(None, M), (None, F)])
    b2, s2 = b.siblings([(None, M), (None, F)])
    b.child(b1, s2, "A", M)
    b.child(b2, s1, "B", F)
    ped = b.build()
    assert kappa(ped, "A", "B") == pytest.approx((9 / 16, 6 / 16, 1 / 16))
    phi = kinship_coefficients(ped)
    assert phi("A", "B") == pytest.approx(1 / 8)


def test_components_of_disconnected_pedigree():
    ped = relationship_pedigree("unrelated", "A", "B", M, M)
    assert sorted(map(sorted, ped.components())) == [["A"], ["B"]]


def test_unknown_relationship_named():
    with pytest.raises(PedigreeError, match="unknown relationship 'cousin'"):
        relationship_pedigree("cousin", "A", "B", M, M)


def test_relationship_with_an_empty_id_is_a_pedigree_error():
    """Found by the JSON fuzz test: an empty person id in a relationship."""

    with pytest.raises(PedigreeError, match="two named people"):
        relationship_pedigree("parent_child", "", "B", 1, 1)
