"""Personal data and genetic profiles sealed at rest.

Each sealed value is a JSON document encrypted with AES-256-GCM
(authenticated encryption, NIST SP 800-38D) under a key kept outside the
database: a key file (default ``kinmatch.key`` in the data folder, created
readable by its owner only) or the environment variable
``KINMATCH_KEYS``. A sealed value is::

    b"km1" | key id (8 bytes) | nonce (12 bytes) | ciphertext + tag

and its *associated data* is the place it belongs to (table, row id,
column), so a sealed value copied into another row or column does not
open. A keyring holds several keys: values are sealed with the newest and
opened with whichever sealed them, so keys rotate (``kinmatch db
rotate-key``) by adding a key and re-sealing every value.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kinmatch.errors import KinmatchError

MAGIC = b"km1"
KEY_ID_BYTES = 8
NONCE_BYTES = 12
KEY_FILE = "kinmatch.key"
KEYS_ENV = "KINMATCH_KEYS"


def sealed_place(table: str, row_id: str, column: str) -> str:
    """Where a sealed value belongs: its associated data."""
    return f"{table}:{row_id}:{column}"


class SealError(KinmatchError):
    """A sealed value cannot be opened (wrong key, tampered, misplaced)."""


@dataclass(frozen=True)
class Keyring:
    """Keys by id, oldest first; the last seals."""

    keys: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def generate(cls) -> Keyring:
        return cls(((secrets.token_bytes(KEY_ID_BYTES), AESGCM.generate_key(256)),))

    def rotated(self) -> Keyring:
        """This keyring with a new key that seals from now on."""
        return Keyring((*self.keys, *Keyring.generate().keys))

    def newest_only(self) -> Keyring:
        return Keyring(self.keys[-1:])

    @property
    def current_id(self) -> bytes:
        return self.keys[-1][0]

    def seal(self, value: Any, place: str) -> bytes:
        """``value`` (JSON-serialisable) sealed for ``place``."""
        key_id, key = self.keys[-1]
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return MAGIC + key_id + nonce + AESGCM(key).encrypt(nonce, plain, place.encode())

    def open(self, sealed: bytes, place: str) -> Any:
        """The value sealed by :meth:`seal` for ``place``."""
        if not sealed.startswith(MAGIC):
            raise SealError(f"{place}: not a sealed value")
        body = sealed[len(MAGIC):]
        key_id, nonce, cipher = (body[:KEY_ID_BYTES], body[KEY_ID_BYTES:KEY_ID_BYTES + NONCE_BYTES],
                                 body[KEY_ID_BYTES + NONCE_BYTES:])
        key = dict(self.keys).get(key_id)
        if key is None:
            raise SealError(f"{place}: sealed with key {key_id.hex()}, which is not in the keyring")
        try:
            plain = AESGCM(key).decrypt(nonce, cipher, place.encode())
        except InvalidTag:
            raise SealError(f"{place}: the sealed value was altered or belongs elsewhere") from None
        return json.loads(plain)

    def key_id_of(self, sealed: bytes) -> bytes:
        return sealed[len(MAGIC):len(MAGIC) + KEY_ID_BYTES]

    # -- text form: one "id:key" pair (base64) per line ----------------------
    def dumps(self) -> str:
        return "".join(f"{base64.b64encode(i).decode()}:{base64.b64encode(k).decode()}\n"
                       for i, k in self.keys)

    @classmethod
    def loads(cls, text: str, source: str) -> Keyring:
        keys = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                left, right = line.split(":")
                key_id, key = base64.b64decode(left, validate=True), base64.b64decode(
                    right, validate=True)
            except ValueError:
                raise SealError(f"{source}, line {number}: not a key (expected id:key "
                                "in base64)") from None
            if len(key_id) != KEY_ID_BYTES or len(key) != 32:
                raise SealError(f"{source}, line {number}: a key id has {KEY_ID_BYTES} bytes "
                                "and a key 32")
            keys.append((key_id, key))
        if not keys:
            raise SealError(f"{source}: no key")
        return cls(tuple(keys))


def key_file_path(data_folder: Path) -> Path:
    return data_folder / KEY_FILE


def load_keyring(data_folder: Path, environ: Mapping[str, str] = os.environ,
                 *, create: bool = False) -> Keyring:
    """The keyring from ``$KINMATCH_KEYS`` or the key file in ``data_folder``;
    with ``create``, a new key file (mode 0600) when there is neither."""
    if environ.get(KEYS_ENV):
        return Keyring.loads(environ[KEYS_ENV].replace(";", "\n"), f"${KEYS_ENV}")
    path = key_file_path(data_folder)
    if path.exists():
        return Keyring.loads(path.read_text(), str(path))
    if not create:
        raise SealError(f"no key: {path} does not exist and ${KEYS_ENV} is not set "
                        "(`kinmatch db upgrade` creates a key file)")
    keyring = Keyring.generate()
    save_keyring(keyring, path)
    return keyring


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Write ``keyring`` to ``path`` atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# kinmatch keyring: keep it apart from the database and its backups\n")
        out.write(keyring.dumps())
    os.replace(temporary, path)
