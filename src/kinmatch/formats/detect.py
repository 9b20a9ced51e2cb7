"""What a file holds, from its content (and, where content cannot tell, its name).

:func:`detect_input` tells apart every input kinmatch reads: its JSON files
(kinship cases, DVI cases, hypotheses), Familias ``.fam`` files, LINKAGE/PLINK
``.fam`` files (six whitespace-separated columns: the same extension as
Familias' files, told apart by content), PED-style pedigree tables,
frequency databases (Familias text, long and wide tables) and genotype
tables (wide tables and GeneMapper exports, as text or ``.xlsx``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from kinmatch.formats import tables
from kinmatch.formats.frequencies import long_columns, sniff_frequency_format
from kinmatch.formats.genotype_tables import is_long_genotype_header
from kinmatch.formats.json_reader import decode_json_bytes, load_json

InputKind = Literal[
    "kinship-json", "dvi-json", "hypotheses-json", "familias", "plink-fam", "ped",
    "frequencies", "genotypes",
]

#: What each kind of input is, for messages and documentation.
INPUT_KINDS: dict[str, str] = {
    "kinship-json": "a kinmatch JSON kinship case",
    "dvi-json": "a kinmatch JSON DVI case",
    "hypotheses-json": "a kinmatch JSON hypotheses file",
    "familias": "a Familias .fam file",
    "plink-fam": "a LINKAGE/PLINK .fam pedigree file",
    "ped": "a PED-style pedigree table",
    "frequencies": "an allele frequency database",
    "genotypes": "a genotype table (wide table or GeneMapper export)",
}

_JSON_KINDS: dict[str, InputKind] = {
    "kinmatch-case": "kinship-json",
    "kinmatch-dvi-case": "dvi-json",
    "kinmatch-hypotheses": "hypotheses-json",
}
_PED_TITLES = {"id", "iid", "individual", "person", "name", "father", "fid", "pat", "dad",
               "mother", "mid", "mat", "mom", "mum", "famid", "family", "ped", "pedigree",
               "sex", "gender"}
_SAMPLE_TITLES = {"sample", "samplename", "sampleid", "samplefile"}
_SEX_CODES = {"0", "1", "2", "-9"}


def detect_input(path: str | Path) -> InputKind:
    """The kind of a file kinmatch can read; a located error when it cannot tell."""
    name = str(path)
    data = tables.read_bytes(path)
    if data.startswith(b"PK\x03\x04") or tables.is_xlsx(path):
        rows = tables.xlsx_rows(data, name)
        found = _table_kind(rows[0] if rows else None, name)
        assert found is not None  # without allow_unknown, an unknown header raises
        return found
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        # Which JSON file it is comes from its "format": a file that is not
        # JSON (cut off, say) is reported as such, whichever command reads it.
        doc = load_json(decode_json_bytes(data, name).lstrip("\ufeff"), name)
        fmt = doc.get("format") if isinstance(doc, dict) else None
        return _JSON_KINDS.get(fmt, "kinship-json") if isinstance(fmt, str) else "kinship-json"
    if head.startswith(b'"'):
        return "familias"
    text = tables.decode_text(data, name)
    lines = [ln for ln in tables.split_lines(text)
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise tables.error("the file is empty", name, 1)
    fields = [ln.split() for ln in lines[:50]]
    if all(len(f) == 6 for f in fields) and all(f[4] in _SEX_CODES for f in fields):
        return "plink-fam" if Path(name).suffix.lower() == ".fam" else "ped"
    rows = tables.text_rows(lines[0], name)
    header = rows[0] if rows else None
    if header is not None and len(header.cells) == 1 and " " in header.cells[0]:
        header = tables.Row(header.line, tuple(header.cells[0].split()))
    kind = _table_kind(header, name, allow_unknown=True)
    if kind is not None:
        return kind
    if sniff_frequency_format(data, name) == "familias" and len(lines) > 1:
        second = lines[1].replace(",", ".").split()
        if len(second) == 2 and tables.parse_number(second[1]) is not None:
            return "frequencies"
    if Path(name).suffix.lower() in (".ped", ".pfam"):
        return "ped"
    raise tables.error(
        "cannot tell what this file holds; expected " + ", ".join(INPUT_KINDS.values()), name, 1)


def _table_kind(header: tables.Row | None, name: str,
                allow_unknown: bool = False) -> InputKind | None:
    if header is not None:
        keys = [tables.header_key(c) for c in header.cells]
        if is_long_genotype_header(header):
            return "genotypes"
        if long_columns(header) is not None or (keys and keys[0] in ("allele", "alleles")):
            return "frequencies"
        if keys and keys[0] in _SAMPLE_TITLES:
            return "genotypes"
        if sum(k in _PED_TITLES for k in keys) >= 3 and ("sex" in keys or "gender" in keys):
            return "ped"
        if keys and keys[0] in ("id", "name", "individual", "person") and len(keys) > 1:
            return "genotypes"
    if allow_unknown:
        return None
    raise tables.error("cannot tell whether this workbook holds genotypes or allele "
                        "frequencies from its header", name, 1)
