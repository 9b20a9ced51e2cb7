"""What the main job costs, stage by stage, from a cold start.

    uv run python bench/main_job_bench.py [--case chosei|simulated|all] [--repeat N]

Two cases (issue 13, item 3):

* **chosei** — the README's command on the Chōsei example::

      kinmatch dvi examples/chosei/case.json --merge-fragments --estimate-dropout \\
          --dropin 0.005 --truth examples/chosei/truth.json --report chosei-report.html

* **simulated** — ``kinmatch dvi case.json`` (default options) on a simulated
  200-sample × 100-family × 20-STR case (``dvi_scale_bench.build_case``,
  seed 2026, written as a kinmatch JSON case to a temporary folder).

For each case the script prints

1. the command end to end, each run in a fresh process (a cold start: no
   contraction path, alphabet or frequency kept from an earlier run): wall
   and CPU seconds (user + system of the child);
2. what each stage of a cold run costs (each run in its own fresh process):
   importing what the command imports, reading the case (JSON Schema check
   included), the pipeline's stages (:data:`kinmatch.dvi.pipeline.STAGES`)
   and the HTML report, in wall and CPU seconds; then, measured in the same
   process after the run, the two parts of the pairwise stage as they cost
   cold: the peeling of every family (with a new, empty peeling context:
   contraction paths searched again) and the lineage evidence of every pair
   (with a new lineage cache); "computing parts" is the sum of the stages
   after the read.

Both run as the command does: NumPy's BLAS on one thread unless
``OPENBLAS_NUM_THREADS`` (or ``MKL_NUM_THREADS``, ``OMP_NUM_THREADS``) is set
(:func:`kinmatch.cli.main.limit_blas_threads`). Every figure is the least of
``--repeat`` runs (the end to end also with its median): on a shared machine
the other processes only ever add time, and CPU seconds too grow when they
compete for the cores, so the least is the steadiest estimate. dvir has no
equivalent pipeline, so there is no ratio.

Measured (issue 13, item 3) on the shared 2-core machine (AMD EPYC, 2 vCPUs,
other jobs running: load 2-4; ``PYTHONDONTWRITEBYTECODE=1``, so every start
compiles some 600 modules from source, about 0.7 s of the import), before
(commit 9d80777) and after, CPU / wall seconds, least of 3 runs:

=================================  ==============  ==============  ==============
Chōsei example                     before, 2 BLAS  before, 1 BLAS  after
                                   threads (the    thread
                                   CLI's default)
=================================  ==============  ==============  ==============
end to end (least of 4, in turns)  20.6 / 17.3     12.5 / 12.5     7.8 / 8.0
import                             2.9             2.5             1.7
read the case                      0.39            0.40            0.23
drop-out and fragments             0.61            0.48            0.51
pairwise LRs                       19.6            6.4             3.9
  of which peeling (cold)          12.6            4.5             3.1
  of which lineage evidence        3.0             2.1             0.41
solve (dviSolve)                   1.6             0.65            0.36
joint analysis                     0.27            0.18            0.28
write the report                   0.82            0.57            0.37
=================================  ==============  ==============  ==============

===================================  =============  =============  =============
simulated 200 x 100 x 20 STRs        before, 2      before, 1      after
                                     BLAS threads   BLAS thread
===================================  =============  =============  =============
end to end (least of 4, in turns)    5.6 / 5.6      5.7 / 5.7      3.7 / 3.7
import                               3.4            2.8            1.6
read the case                        0.14           0.14           0.05
pairwise LRs                         0.43           0.31           0.28
solve (dviSolve)                     0.28           0.20           0.17
joint analysis                       2.1            1.7            0.94
computing parts (after the read)     2.8            2.2            1.4
===================================  =============  =============  =============

(The "before, 2 threads" stages were measured in a busier hour than the
other two columns; the end-to-end rows ran the three in turns.) What did it:
the command runs BLAS on one thread (OpenBLAS's idle threads spun between
the engine's many small products); the lineage evidence works out each Y
locus term and mtDNA comparison once per distinct alleles, and each
database count once per locus set; contraction paths are costed without
``opt_einsum.contract_path``, found first by a compiled greedy search, and
searched harder only for batches that cost more than the search
(``SEARCH_BUDGET``), with 32 randomised trials; Murty's k-best assignments
narrow one subproblem from child to child; the start-up no longer imports
``scipy.stats``; reading canonicalises each distinct allele and Y-STR cell
once. A JSON case reads faster than its pairwise LRs compute (0.05 s against
0.28 s on the simulated case; the jsonschema-rs validator only, on the
happy path).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
KINMATCH = str(Path(sys.executable).with_name("kinmatch"))
CHOSEI = ROOT / "examples" / "chosei"
#: the simulated case: samples, families, STRs, seed
SIMULATED = (200, 100, 20, 2026)


def chosei_command(case: Path, report: Path) -> list[str]:
    return [KINMATCH, "dvi", str(case), "--merge-fragments", "--estimate-dropout",
            "--dropin", "0.005", "--truth", str(CHOSEI / "truth.json"), "--report", str(report)]


def write_simulated_case(folder: Path) -> Path:
    """The simulated case as a kinmatch JSON file in ``folder``."""
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np
    from dvi_scale_bench import build_case

    from kinmatch.formats.dvi_json import write_dvi_case

    samples, families, markers, seed = SIMULATED
    case, _ = build_case(samples, families, np.random.default_rng(seed), n_markers=markers)
    path = folder / "simulated-case.json"
    write_dvi_case(case, path)
    return path


def run_child(command: list[str]) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of ``command`` in a child process, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def stages(path: str, chosei: bool, report: str) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds per stage of one run in this process (run in a fresh one)."""
    clock = [time.perf_counter(), time.process_time()]
    out: dict[str, tuple[float, float]] = {}

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        out[name] = (wall - clock[0], cpu - clock[1])
        clock[:] = [wall, cpu]

    # what `kinmatch dvi` loads before it reads the case (the command group sets
    # the BLAS threads first, as the command does)
    from kinmatch.cli.main import main as command_group
    command_group.get_command(click.Context(command_group), "dvi")
    from kinmatch.dvi.pipeline import STAGES, DVIOptions, run_dvi_case
    from kinmatch.formats.cases import read_dvi_case
    from kinmatch.formats.files import atomic_write_text
    from kinmatch.report.dvi_report import dvi_result_report_html
    lap("import the library")
    case = read_dvi_case(path)
    lap("read the case")
    options = DVIOptions(merge_fragments=True, estimate_dropout=True, dropin=0.005) \
        if chosei else DVIOptions()
    names = iter(STAGES)

    def on_stage(i: int) -> None:
        if i == 0:
            lap("(pipeline set-up)")
        else:
            lap(next(names))

    result = run_dvi_case(case, options, source=path, on_stage=on_stage)
    out.pop("(pipeline set-up)", None)
    if report:
        atomic_write_text(report, dvi_result_report_html(result))
        lap("write the report")
    # the two parts of the pairwise stage, cold, measured apart
    from kinmatch.dvi.case import prepare_case
    from kinmatch.dvi.lineage_evidence import lineage_evidence
    from kinmatch.dvi.pairwise import PairwiseCache, missing_person_distributions
    from kinmatch.likelihood.network import PeelingContext
    prepared = prepare_case(result.case)
    lap("(set-up)")
    missing_person_distributions(prepared, cache=PairwiseCache(peeling=PeelingContext()))
    lap("  of which peeling (cold)")
    lineage_evidence(result.case)
    lap("  of which lineage evidence")
    out.pop("(set-up)")
    return out


