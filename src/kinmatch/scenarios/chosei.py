"""A simulated DVI case modelled on the 1942 Chōsei undersea coal mine flood.

On 3 February 1942 the Chōsei mine (Ube, Yamaguchi) flooded; 183 miners
died, 136 of them Korean forced labourers and 47 Japanese. Remains were
recovered in 2025. The relatives who can give DNA now are 80+ years on:
children of the miners are rare, their siblings are gone, and the donors are
nephews and nieces, grand-nephews and grand-nieces, grandchildren. This
module simulates such a case, with a seed, so that the whole pipeline can be
run, timed and scored against the truth:

* **miners**: 183 men (136 Korean, 47 Japanese), each the missing person of
  his own family, born 1900–1925;
* **families**: parents, 0–4 siblings with spouses, their children and
  grandchildren; a wife and 0–3 children for the married miners, and their
  grandchildren. Who can donate DNA depends on the generation: a miner's
  child with probability 0.1, a nephew or niece 0.5, a grand-nephew or
  grand-niece 0.35, a grandchild 0.5 (at most four donors per family).
  Some families have no donor at all. The miner's generation and above,
  most of his children and some nephews and nieces are recorded as
  deceased, so power planning proposes only living relatives;
* **markers**: the 21 autosomal STRs of GlobalFiler with a stepwise mutation
  model (rate 0.002), the Yfiler Plus Y-STRs (per-locus rates of
  :data:`kinmatch.lineage.ystr.YFILER_PLUS_RATES`) and the mtDNA control
  region;
* **allele frequencies**: the case's autosomal STR frequencies are norSTR's
  **East Asian database** (version 2023, MIT licence; shipped in
  ``kinmatch/scenarios/data`` with its licence), the published table a
  laboratory would use, at every GlobalFiler locus it covers; a locus it does
  not cover gets a SYNTHETIC East-Asian-like distribution, named in the
  case's title and the truth's ``synthetic_loci``. The Korean and Japanese
  miners' families are simulated from each population's own frequencies,
  drawn around the case's table with F_ST = 0.005 (SYNTHETIC; no Korean or
  Japanese table can be shipped with kinmatch), so the case has the
  population structure that θ accounts for;
* **remains**: most victims are not recovered; each recovered victim gives
  1–3 **fragments**, each typed on its own. Drop-out rises with amplicon
  length and the fragment's degradation (a logistic model in the amplicon
  length, approximate GlobalFiler sizes), with rare drop-in; some fragments
  have no sex call;
* **lineage data**: Y haplotypes and mtDNA profiles pass down the paternal
  and maternal lines with mutation; population haplotypes come from
  synthetic haplogroup-like clusters, and the case carries SYNTHETIC Y-STR
  and mtDNA databases of 500 profiles per population (named so: no Korean
  or Japanese lineage database can be shipped either);
* **truth**: which fragments are which miner, which miners were recovered.

Everything is reproducible from the seed. Use :func:`simulate_chosei` for
the objects and :func:`write_chosei` for the files a user runs
``kinmatch dvi`` on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.formats.frequencies import parse_familias_frequencies
from kinmatch.lineage.mtdna import MtDatabase, parse_mt_profile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YFILER_PLUS_RATES, YDatabase, make_haplotype
from kinmatch.markers import FrequencyDatabase, Marker
from kinmatch.pedigree import Pedigree, Sex, pedigree_from_records
from kinmatch.simulate import simulate_genotypes

#: The 21 autosomal STRs of GlobalFiler: (name, approximate amplicon length in
#: bp used by the degradation model, lowest and highest repeat, microvariants);
#: the repeats and microvariants serve only a locus the frequency database lacks
#: (its SYNTHETIC distribution, :func:`scenario_markers`).
GLOBALFILER: tuple[tuple[str, int, int, int, tuple[str, ...]], ...] = (
    ("D3S1358", 110, 11, 20, ()), ("vWA", 170, 11, 22, ()), ("D16S539", 290, 5, 15, ()),
    ("CSF1PO", 320, 6, 15, ()), ("TPOX", 330, 6, 13, ()), ("D8S1179", 110, 8, 19, ()),
    ("D21S11", 210, 24, 38, ("29.2", "30.2", "31.2", "32.2", "33.2", "34.2")),
    ("D18S51", 320, 9, 27, ()), ("D2S441", 90, 9, 16, ("11.3", "14.3")),
    ("D19S433", 140, 9, 18, ("13.2", "14.2", "15.2")), ("TH01", 180, 5, 10, ("9.3",)),
    ("FGA", 280, 17, 30, ("21.2", "22.2", "23.2")), ("D22S1045", 100, 10, 19, ()),
    ("D5S818", 140, 7, 16, ()), ("D13S317", 210, 7, 15, ()), ("D7S820", 250, 6, 14, ()),
    ("SE33", 410, 12, 35, ("25.2", "26.2", "27.2", "28.2", "29.2", "30.2")),
    ("D10S1248", 100, 10, 18, ()), ("D1S1656", 200, 10, 19, ("14.3", "15.3", "16.3", "17.3")),
    ("D12S391", 230, 15, 25, ("17.3", "18.3", "19.3")), ("D2S1338", 330, 15, 28, ()),
)

#: Typical repeat ranges of the Yfiler Plus loci (synthetic haplotype model).
Y_RANGES: dict[str, tuple[int, int]] = {
    "DYS576": (15, 20), "DYS389I": (12, 14), "DYS635": (20, 24), "DYS389II": (28, 32),
    "DYS627": (18, 23), "DYS460": (9, 11), "DYS458": (14, 18), "DYS19": (13, 17),
    "YGATAH4": (10, 13), "DYS448": (18, 21), "DYS391": (9, 11), "DYS456": (14, 17),
    "DYS390": (21, 25), "DYS438": (9, 12), "DYS392": (10, 14), "DYS518": (36, 42),
    "DYS570": (16, 21), "DYS437": (14, 16), "DYS385": (11, 20), "DYS449": (27, 32),
    "DYS393": (12, 14), "DYS439": (10, 13), "DYS481": (20, 27), "DYF387S1": (34, 39),
    "DYS533": (11, 13),
}

#: Control-region variants (rCRS notation) from which synthetic mtDNA
#: haplogroup motifs are drawn.
MT_SITES: tuple[str, ...] = (
    "16223T", "16362C", "73G", "263G", "489C", "16129A", "16189C", "16311C", "150T", "152C",
    "16182C", "16183C", "16290T", "16319A", "16092C", "16172C", "16304C", "199C", "204C",
    "207A", "16257A", "16261T", "16209C", "16093C", "16266T", "16274A", "16291T", "195C",
    "146C", "16051G", "16086C", "16111T", "16140C", "16145A", "16148T", "16157C", "16185T",
)

MUTATION = {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}


# ---------------------------------------------------------------------------
# Frequencies: the published table and the populations drawn around it


#: The case's autosomal STR frequencies: norSTR's East Asian database (MIT), shipped in
#: ``kinmatch/scenarios/data`` with its licence file and a README naming the source.
EAST_ASIAN_FILE = "OstAsiaDB_v2023.txt"
#: The name the case and its truth give that database.
EAST_ASIAN_NAME = "norSTR East Asian v2023"
#: F_ST of the Korean and Japanese populations around the case's table.
FST = 0.005


def east_asian_database() -> FrequencyDatabase:
    """norSTR's East Asian STR frequency database (version 2023), read from the copy
    shipped in ``kinmatch/scenarios/data``."""
    source = resources.files("kinmatch.scenarios").joinpath("data").joinpath(EAST_ASIAN_FILE)
    return parse_familias_frequencies(source.read_bytes(), EAST_ASIAN_FILE, EAST_ASIAN_NAME)


@dataclass(frozen=True)
class ScenarioMarkers:
    """The GlobalFiler markers of the case and of the populations it is simulated from."""

    #: the case's markers (the laboratory's database), in the order of :data:`GLOBALFILER`
    case: list[Marker]
    #: {population: its markers}: the frequencies the families are simulated from (SYNTHETIC)
    populations: dict[str, list[Marker]]
    #: the loci whose frequencies in the case are SYNTHETIC (the database lacks them)
    synthetic_loci: tuple[str, ...]
    #: the name of the database the case's frequencies come from
    database: str


def _locus_alleles(lo: int, hi: int, micro: Sequence[str]) -> list[str]:
    names = [str(a) for a in range(lo, hi + 1)] + list(micro)
    return sorted(names, key=float)


def _synthetic_locus(rng: np.random.Generator, lo: int, hi: int, micro: Sequence[str]
                     ) -> tuple[tuple[str, ...], np.ndarray]:
    """A SYNTHETIC East-Asian-like distribution: a discretised normal over the repeats
    ``lo``..``hi`` around a random mode, microvariants 0.15 times as likely."""
    alleles = _locus_alleles(lo, hi, micro)
    x = np.array([float(a) for a in alleles])
    mode = rng.uniform(lo + 0.3 * (hi - lo), lo + 0.6 * (hi - lo))
    base = np.exp(-0.5 * ((x - mode) / max(1.2, 0.18 * (hi - lo))) ** 2)
    base *= np.where(x != np.floor(x), 0.15, 1.0)  # microvariants are rarer
    base = base / base.sum() + 1e-4
    return tuple(alleles), base / base.sum()


def scenario_markers(rng: np.random.Generator, database: FrequencyDatabase | None = None,
                     fst: float = FST, populations: Sequence[str] = ("Korean", "Japanese")
                     ) -> ScenarioMarkers:
    """The case's GlobalFiler markers and each population's.

    The case's frequencies at a locus are those of ``database`` (default
    :func:`east_asian_database`) where it has the locus, else a SYNTHETIC
    distribution (listed in ``synthetic_loci``). Each population's
    frequencies are drawn around the case's, p_pop ~ Dirichlet(p (1 − F) / F)
    with F = ``fst``: the Balding–Nichols model of a subpopulation (Balding
    and Nichols 1995, *Genetica* 96:3–12), mean p and F_ST = F; each is
    floored at 1e-5 and renormalised so that every allele stays possible.
    """
    database = east_asian_database() if database is None else database
    concentration = (1 - fst) / fst
    case: list[Marker] = []
    out: dict[str, list[Marker]] = {population: [] for population in populations}
    synthetic = []
    for name, _, lo, hi, micro in GLOBALFILER:
        if name in database.frequencies:
            alleles, base = database.frequencies[name]
        else:
            alleles, base = _synthetic_locus(rng, lo, hi, micro)
            synthetic.append(name)
        case.append(Marker.create(name, alleles, base, mutation=MUTATION))
        for population in out:
            f = rng.dirichlet(base * concentration) + 1e-5
            out[population].append(Marker.create(name, alleles, f / f.sum(), mutation=MUTATION))
    return ScenarioMarkers(case, out, tuple(synthetic), database.population)


def case_title(markers: ScenarioMarkers) -> str:
    """The case's title: where its frequencies come from, SYNTHETIC ones named so."""
    parts = [f"autosomal STR frequencies {markers.database}"]
    if markers.synthetic_loci:
        parts.append(f"SYNTHETIC at {', '.join(markers.synthetic_loci)}")
    parts.append("Y-STR and mtDNA databases SYNTHETIC")
    return f"Chōsei mine flood 1942 (simulated; {'; '.join(parts)})"


