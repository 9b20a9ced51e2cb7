"""The parts of a pair's LR: autosomal × Y-STR × mtDNA.

A DVI pair's LR is the product of its autosomal LR and its lineage parts
(:mod:`kinmatch.lineage.evidence`); the conclusions of
:func:`~kinmatch.dvi.solve.solve_case` report the combined LR of the step
that concluded. :func:`lr_parts` splits such an LR back into its parts for
tables, reports and exports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kinmatch.dvi.pairwise import PairwiseLR
from kinmatch.dvi.solve import MissingPersonConclusion, SampleConclusion
from kinmatch.lineage.evidence import LineEvidence


@dataclass(frozen=True)
class LRParts:
    """The parts of one pair's LR: autosomal × Y × mtDNA = combined.

    ``y`` / ``mtdna`` are ``None`` where the system does not apply (LR 1);
    ``autosomal`` is the combined LR divided by the lineage parts, i.e. the
    autosomal LR of the step that concluded (identified samples then count as
    reference data), and the pairwise autosomal LR when a lineage part is 0.
    """

    autosomal: float | None
    y: float | None
    mtdna: float | None
    combined: float | None
    y_evidence: LineEvidence | None = None
    mtdna_evidence: LineEvidence | None = None
    #: log10 of ``autosomal`` and ``combined``: finite where those overflow to ``inf``
    #: (None where unknown, or the LR is 0 or undefined)
    log10_autosomal: float | None = None
    log10_combined: float | None = None

    def to_dict(self) -> dict[str, Any]:
        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        return {"lr_autosomal": num(self.autosomal), "lr_y": num(self.y),
                "lr_mtdna": num(self.mtdna), "lr": num(self.combined),
                "log10_lr_autosomal": num(self.log10_autosomal),
                "log10_lr": num(self.log10_combined),
                "y": None if self.y_evidence is None else self.y_evidence.to_dict(),
                "mtdna": None if self.mtdna_evidence is None else self.mtdna_evidence.to_dict()}


def lr_parts(pairwise: PairwiseLR, sample: str | None, missing_person: str | None,
             lr: float | None = None, log10_lr: float | None = None) -> LRParts | None:
    """The autosomal, Y and mtDNA parts of ``lr`` (default: the pairwise LR) for a pair;
    ``log10_lr`` is its log10 (known even where ``lr`` overflows to ``inf``).

    ``None`` when the pair is not one sample and one missing person of
    ``pairwise`` (a symmetric match "V1/V2", no sample).
    """
    if not sample or not missing_person or sample not in pairwise.samples \
            or missing_person not in pairwise.missing:
        return None
    s, m = pairwise.samples.index(sample), pairwise.missing.index(missing_person)
    pair = pairwise.lineage.get(sample, missing_person) if pairwise.lineage is not None else None
    y_ev = pair.y if pair is not None else None
    mt_ev = pair.mtdna if pair is not None else None
    y = None if y_ev is None else y_ev.lr
    mt = None if mt_ev is None else mt_ev.lr
    pairwise_auto = _exp(pairwise.log_lr_autosomal[s, m])
    combined = _exp(pairwise.log_lr[s, m]) if lr is None else lr
    lineage = (1.0 if y is None else y) * (1.0 if mt is None else mt)
    pairwise_log10_auto = _finite(float(pairwise.log_lr_autosomal[s, m]) / math.log(10))
    if lr is None:
        log10_combined = _finite(float(pairwise.log_lr[s, m]) / math.log(10))
    else:
        log10_combined = _finite(log10_lr) if log10_lr is not None else _log10(lr)
    if lr is not None and lineage > 0 and not math.isnan(lr):
        autosomal = lr / lineage
        log10_auto = (None if log10_combined is None
                      else log10_combined - math.log10(lineage))
    else:
        autosomal = pairwise_auto
        log10_auto = pairwise_log10_auto
    return LRParts(autosomal, y, mt, combined, y_ev, mt_ev, log10_auto, log10_combined)


#: Above this, ``exp`` overflows to ``inf``.
_LARGEST_LOG = math.log(np.finfo(np.float64).max)


def _exp(log_value: np.float64) -> float:
    """``numpy.exp`` of a natural log, ``inf`` where it overflows (without the
    warning, and without entering ``numpy.errstate``: this runs for every pair
    of a report)."""
    return math.inf if log_value > _LARGEST_LOG else float(np.exp(log_value))


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _log10(v: float) -> float | None:
    return math.log10(v) if math.isfinite(v) and v > 0 else None


def row_parts(pairwise: PairwiseLR,
              row: MissingPersonConclusion | SampleConclusion) -> LRParts | None:
    """:func:`lr_parts` of an AM or PM row of a :class:`~kinmatch.dvi.DVISolution`.

    A row that names no partner but says "Best: X" (dvir's inconclusive
    rows) is read as the pair with X, whose LR the row reports.
    """
    sample, mp = row.sample, row.missing_person
    best = None
    if row.comment and str(row.comment).startswith("Best: "):
        best = str(row.comment)[len("Best: "):].strip()
    if not sample and best:
        sample = best
    if not mp and best:
        mp = best
    return lr_parts(pairwise, sample, mp, row.lr, row.log10_lr)


