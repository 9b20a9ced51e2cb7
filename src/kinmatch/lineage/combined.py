"""Autosomal, Y-STR and mtDNA evidence of one identification, each part kept."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kinmatch.lineage.mtdna import (
    MtLineageResult,
)
from kinmatch.lineage.ystr import (
    YLineageResult,
)


@dataclass(frozen=True)
class CombinedLR:
    """Autosomal, Y-STR and mtDNA evidence for one identification, kept apart.

    A part that is ``None`` is absent or not applicable (the pedigree gives no
    shared lineage, nothing typed) and counts as 1; an inconclusive mtDNA
    comparison without an LR also counts as 1 and is listed in ``notes``.
    ``total`` is the product of the parts: it treats the three marker systems
    as independent given the hypotheses (unlinked; no joint subpopulation
    correction), the usual convention.
    """

    autosomal: float | None = None
    y: YLineageResult | None = None
    mtdna: MtLineageResult | None = None

    @property
    def parts(self) -> dict[str, float | None]:
        return {
            "autosomal": self.autosomal,
            "y": None if self.y is None else self.y.lr,
            "mtdna": None if self.mtdna is None else self.mtdna.lr,
        }

    @property
    def total(self) -> float:
        out = 1.0
        for value in self.parts.values():
            if value is not None:
                out *= value
        return out

    @property
    def log10_total(self) -> float:
        return math.log10(self.total) if self.total > 0 else float("-inf")

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.y is None:
            notes.append("Y-STR: not applicable or not typed")
        if self.mtdna is None:
            notes.append("mtDNA: not applicable or not typed")
        elif self.mtdna.lr is None:
            notes.append(f"mtDNA: {self.mtdna.note}")
        return tuple(notes)


