"""A modem's life in its runner: open and probe it, probe it again on a schedule, mark it
down and up, close it. ``ModemState`` is what the status shows for it.

``ModemLife`` is a part of ``faxd.runner.ModemRunner``, which sets the attributes declared
here; the loop (``faxd/runner.py``) reopens a modem that is down every REOPEN_DELAY_SECONDS.
"""

from __future__ import annotations

import enum
import termios
import time
from collections.abc import Callable

import structlog
from serial import SerialException

from drivers.modem import FaxModem, ModemUnavailable
from drivers.port import DriverError
from faxd.config import ModemConfig
from faxd.store import Store
from imaging import RenderWorker
from spool.queue import storage_trouble

log = structlog.get_logger("faxd.runner")

# A modem that is down is tried again this often (unplugged, powered off, the pty gone).
REOPEN_DELAY_SECONDS = 10.0
# Serial errors a driver may let through; each means the modem, not the job, failed.
# termios.error is not an OSError: tcflush on a pty whose other side is gone raises it.
SERIAL_ERRORS = (SerialException, DriverError, termios.error)
MODEM_FAILURES = (ModemUnavailable, SerialException, DriverError, termios.error)


class ModemState(enum.StrEnum):
    """What ``faxctl status`` and SNMP show for a modem (with the reason beside it)."""

    UNKNOWN = "unknown"
    READY = "ready"
    DEGRADED = "degraded"  # it answers, but its last call failed in the modem
    DOWN = "down"  # it does not answer; reopened every REOPEN_DELAY_SECONDS
    STOPPED = "stopped"


class ModemLife:
    """The modem's side of a ``ModemRunner``: open, probe, down, up, close."""

    modem_config: ModemConfig
    open_modem: Callable[[], FaxModem]
    store: Store
    _modem: FaxModem | None
    _state: ModemState
    _down_reason: str | None
    _ready_detail: str | None
    _last_used: float
    _renderer: RenderWorker

    @property
    def modem_name(self) -> str:
        return self.modem_config.name

    def open(self) -> bool:
        """Open and probe the modem; on failure mark it down. Returns whether it is ready."""
        try:
            self._modem = self.open_modem()
            self._modem.probe()
        except MODEM_FAILURES as exc:
            self._modem_down(str(exc))
            return False
        # The status shows what the driver says it is (e.g. "Class 2.0", also when the
        # class was chosen by class = "auto"); FaxModem does not require the attribute.
        self._ready_detail = getattr(self._modem, "description", None)
        self._set_state(ModemState.READY, self._ready_detail)
        log.info("modem.ready", modem=self.modem_name, detail=self._ready_detail)
        self._last_used = time.monotonic()
        return True

    def probe(self) -> bool:
        """The idle check: does the open modem still answer AT? If not it is marked down
        (the loop reopens it on a schedule). Returns whether it answered."""
        if self._modem is None:
            return False
        try:
            self._modem.probe()
        except MODEM_FAILURES as exc:
            self._modem_down(str(exc))
            return False
        finally:
            self._last_used = time.monotonic()
        if self._state is ModemState.DEGRADED:
            self._set_state(ModemState.READY, self._ready_detail)
        return True

    def _probe_due(self) -> bool:
        interval = self.modem_config.probe_seconds
        return interval > 0 and self._modem is not None and time.monotonic() - self._last_used >= interval

    def _set_state(self, state: ModemState, reason: str | None) -> None:
        previous, self._state = self._state, state
        self.store.set_modem_state(self.modem_name, self.modem_config.device, state.value, reason)
        if state is ModemState.READY and previous is ModemState.DOWN:
            log.warning("modem.up", modem=self.modem_name, reason="the modem answers again", was=self._down_reason)
        elif state is ModemState.DEGRADED and previous is not ModemState.DEGRADED:
            log.warning("modem.degraded", modem=self.modem_name, reason=reason)

    def _modem_down(self, reason: str) -> None:
        """Close the port and mark the modem down; the loop reopens it on a schedule."""
        if self._modem is not None:
            try:
                self._modem.close()
            except (OSError, DriverError, termios.error):
                pass  # the port is already gone: closing it cannot fail any worse
            self._modem = None
        if self._state is not ModemState.DOWN:
            # One event per outage, not one per reopen attempt.
            log.error("modem.down", modem=self.modem_name, reason=reason)
            self._down_reason = reason
        self._set_state(ModemState.DOWN, reason)

    def close(self) -> None:
        """Ends this runner's hold on things: the render child stops, the modem is closed
        and marked stopped. ``run`` does this when it stops; a test that drives
        ``run_once`` itself does it at the end."""
        self._renderer.close()
        if self._modem is not None:
            self._modem.close()
            self._modem = None
        self._state = ModemState.STOPPED
        try:
            self.store.set_modem_state(self.modem_name, self.modem_config.device, ModemState.STOPPED.value)
        except Exception as exc:  # supervisor boundary: stopping on a full or read-only state
            if storage_trouble(exc) is None:
                raise
            # Nothing is lost: faxctl status shows no modem state while no daemon runs.
            log.warning("modem.stop_unrecorded", modem=self.modem_name, reason=storage_trouble(exc))