def _y_clusters(rng: np.random.Generator, n: int) -> list[dict[str, tuple[int, ...]]]:
    clusters = []
    for _ in range(n):
        centre = {}
        for locus in YFILER_PLUS_RATES:
            lo, hi = Y_RANGES[locus.name]
            centre[locus.name] = tuple(sorted(int(rng.integers(lo, hi + 1))
                                              for _ in range(locus.copies)))
        clusters.append(centre)
    return clusters


def _y_haplotype(rng: np.random.Generator, clusters: list[dict[str, tuple[int, ...]]]
                 ) -> dict[str, tuple[int, ...]]:
    centre = clusters[int(rng.integers(len(clusters)))]
    return {locus: tuple(sorted(a + int(rng.choice([-1, 0, 1], p=[0.12, 0.76, 0.12]))
                                for a in alleles)) for locus, alleles in centre.items()}


def _y_mutate(rng: np.random.Generator, haplotype: dict[str, tuple[int, ...]]
              ) -> dict[str, tuple[int, ...]]:
    rates = {locus.name: locus.mutation_rate / locus.copies for locus in YFILER_PLUS_RATES}
    out = {}
    for locus, alleles in haplotype.items():
        out[locus] = tuple(sorted(a + (int(rng.choice([-1, 1])) if rng.random() < rates[locus]
                                       else 0) for a in alleles))
    return out


