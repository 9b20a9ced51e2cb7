"""kinmatch's own JSON case format, version 1.

A kinship case file holds the markers (alleles, frequencies, mutation
models), the typed people's profiles, and two or more hypotheses: pedigrees
given person by person, or named relationships between two people. The
format is documented in ``docs/case-format.md``; an example::

    {
      "format": "kinmatch-case",
      "version": 1,
      "title": "Paternity: is A the father of B?",
      "theta": 0.0,
      "markers": [
        {"name": "D3S1358", "chromosome": "autosomal",
         "alleles": ["14", "15", "16"], "frequencies": [0.2, 0.5, 0.3],
         "mutation": {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}}
      ],
      "profiles": {"A": {"D3S1358": ["14", "15"]}, "B": {"D3S1358": ["15", "16"]}},
      "hypotheses": [
        {"name": "paternity", "relationship": "parent_child", "between": ["A", "B"],
         "sexes": {"A": "male", "B": "male"}},
        {"name": "unrelated", "pedigree": [
           {"id": "A", "sex": "male"}, {"id": "B", "sex": "male"}]}
      ],
      "reference": "unrelated"
    }

Every error names the file, the line and column, and the field (as a JSON
pointer such as ``/markers/2/frequencies``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import json_source_map

from ..alleles import canonical_allele
from ..errors import CaseFormatError, KinmatchError, Location
from ..kinship import Hypothesis, check_hypotheses
from ..markers import DEFAULT_MINIMUM_FREQUENCY, Marker
from ..pedigree import Individual, Pedigree, Sex, parent_id
from ..relationships import relationship_pedigree

FORMAT_NAME = "kinmatch-case"
FORMAT_VERSION = 1

T = TypeVar("T")


@dataclass
class KinshipCase:
    """Everything a kinship LR computation needs."""

    markers: list[Marker]
    profiles: dict[str, dict[str, tuple[str, str]]]
    hypotheses: list[Hypothesis]
    reference: str | None = None
    theta: float = 0.0
    title: str = ""
    minimum_frequency: float = DEFAULT_MINIMUM_FREQUENCY
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _Reader:
    """Walks the parsed JSON and turns every problem into a located error."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        try:
            self.data = json.loads(text)
        except json.JSONDecodeError as err:
            raise CaseFormatError(
                f"not valid JSON: {err.msg}",
                Location(filename, err.lineno, err.colno),
            ) from None
        try:
            self.positions = json_source_map.calculate(text)
        except Exception:  # noqa: BLE001 - positions are a convenience only
            self.positions = {}

    def error(self, pointer: str, message: str) -> CaseFormatError:
        entry = self.positions.get(pointer)
        line = column = None
        if entry is not None:
            loc = entry.key_start or entry.value_start
            line, column = loc.line + 1, loc.column + 1
        return CaseFormatError(message, Location(self.filename, line, column, pointer or "/"))

    def wrap(self, pointer: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` and re-raise a KinmatchError located at ``pointer``."""
        try:
            return fn()
        except CaseFormatError:
            raise
        except KinmatchError as err:
            raise self.error(pointer, err.message) from None

    def field(self, obj: Mapping[str, Any], key: str, pointer: str, kind: type | tuple[type, ...],
              required: bool = True, default: Any = None) -> Any:
        if key not in obj:
            if required:
                raise self.error(pointer, f"missing required field '{key}'")
            return default
        value = obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            expected = " or ".join(_TYPE_WORDS.get(k, k.__name__) for k in kinds)
            raise self.error(f"{pointer}/{key}", f"expected {expected}, found {_describe(value)}")
        return value


_TYPE_WORDS = {dict: "an object", list: "a list", str: "text", float: "a number",
               int: "a number", bool: "true or false"}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text '{value}'"
    return f"{value!r}"


def _pointer_key(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def read_case(path: str | Path) -> KinshipCase:
    """Read a kinship case from a kinmatch JSON case file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseFormatError("file not found", Location(str(p))) from None
    except UnicodeDecodeError as err:
        raise CaseFormatError(f"not UTF-8 text ({err.reason} at byte {err.start})",
                              Location(str(p))) from None
    except OSError as err:
        raise CaseFormatError(f"cannot read file: {err.strerror}", Location(str(p))) from None
    return parse_case(text, str(p))


def parse_case(text: str, filename: str = "<case>") -> KinshipCase:
    """Parse the text of a kinmatch JSON case file."""
    r = _Reader(text, filename)
    root = r.data
    if not isinstance(root, dict):
        raise r.error("", f"a case file is a JSON object, not {_describe(root)}")
    fmt = r.field(root, "format", "", str)
    if fmt != FORMAT_NAME:
        raise r.error("/format", f"expected \"{FORMAT_NAME}\", found '{fmt}'")
    version = r.field(root, "version", "", int)
    if version != FORMAT_VERSION:
        raise r.error("/version", f"this kinmatch reads version {FORMAT_VERSION}, not {version}")
    known = {"format", "version", "title", "theta", "markers", "profiles", "hypotheses",
             "reference", "options", "description"}
    for key in root:
        if key not in known:
            raise r.error(f"/{_pointer_key(key)}", f"unknown field '{key}' (expected one of {', '.join(sorted(known))})")

    title = r.field(root, "title", "", str, required=False, default="")
    theta = float(r.field(root, "theta", "", (int, float), required=False, default=0.0))
    if not 0 <= theta < 1:
        raise r.error("/theta", f"theta must be in [0, 1), not {theta}")
    options = r.field(root, "options", "", dict, required=False, default={})
    min_freq = float(r.field(options, "minimum_frequency", "/options", (int, float),
                             required=False, default=DEFAULT_MINIMUM_FREQUENCY))
    if not 0 < min_freq < 1:
        raise r.error("/options/minimum_frequency", f"must be in (0, 1), not {min_freq}")
    normalise = r.field(options, "normalise_frequencies", "/options", bool, required=False,
                        default=False)

    markers = _read_markers(r, r.field(root, "markers", "", list), normalise)
    profiles = _read_profiles(r, r.field(root, "profiles", "", dict), {m.name: m for m in markers})
    hyps = r.field(root, "hypotheses", "", list)
    if len(hyps) < 2:
        raise r.error("/hypotheses", "a kinship case needs at least two hypotheses")
    hypotheses: list[Hypothesis] = []
    for i, h in enumerate(hyps):
        hypotheses.append(_read_hypothesis(r, h, f"/hypotheses/{i}", profiles))
    names = [h.name for h in hypotheses]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise r.error(f"/hypotheses/{i}/name", f"hypothesis name '{name}' is used twice")
    reference = r.field(root, "reference", "", str, required=False)
    if reference is not None and reference not in names:
        raise r.error("/reference", f"'{reference}' is not one of the hypotheses ({', '.join(names)})")
    typed = [pid for pid, prof in profiles.items() if prof]
    for i, h in enumerate(hypotheses):
        for pid in typed:
            if pid not in h.pedigree:
                raise r.error(f"/hypotheses/{i}",
                              f"typed person '{pid}' is missing from hypothesis '{h.name}'")
    r.wrap("/hypotheses", lambda: check_hypotheses(hypotheses, typed))
    _check_x_profiles(r, markers, profiles, hypotheses)
    return KinshipCase(markers, profiles, hypotheses, reference, theta, title, min_freq, filename)


def _read_markers(r: _Reader, items: list[Any], normalise: bool) -> list[Marker]:
    if not items:
        raise r.error("/markers", "a case needs at least one marker")
    markers: list[Marker] = []
    names: set[str] = set()
    allowed = {"name", "chromosome", "alleles", "frequencies", "mutation", "rest_allele"}
    for i, item in enumerate(items):
        ptr = f"/markers/{i}"
        if not isinstance(item, dict):
            raise r.error(ptr, f"a marker is an object, not {_describe(item)}")
        for key in item:
            if key not in allowed:
                raise r.error(f"{ptr}/{_pointer_key(key)}", f"unknown marker field '{key}'")
        name = r.field(item, "name", ptr, str)
        if name in names:
            raise r.error(f"{ptr}/name", f"marker '{name}' is defined twice")
        names.add(name)
        chrom = r.field(item, "chromosome", ptr, str, required=False, default="autosomal")
        alleles = r.field(item, "alleles", ptr, list)
        for j, a in enumerate(alleles):
            if not isinstance(a, (str, int, float)) or isinstance(a, bool):
                raise r.error(f"{ptr}/alleles/{j}", f"an allele name is text, not {_describe(a)}")
        freqs = r.field(item, "frequencies", ptr, list)
        for j, f in enumerate(freqs):
            if not isinstance(f, (int, float)) or isinstance(f, bool):
                raise r.error(f"{ptr}/frequencies/{j}", f"expected a number, found {_describe(f)}")
        mutation = r.field(item, "mutation", ptr, dict, required=False)
        rest = r.field(item, "rest_allele", ptr, str, required=False)
        markers.append(r.wrap(ptr, lambda: Marker.create(
            name, alleles, freqs, chromosome=chrom, mutation=mutation,
            normalise=normalise, rest_allele=rest)))
    return markers


def _read_profiles(r: _Reader, items: dict[str, Any], markers: Mapping[str, Marker]
                   ) -> dict[str, dict[str, tuple[str, str]]]:
    profiles: dict[str, dict[str, tuple[str, str]]] = {}
    for pid, prof in items.items():
        ptr = f"/profiles/{_pointer_key(pid)}"
        if not isinstance(prof, dict):
            raise r.error(ptr, f"a profile maps marker names to genotypes, not {_describe(prof)}")
        out: dict[str, tuple[str, str]] = {}
        for mname, geno in prof.items():
            gptr = f"{ptr}/{_pointer_key(mname)}"
            if mname not in markers:
                raise r.error(gptr, f"marker '{mname}' is not defined in /markers")
            if geno is None or geno in ("-", "", ["-", "-"]):
                continue  # untyped at this marker
            if isinstance(geno, str):
                parts = [a.strip() for a in geno.replace(",", "/").split("/")]
            elif isinstance(geno, list):
                parts = geno
            else:
                raise r.error(gptr, f"a genotype is [\"a\", \"b\"] or \"a/b\", not {_describe(geno)}")
            if len(parts) == 1:
                parts = parts * 2
            if len(parts) != 2:
                raise r.error(gptr, f"a genotype has two alleles, found {len(parts)}")
            labels = []
            for a in parts:
                if not isinstance(a, (str, int, float)) or isinstance(a, bool):
                    raise r.error(gptr, f"an allele name is text, not {_describe(a)}")
                labels.append(a)
            canon = r.wrap(gptr, lambda: tuple(canonical_allele(a) for a in labels))
            out[mname] = (canon[0], canon[1])
        profiles[pid] = out
    return profiles


def _read_hypothesis(r: _Reader, h: Any, ptr: str, profiles: Mapping[str, Any]) -> Hypothesis:
    if not isinstance(h, dict):
        raise r.error(ptr, f"a hypothesis is an object, not {_describe(h)}")
    name = r.field(h, "name", ptr, str)
    description = r.field(h, "description", ptr, str, required=False, default="")
    has_ped, has_rel = "pedigree" in h, "relationship" in h
    if has_ped == has_rel:
        raise r.error(ptr, "a hypothesis gives either 'pedigree' or 'relationship' (exactly one)")
    if has_ped:
        records = r.field(h, "pedigree", ptr, list)
        people = []
        for j, rec in enumerate(records):
            pptr = f"{ptr}/pedigree/{j}"
            if not isinstance(rec, dict):
                raise r.error(pptr, f"a person is an object, not {_describe(rec)}")
            for key in rec:
                if key not in ("id", "sex", "father", "mother", "fid", "mid"):
                    raise r.error(f"{pptr}/{_pointer_key(key)}", f"unknown person field '{key}'")
            pid = r.field(rec, "id", pptr, (str, int))
            sex = r.wrap(f"{pptr}/sex", lambda: Sex.parse(rec.get("sex", 0)))
            father = parent_id(rec.get("father", rec.get("fid")))
            mother = parent_id(rec.get("mother", rec.get("mid")))
            people.append(Individual(str(pid), sex, father, mother))
        inbreeding = r.field(h, "founder_inbreeding", ptr, dict, required=False, default={})
        pedigree = r.wrap(f"{ptr}/pedigree", lambda: Pedigree(people, inbreeding))
    else:
        rel = r.field(h, "relationship", ptr, str)
        between = r.field(h, "between", ptr, list)
        if len(between) != 2 or not all(isinstance(x, str) for x in between):
            raise r.error(f"{ptr}/between", "expected the ids of two people, e.g. [\"A\", \"B\"]")
        sexes = r.field(h, "sexes", ptr, dict, required=False, default={})
        sex_a = r.wrap(f"{ptr}/sexes", lambda: Sex.parse(sexes.get(between[0], 1)))
        sex_b = r.wrap(f"{ptr}/sexes", lambda: Sex.parse(sexes.get(between[1], 1)))
        pedigree = r.wrap(f"{ptr}/relationship",
                          lambda: relationship_pedigree(rel, between[0], between[1], sex_a, sex_b))
        description = description or f"{rel.replace('_', ' ')}: {between[0]}, {between[1]}"
    return Hypothesis(name, pedigree, description)


def _check_x_profiles(r: _Reader, markers: list[Marker],
                      profiles: Mapping[str, Mapping[str, tuple[str, str]]],
                      hypotheses: list[Hypothesis]) -> None:
    """Males are hemizygous at X markers; people typed there need a known sex."""
    x_markers = {m.name for m in markers if m.is_x}
    if not x_markers:
        return
    for pid, prof in profiles.items():
        sexes = {h.pedigree.sex(pid) for h in hypotheses if pid in h.pedigree}
        for mname, (a, b) in prof.items():
            if mname not in x_markers:
                continue
            ptr = f"/profiles/{_pointer_key(pid)}/{_pointer_key(mname)}"
            if Sex.MALE in sexes and a != b:
                raise r.error(ptr, f"'{pid}' is male but heterozygous ({a}/{b}) at X-linked "
                                   f"marker {mname}; a male has one X allele")
            if sexes <= {Sex.UNKNOWN}:
                raise r.error(ptr, f"'{pid}' is typed at X-linked marker {mname} but has "
                                   "unknown sex in every hypothesis")


def case_to_dict(case: KinshipCase) -> dict[str, Any]:
    """The case as a version-1 JSON document (pedigrees written person by person)."""
    markers = []
    for m in case.markers:
        entry: dict[str, Any] = {
            "name": m.name,
            "chromosome": m.chromosome,
            "alleles": list(m.alleles),
            "frequencies": [float(f) for f in m.allele_frequencies],
        }
        if m.mutation_spec is not None:
            entry["mutation"] = dict(m.mutation_spec)
        markers.append(entry)
    hypotheses = []
    for h in case.hypotheses:
        entry = {
            "name": h.name,
            "pedigree": [
                {"id": p.id, "sex": int(p.sex), "father": p.father or "0", "mother": p.mother or "0"}
                for p in h.pedigree
            ],
        }
        if h.description:
            entry["description"] = h.description
        if h.pedigree.founder_inbreeding:
            entry["founder_inbreeding"] = dict(h.pedigree.founder_inbreeding)
        hypotheses.append(entry)
    out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if case.title:
        out["title"] = case.title
    out["theta"] = case.theta
    out["markers"] = markers
    out["profiles"] = {pid: {k: list(g) for k, g in prof.items()} for pid, prof in case.profiles.items()}
    out["hypotheses"] = hypotheses
    if case.reference is not None:
        out["reference"] = case.reference
    if not math.isclose(case.minimum_frequency, DEFAULT_MINIMUM_FREQUENCY):
        out["options"] = {"minimum_frequency": case.minimum_frequency}
    return out


def write_case(case: KinshipCase, path: str | Path) -> None:
    Path(path).write_text(json.dumps(case_to_dict(case), indent=2) + "\n", encoding="utf-8")
