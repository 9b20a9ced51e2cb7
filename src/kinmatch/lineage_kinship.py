"""Kinship LRs with lineage markers: autosomal × Y-STR × mtDNA, each part kept.

For a kinship question "the person of interest (POI) is the missing person"
the hypothesis pedigree ``H1`` places the POI as the missing person among the
typed relatives, and the reference hypothesis ``H2`` makes the POI unrelated.
The autosomal LR is :meth:`kinmatch.kinship.KinshipResult.total_lr`; the
lineage parts come from ``H1``'s pedigree exactly as for a DVI pair
(:func:`kinmatch.dvi.lineage_evidence.person_lineage_evidence`): the typed
relatives on the POI's paternal line (Y; POI and relative male) and maternal
line (mtDNA), the closest one giving the LR and every other one checked for
compatibility::

    LR = LR_autosomal × LR_Y × LR_mt,
    LR_Y  = P(h_r | h_POI, n) / f(h_r),
    LR_mt = (1 - mu)^n / f_upper  (match),  0 (exclusion),  inconclusive_lr (inconclusive)

with ``n`` the meioses between the POI and that relative in ``H1``. The
lineage formulas have "unrelated" as the alternative, so the reference
hypothesis must not put the POI on a shared line with the relative used;
:func:`kinship_lineage_lr` checks this when given the reference pedigree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .dvi.lineage_evidence import LineEvidence, person_lineage_evidence
from .errors import KinmatchError
from .kinship import Hypothesis, KinshipResult
from .lineage import (
    CombinedLR,
    LineageSettings,
    MtLineageResult,
    MtProfile,
    YHaplotype,
    YLineageResult,
    maternal_line,
    paternal_line,
)
from .pedigree import Pedigree


@dataclass(frozen=True)
class KinshipLineageLR:
    """The combined LR of one kinship hypothesis against the reference, part by part.

    ``y`` / ``mtdna`` are ``None`` when the system does not apply (untyped,
    or no typed relative on the POI's line in the hypothesis): LR 1.
    """

    hypothesis: str
    reference: str
    person: str
    autosomal_log_lr: float
    y: LineEvidence | None = None
    mtdna: LineEvidence | None = None

    @property
    def autosomal_lr(self) -> float:
        return math.exp(self.autosomal_log_lr)

    @property
    def y_lr(self) -> float:
        return 1.0 if self.y is None else self.y.lr

    @property
    def mtdna_lr(self) -> float:
        return 1.0 if self.mtdna is None else self.mtdna.lr

    @property
    def log_lr(self) -> float:
        """Natural log of the combined LR (``-inf`` after a lineage exclusion)."""
        parts = [self.autosomal_log_lr]
        parts += [e.log_lr for e in (self.y, self.mtdna) if e is not None]
        return math.fsum(parts) if all(math.isfinite(p) for p in parts) else sum(parts)

    @property
    def lr(self) -> float:
        return math.exp(self.log_lr)

    @property
    def excluded(self) -> bool:
        return any(e is not None and e.excluded for e in (self.y, self.mtdna))

    def combined(self) -> CombinedLR:
        """The parts as a :class:`kinmatch.lineage.CombinedLR`, whose ``total`` equals
        :attr:`lr`. A part excluded by another relative on the line than the one the
        LR comes from is carried with ``lr = 0``."""
        parts: list[YLineageResult | MtLineageResult | None] = []
        for evidence in (self.y, self.mtdna):
            if evidence is None:
                parts.append(None)
                continue
            result = evidence.result
            if result.lr != evidence.lr:  # exclusion by another relative, inconclusive LR
                result = replace(result, lr=evidence.lr)
            parts.append(result)
        return CombinedLR(self.autosomal_lr, parts[0], parts[1])  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "hypothesis": self.hypothesis, "reference": self.reference, "person": self.person,
            "autosomal_lr": num(self.autosomal_lr), "y_lr": self.y_lr, "mtdna_lr": self.mtdna_lr,
            "lr": num(self.lr),
            "log10_lr": None if not math.isfinite(self.log_lr) else self.log_lr / math.log(10),
            "y": None if self.y is None else self.y.to_dict(),
            "mtdna": None if self.mtdna is None else self.mtdna.to_dict(),
        }


def kinship_lineage_lr(autosomal: KinshipResult, hypothesis: Hypothesis, person: str, *,
                       y_haplotype: YHaplotype | None = None, mtdna: MtProfile | None = None,
                       relatives_y: Mapping[str, YHaplotype] | None = None,
                       relatives_mtdna: Mapping[str, MtProfile] | None = None,
                       settings: LineageSettings | None = None,
                       reference_pedigree: Pedigree | None = None) -> KinshipLineageLR:
    """autosomal × Y × mtDNA for "``person`` is who ``hypothesis`` says" against the reference.

    ``autosomal`` is the :func:`kinmatch.kinship.kinship_lr` result (its
    reference hypothesis is the alternative); ``hypothesis`` the pedigree
    placing ``person`` (the POI, typed by ``y_haplotype`` / ``mtdna``) among
    the relatives typed in ``relatives_y`` / ``relatives_mtdna``. With
    ``reference_pedigree`` the function checks that the reference hypothesis
    does not put the POI on a shared line with the relative used (the lineage
    LRs are against "unrelated").
    """
    if person not in hypothesis.pedigree:
        raise KinmatchError(f"'{person}' is not in hypothesis '{hypothesis.name}'")
    settings = settings if settings is not None else LineageSettings()
    log_auto = autosomal.total_log_lr(hypothesis.name)
    y, mt = person_lineage_evidence(
        hypothesis.pedigree, person, sample_id=person, y_haplotype=y_haplotype, mtdna=mtdna,
        relatives_y=dict(relatives_y or {}), relatives_mtdna=dict(relatives_mtdna or {}),
        settings=settings)
    if reference_pedigree is not None:
        for evidence, line in ((y, paternal_line), (mt, maternal_line)):
            if evidence is None or person not in reference_pedigree \
                    or evidence.relative not in reference_pedigree:
                continue
            if line(reference_pedigree, person, evidence.relative) is not None:
                raise KinmatchError(
                    f"the reference hypothesis also puts {person} on the {evidence.system} line "
                    f"of {evidence.relative}; the lineage LR is only defined against 'unrelated'")
    return KinshipLineageLR(hypothesis.name, autosomal.reference, person, log_auto, y, mt)


__all__ = ["KinshipLineageLR", "kinship_lineage_lr"]
