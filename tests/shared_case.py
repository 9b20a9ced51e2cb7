"""A programme with two agencies and users of every role, for the tests of
the shared case's storage and service."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kinmatch.service.auth import hash_password
from kinmatch.storage.models import Agency, Programme, Role, RoleGrant, User

#: one password for every test user (hashing is slow by design: hash once)
PASSWORD = "correct horse battery staple"


@dataclass
class Programme2:
    """A two-agency programme: ids of the programme, the agencies and the
    users (``users[(agency code, role)]``)."""

    programme_id: str
    agencies: dict[str, str]
    users: dict[tuple[str, Role], str] = field(default_factory=dict)
    usernames: dict[tuple[str, Role], str] = field(default_factory=dict)


_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def make_programme(session: Session, code: str = "CHOSEI") -> Programme2:
    kr = Agency(code="NFS-KR", name="National Forensic Service", country="KR")
    jp = Agency(code="NRIPS-JP", name="National Research Institute of Police Science",
                country="JP")
    programme = Programme(code=code, name="Chōsei mine flood, 1942")
    programme.agencies = [kr, jp]
    session.add_all([kr, jp, programme])
    session.flush()
    made = Programme2(programme.id, {"NFS-KR": kr.id, "NRIPS-JP": jp.id})
    for agency in (kr, jp):
        for role in Role:
            username = f"{agency.code.lower()}-{role.value}"
            user = User(username=username, display_name=username, agency_id=agency.id,
                        password_hash=password_hash())
            user.roles = [RoleGrant(programme_id=programme.id, role=role)]
            session.add(user)
            session.flush()
            made.users[(agency.code, role)] = user.id
            made.usernames[(agency.code, role)] = username
    return made
