"""Identification accuracy on simulated Chōsei cases: autosomal STRs alone, + drop-out, + lineage.

    uv run python bench/accuracy_bench.py [--cases 3] [--seed 1] [--threshold 1e4]
                                          [--threshold2 1e6] [--recovered 40]

What it measures. Each case is a simulated Chōsei mine flood
(:func:`kinmatch.scenarios.simulate_chosei`, seeds ``S, S+1, ...``): 183
miners, each the missing person of his own family whose living donors are
mostly nephews, nieces, grand-nephews and grandchildren (some families have
none), and ``--recovered`` miners whose remains come as 1–3 degraded
fragments, each typed on its own (GlobalFiler, length-dependent drop-out,
rare drop-in), with Y-STR and mtDNA profiles. Every case is analysed three
ways with the pipeline of ``kinmatch dvi --merge-fragments`` (re-associate
the fragments, then dvir's dviSolve logic, ``solve_case``):

1. **autosomal STRs alone (dvir)** — samples as typed, no drop-out model
   (drop-out 0) and no lineage data: what dvir can do. Fragments whose
   alleles dropped out conflict and may not merge, and a lost allele looks
   like an exclusion;
2. **+ drop-out model** — each sample's drop-out probability estimated by
   maximum likelihood from its own profile, as ``--estimate-dropout`` does
   (:func:`kinmatch.dropout.estimate_case_dropout`); no lineage data;
3. **+ lineage markers (Y, mtDNA)** — the drop-out model and the Y-STR
   haplotypes and mtDNA profiles of remains and relatives, with the case's
   (synthetic) lineage databases.

An identification is a row of the missing-person table whose conclusion
identifies (``Undisputed``, ``Match``, ``Match (GLR)``, ``Symmetric match``)
and names one sample (or merged individual); it is scored against the truth
with :func:`kinmatch.scenarios.score_identifications`: correct (every
fragment of the individual is that miner), false, and missed (recovered
miners with at least one donor that were not identified). The table gives,
per analysis and reporting threshold, the identification rate (correct /
identifiable) and the false-identification rate (false / identifications)
summed over the cases, and the mean wall time per case (drop-out
estimation, fragment merging and ``solve_case``). The reference families'
genotype distributions (one peeling pass per family and marker) do not
depend on the analysis: they are computed once per case, before the three
analyses, and timed on their own (a single ``kinmatch dvi`` run pays them
on top). The goal is zero false identifications and as many correct ones
as possible.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kinmatch.dvi.case import DVICase, estimate_case_dropout, prepare_case
from kinmatch.dvi.pairwise import PairwiseCache, missing_person_distributions
from kinmatch.dvi.reassociation import merge_fragments
from kinmatch.dvi.solve import IDENTIFYING, solve_case
from kinmatch.lineage.settings import LineageSettings
from kinmatch.scenarios.chosei import score_identifications, simulate_chosei

#: Identity LR for merging fragments (``kinmatch dvi --identity-threshold``'s default).
IDENTITY_THRESHOLD = 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def without_lineage(case: DVICase) -> DVICase:
    """The case with every Y haplotype, mtDNA profile and lineage database removed."""
    return replace(
        case,
        samples=[replace(s, y_haplotype=None, mtdna=None) for s in case.samples],
        families=[replace(f, y_haplotypes={}, mtdna_profiles={}) for f in case.families],
        lineage=LineageSettings())


def without_dropout(case: DVICase) -> DVICase:
    """The case with the samples as typed: no drop-out or drop-in modelled."""
    return replace(case, samples=[replace(s, dropout=0.0, dropin=0.0) for s in case.samples])


#: The three analyses: name -> how the simulated case is turned into the analysed one.
ANALYSES: dict[str, Callable[[DVICase], DVICase]] = {
    "autosomal STRs alone (dvir)": lambda c: without_lineage(without_dropout(c)),
    "+ drop-out model": lambda c: without_lineage(estimate_case_dropout(c)),
    "+ lineage markers (Y, mtDNA)": lambda c: estimate_case_dropout(c),
}


@dataclass
class Tally:
    cases: int = 0
    identifiable: int = 0
    correct: int = 0
    false: int = 0
    missed: int = 0
    seconds: float = 0.0
    false_examples: list[str] = field(default_factory=list)

    def add(self, scores: dict[str, Any], seconds: float, seed: int) -> None:
        self.cases += 1
        self.identifiable += scores["identifiable"]
        self.correct += len(scores["correct"])
        self.false += len(scores["false"])
        self.missed += len(scores["missed"])
        self.seconds += seconds
        self.false_examples += [f"seed {seed}: {s} as {m}" for s, m in scores["false"]]


def identifications(solution: Any, truth: dict[str, Any]) -> dict[str, str]:
    """Sample (or merged individual) -> miner, for the identifying AM rows naming one sample
    (as ``kinmatch dvi --truth`` scores them)."""
    miner_of = {name: fam["miner"] for name, fam in truth["families"].items()}
    return {r.sample: miner_of.get(r.family, r.missing_person)
            for r in solution.missing_persons
            if r.conclusion in IDENTIFYING and r.sample and "/" not in r.sample}


def analyse(case: DVICase, truth: dict[str, Any], thresholds: list[float],
            cache: PairwiseCache) -> list[tuple[dict[str, Any], float, int]]:
    """``kinmatch dvi --merge-fragments`` at each threshold: (scores, seconds, merged
    individuals) per threshold; the seconds include the shared fragment merging.
    Every solve shares ``cache`` (the reference families' distributions)."""
    t0 = time.perf_counter()
    merged = merge_fragments(case, threshold=IDENTITY_THRESHOLD)
    fragments = {k: v for k, v in merged.individuals.items() if len(v) > 1}
    t_merge = time.perf_counter() - t0
    out = []
    for threshold in thresholds:
        t0 = time.perf_counter()
        solution = solve_case(merged.case, threshold=threshold, cache=cache)
        seconds = t_merge + time.perf_counter() - t0
        out.append((score_identifications(identifications(solution, truth), truth, fragments),
                    seconds, len(fragments)))
    return out


def pct(num: int, den: int) -> str:
    return f"{100 * num / den:5.1f} %" if den else "    –  "


def print_table(threshold: float, tallies: dict[str, Tally]) -> None:
    print(f"\nReporting threshold LR >= {threshold:g}")
    head = (f"  {'analysis':<30} {'cases':>5} {'identifiable':>12} {'correct':>16} "
            f"{'false':>14} {'missed':>6} {'s/case':>7}")
    print(head)
    print("  " + "-" * (len(head) - 2))
    for name, t in tallies.items():
        ids = t.correct + t.false
        print(f"  {name:<30} {t.cases:>5} {t.identifiable:>12} "
              f"{t.correct:>6} ({pct(t.correct, t.identifiable)}) "
              f"{t.false:>4} ({pct(t.false, ids)}) {t.missed:>6} "
              f"{t.seconds / max(t.cases, 1):>7.1f}")
    for name, t in tallies.items():
        if t.false_examples:
            print(f"  false identifications, {name}: " + "; ".join(t.false_examples))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=3, help="simulated cases (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first case (default 1)")
    ap.add_argument("--threshold", type=float, default=1e4,
                    help="reporting LR threshold (default 1e4, as kinmatch dvi)")
    ap.add_argument("--threshold2", type=float, default=1e6,
                    help="a second reporting threshold (default 1e6; 0: none)")
    ap.add_argument("--recovered", type=int, default=40,
                    help="recovered miners per case (default 40)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    thresholds = [args.threshold] + ([args.threshold2] if args.threshold2 else [])

    print(__doc__.split("What it measures. ", 1)[1].strip())
    print(f"\n{args.cases} case(s), seeds {args.seed}..{args.seed + args.cases - 1}, "
          f"{args.recovered} recovered miners each; thresholds "
          + ", ".join(f"{t:g}" for t in thresholds), flush=True)

    tallies = {t: {name: Tally() for name in ANALYSES} for t in thresholds}
    family_seconds: list[float] = []
    t_all = time.perf_counter()
    for i in range(args.cases):
        seed = args.seed + i
        t0 = time.perf_counter()
        scenario = simulate_chosei(seed, recovered=args.recovered)
        case, truth = scenario.case, scenario.truth
        del scenario
        # the family distributions are the same for every analysis: peel them
        # once, timed, into the cache every analysis of this case shares
        cache = PairwiseCache()
        t1 = time.perf_counter()
        missing_person_distributions(prepare_case(without_lineage(case)), cache=cache)
        t_families = time.perf_counter() - t1
        family_seconds.append(t_families)
        print(f"\ncase {i + 1}/{args.cases} (seed {seed}): {len(case.samples)} fragments of "
              f"{len(truth['recovered'])} miners, {len(case.families)} families with donors; "
              f"simulated and families peeled in {time.perf_counter() - t0:.1f} s "
              f"(peeling {t_families:.1f} s)", flush=True)
        for name, build in ANALYSES.items():
            t0 = time.perf_counter()
            analysed = build(case)
            t_build = time.perf_counter() - t0
            results = analyse(analysed, truth, thresholds, cache)
            del analysed
            for threshold, (scores, seconds, _) in zip(thresholds, results):
                tallies[threshold][name].add(scores, t_build + seconds, seed)
            parts = ", ".join(
                f"LR>={th:g}: {len(s['correct'])} correct, {len(s['false'])} false, "
                f"{len(s['missed'])} missed of {s['identifiable']}"
                for th, (s, _, _) in zip(thresholds, results))
            print(f"  {name:<30} {results[0][2]:>3} merged individuals; {parts}  "
                  f"[{t_build + results[0][1]:.1f} s, peak {peak_mb():.0f} MB]", flush=True)
        del case, truth, cache
        gc.collect()

    for threshold in thresholds:
        print_table(threshold, tallies[threshold])
    print(f"\nReference families' distributions (shared by the analyses, not in s/case): "
          f"{sum(family_seconds) / max(len(family_seconds), 1):.1f} s per case.")
    print(f"correct: % of the identifiable (recovered miners with a donor); false: % of the "
          f"identifications. Total {time.perf_counter() - t_all:.0f} s, "
          f"peak memory {peak_mb():.0f} MB.")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