def _mt_motifs(rng: np.random.Generator, n: int) -> list[frozenset[str]]:
    return [frozenset(rng.choice(MT_SITES, size=int(rng.integers(3, 8)), replace=False))
            for _ in range(n)]


def _mt_profile(rng: np.random.Generator, motifs: list[frozenset[str]]) -> frozenset[str]:
    motif = set(motifs[int(rng.integers(len(motifs)))])
    for site in MT_SITES:  # private variants
        if rng.random() < 0.02:
            motif ^= {site}
    return frozenset(motif)


def _y_strings(h: dict[str, tuple[int, ...]]) -> dict[str, str]:
    return {locus: ",".join(str(a) for a in alleles) for locus, alleles in h.items()}


def _mt_string(variants: frozenset[str]) -> str:
    def position(v: str) -> float:
        return float("".join(ch for ch in v if ch.isdigit() or ch == "."))
    return " ".join(sorted(variants, key=position))


# ---------------------------------------------------------------------------
# Families


@dataclass
class _Person:
    id: str
    sex: int
    father: str | None = None
    mother: str | None = None
    generation: str = "founder"  # which kind of relative of the miner
    y: dict[str, tuple[int, ...]] | None = None
    mt: frozenset[str] | None = None


#: Probability that a relative of each kind is alive and gives DNA.
DONOR_PROBABILITY = {"child": 0.1, "nephew/niece": 0.5, "grand-nephew/niece": 0.35,
                     "grandchild": 0.5}


