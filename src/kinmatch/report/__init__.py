"""Building blocks of the HTML identification reports.

:mod:`kinmatch.report.pedigree_svg` draws pedigrees as self-contained SVG in
the standard pedigree symbols, marking missing persons, DNA-typed reference
relatives and identifications.
"""

from kinmatch.report.pedigree_svg import (
    PedigreeLayout,
    PersonPlacement,
    Segment,
    layout_pedigree,
    pedigree_svg,
    reference_family_svg,
)

__all__ = [
    "PedigreeLayout",
    "PersonPlacement",
    "Segment",
    "layout_pedigree",
    "pedigree_svg",
    "reference_family_svg",
]
