"""The log's Ed25519 keys: the daemon signs, an auditor verifies with the public key only.

The signing key lives outside the state folder (``audit.signing_key``, by default under
``/etc/faxd/``), readable by the daemon's user only, so whoever can write the database
cannot re-sign an edited chain. The public key may be handed to every auditor.

A missing key is an error that says how to create one; nothing here ever makes a key
on the side, because a fresh key would quietly make every earlier entry unverifiable.
Keys are created once, on purpose, with ``faxctl audit keygen``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from faxerrors import FaxError


class AuditError(FaxError):
    """The confirmation log cannot be used as asked; the message says what to do."""


class KeyMissing(AuditError):
    """A configured key file does not exist or cannot be read."""


class KeyUnreadable(KeyMissing):
    """The key exists but this user may not read it (faxctl: exit status 2, like any
    other lack of access)."""


@dataclass(frozen=True, slots=True)
class Verifier:
    """An Ed25519 public key and where it came from."""

    key: Ed25519PublicKey
    path: Path

    def valid(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @property
    def fingerprint(self) -> str:
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return raw.hex()[:16]


@dataclass(frozen=True, slots=True)
class Signer:
    """The daemon's Ed25519 private key."""

    key: Ed25519PrivateKey
    path: Path

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)

    def verifier(self) -> Verifier:
        return Verifier(self.key.public_key(), self.path)


def load_signer(path: Path) -> Signer:
    """The signing key at ``path`` (PEM, PKCS#8). Raises KeyMissing with what to do."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyMissing(
            f"the confirmation log's signing key {path} does not exist; create it once with "
            f"`faxctl audit keygen` as the daemon's user (a new key is never made on the side)"
        ) from None
    except PermissionError:
        raise KeyUnreadable(f"cannot read the log's signing key {path}: run as the daemon's user") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise KeyMissing(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"{path} is not an Ed25519 key")
    return Signer(key, path)


def load_verifier(path: Path) -> Verifier:
    """The public key at ``path`` (PEM). Raises KeyMissing."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyMissing(
            f"the log's public key {path} does not exist: ask the gateway's administrator for it "
            f"(it is written beside the signing key by `faxctl audit keygen`)"
        ) from None
    except PermissionError:
        raise KeyUnreadable(f"cannot read the log's public key {path}: permission denied") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyMissing(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMissing(f"{path} is not an Ed25519 public key")
    return Verifier(key, path)


def generate(signing_key: Path, public_key: Path) -> Verifier:
    """Create a new key pair. Refuses (AuditError) if either file exists: replacing a key
    would make the existing log unverifiable with the key auditors hold."""
    for path in (signing_key, public_key):
        if path.exists():
            raise AuditError(f"{path} already exists; a log keeps its key for its whole life")
    signing_key.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    public_key.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(signing_key, private, 0o400)
    _write_new(public_key, public, 0o444)
    return Verifier(key.public_key(), public_key)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: two key generations racing never overwrite each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
