"""The observation model of degraded samples: drop-out, drop-in, silent alleles.

What a typed sample shows at a marker need not be its genotype: allele
copies may drop out, a spurious allele may drop in, and a silent (null)
allele is carried but never seen. Everything kinmatch computes from such a
sample goes through one model, written here once:

* :func:`homozygote_dropout`: the default drop-out probability of a
  homozygote's signal, ``d²``;
* :func:`observation_factor`: ``P(observed alleles | true genotype)``,
  marker by marker (the peeling engine's factor);
* :func:`observation_weights` (ordered true alleles) and
  :func:`packed_observation_weights` (unordered genotypes in packed order),
  the same probabilities for samples typed at one :class:`~kinmatch.markers.Marker`,
  used by the pairwise LRs, the joint analysis and fragment re-association.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import KinmatchError
from kinmatch.markers import Marker

#: A genotype as two allele indices into ``Marker.alleles`` (unordered).
Genotype = tuple[int, int]


@dataclass(frozen=True)
class Observation:
    """The alleles seen in a possibly degraded sample at one marker.

    The true genotype may have lost alleles (drop-out: each allele copy of a
    heterozygote independently with probability ``dropout``; a homozygote's
    single signal with ``homozygote_dropout``, by default ``dropout**2``, both
    copies lost) and gained at most one spurious allele (drop-in: probability
    ``dropin``, the allele drawn from the population frequencies). See
    :func:`observation_factor`. With ``dropout = dropin = 0`` an observation
    is an ordinary genotype and is computed exactly as one.
    """

    alleles: tuple[int, ...]  # one or two distinct allele indices
    dropout: float = 0.0
    dropin: float = 0.0
    homozygote_dropout: float | None = None
    #: index of the marker's silent allele, if it has one: carried, never seen
    silent: int | None = None

    def __post_init__(self) -> None:
        if len(self.alleles) not in (1, 2) or (len(self.alleles) == 2
                                              and self.alleles[0] == self.alleles[1]):
            raise KinmatchError("an observation holds one allele or two different ones")
        for name in ("dropout", "dropin"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise KinmatchError(f"{name} probability must be in [0, 1), not {value}")
        if self.homozygote_dropout is not None and not 0.0 <= self.homozygote_dropout < 1.0:
            raise KinmatchError("homozygote drop-out probability must be in [0, 1)")

    @property
    def exact(self) -> bool:
        """The alleles are the genotype: no drop-out, no drop-in, and not one
        allele seen at a marker with a silent allele (which may hide behind it)."""
        return (self.dropout == 0.0 and self.dropin == 0.0
                and (self.silent is None or len(self.alleles) == 2))

    @property
    def genotype(self) -> Genotype:
        a = self.alleles
        return (a[0], a[0]) if len(a) == 1 else (min(a), max(a))

    @property
    def hom_dropout(self) -> float:
        """The homozygote drop-out probability: as given, else :func:`homozygote_dropout`."""
        if self.homozygote_dropout is None:
            return homozygote_dropout(self.dropout)
        return self.homozygote_dropout


@overload
def homozygote_dropout(dropout: float) -> float: ...


@overload
def homozygote_dropout(dropout: NDArray[np.float64]) -> NDArray[np.float64]: ...


def homozygote_dropout(dropout: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    """The default drop-out probability of a homozygote's signal: ``d²``.

    A homozygote ``a/a`` carries two copies of ``a``; its signal is lost only
    if both copies drop out, each independently with the heterozygote
    per-copy probability ``d`` (Gill et al. 2000, *Forensic Sci. Int.*
    112:17–40; Balding & Buckleton 2009, *Forensic Sci. Int. Genet.*
    4:1–10). An :class:`Observation` may give another ``homozygote_dropout``;
    every kinmatch computation that is not given one takes it from here
    (scalars or arrays).
    """
    return dropout ** 2


def observation_factor(
    p: NDArray[np.float64], first: NDArray[np.intp], second: NDArray[np.intp],
    dropout: NDArray[np.float64], dropin: NDArray[np.float64],
    homozygote_dropout: NDArray[np.float64], hemizygous: bool = False,
    silent: NDArray[np.intp] | None = None,
) -> NDArray[np.float64]:
    """``E[k, i, j] = P(observed alleles | true genotype i/j)`` with drop-out and drop-in.

    Rows ``k`` are markers (``p``: (K, N) frequencies; ``first``, ``second``:
    the observed alleles' positions, ``second = -1`` when one allele was
    seen). The observation is the set of surviving alleles ``S`` plus at most
    one drop-in allele ``x`` not in ``S`` (Gill et al. 2000; Balding &
    Buckleton 2009, *Forensic Sci. Int. Genet.* 4:1-10; Familias' drop-out
    model, Egeland et al. 2015, ch. 6)::

        P(O | G) = sum_S P(S | G) [ (1 - c) 1{O = S} + c p_x 1{O = S + x} ]

    with, for a heterozygote ``i/j``, ``P({i, j}) = (1 - d)^2``,
    ``P({i}) = P({j}) = d (1 - d)``, ``P({}) = d^2``, and for a homozygote
    ``P({i}) = 1 - d_hom``, ``P({}) = d_hom``. ``hemizygous`` (a male at an X
    marker): one copy, ``P({i}) = 1 - d``, and the result is (K, N).

    ``silent`` (per row, ``-1`` for none) is the position of a silent allele:
    its copies never show, so ``i/silent`` is seen like a hemizygote ``i``
    (one copy that may drop out) and ``silent/silent`` shows only drop-in.
    """
    if silent is not None and np.any(silent >= 0):
        return _with_silent(p, first, second, dropout, dropin, homozygote_dropout, hemizygous,
                            silent)
    k, n = p.shape
    rows = np.arange(k)
    one = second < 0
    s_pos = first
    t_pos = np.where(one, first, second)
    p_s = p[rows, s_pos][:, None]
    p_t = p[rows, t_pos][:, None]
    d = dropout[:, None]
    c = dropin[:, None]
    i = np.arange(n)[None, :]
    is_s = i == s_pos[:, None]
    is_t = (i == t_pos[:, None]) & ~one[:, None]
    in_o = is_s | is_t
    # P(other observed allele dropped in | allele i survived), for two observed alleles
    other = np.where(is_s, p_t, np.where(is_t, p_s, 0.0))
    single = one[:, None]
    if hemizygous:
        # survive {i}: 1 - d; survive {}: d
        two_obs = (1 - d) * c * other * in_o
        one_obs = np.where(is_s, (1 - d) * (1 - c), 0.0) + d * c * p_s
        return np.where(single, one_obs, two_obs)
    dh = homozygote_dropout[:, None, None]
    d3, c3 = d[:, :, None], c[:, :, None]
    in_i, in_j = in_o[:, :, None], in_o[:, None, :]
    is_si, is_sj = is_s[:, :, None], is_s[:, None, :]
    other_i, other_j = other[:, :, None], other[:, None, :]
    hom = np.eye(n, dtype=bool)[None]
    # two alleles observed
    exact_pair = (in_i & in_j & ~hom)  # {i, j} is the observed pair
    het_two = ((1 - d3) ** 2 * (1 - c3) * exact_pair
               + d3 * (1 - d3) * c3 * (other_i * in_i + other_j * in_j))
    hom_two = (1 - dh) * c3 * other_i * in_i
    two = np.where(hom, hom_two, het_two)
    # one allele observed (s)
    ps3 = p_s[:, :, None]
    het_one = d3 * (1 - d3) * (1 - c3) * (is_si.astype(float) + is_sj) + d3 ** 2 * c3 * ps3
    hom_one = (1 - dh) * (1 - c3) * is_si + dh * c3 * ps3
    one_ = np.where(hom, hom_one, het_one)
    return np.where(single[:, :, None], one_, two)


def _with_silent(p: NDArray[np.float64], first: NDArray[np.intp], second: NDArray[np.intp],
                 dropout: NDArray[np.float64], dropin: NDArray[np.float64],
                 homozygote_dropout: NDArray[np.float64], hemizygous: bool,
                 silent: NDArray[np.intp]) -> NDArray[np.float64]:
    """:func:`observation_factor` where some rows have a silent allele."""
    factor = observation_factor(p, first, second, dropout, dropin, homozygote_dropout,
                                hemizygous)
    rows = np.flatnonzero(silent >= 0)
    sigma = silent[rows]
    # a copy of the silent allele never shows: i/silent is seen as a hemizygote i
    hemi = observation_factor(p[rows], first[rows], second[rows], dropout[rows], dropin[rows],
                              homozygote_dropout[rows], hemizygous=True)
    one = second[rows] < 0
    # nothing shows from silent/silent (or a hemizygous silent): only a drop-in
    nothing = np.where(one, dropin[rows] * p[rows, first[rows]], 0.0)
    if hemizygous:
        factor[rows, sigma] = nothing
        return factor
    factor[rows, sigma, :] = hemi
    factor[rows, :, sigma] = hemi
    factor[rows, sigma, sigma] = nothing
    return factor


def observation_weights(marker: Marker, a: NDArray[np.intp], b: NDArray[np.intp],
                        dropout: NDArray[np.float64], dropin: NDArray[np.float64],
                        hemizygous: bool = False) -> NDArray[np.float64]:
    """``P(what sample r shows at marker | true ordered alleles i, j)`` for samples ``r``.

    Sample ``r`` shows alleles ``a[r]`` and ``b[r]`` (positions in
    ``marker.alleles``; ``a == b`` when one allele was seen) and has
    drop-out ``dropout[r]`` and drop-in ``dropin[r]``; the homozygote
    drop-out is :func:`homozygote_dropout` and the marker's silent allele,
    if it has one, is never seen. Returns ``(rows, n, n)`` (symmetric in
    ``i, j``), or ``(rows, n)`` for ``hemizygous`` samples (one allele,
    a male at an X marker). See :func:`observation_factor`.
    """
    rows = len(a)
    silent = np.full(rows, -1 if marker.silent_index is None else marker.silent_index)
    p = np.broadcast_to(marker.allele_frequencies, (rows, marker.n_alleles))
    return observation_factor(p, a, np.where(a == b, -1, b), dropout, dropin,
                              homozygote_dropout(dropout), hemizygous=hemizygous, silent=silent)


def packed_observation_weights(marker: Marker, a: NDArray[np.intp], b: NDArray[np.intp],
                               dropout: NDArray[np.float64], dropin: NDArray[np.float64],
                               hemizygous: bool = False) -> NDArray[np.float64]:
    """:func:`observation_weights` per unordered genotype, in packed order.

    Columns are the genotypes ``i/j``, ``i <= j``, in the order of
    ``numpy.triu_indices(n)`` (the layout of
    :func:`kinmatch.likelihood.peeling.genotype_column`); a hemizygote's
    allele ``i`` is the column of ``i/i`` and the other columns are 0.
    Returns ``(rows, n (n + 1) / 2)``.
    """
    factor = observation_weights(marker, a, b, dropout, dropin, hemizygous)
    upper = np.triu_indices(marker.n_alleles)
    if not hemizygous:
        return factor[:, upper[0], upper[1]]
    weights = np.zeros((len(a), len(upper[0])))
    weights[:, upper[0] == upper[1]] = factor
    return weights
