"""The complete DVI pipeline: dvir's ``dviSolve`` (dvir 3.4.2).

``solve_case`` takes a DVI case through the steps a DVI laboratory follows and
gives every missing person and every post-mortem sample a conclusion, with
the same rules, thresholds and wording as dvir's ``dviSolve`` (see
docs/dev/dvir-semantics.md, sections 2, 5, 6, 7 and 8):

1. **Nonidentifiable** missing persons (``findNonidentifiable``): those not
   related, directly or through other missing persons, to any typed
   relative. They are removed.
2. A loop of **exclusions** (``findExcluded``: pairs with more than
   ``max_incompatible`` Mendelian incompatibilities are removed; samples and
   missing persons left without a compatible pair are "Excluded") and
   **undisputed** identifications (``findUndisputed``: an LR of at least
   ``threshold`` that is ``threshold`` times larger than every other LR in its
   row and column; the sample's profile then becomes reference data of its
   family and the LRs are recomputed), until neither changes anything.
3. **Simple families** (one missing person left): "Probable" / "Disputed" /
   "Inconclusive" / "No match" from the LR column (``.simpleFamDVI``).
4. **Complex families** (several missing persons left): a joint analysis of
   the family; "Match (GLR)" where the generalised LR passes ``threshold``
   (``pairwiseGLR``), "Symmetric match" for a sample matching two missing
   persons equally well, or two samples matching two missing persons as a
   set (``symmetricGLR``); the rest "Inconclusive".
5. The **remaining samples** get a conclusion from their LR row
   (``.pmDrivenDVI``).

The LRs of every step are computed by :func:`~kinmatch.dvi.pairwise.pairwise_lr`
and the joint analysis by :func:`~kinmatch.dvi.joint.joint_identification`,
each on a sub-case (:func:`dataclasses.replace` of the case) holding what is
left at that point, with identified samples' profiles placed in their
families as typed relatives. One :class:`~kinmatch.dvi.pairwise.PairwiseCache`
serves every recomputation of a solve (families and pairs that did not
change are not computed again); it lives as long as the solve unless the
caller passes its own.

Differences from dvir that are deliberate or unavoidable:

* The relationship words of a symmetric match (dvir uses the verbalisr
  package) are produced by :func:`kinmatch.relationships.describe_relationship`,
  which names the usual relationships (full/half siblings, parent-child,
  grandparent, avuncular, first cousins, ...) and says "related" otherwise.
* With ``ignore_sex=True`` the samples are treated as of unknown sex, so at
  X-linked markers a sample's own probability is computed with the sex of the
  missing person it is compared with (dvir uses the sample's recorded sex).
* dvir lists assignments of zero likelihood in its joint table; the joint
  analysis here lists only assignments of positive likelihood, and the GLR
  rules treat a pairing that only occurs with zero likelihood exactly as dvir
  does (GLR 0 for it; GLR infinite against it).
* When a complex family has more than ``max_assignments`` joint assignments
  the joint step is skipped (dvir 3.4.2's ``maxAssign``) and its missing
  persons are "Inconclusive".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kinmatch.algorithms.assignments import count_assignments
from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import (
    DEFAULT_COMPONENT_LIMIT,
    NOT_MISSING,
    JointResult,
    joint_identification,
)
from kinmatch.dvi.pairwise import PairwiseCache, PairwiseLR, pairwise_lr
from kinmatch.errors import KinmatchError
from kinmatch.ibd import kinship_coefficients
from kinmatch.pedigree import Sex
from kinmatch.relationships import describe_relationship

#: dvir's tolerance for "at least the threshold": ``sqrt(.Machine$double.eps)``.
EPS = 2.0 ** -26
#: ``.Machine$double.eps``, used by dvir for ``threshold2`` on the sample side.
DOUBLE_EPS = 2.0 ** -52

#: Conclusion words, as dvir writes them.
UNDISPUTED = "Undisputed"
EXCLUDED = "Excluded"
NONIDENTIFIABLE = "Nonidentifiable"
PROBABLE = "Probable"
DISPUTED = "Disputed"
INCONCLUSIVE = "Inconclusive"
NO_MATCH = "No match"
MATCH_GLR = "Match (GLR)"
SYMMETRIC_MATCH = "Symmetric match"


# ---------------------------------------------------------------------------
# Public result types


#: Conclusions that name an identification, in the order they are listed.
IDENTIFYING = ("Undisputed", "Match", "Match (GLR)", "Symmetric match")


@dataclass(frozen=True)
class MissingPersonConclusion:
    """One row of the AM table: the conclusion for one missing person."""

    family: str
    missing_person: str
    sample: str | None = None  # "V1/V2" for a symmetric pair of samples
    lr: float | None = None  # inf when beyond the float range: see log10_lr
    glr: float | None = None
    conclusion: str | None = None  # None: never reached (dvir's NA)
    comment: str | None = None
    #: log10 of ``lr``, finite however large the LR (None: no LR, or LR 0)
    log10_lr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``lr`` and ``glr`` are None where infinite or undefined;
        ``log10_lr`` is given for every positive LR."""
        return {"family": self.family, "missing_person": self.missing_person,
                "sample": self.sample, "lr": _num(self.lr),
                "log10_lr": _log10_of(self.lr, self.log10_lr), "glr": _num(self.glr),
                "conclusion": self.conclusion, "comment": self.comment}


