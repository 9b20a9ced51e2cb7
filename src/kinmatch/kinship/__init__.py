"""Kinship questions: hypotheses about how people are related, and their LRs.

* :mod:`.case` — the kinship case model (hypotheses, markers, profiles);
* :mod:`.lr` — log-likelihoods per hypothesis and marker, LRs against a reference;
* :mod:`.lineage` — Y-STR and mtDNA LRs for a kinship question;
* :mod:`.analysis` — a whole case in one call (:func:`~.analysis.analyse_kinship_case`).
"""
