"""Load dvir reference DVI cases (../shared/reference/dvir/dvi_*.json).

The simulated cases (``dvi_sim_*``) are generated data and are copied into
tests/data/dvir/; dvir's own datasets come from a public repository and are
read from ../shared/reference/dvir/, skipping when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.markers import Marker
from kinmatch.pedigree import Sex, pedigree_from_records

HERE = Path(__file__).parent
COPIED = HERE / "data" / "dvir"
SHARED = HERE.parents[1] / "shared" / "reference" / "dvir"


def dvir_case_paths() -> list[Path]:
    """Every reference case: the copied simulated ones and, where present, dvir's datasets."""
    paths = {p.name: p for p in sorted(COPIED.glob("dvi_*.json"))}
    if SHARED.is_dir():
        for p in sorted(SHARED.glob("dvi_*.json")):
            paths.setdefault(p.name, p)
    return [paths[k] for k in sorted(paths)]


def _markers(items: list[dict[str, Any]]) -> list[Marker]:
    out = []
    for m in items:
        mu = m.get("mutation")
        spec = None
        if mu is not None:
            spec = {sex: {"model": "custom", "matrix": mu[sex]["matrix"]}
                    for sex in ("female", "male")}
        out.append(Marker.create(m["name"], m["alleles"], m["afreq"], chromosome=m["chrom"],
                                 mutation=spec))
    return out


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
    return DVICase(_markers(inp["markers"]), samples, families, title=data["name"]), data