def show(rows: dict[str, tuple[float, float]]) -> None:
    for name, (wall, cpu) in rows.items():
        print(f"  {name:<34} {wall:7.2f} {cpu:7.2f}")


def bench_case(name: str, path: Path, command: list[str], chosei: bool, report: Path | None,
               repeat: int) -> None:
    runs = [run_child(command)[:2] for _ in range(repeat)]
    print(f"\n{name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}")
    print(f"  {'':<34} {'wall':>7} {'CPU':>7}   (seconds; least of {repeat} runs)")
    print(f"  {'end to end (fresh process)':<34} {min(r[0] for r in runs):7.2f} "
          f"{min(r[1] for r in runs):7.2f}   (median {statistics.median(r[0] for r in runs):.2f} "
          f"{statistics.median(r[1] for r in runs):.2f})")
    child = [sys.executable, __file__, "--child", str(path), "--chosei" if chosei else "--plain"]
    child += ["--report", str(report)] if chosei else []
    each = [json.loads(run_child(child)[2]) for _ in range(repeat)]
    rows = {k: (min(r[k][0] for r in each), min(r[k][1] for r in each)) for k in each[0]}
    show(rows)
    parts = [v for k, v in rows.items()
             if not k.startswith(" ") and k not in ("import the library", "read the case")]
    print(f"  {'computing parts (after the read)':<34} {sum(p[0] for p in parts):7.2f} "
          f"{sum(p[1] for p in parts):7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("chosei", "simulated", "all"), default="all")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--chosei", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(stages(args.child, args.chosei, args.report)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = folder / "report.html"
        print("main job, cold start (wall and CPU seconds; CPU is the steadier figure "
              "on a shared machine)")
        if args.case in ("chosei", "all"):
            case = CHOSEI / "case.json"
            bench_case("Chōsei example", case, chosei_command(case, report), True, report,
                       args.repeat)
        if args.case in ("simulated", "all"):
            case = write_simulated_case(folder)
            samples, families, markers, seed = SIMULATED
            bench_case(f"simulated {samples} samples x {families} families x {markers} STRs "
                       f"(seed {seed})", case, [KINMATCH, "dvi", str(case)], False, None,
                       args.repeat)


if __name__ == "__main__":
    main()
