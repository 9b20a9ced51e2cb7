"""Fixtures shared by the test modules; plain helpers are in support.py.

The test modules import the helper modules of this folder (support,
reference_cases, dvir_cases, enumeration) by name: pytest puts this folder on
``sys.path`` (rootdir-based ``prepend`` import mode, no ``__init__.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from databases import REQUIRE_ENV, PostgresUnavailable, fresh_database, postgres_server
from dvir_cases import SHARED_ABSENT, dvir_case_path, load_dvir_case
from reference_cases import load_reference
from support import SHARED_REFERENCE

from kinmatch.dvi.case import DVICase
from kinmatch.storage.database import Database


def pytest_report_header(config: pytest.Config) -> str:
    state = "present" if SHARED_REFERENCE.is_dir() else "absent: the tests that need it are skipped"
    return f"shared reference data (../shared/reference): {SHARED_REFERENCE} ({state})"


@pytest.fixture(scope="session")
def pedsuite_cases() -> dict[str, dict[str, Any]]:
    """The R pedsuite's kinship cases (tests/data/kinship_cases.json) by id."""
    return {case["id"]: case for case in load_reference()}


@pytest.fixture
def dvir_dataset() -> Callable[[str], tuple[DVICase, dict[str, Any]]]:
    """Load a dvir reference case by file name (``"dvi_planecrash.json"``):
    the case and dvir's document; skips the test when it is absent (dvir's
    own datasets are read from ../shared/reference/dvir)."""
    def load(name: str) -> tuple[DVICase, dict[str, Any]]:
        path = dvir_case_path(name)
        if path is None:
            pytest.skip(f"{name}: {SHARED_ABSENT}")
        return load_dvir_case(path)
    return load



@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the tests (tests/databases.py says which)."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but {exc}")
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database upgraded to the current schema: every test that
    takes it runs twice, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database.open(data_folder=tmp_path / "data", check_schema=False)
        db.upgrade()
        yield db
        db.dispose()
        return
    server = request.getfixturevalue("postgres_url")
    with fresh_database(server) as url:
        db = Database.open(url, data_folder=tmp_path / "data", check_schema=False)
        db.upgrade()
        yield db
        db.dispose()
