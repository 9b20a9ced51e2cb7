"""Disaster victim identification: which remains are which missing person.

* :mod:`.case` — the case model (post-mortem samples, reference families),
  indexing for computation, drop-out estimated per sample;
* :mod:`.pairwise` — pairwise LRs and Mendelian incompatibilities;
* :mod:`.lineage_evidence` — the Y-STR and mtDNA evidence of every pair;
* :mod:`.lr_parts` — a pair's LR split into autosomal × Y × mtDNA;
* :mod:`.joint` — joint identification: assignments, likelihoods, posteriors;
* :mod:`.reassociation` — fragment re-association: identity LRs between
  samples, clusters of fragments, merged profiles;
* :mod:`.solve` — dvir's ``dviSolve``: exclusions, undisputed
  identifications, simple and complex families, conclusions;
* :mod:`.pipeline` — a whole case in one call (:func:`~.pipeline.run_dvi_case`).
"""
