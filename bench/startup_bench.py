"""Start-up cost: CPU time of ``kinmatch --help``, ``kinmatch --version`` and
``import kinmatch``, each in a fresh process (median of several runs).

    uv run python bench/startup_bench.py [--repeat N]

The goal is under 0.25 s of CPU for ``kinmatch --help``: the command group
imports a command's module only when that command runs, and the package
loads its public names on first use. The script also prints which heavy
packages each start-up loaded (none of NumPy, SciPy, Rich or jsonschema).
The R pedsuite has no equivalent, so there is no ratio.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HEAVY = ("numpy", "scipy", "scipy.stats", "rich", "jsonschema", "opt_einsum")
KINMATCH = str(Path(sys.executable).with_name("kinmatch"))


def cpu_seconds(command: list[str]) -> float:
    """User + system CPU of one run of ``command`` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def loaded(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    jobs = {
        "kinmatch --help": ([KINMATCH, "--help"], "import kinmatch.cli"),
        "kinmatch --version": ([KINMATCH, "--version"], "import kinmatch.cli"),
        "import kinmatch": ([sys.executable, "-c", "import kinmatch"], "import kinmatch"),
        "python (no import)": ([sys.executable, "-c", "pass"], "pass"),
    }
    print(f"{'start-up':<22} {'CPU median':>11} {'min':>8}  heavy packages loaded")
    for name, (command, code) in jobs.items():
        times = [cpu_seconds(command) for _ in range(args.repeat)]
        heavy = ", ".join(loaded(code)) or "none"
        print(f"{name:<22} {statistics.median(times):>9.3f} s {min(times):>6.3f} s  {heavy}")
    print("goal: kinmatch --help under 0.250 s CPU")


if __name__ == "__main__":
    main()
