"""The service's JSON API on SQLite and PostgreSQL: logging in (cookies,
CSRF, lock-out, tokens), imports, personal data and consent between two
agencies, profiles deleted when consent is withdrawn, analyses as jobs,
conflicting edits, and the audit trail of it all."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from shared_case import PASSWORD, Programme2, make_programme
from sqlalchemy import select, text
from support import quietly

from kinmatch.dvi.pipeline import DVIOptions, run_dvi_case
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.analysis import analyse_kinship_case
from kinmatch.service.app import create_app
from kinmatch.service.auth import new_api_token
from kinmatch.storage.audit import verify_audit_log
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import AuditEntry, MarkerDatabase, Role, User

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SMALL = EXAMPLES / "dvi_case.json"
KR, JP = "NFS-KR", "NRIPS-JP"


def japanese_copy() -> bytes:
    """The small example with every family, missing person and sample
    renamed, as if collected by the other agency."""
    text = SMALL.read_text()
    for old in ("F1", "F2", "F3", "M1", "M2", "M3", "V1", "V2", "V3", "U7", "U17"):
        text = text.replace(f'"{old}"', f'"J{old}"')
    return text.encode()


@dataclass
class Service:
    client: TestClient
    database: Database
    keyring: Keyring
    programme: Programme2
    tokens: dict[tuple[str, Role], str]

    def as_user(self, agency: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(agency, role)]}"}

    def get(self, url: str, agency: str, role: Role, **kw: Any) -> Any:
        return self.client.get(url, headers=self.as_user(agency, role), **kw)

    def post(self, url: str, agency: str, role: Role, **kw: Any) -> Any:
        return self.client.post(url, headers=self.as_user(agency, role), **kw)

    def put(self, url: str, agency: str, role: Role, **kw: Any) -> Any:
        return self.client.put(url, headers=self.as_user(agency, role), **kw)

    def audit(self) -> list[AuditEntry]:
        with self.database.read() as s:
            return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


@pytest.fixture
def service(database: Database) -> Iterator[Service]:
    keyring = Keyring.generate()
    with database.write() as s:
        made = make_programme(s)
        tokens = {}
        for key, user_id in made.users.items():
            tokens[key], _ = new_api_token(s, s.get_one(User, user_id), "tests")
    app = create_app(database, keyring, secure_cookies=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Service(client, database, keyring, made, tokens)


def import_file(service: Service, agency: str, data: bytes, name: str = "case.json") -> Any:
    return service.post("/api/programmes/CHOSEI/imports", agency, Role.ANALYST,
                        files={"file": (name, data, "application/json")})


def test_health_and_openapi(service: Service) -> None:
    answer = service.client.get("/api/health")
    health = answer.json()
    assert health["status"] == "ok" and health["database"] == service.database.dialect
    assert (answer.headers["x-content-type-options"], answer.headers["referrer-policy"],
            answer.headers["cache-control"]) == ("nosniff", "no-referrer", "no-store")
    spec = service.client.get("/api/openapi.json").json()
    operations = [(path, method, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items()]
    assert len(operations) >= 20
    # every endpoint declares how the policy guards it
    assert [(p, m) for p, m, op in operations if "x-kinmatch-policy" not in op] == []


def test_requests_without_credentials_are_refused(service: Service) -> None:
    r = service.client.get("/api/programmes/CHOSEI/missing-persons")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = service.client.get("/api/programmes/CHOSEI",
                           headers={"Authorization": "Bearer km_not-a-token"})
    assert r.status_code == 401 and "unknown, expired or revoked" in r.json()["detail"]


def test_login_sets_a_safe_cookie_and_csrf_guards_changes(service: Service) -> None:
    c = service.client
    r = c.post("/api/session", json={"username": "nfs-kr-analyst", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "kinmatch_session=" in cookie
    csrf = r.json()["csrf_token"]
    assert c.get("/api/me").json()["username"] == "nfs-kr-analyst"
    # a state-changing request with the cookie but without the CSRF token is refused
    r = c.post("/api/tokens", json={"name": "script"})
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    r = c.post("/api/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["token"].startswith("km_")
    token = r.json()["token"]
    assert c.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert c.get("/api/me").status_code == 401
    # the API token works on its own, until revoked
    bearer = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=bearer).json()["agency"] == KR
    token_id = c.get("/api/me", headers=bearer) and r.json()["id"]
    assert c.delete(f"/api/tokens/{token_id}", headers=bearer).status_code == 200
    assert c.get("/api/me", headers=bearer).status_code == 401


def test_secure_cookies_by_default(database: Database) -> None:
    with database.write() as s:
        make_programme(s)
    with TestClient(create_app(database, Keyring.generate(), run_jobs=False)) as c:
        r = c.post("/api/session", json={"username": "nfs-kr-analyst", "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"]


def test_repeated_failures_lock_the_account(service: Service) -> None:
    c = service.client
    for _ in range(5):
        r = c.post("/api/session", json={"username": "nrips-jp-reviewer", "password": "guess"})
        assert r.status_code == 401
    # now even the right password is refused, with the same message
    r = c.post("/api/session", json={"username": "nrips-jp-reviewer", "password": PASSWORD})
    assert r.status_code == 401 and "locked" in r.json()["detail"]
    r = c.post("/api/session", json={"username": "nobody", "password": PASSWORD})
    assert r.status_code == 401
    actions = [(e.action, e.object_id) for e in service.audit()]
    assert actions.count(("login_failed", "nrips-jp-reviewer")) == 6
    assert ("login_failed", "nobody") in actions


def test_import_through_the_api(service: Service) -> None:
    r = import_file(service, KR, SMALL.read_bytes(), "dvi_case.json")
    assert r.status_code == 201, r.text
    assert (r.json()["families"], r.json()["remains"]) == (3, 5)
    again = import_file(service, KR, SMALL.read_bytes(), "dvi_case.json")
    assert again.status_code == 409 and "imported before" in again.json()["detail"]
    broken = import_file(service, KR, SMALL.read_bytes()[:500], "cut.json")
    assert broken.status_code == 422
    assert broken.json()["detail"].startswith("cut.json, line ")
    listed = service.get("/api/programmes/CHOSEI/families", JP, Role.OBSERVER).json()
    assert [f["code"] for f in listed] == ["F1", "F2", "F3"]
    assert listed[0]["pedigree"][0] == {"id": "FA1", "sex": 1, "father": "0", "mother": "0"}


def test_the_families_list_agrees_with_each_family(service: Service) -> None:
    """The list (read in a few queries, around the stored pedigree JSON) says
    what each family's own view (read through its objects) says."""
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    assert import_file(service, JP, japanese_copy(), "jp.json").status_code == 201
    base = "/api/programmes/CHOSEI/families"
    assert service.put(f"{base}/F2/relatives/MO2", KR, Role.ANALYST,
                       json={"version": 0, "deceased": True}).status_code == 200
    assert service.post(f"{base}/JF1/consents", JP, Role.FAMILY_LIAISON, json={
        "relative": "MO1", "scope": "sharing", "given_on": "2024-05-01"}).status_code == 201
    listed = service.get(base, KR, Role.OBSERVER).json()
    assert [f["code"] for f in listed] == ["F1", "F2", "F3", "JF1", "JF2", "JF3"]
    for family in listed:
        alone = service.get(f"{base}/{family['code']}", KR, Role.OBSERVER).json()
        assert family == alone
    shared = {f["code"]: f["sharing_consented"] for f in listed}
    assert shared == {"F1": False, "F2": False, "F3": False, "JF1": True, "JF2": False,
                      "JF3": False}
    assert "MO2" in listed[1]["deceased"] and "MO2" not in listed[1]["donors"]


