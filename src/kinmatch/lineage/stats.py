"""Counting estimates of haplotype frequencies shared by the Y-STR and mtDNA modules.

Not a public module; :mod:`kinmatch.lineage` re-exports what users need.

Methods (``x`` = database profiles matching the queried one, ``N`` = database
profiles compared):

``"count_plus_one"``
    ``(x + 1) / (N + 1)``: the queried haplotype is added to the database
    before counting (so an unseen haplotype gets ``1/(N+1)``, never 0). ``N = 0`` is
    an error for every method (it would give 1).
``"clopper_pearson"``
    the one-sided upper ``confidence`` bound of the binomial proportion
    ``x/N`` (Clopper & Pearson 1934): the ``p`` with ``P(Bin(N, p) <= x) = 1 - confidence``;
    for ``x = 0`` this is ``1 - (1 - confidence)^(1/N)``. This is the bound the
    SWGDAM Y-STR (2014) and mtDNA (2019) interpretation guidelines describe.
``"count"``
    the plain proportion ``x / N`` (0 for an unseen haplotype; for reporting only).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.special import betaincinv

from kinmatch.errors import LineageError

COUNTING_METHODS = ("count_plus_one", "clopper_pearson", "count")


@dataclass(frozen=True)
class FrequencyEstimate:
    """A haplotype frequency with how it was obtained.

    ``count`` and ``database_size`` are ``x`` and ``N`` of the counting
    methods (``count`` is ``None`` for a pure model estimate); ``note``
    explains fall-backs and the loci or range the comparison used.
    """

    value: float
    method: str
    count: int | None
    database_size: int
    confidence: float | None = None
    note: str = ""


def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper ``confidence`` bound for a binomial proportion, ``x`` of ``n``."""
    if n <= 0:
        raise LineageError("a confidence bound needs a database with at least one profile")
    if not 0 <= x <= n:
        raise LineageError(f"a count must lie between 0 and {n}, not {x}")
    if not 0 < confidence < 1:
        raise LineageError("a confidence level must lie strictly between 0 and 1, "
                           f"not {confidence}")
    alpha = 1.0 - confidence
    if x == n:
        return 1.0
    if x == 0:
        return 1.0 - alpha ** (1.0 / n)
    # the (1 - alpha) quantile of Beta(x + 1, n - x) (scipy.stats.beta.ppf gives the
    # same bits, but importing scipy.stats costs about a second of start-up)
    return float(betaincinv(x + 1, n - x, 1.0 - alpha))


def counting_estimate(x: int, n: int, method: str = "count_plus_one",
                      confidence: float = 0.95, note: str = "") -> FrequencyEstimate:
    """A :class:`FrequencyEstimate` by one of :data:`COUNTING_METHODS`.

    ``n = 0`` (no database profile comparable with the queried one) is an error
    for every method: ``(0 + 1)/(0 + 1) = 1`` is no estimate of a frequency.
    """
    if n <= 0:
        raise LineageError(
            "the database has no profile comparable with the queried one (N = 0): no "
            f"frequency can be estimated ({note})" if note else
            "the database has no profile comparable with the queried one (N = 0): no "
            "frequency can be estimated"
        )
    if method == "count_plus_one":
        return FrequencyEstimate((x + 1) / (n + 1), method, x, n, None, note)
    if method == "clopper_pearson":
        return FrequencyEstimate(clopper_pearson_upper(x, n, confidence), method, x, n,
                                 confidence, note)
    if method == "count":
        return FrequencyEstimate(x / n, method, x, n, None, note)
    raise LineageError(
        f"unknown frequency method '{method}'; expected one of {', '.join(COUNTING_METHODS)}"
    )
