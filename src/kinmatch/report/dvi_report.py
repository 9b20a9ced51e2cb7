"""The identification report of a DVI case, as one self-contained HTML page.

The page is written for the people who act on it: the case manager (what is
identified, what is open, what was excluded and why), the forensic
geneticist (the evidence per identification, marker by marker; the steps of
the pipeline; the pairwise and joint analyses) and the families'
representatives (each family's pedigree with its missing person and the
identified remains marked). Everything is inline (styles, SVG drawings), so
the file can be archived, mailed or printed as it is.

This module only arranges results computed elsewhere
(:func:`kinmatch.dvi.solve_case`, :func:`kinmatch.dvi.pairwise_lr`,
:func:`kinmatch.dvi.joint_identification`); it computes no likelihood.

When the case has lineage markers (Y-STRs, mtDNA) every identification table
shows the autosomal, Y and mtDNA LRs in their own columns next to the
combined LR (:func:`lr_parts`), and each identification's evidence names the
relative on the paternal / maternal line used, the meioses, the haplotype
frequency and its method (:mod:`kinmatch.dvi.lineage_evidence`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from kinmatch import __version__
from kinmatch.dvi.case import DVICase
from kinmatch.dvi.joint import NOT_MISSING, JointResult
from kinmatch.dvi.pairwise import PairwiseLR
from kinmatch.dvi.solve import DVISolution
from kinmatch.lineage.evidence import LineEvidence
from kinmatch.report.pedigree_svg import reference_family_svg

#: Conclusions that name an identification, in the order they are listed.
IDENTIFYING = ("Undisputed", "Match", "Match (GLR)", "Symmetric match")

#: Largest pairwise matrix shown whole in the report.
MATRIX_LIMIT = 60


def format_lr(value: float | None) -> str:
    """An LR as people read it: 3 significant digits, powers of ten when large or small."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0:
        return "0"
    if math.isinf(value):
        return "∞"
    if 9999.5 <= abs(value) < 1e5:
        return f"{value:,.0f}"
    if 1e-3 <= abs(value) < 9999.5:
        return f"{value:.4g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10**exponent
    return f"{mantissa:.3g} × 10^{exponent}"


def _log10(value: float | None) -> str:
    if value is None or math.isnan(value) or value <= 0:
        return "–"
    return f"{math.log10(value):.2f}"


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

    def to_dict(self) -> dict[str, Any]:
        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        return {"lr_autosomal": num(self.autosomal), "lr_y": num(self.y),
                "lr_mtdna": num(self.mtdna), "lr": num(self.combined),
                "y": None if self.y_evidence is None else self.y_evidence.to_dict(),
                "mtdna": None if self.mtdna_evidence is None else self.mtdna_evidence.to_dict()}


