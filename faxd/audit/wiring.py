"""The log's pieces as a configuration names them: the daemon's signing chain, a
reader's chain (no key: ``faxctl`` run by an auditor), the auditor's public key."""

from __future__ import annotations

from pathlib import Path

from faxd.audit.chain import Chain
from faxd.audit.head import HeadFile
from faxd.audit.keys import Verifier, load_signer, load_verifier
from faxd.config import Config


def head_file(config: Config) -> HeadFile | None:
    return HeadFile(config.audit.head_file) if config.audit.head_file else None


def signing_chain(config: Config) -> Chain:
    """The chain the daemon (or faxctl as the daemon's user) writes. Raises KeyMissing."""
    return Chain(
        load_signer(config.audit.signing_key), head_file(config), checkpoint_every=config.audit.checkpoint_every
    )


def reading_chain(config: Config) -> Chain:
    """A chain that can be read and verified but not written."""
    return Chain(None, head_file(config), checkpoint_every=config.audit.checkpoint_every)


def verifier(config: Config, public_key: Path | None = None) -> Verifier:
    """The public key to verify with: ``public_key`` if given, else the configured one.
    Raises KeyMissing."""
    return load_verifier(public_key or config.audit.public_key)
