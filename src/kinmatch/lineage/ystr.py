"""Y-STR haplotypes and the paternal-line likelihood ratio.

Haplotypes
----------
A :class:`YHaplotype` maps locus names to the alleles seen there, as a sorted
tuple of canonical allele names:

* single-copy locus: ``("14",)``; microvariants keep their partial repeat
  (``"18.2"`` is 18 repeats and 2 bases);
* multi-copy locus (DYS385a/b, DYF387S1a/b): an *unordered* tuple of the
  copies, ``("11", "14")``; one peak at a two-copy locus means both copies
  carry it (``"11"`` -> ``("11", "11")``);
* duplicated allele at a single-copy locus (``"DYS19 14,15"``): two copies
  ``("14", "15")``;
* null allele (``"0"``, ``"null"``): the empty tuple ``()`` — an observed
  state (a deletion or primer-site variant), inherited like an allele;
* a locus that was not typed (absent from the table, or an empty / ``NA`` /
  ``-`` cell) is simply missing from the mapping and is left out of every
  comparison. For degraded remains this is the safe reading of an absent
  locus; write ``0`` for a null allele.

The paternal-line LR
--------------------
For remains ``R`` and a reference man ``F`` whom the pedigree puts ``n``
meioses apart on one paternal line (``H1``), against ``F`` unrelated (``H2``)::

    LR = P(h_F, h_R | H1) / P(h_F, h_R | H2)
       = f(h_R) P(h_F | h_R, n) / (f(h_R) f(h_F))
       = P(h_F | h_R, n) / f(h_F)

The remains' haplotype frequency cancels; ``f(h_F)`` is the frequency of the
reference haplotype (``frequency_of="remains"`` uses ``f(h_R)`` instead, the
other common convention; the two agree when the haplotypes are identical).
Loci mutate independently; at locus ``l`` with per-meiosis rate ``mu_l`` a
meiosis changes the allele by one repeat, up or down with probability 1/2
(optionally a fraction of mutations are two-step). With a symmetric model the
difference between two men ``n`` meioses apart along the line has the same
distribution as the change along ``n`` meioses from one to the other, so
``P(h_F | h_R, n) = prod_l P_n(d_l)``, where ``d_l`` is the repeat difference at
locus ``l`` and ``P_n`` its ``n``-meiosis distribution:

    P_n(d) = sum_{k >= |d|, k = d mod 2} C(n, k) mu^k (1 - mu)^(n - k) C(k, (k + d)/2) / 2^k

(``k`` mutations, of which ``(k + d)/2`` up). With multi-step mutations the
distribution is the ``n``-fold convolution of the one-meiosis step
distribution. Mismatches are allowed: each lowers the LR by the small
probability of the mutations it needs (a difference larger than ``n`` steps
has probability 0 in the single-step model, hence LR 0 — set
``multistep_fraction`` to allow two-step changes).

Multi-copy loci: the published rate is per locus, so each of the ``c``
copies mutates at ``mu_l / c``; the unordered reference copies are summed
over their distinct assignments to the remains' copies. A duplicated allele at
a single-copy locus is inherited as a duplicated locus whose copies each
mutate at ``mu_l``. Changes the stepwise model cannot make — a null allele
against an allele, a different number of copies, or a change of the partial
repeat (``18`` against ``18.2``) — get the probability ``1 - (1 - r)^n`` with
``r = other_change_rate`` per meiosis (default 1e-6, an assumption of this
module, not a published estimate: set it from your laboratory's data). A
different copy number gets ``(1 - (1 - r)^n)`` times the stepwise probability
of the copies that correspond, averaged over the ``C`` equally likely
correspondences (docs/lineage.md gives the table of these rules).

DYS389I and DYS389II overlap (DYS389II spans the DYS389I block): when both
are compared, DYS389II enters as the "B" block ``DYS389II - DYS389I`` with
the rate ``max(rate(DYS389II) - rate(DYS389I), DYS389B_MIN_RATE)``, so that a
mutation of the shared block is charged once; the discrete Laplace model
uses the same representation.

The loci compared are those typed in both profiles and, when a database is
given, present in it (:attr:`YDatabase.typed_loci`); the loci left out are
reported, with a warning. A database with no comparable entry (``N = 0``)
is an error, never a frequency of 1.

Haplotype frequencies
---------------------
:func:`haplotype_frequency` counts the reference haplotype in a database over
the loci compared (database entries not typed at all of them are left out),
with ``"count_plus_one"`` ``(x + 1)/(N + 1)`` (the default), the
``"clopper_pearson"`` upper bound (SWGDAM 2014), ``"kappa"`` (Brenner 2010:
an unseen haplotype gets ``(1 - kappa)/N``, kappa the fraction of the database
that are singletons) or ``"discrete_laplace"`` (a mixture of discrete Laplace
distributions fitted by EM, after Andersen, Eriksen & Morling 2013; see
:class:`DiscreteLaplaceModel`). The module docs (docs/lineage.md) discuss the
choice and the references.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypedDict, Unpack

import numpy as np
from scipy.special import logsumexp

from kinmatch.errors import LineageError, Location, warn
from kinmatch.lineage.lines import paternal_line
from kinmatch.lineage.stats import COUNTING_METHODS, FrequencyEstimate, counting_estimate
from kinmatch.pedigree import Pedigree

# ---------------------------------------------------------------------------
# Loci and mutation rates
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YLocus:
    """A Y-STR locus: its name, per-meiosis mutation rate, number of copies and the rate's
    source."""

    name: str
    mutation_rate: float
    copies: int = 1
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.mutation_rate < 1:
            raise LineageError(
                f"the mutation rate of {self.name} must lie in [0, 1), not {self.mutation_rate}"
            )
        if self.copies < 1:
            raise LineageError(f"{self.name} must have at least one copy, not {self.copies}")


_YHRD = "YHRD release 61 (June 2019) via Genes 2020;11:566, Table 1"
_APPROX = ("APPROXIMATE: single-study estimate (Sci Rep 2019;9:9032, Table 1, 1166 meioses); "
           "verify against current YHRD rates")

#: Default per-locus, per-meiosis mutation rates of the 27 loci (25 markers) of a
#: Yfiler Plus-style kit. The 23 single-copy loci are the YHRD (release 61,
#: June 2019) father-son estimates as tabulated in Genes 2020;11(5):566,
#: Table 1 (a secondary source: check them against the current YHRD
#: mutation-rate page before casework). DYS385a/b and DYF387S1a/b are not in
#: that table; their values are single-study estimates (Sci Rep
#: 2019;9:9032, Table 1) and are marked APPROXIMATE. Rates depend on the
#: population, allele length and father's age (Ballantyne et al. 2010;
#: Goedbloed et al. 2009); a laboratory should supply its own table with
#: :func:`read_y_loci`.
YFILER_PLUS_RATES: tuple[YLocus, ...] = (
    YLocus("DYS576", 1.26e-2, 1, _YHRD),
    YLocus("DYS389I", 2.72e-3, 1, _YHRD),
    YLocus("DYS635", 4.21e-3, 1, _YHRD),
    YLocus("DYS389II", 4.33e-3, 1, _YHRD),
    YLocus("DYS627", 1.32e-2, 1, _YHRD),
    YLocus("DYS460", 5.82e-3, 1, _YHRD),
    YLocus("DYS458", 6.17e-3, 1, _YHRD),
    YLocus("DYS19", 2.20e-3, 1, _YHRD),
    YLocus("YGATAH4", 3.01e-3, 1, _YHRD),
    YLocus("DYS448", 1.39e-3, 1, _YHRD),
    YLocus("DYS391", 2.53e-3, 1, _YHRD),
    YLocus("DYS456", 4.41e-3, 1, _YHRD),
    YLocus("DYS390", 2.08e-3, 1, _YHRD),
    YLocus("DYS438", 3.51e-4, 1, _YHRD),
    YLocus("DYS392", 4.96e-4, 1, _YHRD),
    YLocus("DYS518", 1.46e-2, 1, _YHRD),
    YLocus("DYS570", 1.14e-2, 1, _YHRD),
    YLocus("DYS437", 1.32e-3, 1, _YHRD),
    YLocus("DYS385", 6.86e-3, 2, _APPROX),
    YLocus("DYS449", 9.44e-3, 1, _YHRD),
    YLocus("DYS393", 1.07e-3, 1, _YHRD),
    YLocus("DYS439", 5.46e-3, 1, _YHRD),
    YLocus("DYS481", 4.88e-3, 1, _YHRD),
    YLocus("DYF387S1", 1.115e-2, 2, _APPROX),
    YLocus("DYS533", 3.68e-3, 1, _YHRD),
)

_ALIASES = {
    "GATAH4": "YGATAH4", "YGATAH41": "YGATAH4", "GATAH41": "YGATAH4",
    "DYS385AB": "DYS385", "DYF387S1AB": "DYF387S1",
}


@lru_cache(maxsize=4096)  # a few dozen names, looked up for every haplotype read
def canonical_locus(name: str) -> str:
    """A locus name for matching: upper case, without spaces, ``_ - . /``; known aliases
    mapped (``Y-GATA-H4`` -> ``YGATAH4``, ``DYS385a/b`` -> ``DYS385``)."""
    key = re.sub(r"[\s_\-./]+", "", str(name)).upper()
    return _ALIASES.get(key, key)


class YLocusTable:
    """The loci of a kit, in order, with rates and copy numbers; looks loci up by any alias."""

    def __init__(self, loci: Iterable[YLocus]) -> None:
        self.loci: tuple[YLocus, ...] = tuple(loci)
        self._by_key: dict[str, YLocus] = {}
        for locus in self.loci:
            key = canonical_locus(locus.name)
            if key in self._by_key:
                raise LineageError(f"locus {locus.name} is listed twice")
            self._by_key[key] = locus
        #: the DYS389I and DYS389II loci, when the table has both (:func:`dys389_loci`)
        self.dys389: tuple[YLocus, YLocus] | None = (
            (self["DYS389I"], self["DYS389II"]) if "DYS389I" in self and "DYS389II" in self
            else None)

    def __iter__(self):
        return iter(self.loci)

    def __len__(self) -> int:
        return len(self.loci)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_locus(name) in self._by_key

    def __getitem__(self, name: str) -> YLocus:
        try:
            return self._by_key[canonical_locus(name)]
        except KeyError:
            raise LineageError(f"unknown Y-STR locus '{name}'") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(locus.name for locus in self.loci)

    def resolve(self, name: str) -> tuple[YLocus, int | None] | None:
        """The locus a column or row title names, and the copy (0 for ``a``, 1 for ``b``, ...)
        when it names one copy of a multi-copy locus (``DYS385a``); ``None`` if unknown."""
        key = canonical_locus(name)
        if key in self._by_key:
            return self._by_key[key], None
        if len(key) > 1 and key[-1] in "ABCD" and key[:-1] in self._by_key:
            locus = self._by_key[key[:-1]]
            copy = "ABCD".index(key[-1])
            if locus.copies > 1 and copy < locus.copies:
                return locus, copy
        return None


YFILER_PLUS = YLocusTable(YFILER_PLUS_RATES)

#: The smallest per-meiosis rate given to the DYS389 "B" block (DYS389II - DYS389I)
#: when ``rate(DYS389II) - rate(DYS389I)`` is smaller (a locus table whose DYS389II
#: rate is not above its DYS389I rate). An assumption of this module.
DYS389B_MIN_RATE = 1e-4
#: DYS389 is a tetranucleotide repeat: partial repeats are counted in bases of 4.
_DYS389_UNIT = 4


def dys389_loci(table: YLocusTable) -> tuple[YLocus, YLocus] | None:
    """The table's DYS389I and DYS389II loci, when it has both (``None`` otherwise)."""
    return table.dys389