def _family(rng: np.random.Generator, miner: str) -> tuple[list[_Person], list[str]]:
    """The pedigree of one miner (the missing person ``miner``) and the donors."""
    people = [_Person(f"{miner}-father", 1), _Person(f"{miner}-mother", 2),
              _Person(miner, 1, f"{miner}-father", f"{miner}-mother", "miner")]

    def children_of(parent: _Person, partner_prefix: str, count: int, generation: str,
                    depth: int) -> None:
        if count == 0:
            return
        spouse = _Person(f"{partner_prefix}-spouse", 2 if parent.sex == 1 else 1)
        people.append(spouse)
        for c in range(count):
            father, mother = (parent, spouse) if parent.sex == 1 else (spouse, parent)
            child = _Person(f"{partner_prefix}-c{c + 1}", int(rng.integers(1, 3)), father.id,
                            mother.id, generation)
            people.append(child)
            if depth > 0:
                nxt = {"nephew/niece": "grand-nephew/niece", "child": "grandchild"}[generation]
                children_of(child, child.id, int(rng.integers(0, 3)), nxt, depth - 1)

    for s in range(int(rng.integers(0, 5))):  # siblings (deceased), their lines continue
        sib = _Person(f"{miner}-sib{s + 1}", int(rng.integers(1, 3)), f"{miner}-father",
                      f"{miner}-mother", "sibling")
        people.append(sib)
        children_of(sib, sib.id, int(rng.integers(0, 4)), "nephew/niece", 1)
    miner_person = people[2]
    if rng.random() < 0.5:  # married, with children
        children_of(miner_person, miner, int(rng.integers(1, 4)), "child", 1)
    donors = [p.id for p in people if p.generation in DONOR_PROBABILITY
              and rng.random() < DONOR_PROBABILITY[p.generation]]
    rng.shuffle(donors)
    return people, donors[:4]


#: Probability that a relative who is not a donor has died by 2026.
DECEASED_PROBABILITY = {"founder": 1.0, "sibling": 1.0, "child": 0.8, "nephew/niece": 0.4,
                        "grand-nephew/niece": 0.05, "grandchild": 0.05}


def _deceased(rng: np.random.Generator, people: Sequence[_Person], donors: Sequence[str],
              miner: str) -> tuple[str, ...]:
    """Who is dead 84 years on: the miner's generation and above, most of his
    children, some nephews and nieces (never a donor, never the miner)."""
    return tuple(p.id for p in people if p.id != miner and p.id not in donors
                 and rng.random() < DECEASED_PROBABILITY.get(p.generation, 0.0))


def _pedigree(people: Sequence[_Person]) -> Pedigree:
    return pedigree_from_records([{"id": p.id, "father": p.father, "mother": p.mother,
                                   "sex": p.sex} for p in people])


# ---------------------------------------------------------------------------
# The scenario


@dataclass
class ChoseiScenario:
    """A simulated case and its truth."""

    case: DVICase
    truth: dict[str, Any]
    #: the case's markers and the populations' (see :func:`scenario_markers`)
    markers: ScenarioMarkers
    #: Y haplotypes and mtDNA profiles: {"samples": {id: {...}}, "relatives":
    #: {family: {person: {...}}}, "y_database": {...}, "mtdna_database": {...}}
    lineage: dict[str, Any] = field(default_factory=dict)


