"""Familias 3.x ``.fam`` files: reader, writer and conversions.

Familias (Egeland, Mostad et al.) stores a whole case in one text file, one
value per line. Text values are in double quotes, booleans are ``#TRUE#`` /
``#FALSE#``, indices are 0-based. Files written by Familias itself and by the
R package pedFamilias (``writeFam``) have these sections, in this order:

**Header** (4 lines)
    ``"Output from Familias, version 3.3.1"``, a comment (``"DO NOT EDIT!"``),
    the version (``3.3.1``, with `` (DVI)`` when saved from the DVI module)
    and an empty quoted line ``""``.

**Persons**
    The number of persons, then per person: the name; a flag (meaning not
    documented, kept verbatim); the year of birth (``-1`` = unknown),
    followed by `` (Consider dropouts)`` when drop-out is to be considered
    for this person; a second flag (kept verbatim); ``#TRUE#`` for a male,
    ``#FALSE#`` for a female; the number of typed loci and, per typed
    locus, three lines: the indices of the two alleles in the locus'
    allele list and the index of the locus in the database.

**Known relations**
    The literal ``"Known relations"``; the number of anonymous extra females
    and extra males (untyped people who exist only to connect others); the
    number of parent-child relations and, per relation, two lines: the
    index of the parent and of the child. People are numbered persons
    first, then the extra females, then the extra males. These relations
    hold in every pedigree.

**Pedigrees** (the hypotheses)
    The number of pedigrees, then per pedigree: its index, its name, its
    own numbers of extra females and males (numbered after the global
    extras), the number of relations and the relations. A parent line of
    the form ``<index> ... Direct ...`` marks a *direct* (identity)
    relation, Familias' way of stating that two people are monozygotic
    twins (or the same person).

**Database**
    A line ``#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )`` (``#TRUE#``
    would mean that precomputed probabilities follow; not supported); the
    number of loci; ``#TRUE#`` and the database name (or ``#FALSE#``); then
    per locus: the name; the mutation rates for females and males; the
    mutation model codes for females and males (0 equal, 1 proportional,
    2 stepwise (unstationary), 3 stepwise (stationary), 4 extended stepwise);
    the number of alleles including a silent allele; the mutation ranges
    (female, male); the rates of mutations to microvariants of another
    length class, ``rate2`` (female, male); ``#TRUE#`` if there is a silent
    allele and its frequency; a line ``<n>\\t(DatabaseSize = 1000 , Dropout
    probability = 0 , Minor allele frequency = 0 )``; and ``n`` pairs of
    lines, allele name and frequency.

**DVI** (files saved by the DVI module), after an empty line
    An INI-like block whose section depth is the number of brackets::

        [DVI]
        [[Unidentified persons]]      nPersons= ; [[[Person i ]]]: Name=, Gender=,
                                      [[[[DNA data]]]]: nSystems=, then
                                      SystemName= / Allele1= / Allele2= per locus
        [[Notes]]                     nFamilies= and one note line per family
        [[Reference Families]]        nFamilies= ; [[[Family i ]]]: Name=,
            [[[[Persons]]]]           nPersons= ; [[[[[Person j]]]]] as above
            [[[[Pedigrees]]]]         nPedigrees= ; [[[[[Pedigree j]]]]]: Name=,
                                      nRelations=, then Parent= / Child= pairs

    Alleles are given by name here. A pedigree may name people who are not
    among the family's persons: ``Missing person``, the placeholder for the
    missing person of the family, is the usual one.

**Settings**
    ``[Prior]`` and ``[Advanced]`` sections of ``Key= value`` lines; kept
    verbatim.

Conversions follow pedFamilias::readFam (and, for DVI, dvir::familias2dvir)
so that likelihoods equal the R pedsuite's: mutation codes 0 and 1 become
pedmut's equal and proportional models, codes 2 and 4 its stepwise model
with the file's rate, rate2 and range, and code 3 the same model made
stationary with the PM transformation; a stepwise model on a locus with
non-numeric alleles, alleles below 1 or microvariants with more than one
decimal falls back to the equal model (both sexes). A child with one parent
given gets an untyped other parent (``added_1``, ...).

Every problem in a file is a :class:`~kinmatch.errors.CaseFormatError`
naming the file, the line (1-based) and the field.

The package splits the work: :mod:`.model` (the file's contents as objects),
:mod:`.parse` (reading), :mod:`.write` (writing) and :mod:`.convert`
(to and from kinmatch's kinship and DVI cases).
"""

from __future__ import annotations

from kinmatch.formats.familias.convert import (
    familias_markers,
    familias_to_dvi_case,
    familias_to_kinship_case,
    kinship_case_to_familias,
    locus_mutation_spec,
)
from kinmatch.formats.familias.model import (
    DVIFamily,
    DVIPedigree,
    DVIPerson,
    FamiliasDVI,
    FamiliasFile,
    FamiliasLocus,
    FamiliasModel,
    FamiliasMutation,
    FamiliasPedigree,
    FamiliasPerson,
    FamiliasRelation,
)
from kinmatch.formats.familias.parse import decode_familias_bytes, parse_familias, read_familias
from kinmatch.formats.familias.write import format_familias, write_familias

__all__ = [
    "DVIFamily",
    "DVIPedigree",
    "DVIPerson",
    "FamiliasDVI",
    "FamiliasFile",
    "FamiliasLocus",
    "FamiliasModel",
    "FamiliasMutation",
    "FamiliasPedigree",
    "FamiliasPerson",
    "FamiliasRelation",
    "decode_familias_bytes",
    "familias_markers",
    "familias_to_dvi_case",
    "familias_to_kinship_case",
    "format_familias",
    "kinship_case_to_familias",
    "locus_mutation_spec",
    "parse_familias",
    "read_familias",
    "write_familias",
]

