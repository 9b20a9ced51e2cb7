"""Reading a case from a file of any format kinmatch knows, told apart by content.

* :func:`read_case` — a kinship case or a DVI case, whichever the file holds;
* :func:`read_kinship_case` — a kinship case: a kinmatch JSON case, a
  Familias ``.fam`` file (its pedigrees are the hypotheses), or laboratory
  tables (a genotype table with ``frequencies=`` and the hypotheses, see
  :func:`~kinmatch.formats.table_case.read_table_case`);
* :func:`read_dvi_case` — a DVI case: a kinmatch JSON DVI case or a Familias
  DVI file.

A file that holds something else is refused with a
:class:`~kinmatch.errors.CaseFormatError` naming the file and what it holds.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from kinmatch.dvi.case import DVICase
from kinmatch.errors import CaseFormatError, Location
from kinmatch.formats.case_json import read_case as read_kinship_json
from kinmatch.formats.detect import INPUT_KINDS, detect_input
from kinmatch.formats.dvi_json import read_dvi_case as read_dvi_json
from kinmatch.formats.familias.convert import familias_to_dvi_case, familias_to_kinship_case
from kinmatch.formats.familias.model import FamiliasFile
from kinmatch.formats.familias.parse import read_familias
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.case import KinshipCase


def read_case(path: str | Path) -> KinshipCase | DVICase:
    """The kinship case or DVI case in ``path`` (kinmatch JSON or Familias)."""
    kind = detect_input(path)
    if kind == "dvi-json":
        return read_dvi_json(path)
    if kind == "familias":
        fam = read_familias(path)
        if fam.dvi is not None and not fam.pedigrees:
            return _dvi_from_familias(fam, path)
        return _kinship_from_familias(fam, path)
    return read_kinship_case(path)


def read_kinship_case(path: str | Path, *, frequencies: str | Path | None = None,
                      **table_options: Any) -> KinshipCase:
    """The kinship case in ``path``: kinmatch JSON, Familias, or (with
    ``frequencies``) a genotype table assembled into a case with the
    frequency database and the hypotheses given in ``table_options`` (the
    keyword arguments of :func:`~kinmatch.formats.table_case.read_table_case`:
    ``pedigree``, ``missing``, ``poi`` or ``hypotheses``, ``mutation``, ...)."""
    if frequencies is not None:
        return read_table_case(path, frequencies=frequencies, **table_options)
    kind = detect_input(path)
    if kind == "familias":
        fam = read_familias(path)
        if fam.dvi is not None and not fam.pedigrees:
            raise CaseFormatError("this Familias file holds a DVI case; kinmatch lr computes "
                                  "the LRs of a kinship case", Location(str(path)))
        return _kinship_from_familias(fam, path)
    if kind in ("kinship-json", "dvi-json"):
        return read_kinship_json(path)  # a DVI case file is refused with a located message
    if kind == "genotypes":
        raise CaseFormatError("this is a genotype table: give the frequency database "
                              "(--frequencies) and the hypotheses (--pedigree with --missing "
                              "and --poi, or --hypotheses) to build a case from it",
                              Location(str(path)))
    raise CaseFormatError(f"this is {INPUT_KINDS[kind]}, not a case (expected a kinmatch JSON "
                          "case or a Familias .fam file)", Location(str(path)))


def read_dvi_case(path: str | Path) -> DVICase:
    """The DVI case in ``path``: a kinmatch JSON DVI case or a Familias DVI file."""
    kind = detect_input(path)
    if kind == "dvi-json":
        return read_dvi_json(path)
    if kind == "familias":
        fam = read_familias(path)
        if fam.dvi is None:
            raise CaseFormatError("this Familias file holds a kinship case, not a DVI case "
                                  "(use kinmatch lr)", Location(str(path)))
        return _dvi_from_familias(fam, path)
    if kind == "kinship-json":
        raise CaseFormatError("this is a kinship case; kinmatch dvi needs a DVI case "
                              "(use kinmatch lr)", Location(str(path)))
    raise CaseFormatError(f"this is {INPUT_KINDS[kind]}, not a DVI case (expected a kinmatch "
                          "JSON DVI case or a Familias DVI .fam file)", Location(str(path)))


def _kinship_from_familias(fam: FamiliasFile, path: str | Path) -> KinshipCase:
    case = familias_to_kinship_case(fam)
    if not case.title:
        case.title = str(path)
    return case


def _dvi_from_familias(fam: FamiliasFile, path: str | Path) -> DVICase:
    case = familias_to_dvi_case(fam)
    return case if case.title else replace(case, title=str(path))


__all__ = ["read_case", "read_dvi_case", "read_kinship_case"]
