"""Lineage markers: Y-STR haplotypes (paternal line) and mtDNA profiles (maternal line).

* :mod:`.lines` — which lineage a pedigree makes shared, and over how many meioses;
* :mod:`.ystr` — Y-STR haplotypes, the stepwise mutation model, haplotype
  frequencies (counting, kappa, discrete Laplace) and the paternal-line LR;
* :mod:`.mtdna` — mtDNA profiles in rCRS notation, SWGDAM comparison, counting
  with an upper confidence bound and the maternal-line LR;
* :mod:`.stats` — counting estimates and the Clopper–Pearson bound;
* :mod:`.settings` — the databases and models of a case's lineage LRs;
* :mod:`.evidence` — the evidence policy: which relatives on a line count,
  closest relative's LR, exclusions by any relative;
* :mod:`.combined` — autosomal × Y × mtDNA, each part kept.

The readers of haplotype, locus and mtDNA tables are in
:mod:`kinmatch.formats.lineage_tables`. See docs/lineage.md.
"""
