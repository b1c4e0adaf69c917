"""Running ``spandsp-faxmodem``, the SpanDSP reference peer, for interop tests.

The peer (``interop/spandsp/``) presents a pty that behaves as a Class 1 fax modem
(SpanDSP's T.31 emulation); whatever the host dials is answered by SpanDSP's own
fax terminal, which stores each call as ``call-NNNN.tif`` plus ``call-NNNN.json``.
Nothing here was written by the people who write our Class 1 driver, which is the
point: the peer is the independent referee.

Synchronisation is on what the peer says or writes (the slave path on its stdout,
the call record appearing by rename); every wait has a deadline and nothing sleeps
for a fixed time.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = ROOT / "interop" / "spandsp"
PEER_BIN = PEER_DIR / "spandsp-faxmodem"
PEER_SOURCES = tuple(PEER_DIR / name for name in ("spandsp_faxmodem.c", "line.c", "line.h", "Makefile"))

DEBIAN_HINT = "apt-get install -y libspandsp-dev libtiff-dev pkg-config (plus gcc and make)"


def _have_build_deps() -> str | None:
    """Return why the peer cannot be built here, or None when it can."""
    for tool in ("make", "cc", "pkg-config"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    for package, module in (("libspandsp-dev", "spandsp"), ("libtiff-dev", "libtiff-4")):
        if subprocess.run(["pkg-config", "--exists", module], check=False).returncode != 0:
            return f"pkg-config does not know {module} ({package} not installed)"
    return None


def build_peer() -> Path:
    """Build ``spandsp-faxmodem`` if it is missing or stale and return its path.

    Skips the calling test, with the Debian packages to install, when the build
    dependencies are absent; fails it when they are present but the build breaks.
    """
    fresh = PEER_BIN.exists() and all(PEER_BIN.stat().st_mtime >= src.stat().st_mtime for src in PEER_SOURCES)
    if fresh:
        return PEER_BIN
    missing = _have_build_deps()
    if missing is not None:
        pytest.skip(f"SpanDSP reference peer cannot be built: {missing}; {DEBIAN_HINT}")
    # pytest-xdist workers may race to build: serialise on a lock file.
    with open(PEER_DIR / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(["make", "-C", str(PEER_DIR)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"building the SpanDSP peer failed:\n{result.stdout}\n{result.stderr}")
    return PEER_BIN


@dataclass
class SpandspPeer:
    """One running ``spandsp-faxmodem``: its pty link, output folder and log."""

    link: Path
    out: Path
    args: Sequence[str] = ()
    slave: str = ""
    proc: subprocess.Popen[str] | None = None
    log_lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> SpandspPeer:
        """Start the peer and wait for it to print the slave pty path; return self."""
        binary = build_peer()
        argv = [str(binary), "--link", str(self.link), "--out", str(self.out), *self.args]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        # The first stdout line is the slave path; read it on a thread so the
        # deadline holds even if the peer never prints.
        first: list[str] = []
        stdout = self.proc.stdout
        reader = threading.Thread(target=lambda: first.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not first or not first[0].strip():
            self.stop()
            raise AssertionError(f"peer did not report its pty:\n{self.log()}")
        self.slave = first[0].strip()
        return self

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log_lines.append(line.rstrip("\n"))

    def log(self) -> str:
        """Return the peer's stderr so far, for failure messages."""
        return "\n".join(self.log_lines[-400:])

    def wait_for_call(self, number: int, timeout: float) -> dict[str, Any]:
        """Wait for ``call-NNNN.json`` and return it parsed; raise AssertionError on timeout."""
        path = self.out / f"call-{number:04d}.json"
        arrived = threading.Event()

        class _Arrival(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if path.exists():
                    arrived.set()

        observer = Observer()
        observer.schedule(_Arrival(), str(self.out), recursive=False)
        observer.start()
        try:
            deadline = time.monotonic() + timeout
            # The peer writes the record under a temporary name and renames it: complete
            # when it appears. The short waits only let us notice a peer that died.
            while not (path.exists() or arrived.wait(min(0.5, max(0.0, deadline - time.monotonic())))):
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"peer exited ({self.proc.returncode}):\n{self.log()}")
                if time.monotonic() >= deadline:
                    raise AssertionError(f"no call record {path.name} within {timeout} s:\n{self.log()}")
        finally:
            observer.stop()
            observer.join(5)
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    def stop(self) -> int | None:
        """Stop the peer with SIGTERM (SIGKILL after 5 s); return its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._reader is not None:
            self._reader.join(2)
        return self.proc.returncode

    def __enter__(self) -> SpandspPeer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_host_side(link: Path) -> int:
    """Open the peer's pty as a host would (raw, non-blocking) and return the fd."""
    import termios
    import tty

    fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.IXON | termios.IXOFF)
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    return fd
