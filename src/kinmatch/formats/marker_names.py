"""Marker names: one alias table for the spellings laboratories use.

Kits, analysis software, frequency databases and spreadsheets spell the same
locus differently: ``vWA``, ``VWA`` and ``vwa``; ``Penta E``, ``PENTA_E`` and
``PentaE``; ``TH01`` and (with the letter O) ``THO1``; ``FGA`` and its old name
``FIBRA``; ``Amelogenin``, ``AMEL`` and ``AM``. :func:`canonical_marker_name`
maps every spelling in :data:`MARKERS` to one canonical name, so that a
profile read from a GeneMapper export and a frequency database read from a
Familias file meet on the same marker.

Matching ignores case and the separators space, underscore, hyphen and dot
(``penta-e``, ``PENTA_E``, ``Penta.E`` and ``Penta E`` are one key), so the
table lists each spelling once, without separator variants.

The table covers every locus of GlobalFiler and PowerPlex Fusion (6C), the
Yfiler Plus and PowerPlex Y23 Y-STRs (``DYS385a``/``DYS385b`` as the two
copies and ``DYS385`` for the pair as GeneMapper calls it; likewise
``DYF387S1``), the X-STRs of Investigator Argus X-12, and the further
autosomal loci of the norSTR frequency databases. Each entry says what kind
of marker it is (:data:`MarkerKind`): ``"autosomal"``, ``"X"``, ``"Y"`` or
``"sex"`` — Amelogenin, which tells the sex of a sample and is not an STR to
compute a likelihood on (:func:`is_sex_marker`).

Names that are not in the table are kept: a name of the form ``D<n>S<n>``,
``DXS<n>``, ``DYS<n>`` or ``DYF<n>S<n>`` is written in capitals
(``d6s1043`` -> ``D6S1043``); any other name is returned stripped, as
written. kinmatch computes on any locus for which it has frequencies.

The CODIS shorthands ``D3``, ``D5``, ``D7``, ``D8``, ``D13``, ``D16``, ``D18``
and ``D21`` mean the core loci D3S1358, D5S818, D7S820, D8S1179, D13S317,
D16S539, D18S51 and D21S11. Any other bare ``D<n>`` is refused, because it is
ambiguous: ``D2`` may be D2S1338 or D2S441, ``D19`` D19S433 or D19S253,
``D22`` D22S1045 or D22GATA198B05, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kinmatch.errors import MarkerError

MarkerKind = Literal["autosomal", "X", "Y", "sex"]

#: The canonical name of Amelogenin, the sex marker.
AMELOGENIN = "AMEL"


@dataclass(frozen=True)
class MarkerInfo:
    """A known marker: its canonical name, its kind and the other spellings in use."""

    name: str
    kind: MarkerKind
    aliases: tuple[str, ...] = ()


def _autosomal(name: str, *aliases: str) -> MarkerInfo:
    return MarkerInfo(name, "autosomal", aliases)


def _x(name: str, *aliases: str) -> MarkerInfo:
    return MarkerInfo(name, "X", aliases)


def _y(name: str, *aliases: str) -> MarkerInfo:
    return MarkerInfo(name, "Y", aliases)


#: Every marker kinmatch knows by name, with the spellings labs use for it.
MARKERS: tuple[MarkerInfo, ...] = (
    MarkerInfo(AMELOGENIN, "sex", ("Amelogenin", "Amelo", "AM", "AMELX/Y", "AMELXY")),
    # -- GlobalFiler / PowerPlex Fusion 6C / ESS and CODIS core loci ----------
    _autosomal("CSF1PO", "CSF", "CSF1", "HUMCSF1PO"),
    _autosomal("D1S1656"),
    _autosomal("D2S441"),
    _autosomal("D2S1338"),
    _autosomal("D3S1358", "D3"),
    _autosomal("D5S818", "D5"),
    _autosomal("D7S820", "D7"),
    _autosomal("D8S1179", "D8"),
    _autosomal("D10S1248"),
    _autosomal("D12S391"),
    _autosomal("D13S317", "D13"),
    _autosomal("D16S539", "D16"),
    _autosomal("D18S51", "D18"),
    _autosomal("D19S433"),
    _autosomal("D21S11", "D21"),
    _autosomal("D22S1045"),
    _autosomal("FGA", "FIBRA", "FIB", "HUMFIBRA", "HUMFGA"),
    _autosomal("Penta D", "PentaD", "PD"),
    _autosomal("Penta E", "PentaE", "PE"),
    _autosomal("SE33", "ACTBP2", "HUMACTBP2"),
    _autosomal("TH01", "TH0", "THO1", "THO", "TH1", "HUMTH01"),
    _autosomal("TPOX", "TPO", "HUMTPOX"),
    _autosomal("vWA", "VWA31", "HUMVWA", "HUMVWA31"),
    # -- other kit loci (Sinofiler, PowerPlex 21, Investigator 24plex) --------
    _autosomal("D6S1043"),
    # -- further loci of the norSTR databases ----------------------------------
    _autosomal("APOAI1", "APOA1"),
    _autosomal("D2S1360"),
    _autosomal("D3S1744"),
    _autosomal("D3S3045"),
    _autosomal("D4S2366"),
    _autosomal("D5S2500"),
    _autosomal("D5S2800"),
    _autosomal("D6S474"),
    _autosomal("D6S477"),
    _autosomal("D7S1517"),
    _autosomal("D7S3048"),
    _autosomal("D8S1132"),
    _autosomal("D9S1122"),
    _autosomal("D10S1435"),
    _autosomal("D10S2325"),
    _autosomal("D11S554"),
    _autosomal("D11S2368"),
    _autosomal("D13S325"),
    _autosomal("D14S1434"),
    _autosomal("D15S659"),
    _autosomal("D17S906"),
    _autosomal("D17S1301"),
    _autosomal("D18S1364"),
    _autosomal("D19S253"),
    _autosomal("D20S482"),
    _autosomal("D21S2055"),
    _autosomal("D22GATA198B05", "D22GATA198"),
    # -- Y: GlobalFiler/Fusion, Yfiler Plus, PowerPlex Y23 ---------------------
    _y("Yindel", "Y indel", "YInDel"),
    _y("DYS19", "DYS394"),
    _y("DYS385", "DYS385a/b", "DYS385ab"),
    _y("DYS385a"),
    _y("DYS385b"),
    _y("DYS389I", "DYS389 I", "DYS389-1", "DYS3891"),
    _y("DYS389II", "DYS389 II", "DYS389-2", "DYS3892"),
    _y("DYS390"),
    _y("DYS391"),
    _y("DYS392"),
    _y("DYS393"),
    _y("DYS437"),
    _y("DYS438"),
    _y("DYS439"),
    _y("DYS448"),
    _y("DYS449"),
    _y("DYS456"),
    _y("DYS458"),
    _y("DYS460"),
    _y("DYS481"),
    _y("DYS518"),
    _y("DYS533"),
    _y("DYS549"),
    _y("DYS570"),
    _y("DYS576"),
    _y("DYS627"),
    _y("DYS635", "Y GATA C4", "YGATAC4"),
    _y("DYS643"),
    _y("DYF387S1", "DYF387S1a/b", "DYF387S1ab"),
    _y("DYF387S1a"),
    _y("DYF387S1b"),
    _y("YGATAH4", "Y GATA H4", "GATA H4", "GATAH4", "GATA H4.1", "GATAH4.1"),
    # -- X: Investigator Argus X-12 --------------------------------------------
    _x("DXS7132"),
    _x("DXS7423"),
    _x("DXS8378"),
    _x("DXS10074"),
    _x("DXS10079"),
    _x("DXS10101"),
    _x("DXS10103"),
    _x("DXS10134"),
    _x("DXS10135"),
    _x("DXS10146"),
    _x("DXS10148"),
    _x("HPRTB", "HPRT", "HUMHPRTB"),
)

_SEPARATORS = re.compile(r"[\s_\-.]+")
_GENERIC = re.compile(r"^(D\d{1,2}S\d+|DXS\d+|DYS\d+|DYF\d+S\d+)$")
_BARE_CHROMOSOME = re.compile(r"^D\d{1,2}$")


def marker_key(name: str) -> str:
    """The lookup key of a marker name: capitals, without spaces, ``_``, ``-`` or ``.``."""
    return _SEPARATORS.sub("", str(name)).upper()


def _build_index() -> dict[str, MarkerInfo]:
    index: dict[str, MarkerInfo] = {}
    for info in MARKERS:
        for spelling in (info.name, *info.aliases):
            key = marker_key(spelling)
            other = index.get(key)
            if other is not None and other is not info:  # pragma: no cover - table bug
                raise AssertionError(f"alias {spelling!r} names both {other.name} and {info.name}")
            index[key] = info
    return index


_INDEX: dict[str, MarkerInfo] = _build_index()

#: Every known spelling's key mapped to the canonical name (read-only view of the table).
MARKER_ALIASES: Mapping[str, str] = {key: info.name for key, info in _INDEX.items()}


def marker_info(name: str) -> MarkerInfo | None:
    """The table entry for a marker name in any known spelling, else ``None``."""
    return _INDEX.get(marker_key(name))


def canonical_marker_name(name: str) -> str:
    """The canonical spelling of a marker name.

    Known spellings give the table's name (``"vwa"`` -> ``"vWA"``,
    ``"PENTA_E"`` -> ``"Penta E"``, ``"Amelogenin"`` -> ``"AMEL"``); unknown
    ``D<n>S<n>``-style names are capitalised; other names are kept as written.
    An empty name or an ambiguous shorthand such as ``"D2"`` is a
    :class:`~kinmatch.errors.MarkerError`.
    """
    text = " ".join(str(name).split())
    if not text:
        raise MarkerError("a marker name is empty")
    key = marker_key(text)
    info = _INDEX.get(key)
    if info is not None:
        return info.name
    if _BARE_CHROMOSOME.match(key):
        prefix = key + "S"
        candidates = sorted(i.name for i in MARKERS if marker_key(i.name).startswith(prefix))
        hint = f" (for example {' or '.join(candidates[:3])})" if candidates else ""
        raise MarkerError(f"marker name '{text}' is ambiguous: give the full locus name{hint}")
    if _GENERIC.match(key):
        return key
    return text


def marker_kind(name: str) -> MarkerKind | None:
    """``"autosomal"``, ``"X"``, ``"Y"`` or ``"sex"`` for a known or ``D..S..``-style name.

    ``None`` when the name is unknown and says nothing about its chromosome.
    """
    info = marker_info(name)
    if info is not None:
        return info.kind
    key = marker_key(name)
    if key.startswith("DXS") and _GENERIC.match(key):
        return "X"
    if key.startswith(("DYS", "DYF")) and _GENERIC.match(key):
        return "Y"
    if _GENERIC.match(key):
        return "autosomal"
    return None


def is_sex_marker(name: str) -> bool:
    """Whether the name is Amelogenin (in any spelling): it gives the sex, not an STR genotype."""
    info = marker_info(name)
    return info is not None and info.kind == "sex"


def is_str_marker(name: str) -> bool:
    """Whether the name is a known STR (autosomal, X or Y), whose alleles are repeat numbers.

    ``Yindel`` is a Y marker with alleles 1 and 2, which are numbers too.
    """
    kind = marker_kind(name)
    return kind in ("autosomal", "X", "Y")


def known_marker_names(kind: MarkerKind | None = None) -> tuple[str, ...]:
    """The canonical names in the table, optionally of one kind only."""
    return tuple(i.name for i in MARKERS if kind is None or i.kind == kind)
