"""The audit log: who read or changed what, when and from where —
append-only and hash-chained.

Every entry carries the hash of the entry before it, and its own hash is

    entry_hash = SHA-256(prev_hash | canonical JSON of the entry's fields)

(the canonical JSON has sorted keys, no spaces, times in UTC with
microseconds). A one-row table, the *head*, holds the last sequence number
and hash; adding an entry locks it, so entries are numbered 1, 2, 3, ...
without gaps even with concurrent writers, and an entry is written in the
same transaction as the change it records (both or neither). The database
refuses UPDATE and DELETE on the log (triggers made by the migration);
:func:`verify_audit_log` finds any entry edited, inserted or deleted by
someone who got round that (with the database file, or as a superuser):
the chain breaks at the first such entry, and a deleted tail no longer
matches the head.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinmatch.storage.models import AuditEntry, AuditHead, now

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value``'s canonical JSON: the before/after hash of
    an object's state."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def utc_text(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive time, as
    SQLite returns it, is UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "at": utc_text(entry.at), "user_id": entry.user_id,
        "username": entry.username, "agency": entry.agency, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "programme_id": entry.programme_id, "address": entry.address,
        "before_hash": entry.before_hash, "after_hash": entry.after_hash,
        "detail": entry.detail,
    }


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (or the system) of an agency, from an address."""

    username: str
    agency: str
    user_id: str | None = None
    address: str = ""


SYSTEM = Actor("kinmatch", "-", None, "local")


def operator() -> Actor:
    """The person running a ``kinmatch`` command on the server (``kinmatch
    admin``), as the audit log names them: ``os:NAME``, the operating-system
    user (``os:root (sudo by NAME)`` under sudo), from ``local (HOST)``; no
    agency, no kinmatch user."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry for the uid
        name = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    sudo = os.environ.get("SUDO_USER")
    if sudo and sudo != name:
        name = f"{name} (sudo by {sudo})"
    return Actor(f"os:{name}"[:80], "-", None, f"local ({socket.gethostname()})"[:64])


def record(session: Session, actor: Actor, action: str, object_type: str, object_id: str,
           *, programme_id: str | None = None, before: Any = None, after: Any = None,
           detail: Mapping[str, Any] | None = None) -> AuditEntry:
    """Add an entry to the log in ``session``'s transaction.

    ``before`` and ``after`` are the object's states (any JSON-able value);
    only their hashes are kept, so the log holds no personal data.
    """
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    entry = AuditEntry(
        seq=head.last_seq + 1, at=now(), user_id=actor.user_id, username=actor.username,
        agency=actor.agency, action=action, object_type=object_type, object_id=object_id,
        programme_id=programme_id, address=actor.address,
        before_hash=None if before is None else digest(before),
        after_hash=None if after is None else digest(after),
        detail=dict(detail or {}), prev_hash=head.last_hash)
    entry.entry_hash = entry_hash(entry.prev_hash, entry_fields(entry))
    session.add(entry)
    head.last_seq, head.last_hash = entry.seq, entry.entry_hash
    session.flush()
    return entry


@dataclass
class AuditReport:
    """What :func:`verify_audit_log` found."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_audit_log(session: Session, *, batch: int = 5000) -> AuditReport:
    """Walk the chain from the first entry and check every link and hash,
    then the head."""
    report = AuditReport()
    prev, expected = GENESIS, 1
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)
                           .execution_options(yield_per=batch)).scalars()
    for entry in rows:
        report.entries += 1
        if entry.seq != expected:
            report.problems.append(
                f"entry {expected}: missing (the next entry is number {entry.seq})")
        if entry.prev_hash != prev:
            report.problems.append(
                f"entry {entry.seq}: does not follow the entry before it (the chain is broken: "
                "an entry before it was changed, removed or inserted)")
        if entry.entry_hash != entry_hash(entry.prev_hash, entry_fields(entry)):
            report.problems.append(f"entry {entry.seq}: its content was changed after it was "
                                   "written (its hash does not match)")
        prev, expected = entry.entry_hash, entry.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        report.problems.append("the audit head is missing")
    elif (head.last_seq, head.last_hash) != (expected - 1, prev):
        report.problems.append(
            f"the log ends at entry {expected - 1} but {head.last_seq} entries were written: "
            "entries at the end were removed or changed")
    return report
