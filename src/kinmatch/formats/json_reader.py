"""Reading kinmatch's JSON files: every problem becomes a located error.

:func:`load_json` parses the text (a syntax error, a key given twice in one
object, nesting too deep or a number too long for Python are refused with
the line and column); :class:`JsonReader` holds the parsed document with the
positions of its fields, checks it against a shipped schema and reports
problems where they are in the file.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import json_source_map

from kinmatch.errors import CaseFormatError, KinmatchError, Location
from kinmatch.schemas import fast_validator, validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

T = TypeVar("T")


class JsonReader:
    """A parsed JSON document that turns every problem into a located error.

    ``positions`` maps JSON pointers to where their keys and values start in
    the text, so an error at ``/markers/1/frequencies`` names its line and
    column.
    """

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        if text.startswith("\ufeff"):
            text = text[1:]
        self.data = load_json(text, filename)
        self._text = text

    @cached_property
    def positions(self) -> dict[str, Any]:
        """Where each JSON pointer's key and value start, computed when an
        error first needs a line (a large case is read without it)."""
        try:
            return json_source_map.calculate(self._text)
        except Exception:  # positions are a convenience only
            return {}

    def position(self, pointer: str) -> tuple[int | None, int | None]:
        """The 1-based line and column of ``pointer`` (its key if it has one), if known."""
        entry = self.positions.get(pointer)
        if entry is None:
            return None, None
        loc = entry.key_start or entry.value_start
        return loc.line + 1, loc.column + 1

    def error(self, pointer: str, message: str) -> CaseFormatError:
        """A :class:`CaseFormatError` at ``pointer``; an unknown pointer is
        located at its nearest known parent."""
        probe = pointer
        line = column = None
        while True:
            line, column = self.position(probe)
            if line is not None or not probe:
                break
            probe = probe.rsplit("/", 1)[0]
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
        """``obj[key]``, checked to be of ``kind``; ``default`` when absent and not required."""
        if key not in obj:
            if required:
                stray = misspelt(key, obj)
                if stray is not None:
                    raise self.error(f"{pointer}/{pointer_key(stray)}",
                                     f"unknown field '{stray}': did you mean '{key}'? (a "
                                     "required field)")
                raise self.error(pointer, f"missing required field '{key}'")
            return default
        value = obj[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            expected = " or ".join(_TYPE_WORDS.get(k, k.__name__) for k in kinds)
            raise self.error(f"{pointer}/{pointer_key(key)}",
                             f"expected {expected}, found {describe(value)}")
        return value

    def check_header(self, format_name: str) -> dict[str, Any]:
        """The root object, after checking its ``format`` and ``version``.

        Done before the schema so that another kind of kinmatch file, or a
        file from a later kinmatch, gets a plain explanation.
        """
        root = self.data
        what = JSON_FORMATS[format_name]
        if not isinstance(root, dict):
            raise self.error("", f"{what} file is a JSON object, not {describe(root)}")
        if "format" not in root:
            stray = misspelt("format", root)
            if stray is not None:
                raise self.error(f"/{pointer_key(stray)}", f"unknown field '{stray}': did you "
                                                           "mean 'format'? (a required field)")
            raise self.error("", f"missing required field 'format' (\"{format_name}\" for "
                                 f"{what})")
        fmt = root["format"]
        if fmt != format_name:
            if isinstance(fmt, str) and fmt in JSON_FORMATS:
                raise self.error("/format", f"this file holds {JSON_FORMATS[fmt]} "
                                            f"(\"{fmt}\"), not {what} (\"{format_name}\")")
            raise self.error("/format", f"expected \"{format_name}\", found {describe(fmt)}")
        version = root.get("version", FORMAT_VERSION)
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise self.error("/version", f"this file is version {version} of the format; this "
                                         f"kinmatch reads version {FORMAT_VERSION}: "
                                         "update kinmatch")
        return root

    def validate(self, schema: str) -> None:
        """Check the document against a shipped schema; the first problem in
        the file becomes a located :class:`CaseFormatError`. A compiled
        validator says whether there is a problem; the pure-Python one, whose
        errors the messages are worded from, runs only when there is."""
        if fast_validator(schema).is_valid(self.data):
            return
        errors = list(validator(schema).iter_errors(self.data))
        if not errors:
            return
        # The problem that comes first in the file; at one place, the first
        # the schema states (its keywords are written in a deliberate order).
        best: tuple[tuple[int, int, int], str, str] | None = None
        for index, err in enumerate(errors):
            pointer, message = schema_error(err)
            line, column = self.position(pointer)
            key = (line if line is not None else 1 << 30, column or 0, index)
            if best is None or key < best[0]:
                best = (key, pointer, message)
        assert best is not None
        _, pointer, message = best
        raise self.error(pointer, message)


_TYPE_WORDS: dict[Any, str] = {
    dict: "an object", list: "a list", str: "text", float: "a number", int: "a number",
    bool: "true or false", "object": "an object", "array": "a list", "string": "text",
    "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "null": "null",
}


def describe(value: Any) -> str:
    """A JSON value described for an error message: ``text 'x'``, ``a list``, ``1.5``..."""
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


def pointer_key(key: str) -> str:
    """A key escaped for a JSON pointer (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def json_pointer(path: Iterable[Any]) -> str:
    """The JSON pointer of a path of keys and indices (``""`` for the root)."""
    return "".join(f"/{pointer_key(str(p))}" for p in path)


def schema_error(err: ValidationError) -> tuple[str, str]:
    """A ``jsonschema`` validation error as (JSON pointer, message for people).

    Messages follow the project's wording (``expected a number, found text
    'x'``, ``unknown field 'y'``); a subschema's ``x-kinmatch-error``
    annotation (text, or text per keyword) overrides the generic wording.
    ``{found}``, ``{value}`` and ``{expected}`` in it are filled in.
    """
    pointer = json_pointer(err.absolute_path)
    # arbitrary JSON (never jsonschema's Unset in an error that iter_errors yields)
    instance: Any = err.instance
    keyword = err.validator
    value: Any = err.validator_value
    schema = err.schema if isinstance(err.schema, dict) else {}
    expected = ""
    if keyword == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        name = missing[0] if missing else value[0]
        message = f"missing required field '{name}'"
        stray = (misspelt(name, instance, schema["properties"])
                 if isinstance(instance, dict) and isinstance(schema.get("properties"), dict)
                 else None)
        if stray is not None:
            pointer = f"{pointer}/{pointer_key(stray)}"
            message = f"unknown field '{stray}': did you mean '{name}'? (a required field)"
    elif keyword in ("additionalProperties", "unevaluatedProperties"):
        known = sorted(schema.get("properties", {}))
        extra = [k for k in instance if k not in known] if isinstance(instance, dict) else []
        if extra:
            pointer = f"{pointer}/{pointer_key(extra[0])}"
            message = unknown_field(extra[0], known)
        else:
            message = err.message
    elif keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        message = (f"expected {' or '.join(str(_TYPE_WORDS.get(k, k)) for k in kinds)}, "
                   f"found {describe(instance)}")
    elif keyword == "const":
        message = f"expected {json.dumps(value)}, found {describe(instance)}"
    elif keyword == "enum":
        expected = ", ".join(str(v) if not isinstance(v, str) else v for v in value)
        message = f"expected one of {expected}, found {describe(instance)}"
    elif keyword in _BOUNDS:
        message = f"expected a number {_BOUNDS[keyword]} {value}, found {describe(instance)}"
    elif keyword == "minItems":
        message = (f"expected at least {value} item{'s' if value != 1 else ''}, "
                   f"found {len(instance)}")
    elif keyword == "maxItems":
        message = f"expected at most {value} item{'s' if value != 1 else ''}, found {len(instance)}"
    elif keyword == "minLength":
        message = "expected non-empty text"
    elif keyword == "dependentRequired":
        need = [(k, d) for k, deps in value.items() if k in instance for d in deps
                if d not in instance]
        message = (f"missing required field '{need[0][1]}' (needed with '{need[0][0]}')"
                   if need else err.message)
    else:
        message = err.message
    custom = schema.get("x-kinmatch-error")
    if isinstance(custom, dict):
        custom = custom.get(keyword)
    if isinstance(custom, str):
        shown = instance if not isinstance(instance, (dict, list)) else describe(instance)
        found = (f"a list of {len(instance)} item{'s' if len(instance) != 1 else ''}"
                 if isinstance(instance, list) else describe(instance))
        message = custom.format(found=found, value=shown, expected=expected)
    return pointer, message


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate that ``name`` most likely misspells, if one is close."""
    found = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.75)
    return found[0] if found else None


def misspelt(name: str, obj: Mapping[str, Any], known: Iterable[str] = ()) -> str | None:
    """The key of ``obj`` that is most likely a misspelling of the missing
    field ``name`` (keys in ``known``, the valid fields, are not)."""
    valid = set(known) | {name}
    return closest(name, [k for k in obj if k not in valid])


def unknown_field(name: str, known: Iterable[str]) -> str:
    """The message for an unknown field: the valid ones, and the closest of them."""
    known = sorted(known)
    message = f"unknown field '{name}' (expected one of {', '.join(known)})"
    guess = closest(name, known)
    return f"{message}; did you mean '{guess}'?" if guess is not None else message


_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
           "exclusiveMaximum": "<"}


def load_json(text: str, filename: str) -> Any:
    """The JSON value in ``text``; every problem a :class:`CaseFormatError`
    with the line and column: a syntax error (a file cut off says so), a key
    given twice in one object (JSON readers differ on which one counts, so
    it is refused), nesting too deep to read, an integer with more digits
    than Python converts, or a number that is not finite (``NaN``,
    ``Infinity``, ``1e999``: not JSON, and no probability or rate)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys,
                          parse_constant=_not_finite, parse_float=_finite_float)
    except _NotFinite as bad:
        at = _token_position(text, bad.token)
        raise CaseFormatError(f"the number '{bad.token}' is not finite: JSON has no NaN or "
                              "infinity, and no probability or rate can be one",
                              _location(text, filename, at)) from None
    except json.JSONDecodeError as err:
        message = f"not valid JSON: {err.msg}"
        unclosed = err.msg.startswith("Unterminated string") and '"' not in text[err.pos + 1:]
        if unclosed or not text[err.pos:].strip():
            message += " (the text ends here: is the file cut off?)"
        raise CaseFormatError(message, Location(filename, err.lineno, err.colno)) from None
    except _DuplicateKey as dup:
        at = _duplicate_position(text)
        raise CaseFormatError(f"the field '{dup.key}' is given twice in the same object; give "
                              "it once", _location(text, filename, at)) from None
    except RecursionError:
        raise CaseFormatError("not valid JSON: nested too deeply to read",
                              _location(text, filename, _deepest(text))) from None
    except ValueError as err:  # an integer longer than Python converts
        digits = _long_integer(text)
        if digits is None:
            raise CaseFormatError(f"not valid JSON: {err}", Location(filename)) from None
        start, end = digits
        raise CaseFormatError(f"a number with {end - start} digits is too long to read",
                              _location(text, filename, start)) from None


