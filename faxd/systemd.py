"""systemd's notify protocol without a dependency, and a watchdog that means something.

``notify`` sends one datagram to ``$NOTIFY_SOCKET`` (nothing if unset): ``READY=1``,
``STATUS=...``, ``WATCHDOG=1``, ``RELOADING=1``, ``STOPPING=1`` (sd_notify(3)).

A watchdog ping from a timer thread proves only that the timer thread runs. Here each
working loop (a modem's runner, the spool intake) registers with `Heartbeats` and beats
before each step, saying how long the step may take at most (an idle wait, a whole
call). `Watchdog` pings systemd only while every loop is within its allowance, so a
hung runner or a hung intake stops the pings and systemd restarts the service after
``WatchdogSec=``. A loop that ends (its thread died) stops beating and counts as hung.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("faxd.systemd")


def notify(state: str) -> bool:
    """Send ``state`` to the service manager. Returns whether there was one to tell."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:  # the manager went away; the daemon carries on
        log.warning("systemd.notify_failed", error=str(exc))
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between pings (half of ``WatchdogSec=``), or None when no watchdog is set
    or it is meant for another process (``WATCHDOG_PID``)."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(0.05, int(usec) / 2_000_000)
    except ValueError:
        return None


class Heartbeats:
    """The working loops' last signs of life: loop name -> the deadline it promised."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._deadlines: dict[str, float] = {}

    def beat(self, loop: str, allowance: float) -> None:
        """``loop`` is alive and will beat again within ``allowance`` seconds."""
        with self._lock:
            self._deadlines[loop] = self._clock() + allowance

    def forget(self, loop: str) -> None:
        """``loop`` ended on purpose (shutdown): no longer expected to beat."""
        with self._lock:
            self._deadlines.pop(loop, None)

    def stalled(self) -> list[str]:
        """The loops past their promised deadline, by name."""
        now = self._clock()
        with self._lock:
            return sorted(name for name, deadline in self._deadlines.items() if deadline < now)


class Watchdog(threading.Thread):
    """Pings ``WATCHDOG=1`` every ``interval`` while no loop has stalled, and refreshes
    ``STATUS=`` from ``status()`` at the same pace."""

    def __init__(self, heartbeats: Heartbeats, interval: float | None, status: Callable[[], str]) -> None:
        super().__init__(name="watchdog", daemon=True)
        self.heartbeats = heartbeats
        self.interval = interval
        self.status = status
        self.stopped = threading.Event()
        self._reported: tuple[str, ...] = ()

    def tick(self) -> bool:
        """One round: STATUS, then WATCHDOG=1 unless a loop stalled. Returns whether it pinged."""
        try:
            notify("STATUS=" + self.status())
        except Exception:  # boundary: a failing status query must not stop the pings' judgement
            log.exception("systemd.status_failed")
        stalled = tuple(self.heartbeats.stalled())
        if stalled != self._reported:
            self._reported = stalled
            if stalled:
                log.error("alarm.loop_stalled", loops=",".join(stalled))
        if stalled or self.interval is None:
            return False
        return notify("WATCHDOG=1")

    def run(self) -> None:
        # Without a watchdog the thread still refreshes STATUS= every 30 s.
        pace = self.interval if self.interval is not None else 30.0
        while not self.stopped.wait(pace):
            self.tick()

    def stop(self) -> None:
        self.stopped.set()
