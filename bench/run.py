"""kinmatch benchmarks: one command, figures printed.

    uv run python bench/run.py            # all benchmarks
    uv run python bench/run.py --quick    # fewer repetitions

Prints the time per pedigree likelihood for
  1. a 3-generation family, 10 typed members x 24 STRs (stepwise mutation),
  2. the same family x 1,000 SNPs,
  3. 50-allele STRs with untyped founders (lumping on and off),
  4. the 44 R-pedsuite reference cases,
and, where ../shared/reference stores R timings for the same job, the ratio.
(The kinship reference file stores none: those R timings are printed as "n/a".)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kinmatch.formats.frequencies import read_frequency_database
from kinmatch.likelihood.peeling import markers_loglik
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

SHARED = ROOT.parent / "shared" / "reference"


def timeit(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def three_generation_family():
    """Grandparents, their 3 children with spouses, 5 grandchildren: 13 people, 10 typed."""
    records = [
        ("GF", None, None, 1), ("GM", None, None, 2),
        ("S1", "GF", "GM", 1), ("W1", None, None, 2),
        ("S2", "GF", "GM", 1), ("W2", None, None, 2),
        ("D3", "GF", "GM", 2), ("H3", None, None, 1),
        ("C1", "S1", "W1", 1), ("C2", "S1", "W1", 2),
        ("C3", "S2", "W2", 1), ("C4", "H3", "D3", 2), ("C5", "H3", "D3", 1),
    ]
    ped = pedigree_from_records(
        [{"id": i, "father": f, "mother": m, "sex": s} for i, f, m, s in records])
    typed = ["GM", "S1", "S2", "D3", "W1", "C1", "C2", "C3", "C4", "C5"]
    return ped, typed


def str_markers(n: int, rng: np.random.Generator) -> list[Marker]:
    db = SHARED / "frequency-databases" / "NorskDB_v2023.txt"
    markers = []
    stepwise = {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}
    if db.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            norway = read_frequency_database(db, normalise=True)
        for name in norway.marker_names[:n]:
            markers.append(norway.marker(name, mutation=stepwise))
    while len(markers) < n:
        k = 15
        f = rng.dirichlet(np.ones(k))
        markers.append(Marker.create(f"STR{len(markers)}", [str(8 + i) for i in range(k)], f,
                                     mutation=stepwise))
    return markers


def simulate_genotypes(ped, typed, marker, rng):
    """Gene-drop (no mutation) to get consistent genotypes."""
    p = marker.allele_frequencies
    alleles = {}
    for pid in ped.order:
        par = ped.parents(pid)
        if par is None:
            alleles[pid] = tuple(rng.choice(len(p), size=2, p=p))
        else:
            alleles[pid] = (alleles[par[0]][rng.integers(2)], alleles[par[1]][rng.integers(2)])
    return {pid: alleles[pid] for pid in typed}


def report(label: str, seconds: float, per: str, r_seconds: float | None = None) -> None:
    ratio = f"{r_seconds / seconds:8.1f}x" if r_seconds else "     n/a"
    print(f"  {label:<58} {seconds * 1e3:10.3f} ms {per:<14} R: {ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 3 if args.quick else 10
    rng = np.random.default_rng(2026)
    ped, typed = three_generation_family()

    print("kinmatch benchmarks (median wall time; 2-core machine)\n")
    print("1. 3-generation family, 13 people, 10 typed, 24 STRs, stepwise mutation")
    strs = str_markers(24, rng)
    genos = [simulate_genotypes(ped, typed, m, rng) for m in strs]
    t = timeit(lambda: markers_loglik(ped, strs, genos), repeat)
    report("pedigree likelihood, 24 STRs", t, "per pedigree")
    report("  per marker", t / len(strs), "per marker")

    print("\n2. same family, 1,000 SNPs (no mutation)")
    snps = [Marker.create(f"rs{i}", ["A", "G"], [q, 1 - q])
            for i, q in enumerate(rng.uniform(0.05, 0.95, 1000))]
    sgenos = [simulate_genotypes(ped, typed, m, rng) for m in snps]
    t = timeit(lambda: markers_loglik(ped, snps, sgenos), repeat)
    report("pedigree likelihood, 1,000 SNPs", t, "per pedigree")
    report("  per marker", t / len(snps), "per marker")

    print("\n3. 50-allele STRs, 4 typed of 13 (untyped founders), equal model")
    big = []
    for i in range(24):
        f = rng.dirichlet(np.ones(50))
        big.append(Marker.create(f"BIG{i}", [str(5 + j) for j in range(50)], f,
                                 mutation={"model": "equal", "rate": 0.002}))
    few = ["C1", "C3", "C4", "S1"]
    bgenos = [simulate_genotypes(ped, few, m, rng) for m in big]

    t_lump = timeit(lambda: markers_loglik(ped, big, bgenos), repeat)
    report("24 markers, lumping on", t_lump, "per pedigree")
    t_full = timeit(lambda: markers_loglik(ped, big, bgenos, lump=False), max(1, repeat // 3))
    report("24 markers, lumping off", t_full, "per pedigree")
    print(f"  lumping speed-up: {t_full / t_lump:.1f}x")

    print("\n4. R-pedsuite reference cases (tests/data/kinship_cases.json)")
    from kinship_cases_bench import reference_jobs  # type: ignore[import-not-found]

    jobs = reference_jobs()
    t = timeit(lambda: [job() for job in jobs], repeat)
    report(f"all {len(jobs)} hypotheses x markers", t, "for all")
    report("  per hypothesis likelihood", t / len(jobs), "per pedigree")
    timings = _r_timings()
    if timings is None:
        print("  (the reference folder stores no R timings for these kinship cases)")


def _r_timings() -> dict[str, float] | None:
    path = SHARED / "kinship_cases.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    found = {c["id"]: c["timing_seconds"] for c in data["cases"] if "timing_seconds" in c}
    return found or None


if __name__ == "__main__":
    main()