class _NotFinite(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _not_finite(token: str) -> float:
    raise _NotFinite(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotFinite(token)
    return value


def _token_position(text: str, token: str) -> int | None:
    """Where ``token`` first stands as a JSON value (after ``:``, ``[`` or ``,``)."""
    found = re.search(r"[:\[,]\s*(" + re.escape(token) + r")(?=\s*[,\]}])", text)
    return found.start(1) if found else None


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.start: int | None = None  # where the object's members start


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


# The pure-Python decoder's parts (not in the type stubs).
_JSON_OBJECT: Any = vars(json.decoder)["JSONObject"]
_WHITESPACE: Any = vars(json.decoder)["WHITESPACE"]
_SCANSTRING: Any = vars(json.decoder)["scanstring"]


def _duplicate_position(text: str) -> int | None:
    """Where the first key given twice in one object is given again (only
    when reporting one: the pure-Python scanner says where objects start)."""
    decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> Any:
        try:
            return _JSON_OBJECT(s_and_end, *args)
        except _DuplicateKey as dup:
            if dup.start is None:
                dup.start = s_and_end[1]
            raise

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
        return None
    except _DuplicateKey as dup:
        start = dup.start
    except (ValueError, RecursionError):
        return None
    if start is None:
        return None
    plain = json.JSONDecoder()
    space = _WHITESPACE
    seen: set[str] = set()
    try:
        pos = space.match(text, start).end()
        while text.startswith('"', pos):
            key, end = _SCANSTRING(text, pos + 1)
            if key in seen:
                return pos
            seen.add(key)
            pos = space.match(text, space.match(text, end).end() + 1).end()  # past ':'
            _, pos = plain.raw_decode(text, pos)
            pos = space.match(text, pos).end()
            if text.startswith(",", pos):
                pos = space.match(text, pos + 1).end()
    except (ValueError, RecursionError):
        return None
    return None


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deepest(text: str) -> int | None:
    """Where the nesting of lists and objects first reaches its greatest depth."""
    depth = best = 0
    at = None
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > best:
                best, at = depth, m.start()
        elif token in "]}":
            depth -= 1
    return at


def _long_integer(text: str) -> tuple[int, int] | None:
    """The span of the first integer outside strings with more digits than
    Python converts to a number."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    pattern = re.compile(r'"(?:[^"\\]|\\.)*"|\d{' + str(limit + 1) + r',}(?![\d.eE])')
    for m in pattern.finditer(text):
        if not m.group().startswith('"'):
            return m.span()
    return None


def _location(text: str, filename: str, pos: int | None) -> Location:
    """The 1-based line and column of character ``pos`` in ``text``."""
    if pos is None:
        return Location(filename)
    line = text.count("\n", 0, pos) + 1
    return Location(filename, line, pos - text.rfind("\n", 0, pos))


def read_json_text(path: str | Path) -> str:
    """The text of a JSON file (UTF-8, with or without a byte-order mark)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise CaseFormatError("file not found", Location(str(p))) from None
    except IsADirectoryError:
        raise CaseFormatError("is a folder, not a file", Location(str(p))) from None
    except OSError as err:
        raise CaseFormatError(f"cannot read file: {err.strerror}", Location(str(p))) from None
    return decode_json_bytes(data, str(p))


def decode_json_bytes(data: bytes | str, filename: str) -> str:
    """JSON text from a file's bytes: UTF-8, with or without a byte-order mark."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise CaseFormatError(f"not UTF-8 text ({err.reason} at byte {err.start})",
                              Location(filename, line)) from None


def plain_json(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, tuples and mappings made plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    if hasattr(value, "tolist"):
        return plain_json(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def dump_json(doc: Mapping[str, Any]) -> str:
    """A document as kinmatch writes it: indented, UTF-8 names kept, a final newline."""
    try:
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        raise KinmatchError("cannot write a number that is not finite (NaN or infinity) "
                            "in a JSON case file") from None


#: The version of kinmatch's JSON formats that this kinmatch reads and writes.
FORMAT_VERSION = 1


#: The ``format`` values of kinmatch's JSON files and what each holds.
JSON_FORMATS: dict[str, str] = {
    "kinmatch-case": "a kinship case",
    "kinmatch-dvi-case": "a DVI case",
    "kinmatch-hypotheses": "a hypotheses file",
}


