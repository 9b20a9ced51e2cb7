"""Load dvir reference DVI cases (../shared/reference/dvir/dvi_*.json).

The simulated cases (``dvi_sim_*``) are generated data and are copied into
tests/data/dvir/; dvir's own datasets come from a public repository and are
read from ../shared/reference/dvir/, skipping when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reference_cases import json_markers
from support import DATA, SHARED_REFERENCE, shared_reference_absent

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.pedigree import Sex, pedigree_from_records

COPIED = DATA / "dvir"
SHARED = SHARED_REFERENCE / "dvir"
#: Why a test of dvir's own datasets is skipped when they are absent.
SHARED_ABSENT = shared_reference_absent("dvir", "dvir's datasets")


def dvir_case_paths() -> list[Path]:
    """Every reference case: the copied simulated ones and, where present, dvir's datasets."""
    paths = {p.name: p for p in sorted(COPIED.glob("dvi_*.json"))}
    if SHARED.is_dir():
        for p in sorted(SHARED.glob("dvi_*.json")):
            paths.setdefault(p.name, p)
    return [paths[k] for k in sorted(paths)]


def dvir_case_path(name: str) -> Path | None:
    """The reference case of that file name (copied or dvir's), or ``None``
    when it is absent."""
    return next((p for p in dvir_case_paths() if p.name == name), None)


def check_reference_cases_found(paths: list[Path]) -> None:
    """Test body: the copied simulated case is among ``paths``, and dvir's
    datasets too unless they are absent (then the test is skipped)."""
    names = {p.name for p in paths}
    assert "dvi_sim_30fam_50pm.json" in names  # copied into tests/data
    if len(names) == 1:
        pytest.skip(f"{SHARED_ABSENT}; only the copied simulated case is checked")
    assert len(names) >= 10


def _profile(person: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    prof = {}
    for marker, g in person.get("genotypes", {}).items():
        if g in ("-", ["-", "-"], None):
            continue
        prof[marker] = (g,) if isinstance(g, str) else tuple(g)
    return prof


def load_dvir_case(path: Path) -> tuple[DVICase, dict[str, Any]]:
    data = json.loads(path.read_text())
    inp = data["input"]
    samples = [PostMortemSample(p["id"], _profile(p), Sex.parse(p.get("sex", 0)))
               for p in inp["pm"]]
    families = []
    for fam in inp["am"]:
        missing = fam["missing"]
        missing = (missing,) if isinstance(missing, str) else tuple(missing)
        profiles = {p["id"]: _profile(p) for p in fam["persons"] if _profile(p)}
        families.append(ReferenceFamily(fam["family"], pedigree_from_records(fam["persons"]),
                                        missing, profiles))
    return DVICase(json_markers(inp["markers"]), samples, families, title=data["name"]), data


def params_or_absent(params: list[Any], what: str) -> list[Any]:
    """``params`` for ``pytest.mark.parametrize``, or one skipped parameter
    whose message says what is absent and where it is read from (pytest's own
    message for an empty list says neither)."""
    if params:
        return params
    return [pytest.param(None, marks=pytest.mark.skip(reason=f"{what}: {SHARED_ABSENT}"),
                         id="absent")]
