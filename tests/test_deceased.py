"""Relatives known to be dead: kept in the case file, drawn with a slash, never
proposed as donors by power planning."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from support import EXAMPLES, quiet

from kinmatch.dvi.case import prepare_case
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.errors import KinmatchError
from kinmatch.formats.dvi_json import format_dvi_case, parse_dvi_case, read_dvi_case
from kinmatch.planning.power import count_candidates, plan_case

EXAMPLE = EXAMPLES / "dvi_case.json"


def _case_with_deceased():
    case = read_dvi_case(EXAMPLE)
    fam = case.families[0]
    untyped = [pid for pid in fam.pedigree.ids
               if not fam.profiles.get(pid) and pid not in fam.missing]
    assert untyped
    fam = replace(fam, deceased=(untyped[0],))
    return replace(case, families=[fam, *case.families[1:]]), untyped


def test_deceased_round_trip_and_check():
    case, untyped = _case_with_deceased()
    again = parse_dvi_case(format_dvi_case(case), "again.json")
    assert again.families[0].deceased == (untyped[0],)
    with pytest.raises(KinmatchError, match="not in the pedigree"):
        replace(case.families[0], deceased=("nobody",))


def test_planning_skips_deceased_relatives():
    case, untyped = _case_with_deceased()
    name = case.families[0].name
    before = count_candidates(read_dvi_case(EXAMPLE), family=name)
    assert count_candidates(case, family=name) == before - 1
    with quiet():
        plans = plan_case(case, family=name, n_simulations=50, seed=1)
    offered = {c.candidate for p in plans for c in p.candidates}
    assert untyped[0] not in offered
    assert set(untyped[1:]) <= offered


def test_degraded_relatives_in_the_case_file():
    """A relative's drop-out probability is read, written back, and makes the
    relative an observation in the pairwise LRs."""


    case = read_dvi_case(EXAMPLE)
    fam = case.families[0]
    typed = next(pid for pid, prof in fam.profiles.items() if prof)
    doc = json.loads(format_dvi_case(case))
    doc["families"][0]["dropout"] = {typed: 0.2}
    degraded = parse_dvi_case(json.dumps(doc, indent=1), "degraded.json")
    assert degraded.families[0].dropout == {typed: 0.2}
    again = parse_dvi_case(format_dvi_case(degraded), "again.json")
    assert again.families[0].dropout == {typed: 0.2}
    with quiet():
        plain = pairwise_lr(prepare_case(case)).log_lr[:, 0]
        with_dropout = pairwise_lr(prepare_case(degraded)).log_lr[:, 0]
    assert not (plain == with_dropout).all()
    doc["families"][0]["dropout"] = {"nobody": 0.2}
    with pytest.raises(KinmatchError, match=r"degraded.json.*dropout/nobody.*not typed"):
        parse_dvi_case(json.dumps(doc, indent=1), "degraded.json")
