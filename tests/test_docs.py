"""The documentation, checked: the worked examples of docs/api.md run as
doctests from the repository's root; the service's page (docs/service.md)
names only endpoints the service has, every endpoint of the case, and its
commands that make the first administrator work."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import run_cli

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
    """The page's ``kinmatch admin`` commands, run as written in a new data
    folder: the administrator they make logs in with the password printed."""
    block = next(b for b in re.findall(r"```sh\n(.*?)```", SERVICE.read_text(), re.S)
                 if "kinmatch admin create-user" in b)
    commands = [shlex.split(line) for line in block.splitlines()
                if line.startswith("kinmatch admin ")]
    assert [c[2] for c in commands] == ["create-agency", "create-agency", "create-programme",
                                        "create-user"]
    monkeypatch.chdir(tmp_path)
    for name in ("KINMATCH_DATA", "KINMATCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli("db", "upgrade").exit_code == 0
    outputs = []
    for command in commands:
        result = run_cli(*command[1:])
        assert result.exit_code == 0, (command, result.output)
        outputs.append(result.output)
    shown = [line for line in block.splitlines() if line.startswith("# ")]
    printed = outputs[-1].splitlines()
    assert printed[0] == shown[0].removeprefix("# ")
    assert printed[2] == shown[2].removeprefix("# ")
    password = printed[1].removeprefix("one-time password (shown once): ")
    db = Database.open(data_folder="kinmatch-data")
    with TestClient(create_app(db, Keyring.generate(), secure_cookies=False, run_jobs=False),
                    base_url="http://127.0.0.1") as client:
        r = client.post("/api/session", json={"username": "kim-admin", "password": password})
        assert r.status_code == 200, r.text
        assert client.get("/api/programmes").json() == [
            {"code": "CHOSEI", "name": "Chōsei undersea coal mine flood, 1942",
             "roles": ["programme_admin"]}]
    db.dispose()
