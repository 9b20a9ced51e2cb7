"""Disaster victim identification: which remains are which missing person.

* :mod:`.case` — the case model (post-mortem samples, reference families);
* :mod:`.pairwise` — pairwise LRs and Mendelian incompatibilities.
"""

from .case import DVICase, PostMortemSample, PreparedCase, ReferenceFamily, prepare_case
from .pairwise import PairwiseLR, missing_person_distributions, pairwise_lr

__all__ = [
    "DVICase", "PairwiseLR", "PostMortemSample", "PreparedCase", "ReferenceFamily",
    "missing_person_distributions", "pairwise_lr", "prepare_case",
]
