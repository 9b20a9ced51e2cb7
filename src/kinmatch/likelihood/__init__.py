"""Pedigree likelihoods.

* :mod:`.peeling` — the engine: the likelihood of marker data on pedigrees
  (and genotype distributions of untyped people), many pedigrees and markers
  batched into one contraction per network shape;
* :mod:`.network` — the factor network of a pedigree layout at a batch of
  markers: layouts, alphabets (lumped alleles, pseudo-alleles), factors;
* :mod:`.contraction` — elimination orders and their execution as compiled
  batched matrix products;
* :mod:`.observation` — the observation model: exact genotypes and degraded
  observations (drop-out, drop-in, silent alleles);
* :mod:`.population` — genotype probabilities of unrelated people and the
  Balding–Nichols θ correction;
* :mod:`.consistency` — which typed people's genotypes conflict at a marker;
* :mod:`.dropout` — maximum-likelihood drop-out estimates from a profile.
"""
