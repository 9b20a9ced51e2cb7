"""The lineage evidence (Y-STR and mtDNA) of every (sample, missing person)
pair of a DVI case, by the policy of :mod:`kinmatch.lineage.evidence`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kinmatch.dvi.case import DVICase
from kinmatch.errors import KinmatchError
from kinmatch.lineage.evidence import (
    LineageCache,
    LineEvidence,
    line_relatives,
    person_lineage_evidence,
)
from kinmatch.lineage.settings import LineageSettings
from kinmatch.pedigree import Sex

# ---------------------------------------------------------------------------
# DVI: every (sample, missing person) pair


@dataclass(frozen=True)
class PairLineage:
    """The lineage parts of one (sample, missing person) pair; ``None``: not applicable."""

    sample: str
    missing_person: str
    family: str
    y: LineEvidence | None = None
    mtdna: LineEvidence | None = None

    @property
    def log_lr_y(self) -> float:
        return 0.0 if self.y is None else self.y.log_lr

    @property
    def log_lr_mtdna(self) -> float:
        return 0.0 if self.mtdna is None else self.mtdna.log_lr

    @property
    def lr_y(self) -> float:
        return 1.0 if self.y is None else self.y.lr

    @property
    def lr_mtdna(self) -> float:
        return 1.0 if self.mtdna is None else self.mtdna.lr

    @property
    def exclusions(self) -> int:
        """Lineage systems that exclude the pair (0, 1 or 2)."""
        return sum(1 for e in (self.y, self.mtdna) if e is not None and e.excluded)

    def to_dict(self) -> dict[str, Any]:
        return {"sample": self.sample, "missing_person": self.missing_person,
                "family": self.family,
                "y": None if self.y is None else self.y.to_dict(),
                "mtdna": None if self.mtdna is None else self.mtdna.to_dict()}


@dataclass(frozen=True)
class LineageEvidenceTable:
    """Lineage evidence of every pair that has some, keyed by (sample index, missing index)."""

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    families: tuple[str, ...]
    pairs: Mapping[tuple[int, int], PairLineage] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pairs)

    def get(self, sample: str, missing_person: str) -> PairLineage | None:
        """The evidence of a pair, ``None`` when it has none (or is unknown)."""
        if sample not in self.samples or missing_person not in self.missing:
            return None
        return self.pairs.get((self.samples.index(sample), self.missing.index(missing_person)))

    def dense(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """``(log_lr_y, log_lr_mtdna, exclusions)`` as samples × missing arrays (0 elsewhere)."""
        shape = (len(self.samples), len(self.missing))
        y, mt = np.zeros(shape), np.zeros(shape)
        excl = np.zeros(shape, dtype=np.int64)
        for (s, m), pair in self.pairs.items():
            y[s, m] = pair.log_lr_y
            mt[s, m] = pair.log_lr_mtdna
            excl[s, m] = pair.exclusions
        return y, mt, excl

    def to_dict(self) -> list[dict[str, Any]]:
        return [self.pairs[k].to_dict() for k in sorted(self.pairs)]


def _sex_clash(sample_sex: Sex, mp_sex: Sex) -> bool:
    return Sex.UNKNOWN not in (sample_sex, mp_sex) and sample_sex != mp_sex


#: What a pair's evidence is kept by: the family (pedigree, Y haplotypes and
#: mtDNA profiles of its relatives), the missing person, and the sample's id,
#: Y haplotype and mtDNA profile.
PairKey = tuple[object, ...]


class LineageEvidenceCache:
    """The lineage evidence of pairs already evaluated, and the frequency
    estimates behind it, for one :class:`~kinmatch.lineage.settings.LineageSettings`.

    dviSolve recomputes the evidence after every step, and only the families
    that received an identified sample change: a pair whose family and
    sample data are unchanged is taken from here. Everything depends on the
    settings (databases, models), so the cache holds one settings object's
    results: given a case with other settings (another object), it forgets
    everything and starts again. At most ``max_pairs`` pairs are kept (past
    that it starts again too). It lives as long as the object; the
    :class:`~kinmatch.dvi.pairwise.PairwiseCache` of a solve holds one.
    """

    def __init__(self, max_pairs: int = 1_000_000) -> None:
        self.max_pairs = max_pairs
        self._settings: LineageSettings | None = None
        self._frequencies: LineageCache | None = None
        self._pairs: dict[PairKey, tuple[LineEvidence | None, LineEvidence | None]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def for_settings(self, settings: LineageSettings
                     ) -> tuple[LineageCache, dict[PairKey, tuple[LineEvidence | None,
                                                                 LineEvidence | None]]]:
        """The frequency estimates and the pairs kept for ``settings`` (empty
        when the settings are not those of the last call)."""
        if self._frequencies is None or settings is not self._settings:
            self._settings = settings
            self._frequencies = LineageCache(settings)
            self._pairs = {}
        if len(self._pairs) > self.max_pairs:
            self._pairs.clear()
        return self._frequencies, self._pairs


def lineage_evidence(case: DVICase, *, cache: LineageEvidenceCache | None = None
                     ) -> LineageEvidenceTable:
    """The Y and mtDNA evidence of every (sample, missing person) pair of ``case``.

    Pairs whose sexes are both known and differ are skipped (their LR is NaN
    anyway). A case without lineage data gives an empty table. ``cache``
    keeps pairs and frequency estimates between calls (a solve's
    recomputations); without one, everything is computed here.
    """
    samples = tuple(s.id for s in case.samples)
    missing = tuple(m for f in case.families for m in f.missing)
    families = tuple(f.name for f in case.families for _ in f.missing)
    pairs: dict[tuple[int, int], PairLineage] = {}
    if not case.has_lineage_data:
        return LineageEvidenceTable(samples, missing, families, pairs)
    frequencies, known = (cache if cache is not None else LineageEvidenceCache()
                          ).for_settings(case.lineage)
    column = 0
    for fam in case.families:
        family_key = (fam.pedigree, tuple(fam.y_haplotypes.items()),
                      tuple(fam.mtdna_profiles.items()))
        for mp in fam.missing:
            links = (line_relatives(fam.pedigree, mp, list(fam.y_haplotypes), "Y"),
                     line_relatives(fam.pedigree, mp, list(fam.mtdna_profiles), "mtDNA"))
            mp_sex = fam.pedigree.sex(mp)
            if links[0] or links[1]:
                for i, sample in enumerate(case.samples):
                    if not sample.has_lineage_data or _sex_clash(sample.sex, mp_sex):
                        continue
                    key = (family_key, mp, sample.id, sample.y_haplotype, sample.mtdna)
                    found = known.get(key)
                    if found is None:
                        try:
                            found = person_lineage_evidence(
                                fam.pedigree, mp, sample_id=sample.id,
                                y_haplotype=sample.y_haplotype, mtdna=sample.mtdna,
                                relatives_y=fam.y_haplotypes,
                                relatives_mtdna=fam.mtdna_profiles, settings=case.lineage,
                                cache=frequencies, links=links)
                        except KinmatchError as err:
                            raise type(err)(f"sample '{sample.id}' as '{mp}' of family "
                                            f"'{fam.name}': {err.message}",
                                            err.location) from None
                        known[key] = found
                    y, mt = found
                    if y is not None or mt is not None:
                        pairs[(i, column)] = PairLineage(sample.id, mp, fam.name, y, mt)
            column += 1
    return LineageEvidenceTable(samples, missing, families, pairs)


__all__ = ["LineageEvidenceCache", "LineageEvidenceTable", "PairLineage", "lineage_evidence"]
