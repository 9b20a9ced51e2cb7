"""The cost of the θ correction: θ = 0 against θ = 0.01 and θ = 0.3.

    uv run python bench/theta_bench.py [--repeat N]

Two cases, each timed at θ = 0, 0.01 and 0.3: the whole kinship LR (both
hypotheses), its first run in the process ("first": contraction paths are
searched, as in one ``kinmatch lr`` command) and the median of the next
runs ("again": paths known):

1. ``examples/missing_person.json`` (10 stepwise STRs, four founders of
   which three are untyped);
2. a looped pedigree, a child of first cousins and his sibling, with 24
   simulated STRs of 10–20 alleles (stepwise mutation, so no lumping): two
   untyped grandparents, typed in-laws.

Prints each time and the ratio to θ = 0.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kinmatch.formats.cases import read_kinship_case
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records
from kinmatch.simulate import genotype_profile, simulate_genotypes

ROOT = Path(__file__).resolve().parents[1]
THETAS = (0.0, 0.01, 0.3)


def looped_case() -> tuple[list[Hypothesis], list[Marker], dict[str, dict[str, tuple[str, str]]]]:
    """A child of first cousins (X) and his sibling (Y), 24 stepwise STRs:
    H1 the loop, H2 X unrelated."""
    rng = np.random.default_rng(13)
    records = [
        ("GF", 1, "0", "0"), ("GM", 2, "0", "0"), ("S1", 1, "GF", "GM"), ("S2", 2, "GF", "GM"),
        ("W1", 2, "0", "0"), ("H2", 1, "0", "0"), ("C1", 1, "S1", "W1"), ("C2", 2, "H2", "S2"),
        ("X", 1, "C1", "C2"), ("Y", 2, "C1", "C2"),
    ]
    h1 = pedigree_from_records({"id": i, "sex": s, "father": f, "mother": m}
                               for i, s, f, m in records)
    h2 = pedigree_from_records([*({"id": i, "sex": s, "father": f, "mother": m}
                                  for i, s, f, m in records if i != "X"),
                                {"id": "X", "sex": 1, "father": "0", "mother": "0"}])
    markers = []
    for k in range(24):
        n = int(rng.integers(10, 21))
        freqs = rng.dirichlet(np.full(n, 2.0))
        markers.append(Marker.create(f"STR{k + 1}", [str(8 + a) for a in range(n)], freqs,
                                     mutation={"model": "stepwise", "rate": 0.002,
                                               "rate2": 1e-6, "range": 0.1}))
    alleles = simulate_genotypes(h1, markers, 1, rng)
    names = [m.name for m in markers]
    profiles = {pid: genotype_profile(names, markers, alleles[pid][0])
                for pid in ("W1", "H2", "C2", "X", "Y")}
    return [Hypothesis("H1", h1), Hypothesis("H2", h2)], markers, profiles


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    kc = read_kinship_case(ROOT / "examples" / "missing_person.json")
    cases: dict[str, tuple[Any, Any, Any]] = {
        "missing_person.json": (kc.hypotheses, kc.markers, kc.profiles),
        "looped, 24 STRs": looped_case(),
    }
    print("θ cost: wall time of the kinship LR (both hypotheses)\n")
    print(f"  {'case':<22} {'θ':>5} {'first':>10} {'again':>10} {'first/θ=0':>10} "
          f"{'again/θ=0':>10}")
    for name, (hypotheses, markers, profiles) in cases.items():
        base: tuple[float, float] | None = None
        for theta in THETAS:
            def run(theta: float = theta, hypotheses: list[Hypothesis] = hypotheses,
                    markers: list[Marker] = markers,
                    profiles: dict[str, dict[str, tuple[str, str]]] = profiles) -> object:
                return kinship_lr(hypotheses, markers, profiles, theta=theta)
            t_first = timed(run, 1)
            t_again = timed(run, args.repeat)
            if base is None:
                base = (t_first, t_again)
            print(f"  {name:<22} {theta:>5} {t_first * 1e3:>8.1f}ms {t_again * 1e3:>8.1f}ms "
                  f"{t_first / base[0]:>9.1f}x {t_again / base[1]:>9.1f}x", flush=True)

if __name__ == "__main__":
    main()
