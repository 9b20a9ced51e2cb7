"""A Chōsei-mine-sized DVI case solved jointly: 183 missing persons, 183 samples.

    uv run python bench/dvi_chosei_bench.py [--seed 5] [--recovered 120] [--top 30]

183 reference families with one missing person each, drawn from the six
typical donor constellations of ``dvi_scale_bench.build_case`` (parents, a
parent and a sibling, a wife and children, two siblings, a brother and his
son, a half sibling only), 24 STRs with a stepwise mutation model, so that
nearly every sample × missing person pair has LR > 0 and the whole case is
one joint component (about 1e718 assignments; dvir stops at 1e5).

Two variants:

* **all recovered** — the 183 samples are the 183 missing persons;
* **partly recovered** — ``--recovered`` of the missing persons are among
  the samples, the rest of the 183 samples are unrelated remains.

For each: the wall time of the pairwise LRs, of the joint identification
(Murty's k-best assignments plus certified posterior bounds; see
``kinmatch.dvi.joint``) and of the whole ``solve_case`` pipeline (dvir's
dviSolve logic), the peak resident memory of the process after each stage,
and the identifications against the truth: from the best joint assignment,
from the posteriors certified above 0.99 (their lower bound), and from
``solve_case``'s Undisputed/Probable conclusions.

The stages share one :class:`~kinmatch.dvi.pairwise.PairwiseCache`, as a
pipeline would: the joint identification takes the families' likelihoods
from the pairwise pass, and ``solve_case``'s first recomputation finds the
families peeled. Both variants have the same 183 reference families, so
the one cache serves the whole run: the second variant's pairwise LRs are
lookups in distributions already peeled (``--fresh-cache``: a cache per
variant, so that each variant's pairwise time includes the peeling).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from kinmatch.dvi.case import prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.dvi.pairwise import PairwiseCache, pairwise_lr
from kinmatch.dvi.solve import solve_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

# bench/ is not a package: its modules import only once it is on sys.path
from dvi_scale_bench import build_case  # noqa: E402

N = 183


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def score(pairs: dict[str, str], truth: dict[str, str], n_true: int) -> str:
    """``pairs``: sample -> family it was identified with."""
    correct = sum(1 for s, f in pairs.items() if truth.get(s) == f)
    false = len(pairs) - correct
    return f"{correct:3d} correct, {false:2d} false, {n_true - correct:3d} missed"


def run(title: str, case, truth: dict[str, str], top: int, cache: PairwiseCache) -> None:
    print(f"\n== {title}: {len(case.samples)} samples ({len(truth)} of them missing persons), "
          f"{len(case.families)} families x {len(case.markers)} STRs")
    t0 = time.perf_counter()
    prepared = prepare_case(case)
    pw = pairwise_lr(prepared, cache=cache)
    t_pair = time.perf_counter() - t0
    finite = np.isfinite(pw.log_lr)
    print(f"  pairwise LRs                {t_pair:7.2f} s   peak memory {peak_mb():6.0f} MB   "
          f"pairs with LR > 0: {finite.sum():,} of {finite.size:,}")
    t0 = time.perf_counter()
    joint = joint_identification(prepared, pw, top=top, cache=cache)
    t_joint = time.perf_counter() - t0
    sizes = sorted((len(s) for s, _ in joint.components), reverse=True)
    print(f"  joint identification        {t_joint:7.2f} s   peak memory {peak_mb():6.0f} MB   "
          f"components {len(sizes)} (largest {sizes[0] if sizes else 0} samples), "
          f"assignments {'>1e300' if joint.n_assignments > 10**300 else joint.n_assignments:}")
    err = joint.posterior_error
    print(f"    exact: {joint.exact}; stated posterior error: max {err.max():.3g}, "
          f"median per sample {np.median(err.max(axis=1)):.2g}; "
          f"top {len(joint.loglik)} log-likelihoods span {joint.loglik[0] - joint.loglik[-1]:.2f}")
    best = joint.describe(0)
    fam_of = dict(zip(joint.missing, joint.families))
    by_best = {s: fam_of[m] for s, m in best.items() if m != "*"}
    print(f"    best assignment:          {score(by_best, truth, len(truth))}")
    certified = {}
    for i, s in enumerate(joint.samples):
        c = int(np.argmax(joint.posterior_lower[i, :-1])) if len(joint.missing) else -1
        if c >= 0 and joint.posterior_lower[i, c] > 0.99:
            certified[s] = joint.families[c]
    print(f"    posterior lower bound > .99: {score(certified, truth, len(truth))}")
    t0 = time.perf_counter()
    sol = solve_case(case, cache=cache)
    t_solve = time.perf_counter() - t0
    print(f"  solve_case (dviSolve)       {t_solve:7.2f} s   peak memory {peak_mb():6.0f} MB")
    conclusions = Counter(r.conclusion for r in sol.missing_persons)
    print("    AM conclusions: " + ", ".join(f"{k}: {v}" for k, v in conclusions.most_common()))
    sure = {r.sample: r.family for r in sol.missing_persons
            if r.conclusion in ("Undisputed", "Probable") and r.sample and "/" not in r.sample}
    print(f"    Undisputed + Probable:    {score(sure, truth, len(truth))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--recovered", type=int, default=120)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--fresh-cache", action="store_true",
                    help="a PairwiseCache per variant instead of one for the run")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    case, truth = build_case(5 * N, N, np.random.default_rng(args.seed))
    print(f"Chōsei-sized DVI (seed {args.seed}); "
          f"cases simulated in {time.perf_counter() - t0:.1f} s")
    true_samples = [s for s in case.samples if s.id in truth]
    unrelated = [s for s in case.samples if s.id not in truth]
    cache = PairwiseCache()
    run("all recovered", replace(case, samples=true_samples), truth, args.top, cache)
    k = min(args.recovered, N)
    part = true_samples[:k] + unrelated[:N - k]
    run("partly recovered", replace(case, samples=part),
        {s.id: truth[s.id] for s in true_samples[:k]}, args.top,
        PairwiseCache() if args.fresh_cache else cache)


if __name__ == "__main__":
    main()
