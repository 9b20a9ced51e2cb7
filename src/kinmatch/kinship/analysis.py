"""A whole kinship case in one call: the autosomal LRs and, where the case
carries Y-STR haplotypes or mtDNA profiles, the lineage LRs beside them.

:func:`analyse_kinship_case` is what ``kinmatch lr`` (and any other front
end) runs on a :class:`~kinmatch.kinship.case.KinshipCase`:

* the log-likelihood of every hypothesis per marker and the LRs against the
  reference hypothesis (:func:`~kinmatch.kinship.lr.kinship_lr`), with the
  case's θ, drop-out and drop-in;
* for a case with lineage data, the autosomal × Y × mtDNA LR of each
  hypothesis for the person of interest
  (:func:`~kinmatch.kinship.lineage.kinship_lineage_lrs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kinmatch.kinship.case import KinshipCase
from kinmatch.kinship.lineage import KinshipLineageLR, kinship_lineage_lrs, lineage_poi
from kinmatch.kinship.lr import KinshipResult, kinship_lr
from kinmatch.lineage.settings import LineageSettings


@dataclass(frozen=True)
class CaseLineage:
    """The lineage LRs of a kinship case: autosomal × Y × mtDNA per hypothesis, for the POI."""

    person: str | None
    results: list[KinshipLineageLR]
    not_applicable: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"poi": self.person, "results": [r.to_dict() for r in self.results],
                "not_applicable": dict(self.not_applicable)}


def case_lineage_lrs(result: KinshipResult, case: KinshipCase) -> CaseLineage | None:
    """The lineage LRs of a case with Y haplotypes or mtDNA profiles (``None`` without)."""
    if not case.has_lineage:
        return None
    typed = list(dict.fromkeys([*case.y_haplotypes, *case.mtdna_profiles]))
    person = case.poi or lineage_poi(case.hypotheses, result.reference, typed)
    if person is None:
        return CaseLineage(None, [], {h: "no person of interest: no typed person is unrelated "
                                         "to everyone in the reference hypothesis"
                                      for h in result.hypotheses if h != result.reference})
    results, skipped = kinship_lineage_lrs(
        result, case.hypotheses, person, y_haplotypes=case.y_haplotypes,
        mtdna_profiles=case.mtdna_profiles, settings=case.lineage or LineageSettings())
    return CaseLineage(person, results, skipped)


@dataclass(frozen=True)
class KinshipAnalysis:
    """The result of :func:`analyse_kinship_case`."""

    case: KinshipCase
    result: KinshipResult
    lineage: CaseLineage | None = None

    def to_dict(self) -> dict[str, Any]:
        """The case's title, every hypothesis's log-likelihoods and LRs
        (:meth:`KinshipResult.to_dict`) and, with lineage data, the lineage LRs."""
        out: dict[str, Any] = {"title": self.case.title, **self.result.to_dict()}
        if self.lineage is not None:
            out["lineage"] = self.lineage.to_dict()
        return out


def analyse_kinship_case(case: KinshipCase, *, theta: float | None = None,
                         reference: str | None = None) -> KinshipAnalysis:
    """The LRs of a kinship case's hypotheses against the reference hypothesis.

    ``theta`` overrides the case's θ; ``reference`` its reference hypothesis
    (default: the case's, else the last one).
    """
    result = kinship_lr(
        case.hypotheses,
        case.markers,
        case.profiles,
        theta=case.theta if theta is None else theta,
        reference=reference or case.reference,
        minimum_frequency=case.minimum_frequency,
        dropout=case.dropout,
        dropin=case.dropin,
    )
    return KinshipAnalysis(case, result, case_lineage_lrs(result, case))


__all__ = ["CaseLineage", "KinshipAnalysis", "analyse_kinship_case", "case_lineage_lrs"]
