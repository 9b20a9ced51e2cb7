"""Lineage markers: Y-STR haplotypes (paternal line) and mtDNA profiles (maternal line).

* :mod:`.lines` — which lineage a pedigree makes shared, and over how many meioses;
* :mod:`.ystr` — Y-STR haplotypes, the stepwise mutation model, haplotype
  frequencies (counting, kappa, discrete Laplace) and the paternal-line LR;
* :mod:`.mtdna` — mtDNA profiles in rCRS notation, SWGDAM comparison, counting
  with an upper confidence bound and the maternal-line LR.

Results keep their parts separate (:class:`YLineageResult`,
:class:`MtLineageResult`); :class:`CombinedLR` puts them next to an autosomal
LR so a report can show autosomal × Y × mtDNA. See docs/lineage.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kinmatch.formats.lineage_tables import (
    read_mt_database,
    read_mt_profiles,
    read_y_database,
    read_y_haplotypes,
    read_y_loci,
)
from kinmatch.lineage.lines import (
    LineageApplicability,
    LineConnection,
    applicable_lineages,
    maternal_line,
    maternal_line_meioses,
    paternal_line,
    paternal_line_meioses,
)
from kinmatch.lineage.mtdna import (
    CONTROL_REGION,
    MtComparison,
    MtConclusion,
    MtDatabase,
    MtDifference,
    MtLineageResult,
    MtProfile,
    MtVariant,
    SeqRange,
    compare_profiles,
    mt_frequency,
    mt_lineage_lr,
    mt_lineage_lr_in_pedigree,
    parse_mt_profile,
    parse_variants,
)
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.stats import FrequencyEstimate, clopper_pearson_upper, counting_estimate
from kinmatch.lineage.ystr import (
    YFILER_PLUS,
    YFILER_PLUS_RATES,
    DiscreteLaplaceModel,
    YDatabase,
    YHaplotype,
    YLineageResult,
    YLocus,
    YLocusTable,
    YLocusTerm,
    YMutationModel,
    canonical_locus,
    difference_distribution,
    fit_discrete_laplace,
    haplotype_frequency,
    kappa,
    locus_probability,
    make_haplotype,
    paternal_transmission_probability,
    single_step_difference_probability,
    step_probability,
    y_lineage_lr,
    y_lineage_lr_in_pedigree,
)


@dataclass(frozen=True)
class CombinedLR:
    """Autosomal, Y-STR and mtDNA evidence for one identification, kept apart.

    A part that is ``None`` is absent or not applicable (the pedigree gives no
    shared lineage, nothing typed) and counts as 1; an inconclusive mtDNA
    comparison without an LR also counts as 1 and is listed in ``notes``.
    ``total`` is the product of the parts: it treats the three marker systems
    as independent given the hypotheses (unlinked; no joint subpopulation
    correction), the usual convention.
    """

    autosomal: float | None = None
    y: YLineageResult | None = None
    mtdna: MtLineageResult | None = None

    @property
    def parts(self) -> dict[str, float | None]:
        return {
            "autosomal": self.autosomal,
            "y": None if self.y is None else self.y.lr,
            "mtdna": None if self.mtdna is None else self.mtdna.lr,
        }

    @property
    def total(self) -> float:
        out = 1.0
        for value in self.parts.values():
            if value is not None:
                out *= value
        return out

    @property
    def log10_total(self) -> float:
        return math.log10(self.total) if self.total > 0 else float("-inf")

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.y is None:
            notes.append("Y-STR: not applicable or not typed")
        if self.mtdna is None:
            notes.append("mtDNA: not applicable or not typed")
        elif self.mtdna.lr is None:
            notes.append(f"mtDNA: {self.mtdna.note}")
        return tuple(notes)


__all__ = [
    "CONTROL_REGION",
    "YFILER_PLUS",
    "YFILER_PLUS_RATES",
    "CombinedLR",
    "DiscreteLaplaceModel",
    "FrequencyEstimate",
    "LineConnection",
    "LineageApplicability",
    "LineageSettings",
    "MtComparison",
    "MtConclusion",
    "MtDatabase",
    "MtDifference",
    "MtLineageResult",
    "MtProfile",
    "MtVariant",
    "SeqRange",
    "YDatabase",
    "YHaplotype",
    "YLineageResult",
    "YLocus",
    "YLocusTable",
    "YLocusTerm",
    "YMutationModel",
    "applicable_lineages",
    "canonical_locus",
    "clopper_pearson_upper",
    "compare_profiles",
    "counting_estimate",
    "difference_distribution",
    "fit_discrete_laplace",
    "haplotype_frequency",
    "kappa",
    "locus_probability",
    "make_haplotype",
    "maternal_line",
    "maternal_line_meioses",
    "mt_frequency",
    "mt_lineage_lr",
    "mt_lineage_lr_in_pedigree",
    "parse_mt_profile",
    "parse_variants",
    "paternal_line",
    "paternal_line_meioses",
    "paternal_transmission_probability",
    "read_mt_database",
    "read_mt_profiles",
    "read_y_database",
    "read_y_haplotypes",
    "read_y_loci",
    "single_step_difference_probability",
    "step_probability",
    "y_lineage_lr",
    "y_lineage_lr_in_pedigree",
]