def lr_parts(pairwise: PairwiseLR, sample: str | None, missing_person: str | None,
             lr: float | None = None) -> LRParts | None:
    """The autosomal, Y and mtDNA parts of ``lr`` (default: the pairwise LR) for a pair.

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
    with np.errstate(over="ignore"):
        pairwise_auto = float(np.exp(pairwise.log_lr_autosomal[s, m]))
        combined = float(np.exp(pairwise.log_lr[s, m])) if lr is None else lr
    lineage = (1.0 if y is None else y) * (1.0 if mt is None else mt)
    if lr is not None and lineage > 0 and not math.isnan(lr):
        autosomal = lr / lineage
    else:
        autosomal = pairwise_auto
    return LRParts(autosomal, y, mt, combined, y_ev, mt_ev)


def row_parts(pairwise: PairwiseLR, row: Any) -> LRParts | None:
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
    return lr_parts(pairwise, sample, mp, row.lr)


@dataclass(frozen=True)
class MarkerEvidence:
    marker: str
    genotype: str
    lr: float


def _evidence(case: DVICase, pairwise: PairwiseLR, sample: str, missing_person: str
              ) -> list[MarkerEvidence]:
    """Per-marker LRs of one pair from the pairwise analysis."""
    if sample not in pairwise.samples or missing_person not in pairwise.missing:
        return []
    s = pairwise.samples.index(sample)
    m = pairwise.missing.index(missing_person)
    profile = next(x.profile for x in case.samples if x.id == sample)
    rows = []
    for k, name in enumerate(pairwise.markers):
        alleles = profile.get(name)
        genotype = "/".join(alleles) if alleles else "not typed"
        lr = float(np.exp(pairwise.log_lr_per_marker[s, m, k]))
        rows.append(MarkerEvidence(name, genotype, lr))
    return rows


def dvi_report_html(
    case: DVICase,
    solution: DVISolution,
    pairwise: PairwiseLR,
    *,
    joint: JointResult | None = None,
    joint_note: str | None = None,
    fragments: Mapping[str, Sequence[str]] | None = None,
    source: str | None = None,
    generated: datetime | None = None,
    top_assignments: int = 10,
) -> str:
    """The HTML report of a solved DVI case.

    ``pairwise`` gives the per-marker evidence shown for each
    identification; ``joint`` (optional) the best assignments and the
    posterior probability of each pair; ``fragments`` maps merged samples to
    the fragments they were built from; ``source`` names the input file.
    """
    generated = generated or datetime.now(UTC)
    params = dict(solution.parameters)
    counts = Counter(r.conclusion or "not reached" for r in solution.missing_persons)
    show_lineage = case.has_lineage_data
    am_parts = [row_parts(pairwise, r) for r in solution.missing_persons]
    pm_parts = [row_parts(pairwise, r) for r in solution.samples]
    identified = {r.missing_person: r.sample for r in solution.missing_persons
                  if r.conclusion in IDENTIFYING and r.sample}
    families = []
    for fam in case.families:
        rows = [r for r in solution.missing_persons if r.family == fam.name]
        marks = {m: s for m, s in identified.items() if m in fam.missing}
        evidence = {}
        lineage = {}
        for r in rows:
            if r.sample and "/" not in r.sample and r.conclusion in (*IDENTIFYING, "Probable"):
                evidence[r.missing_person] = _evidence(case, pairwise, r.sample, r.missing_person)
                parts = lr_parts(pairwise, r.sample, r.missing_person, r.lr)
                if show_lineage and parts is not None:
                    lineage[r.missing_person] = parts
        families.append({
            "name": fam.name,
            "svg": reference_family_svg(fam, deceased=fam.deceased, identified=marks,
                                        title=f"Family {fam.name}"),
            "rows": rows,
            "typed": sorted(pid for pid, prof in fam.profiles.items() if prof),
            "evidence": evidence,
            "lineage": lineage,
            "typed_y": sorted(fam.y_haplotypes),
            "typed_mtdna": sorted(fam.mtdna_profiles),
        })
    matrix = None
    if len(pairwise.samples) <= MATRIX_LIMIT and len(pairwise.missing) <= MATRIX_LIMIT:
        with np.errstate(divide="ignore", invalid="ignore"):
            log10 = pairwise.log_lr / math.log(10)
        matrix = {
            "samples": pairwise.samples,
            "missing": pairwise.missing,
            "cells": [[("–" if math.isnan(v) else ("−∞" if math.isinf(v) else f"{v:.1f}"), v)
                       for v in row] for row in log10],
            "incompatible": pairwise.incompatible,
        }
    lineage_pairs = []
    if show_lineage and pairwise.lineage is not None:
        for _, pair in sorted(pairwise.lineage.pairs.items()):
            parts = lr_parts(pairwise, pair.sample, pair.missing_person)
            lineage_pairs.append({"sample": pair.sample, "missing": pair.missing_person,
                                  "family": pair.family, "parts": parts})
    joint_view = None
    if joint is not None and len(joint.loglik):
        n = min(top_assignments, len(joint.loglik))
        posts = []
        for s, sample in enumerate(joint.samples):
            row = joint.posterior[s]
            best = int(np.argmax(row))
            who = "not among the missing" if best == len(joint.missing) else joint.missing[best]
            posts.append((sample, who, float(row[best])))
        joint_view = {
            "rows": [{"pairs": [(s, joint.missing[c])
                                for s, c in zip(joint.samples, joint.assignments[i])
                                if c != NOT_MISSING],
                      "loglik": float(joint.loglik[i]),
                      "lr_vs_best": float(joint.lr_vs_best[i])} for i in range(n)],
            "n_assignments": joint.n_assignments,
            "posteriors": posts,
        }
    env = Environment(loader=PackageLoader("kinmatch.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["lr"] = format_lr
    env.filters["log10"] = _log10
    template = env.get_template("dvi_report.html.j2")
    context: dict[str, Any] = {
        "title": case.title or "DVI case",
        "source": source,
        "generated": generated.strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "params": params,
        "theta": case.theta,
        "markers": [m.name for m in case.markers],
        "n_samples": len(case.samples),
        "n_families": len(case.families),
        "n_missing": sum(len(f.missing) for f in case.families),
        "counts": sorted(counts.items(), key=lambda kv: (kv[0] not in IDENTIFYING, kv[0])),
        "identifying": IDENTIFYING,
        "solution": solution,
        "families": families,
        "matrix": matrix,
        "joint": joint_view,
        "joint_note": joint_note,
        "fragments": dict(fragments or {}),
        "show_lineage": show_lineage,
        "am_parts": am_parts,
        "pm_parts": pm_parts,
        "lineage_pairs": lineage_pairs,
    }
    return template.render(**context)
