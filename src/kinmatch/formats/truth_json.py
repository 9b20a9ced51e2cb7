"""The truth of a simulated case (``truth.json``, written by ``kinmatch simulate``).

A truth file says which miner each recovered fragment belongs to
(``fragments``), which miners were recovered (``recovered``), which families
stand for which miner (``families``: name -> ``{"miner": ...}``) and which
miners have no living donor (``families_without_donor``). It is read with
the same located errors as a case file: a syntax error, a case file given by
mistake or a field of the wrong shape names the file, line, column and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kinmatch.formats.json_reader import JsonReader, pointer_key, read_json_text


def parse_truth(text: str, filename: str = "<truth>") -> dict[str, Any]:
    """The truth document in ``text``, its shape checked."""
    r = JsonReader(text, filename)
    root = r.data
    if not isinstance(root, dict):
        raise r.error("", "a truth file holds a JSON object (written by kinmatch simulate)")
    if "format" in root:
        raise r.error("/format", f"this is a kinmatch case ('{root['format']}'), not the truth "
                                 "of a simulated case (kinmatch simulate writes truth.json)")
    fragments = r.field(root, "fragments", "", dict)
    for sample, miner in fragments.items():
        if not isinstance(miner, str):
            raise r.error(f"/fragments/{pointer_key(sample)}",
                          "expected the name of a miner (text)")
    recovered = r.field(root, "recovered", "", list)
    for i, miner in enumerate(recovered):
        if not isinstance(miner, str):
            raise r.error(f"/recovered/{i}", "expected the name of a miner (text)")
    families: Mapping[str, Any] = r.field(root, "families", "", dict, required=False,
                                          default={})
    for name, family in families.items():
        pointer = f"/families/{pointer_key(name)}"
        if not isinstance(family, dict):
            raise r.error(pointer, "expected an object with the family's 'miner'")
        r.field(family, "miner", pointer, str)
    without = r.field(root, "families_without_donor", "", list, required=False, default=[])
    for i, miner in enumerate(without):
        if not isinstance(miner, str):
            raise r.error(f"/families_without_donor/{i}", "expected the name of a miner (text)")
    return root


def read_truth(path: str | Path) -> dict[str, Any]:
    """The truth file at ``path`` (see :func:`parse_truth`)."""
    return parse_truth(read_json_text(path), str(path))


__all__ = ["parse_truth", "read_truth"]
