"""``log sum_i exp(x_i)`` of a short list of log-weights."""

from __future__ import annotations

import math
from collections.abc import Iterable


def logsumexp(values: Iterable[float]) -> float:
    """``log sum_i exp(x_i)``, shifted by the largest term so nothing overflows.

    ``-inf`` terms (zero weights) are skipped; the result is ``-inf`` when
    every term is. The terms are added left to right in Python floats, which
    keeps the value independent of NumPy's summation order
    (:func:`scipy.special.logsumexp` sums pairwise and may differ in the
    last bits).
    """
    finite = [v for v in values if v != -math.inf]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log(sum(math.exp(v - top) for v in finite))


__all__ = ["logsumexp"]
