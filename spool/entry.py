"""Opening what someone put into the spool, without trusting what it is.

Anything can appear in ``incoming/``: a symbolic link to a file elsewhere, a named pipe
(opening it for reading blocks until a writer comes, for ever if none does), a socket,
a directory, a device, a file nobody may read, an 8 GiB sparse file. The rules here:

* A spool entry is only ever opened with ``O_NOFOLLOW | O_NONBLOCK``, and the *opened
  descriptor* is checked to be a regular file (``fstat``), so a link is never followed
  out of the spool and a pipe never blocks the intake. Renaming an entry (a claim,
  quarantine) moves the entry itself, never what a link points at.
* The cheap facts (type, size) are known before a byte is read; a file too
  large is refused without being hashed.
* Reasons are our own words about the entry ("a named pipe (FIFO)"), never its name or
  its bytes: a file name may be a patient's name.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

from faxd.redact import redact_filename
from faxerrors import FaxError

# Enough for every routing field of the contract many times over.
MAX_SIDECAR_BYTES = 64 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class EntryRefused(FaxError):
    """The entry cannot be used as a document (or sidecar); the message says why."""


def kind_of(mode: int) -> str:
    """What a file mode is, in words (for a reason)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def entry_problem(path: Path) -> str | None:
    """Why the entry at ``path`` (not followed) is not a file we may take, or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"the spool entry cannot be examined ({errno.errorcode.get(exc.errno or 0, 'error')})"
    if not stat.S_ISREG(st.st_mode):
        return f"the spool entry is {kind_of(st.st_mode)}, not a file; nothing was read from it"
    return None


def open_regular(path: Path, what: str = "the file") -> int:
    """A read-only descriptor on ``path``, which must be a regular file.

    Raises EntryRefused (a link, pipe, socket, directory, device, or a file that cannot
    be opened) with a reason in words. The caller closes the descriptor. A hard link is
    a regular file: linking a finished file into incoming/ is a way to publish it.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise EntryRefused(_open_failure(what, exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise EntryRefused(f"{what} is {kind_of(st.st_mode)}, not a file; nothing was read from it")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_failure(what: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return f"{what} is a symbolic link; links are not followed out of the spool"
    if exc.errno == errno.ENXIO:
        return f"{what} is a socket, not a file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{what} cannot be read (permission denied): give the faxd user read access"
    if exc.errno == errno.ENOENT:
        return f"{what} disappeared before it could be read"
    return f"{what} cannot be opened ({errno.errorcode.get(exc.errno or 0, 'error')})"


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The whole content of a small regular file, refused if larger than ``limit`` bytes.

    Raises EntryRefused.
    """
    fd = open_regular(path, what)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise EntryRefused(f"{what} is {size} bytes, more than the limit of {limit} bytes")
        data = os.read(fd, limit + 1)
    except OSError as exc:
        raise EntryRefused(f"{what} cannot be read ({errno.errorcode.get(exc.errno or 0, 'error')})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise EntryRefused(f"{what} is more than the limit of {limit} bytes")
    return data


def sha256_of_descriptor(fd: int) -> str:
    """The SHA-256 of an open file's content, read from its start in 1 MiB blocks."""
    digest = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        digest.update(block)
        offset += len(block)
    return digest.hexdigest()


def safe_name(name: str) -> str:
    """The form of an original file name that may be stored, shown and logged: a
    pseudonym (``file-<8 hex>.pdf``). The name itself may be the patient's."""
    try:
        pseudonym = redact_filename(name)
    except UnicodeEncodeError:  # a lone surrogate that is not a file system byte
        pseudonym = redact_filename(name.encode("utf-8", "replace").decode("utf-8"))
    stem, dot, suffix = pseudonym.partition(".")
    return pseudonym if not dot or _PLAIN_SUFFIX.fullmatch(suffix) else stem


_PLAIN_SUFFIX = re.compile(r"[A-Za-z0-9]{1,5}")
