"""A whole DVI case in one call: the pipeline every front end runs.

:func:`run_dvi_case` takes a :class:`~kinmatch.dvi.case.DVICase` through the
stages a DVI laboratory follows and returns a :class:`DVIResult` that holds
every intermediate result:

1. **drop-out** (optional): each sample's drop-out probability estimated by
   maximum likelihood from its own profile
   (:func:`~kinmatch.dvi.case.estimate_case_dropout`);
2. **fragments** (optional): samples whose identity LR reaches the identity
   threshold with no mismatch are merged into one individual
   (:func:`~kinmatch.dvi.reassociation.merge_fragments`);
3. **pairwise LRs** of every sample against every missing person, autosomal
   × Y-STR × mtDNA (:func:`~kinmatch.dvi.pairwise.pairwise_lr`);
4. **solve**: dvir's ``dviSolve`` rules (exclusions, undisputed
   identifications, simple and complex families;
   :func:`~kinmatch.dvi.solve.solve_case`);
5. **joint analysis** of the whole case: the best assignments and each
   pair's posterior probability with bounds
   (:func:`~kinmatch.dvi.joint.joint_identification`).

The command line (``kinmatch dvi``), the HTML report and any service call
this one function, so the same options give the same numbers everywhere.
:meth:`DVIResult.to_dict` is the JSON form (``kinmatch dvi --json``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kinmatch.dvi.case import (
    DVICase,
    PostMortemSample,
    PreparedCase,
    estimate_case_dropout,
    prepare_case,
)
from kinmatch.dvi.joint import JointResult, joint_identification
from kinmatch.dvi.lr_parts import LRParts, row_parts
from kinmatch.dvi.pairwise import (
    PairwiseCache,
    PairwiseLR,
    missing_person_distributions,
    pairwise_lr,
)
from kinmatch.dvi.reassociation import merge_fragments
from kinmatch.dvi.solve import (
    IDENTIFYING,
    DVISolution,
    MissingPersonConclusion,
    SampleConclusion,
    solve_case,
)
from kinmatch.errors import KinmatchError, warn
from kinmatch.likelihood.consistency import conflicting_people, describe_conflict

#: The stages of :func:`run_dvi_case`, in order (the names a progress display shows).
STAGES: tuple[str, ...] = ("drop-out and fragments", "pairwise LRs", "solve (dviSolve)",
                           "joint analysis")


@dataclass(frozen=True)
class DVIOptions:
    """The options of a DVI analysis (the ``kinmatch dvi`` options of the same names).

    ``threshold``: LR (and GLR) needed for an identification;
    ``threshold2``: LR for "Probable" (default ``max(1, threshold / 10)``);
    ``max_incompatible``: pairs with more Mendelian incompatibilities (and
    lineage exclusions) are excluded; ``ignore_sex``: pair samples with
    missing persons of either sex; ``merge_fragments`` and
    ``identity_threshold``: re-associate fragments first, merging samples
    whose identity LR reaches the threshold with no mismatch;
    ``max_assignments``: the largest joint analysis enumerated exactly (per
    family in the solve, per component in the whole-case analysis; beyond
    it, k-best search with posterior bounds); ``top``: joint assignments
    kept; ``estimate_dropout`` and ``dropin``: estimate the drop-out of each
    sample that has none set, with this drop-in probability;
    ``min_markers``: a sample typed at fewer markers (after fragments are
    merged) and with no Y-STR or mtDNA data is "Not typed": left out of the
    analysis with a warning, and given that conclusion.
    """

    threshold: float = 1e4
    threshold2: float | None = None
    max_incompatible: int = 2
    ignore_sex: bool = False
    merge_fragments: bool = False
    identity_threshold: float = 1e6
    max_assignments: int = 100_000
    top: int = 10
    estimate_dropout: bool = False
    dropin: float | None = None
    min_markers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DVIResult:
    """Everything :func:`run_dvi_case` computed.

    ``case`` is the case as analysed (with estimated drop-out and merged
    fragments, when asked for); ``fragments`` maps each merged individual to
    the samples it was built from; ``pairwise``, ``solution`` and ``joint``
    are the results of the pipeline's stages.
    """

    case: DVICase
    options: DVIOptions
    pairwise: PairwiseLR
    solution: DVISolution
    joint: JointResult
    fragments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None
    #: samples left out as typed at fewer than ``options.min_markers`` markers
    not_typed: tuple[str, ...] = ()

    @property
    def joint_note(self) -> str | None:
        """Why the joint analysis's posteriors are bounds, when they are (``None`` if exact)."""
        if self.joint.exact:
            return None
        return (f"The joint analysis is too large to enumerate; the {len(self.joint.loglik)} "
                "best assignments are exact (k-best search) and each posterior is given with "
                f"guaranteed bounds (largest uncertainty {self.joint.max_posterior_error:.2g}).")

    @property
    def identifications(self) -> dict[str, MissingPersonConclusion]:
        """The missing persons whose conclusion names an identification (``IDENTIFYING``),
        by sample."""
        return {r.sample: r for r in self.solution.missing_persons
                if r.conclusion in IDENTIFYING and r.sample}

    def lr_parts(self, row: MissingPersonConclusion | SampleConclusion) -> LRParts | None:
        """The autosomal, Y-STR and mtDNA parts of a conclusion's LR."""
        return row_parts(self.pairwise, row)

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, ready for ``json.dump(..., allow_nan=False)``
        (``None`` for infinite or undefined numbers; LRs also as log10, finite
        however large): the case summary, the options, merged fragments, the
        pairwise LR matrix with its parts (log10), the solution, the LR parts of
        every conclusion and the joint analysis."""
        case = self.case
        return json_safe({
            "case": {"source": self.source, "title": case.title,
                     "samples": len(case.samples) + len(self.not_typed),
                     "families": len(case.families), "theta": case.theta,
                     "markers": [m.name for m in case.markers]},
            "options": self.options.to_dict(),
            "fragments": {k: list(v) for k, v in self.fragments.items()},
            "not_typed": list(self.not_typed),
            "pairwise": pairwise_to_dict(self.pairwise),
            "solution": self.solution.to_dict(),
            "lr_parts": {
                "missing_persons": [
                    {"family": r.family, "missing_person": r.missing_person, "sample": r.sample,
                     **_parts_dict(self.lr_parts(r))}
                    for r in self.solution.missing_persons],
                "samples": [
                    {"sample": r.sample, "missing_person": r.missing_person,
                     **_parts_dict(self.lr_parts(r))}
                    for r in self.solution.samples],
            },
            "joint": joint_to_dict(self.joint),
            "joint_note": self.joint_note,
        })


def json_safe(value: Any) -> Any:
    """``value`` with every infinite or NaN float (in nested dicts, lists and tuples)
    replaced by ``None``, so that ``json.dumps(..., allow_nan=False)`` holds."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _parts_dict(parts: LRParts | None) -> dict[str, Any]:
    return {} if parts is None else parts.to_dict()


