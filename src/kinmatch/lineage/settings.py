"""The lineage-marker settings of a case: databases, mutation rates and estimators.

A :class:`LineageSettings` bundles what turning Y-STR haplotypes and mtDNA
profiles into LRs needs beyond the profiles themselves (see docs/lineage.md):

* the Y-STR locus table (per-locus, per-meiosis mutation rates and copy
  numbers; default :data:`~kinmatch.lineage.YFILER_PLUS`), the
  :class:`~kinmatch.lineage.YMutationModel`, the Y haplotype database and the
  frequency method (``count_plus_one``, ``clopper_pearson``, ``count``,
  ``kappa`` or ``discrete_laplace``);
* the mtDNA database, its frequency method (default the upper
  Clopper–Pearson bound), an optional per-meiosis mtDNA mutation rate and
  the LR given to an inconclusive comparison (1: neutral).

Every field is optional; the default settings hold no database, which is
only an error once a Y haplotype or an mtDNA profile actually has to be
evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kinmatch.errors import LineageError
from kinmatch.lineage.mtdna import MtDatabase
from kinmatch.lineage.stats import COUNTING_METHODS
from kinmatch.lineage.ystr import (
    FREQUENCY_METHODS,
    YFILER_PLUS,
    YDatabase,
    YLocusTable,
    YMutationModel,
)


@dataclass(frozen=True)
class LineageSettings:
    """Databases and models for the Y-STR and mtDNA LRs of a case (all optional).

    ``y_loci`` gives the mutation rates; when absent the database's locus table
    is used, else :data:`YFILER_PLUS`. ``sources`` records where a database or
    table was read from (keys ``"y_database"``, ``"y_loci"``, ``"mt_database"``)
    so that a case file can be written back with the same references.
    """

    y_database: YDatabase | None = None
    y_loci: YLocusTable | None = None
    # one shared default is safe: YMutationModel is frozen and holds only floats
    y_model: YMutationModel = YMutationModel()  # noqa: RUF009
    y_frequency_method: str = "count_plus_one"
    y_frequency_of: str = "reference"
    mt_database: MtDatabase | None = None
    mt_frequency_method: str = "clopper_pearson"
    mt_mutation_rate: float | None = None
    mt_inconclusive_lr: float = 1.0
    confidence: float = 0.95
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.y_frequency_method not in FREQUENCY_METHODS:
            raise LineageError(f"unknown Y haplotype frequency method '{self.y_frequency_method}'"
                               f"; expected one of {', '.join(FREQUENCY_METHODS)}")
        if self.mt_frequency_method not in COUNTING_METHODS:
            raise LineageError(f"unknown mtDNA frequency method '{self.mt_frequency_method}'; "
                               f"expected one of {', '.join(COUNTING_METHODS)}")
        if self.y_frequency_of not in ("reference", "remains"):
            raise LineageError("y_frequency_of must be 'reference' or 'remains', not "
                               f"'{self.y_frequency_of}'")
        if self.mt_mutation_rate is not None and not 0 <= self.mt_mutation_rate < 1:
            raise LineageError(f"the mtDNA mutation rate must lie in [0, 1), not "
                               f"{self.mt_mutation_rate}")
        if not self.mt_inconclusive_lr >= 0:
            raise LineageError("the LR of an inconclusive mtDNA comparison must be >= 0, not "
                               f"{self.mt_inconclusive_lr}")
        if not 0 < self.confidence < 1:
            raise LineageError(f"the confidence level must lie in (0, 1), not {self.confidence}")

    @property
    def loci(self) -> YLocusTable:
        """The Y locus table in use: ``y_loci``, else the database's, else Yfiler Plus."""
        if self.y_loci is not None:
            return self.y_loci
        if self.y_database is not None:
            return self.y_database.loci
        return YFILER_PLUS

    @property
    def is_default(self) -> bool:
        """Whether nothing was set (no database, default models and methods)."""
        return self == LineageSettings()


__all__ = ["LineageSettings"]
