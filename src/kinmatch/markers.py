"""Markers, allele frequencies and frequency databases.

A :class:`Marker` is one locus: its alleles, their population frequencies,
whether it lies on an autosome or on the X chromosome, and its mutation
model. A :class:`FrequencyDatabase` holds the allele frequencies of many
markers for one population (say, Korean or Japanese), from which markers are
made for a case.

Frequencies are checked: each must be positive and together they must sum to
1 within :data:`FREQUENCY_SUM_TOLERANCE`. When they do not, the caller must
choose explicitly: ``normalise=True`` divides by the sum, ``rest_allele``
adds one allele that carries the missing mass. An allele that is observed in
a profile but absent from the database is added with a configurable minimum
frequency (Familias' rule) and a warning, and the frequencies are scaled so
that they sum to 1 again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinmatch.alleles import allele_number, canonical_allele
from kinmatch.errors import MarkerError, warn
from kinmatch.mutation import MutationMatrix, MutationModel, mutation_model

Chromosome = Literal["autosomal", "X"]
CHROMOSOMES: tuple[Chromosome, ...] = ("autosomal", "X")

#: How far the allele frequencies of a marker may sum from 1.
FREQUENCY_SUM_TOLERANCE = 1e-6

#: Frequency given to an observed allele that the database lacks (Familias' default).
DEFAULT_MINIMUM_FREQUENCY = 0.001


@dataclass(frozen=True, eq=False)
class Marker:
    """One locus with its alleles, frequencies, chromosome and mutation model.

    Use :meth:`Marker.create` to build one with validation; the constructor
    assumes its inputs are already checked.
    """

    name: str
    alleles: tuple[str, ...]
    allele_frequencies: NDArray[np.float64]
    chromosome: Chromosome = "autosomal"
    mutation: MutationModel | None = None
    mutation_spec: Mapping[str, Any] | None = None
    #: a silent (null) allele among ``alleles``: carried and inherited, never seen
    silent_allele: str | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._index:
            self._index.update({a: i for i, a in enumerate(self.alleles)})

    @classmethod
    def create(
        cls,
        name: str,
        alleles: Sequence[object],
        allele_frequencies: ArrayLike,
        *,
        chromosome: str = "autosomal",
        mutation: Mapping[str, Any] | None = None,
        normalise: bool = False,
        rest_allele: str | None = None,
        silent_allele: str | None = None,
    ) -> Marker:
        """Validate and build a marker.

        ``mutation`` is a model spec (see :func:`kinmatch.mutation.mutation_model`).
        ``silent_allele`` names one of ``alleles`` as a silent (null) allele
        (Familias' silent allele): it is inherited like any other but never
        observed, so a person seen as homozygous ``a`` may be ``a/silent``.
        The mutation model is built over the observable alleles (frequencies
        renormalised among them) and the silent allele neither mutates nor
        is mutated into.
        """
        name = str(name).strip()
        if not name:
            raise MarkerError("a marker needs a name")
        if chromosome not in CHROMOSOMES:
            raise MarkerError(
                f"marker {name}: chromosome must be 'autosomal' or 'X', not '{chromosome}'"
            )
        try:
            labels = [canonical_allele(a) for a in alleles]
        except MarkerError as err:
            raise MarkerError(f"marker {name}: {err.message}") from None
        freqs = np.asarray(allele_frequencies, dtype=float).ravel()
        if len(labels) == 0:
            raise MarkerError(f"marker {name} has no alleles")
        if freqs.size != len(labels):
            raise MarkerError(
                f"marker {name} has {len(labels)} alleles but {freqs.size} frequencies"
            )
        seen: set[str] = set()
        for label in labels:
            if label in seen:
                raise MarkerError(f"marker {name}: allele '{label}' is listed twice")
            seen.add(label)
        bad = np.flatnonzero(~np.isfinite(freqs) | (freqs <= 0))
        if bad.size:
            i = bad[0]
            raise MarkerError(
                f"marker {name}: allele '{labels[i]}' has frequency {freqs[i]}; "
                "frequencies must be positive"
            )
        total = float(freqs.sum())
        if abs(total - 1.0) > FREQUENCY_SUM_TOLERANCE:
            if rest_allele is not None and total < 1.0:
                rest = canonical_allele(rest_allele)
                if rest in seen:
                    raise MarkerError(f"marker {name}: rest allele '{rest}' already exists")
                labels.append(rest)
                freqs = np.append(freqs, 1.0 - total)
            elif normalise:
                freqs = freqs / total
            else:
                raise MarkerError(
                    f"marker {name}: allele frequencies sum to {total:.9g}, not 1 "
                    f"(tolerance {FREQUENCY_SUM_TOLERANCE:g}); normalise them or add a rest allele"
                )
        freqs = np.array(freqs, dtype=float)
        freqs.setflags(write=False)
        silent = None
        if silent_allele is not None:
            silent = canonical_allele(silent_allele)
            if silent not in seen:
                raise MarkerError(f"marker {name}: silent allele '{silent}' is not among its "
                                  "alleles")
        try:
            if silent is None:
                model = mutation_model(labels, freqs, mutation)
            else:
                model = _with_silent_allele(labels, freqs, labels.index(silent), mutation)
        except MarkerError as err:
            raise MarkerError(f"marker {name}: {err.message}") from None
        return cls(
            name=name,
            alleles=tuple(labels),
            allele_frequencies=freqs,
            chromosome=chromosome,
            mutation=model,
            mutation_spec=mutation,
            silent_allele=silent,
        )

    @property
    def silent_index(self) -> int | None:
        """Index of the silent allele, if the marker has one."""
        return None if self.silent_allele is None else self._index[self.silent_allele]

    @property
    def n_alleles(self) -> int:
        return len(self.alleles)

    @property
    def is_x(self) -> bool:
        return self.chromosome == "X"

    def allele_index(self, label: object) -> int:
        """Index of an allele name; :class:`MarkerError` if the marker lacks it."""
        if isinstance(label, str):  # names already written canonically: one lookup
            found = self._index.get(label)
            if found is not None:
                return found
        key = canonical_allele(label)
        try:
            return self._index[key]
        except KeyError:
            raise MarkerError(
                f"marker {self.name} has no allele '{key}' "
                f"(known: {', '.join(self.alleles)})"
            ) from None

    def has_allele(self, label: object) -> bool:
        return canonical_allele(label) in self._index

    def with_alleles(
        self, labels: Iterable[object], minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY
    ) -> Marker:
        """This marker with the given alleles added if missing (Familias' rule).

        Each new allele gets ``minimum_frequency``; all frequencies are then
        divided by their sum. A warning names the added alleles. A custom
        mutation matrix cannot be extended, so that case is an error.
        """
        new = []
        for label in labels:
            if isinstance(label, str) and label in self._index:  # already canonical and known
                continue
            key = canonical_allele(label)
            if key not in self._index and key not in new:
                new.append(key)
        if not new:
            return self
        if not 0 < minimum_frequency < 1:
            raise MarkerError("minimum allele frequency must be in (0, 1), "
                              f"not {minimum_frequency}")
        spec = self.mutation_spec
        if self.mutation is not None and _has_custom_matrix(spec):
            raise MarkerError(
                f"marker {self.name}: allele(s) {', '.join(new)} are not in the database and the "
                "custom mutation matrix cannot be extended to them"
            )
        warn(
            f"marker {self.name}: allele(s) {', '.join(new)} not in the frequency database; "
            f"added with frequency {minimum_frequency:g} and frequencies rescaled to sum to 1"
        )
        freqs = np.concatenate([self.allele_frequencies, np.full(len(new), minimum_frequency)])
        freqs = freqs / freqs.sum()
        alleles = list(self.alleles) + new
        order = _allele_order(alleles)
        return Marker.create(
            self.name,
            [alleles[i] for i in order],
            freqs[order],
            chromosome=self.chromosome,
            mutation=spec,
            silent_allele=self.silent_allele,
        )

    def renamed(self, name: str) -> Marker:
        return replace(self, name=name, _index={})


def _with_silent_allele(labels: Sequence[str], freqs: NDArray[np.float64], silent: int,
                        spec: Mapping[str, Any] | None) -> MutationModel | None:
    """The mutation model over the observable alleles, embedded with the
    silent allele as an absorbing-free fixed state (identity row and column)."""
    keep = [i for i in range(len(labels)) if i != silent]
    observable = freqs[keep] / freqs[keep].sum()
    inner = mutation_model([labels[i] for i in keep], observable, spec)
    if inner is None:
        return None

    def embed(m: MutationMatrix) -> MutationMatrix:
        full = np.eye(len(labels))
        full[np.ix_(keep, keep)] = m.matrix
        return MutationMatrix(full, m.model, m.rate, m.rate2, m.range, m.transform)

    female = embed(inner.female)
    male = female if inner.male is inner.female else embed(inner.male)
    return MutationModel(female=female, male=male)


def _has_custom_matrix(spec: Mapping[str, Any] | None) -> bool:
    if spec is None:
        return False
    parts = [spec["female"], spec["male"]] if "female" in spec else [spec]
    return any(str(p.get("model", "")).lower() == "custom" for p in parts)


def _allele_order(alleles: Sequence[str]) -> list[int]:
    """Numeric alleles in numeric order, then the others alphabetically."""
    def key(i: int) -> tuple[int, float, str]:
        v = allele_number(alleles[i])
        return (0, v, "") if v is not None else (1, 0.0, alleles[i])

    return sorted(range(len(alleles)), key=key)


@dataclass
class FrequencyDatabase:
    """Allele frequencies of many markers for one population."""

    population: str
    frequencies: dict[str, tuple[tuple[str, ...], NDArray[np.float64]]] = field(
        default_factory=dict
    )

    def add(self, marker_name: str, alleles: Sequence[object], freqs: ArrayLike) -> None:
        # Validate through Marker.create, which names the marker in every error.
        m = Marker.create(marker_name, alleles, freqs)
        self.frequencies[m.name] = (m.alleles, m.allele_frequencies)

    @property
    def marker_names(self) -> list[str]:
        return list(self.frequencies)

    def marker(
        self,
        name: str,
        *,
        chromosome: str = "autosomal",
        mutation: Mapping[str, Any] | None = None,
    ) -> Marker:
        """A :class:`Marker` for ``name`` with this population's frequencies."""
        try:
            alleles, freqs = self.frequencies[name]
        except KeyError:
            raise MarkerError(
                f"marker {name} is not in the {self.population} frequency database"
            ) from None
        return Marker.create(name, alleles, freqs, chromosome=chromosome, mutation=mutation)
