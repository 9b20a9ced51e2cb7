"""The DVI pairwise path against the kinship path on random cases (issue 13, item 9).

A pairwise LR of ``kinmatch dvi`` (:func:`kinmatch.dvi.pairwise.pairwise_lr`:
the missing person's genotype distribution given the family, looked up and
divided by the sample's population probability) must equal the kinship LR
of ``kinmatch lr`` (:func:`kinmatch.kinship.lr.kinship_lr`: two whole
pedigrees peeled) for the same two hypotheses:

* H1: the family with the sample in the missing person's place;
* H2: the family (the missing person untyped, renamed) beside the sample as
  an unrelated person.

Both hypotheses give the pair one sex (:func:`kinmatch.dvi.pairwise.pair_sexes`):
the sample's if recorded, or female when the sample shows two alleles at an
X-linked marker without drop-in (a man has one X); else the missing
person's. When neither is known X-linked markers say nothing about the
pair: their LR is 1. Where the two differ the pair is impossible (NaN,
incompatibility count -1).

The cases are drawn from a seeded :class:`numpy.random.Generator` over every
feature the two paths handle separately: autosomal and X-linked markers;
no mutation and the equal, proportional, stepwise and one-step models, each
possibly stationary ("PM") and with different rates for the sexes; allele
frequencies that sum to 1 only within the accepted tolerance (1 ± 7e-7);
silent alleles; alleles the database lacks; θ > 0 (small pedigrees only);
drop-out and drop-in of samples and relatives; loops (a child of first
cousins); inbred founders; two missing persons in a family; missing
persons and samples of unknown sex. Every per-marker natural-log LR must
agree to 1e-9 (relative where larger than 1). Alongside, on the same cases:
the incompatibility counts against the kinship path without mutation, the
screening path (:func:`~kinmatch.dvi.pairwise.pairwise_candidates`)
against the dense matrix, and the joint analysis's gain of two samples
placed in a family's two missing persons against the kinship LR of both
placed. A failure prints the seed and the whole case; rerun one with
``check_seed(seed)``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from enumeration import brute_force_likelihood
from support import quiet, run_cli

from kinmatch.dvi.case import (
    DVICase,
    PostMortemSample,
    PreparedCase,
    ReferenceFamily,
    prepare_case,
)
from kinmatch.dvi.joint import FamilyGain
from kinmatch.dvi.pairwise import (
    PairwiseCandidates,
    PairwiseLR,
    family_log_likelihoods,
    observed_log_probabilities,
    pairwise_candidates,
    pairwise_lr,
)
from kinmatch.errors import MarkerError
from kinmatch.formats.dvi_json import write_dvi_case
from kinmatch.kinship.case import Hypothesis
from kinmatch.kinship.lr import kinship_lr
from kinmatch.markers import Marker
from kinmatch.pedigree import Individual, Pedigree, Sex, pedigree_from_records
from kinmatch.simulate import simulate_genotypes

#: Agreement of the natural-log LRs (relative where larger than 1).
TOLERANCE = 1e-9
#: Seeds of the fast tier and of the wider sweep (``slow``).
FAST_SEEDS = range(100)
SLOW_SEEDS = range(100, 1000)

#: Families: (name, rows (id, father, mother, sex), missing persons, whether
#: small enough for θ). Sex 0 marks a person whose sex the case may leave
#: unknown (a leaf; drawn male or female otherwise).
FAMILIES: tuple[tuple[str, tuple[tuple[str, str | None, str | None, int], ...],
                      tuple[str, ...], bool], ...] = (
    ("nuclear", (("F", None, None, 1), ("Mo", None, None, 2), ("MP", "F", "Mo", 0),
                 ("Sib", "F", "Mo", 2)), ("MP",), True),
    ("missing father", (("MP", None, None, 1), ("Mo", None, None, 2), ("C1", "MP", "Mo", 1),
                        ("C2", "MP", "Mo", 2)), ("MP",), True),
    ("half sibling", (("F", None, None, 1), ("Mo1", None, None, 2), ("Mo2", None, None, 2),
                      ("MP", "F", "Mo1", 0), ("H", "F", "Mo2", 1)), ("MP",), True),
    ("avuncular", (("GF", None, None, 1), ("GM", None, None, 2), ("P", "GF", "GM", 1),
                   ("U", "GF", "GM", 2), ("W", None, None, 2), ("MP", "P", "W", 0)),
     ("MP",), False),
    ("two missing", (("F", None, None, 1), ("Mo", None, None, 2), ("MP", "F", "Mo", 0),
                     ("MP2", "F", "Mo", 1), ("Sib", "F", "Mo", 2)), ("MP", "MP2"), True),
    ("first-cousin child", (("GF", None, None, 1), ("GM", None, None, 2),
                            ("S1", "GF", "GM", 1), ("S2", "GF", "GM", 2),
                            ("W1", None, None, 2), ("H2", None, None, 1),
                            ("C1", "S1", "W1", 1), ("C2", "H2", "S2", 2),
                            ("MP", "C1", "C2", 0), ("Sib", "C1", "C2", 2)), ("MP",), False),
    ("first cousin in a loop", (("GF", None, None, 1), ("GM", None, None, 2),
                                ("S1", "GF", "GM", 1), ("S2", "GF", "GM", 2),
                                ("W1", None, None, 2), ("H2", None, None, 1),
                                ("MP", "S1", "W1", 1), ("C2", "H2", "S2", 2),
                                ("K", "MP", "C2", 2)), ("MP",), False),
)


def _frequencies(rng: np.random.Generator, n: int) -> np.ndarray:
    """Frequencies that sum to 1 only within the accepted tolerance, often."""
    p = rng.dirichlet(np.full(n, 2.0))
    p = np.maximum(p, 0.02)
    p = p / p.sum()
    drift = rng.choice([0.0, 7e-7, -7e-7, float(rng.uniform(-9e-7, 9e-7))])
    return p * (1.0 + drift)


def _one_model(rng: np.random.Generator, kind: str) -> dict[str, Any]:
    rate = float(rng.choice([0.002, 0.01, 0.05] if kind == "proportional"
                            else [0.002, 0.01, 0.05, 0.15]))
    spec: dict[str, Any] = {"model": kind, "rate": rate}
    if kind == "stepwise":
        spec.update(rate2=float(rng.choice([0.0, 1e-4, 0.01])),
                    range=float(rng.choice([0.1, 0.5, 0.9])))
    if rng.random() < 0.3:
        spec["transform"] = "PM"
    return spec


def _mutation(rng: np.random.Generator) -> dict[str, Any] | None:
    kind = str(rng.choice(["none", "equal", "proportional", "stepwise", "onestep"]))
    if kind == "none":
        return None
    if rng.random() < 0.35:  # the sexes mutate at different rates
        return {"female": _one_model(rng, kind), "male": _one_model(rng, kind)}
    return _one_model(rng, kind)


def _marker(rng: np.random.Generator, name: str, chromosome: str) -> Marker:
    n = int(rng.integers(2, 6))
    start = int(rng.integers(8, 14))
    alleles = [str(start + i) for i in range(n)]
    if n >= 3 and rng.random() < 0.25:  # a microvariant: stepwise's second group
        alleles[-1] = f"{start + n - 2}.3"
    silent = "silent" if rng.random() < 0.1 else None
    if silent:  # a silent (null) allele: carried, never seen
        alleles.append(silent)
    freqs = _frequencies(rng, len(alleles))
    spec = _mutation(rng)
    try:
        return Marker.create(name, alleles, freqs, chromosome=chromosome, mutation=spec,
                             silent_allele=silent)
    except MarkerError:  # no stationary version of that model: the model without "PM"
        if spec is not None:
            for part in (spec, spec.get("female"), spec.get("male")):
                if isinstance(part, dict):
                    part.pop("transform", None)
        return Marker.create(name, alleles, freqs, chromosome=chromosome, mutation=spec,
                             silent_allele=silent)


def _family(rng: np.random.Generator, index: int, small: bool
            ) -> tuple[ReferenceFamily, Pedigree]:
    """A random family; and its pedigree with every sex known (for simulating)."""
    choices = [f for f in FAMILIES if f[3]] if small else list(FAMILIES)
    _, rows, missing, _ = choices[int(rng.integers(len(choices)))]
    suffix = f"_{index}"
    records, known = [], []
    for pid, father, mother, sex in rows:
        drawn = sex if sex else int(rng.choice([1, 2]))
        kept = sex if sex else (0 if rng.random() < 0.35 else drawn)
        ids = {"id": pid + suffix, "father": father and father + suffix,
               "mother": mother and mother + suffix}
        records.append({**ids, "sex": kept})
        known.append({**ids, "sex": drawn})
    founders = [r["id"] for r in records if r["father"] is None]
    inbreeding = {}
    if rng.random() < 0.25 and not small:  # (θ and founder inbreeding do not combine)
        inbreeding[str(rng.choice(founders))] = float(rng.choice([0.0625, 0.125, 0.25]))
    return (ReferenceFamily(f"F{index}", pedigree_from_records(records, inbreeding),
                            tuple(m + suffix for m in missing)),
            pedigree_from_records(known))


def _profile(marker_names: Sequence[str], markers: Sequence[Marker], alleles: np.ndarray,
             male: bool, rng: np.random.Generator, typed_fraction: float
             ) -> dict[str, tuple[str, ...]]:
    profile = {}
    for name, m, (a, b) in zip(marker_names, markers, alleles):
        if rng.random() > typed_fraction:
            continue
        if m.is_x and male:
            b = a
        seen = [m.alleles[int(x)] for x in (a, b) if m.alleles[int(x)] != m.silent_allele]
        if seen:  # (a silent allele shows nothing)
            profile[name] = (seen[0], seen[-1])
    return profile


def random_case(seed: int) -> DVICase:
    """A random small DVI case (see the module docstring)."""
    rng = np.random.default_rng(seed)
    theta = float(rng.choice([0.01, 0.05])) if rng.random() < 0.15 else 0.0
    n_auto, n_x = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    if n_auto + n_x == 0:
        n_x = 1
    markers = ([_marker(rng, f"A{i}", "autosomal") for i in range(n_auto)]
               + [_marker(rng, f"X{i}", "X") for i in range(n_x)])
    if theta:  # the θ factor grows as alleles ** founder alleles: keep it small
        markers = [m for m in markers if m.n_alleles <= 4] or [_marker(rng, "A9", "autosomal")]
    names = [m.name for m in markers]
    families, truths = [], []
    for f in range(int(rng.integers(1, 3))):
        fam, known = _family(rng, f, small=theta > 0)
        sims = simulate_genotypes(known, markers, 1, rng)
        relatives = [p for p in fam.pedigree.ids if p not in fam.missing]
        profiles = {}
        for pid in relatives:
            if rng.random() < 0.6:
                male = known.sex(pid) == Sex.MALE
                profile = _profile(names, markers, sims[pid][0], male, rng, 0.9)
                if profile:
                    profiles[pid] = profile
        dropout = {pid: float(rng.choice([0.1, 0.3])) for pid in profiles
                   if rng.random() < 0.1 and not theta}
        fam = ReferenceFamily(fam.name, fam.pedigree, fam.missing, profiles, dropout=dropout)
        families.append(fam)
        truths.extend((sims[mp][0], known.sex(mp)) for mp in fam.missing)
    samples = []
    for s in range(int(rng.integers(2, 5))):
        sex = Sex(int(rng.integers(0, 3)))
        if truths and rng.random() < 0.6:  # the remains of a missing person
            alleles, true_sex = truths[int(rng.integers(len(truths)))]
            sex = sex if rng.random() < 0.3 else Sex(int(rng.choice([0, int(true_sex)])))
        else:
            alleles = np.array([[rng.choice(m.n_alleles, p=m.allele_frequencies
                                             / m.allele_frequencies.sum()) for _ in range(2)]
                                for m in markers])
            true_sex = sex if sex != Sex.UNKNOWN else Sex(int(rng.integers(1, 3)))
        profile = _profile(names, markers, alleles, Sex.MALE in (sex, true_sex), rng, 0.85)
        if rng.random() < 0.08 and profile:  # an allele the database lacks
            name = str(rng.choice(sorted(profile)))
            marker = next(m for m in markers if m.name == name)
            # (a stationary model may have no version with one allele more)
            if not (marker.is_x and sex != Sex.FEMALE) and "PM" not in str(marker.mutation_spec):
                profile[name] = (profile[name][0], "99")
        degraded = rng.random() < 0.3 and not (theta and any(f.dropout for f in families))
        samples.append(PostMortemSample(
            f"V{s}", profile, sex,
            dropout=float(rng.choice([0.05, 0.2, 0.5])) if degraded else 0.0,
            dropin=float(rng.choice([0.0, 0.02])) if degraded else 0.0))
    return DVICase(markers, samples, families, theta=theta)


def _model_kinds(marker: Marker) -> set[str]:
    spec = marker.mutation_spec
    if spec is None:
        return {"no mutation"}
    parts = [spec["female"], spec["male"]] if "female" in spec else [spec]
    kinds = {str(part["model"]) for part in parts}
    kinds |= {f"{part['model']} PM" for part in parts if part.get("transform") == "PM"}
    return kinds | ({"sex-specific rates"} if len(parts) == 2 else set())


def features(case: DVICase) -> set[str]:
    """The features a random case exercises (what the fast seeds must cover)."""
    out: set[str] = set()
    for m in case.markers:
        out |= {f"{m.chromosome} {kind}" for kind in _model_kinds(m)}
        if abs(float(m.allele_frequencies.sum()) - 1.0) > 1e-7:
            out.add(f"{m.chromosome} frequencies summing to 1 ± 7e-7")
        if m.silent_allele is not None:
            out.add("silent allele")
    if case.theta > 0:
        out.add("theta")
    for fam in case.families:
        out |= {"loop"} if fam.pedigree.has_loops() else set()
        out |= {"inbred founder"} if fam.pedigree.founder_inbreeding else set()
        out |= {"relative with drop-out"} if fam.dropout else set()
        out |= {"two missing persons"} if len(fam.missing) > 1 else set()
        if any(fam.pedigree.sex(mp) == Sex.UNKNOWN for mp in fam.missing):
            out.add("missing person of unknown sex")
    x = {m.name for m in case.markers if m.is_x}
    known = {a for m in case.markers for a in m.alleles}
    for sample in case.samples:
        out |= {"sample with drop-out"} if sample.dropout else set()
        out |= {"sample with drop-in"} if sample.dropin else set()
        if sample.sex == Sex.UNKNOWN:
            out.add("sample of unknown sex")
            if any(len(set(sample.profile.get(name, ()))) == 2 for name in x):
                out.add("sample of unknown sex heterozygous at X")
        if any(a not in known for alleles in sample.profile.values() for a in alleles):
            out.add("allele not in the database")
    return out


def describe(seed: int, case: DVICase) -> str:
    """The whole case, to reproduce a failure by eye or with ``random_case(seed)``."""
    lines = [f"seed {seed}: theta {case.theta}"]
    for m in case.markers:
        lines.append(f"  marker {m.name} ({m.chromosome}, silent allele {m.silent_allele}): "
                     + ", ".join(f"{a}={p:.12g}" for a, p in zip(m.alleles, m.allele_frequencies))
                     + f" (sum {m.allele_frequencies.sum():.12g}); mutation {m.mutation_spec}")
    for fam in case.families:
        lines.append(f"  family {fam.name}, missing {', '.join(fam.missing)}")
        for x in fam.pedigree:
            lines.append(f"    {x.id} father={x.father} mother={x.mother} sex={int(x.sex)}"
                         + (f" inbreeding={fam.pedigree.founder_inbreeding[x.id]}"
                            if x.id in fam.pedigree.founder_inbreeding else ""))
        for pid, prof in fam.profiles.items():
            lines.append(f"    typed {pid}: {dict(prof)}"
                         + (f" dropout={fam.dropout[pid]}" if pid in fam.dropout else ""))
    for s in case.samples:
        lines.append(f"  sample {s.id} sex={int(s.sex)} dropout={s.dropout} dropin={s.dropin}: "
                     f"{dict(s.profile)}")
    return "\n".join(lines)


def _placed(ped: Pedigree, renames: Mapping[str, str], sexes: Mapping[str, Sex]) -> Pedigree:
    """``ped`` with people renamed (``renames``) and given sexes (``sexes``, by old id)."""
    def r(pid: str | None) -> str | None:
        return None if pid is None else renames.get(pid, pid)
    return Pedigree([Individual(str(r(x.id)), sexes.get(x.id, x.sex), r(x.father), r(x.mother))
                     for x in ped],
                    {str(r(k)): v for k, v in ped.founder_inbreeding.items()})


def pair_sex(sample: PostMortemSample, mp_sex: Sex, x_markers: Sequence[str]) -> Sex | None:
    """The sex both hypotheses give the pair; ``None`` when the sexes differ
    (an impossible pair); ``Sex.UNKNOWN`` when nothing tells it. A sample
    heterozygous at an X-linked marker, without drop-in, is female."""
    sex = sample.sex
    if (sex == Sex.UNKNOWN and sample.dropin == 0
            and any(len(set(sample.profile.get(x, ()))) == 2 for x in x_markers)):
        sex = Sex.FEMALE
    if Sex.UNKNOWN not in (sex, mp_sex) and sex != mp_sex:
        return None
    return sex if sex != Sex.UNKNOWN else mp_sex


#: One sample placed as one missing person, with the pair's sex.
Placement = tuple[str, PostMortemSample, Sex]


def _hypotheses(case: DVICase, markers: Sequence[Marker], fam: ReferenceFamily,
                placements: Sequence[Placement]) -> tuple[list[Hypothesis], dict[str, Any],
                                                          dict[str, float], dict[str, float]]:
    """H1 (every sample in its missing person's place) and H2 (the family, its
    missing persons untyped and renamed, beside the samples as unrelated
    people), each sample with its pair's sex and, where that is unknown,
    untyped at the X-linked markers; the profiles, drop-out and drop-in."""
    x = {m.name for m in markers if m.is_x}
    sexes = {mp: sex for mp, _, sex in placements}
    h1 = Hypothesis("H1", _placed(fam.pedigree, {}, sexes))
    beside = _placed(fam.pedigree, {mp: f"__untyped_{mp}" for mp in sexes}, sexes)
    h2 = Hypothesis("H2", Pedigree([*beside, *(Individual(mp, sex) for mp, sex in sexes.items())],
                                   beside.founder_inbreeding))
    profiles: dict[str, Any] = {pid: dict(prof) for pid, prof in fam.profiles.items()}
    dropout = dict(fam.dropout)
    dropin: dict[str, float] = {}
    for mp, sample, sex in placements:
        profiles[mp] = {k: v for k, v in sample.profile.items()
                        if not (k in x and sex == Sex.UNKNOWN)}
        if sample.dropout:
            dropout[mp] = sample.dropout
        if sample.dropin:
            dropin[mp] = sample.dropin
    profiles = {pid: prof for pid, prof in profiles.items() if prof}
    return ([h1, h2], profiles, {p: d for p, d in dropout.items() if p in profiles},
            {p: c for p, c in dropin.items() if p in profiles})


def kinship_log_lr(case: DVICase, markers: Sequence[Marker], fam: ReferenceFamily,
                   placements: Sequence[Placement]) -> np.ndarray:
    """Per-marker natural-log LR of H1 against H2 (:func:`_hypotheses`) by the
    kinship path (markers as the DVI case extends them); 0 where no placed
    sample is read."""
    hypotheses, profiles, dropout, dropin = _hypotheses(case, markers, fam, placements)
    read = {k for mp, _, _ in placements for k in profiles.get(mp, {})}
    if not read:
        return np.zeros(len(markers))
    result = kinship_lr(hypotheses, markers, profiles, theta=case.theta, reference="H2",
                        dropout=dropout, dropin=dropin)
    log_lr = result.log_lr("H1")
    return np.array([log_lr[k] if m.name in read else 0.0 for k, m in enumerate(markers)])


def mendelian_incompatibilities(case: DVICase, markers: Sequence[Marker], fam: ReferenceFamily,
                                placement: Placement) -> int:
    """The markers read in the placed sample where H1 is impossible without mutation."""
    hypotheses, profiles, dropout, dropin = _hypotheses(case, markers, fam, [placement])
    read = profiles.get(placement[0], {})
    if not read:
        return 0
    mendel = [replace(m, mutation=None, mutation_spec=None) for m in markers]
    loglik = kinship_lr(hypotheses[:1], mendel, profiles, theta=case.theta, dropout=dropout,
                        dropin=dropin).loglik[0]
    return sum(1 for m, ll in zip(markers, loglik) if m.name in read and ll == -math.inf)


def _agree(got: float, want: float) -> bool:
    if math.isnan(want) or math.isinf(want):
        return got == want or (math.isnan(got) and math.isnan(want))
    return math.isfinite(got) and abs(got - want) <= TOLERANCE * max(1.0, abs(want))


def _screening_problems(candidates: PairwiseCandidates, s: int, c: int,
                        result: PairwiseLR) -> list[str]:
    """Where the screening path's entry for pair (s, c) differs from the dense matrix's."""
    where = np.flatnonzero(candidates.missing_index[s] == c)
    dense = float(result.log_lr[s, c])
    if not len(where):  # impossible pairs are no candidates
        return [] if not dense > -math.inf else [f"{result.samples[s]} ~ {result.missing[c]}: "
                                                 f"not a screening candidate (dense {dense!r})"]
    got, count = float(candidates.log_lr[s, where[0]]), candidates.incompatible[s, where[0]]
    if not _agree(got, dense) or count != result.incompatible[s, c]:
        return [f"{result.samples[s]} ~ {result.missing[c]}: screening {got!r} ({count} "
                f"incompatible), dense {dense!r} ({result.incompatible[s, c]})"]
    return []


def _joint_problems(case: DVICase, prepared: PreparedCase, result: PairwiseLR) -> list[str]:
    """Where the joint analysis's gain of two samples placed in a family's two
    missing persons (:class:`~kinmatch.dvi.joint.FamilyGain`, batched as
    :func:`~kinmatch.dvi.joint.joint_identification` asks for it) differs
    from the kinship LR of both placed against both unrelated."""
    markers = list(prepared.markers)
    x_markers = [m.name for m in markers if m.is_x]
    sexes = np.array([int(s.sex) for s in case.samples])
    with quiet():
        family_ll = family_log_likelihoods(prepared)
        gain = FamilyGain(prepared, result,
                          observed_log_probabilities(prepared, sexes == Sex.MALE).sum(axis=1),
                          family_ll)
    requests = []
    for f, fam in enumerate(case.families):
        if len(fam.missing) < 2 or not np.isfinite(family_ll[f]):
            continue
        (m1, c1), (m2, c2) = ((mp, result.missing.index(mp)) for mp in fam.missing[:2])
        for s1, s2 in itertools.permutations(range(len(case.samples)), 2):
            placed = [(m1, case.samples[s1], pair_sex(case.samples[s1], fam.pedigree.sex(m1),
                                                      x_markers)),
                      (m2, case.samples[s2], pair_sex(case.samples[s2], fam.pedigree.sex(m2),
                                                      x_markers))]
            if all(sex is not None for _, _, sex in placed):
                requests.append((f, ((s1, c1), (s2, c2)), placed))
    with quiet():
        gain.prefetch([(f, key) for f, key, _ in requests])
    problems = []
    for f, key, placed in requests:
        with quiet():
            want = float(kinship_log_lr(case, markers, case.families[f], placed).sum())
            got = gain(f, key)
        if not _agree(got, want if not math.isnan(want) else -math.inf):
            problems.append(f"joint gain of {' and '.join(f'{s.id} ~ {mp}' for mp, s, _ in placed)}"
                            f": {got!r}, kinship {want!r}")
    return problems


def check_seed(seed: int) -> int:
    """Compare every pair of the random case ``seed``; the number of pairs compared."""
    case = random_case(seed)
    with quiet():
        prepared = prepare_case(case)
        result = pairwise_lr(prepared)
        candidates = pairwise_candidates(prepared, top=len(result.missing), chunk_size=2)
    markers = list(prepared.markers)
    x_markers = [m.name for m in markers if m.is_x]
    compared = 0
    problems = []
    for fam in case.families:
        for mp in fam.missing:
            c = result.missing.index(mp)
            for s, sample in enumerate(case.samples):
                got = result.log_lr_per_marker[s, c]
                sex = pair_sex(sample, fam.pedigree.sex(mp), x_markers)
                if sex is None:
                    if not (np.all(np.isnan(got)) and result.incompatible[s, c] == -1):
                        problems.append(f"{sample.id} ~ {mp}: sexes differ, DVI gives {got}")
                    continue
                with quiet():
                    want = kinship_log_lr(case, markers, fam, [(mp, sample, sex)])
                    incompatible = mendelian_incompatibilities(case, markers, fam,
                                                               (mp, sample, sex))
                compared += 1
                bad = [k for k in range(len(markers)) if not _agree(got[k], want[k])]
                total_got, total_want = float(result.log_lr[s, c]), float(want.sum())
                if bad or not _agree(total_got, total_want):
                    problems.append(
                        f"{sample.id} ~ {mp} (pair sex {sex.name}): "
                        + "; ".join(f"{markers[k].name} DVI {got[k]!r} kinship {want[k]!r}"
                                    for k in bad)
                        + f"; total DVI {total_got!r} kinship {total_want!r}")
                if result.incompatible[s, c] != incompatible:
                    problems.append(f"{sample.id} ~ {mp}: {result.incompatible[s, c]} "
                                    f"incompatibilities, kinship (no mutation) {incompatible}")
                problems.extend(_screening_problems(candidates, s, c, result))
    problems.extend(_joint_problems(case, prepared, result))
    assert not problems, ("the DVI and kinship paths disagree:\n  " + "\n  ".join(problems)
                          + "\n" + describe(seed, case))
    return compared


def test_the_fast_seeds_cover_every_feature():
    """The fast tier alone meets every feature, for both chromosomes where it applies."""
    wanted = {f"{chromosome} {kind}" for chromosome in ("autosomal", "X")
              for kind in ("no mutation", "equal", "proportional", "stepwise", "onestep",
                           "equal PM", "proportional PM", "stepwise PM", "sex-specific rates",
                           "frequencies summing to 1 ± 7e-7")}
    wanted |= {"silent allele", "theta", "loop", "inbred founder", "relative with drop-out",
               "two missing persons", "missing person of unknown sex", "sample with drop-out",
               "sample with drop-in", "sample of unknown sex",
               "sample of unknown sex heterozygous at X", "allele not in the database"}
    met: set[str] = set()
    for seed in FAST_SEEDS:
        met |= features(random_case(seed))
    assert wanted <= met, f"not covered: {sorted(wanted - met)}"


@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_dvi_pairwise_equals_kinship_lr(seed):
    check_seed(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW_SEEDS)
def test_dvi_pairwise_equals_kinship_lr_wide(seed):
    check_seed(seed)


# ---------------------------------------------------------------------------
# The faults of issue 13, item 9, each against an independent number


def _looped_x_case() -> tuple[DVICase, Marker, Pedigree, dict[str, tuple[int, int]]]:
    """A child of first cousins (MP, sex unknown) at an X-linked stepwise marker
    whose frequencies sum to 1 + 7e-7; the cousins and a grandmother typed."""
    rows = (("GF", None, None, 1), ("GM", None, None, 2), ("S1", "GF", "GM", 1),
            ("S2", "GF", "GM", 2), ("W1", None, None, 2), ("H2", None, None, 1),
            ("C1", "S1", "W1", 1), ("C2", "H2", "S2", 2), ("MP", "C1", "C2", 0))
    ped = pedigree_from_records([{"id": i, "father": f, "mother": m, "sex": s}
                                 for i, f, m, s in rows])
    freqs = np.array([0.2, 0.3, 0.5]) * (1 + 7e-7)
    marker = Marker.create("DXS8378", ["10", "11", "12"], freqs, chromosome="X",
                           mutation={"model": "stepwise", "rate": 0.05, "rate2": 0.0,
                                     "range": 0.5})
    typed = {"GM": ("10", "11"), "C1": ("11", "11"), "C2": ("10", "12")}
    samples = [PostMortemSample("man", {"DXS8378": ("11", "11")}, Sex.MALE),
               PostMortemSample("woman", {"DXS8378": ("11", "12")}, Sex.FEMALE),
               PostMortemSample("heterozygote", {"DXS8378": ("10", "11")}, Sex.UNKNOWN),
               PostMortemSample("homozygote", {"DXS8378": ("12", "12")}, Sex.UNKNOWN)]
    family = ReferenceFamily("F", ped, ("MP",), {p: {"DXS8378": g} for p, g in typed.items()})
    index = {p: (marker.allele_index(a), marker.allele_index(b)) for p, (a, b) in typed.items()}
    return DVICase([marker], samples, [family]), marker, ped, index


def test_missing_person_of_unknown_sex_at_x_equals_brute_force_enumeration():
    """The missing person of unknown sex is read with the pair's sex: as a man
    for a male sample (one X allele, from the mother), as a woman for a
    female or heterozygous sample. Each LR is the ratio of brute-force sums
    over every allele of everyone (tests/enumeration.py), with the sample's
    population probability p_a (a man) or 2 p_a p_b (a woman). Before, the
    man's LR read a two-allele missing person against a one-allele sample
    (ln LR -2.249 here where the enumeration gives -2.197), the heterozygote's
    was +inf and the homozygote's -3.72."""
    case, marker, ped, index = _looped_x_case()
    with quiet():
        result = pairwise_lr(prepare_case(case))
    p = marker.allele_frequencies
    family = brute_force_likelihood(ped, marker, index)
    for s, sample in enumerate(case.samples):
        a, b = (marker.allele_index(x) for x in sample.profile["DXS8378"])
        if sample.id == "homozygote":  # neither sex known: X says nothing
            assert result.log_lr[s, 0] == 0.0 and result.incompatible[s, 0] == 0
            continue
        sex = Sex.MALE if sample.sex == Sex.MALE else Sex.FEMALE
        placed = _placed(ped, {}, {"MP": sex})
        numerator = brute_force_likelihood(placed, marker, {**index, "MP": (a, b)})
        population = p[a] if sex == Sex.MALE else 2 * p[a] * p[b]
        want = math.log(numerator / (family * population))
        assert result.log_lr[s, 0] == pytest.approx(want, rel=1e-12, abs=1e-12), sample.id


