"""The contents of a Familias 3.x ``.fam`` file as Python objects (see
:mod:`kinmatch.formats.familias` for the file layout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from kinmatch.errors import KinmatchError
from kinmatch.pedigree import Sex

KNOWN_RELATIONS = "Known relations"
REFERENCE_PEDIGREE = "Reference pedigree"
DEFAULT_VERSION = "3.2.8"
FAMILIAS_TRUE, FAMILIAS_FALSE = "#TRUE#", "#FALSE#"


# ---------------------------------------------------------------------------
# Data model


class FamiliasModel(IntEnum):
    """Familias' mutation model codes."""

    EQUAL = 0
    PROPORTIONAL = 1
    STEPWISE_UNSTATIONARY = 2
    STEPWISE_STATIONARY = 3
    STEPWISE_EXTENDED = 4


@dataclass(frozen=True)
class FamiliasMutation:
    """One sex's mutation model as Familias stores it."""

    model: FamiliasModel = FamiliasModel.EQUAL
    rate: float = 0.0
    range: float = 0.0
    rate2: float = 0.0


@dataclass
class FamiliasLocus:
    """A locus of the frequency database, with its mutation models and settings.

    ``alleles`` are the names as written in the file. ``database_size``,
    ``dropout`` and ``minor_allele_frequency`` come from the locus' info line
    (``None`` when the line lacks them); ``silent_allele`` and
    ``silent_frequency`` describe a silent (null) allele, which becomes a
    marker allele named ``"silent"`` (:data:`SILENT_ALLELE`) that is never
    observed. The per-locus drop-out probability is kept so that a file is
    written back as it was read.
    """

    name: str
    alleles: list[str]
    frequencies: list[float]
    female: FamiliasMutation = FamiliasMutation()
    male: FamiliasMutation = FamiliasMutation()
    silent_allele: bool = False
    silent_frequency: float = 0.0
    database_size: int | None = 1000
    dropout: float | None = 0.0
    minor_allele_frequency: float | None = 0.0
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasPerson:
    """A person of the case, with genotypes by locus name and allele names.

    ``flags`` are the second and fourth lines of the person's block, whose
    meaning Familias does not document; they are written back verbatim.
    """

    name: str
    sex: Sex
    genotypes: dict[str, tuple[str, str]] = field(default_factory=dict)
    year_of_birth: int | None = None
    consider_dropout: bool = False
    flags: tuple[str, str] = (FAMILIAS_FALSE, FAMILIAS_FALSE)
    line: int | None = field(default=None, compare=False, repr=False)
    genotype_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FamiliasRelation:
    """``parent`` is a parent of ``child``; with ``direct``, the two are
    genetically identical (monozygotic twins). ``direct_text`` is what
    follows the parent's index on a direct relation's line, written back
    as read."""

    parent: str
    child: str
    direct: bool = False
    direct_text: str = field(default=" Direct", compare=False, repr=False)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasPedigree:
    """A pedigree (hypothesis): its extra (anonymous) people and relations.

    The extras get the names pedFamilias gives them: ``extra_1``, ... for
    those of the known relations and ``extra_ped<k>_<j>`` for those of the
    ``k``-th pedigree.
    """

    name: str
    relations: list[FamiliasRelation] = field(default_factory=list)
    extra_females: list[str] = field(default_factory=list)
    extra_males: list[str] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class DVIPerson:
    """A person of the DVI module: an unidentified person (post-mortem
    sample) or a member of a reference family. ``genotypes`` map locus names
    to allele names as written."""

    name: str
    sex: Sex = Sex.UNKNOWN
    genotypes: dict[str, tuple[str, str]] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False, repr=False)
    genotype_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class DVIPedigree:
    """A pedigree of a reference family, as (parent, child) name pairs."""

    name: str
    relations: list[tuple[str, str]] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class DVIFamily:
    """A reference family: its persons (typed relatives and named missing
    persons) and its pedigrees."""

    name: str
    persons: list[DVIPerson] = field(default_factory=list)
    pedigrees: list[DVIPedigree] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass
class FamiliasDVI:
    """The ``[DVI]`` section. ``notes`` are the raw lines of ``[[Notes]]``."""

    unidentified: list[DVIPerson] = field(default_factory=list)
    families: list[DVIFamily] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    line: int | None = None  # of the [DVI] header, when read from a file


@dataclass
class FamiliasFile:
    """Everything a Familias file holds.

    ``known_relations`` hold in every pedigree; ``pedigrees`` are the
    hypotheses. ``settings`` are the raw lines of the ``[Prior]`` and
    ``[Advanced]`` sections. ``source`` and ``encoding`` say where the file
    came from and how it was decoded.
    """

    persons: list[FamiliasPerson] = field(default_factory=list)
    known_relations: FamiliasPedigree = field(
        default_factory=lambda: FamiliasPedigree(KNOWN_RELATIONS))
    pedigrees: list[FamiliasPedigree] = field(default_factory=list)
    loci: list[FamiliasLocus] = field(default_factory=list)
    theta: float = 0.0
    database_name: str | None = "unknown"
    n_databases: int = 1
    version: str = DEFAULT_VERSION
    comments: tuple[str, str] = (f"Output from Familias, version {DEFAULT_VERSION}",
                                 "(Written by kinmatch)")
    dvi: FamiliasDVI | None = None
    settings: list[str] = field(default_factory=list)
    source: str | None = field(default=None, compare=False)
    encoding: str = field(default="utf-8", compare=False)

    def locus(self, name: str) -> FamiliasLocus:
        for locus in self.loci:
            if locus.name == name:
                return locus
        raise KinmatchError(f"the Familias database has no locus '{name}'")