@dataclass(frozen=True)
class SampleConclusion:
    """One row of the PM table: the conclusion for one post-mortem sample."""

    sample: str
    missing_person: str | None = None  # "" when no missing person is named; "M1/M2" if symmetric
    family: str | None = None
    lr: float | None = None  # inf when beyond the float range: see log10_lr
    glr: float | None = None
    conclusion: str | None = None
    comment: str | None = None
    #: log10 of ``lr``, finite however large the LR (None: no LR, or LR 0)
    log10_lr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``lr`` and ``glr`` are None where infinite or undefined;
        ``log10_lr`` is given for every positive LR."""
        return {"sample": self.sample, "missing_person": self.missing_person,
                "family": self.family, "lr": _num(self.lr),
                "log10_lr": _log10_of(self.lr, self.log10_lr), "glr": _num(self.glr),
                "conclusion": self.conclusion, "comment": self.comment}


@dataclass(frozen=True)
class LRMatrix:
    """Samples × missing persons; NaN where the pair is not a candidate (dvir's NA).

    ``log_values`` holds the natural logs of LR matrices (``None`` for GLRs and
    counts): an LR beyond the float range is ``inf`` in ``values`` but finite
    there.
    """

    samples: tuple[str, ...]
    missing: tuple[str, ...]
    values: NDArray[np.float64]
    log_values: NDArray[np.float64] | None = None

    def log10(self, sample: str | None, missing_person: str | None) -> float | None:
        """log10 of a pair's entry (from ``log_values`` when kept); None if the pair is
        not in the matrix or its entry is not a positive number."""
        if sample not in self.samples or missing_person not in self.missing:
            return None
        i, j = self.samples.index(sample), self.missing.index(missing_person)
        if self.log_values is not None:
            v = float(self.log_values[i, j]) / math.log(10)
            return v if math.isfinite(v) else None
        return _log10_of(float(self.values[i, j]), None)

    def max_log10(self, missing_person: str) -> float | None:
        """log10 of the largest entry of a missing person's column (None: no positive one)."""
        if missing_person not in self.missing:
            return None
        j = self.missing.index(missing_person)
        column = (self.log_values[:, j] / math.log(10) if self.log_values is not None
                  else [_log10_of(float(v), None) for v in self.values[:, j]])
        ok = [float(v) for v in column if v is not None and math.isfinite(v)]
        return max(ok) if ok else None

    def get(self, sample: str, missing_person: str) -> float:
        """The entry for a pair, NaN if either is not in the matrix."""
        if sample not in self.samples or missing_person not in self.missing:
            return math.nan
        return float(self.values[self.samples.index(sample), self.missing.index(missing_person)])

    def row(self, sample: str) -> NDArray[np.float64]:
        return self.values[self.samples.index(sample)]

    def column(self, missing_person: str) -> NDArray[np.float64]:
        return self.values[:, self.missing.index(missing_person)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: None where NaN or infinite; an LR matrix also gives ``log10_values``."""
        out: dict[str, Any] = {"samples": list(self.samples), "missing": list(self.missing),
                               "values": [[_num(v) for v in row] for row in self.values]}
        if self.log_values is not None:
            out["log10_values"] = [[_num(v / math.log(10)) for v in row]
                                   for row in self.log_values]
        return out


@dataclass(frozen=True)
class SolveStep:
    """What one step of the pipeline did."""

    # nonidentifiable | exclusion | undisputed | simple family | complex family | remaining samples
    stage: str
    iteration: int | None
    description: str
    missing_persons: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "iteration": self.iteration, "description": self.description,
                "missing_persons": list(self.missing_persons), "samples": list(self.samples)}


@dataclass(frozen=True)
class ComplexFamilyAnalysis:
    """The joint analysis of one family with several missing persons left."""

    family: str
    samples: tuple[str, ...]
    missing: tuple[str, ...]
    n_assignments: int  # assignments dvir would enumerate
    joint: JointResult | None  # None when skipped (more than max_assignments)
    glr: LRMatrix | None  # samples × missing persons of this analysis

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"family": self.family, "samples": list(self.samples),
                               "missing": list(self.missing), "n_assignments": self.n_assignments,
                               "glr": self.glr.to_dict() if self.glr else None}
        if self.joint is not None:
            j = self.joint
            out["top"] = [{**j.describe(i), "loglik": float(j.loglik[i])}
                          for i in range(len(j.loglik))]
        return out


@dataclass(frozen=True)
class DVISolution:
    """Conclusions for a whole DVI case (dvir's ``dviSolve`` output and details)."""

    missing_persons: tuple[MissingPersonConclusion, ...]  # the AM table, in case order
    samples: tuple[SampleConclusion, ...]  # the PM table, in case order
    steps: tuple[SolveStep, ...]
    lr_matrix: LRMatrix | None  # pairwise LRs after the first exclusions (dvir's LRmatrix)
    final_lr_matrix: LRMatrix | None  # the LRs the final conclusions are drawn from
    exclusion_matrix: LRMatrix | None  # incompatibility counts, first iteration (NaN: no pair)
    complex_families: tuple[ComplexFamilyAnalysis, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def missing_person(self, missing_person: str) -> MissingPersonConclusion:
        """The AM row of one missing person."""
        for r in self.missing_persons:
            if r.missing_person == missing_person:
                return r
        raise KeyError(missing_person)

    def sample(self, sample: str) -> SampleConclusion:
        """The PM row of one sample."""
        for r in self.samples:
            if r.sample == sample:
                return r
        raise KeyError(sample)

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, ready for ``json.dump`` (None for dvir's NA)."""
        def matrix(m: LRMatrix | None) -> dict[str, Any] | None:
            return m.to_dict() if m is not None else None
        return {
            "parameters": dict(self.parameters),
            "missing_persons": [r.to_dict() for r in self.missing_persons],
            "samples": [r.to_dict() for r in self.samples],
            "steps": [s.to_dict() for s in self.steps],
            "lr_matrix": matrix(self.lr_matrix),
            "final_lr_matrix": matrix(self.final_lr_matrix),
            "exclusion_matrix": matrix(self.exclusion_matrix),
            "complex_families": [c.to_dict() for c in self.complex_families],
        }


def _num(v: float | None) -> float | None:
    """A number for JSON: None for no value, NaN (dvir's NA) and infinities."""
    if v is None or not math.isfinite(v):
        return None
    return float(v)


def _log10_of(lr: float | None, log10: float | None) -> float | None:
    """``log10`` if known, else log10 of a positive finite ``lr``, else None."""
    if log10 is not None:
        return log10 if math.isfinite(log10) else None
    if lr is None or not math.isfinite(lr) or lr <= 0:
        return None
    return math.log10(lr)


# ---------------------------------------------------------------------------
# The working data set (dvir's dviData: pm, am, missing, pairings)


@dataclass(frozen=True)
class _Data:
    """What is left of the case, with dvir's candidate pairings.

    ``pairings[s]`` lists the missing persons sample ``s`` may be (dvir's
    pairings without ``"*"``, which is always allowed), in missing-person
    order. Identified samples' profiles are in ``case.families`` as typed
    relatives and their missing persons are no longer missing.
    """

    case: DVICase
    pairings: Mapping[str, tuple[str, ...]]
    #: what the pairwise recomputations of this solve keep (one for the solve)
    cache: PairwiseCache = field(compare=False, repr=False)

    @property
    def samples(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.case.samples)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(m for f in self.case.families for m in f.missing)

    def family_of(self, missing_person: str) -> str:
        return next(f.name for f in self.case.families if missing_person in f.missing)


def generate_pairings(case: DVICase, ignore_sex: bool = False) -> dict[str, tuple[str, ...]]:
    """dvir's ``generatePairings``: each sample with the missing persons of its sex code.

    The sex codes must be equal (an unknown-sex sample pairs only with
    unknown-sex missing persons); with ``ignore_sex`` every missing person.
    """
    missing = [(f.pedigree.sex(m), m) for f in case.families for m in f.missing]
    return {s.id: tuple(m for sex, m in missing if ignore_sex or sex == s.sex)
            for s in case.samples}


def _subset(data: _Data, *, samples: Sequence[str] | None = None,
            missing: Sequence[str] | None = None, families: Sequence[str] | None = None,
            remove_unpaired: bool = True) -> tuple[_Data, list[str]]:
    """dvir's ``subsetDVI``; also returns the samples dropped for having no pairing left.

    Families left without a missing person are dropped; the pairings lose the
    removed missing persons; with ``remove_unpaired`` a sample left with no
    candidate (pairings only ``"*"``) is dropped.
    """
    case = data.case
    if families is not None and missing is None:
        keep_fams = set(families)
        keep_missing = {m for f in case.families if f.name in keep_fams for m in f.missing}
    else:
        keep_missing = set(missing) if missing is not None else set(data.missing)
        keep_fams = {f.name for f in case.families} if families is None else set(families)
    new_families = []
    for f in case.families:
        mps = tuple(m for m in f.missing if m in keep_missing)
        if f.name in keep_fams and mps:
            new_families.append(f if mps == f.missing else replace(f, missing=mps))
    kept = {m for f in new_families for m in f.missing}
    keep_samples = set(samples) if samples is not None else set(data.samples)
    new_samples, pairings, dropped = [], {}, []
    for s in case.samples:
        if s.id not in keep_samples:
            continue
        cand = tuple(m for m in data.pairings.get(s.id, ()) if m in kept)
        if remove_unpaired and not cand:
            dropped.append(s.id)
            continue
        new_samples.append(s)
        pairings[s.id] = cand
    return (_Data(replace(case, samples=new_samples, families=new_families), pairings,
                  data.cache), dropped)


def _transfer(data: _Data, identified: Sequence[tuple[str, str, str]],
              profiles: Mapping[str, PostMortemSample]) -> _Data:
    """dvir's ``transferMarkers``: identified samples become typed relatives.

    ``identified`` holds ``(sample, missing person, family)``; a pair whose
    family is no longer in ``data`` is skipped.
    """
    by_family: dict[str, dict[str, PostMortemSample]] = {}
    for sample, mp, family in identified:
        for f in data.case.families:
            if f.name == family and mp in f.pedigree and mp not in f.missing:
                if any(profiles[sample].profile.values()):
                    by_family.setdefault(f.name, {})[mp] = profiles[sample]
    if not by_family:
        return data
    families = [_with_identified(f, by_family[f.name]) if f.name in by_family else f
                for f in data.case.families]
    return _Data(replace(data.case, families=families), data.pairings, data.cache)


def _with_identified(family: ReferenceFamily, placed: Mapping[str, PostMortemSample]
                     ) -> ReferenceFamily:
    """The family with identified samples as typed relatives: their autosomal
    profiles (as observations if degraded) and their Y and mtDNA data."""
    return replace(
        family,
        profiles={**family.profiles, **{m: s.profile for m, s in placed.items()}},
        dropout={**family.dropout, **{m: s.dropout for m, s in placed.items() if s.dropout}},
        dropin={**family.dropin, **{m: s.dropin for m, s in placed.items() if s.dropin}},
        y_haplotypes={**family.y_haplotypes, **{m: s.y_haplotype for m, s in placed.items()
                                               if s.y_haplotype is not None}},
        mtdna_profiles={**family.mtdna_profiles, **{m: s.mtdna for m, s in placed.items()
                                                   if s.mtdna is not None}})


def _lr_and_counts(data: _Data, ignore_sex: bool) -> tuple[LRMatrix, LRMatrix]:
    """Pairwise LRs and incompatibility counts of the current data, NaN outside the pairings.

    dvir's ``pairwiseLR(...)$LRmatrix`` and ``exclusionMatrix``, recomputed on
    the sub-case (so identified samples' data count as reference data).
    """
    samples, missing = data.samples, data.missing
    lr = np.full((len(samples), len(missing)), math.nan)
    log_lr = lr.copy()
    counts = np.full((len(samples), len(missing)), math.nan)
    if not any(data.pairings.get(s) for s in samples):
        return LRMatrix(samples, missing, lr, log_lr), LRMatrix(samples, missing, counts)
    case = data.case
    if ignore_sex:
        case = replace(case, samples=[replace(s, sex=Sex.UNKNOWN) for s in case.samples])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_case(case)
    pw = pairwise_lr(prepared, cache=data.cache)
    col = {m: pw.missing.index(m) for m in missing}
    with np.errstate(over="ignore"):
        full_lr = np.exp(pw.log_lr)
    for i, s in enumerate(samples):
        for m in data.pairings.get(s, ()):
            j = missing.index(m)
            lr[i, j] = full_lr[i, col[m]]
            log_lr[i, j] = pw.log_lr[i, col[m]]
            counts[i, j] = pw.incompatible[i, col[m]]
    return LRMatrix(samples, missing, lr, log_lr), LRMatrix(samples, missing, counts)


# ---------------------------------------------------------------------------
# Step 1: nonidentifiable missing persons (dvir findNonidentifiable)


def _typed(family: ReferenceFamily) -> list[str]:
    return [pid for pid, prof in family.profiles.items() if any(prof.values())]


def find_nonidentifiable(case: DVICase) -> list[tuple[str, str, str]]:
    """Missing persons unrelated to every typed relative (dvir ``findNonidentifiable``).

    Starting from the typed relatives, missing persons with a positive
    kinship coefficient to the current linked set are linked in turn; those
    never linked are nonidentifiable. Returns ``(family, missing person,
    comment)`` with comment "No references in family" or "Unrelated to all
    references".
    """
    out = []
    for fam in case.families:
        refs = _typed(fam)
        phi = kinship_coefficients(fam.pedigree)
        cand = list(fam.missing)
        linked = list(refs)
        while cand and linked:
            linked = [c for c in cand if any(phi(c, r) > 0 for r in linked)]
            cand = [c for c in cand if c not in linked]
        comment = "No references in family" if not refs else "Unrelated to all references"
        out += [(fam.name, m, comment) for m in cand]
    return out


# ---------------------------------------------------------------------------
# Step 2a: exclusions (dvir findExcluded)


@dataclass(frozen=True)
class _Exclusions:
    counts: LRMatrix
    samples: list[tuple[str, str]]  # (sample, comment)
    missing: list[tuple[str, str, str]]  # (family, missing, comment)
    removed_pairs: int
    reduced: _Data

    @property
    def changed(self) -> bool:
        return bool(self.samples or self.missing or self.removed_pairs)


def _exclusion_comment(values: NDArray[np.float64]) -> str:
    ok = values[~np.isnan(values)]
    if not ok.size:
        return "No compatible pairings"
    return f"{int(ok.min())}+ inconsistencies"


def _min_ex(values: NDArray[np.float64]) -> float:
    ok = values[~np.isnan(values)]
    return float(ok.min()) if ok.size else math.inf


def find_excluded(data: _Data, counts: LRMatrix, max_incompatible: int) -> _Exclusions:
    """dvir ``findExcluded`` on an exclusion matrix (NaN where not a pairing).

    A sample (missing person) is excluded when every one of its pairings has
    more than ``max_incompatible`` incompatible markers, or it has none
    ("No compatible pairings"); pairs over the limit are dropped from the
    pairings without a conclusion.
    """
    v = counts.values
    ex_samples = [(s, _exclusion_comment(v[i])) for i, s in enumerate(counts.samples)
                  if _min_ex(v[i]) > max_incompatible]
    ex_missing = [(data.family_of(m), m, _exclusion_comment(v[:, j]))
                  for j, m in enumerate(counts.missing) if _min_ex(v[:, j]) > max_incompatible]
    removed = int(np.sum(np.nan_to_num(v, nan=-1.0) > max_incompatible))
    reduced = data
    if ex_samples or ex_missing:
        gone_s = {s for s, _ in ex_samples}
        gone_m = {m for _, m, _ in ex_missing}
        reduced, _ = _subset(data, samples=[s for s in data.samples if s not in gone_s],
                             missing=[m for m in data.missing if m not in gone_m])
    pairings = {}
    for s in reduced.samples:
        i = counts.samples.index(s)
        pairings[s] = tuple(m for m in reduced.missing
                            if not math.isnan(v[i, counts.missing.index(m)])
                            and v[i, counts.missing.index(m)] <= max_incompatible)
    reduced = _Data(reduced.case, pairings, reduced.cache)
    return _Exclusions(counts, ex_samples, ex_missing, removed, reduced)


# ---------------------------------------------------------------------------
# Step 2b: undisputed identifications (dvir findUndisputed, undisputedEntries)


def undisputed_entries(lr: NDArray[np.float64], threshold: float, strict: bool = False,
                       log_lr: NDArray[np.float64] | None = None) -> list[tuple[int, int]]:
    """dvir ``undisputedEntries``: cells (row, column) that are undisputed.

    NaN counts as -1. A cell qualifies when it is at least ``threshold``
    (less ``EPS``) and every other entry of its row and column is at most
    ``cell / threshold`` (at most 1 with ``strict``). Cells come in R's
    ``which(arr.ind = TRUE)`` order: column by column.

    ``log_lr`` (natural logs, optional): where an LR is beyond the float
    range (``inf`` in ``lr``), its row and column are compared in logs, so
    two overflowing LRs are not taken as equal (``inf <= inf / threshold``);
    finite cells are compared exactly as dvir does.
    """
    m = np.where(np.isnan(lr), -1.0, lr)
    n_rows, n_cols = m.shape
    out = []
    for j in range(n_cols):
        for i in range(n_rows):
            value = m[i, j]
            if not value >= threshold - EPS:
                continue
            if math.isinf(value) and log_lr is not None:
                logs = np.where(np.isnan(lr), -math.inf, log_lr)
                others = np.concatenate([np.delete(logs[i, :], j), np.delete(logs[:, j], i)])
                bound = 0.0 if strict else float(logs[i, j]) - math.log(threshold)
                if np.all(others <= bound):
                    out.append((i, j))
                continue
            others = np.concatenate([np.delete(m[i, :], j), np.delete(m[:, j], i)])
            bound = 1.0 if strict else value / threshold
            if np.all(others <= bound):
                out.append((i, j))
    return out


def reduced_pairings(lr: LRMatrix, limit: float = 0.0) -> dict[str, tuple[str, ...]]:
    """The pairings dvir's ``pairwiseLR`` returns: LR > 0 (limit 0) or LR >= limit."""
    out = {}
    for i, s in enumerate(lr.samples):
        row = lr.values[i]
        keep = (row > 0) if limit == 0 else (row >= limit)
        out[s] = tuple(m for j, m in enumerate(lr.missing) if not math.isnan(row[j]) and keep[j])
    return out


@dataclass(frozen=True)
class _Undisputed:
    rows: list[dict[str, Any]]  # Family, Missing, Sample, LR, Conclusion, Comment
    first: LRMatrix | None
    last: LRMatrix | None
    reduced: _Data
    changed: bool


def find_undisputed(data: _Data, profiles: Mapping[str, PostMortemSample], *, threshold: float,
                    limit: float = 0.0, strict: bool = False, ignore_sex: bool = False
                    ) -> _Undisputed:
    """dvir ``findUndisputed``: repeat undisputed identifications until none is left.

    After each step the identified samples and missing persons leave the
    data, families without missing persons are dropped, samples left with no
    candidate are "Excluded" ("No compatible pairings"), the identified
    samples' profiles become reference data of their families, and the LRs
    are recomputed. At the end the pairings keep the pairs with LR > 0 (or
    >= ``limit``) of the last LR matrix.
    """
    if not data.samples or not data.missing:
        return _Undisputed([], None, None, data, False)
    family_of = {m: data.family_of(m) for m in data.missing}
    rows: list[dict[str, Any]] = []
    first = last = None
    step = 0
    emptied = False
    while True:
        step += 1
        lr, _ = _lr_and_counts(data, ignore_sex)
        if first is None:
            first = lr
        last = lr
        found = undisputed_entries(lr.values, threshold, strict, lr.log_values)
        if not found:
            break
        pairs = [(lr.samples[i], lr.missing[j]) for i, j in found]
        for (i, j), (s, m) in zip(found, pairs):
            rows.append({"Family": family_of[m], "Missing": m, "Sample": s,
                         "LR": float(lr.values[i, j]), "Log10LR": lr.log10(s, m),
                         "Conclusion": UNDISPUTED,
                         "Comment": f"Step {step}"})
        gone_s = {s for s, _ in pairs}
        gone_m = {m for _, m in pairs}
        new_samples = [s for s in data.samples if s not in gone_s]
        new_missing = [m for m in data.missing if m not in gone_m]
        data, dropped = _subset(data, samples=new_samples, missing=new_missing)
        rows += [{"Family": None, "Missing": None, "Sample": s, "LR": None,
                  "Conclusion": EXCLUDED, "Comment": "No compatible pairings"} for s in dropped]
        data = _transfer(data, [(s, m, family_of[m]) for s, m in pairs], profiles)
        if not new_missing or not new_samples:
            emptied = True
            break
    if emptied:
        pairings = {s: data.pairings[s] for s in data.samples}
    else:
        pairings = reduced_pairings(last, limit)
    changed = bool(rows) or any(set(pairings[s]) != set(data.pairings[s]) for s in data.samples)
    return _Undisputed(rows, first, last, _Data(data.case, pairings, data.cache), changed)


# ---------------------------------------------------------------------------
# Steps 3 and 5: conclusions from one LR column or row


def format_lr(x: float) -> str:
    """C's ``%.2g``, with R's spelling of infinities."""
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if math.isnan(x):
        return "NA"
    return f"{x:.2g}"


def _best(names: Sequence[str], values: NDArray[np.float64]) -> tuple[str | None, float]:
    ok = ~np.isnan(values)
    if not ok.any():
        return None, math.nan
    i = int(np.flatnonzero(ok)[np.argmax(values[ok])])
    return names[i], float(values[i])


def _ranked_conclusion(names: Sequence[str], values: NDArray[np.float64],
                       high: NDArray[np.bool_]) -> tuple[str | None, float, str, str | None]:
    """(best, max LR, conclusion, comment) shared by the AM and PM rules of dvir."""
    best, max_lr = _best(names, values)
    if best is None:
        return None, math.nan, NO_MATCH, None
    high_names = [n for n, h in zip(names, high) if h]
    if len(high_names) > 1:
        also = [f"{n} (LR={format_lr(float(v))})" for n, v, h in zip(names, values, high)
                if h and n != best]
        return best, max_lr, DISPUTED, "Also: " + ", ".join(also)
    if len(high_names) == 1:
        rest = [(n, float(v)) for n, v in zip(names, values) if not math.isnan(v) and n != best]
        if rest:
            top = max(v for _, v in rest)
            name = next(n for n, v in rest if v == top)
            return best, max_lr, PROBABLE, f"Runner-up: {name} (LR={format_lr(top)})"
        return best, max_lr, PROBABLE, "Runner-up: -"
    if max_lr >= 1:
        return best, max_lr, INCONCLUSIVE, f"Best: {best}"
    return best, max_lr, NO_MATCH, None


def simple_family_conclusion(family: str, missing_person: str, lr: LRMatrix, threshold2: float
                             ) -> MissingPersonConclusion:
    """dvir ``.simpleFamDVI``: a family with one missing person left.

    Uses the LR column over all samples still in the LR matrix: several LRs
    above ``threshold2`` (strictly) is "Disputed", one is "Probable", else
    "Inconclusive" when the best LR is at least 1 and "No match" otherwise.
    The best sample and its LR are reported in every case.
    """
    values = lr.column(missing_person)
    high = ~np.isnan(values) & (np.nan_to_num(values, nan=-1.0) > threshold2)
    best, max_lr, conclusion, comment = _ranked_conclusion(lr.samples, values, high)
    return MissingPersonConclusion(family, missing_person, best, max_lr, None, conclusion, comment,
                                   lr.log10(best, missing_person))


def sample_conclusion(sample: str, lr: LRMatrix, threshold2: float,
                      family_of: Mapping[str, str]) -> SampleConclusion:
    """dvir ``.pmDrivenDVI``: a sample left at the end, from its LR row.

    Several LRs of at least ``threshold2`` is "Disputed", one "Probable"
    (both name the best missing person and its family); otherwise
    "Inconclusive" (best LR >= 1) or "No match", with empty family and
    missing person.
    """
    values = lr.row(sample)
    high = ~np.isnan(values) & (np.nan_to_num(values, nan=-1.0) >= threshold2 - DOUBLE_EPS)
    best, max_lr, conclusion, comment = _ranked_conclusion(lr.missing, values, high)
    log10 = lr.log10(sample, best)
    if conclusion in (DISPUTED, PROBABLE) and best is not None:
        return SampleConclusion(sample, best, family_of[best], max_lr, None, conclusion, comment,
                                log10)
    return SampleConclusion(sample, "", "", max_lr if best is not None else None, None,
                            conclusion, comment, log10)


# ---------------------------------------------------------------------------
# Step 4: complex families (dvir .complexFamDVI, pairwiseGLR, symmetricGLR)


@dataclass(frozen=True)
class JointTable:
    """A joint table in dvir's order: rows of (missing person or None) per sample.

    Only assignments of positive likelihood are listed; ``allowed`` holds
    every sample's candidates, which is what dvir's table also contains
    with zero likelihood.
    """

    samples: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    loglik: tuple[float, ...]
    allowed: Mapping[str, tuple[str, ...]]
    n_assignments: int

    def column(self, sample: str) -> list[str | None]:
        k = self.samples.index(sample)
        return [r[k] for r in self.rows]


def joint_table(result: JointResult, allowed: Mapping[str, tuple[str, ...]]) -> JointTable:
    """The rows of a joint result sorted as dvir's ``dviJoint`` sorts them.

    Decreasing log-likelihood, then the samples' missing persons with ``*``
    last (R's ``order(-loglik, V1, V2, ...)``).
    """
    rows = []
    for a, ll in zip(result.assignments, result.loglik):
        rows.append((tuple(result.missing[c] if c != NOT_MISSING else None for c in a), float(ll)))

    def key(item: tuple[tuple[str | None, ...], float]) -> tuple[Any, ...]:
        row, ll = item
        return (-ll, tuple((1, "") if x is None else (0, x) for x in row))
    rows.sort(key=key)
    return JointTable(result.samples, tuple(r for r, _ in rows), tuple(ll for _, ll in rows),
                      dict(allowed), result.n_assignments)


def pairwise_glr(table: JointTable, missing: Sequence[str]) -> LRMatrix:
    """dvir ``pairwiseGLR``: GLR(s, m) = max L(s = m) / max L(s != m) over assignments.

    With rows sorted best first: the numerator is the first row where ``s``
    is ``m``; the denominator is the first row if that is not it, else the
    first row where ``s`` is something else. A candidate pair that only
    occurs in zero-likelihood assignments has GLR 0; if every other value of
    ``s`` has zero likelihood the top pair's GLR is infinite.
    """
    ll = table.loglik
    g = np.full((len(table.samples), len(missing)), math.nan)
    for i, s in enumerate(table.samples):
        a = table.column(s)
        options = {None, *table.allowed.get(s, ())}
        if len(options) < 2:
            continue
        first: dict[str | None, int] = {}
        for k, x in enumerate(a):
            first.setdefault(x, k)
        for j, m in enumerate(missing):
            if m in first:
                num = first[m]
                if num == 0:
                    den = next((k for k, x in enumerate(a) if x != a[0]), None)
                    g[i, j] = math.inf if den is None else _exp(ll[0] - ll[den])
                else:
                    g[i, j] = _exp(ll[num] - ll[0])
            elif m in options:
                g[i, j] = 0.0
    return LRMatrix(tuple(table.samples), tuple(missing), g)


def _exp(x: float) -> float:
    """``exp(x)``, ``inf`` beyond the float range (a GLR above 10^308)."""
    return math.inf if x > _LOG_FLOAT_MAX else math.exp(x)


#: The natural log of the largest float.
_LOG_FLOAT_MAX = math.log(np.finfo(float).max)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Symmetric:
    am: list[dict[str, Any]]
    pm: list[dict[str, Any]]


def symmetric_glr(table: JointTable, samples: Sequence[str], missing: Sequence[str],
                  family: ReferenceFamily, threshold: float) -> _Symmetric | None:
    """dvir ``symmetricGLR``: the top two assignments differ by a symmetry.

    Compares rows 1 and 2 over ``samples`` (those left after the GLR
    matches). Case A: one sample takes two missing persons ``{Ma, Mb}``;
    case B: two samples swap two missing persons. The GLR is the top
    likelihood over that of the first row leaving the symmetric set, and
    must reach ``threshold``.
    """
    if table.n_assignments < 3 or len(table.rows) < 2 or not samples:
        return None
    r1 = {s: table.rows[0][table.samples.index(s)] for s in samples}
    r2 = {s: table.rows[1][table.samples.index(s)] for s in samples}
    diffs = [s for s in samples if r1[s] != r2[s]]
    if len(diffs) > 2 or any(r1[s] is None or r2[s] is None for s in diffs):
        return None
    ll = table.loglik

    def glr_until(inside: Callable[[tuple[str | None, ...]], bool]) -> float:
        end = next((k for k, row in enumerate(table.rows) if not inside(row)), None)
        return math.inf if end is None else _exp(ll[0] - ll[end])

    if len(diffs) == 1:
        v = diffs[0]
        k = table.samples.index(v)
        miss = [m for m in missing if m in (r1[v], r2[v])]
        if len(miss) != 2:
            return None
        glr = glr_until(lambda row: row[k] in miss)
        if glr < threshold:
            return None
        rel = describe_relationship(family.pedigree, miss[0], miss[1])
        am = [{"Family": family.name, "Missing": m, "Sample": v, "GLR": glr,
               "Conclusion": SYMMETRIC_MATCH, "Comment": f"{v} also matches {other} ({rel})",
               "_lr_pair": (v, m)}
              for m, other in zip(miss, reversed(miss))]
        pm = [{"Sample": v, "Family": family.name, "Missing": "/".join(miss), "GLR": glr,
               "Conclusion": SYMMETRIC_MATCH, "Comment": f"{miss[0]} and {miss[1]} are {rel}",
               "_lr_pair": (v, r1[v])}]
        return _Symmetric(am, pm)
    if len(diffs) == 2 and {r1[s] for s in diffs} == {r2[s] for s in diffs}:
        vics = diffs
        ks = [table.samples.index(v) for v in vics]
        miss = [m for m in missing if m in {r1[v] for v in vics}]
        if len(miss) != 2:
            return None
        glr = glr_until(lambda row: all(row[k] in miss for k in ks))
        if glr < threshold:
            return None
        rel = _cap(describe_relationship(family.pedigree, miss[0], miss[1]))
        am = [{"Family": family.name, "Missing": m, "Sample": "/".join(vics), "GLR": glr,
               "Conclusion": SYMMETRIC_MATCH,
               "Comment": f"{rel}: {{{', '.join(miss)}}} = {{{', '.join(vics)}}}", "_lr_pair": None}
              for m in miss]
        pm = [{"Sample": v, "Family": family.name, "Missing": "/".join(miss), "GLR": glr,
               "Conclusion": SYMMETRIC_MATCH,
               "Comment": f"{rel}: {{{', '.join(vics)}}} = {{{', '.join(miss)}}}",
               "_lr_pair": (v, r1[v])} for v in vics]
        return _Symmetric(am, pm)
    return None


def _allowed_mask(pw: PairwiseLR, allowed: Mapping[str, tuple[str, ...]]) -> NDArray[np.bool_]:
    """dvir's pairings as a samples × missing persons mask for the joint analysis.

    Pairs outside ``allowed`` (excluded, sex-inconsistent, or of LR 0) are
    left out of every assignment.
    """
    mask = np.array([[m in allowed.get(s, ()) for m in pw.missing] for s in pw.samples],
                    dtype=bool)
    return mask.reshape(len(pw.samples), len(pw.missing))


def _safe_max(values: NDArray[np.float64]) -> float:
    ok = values[~np.isnan(values)]
    return float(ok.max()) if ok.size else math.nan


def _grid_size(allowed: NDArray[np.bool_], max_assignments: int) -> int:
    """Number of joint assignments dvir would enumerate (``dviGridSize``), or a bound.

    Exact when it is small or the family has few missing persons; otherwise
    the product of the samples' numbers of options (with ``*``), an upper
    bound that already exceeds ``max_assignments``.
    """
    bound = math.prod(1 + int(row.sum()) for row in allowed)
    if bound <= max_assignments or allowed.shape[1] <= 16:
        return count_assignments(allowed) if allowed.shape[0] else 1
    return bound


def complex_family(data: _Data, family: str, lr: LRMatrix, *, threshold: float,
                   max_assignments: int, ignore_sex: bool
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], ComplexFamilyAnalysis]:
    """dvir ``.complexFamDVI`` (3.4.2): joint analysis of one family.

    Returns the AM rows (one per missing person of the family), the PM rows
    (matched samples only) and the analysis. LRs: a matched pair reports
    its pairwise LR; a symmetric pair of samples reports none on the AM
    side and each sample's LR with its missing person of the top assignment
    on the PM side; an inconclusive missing person reports its best LR and
    its best GLR.
    """
    if threshold <= 1:
        raise KinmatchError(f"the GLR threshold must exceed 1, not {threshold} "
                            f"(family {family} needs a joint analysis)")
    sub, _ = _subset(data, families=[family])
    fam = next(f for f in sub.case.families if f.name == family)
    samples, missing = sub.samples, sub.missing
    comment = "Joint: {" + ",".join(missing) + "}"
    allowed_mask = np.array([[m in sub.pairings[s] for m in missing] for s in samples],
                            dtype=bool).reshape(len(samples), len(missing))
    n_grid = _grid_size(allowed_mask, max_assignments)
    am_rows: list[dict[str, Any]] = []
    pm_rows: list[dict[str, Any]] = []
    glr = None
    joint = None
    if samples and n_grid <= max_assignments:
        case = sub.case
        if ignore_sex:
            case = replace(case, samples=[replace(s, sex=Sex.UNKNOWN) for s in case.samples])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = prepare_case(case)
        pw = pairwise_lr(prepared, cache=data.cache)
        joint = joint_identification(prepared, pw, top=n_grid,
                                     allowed=_allowed_mask(pw, sub.pairings), method="enumerate",
                                     component_limit=max(n_grid, DEFAULT_COMPONENT_LIMIT),
                                     cache=data.cache)
        table = joint_table(joint, sub.pairings)
        glr = pairwise_glr(table, missing)
        found = [(i, j) for j in range(len(missing)) for i in range(len(samples))
                 if glr.values[i, j] >= threshold - EPS]
        for i, j in found:
            s, m = samples[i], missing[j]
            match_row: dict[str, Any] = {
                "Family": family, "Missing": m, "Sample": s, "LR": lr.get(s, m),
                "Log10LR": lr.log10(s, m), "GLR": float(glr.values[i, j]),
                "Conclusion": MATCH_GLR, "Comment": comment}
            am_rows.append(match_row)
            pm_rows.append(dict(match_row))
        gone_s = {samples[i] for i, _ in found}
        gone_m = {missing[j] for _, j in found}
        rest, _ = _subset(sub, samples=[s for s in samples if s not in gone_s],
                          missing=[m for m in missing if m not in gone_m])
        sym = symmetric_glr(table, rest.samples, rest.missing, fam, threshold)
        if sym is not None:
            for sym_row in sym.am + sym.pm:
                pair = sym_row.pop("_lr_pair")
                sym_row["LR"] = lr.get(*pair) if pair is not None else None
                sym_row["Log10LR"] = lr.log10(*pair) if pair is not None else None
            am_rows += sym.am
            pm_rows += sym.pm
    out_am = []
    for m in missing:
        am_row = next((r for r in am_rows if r["Missing"] == m), None)
        if am_row is None:
            col_g = glr.column(m) if glr is not None else np.array([])
            col_lr = lr.column(m) if m in lr.missing else np.array([])
            am_row = {"Family": family, "Missing": m, "Sample": None, "LR": _safe_max(col_lr),
                      "Log10LR": lr.max_log10(m), "GLR": _safe_max(col_g),
                      "Conclusion": INCONCLUSIVE, "Comment": None}
        out_am.append(am_row)
    analysis = ComplexFamilyAnalysis(family, samples, missing, n_grid, joint, glr)
    return out_am, pm_rows, analysis


# ---------------------------------------------------------------------------
# The pipeline


def _first_rows(rows: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        k = r.get(key)
        if k is not None and k not in out:
            out[k] = r
    return out


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def solve_case(case: DVICase, *, threshold: float = 1e4, threshold2: float | None = None,
               max_incompatible: int = 2, ignore_sex: bool = False, limit: float = 0.0,
               strict: bool = False, max_assignments: int = 100_000,
               cache: PairwiseCache | None = None) -> DVISolution:
    """Conclusions for every missing person and sample of ``case`` (dvir ``dviSolve``).

    ``threshold`` is the LR (and GLR) needed for an identification,
    ``threshold2`` (default ``max(1, threshold / 10)``) the LR for
    "Probable", ``max_incompatible`` the number of Mendelian
    incompatibilities a pair may have before it is excluded, ``limit`` the
    LR a pair must exceed to stay a candidate after the undisputed step
    (0: positive), ``strict`` dvir's strict undisputed rule, and
    ``max_assignments`` the largest joint analysis of one family.

    ``cache`` keeps what the pairwise LRs need between the solve's
    recomputations (default: a fresh one for this solve); a caller that
    also computes the case's pairwise LRs, or solves it several times, can
    share one.
    """
    if threshold2 is None:
        threshold2 = max(1.0, threshold / 10)
    # Extend the markers with unseen alleles once, so that every sub-case has the same ones.
    case = replace(case, markers=list(prepare_case(case).markers))
    profiles = {s.id: s for s in case.samples}
    family_of_all = {m: f.name for f in case.families for m in f.missing}
    data = _Data(case, generate_pairings(case, ignore_sex),
                 cache if cache is not None else PairwiseCache())
    steps: list[SolveStep] = []
    am_rows: list[dict[str, Any]] = []
    pm_rows: list[dict[str, Any]] = []

    # 1. Nonidentifiable missing persons.
    non = find_nonidentifiable(case)
    if non:
        am_rows += [{"Family": f, "Missing": m, "Conclusion": NONIDENTIFIABLE, "Comment": c}
                    for f, m, c in non]
        gone = {m for _, m, _ in non}
        data, dropped = _subset(data, missing=[m for m in data.missing if m not in gone])
        steps.append(SolveStep("nonidentifiable", None,
                               f"{len(non)} missing person(s) unrelated to every reference"
                               + (f"; {len(dropped)} sample(s) left without candidates"
                                  if dropped else ""),
                               tuple(m for _, m, _ in non), tuple(dropped)))

    # 2. Exclusions and undisputed identifications until nothing changes.
    lr_first = lr_last = excl_first = None
    iteration = 0
    while True:
        iteration += 1
        _, counts = _lr_and_counts(data, ignore_sex)
        excl = find_excluded(data, counts, max_incompatible)
        if iteration == 1:
            excl_first = counts
        if excl.changed:
            am_rows += [{"Family": f, "Missing": m, "Conclusion": EXCLUDED, "Comment": c}
                        for f, m, c in excl.missing]
            pm_rows += [{"Sample": s, "Conclusion": EXCLUDED, "Comment": c}
                        for s, c in excl.samples]
            steps.append(SolveStep(
                "exclusion", iteration,
                f"{len(excl.samples)} sample(s) and {len(excl.missing)} missing person(s) "
                f"excluded; {excl.removed_pairs} pairing(s) with more than {max_incompatible} "
                "incompatible markers removed",
                tuple(m for _, m, _ in excl.missing), tuple(s for s, _ in excl.samples)))
            data = excl.reduced
        elif iteration > 1:
            break
        und = find_undisputed(data, profiles, threshold=threshold, limit=limit, strict=strict,
                              ignore_sex=ignore_sex)
        if iteration == 1:
            lr_first = und.first
        lr_last = und.last
        if not und.changed:
            break
        am_rows += und.rows
        pm_rows += und.rows
        ident = [r for r in und.rows if r["Conclusion"] == UNDISPUTED]
        left = [r["Sample"] for r in und.rows if r["Conclusion"] == EXCLUDED]
        steps.append(SolveStep(
            "undisputed", iteration,
            f"{len(ident)} undisputed identification(s)"
            + "".join(f"; {r['Sample']} = {r['Missing']} ({r['Comment']})" for r in ident)
            + (f"; excluded for lack of candidates: {', '.join(left)}" if left else "")
            + ("; pairings with LR 0 removed" if not und.rows else ""),
            tuple(r["Missing"] for r in ident), tuple(r["Sample"] for r in und.rows)))
        data = und.reduced

    # 3. Simple families.
    lr_mat = lr_last
    for fam in list(data.case.families):
        if len(fam.missing) != 1:
            continue
        m = fam.missing[0]
        if lr_mat is None or m not in lr_mat.missing or np.all(np.isnan(lr_mat.column(m))):
            steps.append(SolveStep("simple family", None, f"family {fam.name}: no LRs for {m}",
                                   (m,)))
            continue
        found = simple_family_conclusion(fam.name, m, lr_mat, threshold2)
        am_rows.append({"Family": found.family, "Missing": found.missing_person,
                        "Sample": found.sample, "LR": found.lr, "Log10LR": found.log10_lr,
                        "Conclusion": found.conclusion, "Comment": found.comment})
        steps.append(SolveStep("simple family", None,
                               f"family {fam.name}: {m} {found.conclusion}", (m,),
                               (found.sample,) if found.sample else ()))

    # 4. Complex families.
    analyses = []
    for name in [f.name for f in data.case.families if len(f.missing) > 1]:
        lr_use = lr_mat if lr_mat is not None else LRMatrix((), (), np.zeros((0, 0)))
        fam_am, fam_pm, analysis = complex_family(data, name, lr_use, threshold=threshold,
                                                  max_assignments=max_assignments,
                                                  ignore_sex=ignore_sex)
        analyses.append(analysis)
        am_rows += fam_am
        pm_rows += fam_pm
        steps.append(SolveStep(
            "complex family", None,
            f"family {name}: joint analysis of {', '.join(analysis.missing)} "
            f"({analysis.n_assignments} assignments"
            + (", skipped)" if analysis.joint is None else ")"),
            analysis.missing, tuple(r["Sample"] for r in fam_pm)))
        matched = {r["Sample"] for r in fam_pm}
        data, _ = _subset(data, families=[f.name for f in data.case.families if f.name != name],
                          samples=[s for s in data.samples if s not in matched],
                          remove_unpaired=False)

    # 5. Remaining samples.
    if data.samples and lr_mat is not None:
        for s in data.samples:
            if s not in lr_mat.samples or np.all(np.isnan(lr_mat.row(s))):
                continue
            concluded = sample_conclusion(s, lr_mat, threshold2, family_of_all)
            pm_rows.append({"Sample": concluded.sample, "Missing": concluded.missing_person,
                            "Family": concluded.family, "LR": concluded.lr,
                            "Log10LR": concluded.log10_lr,
                            "Conclusion": concluded.conclusion, "Comment": concluded.comment})
        steps.append(SolveStep("remaining samples", None,
                               f"{len(data.samples)} sample(s) concluded from their LRs",
                               (), data.samples))

    # Final tables: one row per missing person and per sample, first conclusion wins.
    am_first = _first_rows(am_rows, "Missing")
    pm_first = _first_rows(pm_rows, "Sample")
    am = []
    for fam_name, m in case.missing_persons:
        am_row = am_first.get(m, {})
        am.append(MissingPersonConclusion(fam_name, m, am_row.get("Sample"),
                                          _clean(am_row.get("LR")), _clean(am_row.get("GLR")),
                                          am_row.get("Conclusion"), am_row.get("Comment"),
                                          am_row.get("Log10LR")))
    pm = []
    for sample in case.samples:
        pm_row = pm_first.get(sample.id, {})
        pm.append(SampleConclusion(sample.id, pm_row.get("Missing"), pm_row.get("Family"),
                                   _clean(pm_row.get("LR")), _clean(pm_row.get("GLR")),
                                   pm_row.get("Conclusion"), pm_row.get("Comment"),
                                   pm_row.get("Log10LR")))
    params = {"threshold": threshold, "threshold2": threshold2,
              "max_incompatible": max_incompatible, "ignore_sex": ignore_sex, "limit": limit,
              "strict": strict, "max_assignments": max_assignments}
    return DVISolution(tuple(am), tuple(pm), tuple(steps), lr_first, lr_mat, excl_first,
                       tuple(analyses), params)


__all__ = [
    "ComplexFamilyAnalysis", "DVISolution", "JointTable", "LRMatrix", "MissingPersonConclusion",
    "SampleConclusion", "SolveStep", "find_excluded",
    "find_nonidentifiable", "find_undisputed", "generate_pairings", "joint_table",
    "pairwise_glr", "sample_conclusion", "simple_family_conclusion", "solve_case",
    "symmetric_glr", "undisputed_entries",
]
