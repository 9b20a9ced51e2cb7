"""The documentation, checked: the worked examples of docs/api.md run as
doctests from the repository's root; the service's page (docs/service.md)
names only endpoints the service has, every endpoint of the case, and its
way to make the first administrator works."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kinmatch.service.app import create_app
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", ["docs/api.md"])
def test_documented_examples_run(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(
        str(ROOT / page), module_relative=False, verbose=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 20
    assert failures == 0


SERVICE = ROOT / "docs" / "service.md"
ENDPOINT = re.compile(r"`(GET|POST|PUT|DELETE|PATCH) (/api/[^`?\s]*)")


def endpoint_shape(path: str) -> str:
    """A path with its parameters' names left out (the page names them for readers)."""
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.fixture(scope="module")
def service_openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("service-docs")
    db = Database.open(data_folder=folder, check_schema=False)
    db.upgrade()
    with TestClient(create_app(db, Keyring.generate(), run_jobs=False)) as client:
        spec: dict[str, Any] = client.get("/api/openapi.json").json()
    db.dispose()
    return spec


def test_the_documented_endpoints_are_the_services(service_openapi: dict[str, Any]) -> None:
    documented = {(m, endpoint_shape(p)) for m, p in ENDPOINT.findall(SERVICE.read_text())}
    operations = {(m.upper(), endpoint_shape(p)): op
                  for p, ops in service_openapi["paths"].items() for m, op in ops.items()}
    assert len(documented) >= 25
    assert sorted(documented - set(operations)) == []
    # every endpoint of the case, its records and its analyses is documented
    undocumented = [key for key, op in operations.items()
                    if set(op.get("tags", ())) & {"case", "records", "analyses"}
                    and key not in documented]
    assert undocumented == []


def test_the_documented_first_administrator_can_log_in(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    block = next(b for b in re.findall(r"```python\n(.*?)```", SERVICE.read_text(), re.S)
                 if "Database.open(data_folder=" in b)
    monkeypatch.chdir(tmp_path)
    Database.open(data_folder="kinmatch-data", check_schema=False).upgrade()
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(block, str(SERVICE), "exec"), namespace)
    password = namespace["password"]
    assert printed.getvalue() == f"kim-admin's one-time password: {password}\n"
    namespace["db"].dispose()
    db = Database.open(data_folder="kinmatch-data")
    with TestClient(create_app(db, Keyring.generate(), secure_cookies=False, run_jobs=False),
                    base_url="http://127.0.0.1") as client:
        r = client.post("/api/session", json={"username": "kim-admin", "password": password})
        assert r.status_code == 200, r.text
        assert client.get("/api/programmes").json() == [
            {"code": "CHOSEI", "name": "Chōsei undersea coal mine flood, 1942",
             "roles": ["programme_admin"]}]
    db.dispose()
