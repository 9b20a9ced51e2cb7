"""Keeping a shared case's database: key rotation.

:func:`rotate_key` adds a new key to the keyring, re-seals every sealed
value with it in one transaction, and only then saves the keyring, so an
interruption leaves the database readable with the keyring on disk; with
``drop_old`` the old keys are removed from the saved keyring afterwards
(backups made before the rotation then need the old keyring file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring, save_keyring, sealed_place
from kinmatch.storage.models import Analysis, Family, MissingPerson, Relative, Sample, User

#: (model, column attribute, place column name) of every sealed column
SEALED: tuple[tuple[type[Any], str, str], ...] = (
    (MissingPerson, "personal_sealed", "personal"), (Family, "personal_sealed", "personal"),
    (Relative, "personal_sealed", "personal"), (Sample, "profile_sealed", "profile"),
    (Analysis, "inputs_sealed", "inputs"), (User, "totp_sealed", "totp"),
    (User, "totp_pending_sealed", "totp_pending"))


def rotate_key(db: Database, keyring: Keyring, key_file: Path, *, drop_old: bool = False
               ) -> tuple[Keyring, int]:
    """Re-seal everything under a new key; the new keyring and the number
    of values re-sealed."""
    rotated = keyring.rotated()
    count = 0
    with db.write() as session:
        for model, attribute, column in SEALED:
            for row in session.execute(select(model)).scalars():
                sealed = getattr(row, attribute)
                if not sealed:
                    continue
                place = sealed_place(model.__tablename__, str(row.id), column)
                setattr(row, attribute, rotated.seal(rotated.open(sealed, place), place))
                count += 1
        save_keyring(rotated, key_file)
    if drop_old:
        rotated = rotated.newest_only()
        save_keyring(rotated, key_file)
    return rotated, count
