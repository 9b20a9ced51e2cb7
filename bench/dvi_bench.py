"""DVI benchmarks against dvir's timings stored with the reference datasets.

    uv run python bench/dvi_bench.py [--skip-slow]

For every dataset in ../shared/reference/dvir (and the copied simulated ones)
prints kinmatch's wall time for the pairwise LR matrix, the whole solve
(dviSolve) and the joint analysis, next to dvir's timings (pairwiseLR,
dviSolve, dviJoint) on the same
machine class, and the ratio dvir / kinmatch.

Every timed run of the pairwise LRs and of the solve starts from an empty
:class:`~kinmatch.dvi.pairwise.PairwiseCache` (the solve makes its own), so
each peels every family; contraction paths and alphabets, kept by the
process-wide peeling context, are shared by the runs as by any long-lived
process. The joint analysis is given the pairwise LRs and the cache they
were computed with, as the solve gives it.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from kinmatch.dvi.case import prepare_case
from kinmatch.dvi.joint import joint_identification
from kinmatch.dvi.pairwise import PairwiseCache, pairwise_lr
from kinmatch.dvi.solve import solve_case

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

# tests/ and bench/ are not packages: their modules import only once they are on sys.path
from dvir_cases import dvir_case_paths, load_dvir_case  # noqa: E402
from run import timeit  # noqa: E402


def _ratio(r: float | None, t: float) -> str:
    return f"{r / t:8.1f}x" if r else "     n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip the joint analysis of dvir's slowest datasets (grave, icmp)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    print("DVI: kinmatch vs dvir 3.4.2 (median wall time; ratio = dvir / kinmatch)\n")
    print(f"  {'dataset':<24} {'pairwise':>10} {'dvir':>9} {'ratio':>9}   "
          f"{'solve':>10} {'dvir':>9} {'ratio':>9}   {'joint':>10} {'dvir':>9} {'ratio':>9}")
    for path in dvir_case_paths():
        case, data = load_dvir_case(path)
        if not case.families:
            continue
        timing = data.get("timing_seconds", {})
        prepared = prepare_case(case)
        cache = PairwiseCache()
        pw = pairwise_lr(prepared, cache=cache)
        t_pw = timeit(lambda case=case: pairwise_lr(prepare_case(case), cache=PairwiseCache()),
                      args.repeat)
        joint_line = ""
        r_joint = timing.get("dviJoint")
        slow = path.stem in ("dvi_grave", "dvi_icmp")
        if r_joint and not (slow and args.skip_slow):
            t_j = timeit(lambda prepared=prepared, pw=pw, cache=cache:
                         joint_identification(prepared, pw, cache=cache),
                         1 if slow else args.repeat)
            joint_line = f"{t_j:9.3f}s {r_joint:8.3f}s {_ratio(r_joint, t_j)}"
        r_pw = timing.get("pairwiseLR")
        solve_line = ""
        r_solve = timing.get("dviSolve")
        if r_solve:
            threshold = data.get("dviSolve", {}).get("threshold", 1e4)
            t_s = timeit(lambda case=case, threshold=threshold:
                         solve_case(case, threshold=threshold), args.repeat)
            solve_line = f"{t_s:9.3f}s {r_solve:8.3f}s {_ratio(r_solve, t_s)}"
        print(f"  {path.stem[4:]:<24} {t_pw:9.3f}s {r_pw or 0:8.3f}s {_ratio(r_pw, t_pw)}   "
              f"{solve_line:<31}   {joint_line}")


if __name__ == "__main__":
    main()
