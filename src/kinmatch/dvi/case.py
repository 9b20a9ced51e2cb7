"""The DVI case: post-mortem samples, reference families and markers.

A disaster-victim-identification (DVI) case holds

* **post-mortem samples** (``PostMortemSample``): DNA profiles of remains,
  possibly partial, with the sex if known;
* **reference families** (``ReferenceFamily``): each a pedigree in which
  some relatives are typed (the ante-mortem data) and one or more members are
  **missing persons**, the people the remains might be;
* the **markers** with their allele frequencies and mutation models;
* optionally **lineage markers**: a sample's Y-STR haplotype
  (``PostMortemSample.y_haplotype``) and mtDNA profile
  (``PostMortemSample.mtdna``), the relatives' haplotypes and profiles
  (``ReferenceFamily.y_haplotypes``, ``ReferenceFamily.mtdna_profiles``) and
  the databases and models that turn them into LRs (``DVICase.lineage``, a
  :class:`~kinmatch.lineage.LineageSettings`). All default to "no lineage
  data", with which every result is exactly the autosomal one; see
  :mod:`kinmatch.dvi.lineage_evidence` for how they enter the LRs.

``prepare_case`` turns allele names into allele indices once for the whole
case, adding alleles that the frequency database lacks (with the minimum
frequency and a warning, as for kinship cases), so that every later step
works on integer arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import KinmatchError, MarkerError
from kinmatch.likelihood.dropout import DROPOUT_FLOOR, estimate_sample_dropout
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.lineage.mtdna import MtProfile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YHaplotype
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Pedigree, Sex

#: Allele names per marker: ``{"D3S1358": ("15", "16")}``.
Profile = Mapping[str, Sequence[str]]

#: Index used in genotype arrays for "not typed at this marker".
UNTYPED = -1


@dataclass(frozen=True)
class PostMortemSample:
    """DNA profile of one set of remains (a victim sample)."""

    id: str
    profile: Profile
    sex: Sex = Sex.UNKNOWN
    #: probability that an allele of the remains drops out (0: a complete profile)
    dropout: float = 0.0
    #: probability of one spurious (drop-in) allele per marker
    dropin: float = 0.0
    #: Y-STR haplotype of the remains (``None``: not typed)
    y_haplotype: YHaplotype | None = None
    #: mtDNA profile of the remains (``None``: not typed)
    mtdna: MtProfile | None = None

    def __post_init__(self) -> None:
        for name in ("dropout", "dropin"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise KinmatchError(f"sample '{self.id}': {name} probability must be in "
                                    f"[0, 1), not {value}")
        if self.y_haplotype is not None and self.sex == Sex.FEMALE:
            raise KinmatchError(f"sample '{self.id}' is female but has a Y-STR haplotype")

    @property
    def has_lineage_data(self) -> bool:
        """Whether a Y-STR haplotype or an mtDNA profile was typed."""
        return self.y_haplotype is not None or self.mtdna is not None

    @property
    def degraded(self) -> bool:
        """Whether drop-out or drop-in is modelled for this sample."""
        return self.dropout > 0.0 or self.dropin > 0.0


@dataclass(frozen=True)
class ReferenceFamily:
    """A pedigree with typed relatives and one or more missing persons."""

    name: str
    pedigree: Pedigree
    missing: tuple[str, ...]
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    #: Y-STR haplotypes of typed relatives (men), by pedigree id
    y_haplotypes: Mapping[str, YHaplotype] = field(default_factory=dict)
    #: mtDNA profiles of typed relatives, by pedigree id
    mtdna_profiles: Mapping[str, MtProfile] = field(default_factory=dict)
    #: drop-out / drop-in probabilities of typed relatives whose DNA is degraded
    #: (exhumed relatives, or remains identified earlier and added to the family)
    dropout: Mapping[str, float] = field(default_factory=dict)
    dropin: Mapping[str, float] = field(default_factory=dict)
    #: relatives known to be dead: drawn as deceased, never proposed as donors
    deceased: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for pid in self.deceased:
            if pid not in self.pedigree:
                raise KinmatchError(f"family '{self.name}': deceased person '{pid}' is not in "
                                    "the pedigree")
        for what, rates in (("drop-out", self.dropout), ("drop-in", self.dropin)):
            for pid, value in rates.items():
                if not self.profiles.get(pid):
                    raise KinmatchError(f"family '{self.name}': a {what} probability is given "
                                        f"for '{pid}', who is not typed")
                if not 0.0 <= value < 1.0:
                    raise KinmatchError(f"family '{self.name}': {what} probability of '{pid}' "
                                        f"must be in [0, 1), not {value}")
        if not self.missing:
            raise KinmatchError(f"reference family '{self.name}' has no missing person")
        for mp in self.missing:
            if mp not in self.pedigree:
                raise KinmatchError(
                    f"missing person '{mp}' of family '{self.name}' is not in its pedigree")
            if self.profiles.get(mp):
                raise KinmatchError(
                    f"missing person '{mp}' of family '{self.name}' is typed; a missing "
                    "person's profile is what the remains may supply")
        for pid in self.profiles:
            if pid not in self.pedigree:
                raise KinmatchError(
                    f"family '{self.name}': typed person '{pid}' is not in the pedigree")
        for what, typed in (("Y-STR haplotype", self.y_haplotypes),
                            ("mtDNA profile", self.mtdna_profiles)):
            for pid in typed:
                if pid not in self.pedigree:
                    raise KinmatchError(f"family '{self.name}': '{pid}', who has a {what}, "
                                        "is not in the pedigree")
                if pid in self.missing:
                    raise KinmatchError(
                        f"missing person '{pid}' of family '{self.name}' has a {what}; a "
                        "missing person's data is what the remains may supply")
        for pid in self.y_haplotypes:
            if self.pedigree.sex(pid) == Sex.FEMALE:
                raise KinmatchError(f"family '{self.name}': '{pid}' is female but has a "
                                    "Y-STR haplotype")

    @property
    def has_lineage_data(self) -> bool:
        """Whether any relative has a Y-STR haplotype or an mtDNA profile."""
        return bool(self.y_haplotypes) or bool(self.mtdna_profiles)


@dataclass
class DVICase:
    """Everything a DVI analysis needs."""

    markers: list[Marker]
    samples: list[PostMortemSample]
    families: list[ReferenceFamily]
    theta: float = 0.0
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY
    title: str = ""
    #: databases and models of the lineage markers (default: none)
    lineage: LineageSettings = field(default_factory=LineageSettings)

    def __post_init__(self) -> None:
        ids = [s.id for s in self.samples]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise KinmatchError(f"post-mortem sample id(s) {', '.join(sorted(dup))} appear twice")
        fams = [f.name for f in self.families]
        dup = {i for i in fams if fams.count(i) > 1}
        if dup:
            raise KinmatchError(f"reference family name(s) {', '.join(sorted(dup))} appear twice")
        missing = [m for f in self.families for m in f.missing]
        dup = {i for i in missing if missing.count(i) > 1}
        if dup:
            raise KinmatchError(
                f"missing person id(s) {', '.join(sorted(dup))} appear in more than one family; "
                "missing persons must have case-wide unique ids")
        if not 0 <= self.theta < 1:
            raise KinmatchError(f"theta must be in [0, 1), not {self.theta}")

    @property
    def has_lineage_data(self) -> bool:
        """Whether any sample or relative carries a Y-STR haplotype or an mtDNA profile.

        Without lineage data every LR of the case is the autosomal one, exactly.
        """
        return (any(s.has_lineage_data for s in self.samples)
                or any(f.has_lineage_data for f in self.families))

    @property
    def missing_persons(self) -> list[tuple[str, str]]:
        """``(family, missing person)`` for every missing person, in case order."""
        return [(f.name, m) for f in self.families for m in f.missing]


@dataclass(frozen=True)
class PreparedCase:
    """A DVI case with allele names turned into indices.

    ``sample_genotypes[s, k]`` is the sorted allele-index pair of sample ``s``
    at marker ``k`` (``UNTYPED`` twice when untyped); ``family_genotypes[f][k]``
    maps the typed members of family ``f`` to their genotypes at marker ``k``.
    """

    case: DVICase
    markers: tuple[Marker, ...]
    sample_genotypes: NDArray[np.intp]
    family_genotypes: tuple[tuple[dict[str, Genotype | Observation], ...], ...]


def _genotype(marker: Marker, alleles: Sequence[str], who: str) -> Genotype:
    values = list(alleles)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise MarkerError(f"{who} at marker {marker.name}: a genotype has two alleles, "
                          f"not {len(values)}")
    a, b = sorted((marker.allele_index(values[0]), marker.allele_index(values[1])))
    return a, b


def _relative_genotype(fam: ReferenceFamily, pid: str, marker: Marker,
                       alleles: Sequence[str]) -> Genotype | Observation:
    """A relative's genotype, or what a degraded relative shows (an Observation)."""
    a, b = _genotype(marker, alleles, f"'{pid}' of family '{fam.name}'")
    d, c = fam.dropout.get(pid, 0.0), fam.dropin.get(pid, 0.0)
    if d or c:
        return Observation((a,) if a == b else (a, b), d, c)
    return a, b


