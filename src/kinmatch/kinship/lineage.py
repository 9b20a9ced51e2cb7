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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kinmatch.errors import KinmatchError
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import LN10, KinshipResult, safe_exp
from kinmatch.lineage.combined import CombinedLR
from kinmatch.lineage.evidence import LineEvidence, person_lineage_evidence
from kinmatch.lineage.lines import maternal_line, paternal_line
from kinmatch.lineage.mtdna import MtLineageResult, MtProfile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YHaplotype, YLineageResult
from kinmatch.pedigree import Pedigree


class ReferenceLineError(KinmatchError):
    """The reference hypothesis puts the POI on a shared line with the relative used, so
    the lineage LR (against "unrelated") does not apply to that pair of hypotheses."""


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
        """``inf`` beyond the float range too: :attr:`autosomal_log_lr` keeps the value."""
        return safe_exp(self.autosomal_log_lr)

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
        """``inf`` beyond the float range too: :attr:`log_lr` keeps the value."""
        return safe_exp(self.log_lr)

    @property
    def excluded(self) -> bool:
        return any(e is not None and e.excluded for e in (self.y, self.mtdna))

    def combined(self) -> CombinedLR:
        """The parts as a :class:`kinmatch.lineage.CombinedLR`, whose ``total`` equals
        :attr:`lr`. A part excluded by another relative on the line than the one the
        LR comes from is carried with ``lr = 0``."""
        y, mtdna = _carried(self.y), _carried(self.mtdna)
        # LineEvidence.result is typed as either kind; the Y line holds a Y result
        assert y is None or isinstance(y, YLineageResult)
        assert mtdna is None or isinstance(mtdna, MtLineageResult)
        return CombinedLR(self.autosomal_lr, y, mtdna)

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "hypothesis": self.hypothesis, "reference": self.reference, "person": self.person,
            "autosomal_lr": num(self.autosomal_lr), "y_lr": self.y_lr, "mtdna_lr": self.mtdna_lr,
            "lr": num(self.lr),
            "log10_autosomal_lr": (None if not math.isfinite(self.autosomal_log_lr)
                                   else self.autosomal_log_lr / LN10),
            "log10_lr": None if not math.isfinite(self.log_lr) else self.log_lr / math.log(10),
            "y": None if self.y is None else self.y.to_dict(),
            "mtdna": None if self.mtdna is None else self.mtdna.to_dict(),
        }


def _carried(evidence: LineEvidence | None) -> YLineageResult | MtLineageResult | None:
    """The evidence's result with the LR it enters the combination with (it differs after
    an exclusion by another relative on the line, or for an inconclusive mtDNA LR)."""
    if evidence is None:
        return None
    result = evidence.result
    if result.lr != evidence.lr:
        result = replace(result, lr=evidence.lr)
    return result


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
                raise ReferenceLineError(
                    f"the reference hypothesis also puts {person} on the {evidence.system} line "
                    f"of {evidence.relative}; the lineage LR is only defined against 'unrelated'")
    return KinshipLineageLR(hypothesis.name, autosomal.reference, person, log_auto, y, mt)


def _isolated(pedigree: Pedigree, person: str) -> bool:
    return pedigree[person].is_founder and not pedigree.children(person)


def lineage_poi(hypotheses: Sequence[Hypothesis], reference: str,
                typed: Sequence[str]) -> str | None:
    """The person of interest of a case with lineage data, when the case does not name one.

    The one person among ``typed`` (those with a Y haplotype or mtDNA profile)
    who is unrelated to everyone in the reference hypothesis (no parents, no
    children) and related to someone in another hypothesis; ``None`` when there
    is no such person. More than one is an error: the case must name the POI.
    """
    by_name = {h.name: h for h in hypotheses}
    ref = by_name[reference].pedigree
    found = [p for p in typed if p in ref and _isolated(ref, p)
             and any(p in h.pedigree and not _isolated(h.pedigree, p)
                     for h in hypotheses if h.name != reference)]
    if len(found) > 1:
        raise KinmatchError(f"cannot tell the person of interest for the lineage LRs (any of "
                            f"{', '.join(found)}): name it with 'poi' in the case file")
    return found[0] if found else None


def _reference_lines(reference: Pedigree, person: str, has_y: bool, has_mt: bool,
                     relatives_y: Mapping[str, YHaplotype],
                     relatives_mt: Mapping[str, MtProfile]) -> str | None:
    """Why the lineage LRs do not apply when the reference hypothesis puts ``person`` on
    a shared line with a typed relative (they are against "unrelated"); else ``None``."""
    if person not in reference:
        return None
    for system, line, typed, relatives in (("Y", paternal_line, has_y, relatives_y),
                                           ("mtDNA", maternal_line, has_mt, relatives_mt)):
        for relative in relatives if typed else ():
            if relative in reference and line(reference, person, relative) is not None:
                return (f"the reference hypothesis puts {person} on the {system} line of "
                        f"{relative}; the lineage LR is only defined against 'unrelated'")
    return None


def kinship_lineage_lrs(autosomal: KinshipResult, hypotheses: Sequence[Hypothesis], person: str,
                        *, y_haplotypes: Mapping[str, YHaplotype],
                        mtdna_profiles: Mapping[str, MtProfile],
                        settings: LineageSettings | None = None,
                        ) -> tuple[list[KinshipLineageLR], dict[str, str]]:
    """:func:`kinship_lineage_lr` for every hypothesis against the reference of ``autosomal``.

    ``y_haplotypes`` / ``mtdna_profiles`` hold every typed person (``person``'s
    own are taken out as the POI's). Returns the results, in the order of the
    hypotheses, and ``{hypothesis: reason}`` for those where the lineage LR does
    not apply (the POI is not in it, or the reference puts the POI on a shared
    line with the relative used).
    """
    by_name = {h.name: h for h in hypotheses}
    reference = by_name[autosomal.reference].pedigree
    relatives_y = {k: v for k, v in y_haplotypes.items() if k != person}
    relatives_mt = {k: v for k, v in mtdna_profiles.items() if k != person}
    results: list[KinshipLineageLR] = []
    skipped: dict[str, str] = {}
    shared = _reference_lines(reference, person, y_haplotypes.get(person) is not None,
                              mtdna_profiles.get(person) is not None, relatives_y, relatives_mt)
    for h in hypotheses:
        if h.name == autosomal.reference or h.name not in autosomal.hypotheses:
            continue
        if shared is not None:
            skipped[h.name] = shared
            continue
        if person not in h.pedigree:
            skipped[h.name] = f"{person} is not in hypothesis '{h.name}'"
            continue
        try:
            results.append(kinship_lineage_lr(
                autosomal, h, person, y_haplotype=y_haplotypes.get(person),
                mtdna=mtdna_profiles.get(person), relatives_y=relatives_y,
                relatives_mtdna=relatives_mt, settings=settings, reference_pedigree=reference))
        except ReferenceLineError as err:
            skipped[h.name] = err.message
    return results, skipped


__all__ = ["KinshipLineageLR", "ReferenceLineError", "kinship_lineage_lr", "kinship_lineage_lrs",
           "lineage_poi"]
