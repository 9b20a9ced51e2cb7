"""``kinmatch serve --demo``: the shipped Chōsei example as a shared case of
two agencies, with demo users.

The Korean families (codes K...) belong to the National Forensic Service of
Korea, the Japanese families (J...) and the remains recovered at Ube to the
National Research Institute of Police Science of Japan. Every role gets
one user per agency, each with a random password, printed once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from kinmatch.service.auth import hash_password, new_password
from kinmatch.storage.audit import SYSTEM, record
from kinmatch.storage.case_store import content_hash, import_document
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.imports import read_uploaded_case
from kinmatch.storage.models import Agency, Programme, Role, RoleGrant, User

AGENCIES = (("NFS-KR", "National Forensic Service", "KR"),
            ("NRIPS-JP", "National Research Institute of Police Science", "JP"))
MARKERS = "Chōsei example markers"
LINEAGE = "Chōsei example lineage databases (SYNTHETIC)"


@dataclass(frozen=True)
class DemoUser:
    username: str
    agency: str
    role: Role
    password: str


def load_demo(session: Session, keyring: Keyring, case_file: Path) -> list[DemoUser]:
    """Create the demo programme from ``case_file`` (the Chōsei example);
    return its users with their one-time passwords."""
    agencies = {code: Agency(code=code, name=name, country=country)
                for code, name, country in AGENCIES}
    programme = Programme(code="CHOSEI", name="Chōsei undersea coal mine flood, 1942",
                          description="Demo: the shipped simulated Chōsei case "
                                      "(SYNTHETIC data)")
    programme.agencies = list(agencies.values())
    session.add_all([*agencies.values(), programme])
    session.flush()
    users: list[DemoUser] = []
    ids: dict[str, str] = {}
    for code, agency in agencies.items():
        for role in Role:
            password = new_password()
            username = f"{code.split('-')[0].lower()}-{role.value.replace('_', '-')}"
            user = User(username=username, display_name=f"{role.value} ({code})",
                        agency_id=agency.id, password_hash=hash_password(password))
            user.roles = [RoleGrant(programme_id=programme.id, role=role)]
            session.add(user)
            session.flush()
            record(session, SYSTEM, "create", "user", user.id, programme_id=programme.id,
                   detail={"username": username, "role": role.value, "demo": True})
            users.append(DemoUser(username, code, role, password))
            if role is Role.ANALYST:
                ids[code] = user.id
    doc = read_uploaded_case(case_file.read_bytes(), case_file.name)
    korean = [f for f in doc["families"] if not f["name"].split()[-1].startswith("J")]
    parts = (("NFS-KR", {**doc, "families": korean, "samples": []}),
             ("NRIPS-JP", {**doc, "families": [f for f in doc["families"] if f not in korean]}))
    for code, part in parts:
        summary = import_document(session, keyring, part, programme_id=programme.id,
                        agency_id=agencies[code].id, user_id=ids[code],
                        filename=f"{case_file.name} ({code} part)",
                        digest=content_hash(json.dumps(part, sort_keys=True).encode()),
                        markers_name=MARKERS,
                        lineage_name=LINEAGE)
        record(session, SYSTEM, "import", "import", summary.import_id,
               programme_id=programme.id, after=summary.as_dict(),
               detail={"filename": case_file.name, "agency": code, "demo": True})
    return users
