"""Injective partial assignments of rows to columns.

An **assignment** maps every row ``r`` either to one of its allowed columns
``options[r]`` or to :data:`UNASSIGNED`, using each column at most once (a
partial matching of a bipartite graph in which every row may also stay
unmatched). This module enumerates, counts and ranks them:

* :func:`enumerate_assignments` lists every one (depth first);
* :func:`count_assignments` and :func:`count_matchings` count them by
  dynamic programming;
* :class:`KBestAssignments` (:func:`k_best_assignments`) ranks them by an
  additive weight ``sum_{(r, c)} w[r, c]`` with Murty's partitioning
  (K. G. Murty, *An algorithm for ranking all the assignments in order of
  increasing cost*, Operations Research 16:682–687, 1968), each subproblem
  solved as a linear sum assignment;
* :func:`best_first_assignments` ranks them by a value that is additive
  over **groups** of columns but not within a group (the value of the
  pairs placed in one group is any function of them), by best-first
  branch-and-bound with an admissible bound;
* :func:`k_best_combinations` merges independent sorted lists into the k
  best combinations (the k-best product of independent sub-problems).

Nothing here knows what rows and columns stand for.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from kinmatch.algorithms.logsum import logsumexp
from kinmatch.errors import KinmatchError

#: The column of a row left unassigned.
UNASSIGNED = -1

#: The (row, column) pairs placed in one group, in the order they were placed.
Placement = tuple[tuple[int, int], ...]

#: ``gain(group, placement)``: the value of placing ``placement`` in ``group``
#: (0 for the empty placement; ``-inf`` when impossible).
GroupGain = Callable[[int, Placement], float]


class AssignmentLimitError(KinmatchError):
    """More assignments than the caller allowed (:func:`enumerate_assignments`)."""

    def __init__(self, n_rows: int, limit: int) -> None:
        self.n_rows = n_rows
        self.limit = limit
        super().__init__(f"{n_rows} rows have more than {limit:,} assignments")


class SearchLimitError(KinmatchError):
    """The branch-and-bound needed more node expansions than allowed
    (:func:`best_first_assignments`)."""

    def __init__(self, n_rows: int, max_nodes: int) -> None:
        self.n_rows = n_rows
        self.max_nodes = max_nodes
        super().__init__(f"ranking the assignments of {n_rows} rows needed more than "
                         f"{max_nodes:,} search nodes")


# ---------------------------------------------------------------------------
# Enumeration and counting


def enumerate_assignments(rows: Sequence[int], options: dict[int, list[int]], limit: int
                          ) -> Iterator[tuple[int, ...]]:
    """Every injective partial assignment of ``rows`` to their ``options``.

    Each is a tuple of columns, one per row (:data:`UNASSIGNED` for none),
    generated depth first with "unassigned" before the options in their
    order. Raises :class:`AssignmentLimitError` when more than ``limit``
    would be generated (after yielding the first ``limit``).
    """
    count = 0
    chosen: list[int] = []
    used: set[int] = set()

    def rec(i: int) -> Iterator[tuple[int, ...]]:
        nonlocal count
        if i == len(rows):
            count += 1
            if count > limit:
                raise AssignmentLimitError(len(rows), limit)
            yield tuple(chosen)
            return
        chosen.append(UNASSIGNED)
        yield from rec(i + 1)
        chosen.pop()
        for c in options[rows[i]]:
            if c not in used:
                used.add(c)
                chosen.append(c)
                yield from rec(i + 1)
                chosen.pop()
                used.discard(c)

    yield from rec(0)


def count_assignments(allowed: NDArray[np.bool_]) -> int:
    """Number of injective partial assignments with ``allowed[r, c]`` (dvir's n).

    Dynamic programming over rows with the set of used columns as state,
    restricted to columns some row may take; exact for the sizes one can
    enumerate (see :func:`count_matchings` for large ones).
    """
    states: dict[frozenset[int], int] = {frozenset(): 1}
    for s in range(allowed.shape[0]):
        cols = np.flatnonzero(allowed[s])
        nxt: dict[frozenset[int], int] = {}
        for used, n in states.items():
            nxt[used] = nxt.get(used, 0) + n
            for c in cols:
                if c not in used:
                    key = used | {int(c)}
                    nxt[key] = nxt.get(key, 0) + n
        states = nxt
    return sum(states.values())


def count_matchings(allowed: NDArray[np.bool_], max_states: int = 1_000_000) -> int | None:
    """Number of injective partial assignments, by column classes; ``None`` if too costly.

    Columns allowed by exactly the same rows are interchangeable, so the
    state need only count the used columns of each class:
    ``N(r + 1, u + e_g) += N(r, u) * (size_g - u_g)`` for each class ``g`` that
    row ``r`` allows, and ``N(r + 1, u) += N(r, u)`` for "unassigned". With
    one class of ``m`` columns and ``n`` rows this is
    ``sum_k C(n, k) C(m, k) k!``. ``None`` when the classes allow more than
    ``max_states`` states.
    """
    if allowed.size == 0:
        return 1
    patterns: dict[bytes, int] = {}
    col_class = np.array([patterns.setdefault(allowed[:, c].tobytes(), len(patterns))
                          for c in range(allowed.shape[1])], dtype=np.intp)
    sizes = np.bincount(col_class, minlength=len(patterns))
    if math.prod(int(x) + 1 for x in sizes) > max_states:
        return None
    states: dict[tuple[int, ...], int] = {tuple(0 for _ in sizes): 1}
    for s in range(allowed.shape[0]):
        classes = sorted({int(g) for g in col_class[allowed[s]]})
        nxt: dict[tuple[int, ...], int] = {}
        for used, n in states.items():
            nxt[used] = nxt.get(used, 0) + n
            for g in classes:
                free = int(sizes[g]) - used[g]
                if free > 0:
                    key = (*used[:g], used[g] + 1, *used[g + 1:])
                    nxt[key] = nxt.get(key, 0) + n * free
        states = nxt
    return sum(states.values())


# ---------------------------------------------------------------------------
# Murty's k-best assignments (additive weights)


class KBestAssignments:
    """The partial matchings of rows to columns, best first (Murty 1968).

    ``weight[r, c]`` is the additive log-weight of pair ``(r, c)`` (``-inf``
    when not allowed); a row may also stay unassigned with weight 0, so the
    value of an assignment ``a`` is ``sum_{r: a(r) != UNASSIGNED} w[r, a(r)]``.

    Each row of the linear-sum-assignment cost matrix has the ``m`` real
    columns and one private "unassigned" column of cost 0 (an ``n × (m + n)``
    matrix of costs ``-w``). Murty's partitioning: once a solution ``x`` is
    listed, the solutions of its subproblem other than ``x`` fall into
    disjoint children, the ``i``-th fixing rows ``1..i-1`` (among the free
    ones) to their choices in ``x`` and forbidding row ``i``'s; the next
    solution is the best of all open subproblems (a heap). Each solution is
    listed exactly once and in order of decreasing value.
    """

    def __init__(self, weight: NDArray[np.float64]) -> None:
        self.n, self.m = weight.shape
        n, m = self.n, self.m
        cost = np.full((n, m + n), np.inf)
        cost[:, :m] = np.where(np.isfinite(weight), -weight, np.inf)
        cost[np.arange(n), m + np.arange(n)] = 0.0
        self.cost = cost
        self.weight = weight
        #: ``weight`` as nested lists: the same floats, read faster one by one
        self.weights: list[list[float]] = weight.tolist()

    def _column(self, row: int, choice: int) -> int:
        return choice if choice != UNASSIGNED else self.m + row

    def solve(self, forced: dict[int, int], forbidden: dict[int, frozenset[int]]
              ) -> tuple[float, tuple[int, ...]] | None:
        """Best solution with the rows in ``forced`` fixed and ``forbidden``
        choices barred (``None`` if there is none)."""
        node = _Node(self, forced, forbidden)
        return node.complete(self)

    def ranked(self) -> Iterator[tuple[float, tuple[int, ...]]]:
        """``(value, assignment)`` best first, each assignment once."""
        root = self.solve({}, {})
        if root is None:
            return
        counter = 0
        heap: list[tuple[float, int, tuple[int, ...], dict[int, int], dict[int, frozenset[int]]]]
        heap = [(-root[0], counter, root[1], {}, {})]
        while heap:
            neg, _, sol, forced, forbidden = heapq.heappop(heap)
            yield -neg, sol
            # the children: the i-th fixes the free rows before row i to their choices
            # in ``sol`` and bars row i's; one node is narrowed from child to child
            node = _Node(self, forced, forbidden)
            fixed = dict(forced)
            for r in range(self.n):
                if r in forced:
                    continue
                bar = dict(forbidden)
                bar[r] = bar.get(r, frozenset()) | {sol[r]}
                child = node.complete(self, (r, sol[r]))
                if child is not None:
                    counter += 1
                    heapq.heappush(heap, (-child[0], counter, child[1], dict(fixed), bar))
                fixed[r] = sol[r]
                node.fix(self, r, sol[r])


class _Node:
    """A subproblem of :class:`KBestAssignments`: the rows fixed so far (their
    choices and the sum of their weights, in the order they were fixed), the
    rows and columns still free, and the cost matrix with the barred choices
    at infinity."""

    def __init__(self, problem: KBestAssignments, forced: dict[int, int],
                 forbidden: dict[int, frozenset[int]]) -> None:
        n, m = problem.n, problem.m
        self.choice = [UNASSIGNED] * n
        self.value = 0.0
        self.free = np.ones(n, dtype=bool)
        self.keep = np.ones(m + n, dtype=bool)
        self.cost = problem.cost
        if forbidden:
            self.cost = problem.cost.copy()
            for r, barred in forbidden.items():
                self.cost[r, [problem._column(r, c) for c in barred]] = np.inf
        for r, c in forced.items():
            self.fix(problem, r, c)

    def fix(self, problem: KBestAssignments, row: int, choice: int) -> None:
        """Fix ``row`` to ``choice``."""
        self.choice[row] = choice
        self.free[row] = False
        self.keep[problem.m + row] = False
        if choice != UNASSIGNED:
            self.keep[choice] = False
            self.value += problem.weights[row][choice]

    def complete(self, problem: KBestAssignments, barred: tuple[int, int] | None = None
                 ) -> tuple[float, tuple[int, ...]] | None:
        """The best completion of the free rows (with the choice ``barred``,
        a ``(row, choice)``, barred too), or ``None`` if there is none."""
        choice = list(self.choice)
        value = self.value
        if self.free.any():
            free_rows = np.flatnonzero(self.free)
            cols = np.flatnonzero(self.keep)
            sub = self.cost[free_rows][:, cols]  # (a copy; np.ix_ takes 5 times as long)
            if barred is not None:
                r, c = barred
                i = int(np.searchsorted(free_rows, r))
                j = int(np.searchsorted(cols, problem._column(r, c)))
                if i < len(free_rows) and free_rows[i] == r and j < len(cols) \
                        and cols[j] == problem._column(r, c):
                    sub[i, j] = np.inf
            try:
                rows, picked = linear_sum_assignment(sub)
            except ValueError:  # no feasible completion
                return None
            if not np.isfinite(sub[rows, picked]).all():
                return None
            m, weights = problem.m, problem.weights
            for r, c in zip(free_rows[rows].tolist(), cols[picked].tolist()):  # in row order
                if c < m:
                    choice[r] = c
                    value += weights[r][c]
        return value, tuple(choice)


def k_best_assignments(weight: NDArray[np.float64], k: int
                       ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The ``k`` best partial matchings by :class:`KBestAssignments`: their
    values (decreasing) and the assignments (``k × rows``, columns or
    :data:`UNASSIGNED`); fewer when there are fewer."""
    values, rows = [], []
    for v, sol in KBestAssignments(weight).ranked():
        values.append(v)
        rows.append(sol)
        if len(rows) >= k:
            break
    return (np.array(values, dtype=float),
            np.array(rows, dtype=np.intp).reshape(len(rows), weight.shape[0]))


# ---------------------------------------------------------------------------
# Best-first branch-and-bound (gains additive over groups of columns)


@dataclass
class SearchResult:
    """Leaves of a best-first branch-and-bound, and the weight it left unexplored."""

    values: list[float]
    rows: list[tuple[int, ...]]
    log_rest: float  # log of an upper bound on the weight of all other leaves (-inf: none)


def best_first_assignments(rows: Sequence[int], options: dict[int, list[int]],
                           bound: dict[tuple[int, int], float],
                           log_prior: NDArray[np.float64], gain: GroupGain,
                           column_group: Sequence[int], k: int, max_nodes: int) -> SearchResult:
    """The ``k`` best assignments of ``rows`` by ``sum_g gain(g, A_g) + sum log_prior``.

    Column ``c`` belongs to group ``column_group[c]``; ``A_g`` is the
    placement of the pairs whose column is in group ``g``, in row order.
    ``bound[(r, c)]`` is an upper bound of the increment of placing ``r``
    at ``c`` in any context (prior included). The tree assigns the rows in
    order; a node's priority is its exact value plus the sum over the
    remaining rows of their best non-negative bound, an admissible
    (optimistic) estimate, so leaves are popped best first and the top
    ``k`` are exact (A* search; Hart, Nilsson & Raphael 1968).

    ``log_rest`` bounds the weight ``sum exp(value)`` of the leaves not
    listed: the sum over the open nodes of ``exp(value so far) * prod over
    the remaining rows of (1 + sum_c exp(bound[(r, c)]))`` (dropping the rule
    that a column is used once only adds terms). Raises
    :class:`SearchLimitError` after ``max_nodes`` expansions.
    """
    n = len(rows)
    best_inc = [max([0.0] + [bound[(s, c)] for c in options[s]]) for s in rows]
    log_mass = [logsumexp([0.0] + [bound[(s, c)] for c in options[s]]) for s in rows]
    opt = [0.0] * (n + 1)
    mass = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        opt[i] = opt[i + 1] + best_inc[i]
        mass[i] = mass[i + 1] + log_mass[i]
    counter = 0
    Node = tuple[float, int, int, float, tuple[int, ...], tuple[tuple[int, Placement], ...]]
    heap: list[Node] = [(-opt[0], 0, 0, 0.0, (), ())]
    values: list[float] = []
    found: list[tuple[int, ...]] = []
    expanded = 0
    while heap and len(found) < k:
        _, _, depth, value, chosen, placed = heapq.heappop(heap)
        if depth == n:
            values.append(value)
            found.append(chosen)
            continue
        expanded += 1
        if expanded > max_nodes:
            raise SearchLimitError(n, max_nodes)
        s = rows[depth]
        used = set(chosen)
        by_group = dict(placed)
        children = [(UNASSIGNED, value, placed)]
        for c in options[s]:
            if c in used or log_prior[s, c] == -math.inf:
                continue
            f = column_group[c]
            old = by_group.get(f, ())
            new = (*old, (s, c))
            v = value - gain(f, old) + gain(f, new) + float(log_prior[s, c])
            if v == -math.inf or math.isnan(v):
                continue
            nb = dict(by_group)
            nb[f] = new
            children.append((c, v, tuple(sorted(nb.items()))))
        for c, v, pl in children:
            counter += 1
            heapq.heappush(heap, (-(v + opt[depth + 1]), counter, depth + 1, v, (*chosen, c), pl))
    log_rest = logsumexp([node[3] + mass[node[2]] for node in heap])
    return SearchResult(values, found, log_rest)


# ---------------------------------------------------------------------------
# k best combinations of independent sorted lists


def k_best_combinations(lists: Sequence[Sequence[float] | NDArray[np.float64]], k: int
                        ) -> list[tuple[float, tuple[int, ...]]]:
    """The ``k`` largest sums ``sum_j lists[j][i_j]``, one entry from each list.

    Each list must be sorted in decreasing order. Best-first over index
    tuples: from the best ``(0, ..., 0)``, a popped tuple's successors
    advance one index by one, which never increases the sum, so tuples come
    off the heap in decreasing order. Returns ``(sum, indices)`` pairs; with
    no lists, the one empty combination of sum 0.
    """
    start = tuple(0 for _ in lists)

    def score(idx: tuple[int, ...]) -> float:
        return float(sum(values[i] for values, i in zip(lists, idx)))

    heap = [(-score(start), start)]
    seen = {start}
    out: list[tuple[float, tuple[int, ...]]] = []
    while heap and len(out) < k:
        neg, idx = heapq.heappop(heap)
        out.append((-neg, idx))
        for j in range(len(lists)):
            if idx[j] + 1 < len(lists[j]):
                nxt = (*idx[:j], idx[j] + 1, *idx[j + 1:])
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-score(nxt), nxt))
    return out


__all__ = [
    "UNASSIGNED", "AssignmentLimitError", "GroupGain", "KBestAssignments", "Placement",
    "SearchLimitError", "SearchResult", "best_first_assignments", "count_assignments",
    "count_matchings", "enumerate_assignments", "k_best_assignments", "k_best_combinations",
]