def test_laboratory_tables_in_one_import_then_an_analysis_of_them(service: Service) -> None:
    formats = EXAMPLES / "formats"
    names = ("genemapper_export.txt", "missing_son.ped", "frequencies_familias.txt")
    lines = (formats / names[0]).read_bytes().split(b"\r\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"UHR-2024-007\tSample"))
    cells = lines[row].split(b"\t")
    cells[5:8] = [b"15", b"16", b"17"]
    broken = b"\r\n".join([*lines[:row], b"\t".join(cells), *lines[row + 1:]])

    def send(export: bytes, **form: str) -> Any:
        files = [("files", (n, export if n == names[0] else (formats / n).read_bytes(),
                            "text/plain")) for n in names]
        return service.post("/api/programmes/CHOSEI/imports", KR, Role.ANALYST, files=files,
                            data=form)
    r = send(broken, missing="Missing-Son")
    assert r.status_code == 422
    where = {k: r.json()[k] for k in ("file", "line", "column", "field")}
    assert where == {"file": names[0], "line": row + 1, "column": 6, "field": "Allele 1"}
    assert r.json()["detail"].startswith(f"{names[0]}, line {row + 1}, column 6: ")
    assert service.get("/api/programmes/CHOSEI/families", KR, Role.ANALYST).json() == []
    assert send((formats / names[0]).read_bytes()).json()["detail"] == (
        "missing_son.ped: family missing_son has no missing person: name the missing "
        "person(s) of every family")
    r = send((formats / names[0]).read_bytes(), missing="Missing-Son")
    assert r.status_code == 201, r.text
    body = r.json()
    assert [f["filename"] for f in body["files"]] == list(names)
    assert (body["families"], body["remains"], len(body["warnings"])) == (1, 1, 1)
    assert body["marker_database_names"] == ["frequencies_familias.txt"]
    listed = service.get("/api/programmes/CHOSEI/marker-databases", JP, Role.OBSERVER).json()
    assert [(d["name"], d["kind"], d["markers"]) for d in listed] == [
        ("frequencies_familias.txt", "autosomal", 10)]
    started = service.post("/api/programmes/CHOSEI/analyses", KR, Role.ANALYST,
                           json={"markers": "frequencies_familias.txt"})
    assert started.status_code == 202, started.text
    done = wait_for(service, f"/api/programmes/CHOSEI/analyses/{started.json()['id']}")
    assert done["status"] == "done", done["error"]
    kinship = quietly(read_table_case, formats / names[0], formats / names[2],
                      pedigree=formats / names[1], missing="Missing-Son", poi="UHR-2024-007")
    loglik = analyse_kinship_case(kinship).result.loglik
    np.testing.assert_allclose(done["results"]["pairwise"]["log10_lr"],
                               [[(loglik[0].sum() - loglik[1].sum()) / np.log(10)]],
                               rtol=1e-12)


def test_marker_databases_are_added_by_analysts_only(service: Service) -> None:
    """An agency administrator imports laboratory tables, but a frequency
    database or a DVI case — which add marker databases — only an analyst:
    refused (403, audited) before anything is read, nothing stored."""
    formats = EXAMPLES / "formats"
    frequencies = ("files", ("frequencies_familias.txt",
                             (formats / "frequencies_familias.txt").read_bytes()))
    before = len(service.audit())
    for files in ([frequencies], [("files", ("dvi_case.json", SMALL.read_bytes()))]):
        r = service.post("/api/programmes/CHOSEI/imports", KR, Role.AGENCY_ADMIN, files=files)
        assert r.status_code == 403, r.text
        name = files[0][1][0]
        assert r.json()["detail"] == (
            "not allowed: only analysts and programme administrators add marker databases: "
            f"{name} would add marker databases to the programme (a frequency database "
            "becomes one, and so do a DVI case's markers and lineage databases); import "
            "laboratory tables naming a marker database the programme has (markers), or ask "
            "an analyst")
    denials = [(e.username, e.action, e.object_type, e.object_id, e.detail["action"])
               for e in service.audit()[before:]]
    assert denials == [("nfs-kr-agency_admin", "denied",
                        "marker_database", name, "create")
                       for name in ("frequencies_familias.txt", "dvi_case.json")]
    assert service.get("/api/programmes/CHOSEI/marker-databases", KR,
                       Role.AGENCY_ADMIN).json() == []
    # an analyst adds the frequency database; the administrator's tables then name it
    r = service.post("/api/programmes/CHOSEI/imports", KR, Role.ANALYST, files=[frequencies])
    assert r.status_code == 201, r.text
    tables = [("files", (n, (formats / n).read_bytes()))
              for n in ("genemapper_export.txt", "missing_son.ped")]
    r = service.post("/api/programmes/CHOSEI/imports", KR, Role.AGENCY_ADMIN, files=tables,
                     data={"missing": "Missing-Son", "markers": "frequencies_familias.txt"})
    assert r.status_code == 201, r.text
    assert (r.json()["families"], r.json()["remains"], r.json()["marker_databases"]) == (1, 1, 0)


def test_personal_data_stays_with_the_owning_agency_until_consent_to_share(
        service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    url = "/api/programmes/CHOSEI/missing-persons/M1"
    version = service.get(url, KR, Role.ANALYST).json()["version"]
    personal = {"name_hangul": "김철수", "name_kanji": "金哲洙", "name_latin": "Kim Cheol-su",
                "birth_year": 1915, "origin": "Gyeongsang", "date_of_death": "1942-02-03",
                "place_of_death": "Chōsei mine, Ube"}
    r = service.put(f"{url}/personal", KR, Role.ANALYST, json={"version": version, **personal})
    assert r.status_code == 200, r.text
    assert service.get(url, KR, Role.FAMILY_LIAISON).json()["personal"] == personal
    assert "personal" not in service.get(url, KR, Role.OBSERVER).json()
    seen_by_jp = service.get(url, JP, Role.ANALYST).json()
    assert "personal" not in seen_by_jp and seen_by_jp["status"] == "donors_sampled"
    profile = "/api/programmes/CHOSEI/samples/F1:MO1/profile"
    assert service.get(profile, JP, Role.ANALYST).status_code == 403
    assert service.get(profile, KR, Role.ANALYST).json()["profile"]["D3S1358"] == ["15", "17"]
    # the family consents to sharing: the other agency's analysts see names and profiles
    r = service.post("/api/programmes/CHOSEI/families/F1/consents", KR, Role.FAMILY_LIAISON,
                     json={"relative": "MO1", "scope": "sharing", "given_on": "2026-03-01"})
    assert r.status_code == 201
    assert service.get(url, JP, Role.ANALYST).json()["personal"] == personal
    assert service.get(profile, JP, Role.ANALYST).status_code == 200
    assert service.get(profile, JP, Role.FAMILY_LIAISON).status_code == 403
    reads = [(e.action, e.object_id, e.agency) for e in service.audit()
             if e.action in ("read_personal", "read_profile")]
    assert reads == [("read_personal", "M1", KR), ("read_profile", "F1:MO1", KR),
                     ("read_personal", "M1", JP), ("read_profile", "F1:MO1", JP)]
    denied = [e for e in service.audit() if e.action == "denied"]
    assert {(e.agency, e.object_id) for e in denied} == {(JP, "F1:MO1")}


def test_withdrawn_consent_deletes_the_profile(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    base = "/api/programmes/CHOSEI/families/F1/consents"
    consent = service.post(base, KR, Role.FAMILY_LIAISON,
                           json={"relative": "R1", "scope": "identification",
                                 "given_on": "2026-03-01"}).json()
    assert service.post(f"{base}/{consent['id']}/withdraw", JP,
                        Role.FAMILY_LIAISON).status_code == 403
    r = service.post(f"{base}/{consent['id']}/withdraw", KR, Role.FAMILY_LIAISON)
    assert r.status_code == 200 and r.json()["profiles_deleted"] == ["F1:R1"]
    gone = service.get("/api/programmes/CHOSEI/samples/F1:R1/profile", KR, Role.ANALYST)
    assert gone.status_code == 404 and "consent was withdrawn" in gone.json()["detail"]
    entry = next(e for e in service.audit() if e.action == "delete_profile")
    assert entry.object_id == "F1:R1" and entry.before_hash is not None
    assert entry.detail == {"reason": "consent withdrawn", "consent": consent["id"]}
    assert service.post(f"{base}/{consent['id']}/withdraw", KR,
                        Role.FAMILY_LIAISON).status_code == 409


def test_a_conflicting_edit_gets_409(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    url = "/api/programmes/CHOSEI/missing-persons/M2"
    read = service.get(url, KR, Role.ANALYST).json()["version"]
    first = service.put(f"{url}/personal", KR, Role.ANALYST,
                        json={"version": read, "name_latin": "A"})
    assert first.status_code == 200 and first.json()["version"] == read + 1
    late = service.put(f"{url}/personal", KR, Role.AGENCY_ADMIN,
                       json={"version": read, "name_latin": "B"})
    assert late.status_code == 409 and f"since version {read}" in late.json()["detail"]


def wait_for(service: Service, url: str, agency: str = KR, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = service.get(url, agency, Role.OBSERVER).json()
        if body["status"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{url} did not end in {timeout} s")


def test_an_analysis_runs_as_a_job_and_keeps_its_snapshot(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes(), "dvi_case.json").status_code == 201
    request = {"markers": "markers of dvi_case.json", "title": "first run",
               "parameters": {"threshold": 1000.0}}
    assert service.post("/api/programmes/CHOSEI/analyses", KR, Role.REVIEWER,
                        json=request).status_code == 403
    bad = service.post("/api/programmes/CHOSEI/analyses", KR, Role.ANALYST,
                       json={**request, "parameters": {"treshold": 1}})
    assert bad.status_code == 422 and "unknown analysis parameter(s) treshold" in bad.text
    started = service.post("/api/programmes/CHOSEI/analyses", JP, Role.ANALYST, json=request)
    assert started.status_code == 202, started.text
    url = f"/api/programmes/CHOSEI/analyses/{started.json()['id']}"
    done = wait_for(service, url)
    assert done["status"] == "done", done["error"]
    expected = run_dvi_case(read_dvi_case(SMALL), DVIOptions(threshold=1000.0))
    np.testing.assert_allclose(
        np.array(done["results"]["pairwise"]["log10_lr"], dtype=float),
        expected.pairwise.log_lr / np.log(10), rtol=1e-12)
    assert done["results"]["solution"] == json.loads(
        json.dumps(expected.to_dict()["solution"]))
    # new data does not change the analysis
    assert import_file(service, JP, japanese_copy(), "jp.json").status_code == 201
    assert service.get(url, KR, Role.OBSERVER).json()["results"] == done["results"]
    actions = [e.action for e in service.audit() if e.object_type == "analysis"]
    assert actions == ["start", "done"]


def test_an_analysis_with_a_marker_database_lacking_typed_markers_is_refused(
        service: Service) -> None:
    """A frequency database without two of the markers the profiles are
    typed at: the analysis is refused (422) naming the markers and the
    samples, and nothing is queued; spellings of the same locus (the
    frequency reader's ``Penta E``, the case's ``PENTA_E``) are no gap."""
    assert import_file(service, KR, SMALL.read_bytes(), "dvi_case.json").status_code == 201
    case = json.loads(SMALL.read_text())
    lacking = ("CSF1PO", "D21S11")
    table = "marker,allele,frequency\n" + "".join(
        f"{m['name']},{a},{f!r}\n" for m in case["markers"] if m["name"] not in lacking
        for a, f in zip(m["alleles"], m["frequencies"], strict=True))
    r = service.post("/api/programmes/CHOSEI/imports", KR, Role.ANALYST,
                     files={"file": ("partial.csv", table.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    r = service.post("/api/programmes/CHOSEI/analyses", KR, Role.ANALYST,
                     json={"markers": "partial.csv"})
    assert r.status_code == 422, r.text
    everyone = ["V1", "V2", "V3", "U7", "U17", "F1:MO1", "F1:R1", "F2:FA2", "F3:R3"]
    assert {m: sorted(codes) for m, codes in r.json()["undefined_markers"].items()} == {
        m: sorted(everyone) for m in lacking}
    assert r.json()["detail"].startswith(
        "the marker database 'partial.csv' has no allele frequencies for 2 markers typed in "
        "the programme's profiles: CSF1PO (samples ")
    assert "; D21S11 (samples " in r.json()["detail"]
    assert r.json()["detail"].endswith("nothing was started")
    assert service.get("/api/programmes/CHOSEI/analyses", KR, Role.ANALYST).json() == []
    # the whole database runs
    table = "marker,allele,frequency\n" + "".join(
        f"{m['name']},{a},{f!r}\n" for m in case["markers"]
        for a, f in zip(m["alleles"], m["frequencies"], strict=True))
    r = service.post("/api/programmes/CHOSEI/imports", KR, Role.ANALYST,
                     files={"file": ("whole.csv", table.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    with service.database.read() as s:
        stored = s.execute(select(MarkerDatabase.document).where(
            MarkerDatabase.name == "whole.csv")).scalar_one()
    assert "Penta E" in [m["name"] for m in stored["markers"]]
    r = service.post("/api/programmes/CHOSEI/analyses", KR, Role.ANALYST,
                     json={"markers": "whole.csv"})
    assert r.status_code == 202, r.text
    done = wait_for(service, f"/api/programmes/CHOSEI/analyses/{r.json()['id']}")
    assert done["status"] == "done", done["error"]


def test_the_audit_log_of_a_session_verifies(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    service.get("/api/programmes/CHOSEI/samples/V1/profile", JP, Role.REVIEWER)
    entries = service.get("/api/programmes/CHOSEI/audit", KR, Role.PROGRAMME_ADMIN).json()
    assert [e["action"] for e in entries] == ["import", "read_profile"]
    own = service.get("/api/programmes/CHOSEI/audit", KR, Role.AGENCY_ADMIN).json()
    assert [e["action"] for e in own] == ["import"]
    with service.database.read() as s:
        report = verify_audit_log(s)
    assert report.intact and report.entries == len(service.audit())


def test_family_and_relative_records_are_personal_data(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    base = "/api/programmes/CHOSEI/families/F1"
    version = service.get(base, KR, Role.ANALYST).json()["version"]
    family = {"name_hangul": "김", "name_kanji": "金", "name_latin": "Kim",
              "origin": "Gyeongsangnam-do", "contact": "Kim Young-hee, 010-0000-0000"}
    r = service.put(f"{base}/personal", KR, Role.ANALYST, json={"version": version, **family})
    assert r.status_code == 200 and r.json()["version"] == version + 1
    stale = service.put(f"{base}/personal", KR, Role.AGENCY_ADMIN,
                        json={"version": version, "name_latin": "Gim"})
    assert stale.status_code == 409 and f"since version {version}" in stale.json()["detail"]
    # a relative's record: created from version 0, with what the pedigree says they are
    url = f"{base}/relatives/MO1"
    empty = service.get(url, KR, Role.FAMILY_LIAISON).json()
    assert empty == {"family": "F1", "pedigree_id": "MO1", "version": 1, "deceased": False,
                     "kin": {"M1": "mother"}, "personal": None}
    mother = {"name_hangul": "박순자", "name_kanji": "朴順子", "name_latin": "Park Sun-ja",
              "birth_year": 1918, "relationship": "mother", "date_of_death": "1990-05-01"}
    r = service.put(url, KR, Role.ANALYST, json={"version": 1, "deceased": True, **mother})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert service.put(url, KR, Role.ANALYST, json={"version": 1}).status_code == 409
    new = service.put(f"{base}/relatives/FA1", KR, Role.ANALYST,
                      json={"version": 0, "name_latin": "Kim Dong-su", "relationship": "father"})
    assert new.status_code == 200 and new.json()["version"] == 1
    assert service.get(f"{base}/relatives/M1", KR, Role.ANALYST).status_code == 404
    # the other agency sees the shape (the mother is now deceased), not the records
    shape = service.get(base, JP, Role.ANALYST).json()
    assert shape["deceased"] == ["MO1"] and "personal" not in shape
    assert service.get(f"{base}/personal", JP, Role.ANALYST).status_code == 403
    assert service.get(url, JP, Role.ANALYST).status_code == 403
    assert service.get(f"{base}/personal", KR, Role.OBSERVER).status_code == 403
    seen = service.get(f"{base}/personal", KR, Role.REVIEWER).json()
    assert seen["personal"] == family
    assert [(r["pedigree_id"], r["deceased"], r["personal"]) for r in seen["relatives"]] == [
        ("FA1", False, {"name_latin": "Kim Dong-su", "relationship": "father"}),
        ("MO1", True, mother), ("R1", False, None)]
    # with the family's consent to share, the other agency reads them (and may not edit)
    assert service.post(f"{base}/consents", KR, Role.FAMILY_LIAISON,
                        json={"relative": "R1", "scope": "sharing",
                              "given_on": "2026-03-01"}).status_code == 201
    assert service.get(url, JP, Role.FAMILY_LIAISON).json()["personal"] == mother
    assert service.put(url, JP, Role.ANALYST, json={"version": 2}).status_code == 403
    # sealed at rest: no name in the database's bytes
    with service.database.read() as s:
        rows = s.execute(text("SELECT personal_sealed FROM relatives UNION ALL "
                              "SELECT personal_sealed FROM families")).scalars().all()
    sealed = b"".join(bytes(v) for v in rows if v is not None)
    assert sealed and all(name.encode() not in sealed
                          for name in ("Park", "박순자", "朴順子", "Kim", "金"))
    reads = [(e.action, e.object_type, e.object_id, e.agency) for e in service.audit()
             if e.action == "read_personal"]
    assert reads == [("read_personal", "family", "F1", KR),  # GET family: its consents
                     ("read_personal", "relative", "F1:MO1", KR),
                     ("read_personal", "family", "F1", KR),
                     ("read_personal", "relative", "F1:MO1", JP)]
    edits = [(e.action, e.object_type, e.object_id) for e in service.audit()
             if e.action in ("create", "update")]
    assert edits == [("update", "family", "F1"), ("update", "relative", "F1:MO1"),
                     ("create", "relative", "F1:FA1"), ("create", "consent",
                                                       edits[-1][2])]


def test_sample_metadata_is_shared_and_edited_by_its_owner(service: Service) -> None:
    assert import_file(service, KR, SMALL.read_bytes()).status_code == 201
    url = "/api/programmes/CHOSEI/samples/V1"
    before = service.get(url, JP, Role.OBSERVER).json()
    assert (before["kind"], before["agency"], before["metadata"]) == ("remains", KR, {})
    metadata = {"bone_element": "femur", "recovery_site": "Chōsei mine, Ube, pier 2",
                "recovery_date": "2024-09-27", "laboratory": "NFS Seoul",
                "kit": "GlobalFiler", "locus_quality": {"vwa": "check", "D3S1358": "pass"}}
    r = service.put(f"{url}/metadata", KR, Role.ANALYST,
                    json={"version": before["version"], **metadata})
    assert r.status_code == 200, r.text
    stored = service.get(url, JP, Role.OBSERVER).json()
    assert stored["version"] == before["version"] + 1
    assert stored["metadata"] == {**metadata,
                                  "locus_quality": {"vWA": "check", "D3S1358": "pass"}}
    assert service.put(f"{url}/metadata", KR, Role.ANALYST,
                       json={"version": before["version"]}).status_code == 409
    assert service.put(f"{url}/metadata", JP, Role.ANALYST,
                       json={"version": stored["version"]}).status_code == 403
    wrong = service.put(f"{url}/metadata", KR, Role.ANALYST,
                        json={"version": stored["version"], "collected_on": "2025-01-01"})
    assert wrong.status_code == 422 and "not a field of remains" in wrong.json()["detail"]
    bad = service.put(f"{url}/metadata", KR, Role.ANALYST,
                      json={"version": stored["version"], "locus_quality": {"D2": "pass"}})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("locus_quality: ")
    reference = service.put("/api/programmes/CHOSEI/samples/F1:MO1/metadata", KR,
                            Role.AGENCY_ADMIN, json={"version": 1, "sample_type": "buccal swab",
                                                     "collected_on": "2025-11-03"})
    assert reference.status_code == 200 and reference.json()["metadata"] == {
        "sample_type": "buccal swab", "collected_on": "2025-11-03"}
    assert [(e.action, e.agency) for e in service.audit() if e.object_type == "sample"] == [
        ("update", KR), ("denied", JP), ("update", KR)]
