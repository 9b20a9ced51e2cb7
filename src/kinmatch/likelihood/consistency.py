"""Mendelian consistency: which typed people's genotypes conflict at a marker.

A pedigree likelihood of 0 at a marker means the typed people's genotypes
cannot occur together (without a mutation model that explains them).
:func:`conflicting_sets` finds the smallest sets of typed people whose
genotypes alone have likelihood 0 (a parent and child sharing no allele, a
trio, ...), by peeling each small subset; :func:`describe_conflict` words
it for an error message. Kinship questions and DVI families both use it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.likelihood.peeling import PedigreeMarkers, pedigrees_loglik
from kinmatch.markers import Marker
from kinmatch.pedigree import Pedigree
from kinmatch.relationships import describe_relationship


def genotype_text(marker: Marker, genotype: Genotype | Observation) -> str:
    """A genotype (or the alleles seen) with the marker's allele names: ``12/14``."""
    alleles = genotype.alleles if isinstance(genotype, Observation) else genotype
    text = "/".join(marker.alleles[a] for a in alleles)
    return f"{text} (seen)" if isinstance(genotype, Observation) else text


def conflicting_sets(pedigree: Pedigree, marker: Marker,
                     genotypes: Mapping[str, Genotype | Observation], theta: float = 0.0, *,
                     max_size: int = 3, max_typed: int = 12) -> list[tuple[str, ...]]:
    """The smallest sets of typed people whose genotypes at ``marker`` have likelihood 0
    in ``pedigree`` on their own (a parent and child sharing no allele, a trio, ...),
    in pedigree order.

    Sets of up to ``max_size`` people are tried (when at most ``max_typed``
    people are typed); without one, the set of every typed person.
    """
    typed = [p for p in pedigree.ids if p in genotypes]
    if len(typed) <= max_typed:
        for size in range(1, min(max_size, len(typed)) + 1):
            subsets = list(itertools.combinations(typed, size))
            jobs = [PedigreeMarkers(pedigree, [marker], [{p: genotypes[p] for p in subset}])
                    for subset in subsets]
            found = [subset for subset, loglik in zip(subsets, pedigrees_loglik(jobs, theta))
                     if loglik[0] == -math.inf]
            if found:
                return found
    return [tuple(typed)]


def conflicting_people(pedigree: Pedigree, marker: Marker,
                       genotypes: Mapping[str, Genotype | Observation], theta: float = 0.0, *,
                       max_size: int = 3, max_typed: int = 12) -> tuple[str, ...]:
    """The first of :func:`conflicting_sets`: a smallest set of typed people whose
    genotypes at ``marker`` have likelihood 0 in ``pedigree``."""
    return conflicting_sets(pedigree, marker, genotypes, theta, max_size=max_size,
                            max_typed=max_typed)[0]


def describe_conflict(pedigree: Pedigree, marker: Marker,
                      genotypes: Mapping[str, Genotype | Observation],
                      people: Sequence[str]) -> str:
    """The people of :func:`conflicting_people`, their genotypes and relationships:
    ``'F' 12/12 and 'C' 14/14 (parent-child) share no allele``."""
    shown = [f"'{p}' {genotype_text(marker, genotypes[p])}" for p in people]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    pairs = []
    for a, b in itertools.combinations(people, 2):
        rel = describe_relationship(pedigree, a, b)
        if rel != "unrelated":
            pairs.append(rel if len(people) == 2 else f"{a}-{b}: {rel}")
    text = listed + (f" ({', '.join(pairs)})" if pairs else "")
    if len(people) == 2 and pairs == ["parent-child"]:
        return text + " share no allele"
    if len(people) == 1:
        return text + " is impossible on its own"
    return text + " cannot have these genotypes together"


