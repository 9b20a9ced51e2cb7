"""Certified bounds on the posteriors of weighted partial matchings.

Rows ``s`` (``n`` of them) are matched to columns ``m`` (``M`` of them),
each row to at most one column and each column to at most one row; a row
left unmatched takes the extra column ``M`` ("unassigned"). A matching
``a`` has weight ``prod_{(s, m) in a} B[s, m]`` with ``B >= 0``, ``Z`` is
the sum of the weights of all matchings and the posterior of a pair is
``P(s = m) = sum_{a contains (s, m)} weight(a) / Z``. When not every
matching can be listed, these bounds give certified intervals:

1. **Listed mass** (:func:`listed_mass`, :func:`listed_mass_bounds`). With
   ``E`` the listed weight, ``E[s, m]`` its part with ``s = m`` and
   ``R >= Z - E`` a bound on the weight not listed,
   ``E[s, m] / (E + R) <= P(s = m) <= (E[s, m] + R) / (E + R)`` (the
   posterior ``(E_sm + r) / (E + r')`` with ``0 <= r <= r' <= R`` is smallest
   at ``r = 0, r' = R`` and largest at ``r = r' = R``). A bound on ``Z`` is
   :func:`log_partition_upper_bound`.
2. **Vertex-deletion recursion** (:func:`vertex_deletion_bounds`; the
   monomer-dimer recursion of C. D. Godsil, *Matchings and walks in graphs*,
   J. Graph Theory 5:285–297, 1981, as used for certified bounds by
   M. Bayati, D. Gamarnik, D. Katz, C. Nair & P. Tetali, *Simple
   deterministic approximation algorithms for counting matchings*, STOC
   2007). ``Z(H)`` is the sum of ``prod B`` over the matchings of the
   bipartite graph ``H``. With ``x(H, v) = Z(H - v) / Z(H)`` in ``(0, 1]``,
   splitting on how ``v`` is matched gives
   ``Z(H) = Z(H - v) + sum_u B[v, u] Z(H - v - u)``, i.e.

       x(H, v) = 1 / (1 + sum_{u ~ v} B[v, u] x(H - v, u)),

   and ``P(s = unassigned) = x(G, s)``, ``P(s = m) = B[s, m] x(G, s) x(G - s, m)``.
   The map is decreasing in each ``x(H - v, u)``, so bounds alternate: from
   ``0 < x <= 1`` one gets ``1 / (1 + deg_H v) <= x(H, v)``, and with a lower
   bound ``l`` on the ``x(H - v, u)``, ``x(H, v) <= 1 / (1 + sum B[v, u] l_u)``;
   degrees in subgraphs are at most those in ``G`` minus the deleted
   neighbours, which keeps every step valid. Two levels of this are computed
   for every pair in ``O(n M)``; they are tight whenever a pair's weight
   dominates the weights of its row and column.
3. **Sums** (:func:`tighten_bounds`): each row's posteriors sum to 1 and
   each column's to at most 1, so ``P(s = m) >= 1 - sum of the other upper
   bounds of row s`` and ``P(s = m) <= 1 - sum of the other lower bounds of
   column m``.

All bounds are computed in floating point; they are certified up to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from kinmatch.algorithms.assignments import UNASSIGNED
from kinmatch.algorithms.logsum import logsumexp


def sum_except(b: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``out[i, j] = sum over the other entries of b's line through (i, j) along axis``,
    without the cancellation of ``total - b[i, j]`` at the line's largest entry."""
    total = b.sum(axis=axis, keepdims=True)
    out = np.maximum(total - b, 0.0)
    if b.shape[axis] == 0:
        return out
    top = np.argmax(b, axis=axis)
    masked = b.copy()
    if axis == 0:
        masked[top, np.arange(b.shape[1])] = 0.0
        out[top, np.arange(b.shape[1])] = masked.sum(axis=0)
    else:
        masked[np.arange(b.shape[0]), top] = 0.0
        out[np.arange(b.shape[0]), top] = masked.sum(axis=1)
    return out


