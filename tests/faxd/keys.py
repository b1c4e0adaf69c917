"""Log keys for tests: one Ed25519 pair per test folder, outside its state folder."""

from __future__ import annotations

from pathlib import Path

from faxd.audit import Chain, HeadFile, generate, load_signer


def audit_config(root: Path) -> str:
    """The ``[audit]`` table for a test's faxd.toml: keys and head beside, not in, state/."""
    return (
        f'[audit]\nsigning_key = "{root}/keys/audit-signing.key"\npublic_key = "{root}/keys/audit-public.pem"\n'
        f'head_file = "{root}/log/audit-head"\n'
    )


def ensure_keys(root: Path) -> None:
    signing = root / "keys" / "audit-signing.key"
    if not signing.exists():
        generate(signing, root / "keys" / "audit-public.pem")


def signing_chain(root: Path) -> Chain:
    """A signing chain with its head file, made on first use and reused after."""
    ensure_keys(root)
    return Chain(load_signer(root / "keys" / "audit-signing.key"), HeadFile(root / "log" / "audit-head"))
