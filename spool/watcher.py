"""Noticing complete files in ``incoming/``: inotify through watchdog, plus scans.

A file counts as complete when it was closed after writing (IN_CLOSE_WRITE), renamed
within the folder or moved in from another folder (IN_MOVED_TO, with or without a
matching IN_MOVED_FROM: watchdog's full events report both as moves), or hard-linked
in (IN_CREATE of a file that already has another link). A bare "created" event of a
new file is ignored because the writer may still be writing; its close follows. The
start-up scan takes whatever arrived while the daemon was down, and the daemon rescans
periodically as a safety net. Anything that is not a regular file (a link, a pipe, a
socket, a directory) is complete when it appears and is announced then, so that it is
quarantined with a reason rather than never seen. All only announce paths: claiming
(``spool.queue``) decides who gets a file, and nothing here opens one.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.inotify import InotifyObserver

from spool.queue import is_candidate


class _Handler(FileSystemEventHandler):
    def __init__(self, folder: Path, announce: Callable[[Path], None]) -> None:
        self.folder = folder
        self.announce = announce

    def _offer(self, raw: str | bytes) -> None:
        # os.fsdecode: a name that is not UTF-8 keeps its bytes (surrogateescape).
        path = Path(os.fsdecode(raw))
        if path.parent != self.folder:
            return
        if is_candidate(path):
            self.announce(path)
        elif path.name.endswith(".json"):
            # A sidecar that lands after its PDF: offer the PDF again, it may be waiting for it.
            pdf = path.with_name(path.name.removesuffix(".json"))
            if os.path.lexists(pdf):
                self.announce(pdf)

    def on_closed(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileClosedEvent) and not event.is_directory:
            self._offer(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        # With full events a move in from an unwatched folder is a move with no source.
        if isinstance(event, FileMovedEvent) and event.dest_path:
            if not event.is_directory or not _is_regular(event.dest_path):
                self._offer(event.dest_path)

    def on_created(self, event: FileSystemEvent) -> None:
        # A hard link is complete the moment it appears and brings no close event; a new
        # file (one link) is still being written and is taken at its close instead.
        raw = event.src_path
        if not _is_regular(raw):
            self._offer(raw)  # a link, pipe, socket or directory: set aside with a reason
        elif isinstance(event, FileCreatedEvent) and not event.is_directory:
            try:
                links = os.lstat(raw).st_nlink
            except OSError:
                return
            if links > 1:
                self._offer(raw)


class SpoolWatcher:
    """Calls ``announce(path)`` from a watchdog thread for each complete file."""

    def __init__(self, folder: Path, announce: Callable[[Path], None]) -> None:
        self.folder = folder.resolve()
        self.announce = announce
        self._observer = InotifyObserver(generate_full_events=True)
        self._observer.schedule(_Handler(self.folder, announce), str(self.folder), recursive=False)

    def start(self) -> None:
        # Watch first, then scan: a file arriving in between is announced twice, which
        # the claim makes harmless, rather than not at all.
        self._observer.start()
        for path in scan(self.folder):
            self.announce(path)

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)


def scan(folder: Path, settled_for: float = 0.0) -> list[Path]:
    """Candidates in the folder, oldest first; with ``settled_for``, only those not
    changed for that many seconds (a periodic rescan must not take a file mid-write)."""
    limit = time.time() - settled_for
    found: list[tuple[int, str, Path]] = []
    for path in folder.iterdir():
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue  # claimed meanwhile
        if not is_candidate(path):
            continue
        # Entries that are not regular files are found too (examined with lstat only,
        # never opened): they are complete as they are, and must not stay unseen.
        if not stat.S_ISREG(st.st_mode) or settled_for <= 0 or st.st_mtime <= limit:
            found.append((st.st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(found)]


def _is_regular(raw: str | bytes) -> bool:
    try:
        return stat.S_ISREG(os.lstat(raw).st_mode)
    except OSError:
        return True  # gone: nothing to announce
