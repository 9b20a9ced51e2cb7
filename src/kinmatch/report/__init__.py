"""Reports for people: the HTML identification report and pedigree drawings.

* :mod:`.dvi_report` — the HTML report of a solved DVI case;
* :mod:`.pedigree_svg` — pedigrees as self-contained SVG in the standard
  pedigree symbols, marking missing persons, DNA-typed reference relatives
  and identifications.
"""
