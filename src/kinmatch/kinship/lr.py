"""Kinship likelihood ratios between alternative pedigrees.

A *hypothesis* is a pedigree that connects the typed people in one way
("B is A's son"); competing hypotheses connect the same typed people in other
ways ("A and B are unrelated"). The likelihood ratio of hypothesis ``H`` to
the reference hypothesis ``R`` is ``LR = P(data | H) / P(data | R)``, per
marker and, for independent markers, as their product (a sum of logs).

LRs are carried as logarithms: a trio typed at thousands of SNPs has an LR
far beyond the largest float (10^308), so :meth:`KinshipResult.total_log10_lr`
is the number to print; :meth:`KinshipResult.total_lr` is ``inf`` beyond
that range. A marker where a hypothesis gives the genotypes likelihood 0 is
listed in :attr:`KinshipResult.impossible_markers`;
:func:`kinmatch.likelihood.consistency.conflicting_people` finds the typed
people whose genotypes conflict there, and ``describe_conflict`` words it.

Profiles are given with allele *names*. An allele observed in a profile but
missing from the marker's frequency database is added with the minimum
frequency (Familias' rule), with a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kinmatch.errors import KinmatchError
from kinmatch.kinship.case import Hypothesis, Profiles, check_hypotheses
from kinmatch.likelihood.observation import Genotype, Observation
from kinmatch.likelihood.peeling import markers_loglik
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY, Marker

#: ``ln(10)``: natural logs to log10.
LN10 = math.log(10)


@dataclass(frozen=True)
class KinshipResult:
    """Log-likelihoods of each hypothesis per marker, and LRs against a reference."""

    hypotheses: tuple[str, ...]
    markers: tuple[str, ...]
    loglik: NDArray[np.float64]  # (hypotheses, markers), natural logs
    reference: str
    theta: float = 0.0

    def _row(self, hypothesis: str) -> int:
        try:
            return self.hypotheses.index(hypothesis)
        except ValueError:
            raise KinmatchError(
                f"no hypothesis named '{hypothesis}' (have: {', '.join(self.hypotheses)})"
            ) from None

    @property
    def total_loglik(self) -> NDArray[np.float64]:
        return self.loglik.sum(axis=1)

    def log_lr(self, hypothesis: str) -> NDArray[np.float64]:
        """Natural log of the LR per marker of ``hypothesis`` against the reference."""
        a = self.loglik[self._row(hypothesis)]
        b = self.loglik[self._row(self.reference)]
        return _log_ratio(a, b)

    def log10_lr(self, hypothesis: str) -> NDArray[np.float64]:
        """log10 of the LR per marker of ``hypothesis`` against the reference."""
        return self.log_lr(hypothesis) / LN10

    def lr(self, hypothesis: str) -> NDArray[np.float64]:
        """The LR per marker (``inf`` beyond the float range: see :meth:`log10_lr`)."""
        with np.errstate(over="ignore"):
            return np.exp(self.log_lr(hypothesis))

    def total_log_lr(self, hypothesis: str) -> float:
        a = float(self.total_loglik[self._row(hypothesis)])
        b = float(self.total_loglik[self._row(self.reference)])
        return float(_log_ratio(np.array([a]), np.array([b]))[0])

    def total_log10_lr(self, hypothesis: str) -> float:
        """log10 of the total LR: finite however large the LR (``inf`` only when the
        reference is impossible, ``-inf`` when the hypothesis is, NaN when both are)."""
        return self.total_log_lr(hypothesis) / LN10

    def total_lr(self, hypothesis: str) -> float:
        """The total LR; ``inf`` also when it is finite but beyond the float range
        (about 10^308): print :meth:`total_log10_lr` instead."""
        return safe_exp(self.total_log_lr(hypothesis))

    @property
    def impossible_markers(self) -> dict[str, tuple[str, ...]]:
        """Per hypothesis, the markers where it gives the genotypes likelihood 0."""
        return {h: tuple(m for m, ll in zip(self.markers, self.loglik[i]) if ll == -math.inf)
                for i, h in enumerate(self.hypotheses)}

    @property
    def impossible_everywhere(self) -> tuple[str, ...]:
        """The markers where every hypothesis has likelihood 0 (no LR is defined there)."""
        dead = np.all(np.isneginf(self.loglik), axis=0)
        return tuple(m for m, d in zip(self.markers, dead) if d)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (``-inf``/``nan`` written as strings). An LR beyond
        the float range is ``null`` in ``lr`` / ``lr_per_marker``, never
        ``"Inf"``: its log10 (``log10_lr``, ``log10_lr_per_marker``) is always
        given. ``impossible_markers`` lists the markers where the hypothesis
        gives the genotypes likelihood 0."""
        impossible = self.impossible_markers
        return {
            "reference": self.reference,
            "theta": self.theta,
            "markers": list(self.markers),
            "hypotheses": [
                {
                    "name": h,
                    "loglik_per_marker": [_num(v) for v in self.loglik[i]],
                    "loglik": _num(float(self.total_loglik[i])),
                    "log_lr_per_marker": [_num(v) for v in self.log_lr(h)],
                    "log_lr": _num(self.total_log_lr(h)),
                    "lr_per_marker": [_lr_num(v, lg) for v, lg in zip(self.lr(h),
                                                                       self.log_lr(h))],
                    "lr": _lr_num(self.total_lr(h), self.total_log_lr(h)),
                    "log10_lr_per_marker": [_num(v) for v in self.log10_lr(h)],
                    "log10_lr": _num(self.total_log10_lr(h)),
                    "impossible_markers": list(impossible[h]),
                }
                for i, h in enumerate(self.hypotheses)
            ],
        }


