"""Identifications of a solved simulated case scored against its truth.

``kinmatch simulate`` writes, beside each simulated case, the truth: which
miner each recovered fragment belongs to and which miners were recovered.
:func:`score_dvi_result` counts the identifications of a
:class:`~kinmatch.dvi.pipeline.DVIResult` that are correct, false or missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinmatch.dvi.pipeline import DVIResult
from kinmatch.scenarios.chosei import score_identifications


def score_dvi_result(result: DVIResult, truth: Mapping[str, Any]) -> dict[str, Any]:
    """Counts of correct, false and missed identifications, the number of
    identifiable miners (recovered, with reference donors), the false
    identifications as (sample, miner) pairs and the missed miners.

    A conclusion names an identification when it is one of
    :data:`~kinmatch.dvi.solve.IDENTIFYING`; symmetric matches ("V1/V2") name
    no single sample and are not counted. A merged individual is correct when
    all its fragments are that miner.
    """
    miner_of = {name: fam["miner"] for name, fam in truth.get("families", {}).items()}
    identified = {sample: miner_of.get(row.family, row.missing_person)
                  for sample, row in result.identifications.items() if "/" not in sample}
    scores = score_identifications(identified, dict(truth), dict(result.fragments))
    return {"correct": len(scores["correct"]), "false": len(scores["false"]),
            "missed": len(scores["missed"]), "identifiable": scores["identifiable"],
            "false_identifications": [list(x) for x in scores["false"]],
            "missed_miners": scores["missed"]}
