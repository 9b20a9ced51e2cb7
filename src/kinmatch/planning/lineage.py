"""Lineage evidence (Y-STRs, mtDNA) for power planning.

Two implementations of :class:`kinmatch.planning.LineageEvidence`:

* :class:`YLineageEvidence` — the paternal line. The *reference* is the
  closest man on the missing man's paternal line among the relatives typed
  with a Y haplotype, or the candidate donor when he is on that line and
  closer (ties: the typed relative). With a typed reference at ``n`` meioses
  the true MP's haplotype is the reference's mutated over ``n`` meioses
  (independent per-locus, per-copy stepwise mutations with the locus rates
  of ``settings.loci`` and ``settings.y_model.multistep_fraction``; the model
  is symmetric, so the direction of the path does not matter; null alleles
  and copy numbers are not changed). With an untyped candidate as the
  reference, the MP's haplotype is drawn uniformly among the database's
  entries and the candidate's is the MP's mutated over ``n`` meioses
  (*simplification*: the other typed relatives' haplotypes are not
  conditioned on). The LR is :func:`~kinmatch.lineage.y_lineage_lr`
  (``remains`` = MP, ``reference``, ``meioses`` = n) with the database,
  locus table, model, frequency method and ``frequency_of`` of the settings,
  exactly as in the DVI evaluation. An unrelated person's haplotype is drawn
  uniformly from the database. ``log10 LR`` is 0 when nobody typed (or the
  candidate) shares the MP's paternal line, or when the MP is not a man;
  ``-inf`` for an LR of 0.

  Exclusion probability: the probability that an unrelated person's
  haplotype is *impossible* given the reference (``P(h_ref | h, n) = 0``,
  i.e. some locus differs by more steps than ``n`` meioses can make),
  estimated by the fraction of database haplotypes with LR 0 against the
  typed reference; for an untyped candidate it is averaged over up to
  :data:`EXCLUSION_DRAWS` references simulated as above (fixed seed, so the
  value is reproducible).

* :class:`MtLineageEvidence` — the maternal line, the same with mtDNA. Any
  person on the MP's maternal line (either sex) can be the reference.
  Mutation is taken as negligible: the true MP's profile equals the
  reference's (with ``settings.mt_mutation_rate`` the LR carries the factor
  ``(1 - mu)^n`` of :func:`~kinmatch.lineage.mt_lineage_lr`). For an untyped
  candidate the MP's (and candidate's) profile is drawn from the database.
  The LR is :func:`~kinmatch.lineage.mt_lineage_lr` with the settings'
  database, method and ``mt_inconclusive_lr``. The exclusion probability is
  the fraction of database profiles excluded (SWGDAM: two or more
  differences) against the reference (averaged over up to
  :data:`EXCLUSION_DRAWS` database references for an untyped candidate).

Both systems are independent of the autosomal markers given the pedigree
(the planner multiplies the LRs and adds the exclusion term), and of each
other. :func:`lineage_systems` builds them for every family of a DVI case
that has lineage data and the database it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import LineageError
from kinmatch.lineage.lines import maternal_line_meioses, paternal_line_meioses
from kinmatch.lineage.mtdna import (
    MtConclusion,
    MtDatabase,
    MtProfile,
    compare_profiles,
    mt_lineage_lr,
)
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.stats import FrequencyEstimate
from kinmatch.lineage.ystr import (
    YDatabase,
    YHaplotype,
    YLocusTable,
    allele_name,
    difference_distribution,
    haplotype_frequency,
    parse_allele,
    paternal_transmission_probability,
    y_lineage_lr,
)
from kinmatch.pedigree import Pedigree, Sex

if TYPE_CHECKING:
    from kinmatch.dvi.case import DVICase, ReferenceFamily

#: Simulated references averaged over for the exclusion probability of an
#: untyped candidate reference.
EXCLUSION_DRAWS = 100
_EXCLUSION_SEED = 20240611


class _Reference:
    """Who defines a lineage comparison: a typed relative or an untyped candidate."""

    def __init__(self, pid: str, meioses: int, typed: bool) -> None:
        self.pid, self.meioses, self.typed = pid, meioses, typed


def _closest(pedigree: Pedigree, missing: str, typed: Sequence[str], candidate: str | None,
             meioses_of: Callable[[Pedigree, str, str], int | None]) -> _Reference | None:
    best: _Reference | None = None
    for pid in typed:
        if pid == missing or pid not in pedigree:
            continue
        n = meioses_of(pedigree, missing, pid)
        if n is not None and (best is None or n < best.meioses):
            best = _Reference(pid, n, True)
    if candidate is not None and candidate not in typed and candidate in pedigree \
            and candidate != missing:
        n = meioses_of(pedigree, missing, candidate)
        if n is not None and (best is None or n < best.meioses):
            best = _Reference(candidate, n, False)
    return best


# ---------------------------------------------------------------------------
# Y-STRs


def mutate_haplotype(haplotype: YHaplotype, meioses: int, loci: YLocusTable,
                     rng: np.random.Generator, multistep_fraction: float = 0.0,
                     sample: str = "simulated") -> YHaplotype:
    """``haplotype`` after ``meioses`` meioses of stepwise mutation: each copy of each
    locus of ``loci`` changes by ``d`` repeats with ``d`` drawn from
    :func:`~kinmatch.lineage.ystr.difference_distribution` (rate per copy as in
    :func:`~kinmatch.lineage.ystr.locus_probability`). Loci outside ``loci`` and
    null alleles are kept."""
    out: dict[str, tuple[str, ...]] = {}
    for name, alleles in haplotype.alleles.items():
        if name not in loci or not alleles or meioses == 0:
            out[name] = alleles
            continue
        locus = loci[name]
        mu = locus.mutation_rate / locus.copies if len(alleles) == locus.copies \
            else locus.mutation_rate
        if mu == 0.0:
            out[name] = alleles
            continue
        dist = difference_distribution(meioses, mu, multistep_fraction)
        dist = dist / dist.sum()
        steps = rng.choice(len(dist), size=len(alleles), p=dist) - 2 * meioses
        new = []
        for a, d in zip(alleles, steps):
            r, e = parse_allele(a)
            new.append(allele_name((max(r + int(d), 1), e)))
        out[name] = tuple(sorted(new, key=parse_allele))
    return YHaplotype(sample, out)


class YLineageEvidence:
    """Y-STR evidence of one family for power planning (see the module docstring)."""

    name = "Y-STR"

    def __init__(self, family: ReferenceFamily, settings: LineageSettings) -> None:
        if settings.y_database is None or len(settings.y_database) == 0:
            raise LineageError("Y-STR planning needs a Y haplotype database")
        self.haplotypes: Mapping[str, YHaplotype] = dict(family.y_haplotypes)
        self.settings = settings
        self.database: YDatabase = settings.y_database
        self.loci = settings.loci
        self._lr_cache: dict[tuple, float] = {}
        self._freq_cache: dict[tuple, FrequencyEstimate] = {}
        # exclusion probability by (typed reference's haplotype, or None for
        # a simulated one; meioses)
        self._excl_cache: dict[tuple[YHaplotype | None, int], float] = {}

    # -- pieces
    def reference(self, pedigree: Pedigree, missing: str, candidate: str | None
                  ) -> _Reference | None:
        if pedigree.sex(missing) != Sex.MALE:
            return None
        return _closest(pedigree, missing, list(self.haplotypes), candidate,
                        paternal_line_meioses)

    def _frequency(self, haplotype: YHaplotype, loci: Sequence[str]) -> FrequencyEstimate:
        key = (haplotype.key(loci), tuple(loci))
        est = self._freq_cache.get(key)
        if est is None:
            s = self.settings
            est = haplotype_frequency(haplotype, self.database, loci, s.y_frequency_method,
                                      s.confidence)
            self._freq_cache[key] = est
        return est

    def log10_lr(self, remains: YHaplotype, reference: YHaplotype, meioses: int) -> float:
        """``log10`` of :func:`y_lineage_lr` under the settings (cached); 0 when the two share
        no typed locus, ``-inf`` for LR 0."""
        key = (remains, reference, meioses)
        value = self._lr_cache.get(key)
        if value is None:
            s = self.settings
            try:
                res = y_lineage_lr(remains, reference, meioses, database=self.database,
                                   frequency=self._frequency, loci=self.loci, model=s.y_model,
                                   method=s.y_frequency_method, frequency_of=s.y_frequency_of,
                                   confidence=s.confidence)
                value = res.log10_lr
            except LineageError:
                value = 0.0
            self._lr_cache[key] = value
        return value

    def _mutate(self, h: YHaplotype, n: int, rng: np.random.Generator, sample: str) -> YHaplotype:
        return mutate_haplotype(h, n, self.loci, rng, self.settings.y_model.multistep_fraction,
                                sample)

    def _excluded(self, other: YHaplotype, reference: YHaplotype, n: int) -> bool:
        numerator, terms = paternal_transmission_probability(other, reference, n, self.loci,
                                                             self.settings.y_model)
        return numerator == 0.0 and any(t.probability is not None for t in terms)

    # -- the LineageEvidence protocol
    def simulate_log10_lr(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                          candidate: str | None, n: int, rng: np.random.Generator, *,
                          true_missing: bool) -> NDArray[np.float64]:
        ref = self.reference(pedigree, missing, candidate)
        out = np.zeros(n)
        if ref is None:
            return out
        db = self.database.haplotypes
        for i in range(n):
            if ref.typed:
                reference = self.haplotypes[ref.pid]
                remains = (self._mutate(reference, ref.meioses, rng, missing) if true_missing
                           else db[int(rng.integers(len(db)))])
            else:
                mp = db[int(rng.integers(len(db)))]
                reference = self._mutate(mp, ref.meioses, rng, ref.pid)
                remains = mp if true_missing else db[int(rng.integers(len(db)))]
            out[i] = self.log10_lr(remains, reference, ref.meioses)
        return out

    def exclusion_probability(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                              candidate: str | None) -> float:
        ref = self.reference(pedigree, missing, candidate)
        if ref is None:
            return 0.0
        db = self.database.haplotypes
        if ref.typed:
            reference = self.haplotypes[ref.pid]
            key = (reference, ref.meioses)
            if key not in self._excl_cache:
                self._excl_cache[key] = float(np.mean(
                    [self._excluded(h, reference, ref.meioses) for h in db]))
            return self._excl_cache[key]
        simulated_key = (None, ref.meioses)  # an untyped reference: simulated haplotypes
        if simulated_key not in self._excl_cache:
            rng = np.random.default_rng(_EXCLUSION_SEED)
            fractions = []
            for _ in range(min(EXCLUSION_DRAWS, len(db))):
                mp = db[int(rng.integers(len(db)))]
                reference = self._mutate(mp, ref.meioses, rng, ref.pid)
                fractions.append(np.mean([self._excluded(h, reference, ref.meioses)
                                          for h in db]))
            self._excl_cache[simulated_key] = float(np.mean(fractions))
        return self._excl_cache[simulated_key]


# ---------------------------------------------------------------------------
# mtDNA


def _mt_key(p: MtProfile) -> tuple:
    return (p.variants, p.range)


class MtLineageEvidence:
    """mtDNA evidence of one family for power planning (see the module docstring)."""

    name = "mtDNA"

    def __init__(self, family: ReferenceFamily, settings: LineageSettings) -> None:
        if settings.mt_database is None or len(settings.mt_database) == 0:
            raise LineageError("mtDNA planning needs an mtDNA database")
        self.profiles: Mapping[str, MtProfile] = dict(family.mtdna_profiles)
        self.settings = settings
        self.database: MtDatabase = settings.mt_database
        self._lr_cache: dict[tuple, float] = {}
        self._excl_cache: dict[tuple, float] = {}

    def reference(self, pedigree: Pedigree, missing: str, candidate: str | None
                  ) -> _Reference | None:
        return _closest(pedigree, missing, list(self.profiles), candidate,
                        maternal_line_meioses)

    def log10_lr(self, remains: MtProfile, reference: MtProfile, meioses: int) -> float:
        """``log10`` of :func:`mt_lineage_lr` under the settings (cached): ``-inf`` for an
        exclusion, ``log10(mt_inconclusive_lr)`` for one difference, 0 when the ranges do not
        overlap."""
        key = (_mt_key(remains), _mt_key(reference), meioses)
        value = self._lr_cache.get(key)
        if value is None:
            s = self.settings
            try:
                res = mt_lineage_lr(remains, reference, self.database, meioses=meioses,
                                    method=s.mt_frequency_method, confidence=s.confidence,
                                    mutation_rate=s.mt_mutation_rate,
                                    inconclusive_lr=s.mt_inconclusive_lr)
                lg = res.log10_lr
                value = 0.0 if lg is None else lg
            except LineageError:
                value = 0.0
            self._lr_cache[key] = value
        return value

    def simulate_log10_lr(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                          candidate: str | None, n: int, rng: np.random.Generator, *,
                          true_missing: bool) -> NDArray[np.float64]:
        ref = self.reference(pedigree, missing, candidate)
        out = np.zeros(n)
        if ref is None:
            return out
        db = self.database.profiles
        for i in range(n):
            if ref.typed:
                reference = self.profiles[ref.pid]
                remains = reference if true_missing else db[int(rng.integers(len(db)))]
            else:
                reference = db[int(rng.integers(len(db)))]
                remains = reference if true_missing else db[int(rng.integers(len(db)))]
            out[i] = self.log10_lr(remains, reference, ref.meioses)
        return out

    def _fraction_excluded(self, reference: MtProfile) -> float:
        key = _mt_key(reference)
        if key not in self._excl_cache:
            excluded = 0
            for p in self.database.profiles:
                try:
                    c = compare_profiles(p, reference)
                except LineageError:
                    continue
                excluded += c.conclusion == MtConclusion.EXCLUSION
            self._excl_cache[key] = excluded / len(self.database)
        return self._excl_cache[key]

    def exclusion_probability(self, pedigree: Pedigree, missing: str, donors: tuple[str, ...],
                              candidate: str | None) -> float:
        ref = self.reference(pedigree, missing, candidate)
        if ref is None:
            return 0.0
        if ref.typed:
            return self._fraction_excluded(self.profiles[ref.pid])
        db = self.database.profiles
        rng = np.random.default_rng(_EXCLUSION_SEED)
        m = min(EXCLUSION_DRAWS, len(db))
        picks = rng.choice(len(db), size=m, replace=False) if m < len(db) else range(len(db))
        return float(np.mean([self._fraction_excluded(db[int(i)]) for i in picks]))


# ---------------------------------------------------------------------------
# Building the systems of a case


def family_lineage_systems(family: ReferenceFamily, settings: LineageSettings
                           ) -> tuple[YLineageEvidence | MtLineageEvidence, ...]:
    """The lineage systems a family's data and the settings' databases support."""
    systems: list[YLineageEvidence | MtLineageEvidence] = []
    if getattr(family, "y_haplotypes", None) and settings.y_database is not None \
            and len(settings.y_database):
        systems.append(YLineageEvidence(family, settings))
    if getattr(family, "mtdna_profiles", None) and settings.mt_database is not None \
            and len(settings.mt_database):
        systems.append(MtLineageEvidence(family, settings))
    return tuple(systems)


def lineage_systems(case: DVICase
                    ) -> dict[str, tuple[YLineageEvidence | MtLineageEvidence, ...]]:
    """For each family of a DVI case with lineage data, its lineage systems (by name);
    families without data, or without the database they need, are left out."""
    settings = getattr(case, "lineage", None)
    if settings is None:
        return {}
    out = {}
    for fam in case.families:
        systems = family_lineage_systems(fam, settings)
        if systems:
            out[fam.name] = systems
    return out


__all__ = ["EXCLUSION_DRAWS", "MtLineageEvidence", "YLineageEvidence",
           "family_lineage_systems", "lineage_systems", "mutate_haplotype"]
