"""File formats: reading and writing cases, profiles, pedigrees and frequencies.

One module per format (import them directly, e.g.
``from kinmatch.formats.case_json import read_case``): :mod:`.case_json`
(kinship cases), :mod:`.dvi_json` (DVI cases), :mod:`.lineage_json` (Y-STR
and mtDNA data in cases), :mod:`.familias`, :mod:`.genemapper`,
:mod:`.genotype_tables`, :mod:`.frequencies`, :mod:`.pedigree_tables`,
:mod:`.convert` and :mod:`.detect`. The package itself imports nothing, so
that low-level helpers (:mod:`._tables`) can be used by other packages
without loading every reader.
"""
