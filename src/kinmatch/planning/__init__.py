"""Which relative to sample next: power planning by simulation.

* :mod:`.power` — simulated LRs of the true missing person with the current
  donors and with each candidate donor; inclusion and exclusion power;
* :mod:`.lineage` — the same with Y-STR and mtDNA evidence.
"""
