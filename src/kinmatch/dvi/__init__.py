"""Disaster victim identification: which remains are which missing person.

* :mod:`.case` — the case model (post-mortem samples, reference families);
* :mod:`.pairwise` — pairwise LRs and Mendelian incompatibilities;
* :mod:`.joint` — joint identification: assignments, likelihoods, posteriors;
* :mod:`.reassociation` — fragment re-association: identity LRs between
  samples, clusters of fragments, merged profiles;
* :mod:`.solve` — the complete pipeline (dvir's ``dviSolve``): exclusions,
  undisputed identifications, simple and complex families, conclusions.
"""

from kinmatch.dvi.case import DVICase, PostMortemSample, PreparedCase, ReferenceFamily, prepare_case
from kinmatch.dvi.joint import JointResult, joint_identification
from kinmatch.dvi.pairwise import MissingPersonDistributions, PairwiseCandidates, PairwiseLR, missing_person_distributions, pairwise_candidates, pairwise_lr
from kinmatch.dvi.reassociation import identity_lr, merge_fragments, reassociate
from kinmatch.dvi.solve import DVISolution, LRMatrix, MissingPersonConclusion, SampleConclusion, SolveStep, solve_case

__all__ = [
    "DVICase", "DVISolution", "JointResult", "LRMatrix", "MissingPersonConclusion",
    "MissingPersonDistributions", "PairwiseCandidates", "PairwiseLR",
    "PostMortemSample", "PreparedCase", "ReferenceFamily", "SampleConclusion", "SolveStep",
    "identity_lr", "joint_identification", "merge_fragments", "missing_person_distributions",
    "pairwise_candidates", "pairwise_lr", "prepare_case",
    "reassociate", "solve_case",
]
