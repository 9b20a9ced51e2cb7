"""kinmatch: identify human remains by DNA kinship.

The public API is this package's namespace; everything else is reached
through its modules (see docs/api.md and docs/architecture.md).

Reading a case (kinmatch JSON, Familias ``.fam``, laboratory tables), by content:
    :func:`read_case`, :func:`read_kinship_case`, :func:`read_dvi_case`

One kinship question (hypotheses about a pedigree, LRs per marker and in total):
    :func:`analyse_kinship_case` → :class:`KinshipAnalysis`;
    :func:`kinship_lr` for hypotheses, markers and profiles built in Python

A whole DVI case (drop-out, fragments, pairwise LRs, dviSolve, joint analysis):
    :func:`run_dvi_case` with :class:`DVIOptions` → :class:`DVIResult`

The model:
    :class:`Pedigree`, :class:`Individual`, :class:`Sex`, :class:`Marker`,
    :class:`Hypothesis`, :class:`KinshipCase`, :class:`DVICase`,
    :class:`ReferenceFamily`, :class:`PostMortemSample`

Errors: :class:`KinmatchError` and its located kind :class:`CaseFormatError`.

Names are loaded on first use, so ``import kinmatch`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "read_case": "kinmatch.formats.cases",
    "read_kinship_case": "kinmatch.formats.cases",
    "read_dvi_case": "kinmatch.formats.cases",
    "analyse_kinship_case": "kinmatch.kinship.analysis",
    "KinshipAnalysis": "kinmatch.kinship.analysis",
    "kinship_lr": "kinmatch.kinship.lr",
    "KinshipResult": "kinmatch.kinship.lr",
    "Hypothesis": "kinmatch.kinship.case",
    "KinshipCase": "kinmatch.kinship.case",
    "run_dvi_case": "kinmatch.dvi.pipeline",
    "DVIOptions": "kinmatch.dvi.pipeline",
    "DVIResult": "kinmatch.dvi.pipeline",
    "DVICase": "kinmatch.dvi.case",
    "ReferenceFamily": "kinmatch.dvi.case",
    "PostMortemSample": "kinmatch.dvi.case",
    "Pedigree": "kinmatch.pedigree",
    "Individual": "kinmatch.pedigree",
    "Sex": "kinmatch.pedigree",
    "Marker": "kinmatch.markers",
    "KinmatchError": "kinmatch.errors",
    "CaseFormatError": "kinmatch.errors",
}

if TYPE_CHECKING:
    from kinmatch.dvi.case import DVICase, PostMortemSample, ReferenceFamily
    from kinmatch.dvi.pipeline import DVIOptions, DVIResult, run_dvi_case
    from kinmatch.errors import CaseFormatError, KinmatchError
    from kinmatch.formats.cases import read_case, read_dvi_case, read_kinship_case
    from kinmatch.kinship.analysis import KinshipAnalysis, analyse_kinship_case
    from kinmatch.kinship.case import Hypothesis, KinshipCase
    from kinmatch.kinship.lr import KinshipResult, kinship_lr
    from kinmatch.markers import Marker
    from kinmatch.pedigree import Individual, Pedigree, Sex


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kinmatch' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "CaseFormatError", "DVICase", "DVIOptions", "DVIResult", "Hypothesis", "Individual",
    "KinmatchError", "KinshipAnalysis", "KinshipCase", "KinshipResult", "Marker", "Pedigree",
    "PostMortemSample", "ReferenceFamily", "Sex", "__version__", "analyse_kinship_case",
    "kinship_lr", "read_case", "read_dvi_case", "read_kinship_case", "run_dvi_case",
]
