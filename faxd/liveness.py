"""One daemon per state, and whether it is alive: a lock held for the daemon's life.

The daemon takes an exclusive ``flock`` on ``<state>/faxd.lock`` before it touches the
queue and holds it until it exits; the kernel drops it when the process dies, even by
SIGKILL, so a stale lock cannot keep a new daemon out. A second daemon on the same
state finds the lock taken and refuses to start (two daemons on one queue would each
claim the other's work and send a job twice).

The lock file also carries the daemon's heartbeat: its pid, when it started, when its
main loop last went round, and the storage trouble it sees. The file is a fixed 4 KiB
written in place (never grown), so the heartbeat still goes on when the disk is full.
``faxctl status`` reads it: no lock held means the daemon is not running; a lock held
with an old heartbeat means it is not answering.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from faxerrors import FaxError

LOCK_NAME = "faxd.lock"
RECORD_BYTES = 4096
HEARTBEAT_SECONDS = 5.0  # how often the main loop writes it
STALE_SECONDS = 60.0
LOCK_TRIES = 5  # a heartbeat older than this: the daemon is not answering


class AlreadyRunning(FaxError):
    """Another daemon holds the state's lock."""


def _now() -> datetime:
    return datetime.now(UTC)


class DaemonLock:
    """The state's lock, held from ``acquire`` until ``release`` or the process's end."""

    def __init__(self, state: Path) -> None:
        self.path = state / LOCK_NAME
        self._fd: int | None = None
        self._started = _now()

    def acquire(self) -> None:
        """Take the lock. Raises AlreadyRunning naming the other daemon's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(LOCK_TRIES):
            try:
                # Non-blocking: a second daemon must say so at once, not wait for the first.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt + 1 < LOCK_TRIES:
                    # ``faxctl status`` holds a shared lock for microseconds to look: try again.
                    time.sleep(0.05)
        else:
            other = read_record(fd).get("pid", "unknown")
            os.close(fd)
            raise AlreadyRunning(
                f"another faxd (pid {other}) is running on the state folder {self.path.parent}; "
                "one daemon per state: stop it first (systemctl stop faxd), or give this one its own paths.state"
            ) from None
        self._fd = fd
        # Reserve the record's space now, while the disk has room for it.
        os.ftruncate(fd, RECORD_BYTES)
        self.heartbeat()

    def heartbeat(self, storage: str | None = None) -> None:
        """Write pid, start, now and the storage trouble in place (no new blocks needed)."""
        if self._fd is None:
            return
        record = {
            "pid": os.getpid(),
            "started": self._started.isoformat(),
            "heartbeat": _now().isoformat(),
            "storage": storage,
        }
        data = json.dumps(record).encode()[: RECORD_BYTES - 1].ljust(RECORD_BYTES, b" ")
        try:
            os.pwrite(self._fd, data, 0)
        except OSError:
            pass  # a read-only remount: faxctl then sees the heartbeat age, which is the truth

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def read_record(fd: int) -> dict[str, object]:
    try:
        raw = os.pread(fd, RECORD_BYTES, 0).strip()
        value = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Liveness:
    running: bool
    answering: bool
    pid: int | None = None
    heartbeat_age_seconds: float | None = None
    storage: str | None = None

    @property
    def summary(self) -> str:
        if not self.running:
            return "not running"
        if not self.answering:
            age = f"{self.heartbeat_age_seconds:.0f} s" if self.heartbeat_age_seconds is not None else "ever"
            return f"not answering (pid {self.pid}, no heartbeat for {age})"
        if self.storage:
            return f"running (pid {self.pid}), storage alarm: {self.storage}"
        return f"running (pid {self.pid})"


def check(state: Path) -> Liveness:
    """Is a daemon running on ``state``, and is its main loop going round?

    Tries a shared lock without waiting: if it is granted, nobody holds the exclusive
    one, so no daemon is running (it is dropped again at once).
    """
    path = state / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return Liveness(running=False, answering=False)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            record = read_record(fd)
        else:
            return Liveness(running=False, answering=False)
    finally:
        os.close(fd)
    pid = record.get("pid")
    storage = record.get("storage")
    age: float | None = None
    beat = record.get("heartbeat")
    if isinstance(beat, str):
        try:
            age = (_now() - datetime.fromisoformat(beat)).total_seconds()
        except ValueError:
            age = None
    return Liveness(
        running=True,
        answering=age is not None and age <= STALE_SECONDS,
        pid=pid if isinstance(pid, int) else None,
        heartbeat_age_seconds=age,
        storage=storage if isinstance(storage, str) else None,
    )