def vertex_deletion_bounds(b: NDArray[np.float64]
                           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper bounds of the posteriors (rows × (columns + 1)) by two
    levels of the vertex-deletion recursion (module docstring, bound 2),
    tightened by :func:`tighten_bounds`.

    ``b[s, m] >= 0`` is the weight of pair ``(s, m)``; the last column of the
    result is "unassigned".
    """
    n, m = b.shape
    row_ex = sum_except(b, 1)  # r_s - b[s, m]: row s without column m
    col_ex = sum_except(b, 0)  # c_m - b[s, m]: column m without row s
    # x(G - s - u, w) for rows w != s (u a column): w's degree there <= r_w - b[w, u]
    q = b / (1.0 + row_ex)  # b[w, u] * lower bound of x(G - s - u, w)
    hi_xu = 1.0 / (1.0 + sum_except(q, 0))  # upper bound of x(G - s, u), per (s, u)
    # upper bound of x(G - s - u, w): 1 / (1 + sum_{z != u} b[w, z] / (1 + c_z - b[w, z]))
    p = b / (1.0 + col_ex)
    hi_w = 1.0 / (1.0 + sum_except(p, 1))  # per (w, u)
    lo_xu = 1.0 / (1.0 + sum_except(b * hi_w, 0))  # lower bound of x(G - s, u), per (s, u)
    lo_xs = 1.0 / (1.0 + (b * hi_xu).sum(axis=1))  # x(G, s)
    hi_xs = 1.0 / (1.0 + (b * lo_xu).sum(axis=1))
    # x(G - s, m) = 1 / (1 + sum_{u != s} b[u, m] x(G - s - m, u)), u rows:
    #   1 / (1 + r_u - b[u, m]) <= x(G - s - m, u) <= hi_w[u, m]
    lo_u = 1.0 / (1.0 + row_ex)
    lo_xm = lo_xu  # the same expression: sum_{u != s} b[u, m] hi_w[u, m]
    hi_xm = 1.0 / (1.0 + sum_except(b * lo_u, 0))
    lower = np.zeros((n, m + 1))
    upper = np.zeros((n, m + 1))
    lower[:, :m] = b * lo_xs[:, None] * lo_xm
    upper[:, :m] = b * hi_xs[:, None] * hi_xm
    lower[:, m] = lo_xs
    upper[:, m] = hi_xs
    return tighten_bounds(np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0))


def tighten_bounds(lower: NDArray[np.float64], upper: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Use that each row sums to 1 and each column (but the last) to at most 1."""
    m = lower.shape[1] - 1
    lower = np.maximum(lower, 1.0 - sum_except(upper, 1))
    col_lo = sum_except(lower[:, :m], 0)
    upper = upper.copy()
    upper[:, :m] = np.minimum(upper[:, :m], 1.0 - col_lo)
    upper = np.minimum(upper, 1.0 - sum_except(lower, 1))
    return np.clip(lower, 0.0, 1.0), np.clip(np.maximum(upper, lower), 0.0, 1.0)


def log_partition_upper_bound(log_weight: NDArray[np.float64]) -> float:
    """``log`` of an upper bound of ``Z``, the total weight of all partial
    matchings, from log-weights (``-inf`` for absent pairs)::

        Z <= min(prod_s (1 + sum_m B[s, m]), prod_m (1 + sum_s B[s, m]))

    (expanding either product lists every matching, and more)."""
    return min(sum(logsumexp([0.0, *row[np.isfinite(row)]]) for row in log_weight),
               sum(logsumexp([0.0, *col[np.isfinite(col)]]) for col in log_weight.T))


def listed_mass(values: NDArray[np.float64], assign: NDArray[np.intp], n_cols: int
                ) -> tuple[float, NDArray[np.float64]]:
    """``log E`` of the listed matchings (log-weights ``values``, rows of
    ``assign`` with :data:`UNASSIGNED`) and ``E[s, m] / E`` per row and
    column, the last column "unassigned"."""
    if len(values) == 0:
        return -math.inf, np.zeros((assign.shape[1], n_cols + 1))
    top = float(values.max())
    w = np.exp(values - top)
    total = float(w.sum())
    share = np.zeros((assign.shape[1], n_cols + 1))
    for j in range(assign.shape[1]):
        col = assign[:, j]
        np.add.at(share[j], np.where(col == UNASSIGNED, n_cols, col), w)
    return top + math.log(total), share / total


def listed_mass_bounds(log_e: float, share: NDArray[np.float64], log_r: float
                       ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bound 1: ``E_sm / (E + R) <= P <= (E_sm + R) / (E + R)``, from ``log E``,
    the shares ``E_sm / E`` and ``log R`` (``-inf``: everything listed)."""
    if log_r == -math.inf:
        return share.copy(), share.copy()
    # with E = 1: rho = R / E
    rho = math.exp(min(log_r - log_e, 700.0))
    lower = share / (1.0 + rho)
    upper = (share + rho) / (1.0 + rho)
    return lower, np.minimum(upper, 1.0)


__all__ = ["listed_mass", "listed_mass_bounds", "log_partition_upper_bound", "sum_except",
           "tighten_bounds", "vertex_deletion_bounds"]