def dys389b_rate(first: YLocus, second: YLocus) -> float:
    """The per-meiosis rate of the DYS389 "B" block (DYS389II - DYS389I):
    ``max(rate(DYS389II) - rate(DYS389I), DYS389B_MIN_RATE)``.

    DYS389II spans the DYS389I repeat block, so a mutation counted at DYS389II
    (YHRD's father-son rates) is one in the I block or in the B block; the
    rate of the B block alone is the difference of the two published rates.
    """
    return max(second.mutation_rate - first.mutation_rate, DYS389B_MIN_RATE)


def dys389b_alleles(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...] | None:
    """The DYS389 "B" block allele ``DYS389II - DYS389I`` (``("16",)`` from ``("13",)`` and
    ``("29",)``), or ``None`` when either is not one allele (null, duplicated) or the
    difference is not positive."""
    if len(first) != 1 or len(second) != 1:
        return None
    r1, e1 = parse_allele(first[0])
    r2, e2 = parse_allele(second[0])
    bases = (r2 * _DYS389_UNIT + e2) - (r1 * _DYS389_UNIT + e1)
    if bases <= 0:
        return None
    return (allele_name(divmod(bases, _DYS389_UNIT)),)




# ---------------------------------------------------------------------------
# Alleles and haplotypes
# ---------------------------------------------------------------------------

