"""Allele names: STR repeat numbers with microvariants, and SNP bases.

STR alleles are named by their repeat number; a microvariant carries the
number of extra bases after a point (``9.3`` is nine full repeats and three
bases). SNP alleles are bases (``A``, ``C``, ``G``, ``T``) or any other label.
Numeric names are written canonically (``10.0`` -> ``10``) so that a
database and a profile that spell the same allele differently still match.
"""

from __future__ import annotations

from functools import lru_cache

from kinmatch.errors import MarkerError

_FORBIDDEN = set("\t\r\n/,;")


def allele_number(label: str) -> float | None:
    """The repeat number of a numeric allele name (``"9.3"`` -> 9.3), else ``None``."""
    try:
        value = float(label)
    except (TypeError, ValueError):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def canonical_allele(label: object) -> str:
    """Check an allele name and write it canonically.

    Numbers lose redundant zeros (``"10.0"`` -> ``"10"``, ``"9.30"`` -> ``"9.3"``);
    other names are kept as written, stripped of surrounding spaces and with
    inner runs of spaces collapsed to one (Familias names a lumped allele
    ``"Rest allele"``). Tabs, newlines and the genotype separators ``/ , ;``
    are not allowed.
    """
    if isinstance(label, bool) or label is None:
        raise MarkerError(f"an allele name must be text or a number, not {label!r}")
    if isinstance(label, (int, float)):
        return _canonical_text(repr(label))
    return _canonical_text(" ".join(part for part in str(label).strip().split(" ") if part))


@lru_cache(maxsize=65536)  # a few hundred names, read for every person and marker
def _canonical_text(text: str) -> str:
    if not text:
        raise MarkerError("an allele name is empty")
    if any(ch in _FORBIDDEN for ch in text):
        raise MarkerError(f"allele name '{text}' contains a tab, line break or separator (/ , ;)")
    number = allele_number(text)
    if number is not None and not text.lower().startswith(("n", "i", "+i", "-i")):
        if number == int(number):
            return str(int(number))
        return f"{number:.10g}"
    return text


def is_microvariant(label: str) -> bool:
    """Whether a numeric STR allele name has a fractional part (``9.3``, ``30.2``)."""
    value = allele_number(label)
    return value is not None and value != int(value)
