"""Taking a file out of ``incoming/`` exactly once, and putting it where it belongs after.

A claim is ``rename(2)`` into ``work/`` on the same filesystem: atomic, so two events
for one file (inotify and the start-up scan) can never both win, and the bytes never
exist in zero or two places. Writers must do the same: write elsewhere (or under a
hidden or ``.tmp`` name), then rename into ``incoming/``; a sidecar goes in first.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from spool.folders import SpoolFolders

SIDECAR_SUFFIX = ".json"
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", SIDECAR_SUFFIX, ".reason")


def is_candidate(path: Path) -> bool:
    """A file in incoming/ that should be taken: not hidden, not a temp file, not a sidecar."""
    name = path.name
    return not name.startswith(".") and not name.lower().endswith(IGNORED_SUFFIXES)


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def new_document_id() -> str:
    # Sorts in arrival order, unique without coordination.
    return time.strftime("D%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True, slots=True)
class Claimed:
    document_id: str
    path: Path  # work/<id>.pdf
    sidecar: Path | None  # work/<id>.pdf.json
    original_name: str
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def claim(folders: SpoolFolders, path: Path) -> Claimed | None:
    """Move ``path`` (and its sidecar) into work/. None if it is gone or not a regular file."""
    try:
        if not path.is_file() or path.is_symlink():
            return None
    except OSError:
        return None
    document_id = new_document_id()
    target = folders.work / f"{document_id}.pdf"
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None  # another event claimed it first
    sidecar_target: Path | None = folders.work / f"{document_id}.pdf{SIDECAR_SUFFIX}"
    try:
        os.rename(sidecar_of(path), sidecar_target)  # type: ignore[arg-type]
    except FileNotFoundError:
        sidecar_target = None
    fsync_dir(folders.work)
    fsync_dir(folders.incoming)
    return Claimed(
        document_id=document_id,
        path=target,
        sidecar=sidecar_target,
        original_name=path.name,
        sha256=sha256_of(target),
        size=target.stat().st_size,
    )


def reclaim(path: Path, original_name: str | None = None) -> Claimed:
    """A file already in work/ (found after a crash): describe it as a claim."""
    document_id = path.name.removesuffix(".pdf")
    sidecar = sidecar_of(path)
    return Claimed(
        document_id=document_id,
        path=path,
        sidecar=sidecar if sidecar.exists() else None,
        original_name=original_name or path.name,
        sha256=sha256_of(path),
        size=path.stat().st_size,
    )


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def quarantine(folders: SpoolFolders, claimed: Claimed, reason: str) -> Path:
    """Set the document aside with a ``.reason`` file a person can read. Returns its new path."""
    safe_name = claimed.original_name.replace(os.sep, "_")
    target = folders.quarantine / f"{claimed.document_id}-{safe_name}"
    write_atomically(
        target.with_name(target.name + ".reason"),
        (
            f"Document: {claimed.original_name}\n"
            f"Document id: {claimed.document_id}\n"
            f"SHA-256: {claimed.sha256}\n"
            f"Quarantined: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
            f"Reason: {reason}\n"
            "Nothing was faxed. Correct the document or its routing data and drop it into the spool again.\n"
        ).encode(),
    )
    os.rename(claimed.path, target)
    if claimed.sidecar is not None and claimed.sidecar.exists():
        os.rename(claimed.sidecar, target.with_name(target.name + SIDECAR_SUFFIX))
    fsync_dir(folders.quarantine)
    return target


def file_away(folder: Path, path: Path) -> Path:
    """Move a finished document (and its sidecar) out of work/ into ``folder``."""
    target = folder / path.name
    os.rename(path, target)
    sidecar = sidecar_of(path)
    if sidecar.exists():
        os.rename(sidecar, sidecar_of(target))
    fsync_dir(folder)
    return target
