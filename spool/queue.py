"""The durable queue's files: how a document enters, is claimed, recovered and filed.

Guarantees
    1. A document dropped into ``incoming/`` is faxed, refused with a reason, or set aside
       with a reason: never lost, whatever moment the daemon is killed at.
    2. It is processed as one document, once: it can never be routed twice, nor exist
       under two names in the spool.
    3. No temporary or half-written file is left behind in the spool or the archive.

The argument (Mailman's switchboard and Maildir, applied to a folder of PDFs)
    * Write, fsync, rename. A file is published by ``rename(2)`` of a complete, fsynced
      temporary into its folder, then the folder is fsynced (``write_atomically``). A
      reader therefore sees the whole file or none of it, before and after a power cut.
      Writers into ``incoming/`` are asked to do the same (``faxctl send`` does).
    * Claim by rename. ``claim`` renames a file from ``incoming/`` into ``work/`` under a
      fresh document id. rename is atomic on one filesystem, so of two announcements of
      one file (inotify and a rescan) exactly one wins, and the bytes are always in
      exactly one of the two folders.
    * Record, then move. The database (SQLite, ``synchronous=FULL``) says what became of a
      document before its file leaves ``work/``; ``file_document`` is the one function
      that moves a finished document out of ``work/`` (to ``done/``, ``failed/`` or
      ``quarantine/``), and it is idempotent: run again after a crash it finishes the move.
    * Recover. At start-up, and again whenever storage comes back, every PDF in ``work/``
      is looked at on its own: unrecorded ones are processed again (a crash between the
      claim and the commit leaves exactly those), recorded finished ones are filed.
      Because the commit is one transaction, a document is recorded whole or not at all,
      so processing it again can never make two documents of it.
    * Poison guard. Before an unrecorded document is processed again, its recovery count
      is written (``note_recovery``). A document that brings the daemon down each time it
      is processed therefore reaches ``POISON_LIMIT`` and is set aside with a reason
      instead of keeping the daemon from starting; one that merely fails is set aside at
      once with the error as its reason, and the others continue.
    * Temporaries. Every temporary starts with ``.`` and ends in ``.tmp``; a failed write
      removes its own, and ``sweep_temporaries`` removes those a kill left (start-up only,
      when the daemon's lock guarantees no writer is running).
"""

from __future__ import annotations

import enum
import errno
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spool.folders import SpoolFolders

SIDECAR_SUFFIX = ".json"
AGAIN_SUFFIX = ".again"  # marker written by ``faxctl send --again``: send even if a duplicate
REASON_SUFFIX = ".reason"
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", SIDECAR_SUFFIX, REASON_SUFFIX, AGAIN_SUFFIX)
COMPANION_SUFFIXES = (SIDECAR_SUFFIX, AGAIN_SUFFIX)
POISON_LIMIT = 3  # recoveries without finishing before a document is set aside


