"""Kinship and DVI cases assembled from laboratory tables.

A laboratory rarely has a kinmatch case file; it has a genotype table (a
GeneMapper export or a wide table), a frequency database and a pedigree
drawn in a PED table. :func:`read_table_case` puts them together into a
:class:`~kinmatch.formats.case_json.KinshipCase`, with the hypotheses given
in one of two ways:

**The missing-person question** (``pedigree``, ``missing``, ``poi``): the
reference family's pedigree (PED or PLINK ``.fam``), the id of the missing
person in it and the sample name of the person of interest (the remains):

* ``missing_person`` — the POI is the missing person: the pedigree with the
  missing person's id replaced by the POI's;
* ``unrelated`` (the reference) — the POI is unrelated to the family: the
  pedigree as drawn, and the POI on their own.

**Any hypotheses** (``hypotheses``): a hypotheses file
(``"format": "kinmatch-hypotheses"``), the ``hypotheses`` and ``reference``
of the case format on their own — pedigrees person by person, or named
relationships such as ``{"relationship": "full_siblings", "between": ["A", "B"]}``.

Samples are matched to pedigree members by name: a typed relative's id in
the pedigree is its sample name in the genotype table. Samples that appear
in no hypothesis are left out, with a warning. The markers are the ones
typed in the people of the case, with the database's frequencies;
Amelogenin gives the sex only, Y-STRs are left out (with a warning) and
X-STRs are X-linked. Frequency databases have no mutation model: give one
(``mutation``, a spec as in the case format) to use it at every marker.

**A DVI case** (:func:`table_dvi_case`): genotype tables (references and
remains together or apart), the reference families' pedigrees (PED or PLINK
tables, one family per family id) and the ids of the missing persons in
them. The same matching by name decides what each sample is: a sample named
like a person of one family is that relative's reference profile; every
other sample is remains. A missing person's id must be unique across the
families (it names them in the results), and every family needs one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.errors import CaseFormatError, KinmatchError, Location, warn
from kinmatch.formats.case_json import HypothesesFile, read_hypotheses_file
from kinmatch.formats.detect import detect_input
from kinmatch.formats.frequencies import read_frequency_database
from kinmatch.formats.genotype_tables import GenotypeTable
from kinmatch.formats.marker_names import marker_kind
from kinmatch.formats.pedigree_tables import read_ped_families, read_plink_fam
from kinmatch.formats.profiles import read_profiles
from kinmatch.kinship.case import Hypothesis, KinshipCase, check_hypotheses
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, FrequencyDatabase, Marker
from kinmatch.pedigree import Individual, Pedigree, Sex

__all__ = [
    "MUTATION_MODELS",
    "frequency_markers",
    "missing_person_hypotheses",
    "mutation_spec",
    "read_pedigree_table",
    "read_table_case",
    "table_dvi_case",
    "table_kinship_case",
]

#: Mutation models that can be asked for on the command line.
MUTATION_MODELS = ("none", "equal", "proportional", "stepwise", "onestep")


def mutation_spec(model: str | None, rate: float | None = None, rate2: float | None = None,
                  range_: float | None = None, stationary: bool = False
                  ) -> dict[str, Any] | None:
    """A mutation model spec (as in the case format) from its parts.

    ``model`` ``None`` or ``"none"`` means no mutation. ``stationary``
    applies the PM transformation (Familias' "stationary" models).
    """
    if model is None or model.lower() == "none":
        return None
    if model.lower() not in MUTATION_MODELS:
        raise KinmatchError(f"unknown mutation model '{model}'; expected one of "
                            f"{', '.join(MUTATION_MODELS)}")
    if rate is None:
        raise KinmatchError(f"the {model} mutation model needs a rate (--mutation-rate)")
    spec: dict[str, Any] = {"model": model.lower(), "rate": rate}
    if model.lower() == "stepwise":
        if rate2 is None or range_ is None:
            raise KinmatchError("the stepwise mutation model needs the rate of mutations to "
                                "microvariants (--mutation-rate2, e.g. 1e-6) and the range "
                                "(--mutation-range, e.g. 0.1)")
        spec.update(rate2=rate2, range=range_)
    if stationary:
        spec["transform"] = "PM"
    return spec


def read_pedigree_table(path: str | Path) -> dict[str, Pedigree]:
    """``{family: Pedigree}`` from a PED-style table or a LINKAGE/PLINK ``.fam`` file."""
    kind = detect_input(path)
    if kind == "plink-fam":
        return read_plink_fam(path)
    if kind == "familias":
        raise CaseFormatError("this is a Familias .fam file, not a pedigree table (PED or "
                              "PLINK .fam)", Location(str(path)))
    return read_ped_families(path)


def missing_person_hypotheses(families: Mapping[str, Pedigree], missing: str, poi: str, *,
                              source: str = "<pedigree>") -> list[Hypothesis]:
    """The missing-person question as two hypotheses (see the module docstring).

    ``families`` are the families of a pedigree table; the one holding
    ``missing`` is used.
    """
    holding = [name for name, ped in families.items() if missing in ped]
    if not holding:
        raise CaseFormatError(f"the missing person '{missing}' is not in the pedigree "
                              f"(it has {_some(p for ped in families.values() for p in ped.ids)})",
                              Location(source))
    if len(holding) > 1:
        raise CaseFormatError(f"'{missing}' is in several families ({', '.join(holding)}); "
                              "keep one family in the file", Location(source))
    family = holding[0]
    ped = families[family]
    if poi in ped:
        raise CaseFormatError(f"the person of interest '{poi}' is already in family '{family}'; "
                              "the POI is the unidentified sample, not a relative",
                              Location(source))
    sex = ped.sex(missing)

    def rename(pid: str | None) -> str | None:
        return poi if pid == missing else pid

    as_missing = Pedigree([Individual(rename(p.id) or p.id, p.sex, rename(p.father),
                                      rename(p.mother)) for p in ped],
                          {rename(k) or k: v for k, v in ped.founder_inbreeding.items()})
    unrelated = Pedigree([*ped, Individual(poi, sex)], ped.founder_inbreeding)
    return [
        Hypothesis("missing_person", as_missing,
                   f"{poi} is {missing}, the missing person of family {family}"),
        Hypothesis("unrelated", unrelated, f"{poi} is unrelated to family {family}"),
    ]


def _some(items: Any, n: int = 8) -> str:
    values = list(items)
    return ", ".join(values[:n]) + (", ..." if len(values) > n else "")


def _marker(db: FrequencyDatabase, name: str, mutation: Mapping[str, Any] | None,
            source: str) -> Marker | None:
    kind = marker_kind(name)
    if kind == "sex":
        return None
    if kind == "Y":
        return None
    if name not in db.frequencies:
        raise CaseFormatError(f"marker {name} is typed but is not in the frequency database "
                              f"(it has {_some(db.marker_names)})", Location(source))
    try:
        return db.marker(name, chromosome="X" if kind == "X" else "autosomal", mutation=mutation)
    except KinmatchError as err:
        raise CaseFormatError(err.message, Location(source)) from None


def table_kinship_case(
    table: GenotypeTable,
    database: FrequencyDatabase,
    hypotheses: list[Hypothesis],
    *,
    reference: str | None = None,
    theta: float = 0.0,
    mutation: Mapping[str, Any] | None = None,
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
    title: str = "",
    frequencies_source: str = "<frequencies>",
    hypotheses_source: str = "<hypotheses>",
    hypotheses_file: HypothesesFile | None = None,
) -> KinshipCase:
    """A kinship case from profiles, a frequency database and hypotheses (see the module)."""
    in_hypotheses = {pid for h in hypotheses for pid in h.pedigree.ids}
    profiles = {s: dict(p) for s, p in table.profiles.items() if s in in_hypotheses and p}
    left_out = [s for s in table.profiles if s not in in_hypotheses]
    if left_out:
        warn(f"{len(left_out)} sample(s) of {table.source or 'the genotype table'} are in no "
             f"hypothesis and are left out: {_some(left_out, 5)}")
    if not profiles:
        raise CaseFormatError("no sample of the genotype table is a person of the hypotheses; "
                              "name the typed relatives in the pedigree as in the table "
                              f"(samples: {_some(table.profiles)}; "
                              f"people: {_some(sorted(in_hypotheses))})",
                              Location(table.source or None))
    typed = list(profiles)
    for i, h in enumerate(hypotheses):
        for pid in typed:
            if pid not in h.pedigree:
                message = f"typed person '{pid}' is missing from hypothesis '{h.name}'"
                if hypotheses_file is not None:
                    raise hypotheses_file.locate(f"/hypotheses/{i}", message)
                raise CaseFormatError(message, Location(hypotheses_source))
    try:
        check_hypotheses(hypotheses, typed)
    except KinmatchError as err:
        if hypotheses_file is not None:
            raise hypotheses_file.locate("/hypotheses", err.message) from None
        raise CaseFormatError(err.message, Location(hypotheses_source)) from None
    names = list(dict.fromkeys(m for prof in profiles.values() for m in prof))
    y_markers = [n for n in names if marker_kind(n) == "Y"]
    if y_markers:
        warn(f"Y-chromosome markers are not used in kinship LRs and are left out: "
             f"{_some(y_markers, 5)}")
    markers = [m for n in names if (m := _marker(database, n, mutation, frequencies_source))]
    used = {m.name for m in markers}
    profiles = {s: {k: g for k, g in p.items() if k in used} for s, p in profiles.items()}
    for pid, prof in profiles.items():
        sexes = {h.pedigree.sex(pid) for h in hypotheses}
        sample_sex = table.sexes.get(pid, Sex.UNKNOWN)
        known = sexes - {Sex.UNKNOWN}
        if sample_sex != Sex.UNKNOWN and known and sample_sex not in known:
            warn(f"sample '{pid}' is {sample_sex.name.lower()} by its profile but "
                 f"{known.pop().name.lower()} in the hypotheses")
        for m in markers:
            g = prof.get(m.name)
            if m.is_x and g is not None and g[0] != g[1] and Sex.MALE in sexes:
                raise CaseFormatError(f"sample '{pid}' is male but heterozygous ({g[0]}/{g[1]}) "
                                      f"at X-linked marker {m.name}; a male has one X allele",
                                      Location(table.source or None, field=m.name))
    return KinshipCase(markers, profiles, list(hypotheses), reference, theta, title,
                       minimum_frequency, table.source or None,
                       {"frequencies": frequencies_source, "hypotheses": hypotheses_source})


def read_table_case(
    profiles: str | Path,
    frequencies: str | Path,
    *,
    pedigree: str | Path | None = None,
    missing: str | None = None,
    poi: str | None = None,
    hypotheses: str | Path | None = None,
    mutation: Mapping[str, Any] | None = None,
    theta: float | None = None,
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
    normalise: bool = False,
    title: str | None = None,
) -> KinshipCase:
    """Read a table-based kinship case: every file is read and checked before
    anything is returned (see the module docstring for the two ways of
    giving hypotheses)."""
    if (hypotheses is None) == (pedigree is None):
        raise KinmatchError("give the hypotheses either as a pedigree with the missing person "
                            "and the person of interest (--pedigree, --missing, --poi) or as a "
                            "hypotheses file (--hypotheses), not both")
    table = read_profiles(profiles)
    database = read_frequency_database(frequencies, normalise=normalise)
    hyp_file: HypothesesFile | None = None
    reference: str | None
    if pedigree is not None:
        if not missing or not poi:
            raise KinmatchError("with a pedigree, name the missing person in it (--missing ID) "
                                "and the sample of the person of interest (--poi SAMPLE)")
        if poi not in table.profiles:
            raise CaseFormatError(f"the person of interest '{poi}' is not a sample of the "
                                  f"genotype table (it has {_some(table.profiles)})",
                                  Location(str(profiles)))
        hyps = missing_person_hypotheses(read_pedigree_table(pedigree), missing, poi,
                                         source=str(pedigree))
        reference = "unrelated"
        source = str(pedigree)
        case_title = f"Is {poi} the missing person {missing}?"
    else:
        assert hypotheses is not None
        if missing or poi:
            raise KinmatchError("--missing and --poi go with --pedigree; a hypotheses file "
                                "names everyone itself")
        hyp_file = read_hypotheses_file(hypotheses)
        hyps, reference = hyp_file.hypotheses, hyp_file.reference
        source = str(hypotheses)
        case_title = hyp_file.title
        if theta is None:
            theta = hyp_file.theta
    return table_kinship_case(
        table, database, hyps, reference=reference, theta=theta or 0.0, mutation=mutation,
        minimum_frequency=minimum_frequency, title=title if title is not None else case_title,
        frequencies_source=str(frequencies), hypotheses_source=source, hypotheses_file=hyp_file)



def frequency_markers(database: FrequencyDatabase, *, mutation: Mapping[str, Any] | None = None,
                      source: str = "<frequencies>") -> list[Marker]:
    """Every marker of a frequency database as a case marker: X-STRs
    X-linked, the rest autosomal; Y-STRs (which a kinship or DVI LR of
    autosomal markers does not use) and Amelogenin are left out, with a
    warning naming them."""
    left_out = [n for n in database.marker_names if marker_kind(n) in ("Y", "sex")]
    if left_out:
        warn(f"{source}: Y-chromosome and sex markers are not autosomal case markers and are "
             f"left out: {_some(left_out, 5)}")
    return [m for n in database.marker_names
            if (m := _marker(database, n, mutation, source)) is not None]


def _missing_families(families: Mapping[str, Pedigree], missing: list[str],
                      source: str) -> dict[str, list[str]]:
    """``{family: its missing persons}`` from the missing persons' ids."""
    where: dict[str, list[str]] = {name: [] for name in families}
    for mp in dict.fromkeys(missing):
        holding = [name for name, ped in families.items() if mp in ped]
        if not holding:
            raise CaseFormatError(f"the missing person '{mp}' is in no pedigree (the families "
                                  f"are {_some(families)})", Location(source))
        if len(holding) > 1:
            raise CaseFormatError(f"the missing person '{mp}' is in families "
                                  f"{', '.join(holding)}; a missing person needs an id unique "
                                  "across the families", Location(source))
        where[holding[0]].append(mp)
    without = [name for name, found in where.items() if not found]
    if without:
        raise CaseFormatError(f"famil{'ies' if len(without) > 1 else 'y'} "
                              f"{_some(without, 5)} {'have' if len(without) > 1 else 'has'} no "
                              "missing person: name the missing person(s) of every family",
                              Location(source))
    return where


def table_dvi_case(
    profiles: list[GenotypeTable],
    database: FrequencyDatabase,
    families: Mapping[str, Pedigree],
    missing: list[str],
    *,
    theta: float = 0.0,
    mutation: Mapping[str, Any] | None = None,
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
    title: str = "",
    frequencies_source: str = "<frequencies>",
    pedigree_source: str = "<pedigree>",
) -> DVICase:
    """A DVI case from genotype tables, a frequency database, the families'
    pedigrees and their missing persons (see the module docstring).

    A sample named like a person of exactly one family is that relative's
    reference profile; a sample named like a missing person, or like a
    person of several families, is an error (the match would be a guess);
    every other sample is remains, with the sex its Amelogenin gives. A
    sample in two tables is an error. The markers are those typed in the
    case, with the database's frequencies (a typed marker it lacks is an
    error; Y-STRs are left out with a warning).
    """
    by_family = _missing_families(families, missing, pedigree_source)
    persons: dict[str, list[str]] = {}
    for name, ped in families.items():
        for pid in ped.ids:
            persons.setdefault(pid, []).append(name)
    seen: dict[str, str] = {}
    references: dict[str, dict[str, dict[str, tuple[str, str]]]] = {n: {} for n in families}
    reference_sex: dict[str, Sex] = {}
    remains: list[tuple[str, dict[str, tuple[str, str]], Sex, str]] = []
    for table in profiles:
        source = table.source or "the genotype table"
        for sample, profile in table.profiles.items():
            if sample in seen:
                raise CaseFormatError(f"sample '{sample}' is in two genotype tables: "
                                      f"{seen[sample]} and {source}",
                                      Location(table.source or None))
            seen[sample] = source
            holding = persons.get(sample, [])
            if len(holding) > 1:
                raise CaseFormatError(f"sample '{sample}' is a person of families "
                                      f"{', '.join(holding)}; name each typed relative uniquely",
                                      Location(table.source or None))
            if holding and sample in by_family[holding[0]]:
                raise CaseFormatError(f"sample '{sample}' is the missing person of family "
                                      f"'{holding[0]}'; a missing person's profile is what the "
                                      "remains may supply", Location(table.source or None))
            if holding:
                if profile:
                    references[holding[0]][sample] = dict(profile)
                    reference_sex[sample] = table.sexes.get(sample, Sex.UNKNOWN)
            else:
                remains.append((sample, dict(profile), table.sexes.get(sample, Sex.UNKNOWN),
                                source))
    typed = [*(p for refs in references.values() for p in refs.values()),
             *(p for _, p, _, _ in remains)]
    names = list(dict.fromkeys(m for prof in typed for m in prof))
    y_markers = [n for n in names if marker_kind(n) == "Y"]
    if y_markers:
        warn(f"Y-chromosome markers are not used in autosomal LRs and are left out: "
             f"{_some(y_markers, 5)}")
    markers = [m for n in names if (m := _marker(database, n, mutation, frequencies_source))]
    used = {m.name: m for m in markers}

    def kept(sample: str, profile: dict[str, tuple[str, str]], sex: Sex,
             source: str) -> dict[str, tuple[str, str]]:
        out = {k: g for k, g in profile.items() if k in used}
        for k, (a, b) in out.items():
            if used[k].is_x and sex == Sex.MALE and a != b:
                raise CaseFormatError(f"sample '{sample}' is male but heterozygous ({a}/{b}) at "
                                      f"X-linked marker {k}; a male has one X allele",
                                      Location(source, field=k))
        return out

    reference_families = []
    for name, ped in families.items():
        refs = {}
        for pid, profile in references[name].items():
            known = ped.sex(pid)
            sample_sex = reference_sex[pid]
            if Sex.UNKNOWN not in (known, sample_sex) and known != sample_sex:
                warn(f"sample '{pid}' is {sample_sex.name.lower()} by its profile but "
                     f"{known.name.lower()} in the pedigree of family '{name}'")
            refs[pid] = kept(pid, profile, sample_sex if known == Sex.UNKNOWN else known,
                             seen[pid])
        try:
            reference_families.append(ReferenceFamily(name, ped, tuple(by_family[name]), refs))
        except KinmatchError as err:
            raise CaseFormatError(err.message, Location(pedigree_source)) from None
    samples = [PostMortemSample(sample, kept(sample, profile, sex, source), sex)
               for sample, profile, sex, source in remains]
    return DVICase(markers, samples, reference_families, theta=theta,
                   minimum_frequency=minimum_frequency, title=title)
