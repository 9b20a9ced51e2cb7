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
from kinmatch.dvi.lr_parts import lr_parts, row_parts
from kinmatch.dvi.pairwise import PairwiseLR
from kinmatch.dvi.pipeline import DVIResult
from kinmatch.dvi.solve import IDENTIFYING, DVISolution
from kinmatch.kinship.lr import format_power_of_ten
from kinmatch.report.pedigree_svg import reference_family_svg

#: Largest pairwise matrix shown whole in the report.
MATRIX_LIMIT = 60


def format_lr(value: float | None, log10: float | None = None) -> str:
    """An LR as people read it: 3 significant digits, powers of ten when large or small.

    ``log10`` is the LR's log10 where known: an LR beyond the float range
    (``inf`` or 0 as a float, finite as a log) is written from it
    (``3.16 × 10^412``); "∞" is left for an LR that is truly infinite.
    """
    if (value is not None and log10 is not None and math.isfinite(log10)
            and (value == 0 or math.isinf(value))):
        return format_power_of_ten(log10)
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


def _log10(value: float | None, log10: float | None = None) -> str:
    """The log10 column: from ``log10`` where known (an LR beyond the float range)."""
    if log10 is not None and math.isfinite(log10):
        return f"{log10:.2f}"
    if value is None or math.isnan(value) or value <= 0:
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{math.log10(value):.2f}"








@dataclass(frozen=True)
class MarkerEvidence:
    marker: str
    genotype: str
    lr: float
    log10: float | None = None


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
        log_lr = float(pairwise.log_lr_per_marker[s, m, k])
        with np.errstate(over="ignore"):
            lr = float(np.exp(log_lr))
        rows.append(MarkerEvidence(name, genotype, lr, log_lr / math.log(10)))
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
                parts = lr_parts(pairwise, r.sample, r.missing_person, r.lr, r.log10_lr)
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
                      "lr_vs_best": float(joint.lr_vs_best[i]),
                      "log10_lr_vs_best": float(joint.log10_lr_vs_best[i])}
                     for i in range(n)],
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
        "n_samples": len(solution.samples),
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


def dvi_result_report_html(result: DVIResult, *, generated: datetime | None = None) -> str:
    """The HTML report of a DVI case run by :func:`kinmatch.dvi.pipeline.run_dvi_case`:
    :func:`dvi_report_html` of the case as analysed, with the joint analysis,
    the merged fragments and the number of assignments the options asked for."""
    return dvi_report_html(result.case, result.solution, result.pairwise, joint=result.joint,
                           joint_note=result.joint_note, fragments=result.fragments,
                           source=result.source, generated=generated,
                           top_assignments=result.options.top)
