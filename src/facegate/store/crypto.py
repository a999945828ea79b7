"""Keys and field encryption for data at rest.

One master secret (``FACEGATE_SECRET_KEY`` or a key file created on first use
with mode 0600) is stretched with HKDF into two independent keys:

* an AES-256-GCM key that encrypts templates, NIKs and names; every ciphertext
  is bound to its row and column by the associated data, so a value copied
  into another row does not decrypt;
* an HMAC-SHA256 key that turns a NIK into a stable pseudonym for look-ups,
  so the database can find a person by NIK without holding the NIK in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ConfigurationError

__all__ = ["Keyring", "read_secret", "new_secret", "write_key_file"]

_NONCE = 12
_KEY_BYTES = 32


def read_secret(secret: str | None, key_file: Path) -> bytes | None:
    """The master secret from configuration or ``key_file``; None if neither exists yet."""
    if secret:
        if len(secret) < 32:
            raise ConfigurationError("FACEGATE_SECRET_KEY must be at least 32 characters long.")
        return secret.encode()
    try:
        mode = key_file.stat().st_mode
        if mode & 0o077:
            raise ConfigurationError(
                f"Key file {key_file} can be read by other users (mode {oct(mode & 0o777)}); run: chmod 600 {key_file}"
            )
        raw = base64.b64decode(key_file.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        raise ConfigurationError(f"Key file {key_file} cannot be read as a facegate key ({exc}); restore it from backup.") from exc
    if len(raw) != _KEY_BYTES:
        raise ConfigurationError(f"Key file {key_file} holds {len(raw)} bytes, not {_KEY_BYTES}; restore it from backup.")
    return raw


def new_secret() -> bytes:
    return secrets.token_bytes(_KEY_BYTES)


def write_key_file(key_file: Path, raw: bytes) -> None:
    """Create ``key_file`` (mode 0600, never overwriting one that exists)."""
    try:
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigurationError(f"Key file {key_file} appeared while starting; run the command again.") from exc
    except OSError as exc:
        raise ConfigurationError(f"Cannot create key file {key_file}: {exc.strerror}.") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(raw) + b"\n")


class Keyring:
    def __init__(self, master: bytes) -> None:
        def derive(purpose: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"facegate/" + purpose).derive(master)

        self._master = master
        self._aead = AESGCM(derive(b"aes-gcm/v1"))
        self._mac_key = derive(b"hmac-pseudonym/v1")
        #: Short fingerprint to tell keys apart (safe to log).
        self.key_id = hashlib.sha256(derive(b"key-id/v1")).hexdigest()[:12]

    def master_backup(self) -> bytes:
        """The master secret, for writing the key file once."""
        return self._master

    def pseudonym(self, value: str, purpose: str = "nik") -> str:
        digest = hmac.new(self._mac_key, f"{purpose}:{value}".encode(), hashlib.sha256)
        return digest.hexdigest()

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, blob: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                "Stored data cannot be decrypted with this key (wrong FACEGATE_SECRET_KEY or key file, "
                "or the record was tampered with)."
            ) from exc

    def encrypt_text(self, text: str, context: str) -> bytes:
        return self.encrypt(text.encode(), context)

    def decrypt_text(self, blob: bytes, context: str) -> str:
        return self.decrypt(blob, context).decode()
