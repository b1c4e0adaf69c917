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
import fcntl
import os
import re
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from faxd.redact import redact_text
from spool.entry import EntryRefused, entry_problem, open_regular, safe_name, sha256_of_descriptor
from spool.folders import SpoolFolders

SIDECAR_SUFFIX = ".json"
AGAIN_SUFFIX = ".again"  # marker written by ``faxctl send --again``: send even if a duplicate
REASON_SUFFIX = ".reason"
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", SIDECAR_SUFFIX, REASON_SUFFIX, AGAIN_SUFFIX)
COMPANION_SUFFIXES = (SIDECAR_SUFFIX, AGAIN_SUFFIX)
POISON_LIMIT = 3  # recoveries without finishing before a document is set aside
#: A reason is a sentence about what was wrong, never the input: this bounds it even
#: when a part of it (a field name, a limit) came from the document.
REASON_MAX = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


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
        # The folder, not the file: a file's name in incoming/ may be the patient's.
        where = os.path.dirname(os.fsdecode(exc.filename)) if isinstance(exc.filename, str | bytes) else ""
        return f"{os.strerror(exc.errno or 0)} ({where or 'storage'})"
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
    original_name: str  # the safe form (`spool.entry.safe_name`), never the name itself
    sha256: str  # "" when the content was not read (not a file, too large)
    size: int
    send_again: bool = False  # dropped with ``faxctl send --again``: not held back as a duplicate
    # Why it cannot be a document, found before its content was read (a pipe, a link,
    # too large, unreadable): the intake quarantines it with this reason.
    problem: str | None = None


def sha256_of(path: Path) -> str:
    """The SHA-256 of a regular file (not followed if a link). Raises EntryRefused."""
    fd = open_regular(path)
    try:
        return sha256_of_descriptor(fd)
    finally:
        os.close(fd)


def clean_reason(reason: str) -> str:
    """A reason fit for the journal, a ``.reason`` file and the database: one line,
    identity numbers masked, at most REASON_MAX characters."""
    text = redact_text(_CONTROL.sub(" ", reason.encode("utf-8", "replace").decode("utf-8")).strip())
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 3] + "..."


def being_written(path: Path) -> bool:
    """True if some process has the regular file at ``path`` open for writing.

    Asks the kernel with a read lease, which it refuses (EAGAIN) exactly while a writer
    has the file open. Where a lease is not allowed (another user's file without
    CAP_LEASE, a network file system) the answer is False: the writer's close event, or
    the rescan's settling time, is then what says the file is complete.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    finally:
        os.close(fd)


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
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:  # a 255-byte name can have no companion
                raise


def claim(folders: SpoolFolders, path: Path, *, max_bytes: int | None = None) -> Claimed | None:
    """Move the entry ``path`` (and its sidecar) into work/ and describe it.

    Whatever the entry is (a link, a pipe, a directory...) it is moved, never followed
    or opened blocking, and comes back with ``problem`` set, so that it is quarantined
    with a reason rather than left unseen. None if it is gone (another claim got it) or
    a regular file some process still has open for writing (its close event comes).
    """
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) and being_written(path):
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
    return describe(target, original_name=safe_name(path.name), max_bytes=max_bytes)


def describe(path: Path, original_name: str | None = None, *, max_bytes: int | None = None) -> Claimed:
    """An entry in work/ as a claim (also one found there after a crash).

    The cheap facts first: type and link (``lstat``), then size from the opened
    descriptor, and the hash only if those allow it: an 8 GiB file is never read, a pipe
    never opened blocking. What is wrong is in ``problem``.
    """
    problem = entry_problem(path)
    sha256, size = "", 0
    if problem is None:
        try:
            fd = open_regular(path)
        except EntryRefused as exc:
            problem = str(exc)
        else:
            try:
                size = os.fstat(fd).st_size
                if max_bytes is not None and size > max_bytes:
                    problem = (
                        f"the file is {size / 1048576:.1f} MB, larger than the limit of {max_bytes / 1048576:.0f} MB"
                    )
                else:
                    sha256 = sha256_of_descriptor(fd)
            except OSError as exc:
                if exc.errno in STORAGE_ERRNOS - {errno.EIO}:
                    raise
                problem = f"the file cannot be read ({errno.errorcode.get(exc.errno or 0, 'error')})"
            finally:
                os.close(fd)
    sidecar = sidecar_of(path)
    document_id = path.name.removesuffix(".pdf")
    return Claimed(
        document_id=document_id,
        path=path,
        sidecar=sidecar if os.path.lexists(sidecar) else None,
        original_name=original_name or document_id,
        sha256=sha256,
        size=size,
        send_again=os.path.lexists(again_marker_of(path)),
        problem=problem,
    )


def quarantine_target(folders: SpoolFolders, document_id: str, original_name: str) -> Path:
    """Where a quarantined document goes; known before it moves, so it can be recorded first.

    Named by the document id only: the original name may be the patient's.
    """
    return folders.quarantine / f"{document_id}.pdf"


def reason_text(*, original_name: str, document_id: str, sha256: str, reason: str) -> str:
    return (
        f"Document: {original_name}\n"
        f"Document id: {document_id}\n"
        f"SHA-256: {sha256 or '(not read)'}\n"
        f"Quarantined: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
        f"Reason: {clean_reason(reason)}\n"
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
    folder = destination_folder(folders, destination)
    target = target or folder / path.name
    if not os.path.lexists(path) and os.path.lexists(target):
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


def destination_folder(folders: SpoolFolders, destination: Destination) -> Path:
    """The folder a finished document goes to."""
    return {
        Destination.DONE: folders.done,
        Destination.FAILED: folders.failed,
        Destination.QUARANTINE: folders.quarantine,
    }[destination]


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
