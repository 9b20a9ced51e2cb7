"""What each stage of the README's main job costs: the Chōsei example case,
as `kinmatch dvi examples/chosei/case.json --merge-fragments --estimate-dropout
--dropin 0.005 --report ...` runs it.

    uv run python bench/main_job_bench.py [--case PATH] [--repeat N]

Prints the wall time of importing the library, reading the case (with the
JSON Schema check), each pipeline stage (drop-out and fragments, pairwise LRs
with the lineage evidence, dviSolve, the whole-case joint analysis) and the
HTML report: the first run of each (cold: contraction paths searched) and,
with --repeat, the median of later runs in the same process. dvir has no
equivalent pipeline, so there is no ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

# the library is imported after the clock starts, to time its import
T0 = time.perf_counter()
from kinmatch.dvi.pipeline import STAGES, DVIOptions, run_dvi_case  # noqa: E402
from kinmatch.formats.cases import read_dvi_case  # noqa: E402
from kinmatch.report.dvi_report import dvi_result_report_html  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - T0
OPTIONS = DVIOptions(merge_fragments=True, estimate_dropout=True, dropin=0.005)


def one_run(path: str) -> dict[str, float]:
    """Seconds per stage of one run."""
    t = time.perf_counter()
    case = read_dvi_case(path)
    out = {"read the case": time.perf_counter() - t}
    marks: list[float] = []
    run_start = time.perf_counter()
    result = run_dvi_case(case, OPTIONS, on_stage=lambda i: marks.append(time.perf_counter()))
    previous = run_start
    for name, mark in zip(STAGES, marks[1:]):
        out[name] = mark - previous
        previous = mark
    t = time.perf_counter()
    dvi_result_report_html(result)
    out["write the report"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="examples/chosei/case.json")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run(args.case) for _ in range(max(1, args.repeat))]
    print(f"main job stages ({args.case}; wall seconds)")
    print(f"  {'import the library':<28} {IMPORT_SECONDS:7.2f}")
    for stage in runs[0]:
        later = [r[stage] for r in runs[1:]]
        again = f"{statistics.median(later):7.2f}" if later else "      -"
        print(f"  {stage:<28} {runs[0][stage]:7.2f} {again}   (first, again)")
    total = IMPORT_SECONDS + sum(runs[0].values())
    print(f"  {'total (first run)':<28} {total:7.2f}")


if __name__ == "__main__":
    main()
