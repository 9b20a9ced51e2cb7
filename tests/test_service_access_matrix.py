"""The access matrix, tried through the API: every role × agency ×
endpoint × owner (own agency's data, another agency's without consent to
share, another agency's with it) → allowed or denied.

The expected answers are written here from the rules in words (the
issue's and docs/service.md's), not computed by the policy module; the
number of denials is asserted too, so a rule that silently widens or
narrows shows up. A request counts as denied when it gets 403; allowed
requests may still fail for other reasons (409 for a repeated import or
an ended analysis) but never with 403. Runs on SQLite only: the policy
does not depend on the database (the API tests run on both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shared_case import make_programme
from sqlalchemy import select

from kinmatch.service.app import create_app
from kinmatch.service.auth import new_api_token
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import Analysis, Role, User

SMALL = Path(__file__).resolve().parents[1] / "examples" / "dvi_case.json"
KR, JP = "NFS-KR", "NRIPS-JP"
AGENCIES = (KR, JP)
EVERYONE = frozenset(Role)
R = Role

#: the data each agency owns: (family, its reference sample, its missing person)
OWNED = {KR: ("F1", "F1:MO1", "M1"), JP: ("JF1", "JF1:MO1", "JM1")}
#: each agency's second family, shared by consent with the other agency:
#: what a caller of one agency sees of the other's
SHARED = {KR: ("JF2", "JF2:FA2", "JM2"), JP: ("F2", "F2:FA2", "M2")}


#: a genotype table of remains typed at markers of the small example
REMAINS_TABLE = b"Sample,D3S1358,TH01,D21S11\nUX-1,16/17,6/7,29/32.2\n"


def japanese_copy() -> bytes:
    text = SMALL.read_text()
    for old in ("F1", "F2", "F3", "M1", "M2", "M3", "V1", "V2", "V3", "U7", "U17"):
        text = text.replace(f'"{old}"', f'"J{old}"')
    return text.encode()


@dataclass(frozen=True)
class Endpoint:
    """A request template. ``owner`` says whose data it touches: ``None``
    (the programme's), or a function of (caller's agency, variant) giving
    the codes. ``allowed(role, own, shared)`` is the rule."""

    name: str
    method: str
    path: str  # with {family}, {reference} (and its {relative}), {missing}, {analysis}, {user}
    allowed: Callable[[Role, bool, bool], bool]
    variants: tuple[str, ...] = ("programme",)
    body: dict[str, object] | None = None
    #: the files sent (multipart ``files``), and the form fields
    upload: tuple[tuple[str, bytes], ...] = ()
    form: dict[str, str] | None = None
    #: the one user allowed besides the rule (who started the analysis)
    creator: tuple[str, Role] | None = None


def roles(*names: Role) -> Callable[[Role, bool, bool], bool]:
    return lambda role, own, shared: role in names


def own_agency(*names: Role) -> Callable[[Role, bool, bool], bool]:
    return lambda role, own, shared: role in names and own


def own_or_shared(*names: Role) -> Callable[[Role, bool, bool], bool]:
    return lambda role, own, shared: role in names and (own or shared)


DATA = ("own", "other", "shared")
PERSONAL = (R.PROGRAMME_ADMIN, R.AGENCY_ADMIN, R.ANALYST, R.REVIEWER, R.FAMILY_LIAISON)

ENDPOINTS = [
    Endpoint("programme", "GET", "/api/programmes/CHOSEI", roles(*EVERYONE)),
    Endpoint("missing persons", "GET", "/api/programmes/CHOSEI/missing-persons",
             roles(*EVERYONE)),
    Endpoint("missing person", "GET", "/api/programmes/CHOSEI/missing-persons/{missing}",
             roles(*EVERYONE), DATA),
    Endpoint("edit personal record", "PUT",
             "/api/programmes/CHOSEI/missing-persons/{missing}/personal",
             own_agency(R.ANALYST, R.AGENCY_ADMIN), DATA, body={"version": 10**6}),
    Endpoint("families", "GET", "/api/programmes/CHOSEI/families", roles(*EVERYONE)),
    Endpoint("family", "GET", "/api/programmes/CHOSEI/families/{family}", roles(*EVERYONE),
             DATA),
    # personal data of a family and its relatives: the owning agency's readers of personal
    # data, or every agency's with the family's consent to share; written by the owner's
    # analysts and administrators
    Endpoint("family personal record", "GET",
             "/api/programmes/CHOSEI/families/{family}/personal", own_or_shared(*PERSONAL), DATA),
    Endpoint("edit family personal record", "PUT",
             "/api/programmes/CHOSEI/families/{family}/personal",
             own_agency(R.ANALYST, R.AGENCY_ADMIN), DATA, body={"version": 10**6}),
    Endpoint("relative", "GET", "/api/programmes/CHOSEI/families/{family}/relatives/{relative}",
             own_or_shared(*PERSONAL), DATA),
    Endpoint("edit relative", "PUT",
             "/api/programmes/CHOSEI/families/{family}/relatives/{relative}",
             own_agency(R.ANALYST, R.AGENCY_ADMIN), DATA, body={"version": 10**6}),
    Endpoint("record consent", "POST", "/api/programmes/CHOSEI/families/{family}/consents",
             own_agency(R.FAMILY_LIAISON, R.AGENCY_ADMIN), DATA,
             body={"relative": "MO1", "scope": "identification", "given_on": "2026-04-01"}),
    Endpoint("withdraw consent", "POST",
             "/api/programmes/CHOSEI/families/{family}/consents/none/withdraw",
             own_agency(R.FAMILY_LIAISON, R.AGENCY_ADMIN), DATA),
    Endpoint("samples", "GET", "/api/programmes/CHOSEI/samples", roles(*EVERYONE)),
    # sample metadata is shared; written by the owner's analysts and administrators
    Endpoint("sample", "GET", "/api/programmes/CHOSEI/samples/{reference}", roles(*EVERYONE),
             DATA),
    Endpoint("edit sample metadata", "PUT", "/api/programmes/CHOSEI/samples/{reference}/metadata",
             own_agency(R.ANALYST, R.AGENCY_ADMIN), DATA, body={"version": 10**6}),
    Endpoint("reference profile", "GET", "/api/programmes/CHOSEI/samples/{reference}/profile",
             own_or_shared(R.ANALYST, R.REVIEWER), DATA),
    Endpoint("remains profile", "GET", "/api/programmes/CHOSEI/samples/V1/profile",
             roles(R.ANALYST, R.REVIEWER)),
    Endpoint("marker databases", "GET", "/api/programmes/CHOSEI/marker-databases",
             roles(*EVERYONE)),
    # importing is for analysts and agency administrators, adding marker databases for
    # analysts and programme administrators: an import that brings a marker database (a DVI
    # case, whose markers become one) needs both, laboratory tables naming a database the
    # programme has only the first
    Endpoint("import a case", "POST", "/api/programmes/CHOSEI/imports", roles(R.ANALYST),
             upload=(("again.json", SMALL.read_bytes()),)),
    Endpoint("import laboratory tables", "POST", "/api/programmes/CHOSEI/imports",
             roles(R.ANALYST, R.AGENCY_ADMIN), upload=(("remains.csv", REMAINS_TABLE),),
             form={"markers": f"markers of {KR}.json"}),
    Endpoint("start analysis", "POST", "/api/programmes/CHOSEI/analyses", roles(R.ANALYST),
             body={"markers": "no such database"}),
    Endpoint("analyses", "GET", "/api/programmes/CHOSEI/analyses", roles(*EVERYONE)),
    Endpoint("analysis", "GET", "/api/programmes/CHOSEI/analyses/{analysis}",
             roles(*EVERYONE)),
    # the analysis was started by the KR analyst: cancelled by them or a programme admin
    Endpoint("cancel analysis", "POST", "/api/programmes/CHOSEI/analyses/{analysis}/cancel",
             lambda role, own, shared: role is R.PROGRAMME_ADMIN, creator=(KR, R.ANALYST)),
    Endpoint("audit log", "GET", "/api/programmes/CHOSEI/audit",
             roles(R.PROGRAMME_ADMIN, R.AGENCY_ADMIN)),
    Endpoint("users", "GET", "/api/programmes/CHOSEI/users",
             roles(R.PROGRAMME_ADMIN, R.AGENCY_ADMIN)),
    Endpoint("create user", "POST", "/api/programmes/CHOSEI/users",
             lambda role, own, shared: role is R.PROGRAMME_ADMIN
             or (role is R.AGENCY_ADMIN and own), ("own", "other"),
             body={"roles": ["observer"]}),
    # the observer of the agency the variant names: managed like creating a user
    Endpoint("unlock user", "POST", "/api/programmes/CHOSEI/users/{user}/unlock",
             lambda role, own, shared: role is R.PROGRAMME_ADMIN
             or (role is R.AGENCY_ADMIN and own), ("own", "other")),
]


def codes(caller: str, variant: str) -> tuple[str, str, str]:
    other = JP if caller == KR else KR
    if variant == "shared":
        return SHARED[caller]
    return OWNED[caller if variant in ("own", "programme") else other]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("matrix")
    db = Database.open(data_folder=folder, check_schema=False)
    db.upgrade()
    with db.write() as s:
        made = make_programme(s)
        tokens = {key: new_api_token(s, s.get_one(User, uid), "matrix")[0]
                  for key, uid in made.users.items()}
    app = create_app(db, Keyring.generate(), secure_cookies=False, run_jobs=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        def auth(agency: str, role: Role) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[(agency, role)]}"}
        for agency, data in ((KR, SMALL.read_bytes()), (JP, japanese_copy())):
            r = client.post("/api/programmes/CHOSEI/imports", headers=auth(agency, R.ANALYST),
                            files={"file": (f"{agency}.json", data, "application/json")})
            assert r.status_code == 201, r.text
        for agency, family in ((JP, "JF2"), (KR, "F2")):
            r = client.post(f"/api/programmes/CHOSEI/families/{family}/consents",
                            headers=auth(agency, R.FAMILY_LIAISON),
                            json={"relative": "FA2", "scope": "sharing",
                                  "given_on": "2026-03-01"})
            assert r.status_code == 201
        r = client.post("/api/programmes/CHOSEI/analyses", headers=auth(KR, R.ANALYST),
                        json={"markers": f"markers of {KR}.json"})
        assert r.status_code == 202
        with db.read() as s:
            analysis = s.execute(select(Analysis.id)).scalar_one()
        yield client, auth, analysis
    db.dispose()


CASES = [(e, agency, role, variant) for e in ENDPOINTS for agency in AGENCIES for role in Role
         for variant in e.variants]


def expected(e: Endpoint, agency: str, role: Role, variant: str) -> bool:
    if e.creator == (agency, role):
        return True
    return e.allowed(role, variant in ("own", "programme"), variant == "shared")


def test_the_matrix_covers_every_guarded_endpoint(world) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = world
    spec = client.get("/api/openapi.json").json()
    guarded = {(m.upper(), p) for p, ops in spec["paths"].items() for m, op in ops.items()
               if op["x-kinmatch-policy"]["action"] not in ("public", "self")}
    templates = {(e.method, e.path.replace("/none/", "/{consent_id}/")) for e in ENDPOINTS}

    def shape(path: str) -> str:
        parts = path.split("/")
        return "/".join("*" if p.startswith("{") or p in ("CHOSEI", "V1") else p
                        for p in parts)
    assert {(m, shape(p)) for m, p in guarded} == {(m, shape(p)) for m, p in templates}


def test_the_expected_number_of_denials() -> None:
    denials = sum(not expected(*case) for case in CASES)
    assert (len(CASES), denials) == (648, 349)


@pytest.mark.parametrize("endpoint, agency, role, variant", CASES,
                         ids=[f"{e.name}-{a}-{r.value}-{v}" for e, a, r, v in CASES])
def test_access(world, endpoint: Endpoint, agency: str, role: Role,  # type: ignore[no-untyped-def]
                variant: str) -> None:
    client, auth, analysis = world
    family, reference, missing = codes(agency, variant)
    target = agency if variant in ("own", "programme") else (JP if agency == KR else KR)
    path = endpoint.path.format(family=family, reference=reference, missing=missing,
                                analysis=analysis, relative=reference.split(":")[1],
                                user=f"{target.lower()}-observer")
    kwargs: dict[str, object] = {"headers": auth(agency, role)}
    if endpoint.body is not None:
        body = dict(endpoint.body)
        if endpoint.name == "create user":
            body.update(username=f"u-{agency}-{role.value}-{variant}".lower(), agency=target)
        kwargs["json"] = body
    if endpoint.upload:
        kwargs["files"] = [("files", upload) for upload in endpoint.upload]
        kwargs["data"] = endpoint.form
    response = client.request(endpoint.method, path, **kwargs)
    allowed = expected(endpoint, agency, role, variant)
    if allowed:
        assert response.status_code != 403, response.text
        assert response.status_code < 500
    else:
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith("not allowed: ")