def test_heterozygous_sample_of_unknown_sex_at_x_in_the_command(tmp_path):
    """`kinmatch dvi --json` on the issue's case: a missing person of unknown sex
    and a heterozygous sample of unknown sex at an X-linked marker. The pair is
    read as a woman: LR = P(MP = 18/19 | father 18, mother 19/20) / (2 p18 p19)
    = 0.5 / 0.18. A missing man in the same case cannot be that sample (the
    pair is impossible: LR null, incompatibility -1); a homozygous sample of
    unknown sex gets LR 1 from the X marker against the missing person of
    unknown sex and is read as a man against the missing man."""
    ped = pedigree_from_records([{"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
                                 {"id": "MP", "father": "F", "mother": "Mo", "sex": 0},
                                 {"id": "Son", "father": "F", "mother": "Mo", "sex": 1}])
    marker = Marker.create("DXS10135", ["18", "19", "20"], [0.3, 0.3, 0.4], chromosome="X")
    family = ReferenceFamily("F1", ped, ("MP", "Son"), {"F": {"DXS10135": ("18", "18")},
                                                       "Mo": {"DXS10135": ("19", "20")}})
    samples = [PostMortemSample("V1", {"DXS10135": ("18", "19")}),
               PostMortemSample("V2", {"DXS10135": ("20", "20")})]
    path = tmp_path / "x_case.json"
    write_dvi_case(DVICase([marker], samples, [family]), path)
    result = run_cli("dvi", "--no-progress", str(path), "--json")
    assert result.exit_code == 0, result.output
    pairwise = json.loads(result.output)["pairwise"]
    assert pairwise["missing"] == ["MP", "Son"]
    log10_lr, incompatible = pairwise["log10_lr"], pairwise["incompatible"]
    assert log10_lr[0][0] == pytest.approx(math.log10(0.5 / 0.18), rel=1e-12)
    assert log10_lr[0][1] is None and incompatible[0][1] == -1
    assert log10_lr[1][0] == 0.0 and incompatible[1][0] == 0
    assert log10_lr[1][1] == pytest.approx(math.log10(0.5 / 0.4), rel=1e-12)  # the son: Mo's 20
    table = run_cli("dvi", "--no-progress", str(path))
    assert table.exit_code == 0, table.output
    assert "∞" not in table.output