def prepare_case(case: DVICase) -> PreparedCase:
    """Index every genotype of the case, extending markers with unseen alleles."""
    known = {m.name for m in case.markers}
    profiles: list[tuple[str, Profile]] = [(f"sample '{s.id}'", s.profile) for s in case.samples]
    profiles += [(f"'{pid}' of family '{f.name}'", prof)
                 for f in case.families for pid, prof in f.profiles.items()]
    for who, prof in profiles:
        for name in prof:
            if name not in known:
                raise MarkerError(f"{who} is typed at marker '{name}', "
                                  "which the case does not define")
    markers = []
    for marker in case.markers:
        seen = [a for _, prof in profiles if marker.name in prof for a in prof[marker.name]]
        markers.append(marker.with_alleles(seen, case.minimum_frequency))
    sample_genotypes = np.full((len(case.samples), len(markers), 2), UNTYPED, dtype=np.intp)
    for s, sample in enumerate(case.samples):
        for k, marker in enumerate(markers):
            alleles = sample.profile.get(marker.name)
            if alleles:
                g = _genotype(marker, alleles, f"sample '{sample.id}'")
                if marker.is_x and sample.sex == Sex.MALE and g[0] != g[1]:
                    raise MarkerError(f"sample '{sample.id}' is male but heterozygous at "
                                      f"X-linked marker {marker.name}")
                sample_genotypes[s, k] = g
    family_genotypes = []
    for fam in case.families:
        per_marker = []
        for marker in markers:
            per_marker.append({
                pid: _relative_genotype(fam, pid, marker, prof[marker.name])
                for pid, prof in fam.profiles.items() if prof.get(marker.name)
            })
        family_genotypes.append(tuple(per_marker))
    return PreparedCase(case, tuple(markers), sample_genotypes, tuple(family_genotypes))


def estimate_case_dropout(case: DVICase, dropin: float | None = None,
                          floor: float = DROPOUT_FLOOR) -> DVICase:
    """The case with each sample's drop-out estimated by maximum likelihood
    (:func:`estimate_sample_dropout`, at least ``floor``), unless the case sets
    one (``dropout`` > 0). ``dropin`` overrides the samples' drop-in
    probabilities for the estimated samples (``None``: each sample's own).
    This is what ``kinmatch dvi --estimate-dropout`` does."""

    markers = prepare_case(case).markers
    samples = []
    for s in case.samples:
        if s.dropout == 0.0:
            c = s.dropin if dropin is None else dropin
            d = max(floor, estimate_sample_dropout(markers, s.profile, dropin=c,
                                                   theta=case.theta))
            s = replace(s, dropout=d, dropin=c if d > 0 else s.dropin)
        samples.append(s)
    return replace(case, samples=samples)


