"""Lineage evidence (Y-STR and mtDNA) of DVI pairs and kinship questions.

For remains ``s`` and a person ``m`` of a pedigree (a DVI missing person, or
the person of interest of a kinship hypothesis), the pedigree decides which
lineage markers say anything:

* **Y-STRs** — the typed relatives ``r`` whose paternal line meets ``m``'s
  (:func:`kinmatch.lineage.paternal_line`: ``m`` and ``r`` both male, their
  father-chains meet): a brother, a brother's son, a son, a father's
  brother's son, ...
* **mtDNA** — the typed relatives whose maternal line meets ``m``'s
  (:func:`kinmatch.lineage.maternal_line`, either sex): a mother, a
  sibling, a sister's son or daughter, a mother's sister's child, ...

A sister's son therefore gives mtDNA evidence and no Y evidence; a
brother's son Y evidence and no mtDNA evidence; a female missing person
never gets Y evidence. With ``n`` the meioses between ``m`` and ``r`` on the
line (``LineConnection.meioses``), the parts are (docs/lineage.md)::

    LR_Y  = P(h_r | h_s, n) / f(h_r)        (stepwise mutation model; f by the case's method)
    LR_mt = (1 - mu)^n / f_upper(p_r)        match ("cannot exclude")
          = 0                                exclusion (>= 2 differences, SWGDAM 2019)
          = inconclusive_lr (default 1)      inconclusive (1 difference)

and the combined LR of the pair is ``LR_autosomal × LR_Y × LR_mt`` (the three
marker systems taken as independent given the hypotheses: unlinked, no joint
θ correction — the usual convention, Egeland, Kling & Mostad 2016).

Several relatives on one line
-----------------------------
Relatives on one line carry copies of one haplotype identical by descent, so
their pairwise LRs are not independent and must not be multiplied. Policy:

1. the **LR comes from the closest relative** — fewest meioses to ``m``
   (fewest chances of mutation, so the most informative about ``m``'s
   haplotype); ties go to the relative with more Y loci compared (the longer
   compared mtDNA range), then to the order in which the family lists them.
   A relative who shares no typed locus (no overlapping range) with the
   remains is passed over. The evidence names the relative used, the
   meioses and the frequency estimate with its method;
2. **every other typed relative on the line is checked for compatibility**:
   if the remains are incompatible with any of them — a Y haplotype the
   mutation model cannot produce (``P(h_r | h_s, n) = 0``), or an mtDNA
   exclusion — the part is 0 (``excluded_by`` names that relative). If ``s``
   is ``m``, every relative on the line must be compatible with ``s``.

A joint likelihood over all the men (women) of the line, as in Familias'
lineage-marker models, is not computed (see docs/lineage.md, "What is not
done").

A family that contradicts itself
--------------------------------
Before any of this the typed relatives on the line are checked against each
other: two relatives whose haplotypes the mutation model cannot connect over
the meioses between them (a brother's son whose Y differs from his father's
by more steps than one meiosis allows; two maternal relatives with an mtDNA
exclusion) make the family's own data impossible — under "the remains are
the missing person" *and* under "unrelated" — so no LR exists and nothing
about the remains follows. This is a :class:`~kinmatch.errors.LineageError`
naming the two relatives (as an autosomal Mendelian inconsistency among a
family's relatives is in the joint DVI analysis), never an exclusion of the
remains. Pairwise checks suffice for the stepwise model: on the line's tree a
haplotype assignment of the untyped men exists whenever every pair of typed
men is within reach (each locus is a Lipschitz condition on a tree metric).

Exclusions
----------
A part of 0 makes the combined LR 0 and is counted as one more
incompatibility of the pair (``PairwiseLR.incompatible`` = Mendelian
incompatibilities + lineage exclusions; ``PairwiseLR.lineage_exclusions``
holds the second term alone). In :func:`kinmatch.dvi.solve_case` such a pair
never becomes a candidate: LR-0 pairs leave the pairings (dvir keeps LR > 0)
and a sample or missing person left with none is "Excluded"; where the
exclusion count exceeds ``max_incompatible`` the pair is removed already by
the exclusion step. An inconclusive mtDNA comparison is neutral (LR
``inconclusive_lr``, 1 by default) and reported as inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kinmatch.errors import LineageError
from kinmatch.lineage.lines import LineConnection, maternal_line, paternal_line
from kinmatch.lineage.mtdna import (
    MtConclusion,
    MtLineageResult,
    MtProfile,
    SeqRange,
    compare_profiles,
    mt_frequency,
    mt_lineage_lr,
)
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.stats import FrequencyEstimate
from kinmatch.lineage.ystr import (
    YHaplotype,
    YLineageResult,
    haplotype_frequency,
    paternal_transmission_probability,
    y_lineage_lr,
)
from kinmatch.pedigree import Pedigree


@dataclass(frozen=True)
class LineEvidence:
    """One lineage marker system for one (remains, person) pair.

    ``relative`` is the typed relative the LR comes from, ``meioses`` the
    meioses between the person and that relative on the line and
    ``common_ancestor`` where their lines meet. ``lr`` is the value that
    enters the combined LR (an inconclusive mtDNA comparison: the neutral
    ``inconclusive_lr``). ``result`` holds every part of the computation
    (per-locus terms, the frequency estimate and its method).
    ``others`` lists the other typed relatives on the line with their
    meioses and their comparison's status; ``excluded_by`` names the relative
    whose comparison excludes the remains (the closest one, or another).
    """

    system: System
    sample: str
    person: str
    relative: str
    meioses: int
    common_ancestor: str
    lr: float
    status: str
    result: YLineageResult | MtLineageResult
    others: tuple[tuple[str, int, str], ...] = ()
    excluded_by: str | None = None
    note: str = ""

    @property
    def log_lr(self) -> float:
        """Natural log of ``lr`` (``-inf`` for an exclusion)."""
        return math.log(self.lr) if self.lr > 0 else -math.inf

    @property
    def excluded(self) -> bool:
        return self.lr == 0.0

    @property
    def frequency(self) -> FrequencyEstimate | None:
        """The haplotype (profile) frequency estimate used, if any."""
        return self.result.frequency

    def describe(self) -> str:
        """One line for tables: relative, meioses, status, frequency and method."""
        text = f"{self.relative} ({self.meioses} meioses), {self.status}"
        f = self.frequency
        if f is not None:
            text += f", f = {f.value:.4g} ({f.method}"
            if f.count is not None:
                text += f", {f.count}/{f.database_size}"
            text += ")"
        if self.excluded_by is not None and self.excluded_by != self.relative:
            text += f"; excluded by {self.excluded_by}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        f = self.frequency
        out: dict[str, Any] = {
            "system": self.system, "relative": self.relative, "meioses": self.meioses,
            "common_ancestor": self.common_ancestor, "status": self.status,
            "lr": self.lr, "log10_lr": None if self.lr <= 0 else math.log10(self.lr),
            "frequency": None if f is None else {
                "value": f.value, "method": f.method, "count": f.count,
                "database_size": f.database_size, "note": f.note},
            "others": [{"relative": r, "meioses": n, "status": st} for r, n, st in self.others],
            "excluded_by": self.excluded_by, "note": self.note,
        }
        if isinstance(self.result, YLineageResult):
            out["loci_compared"] = len(self.result.loci_compared)
            out["loci_used"] = list(self.result.loci_compared)
            out["not_in_database"] = list(self.result.not_in_database)
            out["mismatches"] = list(self.result.mismatches)
            out["numerator"] = self.result.numerator
        else:
            comp = self.result.comparison
            out["range"] = str(comp.range)
            out["differences"] = [str(d) for d in comp.differences]
            out["conclusion"] = comp.conclusion.value
        return out


class LineageCache:
    """Frequency estimates shared by every comparison of a case.

    A Y frequency depends on the haplotype counted and the loci compared, an
    mtDNA frequency on the profile and the compared range; both are counted
    once per distinct key.
    """

    def __init__(self, settings: LineageSettings) -> None:
        self.settings = settings
        self.y: dict[tuple[YHaplotype, tuple[str, ...]], FrequencyEstimate] = {}
        self.mt: dict[tuple[MtProfile, str], FrequencyEstimate] = {}
        # (pedigree, system, typed relatives on the line) -> the problem, "" when consistent
        self.families: dict[tuple[object, ...], str] = {}

    def y_frequency(self, haplotype: YHaplotype, loci: Sequence[str]) -> FrequencyEstimate:
        key = (haplotype, tuple(loci))
        found = self.y.get(key)
        if found is None:
            s = self.settings
            if s.y_database is None:
                raise LineageError("Y-STR haplotypes are to be compared but the case has no Y "
                                   "haplotype database (lineage settings)")
            found = haplotype_frequency(haplotype, s.y_database, loci, s.y_frequency_method,
                                        s.confidence)
            self.y[key] = found
        return found

    def mt_frequency(self, profile: MtProfile, compared: SeqRange) -> FrequencyEstimate:
        key = (profile, str(compared))
        found = self.mt.get(key)
        if found is None:
            s = self.settings
            if s.mt_database is None:
                raise LineageError("mtDNA profiles are to be compared but the case has no mtDNA "
                                   "database (lineage settings)")
            found = mt_frequency(profile, s.mt_database, compared, s.mt_frequency_method,
                                 s.confidence)
            self.mt[key] = found
        return found


def line_relatives(pedigree: Pedigree, person: str, typed: Sequence[str], line: System
                   ) -> list[LineConnection]:
    """The typed relatives sharing ``person``'s paternal (``"Y"``) or maternal
    (``"mtDNA"``) line, closest first (ties in the order of ``typed``).

    Y needs ``person`` and the relative male; mtDNA either sex.
    """
    out = []
    for r in typed:
        if r == person or r not in pedigree:
            continue
        link = paternal_line(pedigree, person, r) if line == "Y" else \
            maternal_line(pedigree, person, r)
        if link is not None:
            out.append(link)
    return sorted(out, key=lambda c: c.meioses)  # stable: ties keep the family's order


def _meioses(n: int) -> str:
    return f"{n} meiosis" if n == 1 else f"{n} meioses"


def _line_conflict(pedigree: Pedigree, system: System, links: Sequence[LineConnection],
                   data: Mapping[str, YHaplotype] | Mapping[str, MtProfile],
                   settings: LineageSettings) -> str:
    """Why the typed relatives on the line contradict each other ("" when they do not)."""
    relatives = [link.b for link in links]
    line = paternal_line if system == "Y" else maternal_line
    for i, a in enumerate(relatives):
        for b in relatives[i + 1:]:
            link = line(pedigree, a, b)
            if link is None:  # cannot happen for two men (women) on one line
                continue
            ha, hb = data[a], data[b]
            if isinstance(ha, YHaplotype) and isinstance(hb, YHaplotype):
                p, terms = paternal_transmission_probability(ha, hb, link.meioses, settings.loci,
                                                             settings.y_model)
                if p == 0.0:
                    bad = "; ".join(
                        f"{t.locus} {','.join(t.remains or ('0',))} vs "
                        f"{','.join(t.reference or ('0',))}"
                        for t in terms if t.probability == 0.0)
                    return (f"the Y haplotypes of {a} and {b}, {_meioses(link.meioses)} apart on "
                            f"the paternal line, cannot descend from one another within the "
                            f"mutation model ({bad})")
            elif isinstance(ha, MtProfile) and isinstance(hb, MtProfile):
                try:
                    comp = compare_profiles(ha, hb)
                except LineageError:  # ranges do not overlap
                    continue
                if comp.conclusion == MtConclusion.EXCLUSION:
                    return (f"the mtDNA profiles of {a} and {b}, on one maternal line, exclude "
                            f"each other ({len(comp.differences)} differences)")
    return ""


def _check_family(pedigree: Pedigree, person: str, system: System,
                  links: Sequence[LineConnection],
                  data: Mapping[str, YHaplotype] | Mapping[str, MtProfile],
                  settings: LineageSettings, cache: LineageCache) -> None:
    """Raise a :class:`LineageError` when the typed relatives on ``person``'s line
    contradict each other (module docstring: "A family that contradicts itself")."""
    if len(links) < 2:
        return
    key = (pedigree, system, tuple((link.b, data[link.b]) for link in links))
    problem = cache.families.get(key)
    if problem is None:
        problem = _line_conflict(pedigree, system, links, data, settings)
        cache.families[key] = problem
    if problem:
        raise LineageError(
            f"the family's reference data on the {system} line of {person} are impossible on "
            f"their own: {problem}. The probability of the data is 0 whether or not the "
            "remains are the missing person, so there is no LR (this is not an exclusion): "
            "check the relatives' samples, typing and pedigree first")


def _y_evidence(sample_id: str, person: str, remains: YHaplotype,
                links: Sequence[LineConnection], haplotypes: Mapping[str, YHaplotype],
                settings: LineageSettings, cache: LineageCache) -> LineEvidence | None:
    loci = settings.loci
    scored = []
    for order, link in enumerate(links):
        ref = haplotypes[link.b]
        transmission = paternal_transmission_probability(remains, ref, link.meioses, loci,
                                                         settings.y_model)
        numerator, terms = transmission
        compared = sum(1 for t in terms if t.probability is not None)
        if compared == 0:
            continue
        status = EXCLUSION if numerator == 0.0 else (
            MATCH if all(t.matches for t in terms if t.probability is not None) else MISMATCH)
        scored.append((link.meioses, -compared, order, link, status, transmission))
    if not scored:
        return None
    scored.sort(key=lambda x: x[:3])
    _, _, _, best, status, transmission = scored[0]
    result = y_lineage_lr(remains, haplotypes[best.b], best.meioses, database=settings.y_database,
                          frequency=cache.y_frequency, loci=loci, model=settings.y_model,
                          method=settings.y_frequency_method,
                          frequency_of=settings.y_frequency_of, confidence=settings.confidence,
                          transmission=transmission)
    others = tuple((link.b, link.meioses, st) for _, _, _, link, st, _ in scored[1:])
    excluded_by = best.b if status == EXCLUSION else next(
        (r for r, _, st in others if st == EXCLUSION), None)
    lr = 0.0 if excluded_by is not None else result.lr
    note = "" if excluded_by is None else (
        f"the Y haplotype of {excluded_by} cannot descend from the remains' within the "
        "mutation model")
    if result.note:
        note = f"{note}; {result.note}" if note else result.note
    return LineEvidence("Y", sample_id, person, best.b, best.meioses, best.common_ancestor, lr,
                        EXCLUSION if excluded_by is not None else status, result, others,
                        excluded_by, note)


def _mt_evidence(sample_id: str, person: str, remains: MtProfile,
                 links: Sequence[LineConnection], profiles: Mapping[str, MtProfile],
                 settings: LineageSettings, cache: LineageCache) -> LineEvidence | None:
    scored = []
    for order, link in enumerate(links):
        try:
            comp = compare_profiles(remains, profiles[link.b])
        except LineageError:  # ranges do not overlap
            continue
        status = {MtConclusion.MATCH: MATCH, MtConclusion.INCONCLUSIVE: INCONCLUSIVE,
                  MtConclusion.EXCLUSION: EXCLUSION}[comp.conclusion]
        scored.append((link.meioses, -len(comp.range), order, link, status, comp))
    if not scored:
        return None
    scored.sort(key=lambda x: x[:3])
    _, _, _, best, status, comp = scored[0]
    ref = profiles[best.b]
    frequency = None
    if status == MATCH:  # the reference profile's frequency over the compared range
        frequency = cache.mt_frequency(ref, comp.range)
    result = mt_lineage_lr(remains, ref, settings.mt_database, meioses=best.meioses,
                           frequency=frequency, method=settings.mt_frequency_method,
                           confidence=settings.confidence,
                           mutation_rate=settings.mt_mutation_rate,
                           inconclusive_lr=settings.mt_inconclusive_lr)
    others = tuple((link.b, link.meioses, st) for _, _, _, link, st, _ in scored[1:])
    excluded_by = best.b if status == EXCLUSION else next(
        (r for r, _, st in others if st == EXCLUSION), None)
    if excluded_by is not None:
        lr, shown = 0.0, EXCLUSION
    else:
        lr = result.lr if result.lr is not None else 1.0
        shown = status
    note = result.note if excluded_by is None or excluded_by == best.b else (
        f"{result.note}; the profile of {excluded_by} excludes the remains")
    return LineEvidence("mtDNA", sample_id, person, best.b, best.meioses, best.common_ancestor, lr,
                        shown, result, others, excluded_by, note)


def person_lineage_evidence(pedigree: Pedigree, person: str, *, sample_id: str,
                            y_haplotype: YHaplotype | None, mtdna: MtProfile | None,
                            relatives_y: Mapping[str, YHaplotype],
                            relatives_mtdna: Mapping[str, MtProfile],
                            settings: LineageSettings, cache: LineageCache | None = None,
                            links: tuple[list[LineConnection], list[LineConnection]] | None = None,
                            ) -> tuple[LineEvidence | None, LineEvidence | None]:
    """The Y and mtDNA evidence for "the remains ``sample_id`` are ``person``" (module docstring).

    ``None`` for a system that does not apply: the remains or every relative on
    the line untyped, or no typed relative on the line (for Y also when
    ``person`` is not male). ``links`` passes precomputed
    :func:`line_relatives` (Y, mtDNA) for repeated calls.
    """
    cache = cache if cache is not None else LineageCache(settings)
    if links is None:
        links = (line_relatives(pedigree, person, list(relatives_y), "Y"),
                 line_relatives(pedigree, person, list(relatives_mtdna), "mtDNA"))
    y = mt = None
    if y_haplotype is not None and links[0]:
        _check_family(pedigree, person, "Y", links[0], relatives_y, settings, cache)
        y = _y_evidence(sample_id, person, y_haplotype, links[0], relatives_y, settings, cache)
    if mtdna is not None and links[1]:
        _check_family(pedigree, person, "mtDNA", links[1], relatives_mtdna, settings, cache)
        mt = _mt_evidence(sample_id, person, mtdna, links[1], relatives_mtdna, settings, cache)
    return y, mt


System = Literal["Y", "mtDNA"]


#: Status words of a lineage comparison.
MATCH = "match"


MISMATCH = "mismatch"  # Y: differences explained by mutations (LR > 0)


INCONCLUSIVE = "inconclusive"  # mtDNA: one difference


EXCLUSION = "exclusion"


__all__ = [
    "EXCLUSION", "INCONCLUSIVE", "MATCH", "MISMATCH", "LineEvidence", "LineageCache",
    "System", "line_relatives", "person_lineage_evidence",
]
