"""Disaster victim identification: which remains are which missing person.

* :mod:`.case` — the case model (post-mortem samples, reference families);
* :mod:`.pairwise` — pairwise LRs and Mendelian incompatibilities;
* :mod:`.joint` — joint identification: assignments, likelihoods, posteriors.
"""

from .case import DVICase, PostMortemSample, PreparedCase, ReferenceFamily, prepare_case
from .joint import JointResult, joint_identification
from .pairwise import PairwiseLR, missing_person_distributions, pairwise_lr

__all__ = [
    "DVICase", "JointResult", "PairwiseLR", "PostMortemSample", "PreparedCase", "ReferenceFamily",
    "joint_identification", "missing_person_distributions", "pairwise_lr", "prepare_case",
]
