"""Noticing complete files in ``incoming/``: inotify through watchdog, plus a scan at start.

A file counts as complete when it was closed after writing (IN_CLOSE_WRITE) or renamed
into the folder (IN_MOVED_TO); a bare "created" event is ignored because the writer
may still be writing. The start-up scan takes whatever arrived while the daemon was
down. Both only announce paths: claiming (``spool.claim``) decides who gets a file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileClosedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from spool.claim import is_candidate


class _Handler(FileSystemEventHandler):
    def __init__(self, folder: Path, announce: Callable[[Path], None]) -> None:
        self.folder = folder
        self.announce = announce

    def _offer(self, raw: str | bytes) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        if path.parent != self.folder:
            return
        if is_candidate(path):
            self.announce(path)
        elif path.name.endswith(".json"):
            # A sidecar that lands after its PDF: offer the PDF again, it may be waiting for it.
            pdf = path.with_name(path.name.removesuffix(".json"))
            if pdf.exists():
                self.announce(pdf)

    def on_closed(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileClosedEvent) and not event.is_directory:
            self._offer(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent) and not event.is_directory:
            self._offer(event.dest_path)


class SpoolWatcher:
    """Calls ``announce(path)`` from a watchdog thread for each complete file."""

    def __init__(self, folder: Path, announce: Callable[[Path], None]) -> None:
        self.folder = folder.resolve()
        self.announce = announce
        self._observer = Observer()
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


def scan(folder: Path) -> list[Path]:
    """Candidates already in the folder, oldest first."""
    found = [p for p in folder.iterdir() if p.is_file() and is_candidate(p)]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))

