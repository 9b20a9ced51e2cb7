"""Generic combinatorial algorithms, free of DNA and DVI meaning.

* :mod:`~kinmatch.algorithms.assignments`: injective partial assignments of
  rows to columns — enumeration, counting, Murty's k-best ranking, a
  best-first branch-and-bound over group-additive gains, and the k best
  combinations of independent sorted lists.
* :mod:`~kinmatch.algorithms.matching_bounds`: certified bounds on the
  posteriors of weighted partial matchings (listed mass and the
  vertex-deletion recursion).
* :mod:`~kinmatch.algorithms.logsum`: ``log sum exp`` of a short list.

:mod:`kinmatch.dvi.joint` gives them their meaning (rows are post-mortem
samples, columns missing persons, groups reference families).
"""
