"""TODO docstring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kinmatch.errors import KinmatchError
from kinmatch.lineage.mtdna import MtProfile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YHaplotype
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Pedigree, Sex

#: Allele names per marker per person: ``{"A": {"D3S1358": ("15", "16")}}``.
Profiles = Mapping[str, Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Hypothesis:
    """A named pedigree over the typed people."""

    name: str
    pedigree: Pedigree
    description: str = ""


def check_hypotheses(hypotheses: Sequence[Hypothesis], typed: Sequence[str]) -> None:
    """Every hypothesis must contain every typed person, with the same sex.

    One hypothesis is a pedigree likelihood (as Familias computes for a file
    with one pedigree); an LR needs two."""
    if not hypotheses:
        raise KinmatchError("a kinship case needs at least one hypothesis (a pedigree)")
    names = [h.name for h in hypotheses]
    if len(set(names)) != len(names):
        raise KinmatchError("hypothesis names must be unique")
    sexes: dict[str, tuple[Sex, str]] = {}
    for h in hypotheses:
        for pid in typed:
            if pid not in h.pedigree:
                raise KinmatchError(f"typed person '{pid}' is missing from hypothesis '{h.name}'")
            sex = h.pedigree.sex(pid)
            if pid in sexes and sexes[pid][0] != sex and Sex.UNKNOWN not in (sex, sexes[pid][0]):
                raise KinmatchError(
                    f"'{pid}' is {sex.name.lower()} in hypothesis '{h.name}' but "
                    f"{sexes[pid][0].name.lower()} in '{sexes[pid][1]}'"
                )
            sexes.setdefault(pid, (sex, h.name))


@dataclass
class KinshipCase:
    """Everything a kinship LR computation needs."""

    markers: list[Marker]
    profiles: dict[str, dict[str, tuple[str, str]]]
    hypotheses: list[Hypothesis]
    reference: str | None = None
    theta: float = 0.0
    title: str = ""
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: drop-out probability per degraded person: one value, or one per marker
    dropout: dict[str, float | dict[str, float]] = field(default_factory=dict)
    #: drop-in probability per degraded person
    dropin: dict[str, float] = field(default_factory=dict)
    #: Y-STR haplotypes of the typed men (lineage markers, optional)
    y_haplotypes: dict[str, YHaplotype] = field(default_factory=dict)
    #: mtDNA profiles of the typed people (lineage markers, optional)
    mtdna_profiles: dict[str, MtProfile] = field(default_factory=dict)
    #: databases and models for the lineage LRs (the file's ``lineage`` block), if given
    lineage: LineageSettings | None = None
    #: the person of interest of a missing-person question (for the lineage LRs)
    poi: str | None = None

    @property
    def has_lineage(self) -> bool:
        """Whether the case carries lineage-marker data (Y haplotypes or mtDNA profiles)."""
        return bool(self.y_haplotypes or self.mtdna_profiles)


