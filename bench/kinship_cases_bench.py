"""The reference kinship cases as benchmark jobs (one job = one hypothesis, all markers)."""

from __future__ import annotations

from collections.abc import Callable

from reference_cases import load_reference, reference_case

from kinmatch.kinship.lr import typed_genotypes
from kinmatch.likelihood.peeling import markers_loglik


def reference_jobs() -> list[Callable[[], object]]:
    jobs = []
    for case in load_reference():
        kc = reference_case(case)
        markers, genos = typed_genotypes(kc.markers, kc.profiles)
        for h in kc.hypotheses:
            jobs.append(lambda h=h, m=markers, g=genos, t=kc.theta:
                        markers_loglik(h.pedigree, m, g, t))
    return jobs