def _log10_rows(values: NDArray[np.float64] | None) -> list[list[float | None]]:
    """Natural logs as log10, ``None`` where infinite or undefined."""
    if values is None:
        return []
    return [[v / math.log(10) if math.isfinite(v) else None for v in row]
            for row in values.tolist()]


def pairwise_to_dict(pairwise: PairwiseLR) -> dict[str, Any]:
    """The pairwise LR matrix and its parts as log10 (``None``: LR 0, infinite or undefined)."""
    return {
        "samples": list(pairwise.samples), "missing": list(pairwise.missing),
        "families": list(pairwise.families),
        "log10_lr": _log10_rows(pairwise.log_lr),
        "incompatible": pairwise.incompatible.tolist(),
        "log10_lr_autosomal": _log10_rows(pairwise.log_lr_autosomal),
        "log10_lr_y": _log10_rows(pairwise.log_lr_y),
        "log10_lr_mtdna": _log10_rows(pairwise.log_lr_mtdna),
        "lineage_exclusions": ([] if pairwise.lineage_exclusions is None
                               else pairwise.lineage_exclusions.tolist()),
        "lineage": [] if pairwise.lineage is None else pairwise.lineage.to_dict(),
    }


def joint_to_dict(joint: JointResult) -> dict[str, Any]:
    """The best assignments (with ``L(best) / L(row)``, also as log10: finite where the
    ratio overflows) and the posterior of every pair, with bounds."""
    lr_vs_best, log10_lr_vs_best = joint.lr_vs_best, joint.log10_lr_vs_best
    return {
        "exact": bool(joint.exact),
        "n_assignments": joint.n_assignments,
        "top": [{"assignment": joint.describe(i), "loglik": float(joint.loglik[i]),
                 "lr_vs_best": float(lr_vs_best[i]),
                 "log10_lr_vs_best": float(log10_lr_vs_best[i])}
                for i in range(len(joint.loglik))],
        "posterior": {"samples": list(joint.samples),
                      "missing": [*joint.missing, "*"],
                      "values": joint.posterior.tolist(),
                      "lower": joint.posterior_lower.tolist(),
                      "upper": joint.posterior_upper.tolist()},
    }


