"""Pedigree likelihoods of marker data by peeling.

The likelihood of genotypes observed on some members of a pedigree, at one
marker, is a sum over the unobserved alleles of everyone involved of a
product of small factors (Elston & Stewart 1971; Cannings, Thompson &
Skolnick 1978):

* a **founder factor** per founder allele: its population frequency ``p_a``
  (with founder inbreeding ``f``: ``f p_a [a = b] + (1 - f) p_a p_b`` over the
  founder's two alleles; with a subpopulation correction θ, one joint factor
  over all founder alleles of a family given by the Balding–Nichols sampling
  formula, see :func:`balding_nichols_founder_factor`);
* a **transmission factor** per allele a child received:
  ``T[a, b, c] = (M[a, c] + M[b, c]) / 2``, the probability that a parent with
  alleles ``a, b`` transmits ``c`` (``M`` is the mutation matrix of the
  parent's sex, the identity without mutation); for an X-linked marker a
  father transmits his single X allele to daughters only (``M[x, c]``);
* an **evidence factor** per typed person: 1 when the person's paternal and
  maternal alleles form the observed (unordered) genotype, else 0.

Each person carries two allele variables (paternal, maternal); males carry
one at X-linked markers. Summing the product over all variables is a tensor
contraction; peeling is the choice of the order in which variables are
summed out. We let :mod:`opt_einsum` choose that order for each pedigree
(greedy/optimal search over contraction paths), which is variable
elimination on the pedigree's allele graph. Elston–Stewart peeling of
nuclear families is one such order; pedigrees with loops need no explicit
loop breaking, because eliminating a variable of a loop simply produces a
factor over all the variables it is connected to — the exact equivalent of
conditioning on a loop breaker's genotype (cutset conditioning) and summing.

Three reductions keep this fast:

* people who are neither typed nor ancestors of someone typed are dropped
  (their factors sum to one);
* the variables of a typed person range only over the person's own alleles;
* alleles no one carries are merged into one *lumped* allele whenever the
  mutation model is strongly lumpable for them (always without mutation, and
  for the equal and proportional models), so a 50-allele STR costs no more
  than its observed alleles plus one.

Likelihoods are returned as natural logarithms; each factor is scaled to a
maximum of one and the scales are carried in log space, so many markers and
large pedigrees do not underflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import opt_einsum as oe
from numpy.typing import NDArray

from .errors import KinmatchError, MarkerError, PedigreeError
from .markers import Marker
from .mutation import lumped_matrix
from .pedigree import Pedigree, Sex

#: A genotype as two allele indices into ``Marker.alleles`` (unordered).
Genotype = tuple[int, int]

#: Alphabets up to this size use the full alphabet for typed people too, so
#: that markers share one contraction shape and are computed in one batch.
FULL_DOMAIN_MAX_ALLELES = 4

#: Largest θ founder factor (entries) that will be built.
THETA_FACTOR_LIMIT = 50_000_000


# ---------------------------------------------------------------------------
# Pure numerical building blocks


def transmission_factor(
    mutation_matrix: NDArray[np.float64],
    parent_domains: Sequence[NDArray[np.intp]],
    child_domain: NDArray[np.intp],
) -> NDArray[np.float64]:
    """Probability that a parent transmits each child allele.

    For a parent with two alleles (domains ``A``, ``B``) returns
    ``T[a, b, c] = (M[a, c] + M[b, c]) / 2`` (Mendel's first law with
    mutation); for a parent with one allele (X-linked father) returns
    ``T[x, c] = M[x, c]``.
    """
    if len(parent_domains) == 1:
        return mutation_matrix[np.ix_(parent_domains[0], child_domain)]
    first = mutation_matrix[np.ix_(parent_domains[0], child_domain)]
    second = mutation_matrix[np.ix_(parent_domains[1], child_domain)]
    return 0.5 * (first[:, None, :] + second[None, :, :])


def evidence_factor(
    paternal_domain: NDArray[np.intp], maternal_domain: NDArray[np.intp], genotype: Genotype
) -> NDArray[np.float64]:
    """``E[i, j] = 1`` when paternal allele ``i`` and maternal allele ``j`` form the genotype."""
    a, b = genotype
    p = paternal_domain[:, None]
    m = maternal_domain[None, :]
    return (((p == a) & (m == b)) | ((p == b) & (m == a))).astype(float)


def inbred_founder_factor(p: NDArray[np.float64], inbreeding: float) -> NDArray[np.float64]:
    """Joint distribution of a founder's two alleles with inbreeding coefficient ``f``:
    ``P(a, b) = f p_a [a = b] + (1 - f) p_a p_b`` (Malécot)."""
    return inbreeding * np.diag(p) + (1.0 - inbreeding) * np.outer(p, p)


def balding_nichols_founder_factor(
    p: NDArray[np.float64], domains: Sequence[NDArray[np.intp]], theta: float
) -> NDArray[np.float64]:
    """Joint probability of all founder alleles of a family under θ.

    The ``j``-th allele drawn (``j = 1, 2, ...``) is ``a`` with probability
    ``(n_a θ + (1 - θ) p_a) / (1 + (j - 2) θ)``, where ``n_a`` counts the
    earlier draws of ``a`` (Balding & Nichols 1994, eq. 4.10 of Balding &
    Steele, *Weight-of-evidence for forensic DNA profiles*). The product is
    exchangeable, so it depends on the allele counts only::

        P = prod_a prod_{r < n_a} (r θ + (1 - θ) p_a) / prod_{j=1..K} (1 + (j - 2) θ)

    This is how pedprobr applies ``theta``: all founders of a pedigree share
    one sampling sequence. ``domains`` gives the allowed allele indices of
    each of the ``K`` founder alleles; the result has one axis per allele.
    """
    k = len(p)
    n_draws = len(domains)
    # log of prod_{r<n} (r θ + (1-θ) p_a), for n = 0..K, per allele
    r = np.arange(n_draws)[:, None]
    with np.errstate(divide="ignore"):
        terms = np.log(r * theta + (1.0 - theta) * p[None, :])
    cum = np.vstack([np.zeros((1, k)), np.cumsum(terms, axis=0)])  # (K+1, k)
    shape = tuple(len(d) for d in domains)
    counts = np.zeros(shape + (k,), dtype=np.int64)
    for axis, dom in enumerate(domains):
        onehot = np.zeros((len(dom), k), dtype=np.int64)
        onehot[np.arange(len(dom)), dom] = 1
        view = [1] * n_draws + [k]
        view[axis] = len(dom)
        counts = counts + onehot.reshape(view)
    log_num = cum[counts, np.arange(k)].sum(axis=-1)
    j = np.arange(1, n_draws + 1)
    log_den = float(np.sum(np.log1p((j - 2) * theta)))
    return np.exp(log_num - log_den)


# ---------------------------------------------------------------------------
# The network of factors for one pedigree and one marker


@dataclass
class _Network:
    """Factors over allele variables; ``contract`` sums them out."""

    arrays: list[NDArray[np.float64]] = field(default_factory=list)
    variables: list[tuple[int, ...]] = field(default_factory=list)
    log_scale: float = 0.0
    impossible: bool = False

    def add(self, array: NDArray[np.float64], variables: tuple[int, ...], scale: bool = False) -> None:
        if scale:
            top = float(array.max()) if array.size else 0.0
            if top <= 0.0:
                self.impossible = True
                return
            if top != 1.0:
                array = array / top
                self.log_scale += math.log(top)
        self.arrays.append(array)
        self.variables.append(variables)

    def signature(self) -> tuple[object, ...]:
        return tuple(zip(self.variables, (a.shape for a in self.arrays)))


def _einsum_subscripts(variables: Sequence[tuple[int, ...]], output: tuple[int, ...],
                       batch: bool) -> str:
    lead = oe.get_symbol(0) if batch else ""

    def word(vs: tuple[int, ...]) -> str:
        return lead + "".join(oe.get_symbol(v + 1) for v in vs)

    return ",".join(word(vs) for vs in variables) + "->" + word(output)


@lru_cache(maxsize=4096)
def _expression(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> oe.contract.ContractExpression:
    return oe.contract_expression(subscripts, *shapes, optimize=_path(subscripts, shapes))


#: Contraction paths by subscripts and the *kind* of each dimension (typed
#: people's one- or two-allele domains, or a whole alphabet): the best order
#: of elimination depends on the structure, not on the exact alphabet size,
#: so pedigrees that differ only in alleles share one path search.
_PATHS: dict[tuple[str, tuple[tuple[int, ...], ...]], list[tuple[int, ...]]] = {}


def _path(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> list[tuple[int, ...]]:
    kinds = tuple(tuple(d if d <= 2 else 3 for d in shape) for shape in shapes)
    key = (subscripts, kinds)
    path = _PATHS.get(key)
    if path is None:
        optimize = "auto-hq" if len(shapes) <= 12 else "greedy"
        path, _ = oe.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)
        if len(_PATHS) < 20_000:
            _PATHS[key] = path
    return path


@dataclass(frozen=True)
class _PersonVars:
    pid: str
    sex: Sex
    variables: tuple[int, ...]  # (paternal, maternal) or (x,) for X males
    domains: tuple[NDArray[np.intp], ...]


@dataclass(frozen=True)
class _Layout:
    """What a network looks like for one pedigree, typed set and chromosome:
    who is kept, their variables, founders and transmissions. Cached."""

    people: tuple[str, ...]
    variables: dict[str, tuple[int, ...]]
    founders: tuple[str, ...]
    # (parent id, child variable, child id) for every transmitted allele
    transmissions: tuple[tuple[str, int, str], ...]
    founder_components: tuple[tuple[str, ...], ...]


def _layout(pedigree: Pedigree, typed: frozenset[str], keep: tuple[str, ...], is_x: bool) -> _Layout:
    cache: dict[tuple[object, ...], _Layout] = pedigree.__dict__.setdefault("_layout_cache", {})
    key = (typed, keep, is_x)
    found = cache.get(key)
    if found is not None:
        return found
    wanted: set[str] = set()
    for pid in (*typed, *keep):
        wanted.add(pid)
        wanted |= pedigree.ancestors(pid)
    people = tuple(pid for pid in pedigree.order if pid in wanted)
    variables: dict[str, tuple[int, ...]] = {}
    nxt = 0
    for pid in people:
        count = 1 if (is_x and pedigree.sex(pid) == Sex.MALE) else 2
        variables[pid] = tuple(range(nxt, nxt + count))
        nxt += count
    founders = tuple(pid for pid in people if pedigree[pid].is_founder)
    transmissions: list[tuple[str, int, str]] = []
    for pid in people:
        person = pedigree[pid]
        if person.is_founder:
            continue
        cv = variables[pid]
        if len(cv) == 1:
            transmissions.append((person.mother, cv[0], pid))  # type: ignore[arg-type]
        else:
            transmissions.append((person.father, cv[0], pid))  # type: ignore[arg-type]
            transmissions.append((person.mother, cv[1], pid))  # type: ignore[arg-type]
    fset = set(founders)
    components = tuple(
        tuple(pid for pid in comp if pid in fset) for comp in pedigree.components()
    )
    layout = _Layout(people, variables, founders, tuple(transmissions),
                     tuple(c for c in components if c))
    if len(cache) < 256:
        cache[key] = layout
    return layout


def build_network(
    pedigree: Pedigree,
    marker: Marker,
    genotypes: Mapping[str, Genotype],
    theta: float = 0.0,
    keep_people: Sequence[str] = (),
    full_domains: bool | None = None,
    lump: bool = True,
) -> tuple[_Network, dict[str, _PersonVars], list[str]]:
    """The factor network of one marker on one pedigree.

    ``genotypes`` maps typed people to allele-index pairs. People in
    ``keep_people`` are kept even when untyped and unneeded (so their
    genotype distribution can be read off). Returns the network, the
    variables of each kept person, and the alphabet (allele labels; a lumped
    allele is ``"*"``).
    """
    typed = {pid: g for pid, g in genotypes.items() if pid in pedigree}
    is_x = marker.is_x
    if is_x:
        for pid, (a, b) in typed.items():
            sex = pedigree.sex(pid)
            if sex == Sex.UNKNOWN:
                raise PedigreeError(
                    f"'{pid}' is typed at X-linked marker {marker.name} but has unknown sex"
                )
            if sex == Sex.MALE and a != b:
                raise MarkerError(
                    f"'{pid}' is male but heterozygous ({marker.alleles[a]}/{marker.alleles[b]}) "
                    f"at X-linked marker {marker.name}"
                )
    layout = _layout(pedigree, frozenset(typed), tuple(keep_people), is_x)
    people = layout.people

    # Alphabet: observed alleles, plus the rest (lumped when the model allows)
    observed = sorted({a for g in typed.values() for a in g})
    untyped_present = len(people) > len(typed)
    observed_set = set(observed)
    rest = [i for i in range(marker.n_alleles) if i not in observed_set]
    freqs = marker.allele_frequencies
    model = marker.mutation
    if not untyped_present or not rest:
        alphabet_idx = observed if not untyped_present else list(range(marker.n_alleles))
        lumped = False
    elif lump and (len(rest) == 1 or model is None or model.lumpable(rest)):
        alphabet_idx = observed + [-1]
        lumped = True
    else:
        alphabet_idx = list(range(marker.n_alleles))
        lumped = False

    def restrict(m: NDArray[np.float64]) -> NDArray[np.float64]:
        if lumped:
            return lumped_matrix(m, observed, rest)
        if len(alphabet_idx) == marker.n_alleles:
            return m
        return m[np.ix_(alphabet_idx, alphabet_idx)]

    if lumped:
        p = np.append(freqs[observed], freqs[rest].sum())
        labels = [marker.alleles[i] for i in observed] + ["*"]
    else:
        p = freqs[alphabet_idx]
        labels = [marker.alleles[i] for i in alphabet_idx]
    n = len(labels)
    matrix_of: dict[Sex, NDArray[np.float64] | None] = {Sex.MALE: None, Sex.FEMALE: None}
    if model is not None:
        female = restrict(model.female.matrix)
        matrix_of = {Sex.FEMALE: female,
                     Sex.MALE: female if model.sex_equal else restrict(model.male.matrix)}
    position = {a: i for i, a in enumerate(alphabet_idx) if a >= 0}
    full = n <= FULL_DOMAIN_MAX_ALLELES if full_domains is None else full_domains
    everything = np.arange(n)

    pvars: dict[str, _PersonVars] = {}
    for pid in people:
        g = typed.get(pid)
        if g is not None and not full:
            dom = np.array(sorted({position[g[0]], position[g[1]]}), dtype=np.intp)
        else:
            dom = everything
        variables = layout.variables[pid]
        pvars[pid] = _PersonVars(pid, pedigree.sex(pid), variables, (dom,) * len(variables))

    net = _Network()
    # Founder factors
    if theta > 0:
        for members in layout.founder_components:
            inbred = [pid for pid in members if pedigree.is_inbred_founder(pid)]
            if inbred:
                raise PedigreeError(
                    f"theta correction cannot be combined with founder inbreeding ('{inbred[0]}')"
                )
            fvars = [v for pid in members for v in pvars[pid].variables]
            fdoms = [d for pid in members for d in pvars[pid].domains]
            size = math.prod(len(d) for d in fdoms)
            if size > THETA_FACTOR_LIMIT:
                raise KinmatchError(
                    f"theta correction over {len(members)} founders of marker {marker.name} needs "
                    f"{size:.3g} terms; type fewer founders or use theta = 0"
                )
            net.add(balding_nichols_founder_factor(p, fdoms, theta), tuple(fvars), scale=True)
    else:
        for pid in layout.founders:
            pv = pvars[pid]
            f = pedigree.founder_inbreeding.get(pid, 0.0)
            if f > 0 and len(pv.variables) == 2:
                joint = inbred_founder_factor(p, f)[np.ix_(pv.domains[0], pv.domains[1])]
                net.add(joint, pv.variables, scale=True)
            else:
                for v, d in zip(pv.variables, pv.domains):
                    net.add(p[d], (v,), scale=True)

    # Transmission factors (shared arrays when domains are the full alphabet)
    shared: dict[tuple[Sex, int], NDArray[np.float64]] = {}
    for parent_id_, child_var, child_id in layout.transmissions:
        parent = pvars[parent_id_]
        dom = pvars[child_id].domains[0]
        whole = all(d is everything for d in parent.domains) and dom is everything
        key = (parent.sex, len(parent.variables))
        if whole and key in shared:
            tf = shared[key]
        else:
            m = matrix_of[parent.sex]
            tf = transmission_factor(np.eye(n) if m is None else m, parent.domains, dom)
            if whole:
                shared[key] = tf
        net.add(tf, parent.variables + (child_var,))

    # Evidence factors
    for pid, g in typed.items():
        pv = pvars[pid]
        if len(pv.variables) == 1:
            if full:
                net.add((pv.domains[0] == position[g[0]]).astype(float), pv.variables)
            continue
        ef = evidence_factor(pv.domains[0], pv.domains[1], (position[g[0]], position[g[1]]))
        if ef.size > 1:
            net.add(ef, pv.variables)
    return net, pvars, labels


def _contract(nets: Sequence[_Network], output: tuple[int, ...] = ()) -> list[NDArray[np.float64]]:
    """Contract networks that share one signature, in one batched call."""
    first = nets[0]
    if not first.arrays:  # nobody typed and nothing to sum: the likelihood is 1
        return [np.array(1.0) for _ in nets]
    if len(nets) == 1:
        subs = _einsum_subscripts(first.variables, output, batch=False)
        shapes = tuple(a.shape for a in first.arrays)
        if not shapes:
            return [np.array(1.0)]
        return [np.asarray(_expression(subs, shapes)(*first.arrays))]
    subs = _einsum_subscripts(first.variables, output, batch=True)
    stacked = [np.stack([net.arrays[i] for net in nets]) for i in range(len(first.arrays))]
    shapes = tuple(a.shape for a in stacked)
    result = np.asarray(_expression(subs, shapes)(*stacked))
    return list(result)


def marker_loglik(
    pedigree: Pedigree,
    marker: Marker,
    genotypes: Mapping[str, Genotype],
    theta: float = 0.0,
) -> float:
    """Natural log of the likelihood of the genotypes at one marker (``-inf`` if impossible)."""
    return float(markers_loglik(pedigree, [marker], [genotypes], theta)[0])


def markers_loglik(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype]],
    theta: float = 0.0,
) -> NDArray[np.float64]:
    """Log-likelihood per marker; markers with the same network shape are batched."""
    if not 0 <= theta < 1:
        raise KinmatchError(f"theta must be in [0, 1), not {theta}")
    out = np.zeros(len(markers))
    groups: dict[tuple[object, ...], list[tuple[int, _Network]]] = {}
    for i, (marker, geno) in enumerate(zip(markers, genotypes)):
        net, _, _ = build_network(pedigree, marker, geno, theta)
        if net.impossible:
            out[i] = -math.inf
            continue
        groups.setdefault(net.signature(), []).append((i, net))
    for members in groups.values():
        values = _contract([net for _, net in members])
        for (i, net), value in zip(members, values):
            v = float(value)
            out[i] = (math.log(v) + net.log_scale) if v > 0 else -math.inf
    return out


def genotype_distribution(
    pedigree: Pedigree,
    marker: Marker,
    genotypes: Mapping[str, Genotype],
    person: str,
    theta: float = 0.0,
) -> tuple[float, NDArray[np.float64]]:
    """Joint probability of the data and each unordered genotype of ``person``.

    Returns ``(loglik_of_data, P)`` where ``P[a, b]`` (``a <= b``, allele
    indices of the marker, upper triangle) is the conditional probability
    that ``person`` has genotype ``a/b`` given the data. ``person`` must be
    untyped. One contraction gives the whole distribution.
    """
    logliks, dists = genotype_distributions(pedigree, [marker], [genotypes], person, theta)
    return float(logliks[0]), dists[0]


def genotype_distributions(
    pedigree: Pedigree,
    markers: Sequence[Marker],
    genotypes: Sequence[Mapping[str, Genotype]],
    person: str,
    theta: float = 0.0,
) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """:func:`genotype_distribution` for many markers; markers whose networks
    have the same shape are contracted in one batched call.

    Returns the log-likelihood of the data per marker (summed over the
    genotypes of ``person``) and, per marker, the ``(n, n)`` upper-triangular
    matrix ``P[a, b] = P(person = a/b | data)`` (for a male at an X-linked
    marker, ``P[a, a] = P(person = a | data)``). A marker whose data are
    impossible gets ``-inf`` and an all-zero matrix.
    """
    if not 0 <= theta < 1:
        raise KinmatchError(f"theta must be in [0, 1), not {theta}")
    logliks = np.full(len(markers), -math.inf)
    dists = [np.zeros((m.n_alleles, m.n_alleles)) for m in markers]
    groups: dict[tuple[object, ...], list[tuple[int, _Network]]] = {}
    output: dict[tuple[object, ...], tuple[int, ...]] = {}
    for i, (marker, geno) in enumerate(zip(markers, genotypes)):
        if person in geno:
            raise KinmatchError(
                f"'{person}' is typed; the genotype distribution is for untyped people")
        net, pvars, labels = build_network(pedigree, marker, geno, theta, keep_people=[person],
                                           lump=False)
        if net.impossible:
            continue
        # Without lumping and with an untyped person kept, the alphabet is the marker's.
        assert len(labels) == marker.n_alleles
        key = net.signature()
        groups.setdefault(key, []).append((i, net))
        output[key] = pvars[person].variables
    for key, members in groups.items():
        joints = _contract([net for _, net in members], output=output[key])
        for (i, net), joint in zip(members, joints):
            total = float(joint.sum())
            if total <= 0:
                continue
            logliks[i] = math.log(total) + net.log_scale
            if joint.ndim == 1:  # X-linked male: hemizygous, stored on the diagonal
                np.fill_diagonal(dists[i], joint / total)
            else:
                ordered = joint / total
                dists[i] = np.triu(ordered + ordered.T - np.diag(np.diag(ordered)))
    return logliks, dists


def genotype_log_probability(
    allele_frequencies: NDArray[np.float64], a: int, b: int, theta: float = 0.0,
    hemizygous: bool = False,
) -> float:
    """Log-probability of the unordered genotype ``a/b`` of one person with no
    typed relatives, as the founder of a one-person pedigree.

    Without θ this is Hardy–Weinberg: ``p_a^2`` or ``2 p_a p_b``. With θ the
    two alleles are the first two Balding–Nichols draws (see
    :func:`balding_nichols_founder_factor`)::

        P(a/a) = p_a (θ + (1 - θ) p_a),    P(a/b) = 2 (1 - θ) p_a p_b.

    A hemizygous person (male, X-linked marker) carries one allele: ``p_a``.
    """
    p = allele_frequencies
    if hemizygous:
        return math.log(p[a]) if a == b else -math.inf
    if a == b:
        return math.log(p[a]) + math.log(theta + (1.0 - theta) * p[a])
    return math.log(2.0 * (1.0 - theta)) + math.log(p[a]) + math.log(p[b])
