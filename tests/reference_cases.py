"""Load the R pedsuite reference cases (tests/data/kinship_cases.json).

The file was generated with pedtools/pedmut/pedprobr/forrel (see its
``source`` field); every case gives the full mutation matrices, so we build
markers with ``custom`` matrices to reproduce the numbers exactly.
"""

from __future__ import annotations

import json
from typing import Any

from support import DATA

from kinmatch.kinship.case import Hypothesis, KinshipCase
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records

#: The generated pedsuite cases (copied from ../shared/reference).
KINSHIP_CASES = DATA / "kinship_cases.json"

#: (case id, hypothesis) where the pedsuite's number is not the exact likelihood.
#: Full siblings with untyped parents and a sex-specific model whose male
#: matrix (stepwise) is not lumpable: exact enumeration over all founder
#: alleles (tests/test_reference_pedsuite.py) gives kinmatch's value;
#: pedprobr 1.1.0 differs by up to 2e-3 relative, presumably from its
#: approximate "special lumping" of the unobserved alleles for untyped
#: founders with two children.
KNOWN_PEDSUITE_DEVIATIONS = {("pair_full_sibs_sexspec", "H1")}


def load_reference() -> list[dict[str, Any]]:
    return json.loads(KINSHIP_CASES.read_text())["cases"]


def json_markers(items: list[dict[str, Any]], from_parameters: bool = False) -> list[Marker]:
    """Markers from the reference files' marker entries (``name``, ``chrom``,
    ``alleles``, ``afreq``, ``mutation``): mutation models from their full
    ``matrix``, or with ``from_parameters`` rebuilt from pedmut's parameters."""
    markers = []
    for m in items:
        spec = None
        mu = m.get("mutation")
        if mu is not None:
            if from_parameters:
                spec = {
                    sex: {k: mu[sex][k] for k in ("model", "rate", "rate2", "range")
                          if mu[sex].get(k) is not None}
                    for sex in ("female", "male")
                }
            else:
                spec = {sex: {"model": "custom", "matrix": mu[sex]["matrix"]}
                        for sex in ("female", "male")}
        markers.append(Marker.create(m["name"], m["alleles"], m["afreq"],
                                     chromosome=m["chrom"], mutation=spec))
    return markers


def reference_markers(case: dict[str, Any], from_parameters: bool = False) -> list[Marker]:
    """Markers of a reference case; with ``from_parameters`` the mutation
    models are rebuilt from pedmut's parameters instead of the matrices."""
    return json_markers(case["markers"], from_parameters)


def reference_case(case: dict[str, Any]) -> KinshipCase:
    """A reference case as a kinmatch :class:`KinshipCase`."""
    hypotheses = []
    profiles: dict[str, dict[str, tuple[str, str]]] = {}
    for h in case["hypotheses"]:
        hypotheses.append(Hypothesis(h["name"], pedigree_from_records(h["persons"])))
        for p in h["persons"]:
            for marker, g in p["genotypes"].items():
                if g in ("-", ["-", "-"]):
                    continue
                alleles = (g, g) if isinstance(g, str) else (g[0], g[1])
                profiles.setdefault(p["id"], {})[marker] = alleles
    return KinshipCase(
        markers=reference_markers(case),
        profiles=profiles,
        hypotheses=hypotheses,
        reference="H2",
        theta=float(case["theta"]),
        title=case["id"],
    )
