"""Contracting a network of factors: the order of summation and its execution.

A pedigree likelihood (:mod:`kinmatch.likelihood`) is a sum over allele
variables of a product of small factors, written as an einsum expression
whose first index (the *marker axis*) is shared by every factor: many
markers (and pedigrees of one shape) are computed in one call. This module
finds an order of pairwise contractions (a *path*) and carries it out.

Path: the cheaper of a first search (opt_einsum's ``auto-hq`` up to 12
factors, one compiled greedy search beyond: :func:`greedy_path`) and
variable elimination in min-size order (:func:`elimination_path`,
peeling); where the first path is expensive (large alphabets on pedigrees
with several untyped couples), the best of a batch of randomised greedy
searches (cotengrust, compiled) instead of elimination: on the deep
pedigrees of the Chōsei example with stepwise mutation models their paths
run 10-20 times faster. Costs count the entries written to intermediates as
well as the multiplications (:func:`path_cost`). A batch whose first path
costs less than a second search would take (:data:`SEARCH_BUDGET`) keeps
that path.

Execution: each pairwise step is a batched matrix product. opt_einsum
hands any step whose indices include a shared output index (always the
marker axis here) to ``numpy.einsum``, whose loops do not use BLAS, and
re-parses the step on every call; a :class:`MatmulPlan`, compiled once per
structure, transposes both operands to ``(batch, left, summed)`` and
``(batch, summed, right)`` and calls ``numpy.matmul``. On every network of
the dvir datasets' solves this is faster, three times over all of them.

Caching: a :class:`ContractionPlanner` keeps the paths it searched and the
plans it compiled, by network structure, within documented bounds, for as
long as it lives. :func:`contract` without a planner uses
:data:`DEFAULT_PLANNER`, which lives as long as the process (see
:class:`ContractionPlanner` for its bounds); the peeling engine owns its
planner through :class:`kinmatch.likelihood.peeling.PeelingContext`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cotengrust
import numpy as np
import opt_einsum as oe
from numpy.typing import NDArray

__all__ = ["DEFAULT_PLANNER", "ContractionPlanner", "MatmulPlan", "compile_matmul_plan",
           "contract", "contraction_path", "einsum_subscripts", "elimination_path",
           "greedy_path", "opt_einsum_path", "path_cost", "random_greedy_path"]


def einsum_subscripts(variables: Sequence[tuple[int, ...]], output: tuple[int, ...]) -> str:
    """The einsum subscripts of factors over numbered variables, each with
    the shared marker axis first."""
    return _subscripts(tuple(variables), tuple(output))


@lru_cache(maxsize=4096)
def _subscripts(variables: tuple[tuple[int, ...], ...], output: tuple[int, ...]) -> str:
    lead = oe.get_symbol(0)

    def word(vs: tuple[int, ...]) -> str:
        return lead + "".join(oe.get_symbol(v + 1) for v in vs)

    return ",".join(word(vs) for vs in variables) + "->" + word(output)


#: Cost (see :func:`path_cost`, per marker) above which a path is worth a
#: longer search: a batch of randomised greedy searches costs a few
#: milliseconds, a path this expensive at least as much per marker.
SEARCH_HARDER_COST = 1e6

#: Randomised greedy searches in that batch. On the 148 networks of the Chōsei
#: example that get them, 32 searches find paths costing 4% more in all than 64
#: do, in half the time (0.4 s against 0.75 s of CPU; the 4% is some 0.05 s of
#: contraction).
RANDOM_GREEDY_TRIALS = 32

#: Cost of a whole batch (:func:`path_cost`, every marker) up to which
#: the first path is kept without a second search: the randomised
#: searches take a few milliseconds of CPU on a pedigree network of 40
#: factors (2.5 ms for 32 trials, 5 ms for 64), and a batch of this cost
#: contracts in about as long (some 2.5e10 per second on the Chōsei
#: example's networks), so searching could not pay for itself. On the
#: Chōsei example this left out 102 of 250 randomised searches for 0.6%
#: more cost in all.
SEARCH_BUDGET = 1e8

#: Weight of an entry written to an intermediate against one multiplication
#: (cotengra's "combo" cost): a path with huge intermediates is bound by
#: memory, not arithmetic. On the deep pedigrees of the Chōsei example, two
#: paths of 3e8 multiplications took 500 ms (one 3e7-entry intermediate)
#: and 26 ms (none above 1e6).
WRITE_WEIGHT = 64


def _sizes(words: Sequence[str], shapes: tuple[tuple[int, ...], ...]) -> dict[str, int]:
    """The size of every index, as opt_einsum reads it (a size of 1 gives way to another)."""
    sizes: dict[str, int] = {}
    for word, shape in zip(words, shapes):
        for c, d in zip(word, shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = int(d)
    return sizes


def path_cost(subscripts: str, shapes: tuple[tuple[int, ...], ...],
              path: Sequence[tuple[int, ...]]) -> float:
    """Multiplications plus :data:`WRITE_WEIGHT` per entry of every
    intermediate, for the whole batch.

    The multiplications are opt_einsum's count (``contract_path``'s
    ``opt_cost``): per step, the product of the sizes of every index involved
    times ``max(1, terms - 1)``, plus one if an index is summed out; the
    entries are the sizes of the steps' results (its ``size_list``). Worked
    out here on index sets, without the rest of ``contract_path``.
    """
    inputs, output = subscripts.split("->")
    words = inputs.split(",")
    sizes = _sizes(words, shapes)
    sets = [frozenset(w) for w in words]
    out = frozenset(output)
    multiplications = written = 0
    for step in path:
        positions = sorted(step, reverse=True)
        involved = frozenset().union(*[sets.pop(i) for i in positions])
        result = involved & out.union(*sets)
        terms = max(1, len(positions) - 1) + (1 if involved - result else 0)
        multiplications += math.prod(sizes[c] for c in involved) * terms
        written += math.prod(sizes[c] for c in result)
        sets.append(result)
    return float(multiplications) + WRITE_WEIGHT * float(written)


def opt_einsum_path(subscripts: str, shapes: tuple[tuple[int, ...], ...], optimize: str
                    ) -> list[tuple[int, ...]]:
    """opt_einsum's path by the search ``optimize`` (``"greedy"``, ``"auto-hq"``, ...):
    what ``contract_path`` returns, without the rest of its work."""
    inputs, output = subscripts.split("->")
    words = inputs.split(",")
    if len(words) <= 2:
        return [tuple(range(len(words)))]
    search = oe.paths.get_path_fn(optimize)
    return [tuple(step) for step in search([frozenset(w) for w in words], frozenset(output),
                                            _sizes(words, shapes), None)]


def contraction_path(subscripts: str, shapes: tuple[tuple[int, ...], ...]
                     ) -> list[tuple[int, ...]]:
    """opt_einsum's own path (``auto-hq``) up to 12 factors, a greedy search
    beyond (:func:`greedy_path`) or, where that path costs more than
    :data:`SEARCH_BUDGET` for the whole batch, the cheaper (:func:`path_cost`)
    of it and either variable elimination in min-size order
    (:func:`elimination_path`) or, where it costs more than
    :data:`SEARCH_HARDER_COST` per marker, randomised greedy searches
    (:func:`random_greedy_path`).

    Searched anew on every call; :class:`ContractionPlanner` keeps the
    paths by structure."""
    return _search(subscripts, shapes)[0]


def _search(subscripts: str, shapes: tuple[tuple[int, ...], ...]
            ) -> tuple[list[tuple[int, ...]], float | None]:
    """:func:`contraction_path`, and the cost per marker of the first path
    when the second search was left out for :data:`SEARCH_BUDGET` (``None``
    when it was made, or when there is nothing to search: 3 factors or fewer)."""
    path = (opt_einsum_path(subscripts, shapes, "auto-hq") if len(shapes) <= 12
            else greedy_path(subscripts, shapes))
    if len(shapes) <= 3:
        return path, None
    cost = path_cost(subscripts, shapes, path)
    markers = max(1, shapes[0][0] if shapes[0] else 1)
    if cost <= SEARCH_BUDGET:
        return path, cost / markers
    # an expensive network gets the randomised searches (which beat
    # min-size elimination there, and cost less than it to run)
    search = (random_greedy_path if cost / markers > SEARCH_HARDER_COST
              else elimination_path)
    other = search(subscripts, shapes)
    if path_cost(subscripts, shapes, other) < cost:
        path = other
    return path, None


def _cotengrust_problem(subscripts: str, shapes: tuple[tuple[int, ...], ...]
                        ) -> tuple[list[tuple[str, ...]], tuple[str, ...], dict[str, int]]:
    """Inputs, output and sizes as cotengrust takes them, without the marker axis."""
    inputs, output = subscripts.split("->")
    words = inputs.split(",")
    sizes: dict[str, int] = {}
    for word, shape in zip(words, shapes):
        sizes.update(zip(word[1:], shape[1:]))  # without the marker axis
    return [tuple(w[1:]) for w in words], tuple(output[1:]), sizes


def greedy_path(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> list[tuple[int, ...]]:
    """One greedy search (cotengrust's ``optimize_greedy``, compiled): the
    pairwise contraction that scores best next, repeatedly. On the 249
    networks of more than 12 factors in the Chōsei example its paths cost half
    what opt_einsum's greedy search finds, and it runs 5 times faster."""
    inputs, output, sizes = _cotengrust_problem(subscripts, shapes)
    path = cotengrust.optimize_greedy(inputs, output, sizes)
    return [tuple(int(i) for i in step) for step in path]


def random_greedy_path(subscripts: str, shapes: tuple[tuple[int, ...], ...]
                       ) -> list[tuple[int, ...]]:
    """The cheapest of :data:`RANDOM_GREEDY_TRIALS` greedy searches whose
    local scores are perturbed at random (Boltzmann sampling; cotengrust's
    ``optimize_random_greedy_track_flops``, seeded, so the path is
    reproducible). Greedy choices that look cheap locally, like summing a
    meiosis indicator early, can cost orders of magnitude later; sampling
    around them finds the orders a fixed heuristic misses."""
    inputs, output, sizes = _cotengrust_problem(subscripts, shapes)
    path, _ = cotengrust.optimize_random_greedy_track_flops(
        inputs, output, sizes, ntrials=RANDOM_GREEDY_TRIALS, seed=0)
    return [tuple(int(i) for i in step) for step in path]


def elimination_path(subscripts: str, shapes: tuple[tuple[int, ...], ...]
                     ) -> list[tuple[int, ...]]:
    """Variable elimination (peeling) as a pairwise contraction path.

    Repeatedly sum out the allele or meiosis variable whose elimination makes
    the smallest new factor (the min-size heuristic for an elimination order,
    as in Elston–Stewart peeling of nuclear families and its generalisation
    to loops; Lange & Elston 1975, Kjærulff 1990): the factors holding it are
    multiplied pairwise, smallest first, and it is summed out with the last
    one. Variables shared by every factor (the marker axis) and output
    variables are never eliminated. On large pedigrees this finds orders
    that opt_einsum's greedy search, which looks at factors rather than
    variables, misses by an order of magnitude.
    """
    inputs, output = subscripts.split("->")
    words = inputs.split(",")
    dims: dict[str, int] = {}
    for word, shape in zip(words, shapes):
        dims.update(zip(word, shape))
    ops = [set(w) for w in words]
    keep = set(output) | set.intersection(*ops)

    def size(indices: set[str]) -> int:
        return math.prod(dims[c] for c in indices)

    path: list[tuple[int, ...]] = []
    variables = set().union(*ops) - keep
    while variables:
        def cost(v: str) -> int:
            return size(set().union(*(o for o in ops if v in o)) - {v})
        variables = {v for v in variables if any(v in o for o in ops)}
        if not variables:
            break
        v = min(sorted(variables), key=cost)
        while True:
            touching = sorted((k for k, o in enumerate(ops) if v in o), key=lambda k: size(ops[k]))
            if not touching:  # already summed out along with another variable
                break
            if len(touching) == 1:
                k = touching[0]
                path.append((k,))
                ops.append(ops.pop(k) - {v})
                break
            i, j = touching[0], touching[1]
            merged = ops[i] | ops[j]
            rest = [o for k, o in enumerate(ops) if k not in (i, j)]
            needed = keep.union(*rest)
            path.append((i, j))
            for k in sorted((i, j), reverse=True):
                ops.pop(k)
            ops.append({c for c in merged if c in needed})
            if v not in ops[-1]:
                break
        variables.discard(v)
    while len(ops) > 1:
        path.append((0, 1))
        a, b = ops.pop(1), ops.pop(0)
        ops.append(a | b)
    return path


@dataclass(frozen=True)
class _Step:
    """One pairwise contraction as ``matmul`` of two transposed, reshaped operands."""

    i: int
    j: int  # i < j; both are removed and the result appended
    sum_i: tuple[int, ...]  # axes of operand i summed before (in no other factor)
    sum_j: tuple[int, ...]
    perm_i: tuple[int, ...]  # to (batch, left, summed)
    perm_j: tuple[int, ...]  # to (batch, summed, right)
    shape_i: tuple[int, int, int]
    shape_j: tuple[int, int, int]
    out_shape: tuple[int, ...]  # (batch..., left..., right...)


@dataclass(frozen=True)
class MatmulPlan:
    """A contraction path compiled to transposes and batched matrix products.

    ``steps`` are pairwise contractions; ``sums`` (per step, or ``None``)
    single-operand sums that opt_einsum's path may contain; ``final`` the
    axes of the last operand to sum and the permutation to the output order.
    """

    steps: tuple[_Step | tuple[int, tuple[int, ...]], ...]
    final_sum: tuple[int, ...]
    final_perm: tuple[int, ...]
    #: entries of the largest operand or intermediate per marker (axis 0)
    largest_per_marker: int = 1

    def __call__(self, *arrays: NDArray[np.float64]) -> NDArray[np.float64]:
        """Contract; the marker axis is cut into chunks whose intermediates
        stay under :data:`CHUNK_BYTES` (bounded memory on huge batches)."""
        n = arrays[0].shape[0] if arrays else 0
        chunk = max(1, CHUNK_BYTES // (8 * self.largest_per_marker))
        if n <= chunk:
            return self._run(arrays)
        return np.concatenate([self._run([a[i:i + chunk] for a in arrays])
                               for i in range(0, n, chunk)])

    def _run(self, arrays: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
        ops = list(arrays)
        for step in self.steps:
            if isinstance(step, tuple):  # a single operand summed over some axes
                k, axes = step
                x = ops.pop(k)
                ops.append(x.sum(axis=axes) if axes else x)
                continue
            b = ops.pop(step.j)
            a = ops.pop(step.i)
            if step.sum_i:
                a = a.sum(axis=step.sum_i)
            if step.sum_j:
                b = b.sum(axis=step.sum_j)
            a = a.transpose(step.perm_i).reshape(step.shape_i)
            b = b.transpose(step.perm_j).reshape(step.shape_j)
            ops.append(np.matmul(a, b).reshape(step.out_shape))
        out = ops[0]
        if self.final_sum:
            out = out.sum(axis=self.final_sum)
        return out.transpose(self.final_perm)


def compile_matmul_plan(subscripts: str, shapes: tuple[tuple[int, ...], ...],
                        path: Sequence[tuple[int, ...]]) -> MatmulPlan | None:
    """:class:`MatmulPlan` for a path, or ``None`` if a factor repeats an index."""
    inputs, output = subscripts.split("->")
    words = inputs.split(",")
    if any(len(set(w)) != len(w) for w in words):
        return None
    dims: dict[str, int] = {}
    for word, shape in zip(words, shapes):
        dims.update(zip(word, shape))
    steps: list[_Step | tuple[int, tuple[int, ...]]] = []
    words = list(words)
    lead = words[0][:1]
    if any(w[:1] != lead for w in words) or output[:1] != lead:
        return None  # not a batch over markers
    largest = max(math.prod(s[1:]) for s in shapes)
    for contraction in path:
        if len(contraction) == 1:
            k = contraction[0]
            w = words.pop(k)
            needed = set(output).union(*words)
            steps.append((k, tuple(a for a, c in enumerate(w) if c not in needed)))
            largest = max(largest, math.prod(dims[c] for c in w[1:]))
            words.append("".join(c for c in w if c in needed))
            continue
        if len(contraction) != 2:
            return None
        i, j = sorted(contraction)
        wb = words.pop(j)
        wa = words.pop(i)
        needed = set(output).union(*words)
        sum_i = tuple(a for a, c in enumerate(wa) if c not in needed and c not in wb)
        sum_j = tuple(a for a, c in enumerate(wb) if c not in needed and c not in wa)
        wa = "".join(c for c in wa if c in needed or c in wb)
        wb = "".join(c for c in wb if c in needed or c in wa)
        batch = [c for c in wa if c in wb and c in needed]
        summed = [c for c in wa if c in wb and c not in needed]
        left = [c for c in wa if c not in wb]
        right = [c for c in wb if c not in wa]

        def prod(cs: list[str]) -> int:
            return math.prod(dims[c] for c in cs)

        # the marker axis (first of ``batch``) is left free: -1 in every shape
        inner = prod(batch[1:])
        steps.append(_Step(
            i, j, sum_i, sum_j,
            tuple(wa.index(c) for c in batch + left + summed),
            tuple(wb.index(c) for c in batch + summed + right),
            (-1, prod(left), prod(summed)),
            (-1, prod(summed), prod(right)),
            (-1, *(dims[c] for c in batch[1:] + left + right))))
        largest = max(largest, inner * prod(left) * prod(right),
                      inner * prod(left) * prod(summed), inner * prod(summed) * prod(right))
        words.append("".join(batch + left + right))
    if len(words) != 1:
        return None
    w = words[0]
    final_sum = tuple(a for a, c in enumerate(w) if c not in output)
    w = "".join(c for c in w if c in output)
    return MatmulPlan(tuple(steps), final_sum, tuple(w.index(c) for c in output), largest)


#: Largest intermediate (bytes) a :class:`MatmulPlan` makes at once.
CHUNK_BYTES = 128 * 2**20


#: What carries out one contraction: a compiled :class:`MatmulPlan`, or
#: opt_einsum's expression where a factor repeats an index.
Executor = Callable[..., NDArray[np.float64]]

#: The key of a path: the subscripts, the *kind* of each dimension (typed
#: people's one- or two-allele domains, or an alphabet; the marker axis
#: ignored) and the power of two of the largest alphabet.
PathKey = tuple[str, tuple[tuple[int, ...], ...], int]


class ContractionPlanner:
    """Contraction paths and compiled executors, kept by network structure.

    * **Paths** (:func:`contraction_path`) are kept by subscripts, the
      *kind* of each dimension and the power of two of the largest alphabet
      (:data:`PathKey`): the best order depends on the structure and the
      rough alphabet size, not on exact sizes or the number of markers, so
      pedigrees that differ only in alleles share one path search (the best
      order for 4 alleles is not the best for 40). At most ``max_paths``
      are kept; past that, new structures are searched on every call
      (a path is a few hundred bytes, but its search costs milliseconds).
    * **Executors** (a :class:`MatmulPlan` compiled from the path, or
      opt_einsum's expression) are kept by subscripts and exact shapes, the
      ``max_executors`` most recently used.

    Everything lives as long as the planner. Nothing it keeps changes a
    result: a path is only an order of summation.
    """

    def __init__(self, max_paths: int = 20_000, max_executors: int = 4096) -> None:
        self.max_paths = max_paths
        self.max_executors = max_executors
        # a path and, when it was kept without the second search, its cost per marker
        self._paths: dict[PathKey, tuple[list[tuple[int, ...]], float | None]] = {}
        self._executors: OrderedDict[tuple[str, tuple[tuple[int, ...], ...]], Executor] = \
            OrderedDict()

    @property
    def n_paths(self) -> int:
        """Paths kept."""
        return len(self._paths)

    @property
    def n_executors(self) -> int:
        """Executors kept."""
        return len(self._executors)

    def path(self, subscripts: str, shapes: tuple[tuple[int, ...], ...]
             ) -> list[tuple[int, ...]]:
        """:func:`contraction_path`, searched once per structure (:data:`PathKey`);
        searched again when a path kept without the second search
        (:data:`SEARCH_BUDGET`) is asked for by a batch of more markers that
        makes it worth searching."""
        kinds = tuple(tuple(d if d <= 2 else 3 for d in shape[1:]) for shape in shapes)
        scale = max((d for shape in shapes for d in shape[1:]), default=1).bit_length()
        key = (subscripts, kinds, scale)
        found = self._paths.get(key)
        if found is not None:
            path, per_marker = found
            markers = max(1, shapes[0][0] if shapes and shapes[0] else 1)
            if per_marker is None or per_marker * markers <= SEARCH_BUDGET:
                return path
        path, per_marker = _search(subscripts, shapes)
        if found is not None or len(self._paths) < self.max_paths:
            self._paths[key] = (path, per_marker)
        return path

    def executor(self, subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> Executor:
        """The compiled contraction of arrays of these shapes (kept, most recently used)."""
        key = (subscripts, shapes)
        found = self._executors.get(key)
        if found is not None:
            self._executors.move_to_end(key)
            return found
        path = self.path(subscripts, shapes)
        plan = compile_matmul_plan(subscripts, shapes, path)
        found = plan if plan is not None else \
            oe.contract_expression(subscripts, *shapes, optimize=path)
        self._executors[key] = found
        while len(self._executors) > self.max_executors:
            self._executors.popitem(last=False)
        return found

    def contract(self, subscripts: str, arrays: Sequence[NDArray[np.float64]]
                 ) -> NDArray[np.float64]:
        """``einsum(subscripts, *arrays)`` along this planner's path, as a
        compiled :class:`MatmulPlan` (opt_einsum where a factor repeats an index)."""
        shapes = tuple(a.shape for a in arrays)
        return np.asarray(self.executor(subscripts, shapes)(*arrays))


#: The planner of callers that give none: one per process, living as long
#: as it does, within :class:`ContractionPlanner`'s default bounds (20,000
#: paths, the 4,096 most recently used executors).
DEFAULT_PLANNER = ContractionPlanner()


def contract(subscripts: str, arrays: Sequence[NDArray[np.float64]],
             planner: ContractionPlanner | None = None) -> NDArray[np.float64]:
    """``einsum(subscripts, *arrays)`` along ``planner``'s path (default
    :data:`DEFAULT_PLANNER`), as a compiled :class:`MatmulPlan` (opt_einsum
    where a factor repeats an index)."""
    return (planner if planner is not None else DEFAULT_PLANNER).contract(subscripts, arrays)