def amplicon_dropout(length: int, degradation: float) -> float:
    """Drop-out probability of one allele copy: logistic in the amplicon length,
    shifted by the fragment's degradation in [0, 1]."""
    z = -5.0 + 9.0 * degradation + (length - 200) / 45.0 * degradation
    return 1.0 / (1.0 + math.exp(-z))


def simulate_chosei(seed: int = 1942, *, n_korean: int = 136, n_japanese: int = 47,
                    recovered: int = 40, max_fragments: int = 3, dropin: float = 0.005,
                    database: FrequencyDatabase | None = None) -> ChoseiScenario:
    """Simulate the case (see the module docstring). ``recovered`` miners have
    remains, each 1 to ``max_fragments`` fragments. ``database``: the case's
    autosomal frequencies (default norSTR's East Asian, :func:`east_asian_database`)."""
    rng = np.random.default_rng(seed)
    life_rng = np.random.default_rng([seed, 1])  # who has died: its own stream
    scenario_loci = scenario_markers(rng, database)
    markers = scenario_loci.populations
    y_clusters = {pop: _y_clusters(rng, 14) for pop in markers}
    mt_motifs = {pop: _mt_motifs(rng, 18) for pop in markers}
    miners = [(f"K{i + 1:03d}", "Korean") for i in range(n_korean)]
    miners += [(f"J{i + 1:03d}", "Japanese") for i in range(n_japanese)]
    # the Korean and Japanese families are simulated from their populations' frequencies;
    # the case holds the published East Asian table a laboratory would use (same alleles)
    families, lineage_relatives, truth_families = [], {}, {}
    miner_alleles: dict[str, np.ndarray] = {}
    miner_lineage: dict[str, dict[str, Any]] = {}
    no_donor = []
    for miner, population in miners:
        people, donors = _family(rng, miner)
        ped = _pedigree(people)
        sim = simulate_genotypes(ped, markers[population], 1, rng)
        by_id = {p.id: p for p in people}
        for p in ped.order:  # lineage: down the lines
            person = by_id[p]
            if person.father is None or person.mother is None:  # both or neither (a founder)
                person.y = _y_haplotype(rng, y_clusters[population]) if person.sex == 1 else None
                person.mt = _mt_profile(rng, mt_motifs[population])
            else:
                father, mother = by_id[person.father], by_id[person.mother]
                person.y = _y_mutate(rng, father.y) if person.sex == 1 and father.y else None
                person.mt = mother.mt
        miner_alleles[miner] = sim[miner][0]
        miner_lineage[miner] = {"y": by_id[miner].y, "mt": by_id[miner].mt}
        profiles = {d: _profile(markers[population], sim[d][0]) for d in donors}
        name = f"Family {miner}"
        if donors:
            relatives = [by_id[d] for d in donors]
            y_refs = {q.id: make_haplotype(q.id, _y_strings(q.y)) for q in relatives
                      if q.y is not None}
            mt_refs = {q.id: parse_mt_profile(_mt_string(q.mt), sample=q.id) for q in relatives
                       if q.mt is not None}
            families.append(ReferenceFamily(name, ped, (miner,), profiles, y_refs, mt_refs,
                                            deceased=_deceased(life_rng, people, donors, miner)))
            lineage_relatives[name] = {
                q.id: {"y": _y_strings(q.y) if q.y else None,
                       "mtdna": _mt_string(q.mt) if q.mt else None}
                for q in relatives}
        else:
            no_donor.append(miner)
        truth_families[name] = {"miner": miner, "population": population,
                                "donors": {d: by_id[d].generation for d in donors}}
    # remains
    order = rng.permutation(len(miners))[:recovered]
    recovered_miners = sorted(miners[i][0] for i in order)
    population_of = dict(miners)
    samples, fragments, sample_lineage = [], {}, {}
    counter = 0
    for miner in recovered_miners:
        pop_markers = markers[population_of[miner]]
        for _ in range(int(rng.integers(1, max_fragments + 1))):
            counter += 1
            sid = f"R{counter:03d}"
            degradation = float(rng.uniform(0.05, 0.9))
            profile = {}
            for (name, length, *_), m, (a, b) in zip(GLOBALFILER, pop_markers,
                                                    miner_alleles[miner]):
                d = amplicon_dropout(length, degradation)
                if a == b:
                    seen = [a] if rng.random() > d * d else []
                else:
                    seen = [x for x in (a, b) if rng.random() > d]
                if rng.random() < dropin:
                    extra = int(rng.choice(m.n_alleles, p=m.allele_frequencies))
                    if extra not in seen and len(seen) < 2:
                        seen.append(extra)
                if seen:
                    profile[name] = tuple(m.alleles[x] for x in seen)
            sex = Sex.MALE if rng.random() < 0.7 else Sex.UNKNOWN
            lin = miner_lineage[miner]
            y_typed = rng.random() < 0.9 and sex == Sex.MALE
            mt_typed = rng.random() < 0.9
            sample_lineage[sid] = {"y": _y_strings(lin["y"]) if y_typed else None,
                                   "mtdna": _mt_string(lin["mt"]) if mt_typed else None}
            samples.append(PostMortemSample(
                sid, profile, sex,
                y_haplotype=make_haplotype(sid, _y_strings(lin["y"])) if y_typed else None,
                mtdna=parse_mt_profile(_mt_string(lin["mt"]), sample=sid) if mt_typed else None))
            fragments[sid] = miner
    order = rng.permutation(len(samples))  # commingled: the fragments come in no order
    samples = [samples[i] for i in order]
    y_database = {pop: [_y_strings(_y_haplotype(rng, y_clusters[pop])) for _ in range(500)]
                  for pop in markers}
    mt_database = {pop: [_mt_string(_mt_profile(rng, mt_motifs[pop])) for _ in range(500)]
                   for pop in markers}
    # one pooled database each, as a laboratory would hold (SYNTHETIC)
    settings = LineageSettings(
        y_database=YDatabase(tuple(make_haplotype(f"{pop[0]}Y{i + 1}", h)
                                   for pop, hs in y_database.items() for i, h in enumerate(hs)),
                             name="SYNTHETIC East Asian Y-STR database"),
        mt_database=MtDatabase(tuple(parse_mt_profile(v, sample=f"{pop[0]}MT{i + 1}")
                                     for pop, vs in mt_database.items()
                                     for i, v in enumerate(vs)),
                               name="SYNTHETIC East Asian mtDNA database"))
    case = DVICase(scenario_loci.case, samples, families, theta=0.0,
                   title=case_title(scenario_loci), lineage=settings)
    truth = {
        "seed": seed,
        "fragments": fragments,
        "recovered": recovered_miners,
        "miners": {m: pop for m, pop in miners},
        "families": truth_families,
        "families_without_donor": no_donor,
        "autosomal_database": scenario_loci.database,
        "synthetic_loci": list(scenario_loci.synthetic_loci),
        "note": ("Simulated case: the case's autosomal STR frequencies are a published "
                 "database (autosomal_database) except at synthetic_loci; the Korean and "
                 f"Japanese populations' own frequencies (F_ST {FST}) and the Y-STR and mtDNA "
                 "databases are SYNTHETIC."),
    }
    lineage = {"samples": sample_lineage, "relatives": lineage_relatives,
               "y_database": y_database, "mtdna_database": mt_database}
    return ChoseiScenario(case, truth, scenario_loci, lineage)


def _profile(markers: Sequence[Marker], alleles: np.ndarray) -> dict[str, tuple[str, str]]:
    return {m.name: (m.alleles[int(a)], m.alleles[int(b)]) for m, (a, b) in zip(markers, alleles)}


def score_identifications(identified: dict[str, str], truth: dict[str, Any],
                          merged: dict[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Compare identifications (sample or merged individual → miner) with the truth.

    A merged individual counts as correct when all its fragments are that
    miner. Returns counts of correct and false identifications and of
    recovered miners with a reference family that were missed.
    """
    fragments = truth["fragments"]
    merged = merged or {}
    correct, false = [], []
    for sample, miner in identified.items():
        parts = merged.get(sample, [sample])
        if all(fragments.get(p) == miner for p in parts):
            correct.append((sample, miner))
        else:
            false.append((sample, miner))
    found = {m for _, m in correct}
    identifiable = {m for m in truth["recovered"]
                    if m not in set(truth.get("families_without_donor", []))}
    missed = sorted(identifiable - found)
    return {"correct": correct, "false": false, "missed": missed,
            "identifiable": len(identifiable)}
