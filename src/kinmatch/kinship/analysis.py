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

A marker where *every* hypothesis gives the genotypes likelihood 0 (a
Mendelian inconsistency among the typed relatives, with no mutation model to
explain it) has no LR: :func:`analyse_kinship_case` raises an
:class:`ImpossibleMarkersError` naming the marker and the typed people whose
genotypes conflict. A marker where only some hypotheses are impossible (the
reference among them: an LR ``x/0`` or ``0/0``) is explained in
:attr:`KinshipAnalysis.notes`, one line per marker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinmatch.errors import KinmatchError, Location
from kinmatch.kinship.case import Hypothesis, KinshipCase
from kinmatch.kinship.lineage import KinshipLineageLR, kinship_lineage_lrs, lineage_poi
from kinmatch.kinship.lr import KinshipResult, all_homozygous, kinship_lr, typed_genotypes
from kinmatch.likelihood.consistency import conflicting_sets, describe_conflict
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.lineage.settings import LineageSettings
from kinmatch.markers import Marker

#: Markers of an :class:`ImpossibleMarkersError` explained one by one (the rest are named).
EXPLAINED_MARKERS = 3


class ImpossibleMarkersError(KinmatchError):
    """Every hypothesis gives the genotypes likelihood 0 at some marker: a Mendelian
    inconsistency among the typed people that no hypothesis (and no mutation model)
    explains. ``markers`` names the markers."""

    def __init__(self, message: str, location: Location | None = None, *,
                 markers: Sequence[str] = ()) -> None:
        super().__init__(message, location)
        self.markers = tuple(markers)

    def at(self, *, file: str | None = None, line: int | None = None,
           column: int | None = None, field: str | None = None) -> ImpossibleMarkersError:
        located = super().at(file=file, line=line, column=column, field=field)
        return ImpossibleMarkersError(located.message, located.location, markers=self.markers)


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
    if not case.has_lineage or len(case.hypotheses) < 2:
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
    #: one line per marker where the reference hypothesis (and perhaps others) gives the
    #: genotypes likelihood 0, saying why the LRs there are not numbers
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The case's title, every hypothesis's log-likelihoods and LRs
        (:meth:`KinshipResult.to_dict`), the notes on impossible markers (if any)
        and, with lineage data, the lineage LRs."""
        out: dict[str, Any] = {"title": self.case.title, **self.result.to_dict()}
        if self.notes:
            out["notes"] = list(self.notes)
        if self.lineage is not None:
            out["lineage"] = self.lineage.to_dict()
        return out


def _conflict_text(hypotheses: Sequence[Hypothesis], marker: Marker,
                   genotypes: Mapping[str, Genotype | Observation], theta: float
                   ) -> tuple[str, bool]:
    """Who conflicts at ``marker`` in each of ``hypotheses`` — once, if some people
    conflict in all of them — and whether all of those named are typed homozygous."""
    found = [(h, conflicting_sets(h.pedigree, marker, genotypes, theta)) for h in hypotheses]
    common = [s for s in found[0][1] if all(s in sets for _, sets in found[1:])]
    if common:
        text = describe_conflict(found[0][0].pedigree, marker, genotypes, common[0])
        scope = "in every hypothesis" if len(hypotheses) > 1 else f"in '{found[0][0].name}'"
        return f"{scope}, {text}", all_homozygous(genotypes, common[0])
    texts = [f"in '{h.name}', {describe_conflict(h.pedigree, marker, genotypes, sets[0])}"
             for h, sets in found]
    return "; ".join(texts), all(all_homozygous(genotypes, sets[0]) for _, sets in found)


def impossible_markers_error(result: KinshipResult, case: KinshipCase,
                             genotypes: Sequence[Mapping[str, Genotype | Observation]],
                             markers: Sequence[Marker], theta: float) -> ImpossibleMarkersError:
    """The error for the markers where every hypothesis has likelihood 0: each marker
    (the first :data:`EXPLAINED_MARKERS`) with the typed people whose genotypes conflict,
    and what to do about it."""
    dead = result.impossible_everywhere
    index = {m: k for k, m in enumerate(result.markers)}
    parts, homozygous = [], True
    for name in dead[:EXPLAINED_MARKERS]:
        k = index[name]
        text, hom = _conflict_text(case.hypotheses, markers[k], genotypes[k], theta)
        parts.append(f"marker {name}: {text}")
        homozygous &= hom
    more = len(dead) - EXPLAINED_MARKERS
    listed = "; ".join(parts) + (f"; and {more} more marker(s): "
                                 f"{', '.join(dead[EXPLAINED_MARKERS:])}" if more > 0 else "")
    mutation = any(m.mutation is not None for m in markers)
    hint = ("a Mendelian inconsistency among the typed people that no hypothesis explains. "
            "Check these genotypes")
    if homozygous:
        hint += (" (everyone involved is typed homozygous: was a genotype table read without "
                 "its second allele column, e.g. a GeneMapper export without 'Allele 2'?)")
    if mutation:
        hint += ", or widen the mutation model of these markers"
    else:
        hint += (", or give a mutation model (--mutation stepwise --mutation-rate 0.002 with "
                 "laboratory tables, or a \"mutation\" block per marker in a case file)")
    where = f"marker {dead[0]}" if len(dead) == 1 else f"{len(dead)} markers"
    return ImpossibleMarkersError(
        f"the genotypes have likelihood 0 under every hypothesis at {where}, so no LR can be "
        f"computed — {listed}. This is {hint}.", markers=dead)


def impossible_marker_notes(result: KinshipResult, case: KinshipCase,
                            genotypes: Sequence[Mapping[str, Genotype | Observation]],
                            markers: Sequence[Marker], theta: float) -> tuple[str, ...]:
    """One line per marker where the reference hypothesis gives the genotypes likelihood
    0 (but some hypothesis does not): the LRs there are infinite (``x/0``: the reference
    is excluded) or undefined (``0/0``), and who conflicts under the reference."""
    impossible = result.impossible_markers
    reference = next(h for h in case.hypotheses if h.name == result.reference)
    if len(result.hypotheses) == 1:  # a pedigree likelihood: say who conflicts where
        return tuple(
            f"{name}: the pedigree has likelihood 0 ("
            + _conflict_text([reference], markers[result.markers.index(name)],
                             genotypes[result.markers.index(name)], theta)[0] + ")"
            for name in impossible[result.reference])
    dead = set(result.impossible_everywhere)
    notes = []
    for name in impossible[result.reference]:
        if name in dead:
            continue
        k = result.markers.index(name)
        others = [h for h in result.hypotheses if h != result.reference]
        excluded = [h for h in others if name not in impossible[h]]
        undefined = [h for h in others if name in impossible[h]]
        text, _ = _conflict_text([reference], markers[k], genotypes[k], theta)
        said = []
        if excluded:
            said.append(f"infinite for {', '.join(excluded)} (the reference is excluded here)")
        if undefined:
            said.append(f"undefined (0/0) for {', '.join(undefined)}, which is impossible too")
        notes.append(f"{name}: the reference hypothesis '{result.reference}' has likelihood 0 "
                     f"({text}), so the LR is {'; '.join(said)}")
    return tuple(notes)


def analyse_kinship_case(case: KinshipCase, *, theta: float | None = None,
                         reference: str | None = None) -> KinshipAnalysis:
    """The LRs of a kinship case's hypotheses against the reference hypothesis.

    ``theta`` overrides the case's θ; ``reference`` its reference hypothesis
    (default: the case's, else the last one). Raises
    :class:`ImpossibleMarkersError` when every hypothesis gives the genotypes
    likelihood 0 at some marker; markers where the reference alone (or with
    some other hypotheses) does are explained in :attr:`KinshipAnalysis.notes`.
    """
    theta = case.theta if theta is None else theta
    result = kinship_lr(
        case.hypotheses,
        case.markers,
        case.profiles,
        theta=theta,
        reference=reference or case.reference,
        minimum_frequency=case.minimum_frequency,
        dropout=case.dropout,
        dropin=case.dropin,
    )
    notes: tuple[str, ...] = ()
    if result.impossible_markers[result.reference]:
        markers, genotypes = typed_genotypes(case.markers, case.profiles,
                                             case.minimum_frequency, case.dropout, case.dropin)
        if result.impossible_everywhere and len(result.hypotheses) > 1:
            raise impossible_markers_error(result, case, genotypes, markers, theta)
        notes = impossible_marker_notes(result, case, genotypes, markers, theta)
    return KinshipAnalysis(case, result, case_lineage_lrs(result, case), notes)


__all__ = ["CaseLineage", "ImpossibleMarkersError", "KinshipAnalysis", "analyse_kinship_case",
           "case_lineage_lrs", "impossible_marker_notes", "impossible_markers_error"]
