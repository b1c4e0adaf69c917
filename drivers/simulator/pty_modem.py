"""``SimulatedModem``: a Class 1 fax modem on a pseudo-terminal, with a fax machine behind it.

The pattern is iaxmodem's (SpanDSP ``tests/pseudo_terminals.c``): open a pty, optionally
symlink a stable name to the slave, and run the modem on the master in a background
thread. The host (faxd, or a test) opens the slave path like any serial port.

We keep our own descriptor of the slave open for the simulator's whole life: otherwise,
whenever the host closes the port, reads on the master fail with EIO until it reopens,
and the thread would have to poll. Stale output is harmless: the driver flushes input
when it opens the port.

The thread waits in ``select`` until the host writes, the DCE's next deadline (a
receive's wait for carrier, the end of a wedge) or the idle timeout, whichever is first.
The ``close_after_page`` fault closes the pty like an unplugged USB modem: the host's
reads and writes fail with EIO; the thread then opens a new pty and points the link at
it, so a daemon configured with the link finds the "replugged" modem again.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import select
import signal
import struct
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

import structlog

from drivers.simulator.class2_dce import PERSONALITIES, Class2Dce
from drivers.simulator.dce import RECEIVE_TIMEOUT, EmulatedDce
from drivers.simulator.output import write_call
from drivers.simulator.profiles import DEFAULT_KEY, number_key
from drivers.simulator.quirks import KIND, ModemQuirks
from drivers.simulator.remote import ReceivedCall, RemoteProfile

logger = structlog.get_logger("drivers.simulator")

#: A host that stops reading for this long is gone; what it has not read is dropped.
WRITE_STALL_SECONDS = 5.0
# With keep_pages=False: how many ended calls (without bitmaps) stay in memory.
RECENT_CALLS = 64


class _HostGone(Exception):
    """The host stopped reading the pty."""


class SimulatedModem:
    """A simulated Class 1 modem on a pty; see the module docstring."""

    def __init__(
        self,
        *,
        csi: str = "040 628 04 99",
        out_dir: Path | None = None,
        speed: float = 0.0,
        link: Path | None = None,
        profiles: Mapping[str, RemoteProfile] | None = None,
        csi_for_number: Callable[[str], str | None] | None = None,
        idle_timeout: float = 60.0,
        receive_timeout: float = RECEIVE_TIMEOUT,
        fax_class: str = "1",
        keep_pages: bool = True,
        quirks: ModemQuirks = KIND,
    ) -> None:
        """``speed`` scales line time: 0 no delays, 1 real pace. ``fax_class`` is the
        personality: "1" (T.31), or "2", "2.0", "2.1" (``class2_dce``).

        Who answers a dialled number (the dial string as the modem got it, e.g.
        "0406280499" or "0,0406280499" with an outside-line prefix): ``profiles[number]``,
        else ``profiles[digits]`` (the digits after the last ``,``: see
        ``profiles.number_key``), else the default remote, ``profiles["*"]`` if present
        or one with the CSI ``csi``; for the default, ``csi_for_number(number)`` may name
        another CSI. A call with no host activity for ``idle_timeout`` seconds is
        dropped; ``receive_timeout`` is how long +FRH/+FRM wait for a carrier before
        NO CARRIER (a modem setting: not scaled by ``speed``). ``quirks`` is how the
        modem itself misbehaves (``quirks.py``; the kind modem by default).

        ``keep_pages=False`` (a long-running simulator, e.g. inside the daemon) keeps in
        memory only the last ``RECENT_CALLS`` calls, without their page bitmaps, once the
        call is written to ``out_dir``: memory stays bounded however many faxes arrive.
        """
        if speed < 0:
            raise ValueError("speed is a factor on line time and cannot be negative")
        self.out_dir = out_dir
        self.speed = speed
        self.link = link
        self.profiles = dict(profiles or {})
        default = self.profiles.pop(DEFAULT_KEY) if DEFAULT_KEY in self.profiles else None
        self.default_profile = default or RemoteProfile(csi=csi)
        self.csi_for_number = csi_for_number
        self.idle_timeout = idle_timeout
        self.receive_timeout = receive_timeout
        if fax_class != "1" and fax_class not in PERSONALITIES:
            raise ValueError(f"no simulated Class {fax_class} modem: one of 1, {', '.join(PERSONALITIES)}")
        self.fax_class = fax_class
        self.quirks = quirks
        self._close_requested = False
        self.path: str | None = None
        self.keep_pages = keep_pages or out_dir is None
        self._calls: deque[ReceivedCall] = deque(maxlen=None if self.keep_pages else RECENT_CALLS)
        self._ended = 0  # calls ended so far (the deque may hold fewer)
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = -1
        self._slave = -1
        self._wake_r, self._wake_w = -1, -1

    # --- life cycle -----------------------------------------------------------------

    def start(self) -> str:
        """Opens the pty and starts the modem thread; returns the slave path."""
        if self._thread is not None:
            raise RuntimeError("the simulated modem is already running")
        path = self._open_pty()
        self._wake_r, self._wake_w = os.pipe()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="simulated-modem", daemon=True)
        self._thread.start()
        logger.info("simulator.started", path=path, link=str(self.link) if self.link else None)
        return path

    def _open_pty(self) -> str:
        """Opens a pty, points the link at it; returns the slave path."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing: bytes pass as a serial line's would
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.tmp")
            tmp.unlink(missing_ok=True)
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link)
        return self.path

    def _reopen_pty(self) -> None:
        """Closes the pty (the host sees EIO) and opens a new one behind the link."""
        self._close_requested = False
        old = self.path
        os.close(self._master)
        os.close(self._slave)
        with self._changed:
            self._open_pty()
            self._changed.notify_all()
        logger.info("simulator.pty_reopened", closed=old, path=self.path)

    def stop(self) -> None:
        """Stops the thread, closes the pty and removes the link; idempotent."""
        if self._thread is None:
            return
        self._stopping.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        self._thread = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)
        if self.link is not None and self.link.is_symlink() and os.readlink(self.link) == self.path:
            self.link.unlink()
        logger.info("simulator.stopped", path=self.path)

    def __enter__(self) -> SimulatedModem:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- results --------------------------------------------------------------------

    @property
    def calls_kept(self) -> int | None:
        """How many ended calls the simulator keeps in memory (None: all, with their pages)."""
        return self._calls.maxlen

    @property
    def calls(self) -> list[ReceivedCall]:
        """A copy of the calls ended so far, oldest first."""
        with self._changed:
            return list(self._calls)

    def wait_for_calls(self, count: int, timeout: float) -> list[ReceivedCall]:
        """Returns the calls once ``count`` have ended; raises ``TimeoutError`` after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._ended >= count, timeout=timeout):
                raise TimeoutError(f"{self._ended} of {count} simulated calls ended in {timeout} s")
            return list(self._calls)

    def wait_for_new_pty(self, old_path: str, timeout: float) -> str:
        """Returns the slave path once the pty behind ``old_path`` has been replaced (the
        ``close_after_page`` fault); raises ``TimeoutError`` after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.path != old_path, timeout=timeout):
                raise TimeoutError(f"the pty {old_path} was not replaced in {timeout} s")
            assert self.path is not None
            return self.path

    def profile_for(self, number: str) -> RemoteProfile:
        """Returns the remote that answers ``number``; see ``__init__``."""
        for key in (number, number_key(number)):
            if key in self.profiles:
                return self.profiles[key]
        csi = self.csi_for_number(number) if self.csi_for_number is not None else None
        return dataclasses.replace(self.default_profile, csi=csi) if csi else self.default_profile

    def _record(self, call: ReceivedCall) -> None:
        written = False
        if self.out_dir is not None:
            try:
                write_call(self.out_dir, call)
                written = True
            except OSError as exc:
                logger.error("simulator.output_failed", call_id=call.call_id, error=str(exc))
        logger.info(
            "simulator.call_ended",
            call_id=call.call_id,
            outcome=call.outcome.value,
            pages=len(call.pages),
            faults=",".join(call.faults) or None,
        )
        if written and not self.keep_pages:
            call = dataclasses.replace(call, pages=())  # the bitmaps are on disk now
        with self._changed:
            self._calls.append(call)
            self._ended += 1
            self._changed.notify_all()

    # --- the thread -----------------------------------------------------------------

    def _run(self) -> None:
        dce = self._new_dce()
        last_activity = time.monotonic()
        while not self._stopping.is_set():
            if self._close_requested:
                self._reopen_pty()
            wait = 1.0
            if dce.deadline is not None:
                wait = min(wait, max(0.0, dce.deadline - time.monotonic()))
            ready, _, _ = select.select([self._master, self._wake_r], [], [], wait)
            if self._wake_r in ready:
                break
            try:
                dce.expire()  # first: a deadline that passed came before any byte read now
                if self._master not in ready:
                    if dce.call is not None and time.monotonic() - last_activity > self.idle_timeout:
                        dce.hang_up("the host went quiet")
                        dce = self._new_dce(dce)
                    continue
                try:
                    limit = dce.read_limit if isinstance(dce, EmulatedDce) else None
                    data = os.read(self._master, limit or 65536)
                except BlockingIOError:
                    continue
                except OSError:  # the pty is broken (we hold a slave open, so not EIO): a new one
                    self._close_requested = True
                    continue
                last_activity = time.monotonic()
                dce.receive(data)
            except _HostGone:
                dce.hang_up("the host stopped reading")
                dce = self._new_dce(dce)
            except Exception:  # the thread's boundary: log the bug, start afresh, keep serving
                logger.exception("simulator.dce_failed")
                dce = self._new_dce(dce)
        dce.hang_up("the simulator stopped")

    def _new_dce(self, old: EmulatedDce | Class2Dce | None = None) -> EmulatedDce | Class2Dce:
        common = dict(
            write=self._write,
            pause=self._pause,
            profile_for=self.profile_for,
            on_call_ended=self._record,
            close_line=self._request_close,
            receive_timeout=self.receive_timeout,
        )
        dce: EmulatedDce | Class2Dce
        if self.fax_class == "1":
            dce = EmulatedDce(**common, quirks=self.quirks, in_flight=self._in_flight)  # type: ignore[arg-type]  # the keyword set both share
        else:
            dce = Class2Dce(**common, fax_class=self.fax_class)  # type: ignore[arg-type]  # likewise
        if old is not None:
            dce.call_count = old.call_count  # call ids stay unique across resets
        return dce

    def _in_flight(self) -> int:
        """Returns how many octets the host has written that the DCE has not read."""
        try:
            raw = fcntl.ioctl(self._master, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return 0
        return int(struct.unpack("i", raw)[0])

    def _request_close(self) -> None:
        """The ``close_after_page`` fault: the thread closes the pty once the DCE returns."""
        self._close_requested = True

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + WRITE_STALL_SECONDS
        while view:
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise _HostGone() from None
                select.select([], [self._master], [], 0.1)

    def _pause(self, seconds: float) -> None:
        """Spends line time, scaled by ``speed``; returns early when stopping."""
        if self.speed > 0 and seconds > 0:
            self._stopping.wait(seconds * self.speed)


def run_simulator(
    link: Path,
    csi: str,
    out_dir: Path,
    speed: float,
    profiles: Mapping[str, RemoteProfile] | None = None,
    fax_class: str = "1",
    quirks: ModemQuirks = KIND,
) -> None:
    """Runs a simulated modem at ``link`` until SIGINT or SIGTERM; prints the pty path.

    ``profiles`` (from ``load_profiles``) says who answers which number; others get the
    default remote (the file's ``[default]``, else one answering as ``csi``).
    """
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    modem = SimulatedModem(
        csi=csi,
        out_dir=out_dir,
        speed=speed,
        link=link,
        profiles=profiles,
        fax_class=fax_class,
        keep_pages=False,
        quirks=quirks,
    )
    try:
        path = modem.start()
        numbers = len(modem.profiles)
        print(
            f"simulated Class {fax_class} modem on {path} (link {link}); answering as {modem.default_profile.csi!r}"
            + (f", {numbers} numbers with their own profile" if numbers else ""),
            flush=True,
        )
        done.wait()
    finally:
        modem.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
