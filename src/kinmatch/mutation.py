"""Mutation models for STR and SNP markers.

A mutation matrix ``M`` has one row per parental allele and one column per
transmitted allele: ``M[i, j]`` is the probability that a parent carrying
allele ``i`` transmits allele ``j``. Rows sum to 1. A :class:`MutationModel`
holds one matrix for transmissions from mothers (``female``) and one for
transmissions from fathers (``male``).

The model kinds and their parameters follow pedmut (Vigeland 2021, *Pedigree
analysis in R*, ch. 5) and Familias (Egeland, Mostad et al.), so that a model
described by its parameters gives the same matrix as there:

``equal``
    ``M[i, j] = rate / (n - 1)`` for ``i != j``; ``M[i, i] = 1 - rate``.
``proportional``
    ``M[i, j] = alpha * p[j]`` for ``i != j`` with
    ``alpha = rate / sum_i p[i] (1 - p[i])``, so that the expected mutation
    rate ``sum_i p[i] (1 - M[i, i])`` equals ``rate``.
``stepwise``
    For numeric STR alleles. Alleles in the same *microvariant group* (same
    fractional part: 9, 10, 11 or 9.3, 10.3) mutate into each other with
    total probability ``rate``, split in proportion to
    ``range ** |step|``; mutations into an allele of another group have
    total probability ``rate2``, split equally. The diagonal is
    ``1 - rate - rate2`` (``1 - rate`` when every allele is in the parent's
    group, ``1 - rate2`` when no other allele is).
``onestep``
    Mutations only to the alleles exactly one repeat unit away, total
    probability ``rate`` split equally between them.
``trivial``
    The identity: no mutations.
``custom``
    Any row-stochastic matrix.

:func:`make_stationary` applies the "PM" transformation of Simonsson & Mostad
(2016, FSI Genetics 23:217-225), which keeps the overall mutation rate and
makes ``p`` a stationary distribution. :func:`is_stationary`,
:func:`is_reversible` and :func:`is_lumpable` report the model properties
that decide whether unobserved alleles may be lumped in likelihoods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinmatch.alleles import allele_number
from kinmatch.errors import MarkerError

MODEL_KINDS = ("equal", "proportional", "stepwise", "onestep", "trivial", "custom")

#: Relative tolerance for deciding model properties (stationarity, lumpability).
PROPERTY_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class MutationMatrix:
    """A row-stochastic matrix over a marker's alleles, with how it was made."""

    matrix: NDArray[np.float64]
    model: str = "custom"
    rate: float | None = None
    rate2: float | None = None
    range: float | None = None
    transform: str | None = None

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=float)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise MarkerError(f"a mutation matrix must be square, not of shape {m.shape}")
        if not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(m > 1 + 1e-12):
            raise MarkerError("mutation matrix entries must be probabilities in [0, 1]")
        rows = m.sum(axis=1)
        bad = np.flatnonzero(np.abs(rows - 1) > 1e-6)
        if bad.size:
            raise MarkerError(
                f"mutation matrix row {bad[0] + 1} sums to {rows[bad[0]]:.9g}; "
                "every row must sum to 1"
            )
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    @property
    def n_alleles(self) -> int:
        return self.matrix.shape[0]

    @property
    def is_trivial(self) -> bool:
        return bool(np.array_equal(self.matrix, np.eye(self.n_alleles)))

    def parameters(self) -> dict[str, Any]:
        """The parameters as a plain dict (for files and reports)."""
        out: dict[str, Any] = {"model": self.model}
        for key in ("rate", "rate2", "range", "transform"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.model == "custom":
            out["matrix"] = self.matrix.tolist()
        return out


@dataclass(frozen=True, eq=False)
class MutationModel:
    """Sex-specific mutation: ``female`` for maternal, ``male`` for paternal transmissions."""

    female: MutationMatrix
    male: MutationMatrix
    _lumpable_cache: dict[tuple[int, ...], bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.female.n_alleles != self.male.n_alleles:
            raise MarkerError("female and male mutation matrices must have the same size")

    @property
    def sex_equal(self) -> bool:
        return self.female is self.male or bool(
            np.array_equal(self.female.matrix, self.male.matrix)
        )

    @property
    def is_trivial(self) -> bool:
        return self.female.is_trivial and self.male.is_trivial

    def matrix_for(self, parent_sex: int) -> NDArray[np.float64]:
        """The matrix for transmissions from a parent of sex 1 (male) or 2 (female)."""
        return self.male.matrix if parent_sex == 1 else self.female.matrix

    def lumpable(self, lump: Sequence[int]) -> bool:
        """Whether both matrices are strongly lumpable for this set of allele indices."""
        key = tuple(sorted(lump))
        if key not in self._lumpable_cache:
            self._lumpable_cache[key] = is_lumpable(self.female.matrix, key) and (
                self.sex_equal or is_lumpable(self.male.matrix, key)
            )
        return self._lumpable_cache[key]


# ---------------------------------------------------------------------------
# Model builders: each returns a plain matrix; `mutation_matrix` wraps them.


def equal_matrix(n_alleles: int, rate: float) -> NDArray[np.float64]:
    """``M[i, j] = rate / (n - 1)`` off the diagonal, ``1 - rate`` on it."""
    if n_alleles == 1:
        return np.ones((1, 1))
    m = np.full((n_alleles, n_alleles), rate / (n_alleles - 1))
    np.fill_diagonal(m, 1.0 - rate)
    return m


def proportional_matrix(allele_frequencies: ArrayLike, rate: float) -> NDArray[np.float64]:
    """``M = (1 - alpha) I + alpha 1 p^T`` with ``alpha = rate / sum p (1 - p)``."""
    p = np.asarray(allele_frequencies, dtype=float)
    n = p.size
    if n == 1:
        return np.ones((1, 1))
    alpha = rate / float(np.sum(p * (1 - p)))
    m = (1 - alpha) * np.eye(n) + alpha * np.broadcast_to(p, (n, n))
    if np.any(m > 1) or np.any(m < 0):
        raise MarkerError(
            f"the proportional model with rate {rate} gives an impossible matrix; reduce the rate"
        )
    return m


def stepwise_matrix(
    allele_values: ArrayLike, rate: float, rate2: float, range_: float
) -> NDArray[np.float64]:
    """pedmut's stepwise model; see the module docstring.

    ``allele_values`` are the numeric allele names (9.3 -> 9.3). Within a
    microvariant group the mutation to an allele ``k`` steps away has weight
    ``range_ ** k``; the weights are normalised to sum to ``rate``.
    """
    x = np.asarray(allele_values, dtype=float)
    n = x.size
    if n == 1:
        return np.ones((1, 1))
    if rate + rate2 > 1:
        raise MarkerError(f"the stepwise model needs rate + rate2 <= 1, not {rate + rate2}")
    if range_ <= 0:
        raise MarkerError(f"the stepwise model needs range > 0, not {range_}")
    group = np.round((x - np.round(x)) * 10).astype(int)
    m = np.zeros((n, n))
    for i in range(n):
        same = group == group[i]
        others_same = same.copy()
        others_same[i] = False
        n_other_groups = n - int(same.sum())
        if n_other_groups:
            m[i, ~same] = rate2 / n_other_groups
        if others_same.any():
            weights = range_ ** np.abs(x[i] - x[others_same])
            m[i, others_same] = weights / weights.sum() * rate
        if not n_other_groups:
            m[i, i] = 1 - rate
        elif not others_same.any():
            m[i, i] = 1 - rate2
        else:
            m[i, i] = 1 - rate - rate2
    return m


def onestep_matrix(allele_values: ArrayLike, rate: float) -> NDArray[np.float64]:
    """Mutations only to alleles one repeat unit away, ``rate`` split equally."""
    x = np.asarray(allele_values, dtype=float)
    n = x.size
    m = np.eye(n)
    for i in range(n):
        neighbours = np.flatnonzero(np.isclose(np.abs(x - x[i]), 1.0, rtol=0, atol=1e-9))
        if neighbours.size:
            m[i, i] = 1 - rate
            m[i, neighbours] = rate / neighbours.size
    return m


def mutation_matrix(
    model: str,
    alleles: Sequence[str],
    allele_frequencies: ArrayLike | None = None,
    *,
    rate: float | None = None,
    rate2: float | None = None,
    range: float | None = None,  # pedmut's parameter name
    matrix: ArrayLike | None = None,
    transform: str | None = None,
) -> MutationMatrix:
    """Build a :class:`MutationMatrix` from a model kind and its parameters.

    ``transform="PM"`` makes the matrix stationary with respect to
    ``allele_frequencies`` (Simonsson & Mostad 2016), as pedmut's
    ``mutationMatrix(..., transform = "PM")`` and Familias' stationary models do.
    """
    kind = model.lower()
    aliases = {"prop": "proportional", "step": "stepwise", "eq": "equal", "none": "trivial"}
    kind = aliases.get(kind, kind)
    n = len(alleles)
    p = None if allele_frequencies is None else np.asarray(allele_frequencies, dtype=float)

    def need(value: float | None, name: str) -> float:
        if value is None:
            raise MarkerError(f"the {kind} mutation model needs the parameter '{name}'")
        if not np.isfinite(value) or value < 0:
            raise MarkerError(f"mutation parameter '{name}' must be a number >= 0, not {value}")
        return float(value)

    if kind == "equal":
        m = equal_matrix(n, need(rate, "rate"))
    elif kind == "proportional":
        if p is None:
            raise MarkerError("the proportional mutation model needs allele frequencies")
        m = proportional_matrix(p, need(rate, "rate"))
    elif kind in ("stepwise", "onestep"):
        values = []
        for a in alleles:
            v = allele_number(a)
            if v is None:
                raise MarkerError(
                    f"the {kind} mutation model needs numeric allele names, not '{a}'"
                )
            values.append(v)
        if kind == "stepwise":
            m = stepwise_matrix(values, need(rate, "rate"), need(rate2, "rate2"),
                                need(range, "range"))
        else:
            m = onestep_matrix(values, need(rate, "rate"))
    elif kind == "trivial":
        m = np.eye(n)
    elif kind == "custom":
        if matrix is None:
            raise MarkerError("the custom mutation model needs a 'matrix'")
        m = np.asarray(matrix, dtype=float)
        if m.shape != (n, n):
            raise MarkerError(
                f"the custom mutation matrix must be {n} x {n} (one row and column per allele), "
                f"not {' x '.join(map(str, m.shape))}"
            )
    else:
        raise MarkerError(f"unknown mutation model '{model}'; expected one of "
                          f"{', '.join(MODEL_KINDS)}")

    if transform is not None:
        if transform.upper() != "PM":
            raise MarkerError(f"unknown mutation transform '{transform}'; expected 'PM'")
        if p is None:
            raise MarkerError("the PM transform needs allele frequencies")
        m = make_stationary(m, p)
        transform = "PM"
    return MutationMatrix(m, model=kind, rate=rate, rate2=rate2, range=range, transform=transform)


def mutation_model(
    alleles: Sequence[str],
    allele_frequencies: ArrayLike | None,
    spec: Mapping[str, Any] | None,
) -> MutationModel | None:
    """Build a model from a spec: either one model for both sexes, or
    ``{"female": {...}, "male": {...}}``. ``None`` or ``{"model": "none"}``
    means no mutation (returns ``None``)."""
    if spec is None:
        return None
    if "female" in spec or "male" in spec:
        if not ("female" in spec and "male" in spec):
            raise MarkerError("a sex-specific mutation model needs both 'female' and 'male'")
        female = _matrix_from_spec(alleles, allele_frequencies, spec["female"])
        male = _matrix_from_spec(alleles, allele_frequencies, spec["male"])
    else:
        if str(spec.get("model", "")).lower() in ("none", "trivial"):
            return None
        female = male = _matrix_from_spec(alleles, allele_frequencies, spec)
    model = MutationModel(female=female, male=male)
    return None if model.is_trivial else model


def _matrix_from_spec(
    alleles: Sequence[str], allele_frequencies: ArrayLike | None, spec: Mapping[str, Any]
) -> MutationMatrix:
    if not isinstance(spec, Mapping) or "model" not in spec:
        raise MarkerError("a mutation model needs a 'model' (equal, proportional, stepwise, ...)")
    unknown = set(spec) - {"model", "rate", "rate2", "range", "matrix", "transform"}
    if unknown:
        raise MarkerError(f"unknown mutation parameter '{sorted(unknown)[0]}'")
    return mutation_matrix(
        str(spec["model"]),
        alleles,
        allele_frequencies,
        rate=spec.get("rate"),
        rate2=spec.get("rate2"),
        range=spec.get("range"),
        matrix=spec.get("matrix"),
        transform=spec.get("transform"),
    )


# ---------------------------------------------------------------------------
# Properties and transformations


def is_stationary(matrix: ArrayLike, allele_frequencies: ArrayLike) -> bool:
    """``p M = p``: the allele frequencies do not drift from generation to generation."""
    m = np.asarray(matrix, dtype=float)
    p = np.asarray(allele_frequencies, dtype=float)
    return bool(np.allclose(p @ m, p, rtol=1e-9, atol=1e-12))


def is_reversible(matrix: ArrayLike, allele_frequencies: ArrayLike) -> bool:
    """``p_i M_ij = p_j M_ji`` for all ``i, j`` (detailed balance)."""
    m = np.asarray(matrix, dtype=float)
    p = np.asarray(allele_frequencies, dtype=float)
    flow = p[:, None] * m
    return bool(np.allclose(flow, flow.T, rtol=1e-9, atol=1e-15))


def is_lumpable(matrix: ArrayLike, lump: Sequence[int]) -> bool:
    """Strong lumpability of ``lump`` (Kemeny & Snell 1976, thm 6.3.2).

    The alleles in ``lump`` may be merged into one state when every allele in
    the lump has the same probability of mutating into each allele outside
    it: ``M[i, j] == M[k, j]`` for ``i, k`` in the lump and ``j`` not in it.
    The likelihood computed with the lumped matrix is then exact.
    """
    m = np.asarray(matrix, dtype=float)
    if len(lump) <= 1:
        return True
    inside = np.asarray(lump, dtype=np.intp)
    outside = np.ones(m.shape[0], dtype=bool)
    outside[inside] = False
    if not outside.any():
        return True
    block = m[inside][:, outside]
    # numpy.allclose(block, block[0], rtol=PROPERTY_TOLERANCE, atol=0) for finite
    # matrices, without its overhead (asked for every alphabet of a case)
    return bool(np.all(np.abs(block - block[0]) <= PROPERTY_TOLERANCE * np.abs(block[0])))


def always_lumpable(matrix: ArrayLike) -> bool:
    """Every subset is lumpable: each column is constant off the diagonal."""
    m = np.asarray(matrix, dtype=float)
    n = m.shape[0]
    if n <= 2:
        return True
    off = ~np.eye(n, dtype=bool)
    for j in range(n):
        column = m[off[:, j], j]
        if not np.allclose(column, column[0], rtol=PROPERTY_TOLERANCE, atol=0):
            return False
    return True


def overall_mutation_rate(matrix: ArrayLike, allele_frequencies: ArrayLike) -> float:
    """``sum_i p_i (1 - M_ii)``: the probability that a transmitted allele has mutated."""
    m = np.asarray(matrix, dtype=float)
    p = np.asarray(allele_frequencies, dtype=float)
    return float(np.sum(p * (1 - np.diag(m))))


def make_stationary(matrix: ArrayLike, allele_frequencies: ArrayLike) -> NDArray[np.float64]:
    """The "PM" transformation of Simonsson & Mostad (2016).

    Finds ``S = I + D (M - I)`` with ``D`` diagonal such that ``p S = p`` and
    the overall mutation rate ``sum_i p_i (1 - S_ii)`` equals that of ``M``.
    With ``v`` the stationary distribution of ``M`` (``v M = v``),
    ``d_i = R v_i / ((1 - sum_k M_kk v_k) p_i)`` where ``R`` is the rate of ``M``.
    The identity (a model with rate 0) is returned as it is. A model without
    one stationary distribution under which alleles mutate (some alleles
    never mutate into the others: a stepwise model without ``rate2`` and a
    microvariant alone in its group, a one-step model with an allele that
    has no neighbour) has no PM version: a :class:`MarkerError`.
    """
    m = np.asarray(matrix, dtype=float)
    p = np.asarray(allele_frequencies, dtype=float)
    n = m.shape[0]
    diag = np.diag(m)
    if np.all(diag == 1.0):  # no mutation (rate 0): the identity, already stationary
        return np.eye(n)
    rate = 1.0 - float(np.sum(diag * p))
    system = m.T - np.eye(n)
    system[n - 1, :] = 1.0
    rhs = np.zeros(n)
    rhs[n - 1] = 1.0
    none = MarkerError("no stationary (PM) version of this mutation model exists")
    try:
        v = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:  # no single stationary distribution
        raise none from None
    moving = 1.0 - float(np.sum(diag * v))  # the rate of mutation under v
    if not (np.all(np.isfinite(v)) and np.all(v >= 0) and moving > 0):
        raise none
    d = rate * v / (moving * p)
    if np.any(d * (1 - diag) > 1 + 1e-12):
        raise none
    return (m - np.eye(n)) * d[:, None] + np.eye(n)


def lumped_matrix(
    matrix: NDArray[np.float64], keep: Sequence[int], lump: Sequence[int]
) -> NDArray[np.float64]:
    """The matrix over ``keep + [lump]`` for a strongly lumpable ``lump``.

    Rows of kept alleles sum their columns over the lump; the lump's row is
    that of any of its members (they agree outside the lump by lumpability),
    and its last entry is that member's total probability of staying in the lump.
    """
    keep = list(keep)
    lump = list(lump)
    k = len(keep)
    out = np.empty((k + 1, k + 1))
    out[:k, :k] = matrix[np.ix_(keep, keep)]
    out[:k, k] = matrix[np.ix_(keep, lump)].sum(axis=1)
    out[k, :k] = matrix[lump[0], keep]
    out[k, k] = matrix[lump[0], lump].sum()
    return out


@dataclass(frozen=True)
class RestStates:
    """The unobserved alleles ("the rest") of one network as a few pseudo-alleles.

    Lumping the rest into one allele (:func:`lumped_matrix`) is exact for a
    likelihood, but loses which rest allele a person carries. To get an
    untyped person's distribution over *every* allele, the rest is kept as
    ``m`` pseudo-alleles instead: pseudo-allele ``k`` stands for "some rest
    allele, distributed as ``basis[k]``". When the rest is strongly lumpable
    (every message from below is constant on it) and the span of the basis
    holds the founder distribution (``p`` restricted to the rest), every row
    ``M[i, rest]`` entering it and is closed under ``M[rest, rest]^T``, then
    the distribution of any allele over the rest is a linear combination of
    the basis, tracked exactly by the pseudo-alleles' probabilities:
    ``P(allele = x) = sum_k P(pseudo k) basis[k, x]`` for ``x`` in the rest.
    Without mutation and with the proportional model ``m = 1`` (the basis is
    ``p`` restricted and normalised); with the equal model ``m = 2`` (``p``
    and the uniform distribution). This is the Krylov subspace of the
    founder distribution under the transposed mutation matrices.

    ``weights[k]``: founder probability of pseudo-allele ``k`` (they sum to
    ``p(rest)``); ``female``/``male``: the matrices over the observed alleles
    followed by the pseudo-alleles (``None`` without mutation).
    """

    basis: NDArray[np.float64]  # (m, len(rest)), rows are distributions
    weights: NDArray[np.float64]  # (m,)
    female: NDArray[np.float64] | None
    male: NDArray[np.float64] | None


#: Largest number of pseudo-alleles :func:`rest_states` will use.
MAX_REST_STATES = 3


def _coefficients(basis: NDArray[np.float64], target: NDArray[np.float64]
                  ) -> NDArray[np.float64] | None:
    """``c`` with ``c @ basis == target`` (exactly, to rounding), or ``None``."""
    c, *_ = np.linalg.lstsq(basis.T, target, rcond=None)
    scale = max(float(np.abs(target).max(initial=0.0)), 1e-300)
    if np.abs(c @ basis - target).max(initial=0.0) > 1e-12 * scale:
        return None
    return np.asarray(c, dtype=np.float64)  # already float64: no copy


def rest_states(
    allele_frequencies: NDArray[np.float64],
    observed: Sequence[int],
    rest: Sequence[int],
    female: NDArray[np.float64] | None = None,
    male: NDArray[np.float64] | None = None,
) -> RestStates | None:
    """The pseudo-alleles of :class:`RestStates` for the ``rest`` alleles, or
    ``None`` when the rest is not strongly lumpable, needs more than
    :data:`MAX_REST_STATES` of them, or would need negative transition
    weights (then every allele must be kept)."""
    p_rest = np.asarray(allele_frequencies, dtype=float)[list(rest)]
    total = float(p_rest.sum())
    mats = [m for m in (female, male) if m is not None]
    if male is female:
        mats = mats[:1]
    if not mats:  # no mutation: one state, the frequencies
        if total <= 0:
            return None
        return RestStates(p_rest[None, :] / total, np.array([total]), None, None)
    if any(not is_lumpable(m, rest) for m in mats):
        return None
    o, r = list(observed), list(rest)
    seeds = [p_rest / total] if total > 0 else []
    for m in mats:
        entering = m[np.ix_(o, r)]
        seeds += [row / row.sum() for row in entering if row.sum() > 0]
    if not seeds:
        seeds = [np.full(len(r), 1.0 / len(r))]
    # Grow an orthonormal basis of the span (Krylov closure under M[rest, rest]^T)
    vectors: list[NDArray[np.float64]] = []
    ortho: list[NDArray[np.float64]] = []
    queue = list(seeds)
    while queue:
        v = queue.pop(0)
        residual = v - sum((q @ v) * q for q in ortho) if ortho else v.copy()
        if np.linalg.norm(residual) <= 1e-10 * np.linalg.norm(v):
            continue
        vectors.append(v)
        ortho.append(residual / np.linalg.norm(residual))
        if len(vectors) > MAX_REST_STATES:
            return None
        for m in mats:
            w = v @ m[np.ix_(r, r)]
            if w.sum() > 0:
                queue.append(w / w.sum())
    basis = np.array(vectors)
    weights = _coefficients(basis, p_rest) if total > 0 else np.zeros(len(basis))
    if weights is None or np.any(weights < -1e-14 * total):
        return None
    weights = np.maximum(weights, 0.0)

    def extend(m: NDArray[np.float64]) -> NDArray[np.float64] | None:
        k = len(o)
        out = np.zeros((k + len(basis), k + len(basis)))
        out[:k, :k] = m[np.ix_(o, o)]
        out[k:, :k] = basis @ m[np.ix_(r, o)]
        for i, row in enumerate(m[np.ix_(o, r)]):
            c = _coefficients(basis, row)
            if c is None:
                return None
            out[i, k:] = c
        for j, v in enumerate(basis):
            c = _coefficients(basis, v @ m[np.ix_(r, r)])
            if c is None:
                return None
            out[k + j, k:] = c
        return out if np.all(out >= -1e-14) else None

    extended: dict[int, NDArray[np.float64]] = {}
    for m in mats:
        e = extend(m)
        if e is None:
            return None
        extended[id(m)] = np.maximum(e, 0.0)
    return RestStates(basis, weights, None if female is None else extended[id(female)],
                      None if male is None else extended[id(male)])
