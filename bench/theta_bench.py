"""The cost of the θ correction: θ = 0 against θ = 0.01 and θ = 0.3.

    uv run python bench/theta_bench.py [--repeat N] [--no-command]

Library level: three cases, each timed at θ = 0, 0.01 and 0.3: the whole
kinship LR (both hypotheses), its first run in the process ("first":
contraction paths are searched, as in one ``kinmatch lr`` command) and the
median of the next runs ("again": paths known), in CPU time
(``time.process_time``, all threads; the machine is shared, so wall time
is noisier):

1. ``examples/missing_person.json`` (10 stepwise STRs, four founders of
   which three are untyped, one with a single child);
2. a looped pedigree, a child of first cousins and his sibling, with 24
   simulated STRs of 10–20 alleles (stepwise mutation, so no lumping): two
   untyped grandparents, typed in-laws;
3. the same with drop-out on an in-law founder (W1), a cousin (C2) and X
   (issue 13, item 9): three untyped or uncertain founders.

Command level: ``kinmatch lr examples/missing_person.json --theta θ`` as a
new process (start-up included), CPU time of the child (user + system).

Under θ the founder alleles of a family are a Pólya urn; the likelihood is
a sum of networks, one per choice of the draws' sources (see
``kinmatch.likelihood.network.polya_urn_sources``). Prints each time, the
ratio to θ = 0 and the number of networks per hypothesis.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kinmatch.formats.cases import read_kinship_case
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr, typed_genotypes
from kinmatch.likelihood.network import (
    NetworkSum,
    build_network,
    marker_alphabet,
    pedigree_layout,
    typed_and_uncertain,
)
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
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
    """Median CPU time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def command_time(args: list[str], repeat: int) -> float:
    """Median CPU time (user + system) of a ``kinmatch`` command as a child process."""
    times = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(Path(sys.executable).parent / "kinmatch"), *args], check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT, env=os.environ.copy())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-command", action="store_true", help="library level only")
    args = ap.parse_args()
    kc = read_kinship_case(ROOT / "examples" / "missing_person.json")
    looped = looped_case()
    cases: dict[str, tuple[Any, Any, Any, Any]] = {
        "missing_person.json": (kc.hypotheses, kc.markers, kc.profiles, None),
        "looped, 24 STRs": (*looped, None),
        "looped, drop-out": (*looped, {"W1": 0.1, "C2": 0.05, "X": 0.2}),
    }
    print("θ cost, library level: CPU time of the kinship LR (both hypotheses)\n")
    print(f"  {'case':<22} {'θ':>5} {'first':>10} {'again':>10} {'first/θ=0':>10} "
          f"{'again/θ=0':>10} {'networks':>9}")
    for name, (hypotheses, markers, profiles, dropout) in cases.items():
        base: tuple[float, float] | None = None
        for theta in THETAS:
            def run(theta: float = theta, hypotheses: list[Hypothesis] = hypotheses,
                    markers: list[Marker] = markers,
                    profiles: dict[str, dict[str, tuple[str, str]]] = profiles,
                    dropout: dict[str, float] | None = dropout) -> object:
                return kinship_lr(hypotheses, markers, profiles, theta=theta, dropout=dropout)
            t_first = timed(run, 1)
            t_again = timed(run, args.repeat)
            if base is None:
                base = (t_first, t_again)
            terms = "/".join(str(networks(h.pedigree, markers, profiles, dropout, theta))
                             for h in hypotheses)
            print(f"  {name:<22} {theta:>5} {t_first * 1e3:>8.1f}ms {t_again * 1e3:>8.1f}ms "
                  f"{t_first / base[0]:>9.1f}x {t_again / base[1]:>9.1f}x {terms:>9}",
                  flush=True)
    if args.no_command:
        return
    print("\nθ cost, command level: CPU time of `kinmatch lr examples/missing_person.json "
          "--theta θ` (a new process)\n")
    command_base = None
    for theta in THETAS:
        t = command_time(["lr", "examples/missing_person.json", "--theta", str(theta)],
                         args.repeat)
        command_base = command_base or t
        print(f"  {'missing_person.json':<22} {theta:>5} {t * 1e3:>8.0f}ms "
              f"{t / command_base:>9.2f}x", flush=True)


def networks(pedigree: Any, markers: list[Marker],
             profiles: dict[str, dict[str, tuple[str, str]]],
             dropout: dict[str, float] | None, theta: float) -> int:
    """Networks contracted per marker for one hypothesis (the terms of the
    urn's expansion at the first marker; 1 at θ = 0)."""
    if theta == 0:
        return 1
    full, genotypes = typed_genotypes(markers, profiles, DEFAULT_MINIMUM_FREQUENCY,
                                      dropout, None)
    typed, uncertain = typed_and_uncertain(pedigree, full[0], genotypes[0])
    layout = pedigree_layout(pedigree, frozenset(typed), (), full[0].is_x,
                             frozenset(uncertain))
    alphabet = marker_alphabet(full[0], typed, layout, True, uncertain)
    net = build_network(layout, [alphabet], alphabet.size, theta)
    return len(net.terms) if isinstance(net, NetworkSum) else 1

if __name__ == "__main__":
    main()
