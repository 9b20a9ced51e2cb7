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


def lineage_evidence(case: DVICase) -> LineageEvidenceTable:
    """The Y and mtDNA evidence of every (sample, missing person) pair of ``case``.

    Pairs whose sexes are both known and differ are skipped (their LR is NaN
    anyway). A case without lineage data gives an empty table.
    """
    samples = tuple(s.id for s in case.samples)
    missing = tuple(m for f in case.families for m in f.missing)
    families = tuple(f.name for f in case.families for _ in f.missing)
    pairs: dict[tuple[int, int], PairLineage] = {}
    if not case.has_lineage_data:
        return LineageEvidenceTable(samples, missing, families, pairs)
    # Kept with the settings (frequencies) and by pair data: dviSolve
    # recomputes the table after every step and only families that received
    # an identified sample change.
    store = case.lineage.__dict__
    cache = store.get("_frequency_cache")
    if cache is None:
        cache = store["_frequency_cache"] = LineageCache(case.lineage)
    known: dict[tuple[object, ...], tuple[LineEvidence | None, LineEvidence | None]] = \
        store.setdefault("_pair_cache", {})
    if len(known) > 1_000_000:
        known.clear()
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
                                cache=cache, links=links)
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


__all__ = ["LineageEvidenceTable", "PairLineage", "lineage_evidence"]
