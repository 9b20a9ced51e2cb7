"""Conversions between Familias files and kinmatch cases (pedFamilias' mapping of
loci, pedigrees and DVI data)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kinmatch.alleles import allele_number, canonical_allele
from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.errors import CaseFormatError, KinmatchError, Location, MarkerError, warn
from kinmatch.formats.familias.model import (
    REFERENCE_PEDIGREE,
    DVIFamily,
    DVIPedigree,
    FamiliasFile,
    FamiliasLocus,
    FamiliasModel,
    FamiliasMutation,
    FamiliasPedigree,
    FamiliasPerson,
    FamiliasRelation,
)
from kinmatch.formats.familias.parse import unique_name
from kinmatch.kinship.case import Hypothesis, KinshipCase
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from kinmatch.pedigree import Individual, Pedigree, Sex

# ---------------------------------------------------------------------------
# Conversion: loci to markers (pedFamilias' mapping)


def _kinmatch_allele(raw: str) -> str:
    """kinmatch's name for a Familias allele: canonical numbers, and spaces
    or separators (which kinmatch does not allow) replaced by '_'."""
    try:
        return canonical_allele(raw)
    except MarkerError:
        return canonical_allele(re.sub(r"[\s/,;]+", "_", raw.strip()))


def _stepwise_possible(alleles: Sequence[str]) -> str | None:
    """Why pedFamilias would not use a stepwise model here (``None`` if it would):
    every allele must be a number >= 1 with at most one decimal."""
    for a in alleles:
        v = allele_number(a.strip())
        if v is None:
            return f"non-numeric allele '{a}'"
        if v < 1:
            return f"allele '{a}' below 1"
        if round(v, 1) != v:
            return f"microvariant '{a}' with more than one decimal"
    return None


def _mutation_spec(mut: FamiliasMutation) -> dict[str, Any]:
    if mut.model == FamiliasModel.EQUAL:
        return {"model": "equal", "rate": mut.rate}
    if mut.model == FamiliasModel.PROPORTIONAL:
        return {"model": "proportional", "rate": mut.rate}
    spec: dict[str, Any] = {"model": "stepwise", "rate": mut.rate, "rate2": mut.rate2,
                            "range": mut.range}
    if mut.model == FamiliasModel.STEPWISE_STATIONARY:
        spec["transform"] = "PM"
    return spec


def _is_trivial(mut: FamiliasMutation) -> bool:
    stepwise = mut.model >= FamiliasModel.STEPWISE_UNSTATIONARY
    return mut.rate == 0 and (not stepwise or mut.rate2 == 0)


def locus_mutation_spec(locus: FamiliasLocus) -> dict[str, Any] | None:
    """The kinmatch mutation spec of a locus, mapped as pedFamilias::readFam
    maps Familias models to pedmut models (see the module docstring).
    ``None`` when neither sex mutates."""
    female, male = locus.female, locus.male
    if max(female.model, male.model) >= FamiliasModel.STEPWISE_UNSTATIONARY:
        why = _stepwise_possible(locus.alleles)
        if why is not None:
            warn(f"locus {locus.name}: {why} does not fit a stepwise mutation model; "
                 "using the equal model with the same rates (as pedFamilias does)")
            female = FamiliasMutation(FamiliasModel.EQUAL, female.rate)
            male = FamiliasMutation(FamiliasModel.EQUAL, male.rate)
    if _is_trivial(female) and _is_trivial(male):
        return None
    f_spec, m_spec = _mutation_spec(female), _mutation_spec(male)
    return f_spec if f_spec == m_spec else {"female": f_spec, "male": m_spec}


#: Name of a Familias locus' silent allele among a kinmatch marker's alleles.
SILENT_ALLELE = "silent"


def _locus_marker(locus: FamiliasLocus, chromosome: str, filename: str | None) -> Marker:
    where = Location(filename, locus.line, None, f"/loci/{locus.name}")
    try:
        labels = [_kinmatch_allele(a) for a in locus.alleles]
    except MarkerError as err:
        raise CaseFormatError(f"locus {locus.name}: {err.message}", where) from None
    frequencies = list(locus.frequencies)
    silent = None
    if locus.silent_allele and locus.silent_frequency > 0:
        # the silent allele is one more allele of the locus, never observed
        silent = SILENT_ALLELE
        if silent in labels:
            raise CaseFormatError(f"locus {locus.name} has an allele named '{silent}' and a "
                                  "silent allele", where)
        labels.append(silent)
        if abs(sum(frequencies) - 1) <= 1e-6:
            # the observable alleles' frequencies sum to 1: scale them to make room
            frequencies = [f * (1 - locus.silent_frequency) for f in frequencies]
        frequencies.append(locus.silent_frequency)
    total = sum(frequencies)
    normalise = False
    if abs(total - 1) > 1e-6:
        if round(total, 3) != 1:
            raise CaseFormatError(f"the allele frequencies of {locus.name} sum to {total:.6g}, "
                                  "not 1", where)
        warn(f"locus {locus.name}: allele frequencies sum to {total:.9g}; normalised to 1")
        normalise = True
    spec = locus_mutation_spec(locus)
    try:
        # Extreme parameters (e.g. range ** step underflowing to 0) give NaN
        # matrices, which Marker.create rejects; numpy need not warn first.
        with np.errstate(all="ignore"):
            return Marker.create(locus.name, labels, frequencies, chromosome=chromosome,
                                 mutation=spec, normalise=normalise, silent_allele=silent)
    except MarkerError as err:
        if _has_pm(spec):
            warn(f"locus {locus.name}: {err.message}; using the equal model with the same rates "
                 "(as pedFamilias does when stabilisation fails)")
            fallback = replace(locus,
                               female=FamiliasMutation(FamiliasModel.EQUAL, locus.female.rate),
                               male=FamiliasMutation(FamiliasModel.EQUAL, locus.male.rate))
            return _locus_marker(fallback, chromosome, filename)
        raise CaseFormatError(err.message, where) from None


def _has_pm(spec: Mapping[str, Any] | None) -> bool:
    if spec is None:
        return False
    parts = [spec["female"], spec["male"]] if "female" in spec else [spec]
    return any(str(p.get("transform", "")).upper() == "PM" for p in parts)


def familias_markers(fam: FamiliasFile, chromosome: str = "autosomal") -> list[Marker]:
    """The database's loci as kinmatch markers. Familias has no X-linked
    loci; ``chromosome="X"`` declares every locus X-linked (pedFamilias'
    ``Xchrom``)."""
    if chromosome not in ("autosomal", "X"):
        raise KinmatchError(f"chromosome must be 'autosomal' or 'X', not '{chromosome}'")
    return [_locus_marker(locus, chromosome, fam.source) for locus in fam.loci]


def _profile(genotypes: Mapping[str, tuple[str, str]], lines: Mapping[str, int],
             known_loci: set[str], owner: str, filename: str | None, ptr: str
             ) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for locus, (a1, a2) in genotypes.items():
        where = Location(filename, lines.get(locus), None, f"{ptr}/{locus}")
        if locus not in known_loci:
            raise CaseFormatError(f"'{owner}' is typed at {locus}, which is not in the database",
                                  where)
        try:
            out[locus] = (_kinmatch_allele(a1), _kinmatch_allele(a2))
        except MarkerError as err:
            raise CaseFormatError(f"'{owner}' at {locus}: {err.message}", where) from None
    return out


# ---------------------------------------------------------------------------
# Conversion: pedigrees


def _add_missing_parents(fathers: dict[str, str], mothers: dict[str, str], order: list[str],
                         sexes: dict[str, Sex]) -> list[str]:
    """Give every child with one parent an untyped other parent, named as
    pedFamilias names them (``added_1``, ...; fathers first)."""
    taken = set(order)
    no_father = [c for c in order if c in mothers and c not in fathers]
    no_mother = [c for c in order if c in fathers and c not in mothers]
    added = []
    k = 0
    for children, table, sex in ((no_father, fathers, Sex.MALE), (no_mother, mothers, Sex.FEMALE)):
        for child in children:
            k += 1
            name = unique_name(f"added_{k}", taken)
            table[child] = name
            sexes[name] = sex
            added.append(name)
    return added


def _build_pedigree(order: list[str], sexes: dict[str, Sex],
                    relations: Iterable[tuple[str, str, int | None]], keep: set[str] | None,
                    where: Location) -> Pedigree:
    """A kinmatch pedigree from parent-child pairs, with missing parents added.
    ``keep``: if given, only people in a relation or in ``keep`` are kept."""
    fathers: dict[str, str] = {}
    mothers: dict[str, str] = {}
    for parent, child, line in relations:
        loc = Location(where.file, line if line is not None else where.line, None, where.field)
        for name in (parent, child):
            if name not in sexes:
                raise CaseFormatError(f"the relation {parent} -> {child} names '{name}', who is "
                                      "not in the pedigree", loc)
        sex = sexes[parent]
        table, role = (fathers, "father") if sex == Sex.MALE else (mothers, "mother")
        if sex == Sex.UNKNOWN:
            raise CaseFormatError(f"the sex of '{parent}', a parent of '{child}', is unknown",
                                  loc)
        if child in table and table[child] != parent:
            warn(f"{loc}: '{child}' has two {role}s, '{table[child]}' and '{parent}'; the later "
                 "relation is used and the earlier ignored (as pedFamilias does)")
        table[child] = parent
    added = _add_missing_parents(fathers, mothers, order, sexes)
    related = set(fathers) | set(fathers.values()) | set(mothers.values())
    people = [Individual(pid, sexes[pid], fathers.get(pid), mothers.get(pid))
              for pid in order + added
              if keep is None or pid in related or pid in keep]
    try:
        return Pedigree(people)
    except KinmatchError as err:
        raise CaseFormatError(err.message, where) from None


def _hypothesis_pedigree(fam: FamiliasFile, ped: FamiliasPedigree, typed: set[str]) -> Pedigree:
    known = fam.known_relations
    sexes = {p.name: p.sex for p in fam.persons}
    extras_f = known.extra_females + (ped.extra_females if ped is not known else [])
    extras_m = known.extra_males + (ped.extra_males if ped is not known else [])
    sexes.update({e: Sex.FEMALE for e in extras_f})
    sexes.update({e: Sex.MALE for e in extras_m})
    order = [p.name for p in fam.persons] + extras_f + extras_m
    rels = known.relations + (ped.relations if ped is not known else [])
    where = Location(fam.source, ped.line, None, f"/pedigrees/{ped.name}")
    for r in rels:
        if r.direct:
            raise CaseFormatError(
                f"pedigree '{ped.name}': '{r.parent}' and '{r.child}' are joined by a direct "
                "(identity) relation, Familias' way of stating monozygotic twins; kinmatch's "
                "likelihood engine does not handle twins yet (type only one of them)",
                Location(fam.source, r.line, None, where.field))
    return _build_pedigree(order, sexes, ((r.parent, r.child, r.line) for r in rels), typed, where)


def familias_to_kinship_case(
    fam: FamiliasFile,
    *,
    theta: float | None = None,
    chromosome: str = "autosomal",
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
) -> KinshipCase:
    """The kinship case of a Familias file: one hypothesis per pedigree
    (the known relations alone when the file has no pedigrees), the
    persons' genotypes as profiles and the loci as markers.

    Children with one parent get an untyped other parent; untyped people
    without relations are left out of each hypothesis (they do not change
    likelihoods). ``theta`` overrides the file's θ; ``chromosome="X"``
    declares the loci X-linked (Familias files carry neither setting when
    written by pedFamilias). Twins (direct relations) are an error.
    """
    markers = familias_markers(fam, chromosome)
    known_loci = {m.name for m in markers}
    profiles: dict[str, dict[str, tuple[str, str]]] = {}
    for i, p in enumerate(fam.persons):
        if p.genotypes:
            profiles[p.name] = _profile(p.genotypes, p.genotype_lines, known_loci, p.name,
                                        fam.source, f"/persons/{i}/genotypes")
    typed = set(profiles)
    # Without pedigrees, pedFamilias takes the known relations as the one pedigree.
    known = fam.known_relations
    peds = fam.pedigrees or ([known] if typed or known.relations else [])
    hypotheses: list[Hypothesis] = []
    for ped in peds:
        if any(h.name == ped.name for h in hypotheses):
            raise CaseFormatError(f"two pedigrees are named '{ped.name}'",
                                  Location(fam.source, ped.line, None, "/pedigrees"))
        hypotheses.append(Hypothesis(ped.name, _hypothesis_pedigree(fam, ped, typed)))
    # Familias' drop-out: a probability per locus, for the persons marked
    # "consider dropouts" (Familias 3; Kling, Tillmar & Egeland 2014)
    rates = {locus.name: float(locus.dropout) for locus in fam.loci
             if locus.dropout is not None and locus.dropout > 0}
    dropout: dict[str, float | dict[str, float]] = {}
    for person in fam.persons:
        typed_at = {name: d for name, d in rates.items() if name in profiles.get(person.name, {})}
        if person.consider_dropout and typed_at:
            dropout[person.name] = typed_at
    return KinshipCase(
        markers=markers,
        profiles=profiles,
        hypotheses=hypotheses,
        reference=None,
        theta=fam.theta if theta is None else theta,
        title=Path(fam.source).stem if fam.source else "",
        minimum_frequency=minimum_frequency,
        source=fam.source,
        extra={"familias_version": fam.version, "database": fam.database_name},
        dropout=dropout,
    )


# ---------------------------------------------------------------------------
# Conversion: DVI


@dataclass(frozen=True)
class _ReferencePedigree:
    """One pedigree of a reference family as dvir builds it: the relatives,
    the missing persons (``missing``, in pedigree order) and anyone needed to
    connect them."""

    name: str
    pedigree: Pedigree
    missing: tuple[str, ...]


def _decide_parent_sexes(order: list[str], sexes: dict[str, Sex],
                         relations: list[tuple[str, str]], where: Location) -> None:
    """Parents of undecided sex (``Missing person``) get the sex opposite to
    their partners', as pedFamilias decides it: female when every partner is
    male (or there is none), male when every partner is female."""
    parents = [p for p, _ in relations]
    for p in dict.fromkeys(parents):
        if sexes[p] != Sex.UNKNOWN:
            continue
        children = {c for q, c in relations if q == p}
        partners = {q for q, c in relations if c in children and q != p}
        if all(sexes[q] == Sex.MALE for q in partners):
            sexes[p] = Sex.FEMALE
        elif all(sexes[q] == Sex.FEMALE for q in partners):
            sexes[p] = Sex.MALE
        else:
            raise CaseFormatError(f"cannot decide the sex of '{p}', a parent together with "
                                  f"{', '.join(sorted(partners))}", where)


def _reference_pedigree(family: DVIFamily, ped: DVIPedigree, typed: set[str], filename: str | None,
                        missing_prefix: str, undecided_sex: Sex) -> _ReferencePedigree:
    where = Location(filename, ped.line, None,
                     f"/DVI/Reference Families/{family.name}/Pedigrees/{ped.name}")
    sexes = {p.name: p.sex for p in family.persons}
    order = [p.name for p in family.persons]
    named = [p for p, _ in ped.relations] + [c for _, c in ped.relations]
    for name in dict.fromkeys(named):
        if name not in sexes:
            order.append(name)
            sexes[name] = Sex.UNKNOWN
    _decide_parent_sexes(order, sexes, ped.relations, where)
    for name in order:
        if sexes[name] == Sex.UNKNOWN:
            sexes[name] = undecided_sex
    full = _build_pedigree(order, sexes, ((p, c, None) for p, c in ped.relations), None, where)
    components = full.components()
    with_typed = [c for c in components if typed & set(c)]
    if len(with_typed) > 1:
        raise CaseFormatError(f"the typed relatives of family '{family.name}' are in "
                              f"{len(with_typed)} unconnected parts of pedigree '{ped.name}'",
                              where)
    if with_typed:
        members = set(with_typed[0])
        full = full.subset([pid for pid in full.ids if pid in members])
    missing = tuple(pid for pid in full.ids if pid.startswith(missing_prefix))
    return _ReferencePedigree(ped.name, full, missing)


def familias_to_dvi_case(
    fam: FamiliasFile,
    *,
    missing_prefix: str = "Missing",
    undecided_sex: Sex = Sex.UNKNOWN,
) -> DVICase:
    """The DVI case of a Familias DVI file.

    Each reference family's pedigrees are built as dvir::familias2dvir
    builds them: people named in relations but not among the family's
    persons (``Missing person``) are added, parents of undecided sex get
    the sex opposite to their partners', children with one parent get an
    untyped other parent, only the part connected to the typed relatives is
    kept, and the missing persons are the people whose names begin with
    ``missing_prefix``. People whose sex is still undecided get
    ``undecided_sex`` (pedFamilias makes them female; pass ``Sex.FEMALE``
    to reproduce dvir's sex checks).
    """
    if fam.dvi is None:
        raise KinmatchError(f"{fam.source or 'the file'} has no [DVI] section")
    if not fam.dvi.families:
        raise CaseFormatError(
            "the [DVI] section holds no reference families (is its [[Reference Families]] "
            "line missing, or 'nFamilies= 0'?); a DVI case needs at least one",
            Location(fam.source or None, fam.dvi.line, None, "/DVI/Reference Families"))
    if not fam.dvi.unidentified:
        where = Location(fam.source or None, fam.dvi.line, None, "/DVI/Unidentified persons")
        warn(f"{where}: the [DVI] section holds no unidentified persons (is its "
             "[[Unidentified persons]] line missing, or 'nPersons= 0'?): the families can be "
             "planned (kinmatch plan), but there is nothing to identify")
    markers = familias_markers(fam)
    known_loci = {m.name for m in markers}
    ptr = "/DVI/Unidentified persons"
    samples = [
        PostMortemSample(p.name,
                         _profile(p.genotypes, p.genotype_lines, known_loci, p.name, fam.source,
                                  f"{ptr}/{p.name}"),
                         p.sex if p.sex != Sex.UNKNOWN else undecided_sex)
        for p in fam.dvi.unidentified
    ]
    families = []
    for family in fam.dvi.families:
        fptr = f"/DVI/Reference Families/{family.name}"
        profiles = {p.name: _profile(p.genotypes, p.genotype_lines, known_loci, p.name,
                                     fam.source, f"{fptr}/{p.name}")
                    for p in family.persons if p.genotypes}
        chosen = [p for p in family.pedigrees if p.name != REFERENCE_PEDIGREE] or family.pedigrees
        if len(chosen) != 1:
            names = ", ".join(p.name for p in chosen)
            raise CaseFormatError(
                f"reference family '{family.name}' has {len(chosen)} alternative pedigrees "
                f"({names}); a DVI analysis needs one pedigree per family",
                Location(fam.source, chosen[0].line if chosen else None, None, fptr))
        ref = _reference_pedigree(family, chosen[0], set(profiles), fam.source, missing_prefix,
                                  undecided_sex)
        kept = {pid: prof for pid, prof in profiles.items() if pid in ref.pedigree}
        try:
            families.append(ReferenceFamily(family.name, ref.pedigree, ref.missing, kept))
        except KinmatchError as err:
            raise CaseFormatError(err.message, Location(fam.source, chosen[0].line, None,
                                                        fptr)) from None
    return DVICase(markers, samples, _unique_missing(families), title=fam.source or "")


def _unique_missing(families: list[ReferenceFamily]) -> list[ReferenceFamily]:
    """Familias names the missing person of every family alike ("Missing
    person"); a DVI case needs case-wide unique ids, so a label used in
    several families becomes ``"<label> (<family>)"`` in each of them."""
    count: dict[str, int] = {}
    for f in families:
        for m in f.missing:
            count[m] = count.get(m, 0) + 1
    out = []
    for f in families:
        new = {m: f"{m} ({f.name})" for m in f.missing if count[m] > 1}
        if not new:
            out.append(f)
            continue

        def r(pid: str | None, new: dict[str, str] = new) -> str | None:
            return None if pid is None else new.get(pid, pid)

        ped = Pedigree([Individual(r(x.id) or x.id, x.sex, r(x.father), r(x.mother))
                        for x in f.pedigree], f.pedigree.founder_inbreeding)
        out.append(ReferenceFamily(f.name, ped, tuple(new.get(m, m) for m in f.missing),
                                   f.profiles))
    return out


# ---------------------------------------------------------------------------
# Conversion: a kinship case to Familias


_MODEL_ALIASES = {"prop": "proportional", "step": "stepwise", "eq": "equal", "none": "trivial"}


def _familias_mutation(spec: Mapping[str, Any] | None, marker: str) -> FamiliasMutation:
    if spec is None:
        return FamiliasMutation()
    model = str(spec.get("model", "")).lower()
    model = _MODEL_ALIASES.get(model, model)
    transform = spec.get("transform")
    pm = transform is not None and str(transform).upper() == "PM"
    rate = float(spec.get("rate") or 0.0)
    if model == "trivial":
        return FamiliasMutation()
    if model in ("equal", "proportional") and not pm:
        code = FamiliasModel.EQUAL if model == "equal" else FamiliasModel.PROPORTIONAL
        return FamiliasMutation(code, rate)
    if model == "stepwise":
        code = FamiliasModel.STEPWISE_STATIONARY if pm else FamiliasModel.STEPWISE_EXTENDED
        return FamiliasMutation(code, rate, float(spec.get("range") or 0.0),
                                float(spec.get("rate2") or 0.0))
    what = f"the {model} model" + (" with the PM transformation" if pm else "")
    raise KinmatchError(f"marker {marker}: Familias has no equivalent of {what} (it has equal, "
                        "proportional, stepwise and stationary stepwise)")


def familias_locus(marker: Marker) -> FamiliasLocus:
    if marker.is_x:
        raise KinmatchError(f"marker {marker.name} is X-linked; Familias files have no X-linked "
                            "markers")
    spec = marker.mutation_spec
    if spec is not None and ("female" in spec or "male" in spec):
        female = _familias_mutation(spec.get("female"), marker.name)
        male = _familias_mutation(spec.get("male"), marker.name)
    else:
        female = male = _familias_mutation(spec, marker.name)
    if marker.silent_allele is not None:
        keep = [i for i, a in enumerate(marker.alleles) if a != marker.silent_allele]
        return FamiliasLocus(marker.name, [marker.alleles[i] for i in keep],
                             [float(marker.allele_frequencies[i]) for i in keep], female, male,
                             silent_allele=True,
                             silent_frequency=float(
                                 marker.allele_frequencies[marker.silent_index]))
    return FamiliasLocus(marker.name, list(marker.alleles),
                         [float(f) for f in marker.allele_frequencies], female, male)


def kinship_case_to_familias(case: KinshipCase, *, database_name: str = "unknown") -> FamiliasFile:
    """A Familias file holding a kinship case.

    Familias knows one list of persons for all pedigrees: everyone of every
    hypothesis is a person, each hypothesis a pedigree of parent-child
    relations. An untyped person whose sex differs between hypotheses (say
    parent '1', a father in one hypothesis and a mother in another) is
    written as a separate person ``'1 [H2]'`` in the later hypothesis, so
    that every pedigree keeps its meaning. Alleles seen in profiles but
    missing from a marker are added to its database with the case's minimum
    frequency, as the likelihood computation adds them. Familias has no
    X-linked markers, no founder inbreeding and no one-step or custom
    mutation models: those are errors.
    """
    seen = {name: [a for prof in case.profiles.values() if name in prof for a in prof[name]]
            for name in (m.name for m in case.markers)}
    markers = [m.with_alleles(seen[m.name], case.minimum_frequency) for m in case.markers]
    loci = [familias_locus(m) for m in markers]
    typed = {pid for pid, prof in case.profiles.items() if prof}
    sexes: dict[str, Sex] = {}
    first_seen: dict[str, str] = {}
    taken = {ind.id for h in case.hypotheses for ind in h.pedigree} | set(case.profiles)
    pedigrees = []
    for h in case.hypotheses:
        if h.pedigree.founder_inbreeding:
            raise KinmatchError(f"hypothesis '{h.name}' has inbred founders, which Familias "
                                "cannot represent")
        rename: dict[str, str] = {}
        for ind in h.pedigree:
            known = sexes.get(ind.id)
            if known is None or known == ind.sex:
                sexes[ind.id] = ind.sex
                first_seen.setdefault(ind.id, h.name)
            elif ind.id in typed:
                if Sex.UNKNOWN in (known, ind.sex):
                    sexes[ind.id] = known if ind.sex == Sex.UNKNOWN else ind.sex
                    continue
                raise KinmatchError(f"'{ind.id}' is {ind.sex.name.lower()} in hypothesis "
                                    f"'{h.name}' but {known.name.lower()} in "
                                    f"'{first_seen[ind.id]}'; Familias has one sex per person")
            else:
                rename[ind.id] = unique_name(f"{ind.id} [{h.name}]", taken)
                sexes[rename[ind.id]] = ind.sex
        rels = []
        for ind in h.pedigree:
            if ind.father is not None and ind.mother is not None:
                child = rename.get(ind.id, ind.id)
                rels += [FamiliasRelation(rename.get(ind.father, ind.father), child),
                         FamiliasRelation(rename.get(ind.mother, ind.mother), child)]
        pedigrees.append(FamiliasPedigree(h.name, rels))
    for pid in case.profiles:
        sexes.setdefault(pid, Sex.UNKNOWN)
    persons = []
    for pid, sex in sexes.items():
        if sex == Sex.UNKNOWN:
            warn(f"'{pid}' has unknown sex; written as female (Familias needs a sex)")
            sex = Sex.FEMALE
        genotypes = {name: (canonical_allele(g[0]), canonical_allele(g[-1]))
                     for name, g in case.profiles.get(pid, {}).items()}
        persons.append(FamiliasPerson(pid, sex, genotypes))
    return FamiliasFile(persons=persons, pedigrees=pedigrees, loci=loci, theta=case.theta,
                        database_name=database_name, source=case.source)