_ALLELE = re.compile(r"^(\d+)(?:\.(\d)0*)?$")
#: Haplotype table values that mean a null (deleted) allele.
Y_NULL_VALUES = {"0", "null", "nul", "del"}
#: Haplotype table values that mean the locus was not typed.
Y_UNTYPED_VALUES = {"", "na", "nan", "-", "?", "none", "nd", "nr"}
#: What separates the alleles of a multi-copy locus in one cell (``11,14``, ``11/14``).
Y_VALUE_SEPARATORS = re.compile(r"[,/;\s]+")


@lru_cache(maxsize=65536)  # a few hundred allele names, parsed in every comparison
def parse_allele(text: str) -> tuple[int, int]:
    """``"18.2"`` -> ``(18, 2)`` (repeats, extra bases); a :class:`LineageError` otherwise."""
    match = _ALLELE.match(text.strip())
    if not match:
        raise LineageError(
            f"'{text}' is not a Y-STR allele (expected a repeat number such as 14 or 18.2; "
            "0 or null for a null allele; empty or NA for an untyped locus)"
        )
    return int(match.group(1)), int(match.group(2) or 0)


def allele_name(value: tuple[int, int]) -> str:
    repeats, extra = value
    return f"{repeats}.{extra}" if extra else str(repeats)


def _sort_key(name: str) -> tuple[int, int]:
    return parse_allele(name)


def normalise_alleles(values: Sequence[str], copies: int = 1) -> tuple[str, ...] | None:
    """The canonical allele tuple of a locus from the allele texts given for it.

    ``None`` for an untyped locus, ``()`` for a null allele. One distinct
    value at a ``copies``-copy locus fills every copy (``11`` at DYS385 is
    ``11,11``; ``14,14`` at DYS19 is ``14``). Null entries next to alleles
    (``11,0``) are dropped, leaving fewer copies.
    """
    return _normalised(tuple(str(v) for v in values), copies)


@lru_cache(maxsize=65536)  # the same few cells recur in every haplotype of a database
def _normalised(values: tuple[str, ...], copies: int) -> tuple[str, ...] | None:
    texts = [t for v in values for t in Y_VALUE_SEPARATORS.split(v.strip()) if t]
    lowered = [t.lower() for t in texts]
    if not texts or all(t in Y_UNTYPED_VALUES for t in lowered):
        return None
    if any(t in Y_UNTYPED_VALUES for t in lowered):
        raise LineageError(f"'{' '.join(texts)}' mixes an untyped mark with alleles")
    alleles = [allele_name(parse_allele(t)) for t, low in zip(texts, lowered)
               if low not in Y_NULL_VALUES and parse_allele(t) != (0, 0)]
    if not alleles:
        return ()
    distinct = sorted(set(alleles), key=_sort_key)
    if len(alleles) == copies:
        return tuple(sorted(alleles, key=_sort_key))
    if len(distinct) == 1:
        return tuple(distinct * copies)
    if len(distinct) <= copies:
        return tuple(distinct)
    return tuple(sorted(alleles, key=_sort_key))


@dataclass(frozen=True, eq=False)
class YHaplotype:
    """A Y-STR haplotype: ``alleles[locus]`` is the sorted allele tuple (``()`` = null allele);
    untyped loci are absent. Locus names are the locus table's names."""

    sample: str
    alleles: Mapping[str, tuple[str, ...]]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, YHaplotype) and dict(self.alleles) == dict(other.alleles)

    def __hash__(self) -> int:
        # worked out once: a haplotype keys the caches of every comparison it is in
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(sorted(self.alleles.items())))
            object.__setattr__(self, "_hash", found)
        return found

    @property
    def loci(self) -> tuple[str, ...]:
        return tuple(self.alleles)

    def get(self, locus: str) -> tuple[str, ...] | None:
        return self.alleles.get(locus)

    def key(self, loci: Sequence[str]) -> tuple[tuple[str, ...], ...] | None:
        """The alleles at ``loci`` (for counting), or ``None`` if one of them is untyped."""
        out = []
        for locus in loci:
            value = self.alleles.get(locus)
            if value is None:
                return None
            out.append(value)
        return tuple(out)

    def __str__(self) -> str:
        parts = [f"{k}={','.join(v) if v else '0'}" for k, v in self.alleles.items()]
        return f"{self.sample}: " + " ".join(parts)


def make_haplotype(sample: str, alleles: Mapping[str, object],
                   loci: YLocusTable = YFILER_PLUS) -> YHaplotype:
    """A haplotype from ``{locus: "14" | "11,14" | ["11", "14"] | "0" | ""}``.

    Locus names may use any alias; ``DYS385a``/``DYS385b`` keys are merged.
    """
    collected: dict[str, list[str]] = {}
    for name, value in alleles.items():
        resolved = loci.resolve(name)
        if resolved is None:
            raise LineageError(f"unknown Y-STR locus '{name}' (not in the locus table)",
                               Location(field=str(name)))
        locus, _ = resolved
        values = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        collected.setdefault(locus.name, []).extend(values)
    out: dict[str, tuple[str, ...]] = {}
    for locus in loci:
        if locus.name in collected:
            try:
                value = normalise_alleles(collected[locus.name], locus.copies)
            except LineageError as err:
                raise err.at(field=locus.name) from None
            if value is not None:
                out[locus.name] = value
    return YHaplotype(sample, out)