class Destination(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    QUARANTINE = "quarantine"


# errno values that mean "the storage cannot take writes now", not "this document is bad".
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
_SQLITE_STORAGE_WORDS = ("disk is full", "readonly database", "disk i/o error", "unable to open database")


def storage_trouble(exc: BaseException) -> str | None:
    """If ``exc`` says the disk is full, read-only or failing, a short description; else None.

    Such an error must never quarantine a document or use up a job's try: the document
    is fine, the storage is not, and it waits until the storage takes writes again.
    """
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        return f"{os.strerror(exc.errno or 0)} ({exc.filename or 'storage'})"
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        text = str(exc).lower()
        if any(words in text for words in _SQLITE_STORAGE_WORDS):
            return f"database: {exc}"
    return None


def is_candidate(path: Path) -> bool:
    """A file in incoming/ that should be taken: not hidden, not a temp file, not a sidecar."""
    name = path.name
    return not name.startswith(".") and not name.lower().endswith(IGNORED_SUFFIXES)


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def again_marker_of(path: Path) -> Path:
    return path.with_name(path.name + AGAIN_SUFFIX)


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
    send_again: bool = False  # dropped with ``faxctl send --again``: not held back as a duplicate


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


def write_atomically(path: Path, data: bytes) -> None:
    """Publish ``data`` at ``path`` whole or not at all; on failure nothing is left behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            # fsync the data before the rename: otherwise a power cut can leave the new
            # name pointing at an empty or partial file.
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # fsync the folder: the rename itself is only durable once the directory is.
    fsync_dir(path.parent)


def _move_companions(source: Path, target: Path) -> None:
    for suffix in COMPANION_SUFFIXES:
        companion = source.with_name(source.name + suffix)
        try:
            os.rename(companion, target.with_name(target.name + suffix))
        except FileNotFoundError:
            pass


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
        return None  # another announcement claimed it first
    _move_companions(path, target)
    # fsync both folders: after a power cut the file must be in work/ (where recovery
    # looks), not back in incoming/ under a name a second claim could take again.
    fsync_dir(folders.work)
    fsync_dir(folders.incoming)
    return describe(target, original_name=path.name)


def describe(path: Path, original_name: str | None = None) -> Claimed:
    """A file in work/ as a claim (also one found there after a crash)."""
    sidecar = sidecar_of(path)
    return Claimed(
        document_id=path.name.removesuffix(".pdf"),
        path=path,
        sidecar=sidecar if sidecar.exists() else None,
        original_name=original_name or path.name,
        sha256=sha256_of(path),
        size=path.stat().st_size,
        send_again=again_marker_of(path).exists(),
    )


reclaim = describe


def quarantine_target(folders: SpoolFolders, document_id: str, original_name: str) -> Path:
    """Where a quarantined document goes; known before it moves, so it can be recorded first."""
    safe_name = original_name.replace(os.sep, "_").lstrip(".") or "document"
    return folders.quarantine / f"{document_id}-{safe_name}"


def reason_text(*, original_name: str, document_id: str, sha256: str, reason: str) -> str:
    return (
        f"Document: {original_name}\n"
        f"Document id: {document_id}\n"
        f"SHA-256: {sha256}\n"
        f"Quarantined: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
        f"Reason: {reason}\n"
        "Nothing was faxed. Correct the document or its routing data and drop it into the spool again.\n"
    )


def file_document(
    folders: SpoolFolders,
    path: Path,
    destination: Destination,
    *,
    target: Path | None = None,
    reason: str | None = None,
) -> Path:
    """Move a finished document (and its companions) out of work/; the one way out.

    ``destination`` says where; a quarantined document gets ``target`` (from
    ``quarantine_target``) and a ``.reason`` file with ``reason`` written before it moves.
    Idempotent: if the document already left work/ it returns where it is. Returns the
    document's new path. Raises OSError (e.g. a full disk) with nothing moved or left.
    """
    folder = {
        Destination.DONE: folders.done,
        Destination.FAILED: folders.failed,
        Destination.QUARANTINE: folders.quarantine,
    }[destination]
    target = target or folder / path.name
    if not path.exists() and target.exists():
        return target  # a crash after the move: nothing left to do
    if destination is Destination.QUARANTINE and reason is not None:
        write_atomically(target.with_name(target.name + REASON_SUFFIX), reason.encode())
    os.rename(path, target)
    _move_companions(path, target)
    # fsync the destination: the file must not fall back into work/ after a power cut,
    # where recovery would look at it again (harmless, but the move would be lost).
    fsync_dir(folder)
    forget_recovery(path)
    return target


def file_away(folder: Path, path: Path) -> Path:
    """Older name: move a finished document into ``folder`` (done/ or failed/)."""
    destination = Destination.DONE if folder.name == "done" else Destination.FAILED
    return file_document(SpoolFolders(folder.parent), path, destination)


def quarantine(folders: SpoolFolders, claimed: Claimed, reason: str) -> Path:
    """Set a claimed document aside with a ``.reason`` file a person can read. Returns its new path."""
    return file_document(
        folders,
        claimed.path,
        Destination.QUARANTINE,
        target=quarantine_target(folders, claimed.document_id, claimed.original_name),
        reason=reason_text(
            original_name=claimed.original_name, document_id=claimed.document_id, sha256=claimed.sha256, reason=reason
        ),
    )


def in_work(folders: SpoolFolders) -> list[Path]:
    """The documents in work/, oldest first (ids sort in arrival order)."""
    return sorted(folders.work.glob("*.pdf"))


def note_recovery(path: Path) -> int:
    """Count one more recovery of the document at ``path``, durably, before it is processed.

    Returns the new count. Written first, so a document that kills the daemon while it is
    processed is still counted (the poison guard). Raises OSError when the disk cannot
    take the write: then nothing is processed.
    """
    counter = path.parent / f".{path.name}.recovered"
    try:
        count = int(counter.read_text().strip() or "0")
    except (FileNotFoundError, ValueError):
        count = 0
    write_atomically(counter, f"{count + 1}\n".encode())
    return count + 1


def forget_recovery(path: Path) -> None:
    """The document is recorded (or gone): its recovery count is no longer needed."""
    (path.parent / f".{path.name}.recovered").unlink(missing_ok=True)


def sweep_temporaries(folders: Iterable[Path]) -> list[Path]:
    """Remove temporaries a kill left (``.*.tmp``) in ``folders``. Returns what was removed.

    Only at start-up, under the daemon's lock: no writer of ours can be running then, and
    writers into incoming/ are told to use names ending in ``.tmp`` only while writing.
    """
    removed: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for tmp in folder.glob(".*.tmp"):
            try:
                tmp.unlink()
                removed.append(tmp)
            except FileNotFoundError:
                pass
    return removed
