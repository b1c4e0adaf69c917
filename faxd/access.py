"""Who may read what the daemon keeps: its own user, and the auditors' group.

The state database, the page archive and the follow-up folder hold patient data (the
pages) and the confirmation log; the signing key proves the log. They are made with
modes that let the daemon's user in and, where an auditor needs to read, the group
named by ``[audit] group`` (by default the daemon's own group); nobody else.

At start the daemon **repairs** what is too open rather than refusing to start: these
paths are its own, a mode too open comes from a restore, a copy or an umask, and
refusing would stop the fax service in the middle of the outage it exists for. Each
repair is one journal line (``access.fixed``); a signing key that others could read is
also an alarm, since a key once read may have been copied. What it cannot repair (not
its file, an unknown group) stops it with one line naming the path and the fix.

The signing key is never group-readable: an auditor verifies with the public key, and
whoever can read the signing key can re-sign the log.

``faxctl`` checks the same paths before it opens the database (``require_reader``) and
refuses with one line, exit status 2, when its caller lacks access.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

import structlog

from faxd.config import Config
from faxerrors import FaxError

log = structlog.get_logger("faxd.access")

DIRECTORY_MODE = 0o750
FILE_MODE = 0o640
KEY_MODE = 0o600  # owner only (keygen writes 0400; the owner may also keep it 0600)


class AccessError(FaxError):
    """A guarded path cannot be made safe, or the caller may not read it; one line."""


@dataclass(frozen=True, slots=True)
class Guarded:
    path: Path
    what: str  # in words, for the one line
    most: int  # the most open mode allowed
    directory: bool
    group: bool  # the auditors' group reads it


def guarded(config: Config) -> list[Guarded]:
    """The paths the daemon guards, in the order they are checked."""
    database = config.database
    items = [
        Guarded(config.state, "the state folder", DIRECTORY_MODE, True, True),
        Guarded(config.state / "archive", "the page archive", DIRECTORY_MODE, True, True),
        Guarded(config.followup_folder, "the follow-up folder", DIRECTORY_MODE, True, True),
    ]
    for suffix in ("", "-wal", "-shm"):
        items.append(Guarded(Path(f"{database}{suffix}"), "the state database", FILE_MODE, False, True))
    items.append(Guarded(config.audit.signing_key, "the log's signing key", KEY_MODE, False, False))
    if config.audit.head_file is not None:
        items.append(Guarded(config.audit.head_file, "the published log head", FILE_MODE, False, True))
    return items


def auditors_gid(config: Config) -> int | None:
    """The configured auditors' group id; None when none is configured. Raises AccessError."""
    name = config.audit.group
    if name is None:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise AccessError(
            f"{config.source}: [audit.group] {name!r} is not a group on this machine: create it "
            f"(systemd-sysusers, or groupadd --system {name}) or remove the key"
        ) from None


def secure(config: Config) -> list[str]:
    """Create the guarded folders that are missing and repair modes and group; returns one
    line per repair (also logged). Raises AccessError when a path cannot be repaired."""
    gid = auditors_gid(config)
    fixed: list[str] = []
    for item in guarded(config):
        fresh = not _exists(item.path)
        if item.directory:
            item.path.mkdir(parents=True, exist_ok=True, mode=item.most)
        elif item.path == config.database and not item.path.exists():
            # Made here with its mode (SQLite takes an empty file as a new database; its
            # -wal and -shm files get the database file's mode), never left to the umask.
            item.path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
            os.close(os.open(item.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, item.most))
        try:
            st = item.path.stat()
        except FileNotFoundError:
            continue  # a file not made yet (the key's absence is reported where it is loaded)
        repaired = _repair(item, st, gid)
        if not fresh:  # a path made just now is set up, not repaired: no journal line
            fixed += repaired
            for line in repaired:
                log.warning("access.fixed", path=str(item.path), detail=line)
            if any("was mode" in line for line in repaired) and not item.group:
                log.error(
                    "alarm.signing_key_exposed",
                    path=str(item.path),
                    reason=f"{item.what} was readable by others: repaired; treat it as copied",
                )
    return fixed


def _repair(item: Guarded, st: os.stat_result, gid: int | None) -> list[str]:
    fixed = []
    mode = stat.S_IMODE(st.st_mode)
    extra = mode & 0o777 & ~item.most
    # With an auditors' group its folders are set-group-ID: what the daemon writes in them
    # (archive pages, packages) belongs to the group without a chown per file.
    inherit = stat.S_ISGID if item.directory and item.group and gid is not None and not mode & stat.S_ISGID else 0
    try:
        if gid is not None and item.group and st.st_gid != gid:
            os.chown(item.path, -1, gid)
            fixed.append(f"{item.what} {item.path} now belongs to the auditors' group")
        wanted = (mode & ~extra) | inherit
        if wanted != mode:
            os.chmod(item.path, wanted)
        if extra:
            fixed.append(f"{item.what} {item.path} was mode {mode:04o}, now {wanted:04o}")
    except PermissionError:
        owner = _user(st.st_uid)
        raise AccessError(
            f"{item.what} {item.path} is mode {mode:04o} (owner {owner}) and faxd (user {_user(os.geteuid())}) "
            f"cannot make it {item.most:04o}"
            + (" with the auditors' group" if gid is not None and item.group else "")
            + f": chown/chmod it, e.g. chmod {mode & ~extra & 0o7777:04o} {item.path}"
        ) from None
    return fixed


def require_reader(config: Config) -> None:
    """For faxctl: refuse in one line when the caller cannot read the state database.
    Nothing is refused when there is no state yet. Raises AccessError."""
    state = config.state
    try:
        state.stat()
    except FileNotFoundError:
        return
    except PermissionError:
        pass  # a folder above it is closed: reported below
    needed = [(state, os.X_OK)] + [
        (Path(f"{config.database}{s}"), os.R_OK) for s in ("", "-wal", "-shm") if _exists(Path(f"{config.database}{s}"))
    ]
    if all(os.access(path, how) for path, how in needed):
        return
    group = config.audit.group
    who = f"the daemon's user and the group {group}" if group else "the daemon's user and its group"
    raise AccessError(
        f"you ({_user(os.geteuid())}) cannot read the state database {config.database}: only {who} may; "
        "ask for your user to be added to that group"
    )


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except PermissionError:
        return True  # unknown, so checked (and refused) by os.access


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
