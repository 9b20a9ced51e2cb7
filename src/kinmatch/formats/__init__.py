"""File formats: reading and writing cases, profiles, pedigrees and frequencies.

* :mod:`.cases` — a case from a file of any format, told apart by content;
* :mod:`.case_json`, :mod:`.dvi_json`, :mod:`.lineage_json` — kinmatch's
  JSON kinship and DVI cases (validated by the JSON Schemas in
  :mod:`kinmatch.schemas`), with their Y-STR and mtDNA data;
* :mod:`.json_reader` — the shared JSON reader machinery (located errors);
* :mod:`.familias` — Familias ``.fam`` files (model, parse, write, convert);
* :mod:`.genotype_tables`, :mod:`.genemapper` — laboratory genotype tables;
* :mod:`.frequencies` — allele frequency databases;
* :mod:`.pedigree_tables` — PED tables and PLINK ``.fam`` files;
* :mod:`.lineage_tables` — Y-STR haplotype, locus and mtDNA tables;
* :mod:`.truth_json` — the truth of a simulated case (``kinmatch simulate``);
* :mod:`.table_case` — a kinship case assembled from laboratory tables;
* :mod:`.marker_names` — one spelling for every locus name;
* :mod:`.tables`, :mod:`.files` — reading table files, writing files atomically;
* :mod:`.detect`, :mod:`.convert` — what a file holds; converting between formats.
"""
