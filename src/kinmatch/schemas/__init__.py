"""The JSON Schemas (draft 2020-12) of kinmatch's JSON files, shipped with the package.

* ``kinship-case.schema.json`` — a kinship case (``"format": "kinmatch-case"``);
* ``dvi-case.schema.json`` — a DVI case (``"format": "kinmatch-dvi-case"``);
* ``hypotheses.schema.json`` — hypotheses on their own (``"format": "kinmatch-hypotheses"``).

The DVI and hypotheses schemas refer to the kinship schema's ``$defs`` by
relative reference (``kinship-case.schema.json#/$defs/marker``), so keep the
files together when publishing them. Keys beginning with ``x-kinmatch-`` are
annotations that word kinmatch's error messages; validators ignore them.

>>> schema = load_schema("kinship-case")
>>> schema["properties"]["format"]["const"]
'kinmatch-case'
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

#: The schemas shipped, by short name.
SCHEMA_NAMES: tuple[str, ...] = ("kinship-case", "dvi-case", "hypotheses")


def schema_filename(name: str) -> str:
    """The file name of a schema: ``"kinship-case"`` → ``"kinship-case.schema.json"``."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema '{name}' (have {', '.join(SCHEMA_NAMES)})")
    return f"{name}.schema.json"


def schema_text(name: str) -> str:
    """The text of a shipped schema, as published."""
    return resources.files(__name__).joinpath(schema_filename(name)).read_text(encoding="utf-8")


@cache
def _schema(name: str) -> str:
    return schema_text(name)


def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema as a fresh dict (``name`` is one of :data:`SCHEMA_NAMES`)."""
    result: dict[str, Any] = json.loads(_schema(name))
    return result


#: The base URI the shipped schemas are resolved against (never fetched: the
#: relative ``$ref`` s name sibling files, which :func:`fast_validator` reads
#: from the package).
_BASE_URI = "https://kinmatch.invalid/schemas/"


def _shipped_schema(uri: str) -> dict[str, Any]:
    name = uri.rsplit("/", 1)[-1].removesuffix(".schema.json")
    if not uri.startswith(_BASE_URI) or name not in SCHEMA_NAMES:
        raise ValueError(f"schema reference outside kinmatch's schemas: {uri}")
    return load_schema(name)


@cache
def fast_validator(name: str) -> jsonschema_rs.Validator:
    """A compiled (Rust) draft 2020-12 validator for a shipped schema: it says
    whether a document is valid about a thousand times faster than
    :func:`validator` (2 ms against 2.4 s for the Chōsei case); the readers
    ask :func:`validator` for the located error only when it says no."""
    return jsonschema_rs.Draft202012Validator(
        load_schema(name), retriever=_shipped_schema,
        base_uri=_BASE_URI + schema_filename(name))


@cache
def validator(name: str) -> Draft202012Validator:
    """A ``jsonschema`` Draft 2020-12 validator for a shipped schema, with the
    other shipped schemas registered so that relative ``$ref`` s resolve."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (schema_filename(n), Resource.from_contents(load_schema(n))) for n in SCHEMA_NAMES
    )
    return Draft202012Validator(load_schema(name), registry=registry)


__all__ = ["SCHEMA_NAMES", "fast_validator", "load_schema", "schema_filename", "schema_text",
           "validator"]