# ---------------------------------------------------------------------------
# Mutation model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YMutationModel:
    """The per-meiosis mutation model of every locus.

    ``multistep_fraction`` of mutations change the allele by two repeats (the
    rest by one); the default 0 is the single-step model. Ballantyne et al.
    (2010) observed single- to multi-step changes at about 25:1 (a fraction
    near 0.04). ``other_change_rate`` is the per-meiosis probability of a
    change the stepwise model cannot make (null allele, copy number, partial
    repeat); its default 1e-6 is an assumption, not an estimate.
    """

    multistep_fraction: float = 0.0
    other_change_rate: float = 1e-6

    def __post_init__(self) -> None:
        if not 0 <= self.multistep_fraction <= 1:
            raise LineageError("multistep_fraction must lie in [0, 1], "
                               f"not {self.multistep_fraction}")
        if not 0 <= self.other_change_rate < 1:
            raise LineageError("other_change_rate must lie in [0, 1), "
                               f"not {self.other_change_rate}")


def single_step_difference_probability(d: int, n: int, mu: float) -> float:
    """P(net change ``d`` repeats after ``n`` meioses), single-step symmetric model (closed form).

    ``sum_k C(n,k) mu^k (1-mu)^(n-k) C(k,(k+d)/2) 2^-k`` over ``k = |d|, |d|+2, ..., <= n``.
    """
    if n < 0:
        raise LineageError(f"the number of meioses must be >= 0, not {n}")
    d = abs(int(d))
    total = 0.0
    for k in range(d, n + 1, 2):
        total += (math.comb(n, k) * mu**k * (1 - mu) ** (n - k)
                  * math.comb(k, (k + d) // 2) / 2.0**k)
    return total


def difference_distribution(n: int, mu: float, multistep_fraction: float = 0.0) -> np.ndarray:
    """``P_n(d)`` for ``d = -2n .. 2n`` (index ``d + 2n``) by ``n``-fold convolution of the
    one-meiosis step distribution ``{0: 1-mu, ±1: mu(1-w)/2, ±2: mu w/2}``."""
    if n < 0:
        raise LineageError(f"the number of meioses must be >= 0, not {n}")
    w = multistep_fraction
    step = np.array([mu * w / 2, mu * (1 - w) / 2, 1 - mu, mu * (1 - w) / 2, mu * w / 2])
    dist = np.array([1.0])
    for _ in range(n):
        dist = np.convolve(dist, step)
    # dist has length 4n + 1 centred at 2n
    return dist


def step_probability(d: int, n: int, mu: float, multistep_fraction: float = 0.0) -> float:
    """``P_n(d)``: the closed form in the single-step model, the convolution otherwise."""
    if multistep_fraction == 0.0:
        return single_step_difference_probability(d, n, mu)
    if abs(d) > 2 * n:
        return 0.0
    return float(difference_distribution(n, mu, multistep_fraction)[d + 2 * n])


def _other_change(n: int, model: YMutationModel) -> float:
    return 1.0 - (1.0 - model.other_change_rate) ** n


def _copy_probability(a: str, b: str, n: int, mu: float, model: YMutationModel) -> float:
    ra, ea = parse_allele(a)
    rb, eb = parse_allele(b)
    if ea != eb:
        return _other_change(n, model)
    return step_probability(rb - ra, n, mu, model.multistep_fraction)


def _aligned_probability(remains: tuple[str, ...], reference: tuple[str, ...], n: int,
                         mu_copy: float, model: YMutationModel) -> float:
    """Sum over the distinct orderings of the reference copies against the remains' copies."""
    total = 0.0
    for perm in set(itertools.permutations(reference)):
        p = 1.0
        for a, b in zip(remains, perm):
            p *= _copy_probability(a, b, n, mu_copy, model)
            if p == 0.0:
                break
        total += p
    return total


def locus_probability(remains: tuple[str, ...], reference: tuple[str, ...], n: int,
                      locus: YLocus, model: YMutationModel = YMutationModel()) -> tuple[float, str]:
    """``P(reference alleles | remains alleles, n meioses)`` at one locus, and a note."""
    if not remains and not reference:
        return 1.0, "null allele in both"
    if not remains or not reference:
        return _other_change(n, model), "null allele in one only (other_change_rate)"
    mu_copy = locus.mutation_rate / locus.copies if len(remains) == locus.copies \
        else locus.mutation_rate
    if len(remains) == len(reference):
        note = "" if len(remains) == locus.copies else f"{len(remains)} copies in both"
        return _aligned_probability(remains, reference, n, mu_copy, model), note
    small, large = (remains, reference) if len(remains) < len(reference) else (reference, remains)
    # average over which copies of the larger set correspond to the smaller one
    subsets = list(itertools.combinations(range(len(large)), len(small)))
    avg = 0.0
    for idx in subsets:
        kept = tuple(large[i] for i in idx)
        if small is remains:
            avg += _aligned_probability(small, kept, n, mu_copy, model)
        else:
            avg += _aligned_probability(kept, small, n, mu_copy, model)
    avg /= len(subsets)
    return (_other_change(n, model) * avg,
            f"copy number differs ({len(remains)} vs {len(reference)}; other_change_rate)")


def _steps(remains: tuple[str, ...], reference: tuple[str, ...]) -> tuple[int, ...] | None:
    """Smallest total repeat differences between equal-length allele tuples, if stepwise."""
    if len(remains) != len(reference) or not remains:
        return None
    best: tuple[int, ...] | None = None
    for perm in set(itertools.permutations(reference)):
        diffs = []
        for a, b in zip(remains, perm):
            ra, ea = parse_allele(a)
            rb, eb = parse_allele(b)
            if ea != eb:
                break
            diffs.append(rb - ra)
        else:
            if best is None or sum(map(abs, diffs)) < sum(map(abs, best)):
                best = tuple(diffs)
    return best


# ---------------------------------------------------------------------------
# Databases and frequencies
# ---------------------------------------------------------------------------


@dataclass
class YDatabase:
    """A population sample of Y haplotypes (one per unrelated man) with its locus table."""

    haplotypes: tuple[YHaplotype, ...]
    loci: YLocusTable = YFILER_PLUS
    name: str = ""
    _models: dict[object, DiscreteLaplaceModel] = field(default_factory=dict, repr=False)
    _typed: frozenset[str] | None = field(default=None, repr=False, compare=False)
    _counts: dict[tuple[str, ...], tuple[Counter[tuple[tuple[str, ...], ...]], int]] = field(
        default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.haplotypes)

    @property
    def typed_loci(self) -> frozenset[str]:
        """The loci typed (an allele or a null) in at least one entry: the loci the database
        "has". A Yfiler database has none of the loci Yfiler Plus adds."""
        if self._typed is None:
            self._typed = frozenset(locus for h in self.haplotypes for locus in h.alleles)
        return self._typed

    def comparable(self, loci: Sequence[str]) -> list[tuple[tuple[str, ...], ...]]:
        """The allele keys at ``loci`` of the entries typed at all of them."""
        keys = [h.key(loci) for h in self.haplotypes]
        return [k for k in keys if k is not None]

    def counts(self, loci: Sequence[str]) -> tuple[Counter[tuple[tuple[str, ...], ...]], int]:
        """How often each allele key at ``loci`` occurs among the entries typed at all of
        them, and the number of those entries (:meth:`comparable`, counted). Kept per
        locus set for as long as the database lives (at most 64 sets, then it starts
        again): a case counts every reference haplotype over the same loci."""
        key = tuple(loci)
        found = self._counts.get(key)
        if found is None:
            keys = self.comparable(key)
            if len(self._counts) >= 64:
                self._counts.clear()
            found = self._counts[key] = (Counter(keys), len(keys))
        return found




FREQUENCY_METHODS = (*COUNTING_METHODS, "kappa", "discrete_laplace")


def kappa(database: YDatabase, loci: Sequence[str]) -> tuple[float, int]:
    """Brenner's kappa over ``loci``: the fraction of comparable entries whose haplotype occurs
    once, and the number of comparable entries."""
    keys = database.comparable(loci)
    counts = Counter(keys)
    singletons = sum(1 for c in counts.values() if c == 1)
    return (singletons / len(keys) if keys else float("nan")), len(keys)


class DiscreteLaplaceOptions(TypedDict, total=False):
    """Keyword options of :func:`fit_discrete_laplace` (passed on by
    :func:`haplotype_frequency` and :func:`y_lineage_lr`)."""

    clusters: int | None
    max_clusters: int
    n_init: int
    seed: int
    max_iter: int
    tol: float


def haplotype_frequency(haplotype: YHaplotype, database: YDatabase,
                        loci: Sequence[str] | None = None, method: str = "count_plus_one",
                        confidence: float = 0.95,
                        **model_options: Unpack[DiscreteLaplaceOptions]) -> FrequencyEstimate:
    """The frequency of ``haplotype`` over ``loci`` (default: its typed loci) in ``database``.

    ``method``: ``"count_plus_one"`` (x+1)/(N+1) · ``"clopper_pearson"`` the one-sided
    upper ``confidence`` bound of x/N · ``"count"`` x/N · ``"kappa"`` (1-kappa)/N for an
    unseen haplotype, (x+1)/(N+1) for a seen one · ``"discrete_laplace"`` the fitted
    mixture's probability (``model_options`` go to :func:`fit_discrete_laplace`; the fit
    is cached on the database per locus set).
    """
    loci = tuple(loci) if loci is not None else tuple(
        n for n in database.loci.names if haplotype.get(n) is not None)
    if not loci:
        raise LineageError(f"haplotype {haplotype.sample} has no typed locus to count on")
    target = haplotype.key(loci)
    if target is None:
        raise LineageError(f"haplotype {haplotype.sample} is not typed at every locus counted on")
    counts, n = database.counts(loci)
    x = counts[target]
    if n == 0:
        missing = sorted(set(loci) - database.typed_loci)
        why = (f"the database has no {', '.join(missing)}" if missing else
               "none of its entries is typed at all of them")
        raise LineageError(
            f"no entry of the Y database{' ' + database.name if database.name else ''} "
            f"can be compared with haplotype {haplotype.sample} over the {len(loci)} loci "
            f"{', '.join(loci)}: {why} (N = 0 gives no frequency; compare over the loci the "
            "database has)")
    note = (f"{len(loci)} loci; {len(database) - n} database entries not typed at all of them "
            "left out")
    if method in COUNTING_METHODS:
        return counting_estimate(x, n, method, confidence, note)
    if method == "kappa":
        if n == 0:
            raise LineageError("no database entry is typed at the loci compared")
        if x > 0:
            return FrequencyEstimate((x + 1) / (n + 1), "kappa", x, n, None,
                                     note + "; seen haplotype: (x+1)/(N+1)")
        k, _ = kappa(database, loci)
        if k >= 1.0:
            return FrequencyEstimate(1 / (n + 1), "kappa", x, n, None,
                                     note + "; kappa = 1 (all singletons): fell back to 1/(N+1)")
        return FrequencyEstimate((1 - k) / n, "kappa", x, n, None,
                                 note + f"; unseen haplotype: (1 - kappa)/N with kappa = {k:.4f}")
    if method == "discrete_laplace":
        key = (loci, tuple(sorted(model_options.items())))
        model = database._models.get(key)
        if model is None:
            model = fit_discrete_laplace(database, loci, **model_options)
            database._models[key] = model
        value, used = model.probability(haplotype)
        return FrequencyEstimate(value, "discrete_laplace", x, n, None,
                                 note + f"; {model.n_clusters} clusters; {used} of "
                                 f"{len(model.columns)} allele columns used")
    raise LineageError(f"unknown frequency method '{method}'; expected one of "
                       f"{', '.join(FREQUENCY_METHODS)}")


# ---------------------------------------------------------------------------
# Discrete Laplace mixture
# ---------------------------------------------------------------------------


def discrete_laplace_pmf(x: np.ndarray | int, centre: np.ndarray | int, p: np.ndarray | float):
    """``P(X = x) = (1 - p)/(1 + p) * p^|x - centre|`` on the integers."""
    return (1 - p) / (1 + p) * np.power(p, np.abs(np.asarray(x) - np.asarray(centre)))


def discrete_laplace_dispersion(dbar: np.ndarray) -> np.ndarray:
    """The maximum-likelihood dispersion ``p`` of :func:`discrete_laplace_pmf`
    given the mean absolute distance ``dbar`` to the centre: the root in
    (0, 1) of ``dbar p^2 + 2p - dbar = 0``, clipped to [1e-6, 0.999]."""
    dbar = np.asarray(dbar, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(dbar > 0, (np.sqrt(1 + dbar**2) - 1) / np.where(dbar > 0, dbar, 1), 0.0)
    return np.clip(p, 1e-6, 0.999)


@dataclass(frozen=True)
class DiscreteLaplaceModel:
    """A fitted mixture of multivariate discrete Laplace distributions.

    ``columns`` are (locus, copy) pairs; each cluster ``j`` has weight ``tau[j]``,
    integer centre ``centres[j]`` and dispersion ``p[j]`` per column; loci are
    independent within a cluster. ``probability`` marginalises columns where
    the queried haplotype is not a plain integer (microvariant, null, other
    copy number) — never lowering the estimate. ``dys389`` names the
    (DYS389I, DYS389II) columns when both are modelled: the DYS389II column
    then holds the "B" block DYS389II - DYS389I (as in the transmission model).
    """

    columns: tuple[tuple[str, int], ...]
    tau: np.ndarray
    centres: np.ndarray
    p: np.ndarray
    log_likelihood: float
    bic: float
    n_observations: int
    copies: Mapping[str, int]
    dys389: tuple[str, str] | None = None

    @property
    def n_clusters(self) -> int:
        return len(self.tau)

    def log_probability_vector(self, x: np.ndarray) -> float:
        mask = ~np.isnan(x)
        if not mask.any():
            return 0.0
        xs = x[mask]
        logc = np.log((1 - self.p[:, mask]) / (1 + self.p[:, mask]))
        terms = logc + np.abs(xs[None, :] - self.centres[:, mask]) * np.log(self.p[:, mask])
        return float(logsumexp(np.log(self.tau) + terms.sum(axis=1)))

    def probability(self, haplotype: YHaplotype) -> tuple[float, int]:
        """The model probability of ``haplotype`` and the number of columns it used."""
        x = _haplotype_vector(haplotype, self.columns, self.copies, self.dys389)
        return math.exp(self.log_probability_vector(x)), int((~np.isnan(x)).sum())


def _haplotype_vector(h: YHaplotype, columns: Sequence[tuple[str, int]],
                      copies: Mapping[str, int],
                      dys389: tuple[str, str] | None = None) -> np.ndarray:
    x = np.full(len(columns), np.nan)
    for j, (locus, copy) in enumerate(columns):
        value = h.get(locus)
        if dys389 is not None and locus == dys389[1] and value is not None:
            first = h.get(dys389[0])   # DYS389II as the B block; missing without DYS389I
            value = None if first is None else dys389b_alleles(first, value)
        if value is None or len(value) != copies[locus]:
            continue
        parsed = [parse_allele(a) for a in value]
        if any(e for _, e in parsed):
            continue
        x[j] = parsed[copy][0]
    return x


def _em(X: np.ndarray, k: int, rng: np.random.Generator, max_iter: int, tol: float):
    n, m = X.shape
    obs = ~np.isnan(X)
    Xf = np.where(obs, X, 0.0)
    # initial centres: k-means++ style seeding with the L1 distance
    col_median = np.array([np.median(X[obs[:, j], j]) if obs[:, j].any() else 0.0
                           for j in range(m)])
    Xi = np.where(obs, X, col_median[None, :])
    centres = [Xi[rng.integers(n)]]
    for _ in range(1, k):
        dist = np.min([np.abs(Xi - c).sum(axis=1) for c in centres], axis=0)
        prob = dist / dist.sum() if dist.sum() > 0 else np.full(n, 1 / n)
        centres.append(Xi[rng.choice(n, p=prob)])
    y = np.array(centres, dtype=float)
    p = np.full((k, m), 0.3)
    tau = np.full(k, 1.0 / k)
    order = [np.argsort(X[obs[:, j], j], kind="stable") for j in range(m)]
    values = [X[obs[:, j], j][order[j]] for j in range(m)]
    previous = -np.inf
    ll = -np.inf
    for _ in range(max_iter):
        dist = np.abs(Xf[:, None, :] - y[None, :, :]) * obs[:, None, :]      # n x k x m
        logc = np.log((1 - p) / (1 + p))                                     # k x m
        logp = np.log(p)
        comp = (obs[:, None, :] * logc[None]).sum(axis=2) + (dist * logp[None]).sum(axis=2)
        joint = np.log(tau)[None, :] + comp
        norm = logsumexp(joint, axis=1)
        ll = float(norm.sum())
        resp = np.exp(joint - norm[:, None])                                 # n x k
        if ll - previous < tol * max(1.0, abs(ll)):
            break
        previous = ll
        tau = np.clip(resp.mean(axis=0), 1e-12, None)
        tau /= tau.sum()
        for j in range(m):
            w_all = resp[obs[:, j]][order[j]]                                # n_j x k
            cum = np.cumsum(w_all, axis=0)
            half = cum[-1] / 2
            idx = np.array([np.searchsorted(cum[:, c], half[c]) for c in range(k)])
            y[:, j] = values[j][np.minimum(idx, len(values[j]) - 1)]
        dist = np.abs(Xf[:, None, :] - y[None, :, :]) * obs[:, None, :]
        wsum = np.einsum("ik,ij->kj", resp, obs.astype(float))
        dbar = np.einsum("ik,ikj->kj", resp, dist) / np.maximum(wsum, 1e-300)
        p = discrete_laplace_dispersion(dbar)
    return tau, y, p, ll


def fit_discrete_laplace(database: YDatabase, loci: Sequence[str] | None = None,
                         clusters: int | None = None, max_clusters: int = 8, n_init: int = 3,
                         seed: int = 1, max_iter: int = 300,
                         tol: float = 1e-9) -> DiscreteLaplaceModel:
    """Fit a discrete Laplace mixture to a Y database by EM (after Andersen, Eriksen &
    Morling 2013).

    Each multi-copy locus contributes one column per copy (copies sorted);
    entries that are not plain integers at a locus (microvariant, null,
    unexpected copy number) or untyped there are missing for that locus and
    are integrated out. ``clusters`` fixes the number of clusters; otherwise
    1, 2, ... ``max_clusters`` are fitted and the one with the smallest BIC
    kept (counting weights, integer centres and dispersions as parameters).
    Simplification: the dispersion ``p`` is free per cluster and locus
    (disclapmix models ``log p`` as cluster + locus effects).
    """
    table = database.loci
    loci = tuple(loci) if loci is not None else table.names
    copies = {name: table[name].copies for name in loci}
    columns = tuple((name, c) for name in loci for c in range(copies[name]))
    pair = dys389_loci(table)
    dys389 = (pair[0].name, pair[1].name) if pair is not None and pair[0].name in loci \
        and pair[1].name in loci else None
    X = np.array([_haplotype_vector(h, columns, copies, dys389) for h in database.haplotypes])
    if len(X):
        used = ~np.isnan(X).all(axis=0)          # columns with at least one plain integer
        columns = tuple(c for c, u in zip(columns, used) if u)
        X = X[:, used]
        X = X[~np.isnan(X).all(axis=1)]
    if len(X) < 2 or not columns:
        raise LineageError("a discrete Laplace fit needs at least two database haplotypes")
    n = len(X)
    rng = np.random.default_rng(seed)
    options = [clusters] if clusters is not None else list(range(1, max_clusters + 1))
    best: DiscreteLaplaceModel | None = None
    for k in options:
        if clusters is None and k > n:
            break
        if k < 1 or k > n:
            raise LineageError(f"cannot fit {k} clusters to {n} haplotypes")
        fits = [_em(X, k, rng, max_iter, tol) for _ in range(n_init if k > 1 else 1)]
        tau, y, p, ll = max(fits, key=lambda f: f[3])
        n_params = (k - 1) + 2 * k * X.shape[1]
        bic = -2 * ll + n_params * math.log(n)
        model = DiscreteLaplaceModel(columns, tau, y, p, ll, bic, n, copies, dys389)
        if best is None or bic < best.bic:
            best = model
        elif clusters is None and k >= 2 and bic > best.bic:
            break  # BIC rising: stop adding clusters
    assert best is not None
    return best


# ---------------------------------------------------------------------------
# The LR
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YLocusTerm:
    """One locus of a paternal-line comparison: alleles, ``P(reference | remains, n)`` and notes.

    ``probability`` is ``None`` for a locus not compared (untyped in one of the two, or
    absent from the database); ``steps`` holds the repeat differences per copy when the
    change is stepwise. ``compared_as`` holds the alleles actually compared when they are
    not ``remains`` and ``reference``: DYS389II is compared as the "B" block
    DYS389II - DYS389I when DYS389I is compared too.
    """

    locus: str
    remains: tuple[str, ...] | None
    reference: tuple[str, ...] | None
    probability: float | None
    steps: tuple[int, ...] | None
    note: str = ""
    compared_as: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def matches(self) -> bool:
        if self.compared_as is not None:
            return self.compared_as[0] == self.compared_as[1]
        return self.remains is not None and self.remains == self.reference


@dataclass(frozen=True)
class YLineageResult:
    """The Y-STR paternal-line LR and its parts.

    ``lr = numerator / frequency.value`` where ``numerator = P(h_ref | h_remains, n)``,
    both over :attr:`loci_compared`. ``not_in_database`` lists the loci typed in both
    profiles that the database does not have (left out of the numerator and the
    frequency alike); ``note`` says so.
    """

    remains: str
    reference: str
    meioses: int
    terms: tuple[YLocusTerm, ...]
    numerator: float
    frequency: FrequencyEstimate
    frequency_of: str
    lr: float
    not_in_database: tuple[str, ...] = ()
    note: str = ""

    @property
    def loci_compared(self) -> tuple[str, ...]:
        return tuple(t.locus for t in self.terms if t.probability is not None)

    @property
    def loci_skipped(self) -> tuple[str, ...]:
        return tuple(t.locus for t in self.terms if t.probability is None)

    @property
    def mismatches(self) -> tuple[str, ...]:
        return tuple(t.locus for t in self.terms if t.probability is not None and not t.matches)

    @property
    def log10_lr(self) -> float:
        return math.log10(self.lr) if self.lr > 0 else float("-inf")


FrequencySource = (float | FrequencyEstimate
                   | Callable[[YHaplotype, Sequence[str]], FrequencyEstimate])


# The terms of a comparison depend only on the locus, the two allele tuples, the meioses
# and the model: each is worked out once and shared by every pair that has it (a case
# compares every sample with every relative on a line, over a few alleles per locus).
_TERMS_KEPT = 65536


@lru_cache(maxsize=_TERMS_KEPT)
def _skipped_term(locus: str, remains: tuple[str, ...] | None,
                  reference: tuple[str, ...] | None, why: str) -> YLocusTerm:
    return YLocusTerm(locus, remains, reference, None, None, why)


@lru_cache(maxsize=_TERMS_KEPT)
def _locus_term(locus: YLocus, remains: tuple[str, ...], reference: tuple[str, ...],
                meioses: int, model: YMutationModel) -> tuple[float, YLocusTerm]:
    prob, note = locus_probability(remains, reference, meioses, locus, model)
    return prob, YLocusTerm(locus.name, remains, reference, prob, _steps(remains, reference),
                            note)


@lru_cache(maxsize=_TERMS_KEPT)
def _dys389_term(pair: tuple[YLocus, YLocus], first_remains: tuple[str, ...],
                 remains: tuple[str, ...], first_reference: tuple[str, ...],
                 reference: tuple[str, ...], meioses: int, model: YMutationModel
                 ) -> tuple[float, YLocusTerm] | None:
    """DYS389II compared as the "B" block DYS389II - DYS389I (``None`` when a block
    allele is undefined: DYS389II is then compared as it is)."""
    block_a = dys389b_alleles(first_remains, remains)
    block_b = dys389b_alleles(first_reference, reference)
    if block_a is None or block_b is None:
        return None
    rate = dys389b_rate(*pair)
    block = YLocus("DYS389B", rate, 1, "rate(DYS389II) - rate(DYS389I)")
    prob, note = locus_probability(block_a, block_b, meioses, block, model)
    note = (f"compared as DYS389B = DYS389II - DYS389I ({block_a[0]} vs "
            f"{block_b[0]}, rate {rate:.3g})" + (f"; {note}" if note else ""))
    return prob, YLocusTerm(pair[1].name, remains, reference, prob, _steps(block_a, block_b),
                            note, (block_a, block_b))


def paternal_transmission_probability(remains: YHaplotype, reference: YHaplotype, meioses: int,
                                      loci: YLocusTable = YFILER_PLUS,
                                      model: YMutationModel = YMutationModel(),
                                      only: Collection[str] | None = None
                                      ) -> tuple[float, tuple[YLocusTerm, ...]]:
    """``P(h_ref | h_remains, n)`` over the loci typed in both (and in ``only``, when given:
    the loci a database has), with the per-locus terms.

    DYS389I and DYS389II overlap (DYS389II spans the DYS389I block): when both are
    compared, DYS389II enters as the "B" block DYS389II - DYS389I with the rate
    :func:`dys389b_rate`, so that one mutation in the shared block is charged once.
    """
    if meioses < 0:
        raise LineageError(f"the number of meioses must be >= 0, not {meioses}")
    pair = dys389_loci(loci)

    def typed(locus: YLocus) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str]:
        a, b = remains.get(locus.name), reference.get(locus.name)
        if a is None or b is None:
            where = ("either" if a is None and b is None
                     else "remains" if a is None else "reference")
            return None, None, "not typed in " + where
        if only is not None and locus.name not in only:
            return None, None, "not in the database: left out"
        return a, b, ""

    terms = []
    total = 1.0
    for locus in loci:
        a, b, why = typed(locus)
        if a is None or b is None:
            terms.append(_skipped_term(locus.name, remains.get(locus.name),
                                       reference.get(locus.name), why))
            continue
        found = None
        if pair is not None and locus is pair[1]:
            a1, b1, _ = typed(pair[0])
            if a1 is not None and b1 is not None:
                found = _dys389_term(pair, a1, a, b1, b, meioses, model)
        prob, term = found if found is not None else _locus_term(locus, a, b, meioses, model)
        terms.append(term)
        total *= prob
    return total, tuple(terms)


def y_lineage_lr(remains: YHaplotype, reference: YHaplotype, meioses: int,
                 database: YDatabase | None = None, frequency: FrequencySource | None = None,
                 loci: YLocusTable | None = None, model: YMutationModel = YMutationModel(),
                 method: str = "count_plus_one", frequency_of: str = "reference",
                 confidence: float = 0.95, *,
                 transmission: tuple[float, tuple[YLocusTerm, ...]] | None = None,
                 **model_options: Unpack[DiscreteLaplaceOptions]) -> YLineageResult:
    """The LR for "the remains and the reference share a paternal line ``meioses`` apart"
    against "unrelated": ``P(h_ref | h_remains, n) / f(h_ref)``.

    The frequency comes from ``frequency`` (a number, a :class:`FrequencyEstimate`
    or a function ``(haplotype, loci) -> FrequencyEstimate``) or else from
    ``database`` by ``method`` (see :func:`haplotype_frequency`), counted over
    the loci compared. ``frequency_of="remains"`` uses the remains'
    haplotype instead of the reference's.

    With a ``database``, the loci compared are those typed in both profiles *and*
    in the database (:attr:`YDatabase.typed_loci`): a Yfiler Plus case against a
    Yfiler database is compared over the Yfiler loci, numerator and frequency
    alike, with a :class:`~kinmatch.errors.KinmatchWarning` and the loci left out
    in ``not_in_database`` and ``note``.

    ``transmission``: :func:`paternal_transmission_probability` of these two
    haplotypes, meioses, loci and model over every locus typed in both (no
    ``only``), when the caller has it already; taken as it is when the
    database has every one of those loci (it is then the same).
    """
    table = loci if loci is not None else (database.loci if database is not None else YFILER_PLUS)
    only = database.typed_loci if database is not None else None
    if transmission is not None and (only is None or all(
            t.locus in only for t in transmission[1] if t.probability is not None)):
        numerator, terms = transmission
    else:
        numerator, terms = paternal_transmission_probability(remains, reference, meioses, table,
                                                             model, only)
    compared = tuple(t.locus for t in terms if t.probability is not None)
    left_out = tuple(t.locus for t in terms if t.note == "not in the database: left out")
    note = ""
    if left_out:
        assert database is not None
        note = (f"compared over the {len(compared)} loci typed in both and in the database"
                f"{' ' + database.name if database.name else ''}; left out (not in the "
                f"database): {', '.join(left_out)}")
        warn(f"the Y database{' ' + database.name if database.name else ''} lacks "
             f"{', '.join(left_out)}: the Y-STR LR uses the {len(compared)} loci typed in both "
             "profiles and in the database")
    if not compared:
        raise LineageError(f"remains {remains.sample} and reference {reference.sample} share no "
                           "typed Y-STR locus" + (" that the database has" if left_out else ""))
    if frequency_of not in ("reference", "remains"):
        raise LineageError(f"frequency_of must be 'reference' or 'remains', not '{frequency_of}'")
    target = reference if frequency_of == "reference" else remains
    if frequency is None:
        if database is None:
            raise LineageError("give a database or a frequency for the Y-STR LR")
        estimate = haplotype_frequency(target, database, compared, method, confidence,
                                       **model_options)
    elif isinstance(frequency, FrequencyEstimate):
        estimate = frequency
    elif callable(frequency):
        estimate = frequency(target, compared)
    else:
        estimate = FrequencyEstimate(float(frequency), "given", None, 0)
    if not 0 < estimate.value <= 1:
        raise LineageError(f"a haplotype frequency must lie in (0, 1], not {estimate.value}")
    return YLineageResult(remains.sample, reference.sample, meioses, terms, numerator, estimate,
                          frequency_of, numerator / estimate.value, left_out, note)


class YLineageOptions(DiscreteLaplaceOptions, total=False):
    """Keyword options of :func:`y_lineage_lr` other than the meioses."""

    database: YDatabase | None
    frequency: FrequencySource | None
    loci: YLocusTable | None
    model: YMutationModel
    method: str
    frequency_of: str
    confidence: float


def y_lineage_lr_in_pedigree(pedigree: Pedigree, remains_id: str, reference_id: str,
                             remains: YHaplotype, reference: YHaplotype,
                             **options: Unpack[YLineageOptions]) -> YLineageResult | None:
    """:func:`y_lineage_lr` with the meioses the pedigree puts between the two men on their
    paternal line; ``None`` when the pedigree gives them no common Y (the Y-STRs then do
    not discriminate the hypotheses: LR 1)."""
    link = paternal_line(pedigree, remains_id, reference_id)
    if link is None:
        return None
    return y_lineage_lr(remains, reference, link.meioses, **options)
