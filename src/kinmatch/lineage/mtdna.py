"""mtDNA profiles as differences from the rCRS, their comparison and the maternal-line LR.

Notation
--------
A profile lists where a sequence differs from the revised Cambridge
Reference Sequence (rCRS; Andrews et al. 1999), one token per difference,
separated by spaces or commas:

=====================  ==========================================================
``16223T``             substitution: base T at position 16223
``A263G``              the same with the rCRS base written first (optional)
``249d``, ``249DEL``,  deletion of the base at 249 (``D`` always means a
``249-``               deletion here, never the IUPAC code D)
``315.1C``             insertion: one C after position 315 (``315.2C`` a second one;
                       ``315.1CC`` is read as ``315.1C 315.2C``)
``16093Y``             point heteroplasmy, IUPAC code: R (A/G), Y (C/T), M (A/C),
                       K (G/T), S (C/G), W (A/T)
``16129N``             an unresolved base: compatible with anything
=====================  ==========================================================

Tokens are case-insensitive and written canonically as ``16223T``,
``249DEL``, ``315.1C``, ``16093Y``, sorted by position. The *sequenced range*
is a set of intervals in rCRS coordinates such as ``16024-16569,1-576`` (or
``16024-576``, wrapping through the origin); every variant must lie in it.
No rCRS sequence is shipped: a position that is not listed carries the rCRS
base, whatever it is, and a heteroplasmy code is assumed to include the rCRS
base unless the token names the rCRS base and it is not included.

Comparison (SWGDAM 2019)
------------------------
Two profiles are compared over the overlap of their ranges. At each position
listed in either, the two states are a *difference* unless they can be the
same base: identical calls, a heteroplasmy and a base it contains (``16093Y``
against ``16093C``, or against no listing, i.e. the rCRS T), two heteroplasmies
sharing a base, or an ``N``. Length variants in the homopolymeric C-stretches
(insertions after 16184–16193, 303–315, 568–573) are ignored by default, as
the guidelines ignore length heteroplasmy there. Then: no difference —
*cannot exclude* (``MATCH``); one difference — ``INCONCLUSIVE``; two or more —
``EXCLUSION`` (the thresholds are parameters, for laboratories that set their own).

Frequency and LR
----------------
The frequency of the reference profile is counted in a user database over
the compared range (database profiles whose range does not cover it are left
out; a database profile counts when it cannot be excluded from the reference
by the rules above), and by default reported as the one-sided upper 95%
Clopper–Pearson bound (``1 - 0.05^(1/N)`` for an unseen profile), the bound
the SWGDAM guidelines describe. For a maternal-line relationship:

* match: ``LR = (1 - mu)^n / f_upper`` — ``mu`` an optional per-meiosis rate of
  mutation over the compared range, ``n`` the meioses on the maternal line
  (without ``mu`` the factor is 1);
* exclusion: ``LR = 0``;
* inconclusive: no LR (``None``) unless ``inconclusive_lr`` is given (1 is the
  neutral choice); the report should say why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TypedDict, Unpack

from kinmatch.errors import LineageError
from kinmatch.lineage.lines import maternal_line
from kinmatch.lineage.stats import FrequencyEstimate, counting_estimate
from kinmatch.pedigree import Pedigree

MT_LENGTH = 16569

IUPAC: Mapping[str, frozenset[str]] = {
    "A": frozenset("A"), "C": frozenset("C"), "G": frozenset("G"), "T": frozenset("T"),
    "R": frozenset("AG"), "Y": frozenset("CT"), "M": frozenset("AC"), "K": frozenset("GT"),
    "S": frozenset("CG"), "W": frozenset("AT"),
}
HETEROPLASMY_CODES = frozenset("RYMKSW")
DELETION = "DEL"
_REF = "ref"          # the rCRS state at a position not listed
_NO_INSERT = "none"   # no inserted base at an insertion slot

#: Insertions anchored in these ranges are C-stretch length variants, ignored by default.
C_STRETCHES: tuple[tuple[int, int], ...] = ((16184, 16193), (303, 315), (568, 573))

_TOKEN = re.compile(
    r"^(?P<ref>[ACGT])?(?P<pos>\d+)(?:\.(?P<ins>\d+))?(?P<alt>DEL|D|-|[ACGTRYMKSWN]+)$",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeqRange:
    """A set of rCRS positions as sorted, merged, inclusive intervals."""

    intervals: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> SeqRange:
        """``"16024-16569,1-576"``, ``"16024-576"`` (wraps), ``"1-16569"`` or ``"16519"``."""
        parts = [p for p in re.split(r"[,;\s]+", str(text).strip()) if p]
        if not parts:
            raise LineageError("the sequenced range is empty")
        intervals: list[tuple[int, int]] = []
        for part in parts:
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not m:
                raise LineageError(f"'{part}' is not a range of positions (such as 16024-16569)")
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else start
            for pos in (start, end):
                if not 1 <= pos <= MT_LENGTH:
                    raise LineageError(f"position {pos} is outside the mtDNA (1-{MT_LENGTH})")
            if start <= end:
                intervals.append((start, end))
            else:
                intervals.extend([(start, MT_LENGTH), (1, end)])
        return cls.of(intervals)

    @classmethod
    def of(cls, intervals: Iterable[tuple[int, int]]) -> SeqRange:
        merged: list[list[int]] = []
        for s, e in sorted(intervals):
            if merged and s <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return cls(tuple((s, e) for s, e in merged))

    def __contains__(self, pos: object) -> bool:
        return isinstance(pos, int) and any(s <= pos <= e for s, e in self.intervals)

    def __and__(self, other: SeqRange) -> SeqRange:
        out = []
        for s1, e1 in self.intervals:
            for s2, e2 in other.intervals:
                s, e = max(s1, s2), min(e1, e2)
                if s <= e:
                    out.append((s, e))
        return SeqRange.of(out)

    def covers(self, other: SeqRange) -> bool:
        return (self & other) == other

    def __len__(self) -> int:
        return sum(e - s + 1 for s, e in self.intervals)

    def __str__(self) -> str:
        return ",".join(f"{s}-{e}" if s != e else str(s) for s, e in self.intervals)


CONTROL_REGION = SeqRange.parse("16024-16569,1-576")


# ---------------------------------------------------------------------------
# Variants and profiles
# ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class MtVariant:
    """One difference from the rCRS: ``base`` is A/C/G/T, ``DEL``, an IUPAC code or N;
    ``insertion`` is 0 for a substitution or deletion, k for the k-th inserted base."""

    position: int
    insertion: int
    base: str
    ref: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.position, self.insertion)

    @property
    def is_heteroplasmy(self) -> bool:
        return self.base in HETEROPLASMY_CODES

    def __str__(self) -> str:
        where = f"{self.position}.{self.insertion}" if self.insertion else str(self.position)
        return f"{where}{self.base}"


def parse_variants(text: str | Iterable[str]) -> tuple[MtVariant, ...]:
    """Parse difference tokens (``"16093C 16223T 263G 315.1C 249DEL 16093Y"``) into variants."""
    tokens = [t for t in re.split(r"[,;\s]+", text.strip()) if t] if isinstance(text, str) \
        else [str(t).strip() for t in text if str(t).strip()]
    out: dict[tuple[int, int], MtVariant] = {}
    for token in tokens:
        m = _TOKEN.match(token)
        if not m:
            raise LineageError(
                f"'{token}' is not an mtDNA difference from the rCRS (expected e.g. 16223T, "
                "249DEL, 315.1C or 16093Y)"
            )
        pos = int(m.group("pos"))
        if not 1 <= pos <= MT_LENGTH:
            raise LineageError(f"'{token}': position {pos} is outside the mtDNA (1-{MT_LENGTH})")
        ins = int(m.group("ins")) if m.group("ins") else 0
        alt = m.group("alt").upper()
        ref = m.group("ref").upper() if m.group("ref") else None
        if alt in ("D", "DEL", "-"):
            if ins:
                raise LineageError(f"'{token}': an insertion slot cannot be deleted")
            bases = [DELETION]
        elif len(alt) > 1:
            if not ins:
                raise LineageError(f"'{token}': several bases are only allowed for an insertion "
                                   "(such as 315.1CC)")
            bases = list(alt)
        else:
            bases = [alt]
        if ref is not None and ins:
            raise LineageError(f"'{token}': an insertion has no rCRS base")
        if ref is not None and alt in IUPAC and len(IUPAC[alt]) == 1 and alt == ref:
            raise LineageError(f"'{token}' names the rCRS base itself: not a difference")
        for k, base in enumerate(bases):
            variant = MtVariant(pos, ins + k if ins else 0, base, ref)
            if variant.key in out and out[variant.key].base != base:
                raise LineageError(f"'{token}' contradicts '{out[variant.key]}' at the same "
                                   "position")
            out[variant.key] = variant
    return tuple(sorted(out.values()))


@dataclass(frozen=True)
class MtProfile:
    """An mtDNA profile: its differences from the rCRS and the range sequenced."""

    sample: str
    variants: tuple[MtVariant, ...]
    range: SeqRange

    def __post_init__(self) -> None:
        for v in self.variants:
            if v.position not in self.range:
                raise LineageError(
                    f"{self.sample}: variant {v} lies outside the sequenced range {self.range}")

    def __hash__(self) -> int:
        # worked out once: a profile keys the caches of every comparison it is in
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.sample, self.variants, self.range))
            object.__setattr__(self, "_hash", found)
        return found

    @property
    def notation(self) -> str:
        return " ".join(str(v) for v in self.variants)

    def by_key(self) -> dict[tuple[int, int], MtVariant]:
        return {v.key: v for v in self.variants}

    def __str__(self) -> str:
        return f"{self.sample} [{self.range}]: {self.notation}"


def parse_mt_profile(variants: str | Iterable[str], range: str | SeqRange = CONTROL_REGION,
                     sample: str = "") -> MtProfile:
    """A profile from difference tokens and a range (default the control region 16024-576)."""
    seq_range = range if isinstance(range, SeqRange) else SeqRange.parse(range)
    return MtProfile(sample, parse_variants(variants), seq_range)


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


# not StrEnum: str() and format() of a member give 'MtConclusion.MATCH', as they always have
class MtConclusion(str, Enum):  # noqa: UP042
    MATCH = "cannot exclude"
    INCONCLUSIVE = "inconclusive"
    EXCLUSION = "exclusion"


@dataclass(frozen=True)
class MtDifference:
    """A position where two profiles cannot carry the same base."""

    position: int
    insertion: int
    a: str
    b: str

    def __str__(self) -> str:
        where = f"{self.position}.{self.insertion}" if self.insertion else str(self.position)
        return f"{where}: {self.a} / {self.b}"


@dataclass(frozen=True)
class MtComparison:
    """The comparison of two profiles over ``range`` (the overlap of their ranges)."""

    a: str
    b: str
    range: SeqRange
    differences: tuple[MtDifference, ...]
    shared_heteroplasmy: tuple[str, ...]
    ignored: tuple[str, ...]
    conclusion: MtConclusion


def _state_set(variant: MtVariant | None, insertion_slot: bool, ref_base: str | None,
               against_ref: bool = False) -> frozenset[str] | None:
    """The bases a state may be; ``None`` for a wildcard (N). ``against_ref``: the other
    profile carries the rCRS base here (two listed heteroplasmies are compared by their
    bases alone)."""
    if variant is None:
        if insertion_slot:
            return frozenset({_NO_INSERT})
        return frozenset({ref_base}) if ref_base else frozenset({_REF})
    if variant.base == "N":
        return None
    if variant.base == DELETION:
        return frozenset({DELETION})
    bases = IUPAC[variant.base]
    if variant.is_heteroplasmy and not insertion_slot and ref_base is None and against_ref:
        return bases | {_REF}            # assumed to include the (unknown) rCRS base
    return bases


def _label(variant: MtVariant | None) -> str:
    return str(variant) if variant is not None else "rCRS"


def _in_c_stretch(pos: int) -> bool:
    return any(s <= pos <= e for s, e in C_STRETCHES)


def compare_profiles(a: MtProfile, b: MtProfile, range: SeqRange | str | None = None,
                     ignore_c_stretch_length: bool = True,
                     ignore_positions: Iterable[int] = (),
                     exclusion_differences: int = 2,
                     inconclusive_differences: int = 1) -> MtComparison:
    """Compare two profiles over the overlap of their ranges (and ``range`` if given)."""
    target = None if range is None else (
        range if isinstance(range, SeqRange) else SeqRange.parse(range))
    found = _comparison(a.variants, a.range, b.variants, b.range, target,
                        ignore_c_stretch_length, frozenset(ignore_positions),
                        exclusion_differences, inconclusive_differences)
    if found is None:
        raise LineageError(f"the sequenced ranges of {a.sample} ({a.range}) and {b.sample} "
                           f"({b.range}) do not overlap")
    overlap, diffs, shared, ignored, conclusion = found
    return MtComparison(a.sample, b.sample, overlap, diffs, shared, ignored, conclusion)


#: What a comparison finds: the range compared, the differences, the shared
#: heteroplasmies, the variants ignored and the conclusion.
_Found = tuple[SeqRange, tuple[MtDifference, ...], tuple[str, ...], tuple[str, ...],
               MtConclusion]


@lru_cache(maxsize=65536)  # profiles recur: a case compares every sample with every relative
def _comparison(va_variants: tuple[MtVariant, ...], a_range: SeqRange,
                vb_variants: tuple[MtVariant, ...], b_range: SeqRange,
                range: SeqRange | None, ignore_c_stretch_length: bool,
                skip: frozenset[int], exclusion_differences: int,
                inconclusive_differences: int) -> _Found | None:
    """:func:`compare_profiles` of two profiles given by their variants and ranges
    (``None`` when the ranges do not overlap)."""
    overlap = a_range & b_range
    if range is not None:
        overlap = overlap & range
    if len(overlap) == 0:
        return None
    va = {v.key: v for v in va_variants}
    vb = {v.key: v for v in vb_variants}
    diffs: list[MtDifference] = []
    shared: list[str] = []
    ignored: list[str] = []
    for key in sorted(set(va) | set(vb)):
        pos, ins = key
        if pos not in overlap:
            continue
        x, y = va.get(key), vb.get(key)
        if pos in skip or (ins and ignore_c_stretch_length and _in_c_stretch(pos)):
            ignored.append(str(x or y))
            continue
        ref_base = (x.ref if x is not None and x.ref else None) or (
            y.ref if y is not None and y.ref else None)
        sx = _state_set(x, ins > 0, ref_base, against_ref=y is None)
        sy = _state_set(y, ins > 0, ref_base, against_ref=x is None)
        if sx is None or sy is None or sx & sy:
            if (x is not None and x.is_heteroplasmy) or (y is not None and y.is_heteroplasmy):
                shared.append(f"{_label(x)} / {_label(y)}")
            continue
        diffs.append(MtDifference(pos, ins, _label(x), _label(y)))
    if len(diffs) >= exclusion_differences:
        conclusion = MtConclusion.EXCLUSION
    elif len(diffs) >= inconclusive_differences:
        conclusion = MtConclusion.INCONCLUSIVE
    else:
        conclusion = MtConclusion.MATCH
    return overlap, tuple(diffs), tuple(shared), tuple(ignored), conclusion


# ---------------------------------------------------------------------------
# Databases and frequencies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MtDatabase:
    """A population sample of mtDNA profiles (one per unrelated person)."""

    profiles: tuple[MtProfile, ...]
    name: str = ""

    def __len__(self) -> int:
        return len(self.profiles)






class MtCompareOptions(TypedDict, total=False):
    """Keyword options of :func:`compare_profiles` that decide which differences count
    (passed on by :func:`mt_frequency` and :func:`mt_lineage_lr`)."""

    ignore_c_stretch_length: bool
    ignore_positions: Iterable[int]
    exclusion_differences: int
    inconclusive_differences: int


#: a profile's plain differences from the rCRS: ((position, insertion), base) pairs
_Signature = frozenset[tuple[tuple[int, int], str]]


def _plain_signature(profile: MtProfile, target: SeqRange, options: MtCompareOptions
                     ) -> _Signature | None:
    """The profile's differences from the rCRS inside ``target`` (those
    :func:`compare_profiles` does not ignore), when every one is a single
    base or a deletion that differs from the listed reference base; else
    ``None``. Two such profiles are a match (no difference) exactly when
    these sets are equal: a listed base is never compatible with an absent
    variant (the rCRS base or, at an insertion slot, no base), nor with
    another single base. ``None`` as well when the options let a match
    have differences."""
    if len(target) == 0 or min(
            int(options.get("exclusion_differences", 2)),
            int(options.get("inconclusive_differences", 1))) != 1:
        return None
    skip = set(options.get("ignore_positions", ()))
    ignore_c = bool(options.get("ignore_c_stretch_length", True))
    out = set()
    for v in profile.variants:
        pos, ins = v.key
        if pos not in target:
            continue
        if pos in skip or (ins and ignore_c and _in_c_stretch(pos)):
            continue
        if not ((v.base in "ACGT" and len(v.base) == 1) or v.base == DELETION) or v.base == v.ref:
            return None
        out.add((v.key, v.base))
    return frozenset(out)


def _comparable_signatures(database: MtDatabase, target: SeqRange, options: MtCompareOptions
                           ) -> list[tuple[MtProfile, _Signature | None]]:
    """The database profiles covering ``target`` with their
    :func:`_plain_signature`, kept with the database per range and options
    (a case looks up every sample's profile in one database)."""
    key = (target.intervals, tuple(sorted((k, str(v)) for k, v in options.items())))
    store: dict[object, list[tuple[MtProfile, _Signature | None]]] = \
        database.__dict__.setdefault("_signatures", {})
    found = store.get(key)
    if found is None:
        if len(store) > 64:
            store.clear()
        found = store[key] = [(p, _plain_signature(p, target, options))
                              for p in database.profiles if p.range.covers(target)]
    return found


def mt_frequency(profile: MtProfile, database: MtDatabase, range: SeqRange | str | None = None,
                 method: str = "clopper_pearson", confidence: float = 0.95,
                 **compare_options: Unpack[MtCompareOptions]) -> FrequencyEstimate:
    """Count the database profiles that cannot be excluded from ``profile`` over ``range``
    (default: the profile's range); profiles not covering the range are left out."""
    target = profile.range if range is None else (
        (range if isinstance(range, SeqRange) else SeqRange.parse(range)) & profile.range)
    comparable = _comparable_signatures(database, target, compare_options)
    signature = _plain_signature(profile, target, compare_options)
    x = 0
    for p, other in comparable:
        if signature is not None and other is not None:
            x += other == signature  # both plain: a match is the same differences
            continue
        x += compare_profiles(profile, p, target,
                              **compare_options).conclusion == MtConclusion.MATCH
    note = (f"range {target} ({len(target)} bp); {len(database) - len(comparable)} database "
            "profiles not covering it left out")
    return counting_estimate(x, len(comparable), method, confidence, note)


# ---------------------------------------------------------------------------
# The LR
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MtLineageResult:
    """The mtDNA maternal-line evaluation: the comparison, the frequency and the LR.

    ``lr`` is ``None`` for an inconclusive comparison unless an
    ``inconclusive_lr`` was chosen; ``note`` says what was done.
    """

    remains: str
    reference: str
    meioses: int | None
    comparison: MtComparison
    frequency: FrequencyEstimate | None
    mutation_factor: float
    lr: float | None
    note: str = ""

    @property
    def conclusion(self) -> MtConclusion:
        return self.comparison.conclusion

    @property
    def log10_lr(self) -> float | None:
        if self.lr is None:
            return None
        return math.log10(self.lr) if self.lr > 0 else float("-inf")


def mt_lineage_lr(remains: MtProfile, reference: MtProfile, database: MtDatabase | None = None,
                  meioses: int | None = None, frequency: float | FrequencyEstimate | None = None,
                  method: str = "clopper_pearson", confidence: float = 0.95,
                  mutation_rate: float | None = None, inconclusive_lr: float | None = None,
                  frequency_of: str = "reference", *, range: SeqRange | str | None = None,
                  **compare_options: Unpack[MtCompareOptions]) -> MtLineageResult:
    """Evaluate remains against a maternal relative: match / inconclusive / exclusion and the LR.

    Match: ``LR = (1 - mutation_rate)^meioses / f`` (factor 1 without a rate);
    exclusion: 0; inconclusive: ``inconclusive_lr`` (default ``None``: no LR).
    ``f`` is counted over the compared range (``method``, default the upper
    ``confidence`` Clopper–Pearson bound) unless ``frequency`` is given. ``range`` and
    ``compare_options`` go to :func:`compare_profiles`.
    """
    comparison = compare_profiles(remains, reference, range, **compare_options)
    factor = 1.0
    if mutation_rate is not None:
        if not 0 <= mutation_rate < 1:
            raise LineageError(f"mutation_rate must lie in [0, 1), not {mutation_rate}")
        if meioses is None:
            raise LineageError("a mutation rate needs the number of meioses")
        factor = (1.0 - mutation_rate) ** meioses
    if comparison.conclusion == MtConclusion.EXCLUSION:
        return MtLineageResult(remains.sample, reference.sample, meioses, comparison, None,
                               factor, 0.0, f"{len(comparison.differences)} differences: exclusion")
    if comparison.conclusion == MtConclusion.INCONCLUSIVE:
        note = "1 difference: inconclusive; " + (
            "no LR reported" if inconclusive_lr is None else f"LR set to {inconclusive_lr}")
        return MtLineageResult(remains.sample, reference.sample, meioses, comparison, None,
                               factor, inconclusive_lr, note)
    if frequency_of not in ("reference", "remains"):
        raise LineageError(f"frequency_of must be 'reference' or 'remains', not '{frequency_of}'")
    target = reference if frequency_of == "reference" else remains
    if frequency is None:
        if database is None:
            raise LineageError("give a database or a frequency for the mtDNA LR")
        estimate = mt_frequency(target, database, comparison.range, method, confidence,
                                **compare_options)
    elif isinstance(frequency, FrequencyEstimate):
        estimate = frequency
    else:
        estimate = FrequencyEstimate(float(frequency), "given", None, 0)
    if not 0 < estimate.value <= 1:
        raise LineageError(f"a profile frequency must lie in (0, 1], not {estimate.value}")
    return MtLineageResult(remains.sample, reference.sample, meioses, comparison, estimate, factor,
                           factor / estimate.value, "no difference: cannot exclude")


class MtLineageOptions(MtCompareOptions, total=False):
    """Keyword options of :func:`mt_lineage_lr` other than the meioses."""

    database: MtDatabase | None
    frequency: float | FrequencyEstimate | None
    method: str
    confidence: float
    mutation_rate: float | None
    inconclusive_lr: float | None
    frequency_of: str
    range: SeqRange | str | None


def mt_lineage_lr_in_pedigree(pedigree: Pedigree, remains_id: str, reference_id: str,
                              remains: MtProfile, reference: MtProfile,
                              **options: Unpack[MtLineageOptions]) -> MtLineageResult | None:
    """:func:`mt_lineage_lr` with the meioses of the pedigree's maternal line; ``None`` when the
    two share no mtDNA lineage in the pedigree (the mtDNA is then uninformative: LR 1)."""
    link = maternal_line(pedigree, remains_id, reference_id)
    if link is None:
        return None
    return mt_lineage_lr(remains, reference, meioses=link.meioses, **options)

