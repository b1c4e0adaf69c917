"""What the daemon does for its operators: systemd readiness and watchdog, SNMP, metrics, alarms.

`Operations` is owned by the daemon. It

- tells systemd ``READY=1`` once the state is recovered, the spool is watched and at
  least one modem is up (``intake_ready`` plus a ``modem.ready``/``modem.up`` event),
  keeps ``STATUS=`` current and pings the watchdog only while every working loop
  beats (``faxd.systemd``);
- runs the SNMP agent and the metrics endpoint when configured;
- raises the alarms nobody else raises: ``alarm.backlog`` when the queue passes the
  threshold, ``alarm.audit_verification_failed`` when the hourly check of the
  confirmation log fails.

Everything it shows comes from ``faxd.health.snapshot`` (the database), redacted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog

from faxd import drill, events
from faxd.config import Config
from faxd.health import Health, snapshot
from faxd.store import Store, now_utc
from faxd.systemd import Heartbeats, Watchdog, notify, watchdog_interval
from faxerrors import FaxError
from routing.directory import Directory

log = structlog.get_logger("faxd.ops")

AUDIT_CHECK_SECONDS = 3600.0
UP_EVENTS = frozenset({"modem.ready", "modem.up"})


class Operations:
    def __init__(
        self,
        config: Config,
        store: Store,
        directory: Callable[[], Directory],
        storage: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.config = config
        self.store = store
        self.directory = directory
        self.storage = storage  # the daemon's storage alarm (None: the disks take writes)
        self.heartbeats = Heartbeats()
        self.watchdog = Watchdog(self.heartbeats, watchdog_interval(), self.status_line)
        self._lock = threading.Lock()
        self._modems_up: set[str] = set()
        self._intake_ready = False
        self._ready_sent = False
        self._backlog_raised = False
        self._next_audit_check = time.monotonic()
        self._agent: Any = None  # faxd.snmp.SnmpAgent, imported only when configured
        self._metrics: Any = None  # faxd.metrics.MetricsServer, likewise

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Subscribe to events, start SNMP and metrics if configured, start the watchdog.
        Raises faxd.snmp.SnmpError / OSError when a configured port cannot be bound."""
        events.subscribe(self.on_event)
        notify("STATUS=starting: recovering the queue, opening the modems")
        if self.config.ops.snmp is not None:
            from faxd.snmp import SnmpAgent

            self._agent = SnmpAgent(self.config.ops.snmp, self.health)
            self._agent.start()
        if self.config.ops.metrics is not None:
            from faxd.metrics import MetricsServer

            self._metrics = MetricsServer(self.config.ops.metrics, self.health)
            self._metrics.start()
        self.watchdog.start()

    def stop(self) -> None:
        self.watchdog.stop()
        events.unsubscribe(self.on_event)
        if self._agent is not None:
            self._agent.stop()
        if self._metrics is not None:
            self._metrics.stop()

    # -- readiness --------------------------------------------------------------------

    def intake_ready(self) -> None:
        """The state is recovered and the spool watched; READY follows once a modem is up."""
        with self._lock:
            self._intake_ready = True
        self._maybe_ready()

    def on_event(self, event: Mapping[str, Any]) -> None:
        name = event.get("event")
        modem = str(event.get("modem", ""))
        if name in UP_EVENTS:
            with self._lock:
                self._modems_up.add(modem)
            self._maybe_ready()
        elif name == "modem.down":
            with self._lock:
                self._modems_up.discard(modem)
        elif name in ("job.sent", "job.failed") and self.config.ops.drill is not None:
            drill.settle(self.store)  # a drill's job ended: record its result now

    def _maybe_ready(self) -> None:
        with self._lock:
            if self._ready_sent or not self._intake_ready or not self._modems_up:
                return
            self._ready_sent = True
            up = len(self._modems_up)
        notify("READY=1\nSTATUS=" + self.status_line())
        log.info("service.ready", modems_up=up)

    # -- health -----------------------------------------------------------------------

    def health(self) -> Health:
        return snapshot(
            self.store,
            modem_names=tuple(m.name for m in self.config.modems),
            backlog_threshold=self.config.ops.backlog_threshold,
            storage=self.storage(),
        )

    def status_line(self) -> str:
        """STATUS= for systemd; also where the periodic alarms are checked (the watchdog's pace)."""
        self._check_drill()
        health = self.health()
        self._check_backlog(health)
        self._check_audit()
        if not self._ready_sent:
            return "starting: waiting for a modem to answer; " + health.status_line()
        return health.status_line()

    def _check_backlog(self, health: Health) -> None:
        queued = health.queue["queued"]
        over = queued > self.config.ops.backlog_threshold
        if over and not self._backlog_raised:
            log.error(
                "alarm.backlog",
                queued=queued,
                threshold=self.config.ops.backlog_threshold,
                oldest_seconds=health.oldest_queued_seconds,
                reason=f"{queued} jobs queued, more than {self.config.ops.backlog_threshold}",
            )
        elif not over and self._backlog_raised:
            log.info("alarm.backlog_cleared", queued=queued)
        self._backlog_raised = over

    def _check_drill(self) -> None:
        """Settle finished drills; start one when the schedule says so (and a modem is up)."""
        if self.config.ops.drill is None:
            return
        drill.settle(self.store)
        if self._ready_sent and drill.due(self.config, self.store, now_utc()):
            try:
                drill.start_drill(self.config, self.store, self.directory(), reason="schedule")
            except drill.DrillError as exc:
                log.error("alarm.drill_failed", reason=str(exc))

    def _check_audit(self) -> None:
        if time.monotonic() < self._next_audit_check:
            return
        self._next_audit_check = time.monotonic() + AUDIT_CHECK_SECONDS
        try:
            result = self.store.verify_log()
        except FaxError as exc:  # e.g. no key to verify with: say so once an hour, keep running
            log.warning("audit.verification_skipped", reason=str(exc))
            return
        if not result.intact:
            log.error(
                "alarm.audit_verification_failed",
                entries=result.entries,
                problems=len(result.problems),
                reason="; ".join(result.problems[:3]),
            )