def run_dvi_case(case: DVICase, options: DVIOptions | None = None, *,
                 source: str | None = None,
                 on_stage: Callable[[int], None] | None = None) -> DVIResult:
    """Run a whole DVI case: drop-out, fragments, pairwise LRs, dviSolve, joint analysis.

    ``options`` default to :class:`DVIOptions`'s defaults; ``source`` names
    the input (kept in the result and its JSON); ``on_stage(i)`` is called as
    stage ``STAGES[i]`` starts and with ``len(STAGES)`` at the end (for
    progress displays).
    """
    options = options or DVIOptions()
    if not case.samples:
        raise KinmatchError("the case has no post-mortem samples: there is nothing to identify "
                            "(kinmatch plan works on the families alone)")

    def stage(i: int) -> None:
        if on_stage is not None:
            on_stage(i)

    stage(0)
    if options.estimate_dropout:
        case = estimate_case_dropout(case, options.dropin)
    fragments: dict[str, tuple[str, ...]] = {}
    if options.merge_fragments:
        merged = merge_fragments(case, threshold=options.identity_threshold)
        case = merged.case
        fragments = {k: v for k, v in merged.individuals.items() if len(v) > 1}
    order = [s.id for s in case.samples]
    case, untyped = _without_untyped(case, options.min_markers)
    stage(1)
    # one cache for the whole run: the solve's recomputations and the joint
    # analysis reuse the families peeled for the pairwise matrix
    cache = PairwiseCache()
    prepared = prepare_case(case)
    distributions = missing_person_distributions(prepared, cache=cache)
    check_families(prepared, distributions.family_loglik, distributions.families)
    pairwise = pairwise_lr(prepared, distributions, cache=cache)
    stage(2)
    solution = solve_case(case, threshold=options.threshold, threshold2=options.threshold2,
                          max_incompatible=options.max_incompatible,
                          ignore_sex=options.ignore_sex,
                          max_assignments=options.max_assignments, cache=cache)
    stage(3)
    joint = joint_identification(prepared, pairwise, top=options.top,
                                 component_limit=options.max_assignments, cache=cache)
    stage(len(STAGES))
    if untyped:
        rows = {r.sample: r for r in solution.samples}
        rows.update({s.id: SampleConclusion(s.id, conclusion=NOT_TYPED,
                                            comment=f"typed at {len(s.profile)} of "
                                                    f"{len(case.markers)} markers")
                     for s in untyped})
        solution = replace(solution, samples=tuple(rows[sid] for sid in order))
    return DVIResult(case=case, options=options, pairwise=pairwise, solution=solution,
                     joint=joint, fragments=fragments, source=source,
                     not_typed=tuple(s.id for s in untyped))


#: The conclusion of a sample typed at too few markers to be compared.
NOT_TYPED = "Not typed"


def _without_untyped(case: DVICase, min_markers: int
                     ) -> tuple[DVICase, list[PostMortemSample]]:
    """The case without the samples typed at fewer than ``min_markers`` markers
    (and with no lineage data), and those samples; each gets a warning. A case
    with no typed sample left is an error."""
    untyped = [s for s in case.samples
               if len(s.profile) < min_markers and not s.has_lineage_data]
    if not untyped:
        return case, []
    for s in untyped:
        warn(f"sample '{s.id}' is typed at {len(s.profile)} of {len(case.markers)} markers "
             f"(fewer than {min_markers}): left out, concluded '{NOT_TYPED}'")
    left_out = {s.id for s in untyped}
    kept = [s for s in case.samples if s.id not in left_out]
    if not kept:
        raise KinmatchError(f"no sample is typed at {min_markers} or more markers: there is "
                            "nothing to compare")
    return replace(case, samples=kept), untyped


#: Markers of an inconsistent family explained one by one (the rest are named).
EXPLAINED_MARKERS = 3


def check_families(prepared: PreparedCase, family_loglik: NDArray[np.float64],
                   families: Sequence[str]) -> None:
    """Raise a :class:`KinmatchError` if a family's reference data are impossible on their
    own (likelihood 0 at some marker: a Mendelian inconsistency among the relatives that
    the mutation model, if any, does not explain), naming the marker and the relatives
    whose genotypes conflict. ``family_loglik`` has one row per missing person (of family
    ``families[row]``) and one column per marker, as
    :func:`~kinmatch.dvi.pairwise.missing_person_distributions` gives it."""
    dead = np.isneginf(family_loglik)
    if not dead.any():
        return
    name = families[int(np.flatnonzero(dead.any(axis=1))[0])]
    f = next(i for i, fam in enumerate(prepared.case.families) if fam.name == name)
    family = prepared.case.families[f]
    rows = [r for r, n in enumerate(families) if n == name]
    bad = [k for k in range(dead.shape[1]) if dead[rows, k].any()]
    markers = prepared.markers
    parts = []
    for k in bad[:EXPLAINED_MARKERS]:
        genotypes = prepared.family_genotypes[f][k]
        people = conflicting_people(family.pedigree, markers[k], genotypes,
                                    prepared.case.theta)
        parts.append(f"marker {markers[k].name}: "
                     + describe_conflict(family.pedigree, markers[k], genotypes, people))
    more = len(bad) - EXPLAINED_MARKERS
    if more > 0:
        parts.append(f"and {more} more marker(s): "
                     + ", ".join(markers[k].name for k in bad[EXPLAINED_MARKERS:]))
    advice = ("widen the mutation model of these markers"
              if any(markers[k].mutation is not None for k in bad)
              else "give the markers a mutation model")
    raise KinmatchError(
        f"the reference data of family '{name}' are impossible on their own (a Mendelian "
        f"inconsistency among the relatives) — {'; '.join(parts)}. Correct these genotypes, "
        f"or {advice}")


__all__ = ["STAGES", "DVIOptions", "DVIResult", "check_families", "joint_to_dict",
           "json_safe", "pairwise_to_dict", "run_dvi_case"]
