"""Writing Familias ``.fam`` files."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from kinmatch.errors import KinmatchError
from kinmatch.formats.familias.model import (
    FAMILIAS_FALSE,
    FAMILIAS_TRUE,
    KNOWN_RELATIONS,
    DVIPerson,
    FamiliasDVI,
    FamiliasFile,
    FamiliasRelation,
)
from kinmatch.pedigree import Sex

# ---------------------------------------------------------------------------
# Writing


def write_familias(fam: FamiliasFile, path: str | Path, encoding: str = "utf-8") -> None:
    """Write ``fam`` as a Familias ``.fam`` file.

    Familias on Windows reads Windows-1252; give ``encoding="cp1252"`` for
    it when every name can be written so. Lines end in CRLF as Familias
    writes them.
    """
    text = format_familias(fam)
    try:
        data = text.replace("\n", "\r\n").encode(encoding)
    except UnicodeEncodeError as err:
        raise KinmatchError(f"cannot write '{err.object[err.start:err.end]}' in {encoding}; "
                            "write the file as UTF-8") from None
    Path(path).write_bytes(data)


def format_familias(fam: FamiliasFile) -> str:
    """The text of a Familias file (LF line endings)."""
    out: list[str] = []
    out += [_quote(fam.comments[0]), _quote(fam.comments[1]), fam.version, '""']
    people = _format_persons(fam, out)
    _format_pedigrees(fam, people, out)
    _format_database(fam, out)
    if fam.dvi is not None:
        out.append("")
        out += _format_dvi(fam.dvi)
    out += fam.settings
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    if '"' in text or "\n" in text or "\r" in text:
        raise KinmatchError(f"a Familias file cannot hold a name with quotes or line breaks: "
                            f"{text!r}")
    return f'"{text}"'


def _fmt(x: float) -> str:
    """A number, exactly: integers without a point, others in shortest form."""
    x = float(x)
    if not math.isfinite(x):
        raise KinmatchError(f"cannot write the number {x} in a Familias file")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _format_persons(fam: FamiliasFile, out: list[str]) -> list[str]:
    loci = {locus.name: (k, locus) for k, locus in enumerate(fam.loci)}
    out.append(str(len(fam.persons)))
    for p in fam.persons:
        if p.sex not in (Sex.MALE, Sex.FEMALE):
            raise KinmatchError(f"person '{p.name}' has unknown sex; Familias needs male or "
                                "female")
        year = -1 if p.year_of_birth is None else p.year_of_birth
        out += [_quote(p.name), p.flags[0],
                f"{year}{' (Consider dropouts)' if p.consider_dropout else ''}", p.flags[1],
                FAMILIAS_TRUE if p.sex == Sex.MALE else FAMILIAS_FALSE, str(len(p.genotypes))]
        for locus_name, (a1, a2) in p.genotypes.items():
            if locus_name not in loci:
                raise KinmatchError(f"person '{p.name}' is typed at '{locus_name}', which is not "
                                    "in the database")
            k, locus = loci[locus_name]
            for a in (a1, a2):
                if a not in locus.alleles:
                    raise KinmatchError(f"person '{p.name}' has allele '{a}' at {locus_name}, "
                                        "which is not in the database")
            out += [str(locus.alleles.index(a1)), str(locus.alleles.index(a2)), str(k)]
    return [p.name for p in fam.persons]


def _format_relations(rels: Sequence[FamiliasRelation], people: list[str], out: list[str]) -> None:
    index = {name: k for k, name in enumerate(people)}
    out.append(str(len(rels)))
    for r in rels:
        for name in (r.parent, r.child):
            if name not in index:
                raise KinmatchError(f"relation {r.parent} -> {r.child}: '{name}' is neither a "
                                    "person nor an extra of this pedigree")
        parent = str(index[r.parent])
        out += [f"{parent}{r.direct_text}" if r.direct else parent, str(index[r.child])]


def _format_pedigrees(fam: FamiliasFile, people: list[str], out: list[str]) -> None:
    known = fam.known_relations
    out += [_quote(KNOWN_RELATIONS), str(len(known.extra_females)), str(len(known.extra_males))]
    base = people + known.extra_females + known.extra_males
    _format_relations(known.relations, base, out)
    out.append(str(len(fam.pedigrees)))
    for i, ped in enumerate(fam.pedigrees):
        out += [str(i), _quote(ped.name), str(len(ped.extra_females)), str(len(ped.extra_males))]
        _format_relations(ped.relations, base + ped.extra_females + ped.extra_males, out)


def _format_database(fam: FamiliasFile, out: list[str]) -> None:
    out.append(f"{FAMILIAS_FALSE} (#Databases: {fam.n_databases} ;Theta/Kinship/Fst: "
               f"{_fmt(fam.theta)} )")
    out.append(str(len(fam.loci)))
    if fam.database_name is None:
        out.append(FAMILIAS_FALSE)
    else:
        out += [FAMILIAS_TRUE, _quote(fam.database_name)]
    for locus in fam.loci:
        f, m = locus.female, locus.male
        n = len(locus.alleles)
        if len(locus.frequencies) != n:
            raise KinmatchError(f"locus {locus.name} has {n} alleles but "
                                f"{len(locus.frequencies)} frequencies")
        out += [_quote(locus.name), _fmt(f.rate), _fmt(m.rate), str(int(f.model)),
                str(int(m.model)), str(n + int(locus.silent_allele)), _fmt(f.range), _fmt(m.range),
                _fmt(f.rate2), _fmt(m.rate2),
                FAMILIAS_TRUE if locus.silent_allele else FAMILIAS_FALSE,
                _fmt(locus.silent_frequency)]
        details = []
        if locus.database_size is not None:
            details.append(f"DatabaseSize = {locus.database_size}")
        if locus.dropout is not None:
            details.append(f"Dropout probability = {_fmt(locus.dropout)}")
        if locus.minor_allele_frequency is not None:
            details.append(f"Minor allele frequency = {_fmt(locus.minor_allele_frequency)}")
        out.append(f"{n}\t({' , '.join(details)} )" if details else str(n))
        for allele, freq in zip(locus.alleles, locus.frequencies, strict=True):
            out += [_quote(allele), _fmt(freq)]


def _format_dvi_person(p: DVIPerson, depth: int, header: str) -> list[str]:
    out = [header, f"Name= {p.name}"]
    if p.sex != Sex.UNKNOWN:
        out.append(f"Gender= {'Male' if p.sex == Sex.MALE else 'Female'}")
    out += ["[" * (depth + 1) + "DNA data" + "]" * (depth + 1), f"nSystems= {len(p.genotypes)}"]
    for locus, (a1, a2) in p.genotypes.items():
        out += [f"SystemName= {locus}", f"Allele1= {a1}", f"Allele2= {a2}"]
    return out


def _format_dvi(dvi: FamiliasDVI) -> list[str]:
    out = ["[DVI]", "[[Unidentified persons]]", f"nPersons= {len(dvi.unidentified)}"]
    for i, p in enumerate(dvi.unidentified, start=1):
        out += _format_dvi_person(p, 3, f"[[[Person {i} ]]]")
    out.append("[[Notes]]")
    out += dvi.notes or [f"nFamilies= {len(dvi.families)}"] + [""] * len(dvi.families)
    out += ["[[Reference Families]]", f"nFamilies= {len(dvi.families)}"]
    for i, fam in enumerate(dvi.families, start=1):
        out += [f"[[[Family {i} ]]]", f"Name= {fam.name}", "[[[[Persons]]]]",
                f"nPersons= {len(fam.persons)}"]
        for j, p in enumerate(fam.persons, start=1):
            out += _format_dvi_person(p, 5, f"[[[[[Person {j}]]]]]")
        out += ["[[[[Pedigrees]]]]", f"nPedigrees= {len(fam.pedigrees)}"]
        for j, ped in enumerate(fam.pedigrees, start=1):
            out += [f"[[[[[Pedigree {j}]]]]]", f"Name= {ped.name}",
                    f"nRelations= {len(ped.relations)}"]
            for parent, child in ped.relations:
                out += [f"Parent= {parent}", f"Child= {child}"]
    return out


