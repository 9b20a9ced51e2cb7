"""Brute-force pedigree likelihood: sum over every allele of every person.

Independent of kinmatch.likelihood: no peeling, no lumping, no factor graph.
Every person carries an ordered (paternal, maternal) allele pair (one allele
for males at X-linked markers); the likelihood is the sum, over all such
assignments consistent with the typed genotypes, of

    prod(founder allele probabilities) * prod(transmission probabilities).

Typed people range over the two phases of their genotype, untyped people
over every allele; the sum is vectorised with NumPy over chunks of
assignments. Exponential, for pedigrees of a handful of people only.
"""

from __future__ import annotations

import itertools

import numpy as np

from kinmatch.markers import Marker
from kinmatch.pedigree import Pedigree, Sex

#: Assignments evaluated per vectorised chunk.
_CHUNK_SLOTS = 9


def _slot_choices(ped: Pedigree, marker: Marker, genotypes: dict, people: list[str],
                  n_alleles: dict[str, int], n: int) -> list[list[tuple[int, ...]]]:
    """Per person, the allowed ordered allele tuples."""
    choices = []
    for pid in people:
        k = n_alleles[pid]
        g = genotypes.get(pid)
        if g is None:
            choices.append(list(itertools.product(range(n), repeat=k)))
        elif k == 1:
            choices.append([(g[0],)] if g[0] == g[1] else [])
        else:
            a, b = g
            choices.append([(a, b)] if a == b else [(a, b), (b, a)])
    return choices


def brute_force_likelihood(ped: Pedigree, marker: Marker, genotypes: dict,
                           theta: float = 0.0) -> float:
    p = np.asarray(marker.allele_frequencies)
    n = len(p)
    eye = np.eye(n)
    male_m = eye if marker.mutation is None else marker.mutation.male.matrix
    female_m = eye if marker.mutation is None else marker.mutation.female.matrix
    people = list(ped.order)
    n_alleles = {pid: (1 if marker.is_x and ped.sex(pid) == Sex.MALE else 2) for pid in people}
    choices = _slot_choices(ped, marker, genotypes, people, n_alleles, n)
    if any(not c for c in choices):
        return 0.0
    column: dict[str, list[int]] = {}
    col = 0
    for pid in people:
        column[pid] = list(range(col, col + n_alleles[pid]))
        col += n_alleles[pid]
    components = ped.components()

    # Split people into an outer loop (itertools) and an inner vectorised block.
    sizes = [len(c) for c in choices]
    inner_people: list[int] = []
    block = 1
    for i in reversed(range(len(people))):
        if block * sizes[i] > n ** _CHUNK_SLOTS:
            break
        inner_people.insert(0, i)
        block *= sizes[i]
    outer_people = [i for i in range(len(people)) if i not in inner_people]

    inner_grid = list(itertools.product(*(range(sizes[i]) for i in inner_people)))
    inner_idx = np.array(inner_grid, dtype=np.intp).reshape(len(inner_grid), len(inner_people))
    total = 0.0
    for outer in itertools.product(*(range(sizes[i]) for i in outer_people)):
        al = np.empty((len(inner_grid), col), dtype=np.intp)
        for i, c in zip(outer_people, outer):
            al[:, column[people[i]]] = choices[i][c]
        for j, i in enumerate(inner_people):
            table = np.array(choices[i], dtype=np.intp)
            al[:, column[people[i]]] = table[inner_idx[:, j]]
        prob = np.ones(len(al))
        # founders
        if theta > 0:
            for comp in components:
                seq = [c for pid in comp if ped[pid].is_founder for c in column[pid]]
                counts = np.zeros((len(al), n))
                rows = np.arange(len(al))
                for j, c in enumerate(seq, start=1):
                    a = al[:, c]
                    prob *= (counts[rows, a] * theta + (1 - theta) * p[a]) / (1 + (j - 2) * theta)
                    counts[rows, a] += 1
        else:
            for pid in people:
                if not ped[pid].is_founder:
                    continue
                f = ped.founder_inbreeding.get(pid, 0.0)
                cols = column[pid]
                if len(cols) == 2 and f > 0:
                    a, b = al[:, cols[0]], al[:, cols[1]]
                    prob *= f * p[a] * (a == b) + (1 - f) * p[a] * p[b]
                else:
                    for c in cols:
                        prob *= p[al[:, c]]
        # transmissions
        for pid in people:
            par = ped.parents(pid)
            if par is None:
                continue
            fa, mo = par
            mine = column[pid]
            mo0, mo1 = (al[:, c] for c in column[mo])
            if len(mine) == 1:  # X male: from the mother only
                x = al[:, mine[0]]
                prob *= 0.5 * (female_m[mo0, x] + female_m[mo1, x])
                continue
            pat, mat = al[:, mine[0]], al[:, mine[1]]
            fcols = column[fa]
            if len(fcols) == 1:
                prob *= male_m[al[:, fcols[0]], pat]
            else:
                prob *= 0.5 * (male_m[al[:, fcols[0]], pat] + male_m[al[:, fcols[1]], pat])
            prob *= 0.5 * (female_m[mo0, mat] + female_m[mo1, mat])
        total += float(prob.sum())
    return total