def _log_ratio(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.where(np.isneginf(a) & np.isneginf(b), np.nan, a - b)
    return np.asarray(out, dtype=float)


def _num(v: float) -> float | str:
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    return v


def _lr_num(value: float, log_value: float) -> float | str | None:
    """An LR for JSON: ``None`` where it is finite (finite log) but beyond the floats."""
    if math.isinf(float(value)) and math.isfinite(float(log_value)):
        return None
    return _num(value)


#: The largest natural log whose exponential is a finite float.
_MAX_LOG = math.log(np.finfo(float).max)


def safe_exp(log_value: float) -> float:
    """``exp(log_value)``, ``inf`` (not an OverflowError) beyond the float range."""
    if log_value > _MAX_LOG:
        return math.inf
    return math.exp(log_value)


def format_power_of_ten(log10_value: float, digits: int = 3) -> str:
    """A number given by its log10 as ``3.16 × 10^412`` (``digits`` significant
    digits), however far beyond the float range."""
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, digits - 1) >= 10:
        exponent += 1
        mantissa /= 10
    return f"{mantissa:.{digits}g} × 10^{exponent}"










def all_homozygous(genotypes: Mapping[str, Genotype | Observation],
                   people: Sequence[str]) -> bool:
    """Whether every one of ``people`` is typed homozygous (or seen with one allele)."""
    def one(g: Genotype | Observation) -> bool:
        return len(set(g.alleles if isinstance(g, Observation) else g)) == 1
    return all(one(genotypes[p]) for p in people)


def typed_genotypes(
    markers: Sequence[Marker],
    profiles: Profiles,
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
    dropout: Mapping[str, float | Mapping[str, float]] | None = None,
    dropin: Mapping[str, float] | None = None,
) -> tuple[list[Marker], list[dict[str, Genotype | Observation]]]:
    """Map allele names to indices, adding unseen alleles to the markers.

    Returns the (possibly extended) markers and, per marker, the genotypes
    of the people typed there. Markers in a profile that the case does not
    define are an error. People with a drop-out or drop-in probability
    (``dropout[person]``, ``dropin[person]``) get an :class:`Observation`
    of the alleles seen instead of a genotype: one allele seen may then be
    a heterozygote with an allele lost.
    """
    dropout = dict(dropout or {})
    dropin = dict(dropin or {})
    for person in (*dropout, *dropin):
        if person not in profiles or not profiles[person]:
            raise KinmatchError(f"a drop-out / drop-in probability is given for '{person}', "
                                "who is not typed")
    known = {m.name for m in markers}
    for person, profile in profiles.items():
        for marker_name in profile:
            if marker_name not in known:
                raise KinmatchError(
                    f"person '{person}' is typed at marker '{marker_name}', which the case "
                    "does not define"
                )
    out_markers: list[Marker] = []
    out_genotypes: list[dict[str, Genotype | Observation]] = []
    for marker in markers:
        seen = [a for p in profiles.values() if marker.name in p for a in p[marker.name]]
        marker = marker.with_alleles(seen, minimum_frequency)
        genotypes: dict[str, Genotype | Observation] = {}
        for person, profile in profiles.items():
            if marker.name in profile:
                alleles = list(profile[marker.name])
                if len(alleles) == 1:
                    alleles = alleles * 2
                if len(alleles) != 2:
                    raise KinmatchError(
                        f"person '{person}' at marker {marker.name}: a genotype has two alleles, "
                        f"not {len(alleles)}"
                    )
                a, b = marker.allele_index(alleles[0]), marker.allele_index(alleles[1])
                d_any = dropout.get(person, 0.0)
                d = (d_any.get(marker.name, 0.0) if isinstance(d_any, Mapping)
                     else float(d_any))
                c = dropin.get(person, 0.0)
                if d or c:
                    observed = (a,) if a == b else (a, b)
                    genotypes[person] = Observation(observed, d, c)
                else:
                    genotypes[person] = (a, b)
        out_markers.append(marker)
        out_genotypes.append(genotypes)
    return out_markers, out_genotypes




def kinship_lr(
    hypotheses: Sequence[Hypothesis],
    markers: Sequence[Marker],
    profiles: Profiles,
    *,
    theta: float = 0.0,
    reference: str | None = None,
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY,
    dropout: Mapping[str, float | Mapping[str, float]] | None = None,
    dropin: Mapping[str, float] | None = None,
) -> KinshipResult:
    """Log-likelihood of each hypothesis per marker, and LRs against ``reference``
    (default: the last hypothesis, conventionally "unrelated").

    ``dropout`` and ``dropin`` give, per typed person (typically degraded
    remains), the probability that an allele drops out (one value, or one
    per marker name as Familias sets it per locus) and that a spurious
    allele drops in (see :class:`kinmatch.likelihood.observation.Observation`).
    """
    typed = [pid for pid, prof in profiles.items() if prof]
    check_hypotheses(hypotheses, typed)
    ref = reference if reference is not None else hypotheses[-1].name
    if ref not in [h.name for h in hypotheses]:
        raise KinmatchError(f"reference hypothesis '{ref}' is not among the hypotheses")
    full_markers, genotypes = typed_genotypes(markers, profiles, minimum_frequency, dropout,
                                              dropin)
    loglik = np.vstack(
        [markers_loglik(h.pedigree, full_markers, genotypes, theta) for h in hypotheses]
    )
    return KinshipResult(
        hypotheses=tuple(h.name for h in hypotheses),
        markers=tuple(m.name for m in full_markers),
        loglik=loglik,
        reference=ref,
        theta=theta,
    )
