"""The SNMP agent: FAXD-MIB over SNMPv3 (authPriv, SHA-2 and AES), notifications to managers.

pysnmp runs on its own asyncio loop in one thread. Requests are answered from a
`Health` snapshot (``faxd.health``) cached for a second, so a walk sees one consistent
state and costs one set of queries. SNMPv3 with authentication and privacy is the only
access by default; SNMPv2c read access exists only when ``snmp.community`` is set.

Notifications are driven by the log: the agent subscribes to ``faxd.events`` and
turns the stable event names (``modem.down``, ``job.failed``, ``alarm.*``) into
notifications (``faxd.snmp_mib.notification``), sent to each configured manager as a
trap, or as an inform (acknowledged, sent again until answered) where the manager's
``notify = "inform"``. Other code only logs the event.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context, ntforg
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from faxd import events
from faxd.health import Health
from faxd.ops_config import Manager, SnmpConfig
from faxd.snmp_mib import MIB, OID, SNMP_TRAP_OID, objects
from faxd.snmp_mib import notification as notification_for
from faxerrors import FaxError

log = structlog.get_logger("faxd.snmp")

AUTH = {
    "SHA-224": config.USM_AUTH_HMAC128_SHA224,
    "SHA-256": config.USM_AUTH_HMAC192_SHA256,
    "SHA-384": config.USM_AUTH_HMAC256_SHA384,
    "SHA-512": config.USM_AUTH_HMAC384_SHA512,
}
PRIV = {
    "AES-128": config.USM_PRIV_CFB128_AES,
    "AES-192": config.USM_PRIV_CFB192_AES,
    "AES-256": config.USM_PRIV_CFB256_AES,
}
CACHE_SECONDS = 1.0
SYS_UP_TIME: OID = (1, 3, 6, 1, 2, 1, 1, 3, 0)


class SnmpError(FaxError, OSError):
    """The agent could not start (e.g. its port is taken); the message says which."""


class HealthView(AbstractMibInstrumController):  # type: ignore[misc]
    """Answers GET/GETNEXT/GETBULK from the sorted (OID, value) list of a snapshot."""

    def __init__(self, health: Callable[[], Health]) -> None:
        self._health = health
        self._at = -CACHE_SECONDS
        self._items: list[tuple[OID, Any]] = []

    def _objects(self) -> list[tuple[OID, Any]]:
        now = time.monotonic()
        if now - self._at >= CACHE_SECONDS:
            try:
                self._items = objects(self._health())
            except Exception:  # boundary: a failing query answers genErr, the agent stays up
                log.exception("snmp.snapshot_failed")
                raise smi_error.GenError() from None
            self._at = now
        return self._items

    @staticmethod
    def _allowed(name: OID, value: Any, context: Mapping[str, Any]) -> bool:
        check = context.get("acFun")
        return check is None or not check("read", (name, value), **context)

    def read_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        items = dict(self._objects())
        out = []
        for name, _ in var_binds:
            oid = tuple(name)
            value = items.get(oid)
            if value is None or not self._allowed(oid, value, context):
                value = rfc1905.noSuchInstance if oid[: len(MIB)] == MIB else rfc1905.noSuchObject
            out.append((rfc1902.ObjectName(oid), value))
        return out

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        items = self._objects()
        out = []
        for name, _ in var_binds:
            oid = tuple(name)
            found: tuple[Any, Any] = (rfc1902.ObjectName(oid), rfc1905.endOfMibView)
            for candidate, value in items:
                if candidate > oid and self._allowed(candidate, value, context):
                    found = (rfc1902.ObjectName(candidate), value)
                    break
            out.append(found)
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        raise smi_error.NotWritableError(name=var_binds[0][0], idx=0)


class SnmpAgent:
    """The agent's thread: ``start()`` binds and returns the address; ``stop()`` ends it."""

    def __init__(self, settings: SnmpConfig, health: Callable[[], Health]) -> None:
        self.settings = settings
        self.health = health
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: engine.SnmpEngine | None = None
        self._originator: ntforg.NotificationOriginator | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._modems_down: set[str] = set()
        self._started_at = time.monotonic()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        """Bind the port and serve. Raises SnmpError when the agent cannot start."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.settings.address, self.settings.port))
        except OSError as exc:
            sock.close()
            raise SnmpError(
                f"SNMP agent cannot bind {self.settings.address}:{self.settings.port}: {exc.strerror}"
            ) from None
        host, port = sock.getsockname()[:2]
        self.address = (host, port)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="snmp-agent", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise SnmpError(f"SNMP agent failed to start: {self._error}")
        events.subscribe(self.on_event)
        log.info(
            "snmp.started",
            address=host,
            port=port,
            v2c=self.settings.community is not None,
            managers=len(self.settings.managers),
        )
        return self.address

    def stop(self) -> None:
        events.unsubscribe(self.on_event)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._shutdown)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._engine = self._configure(sock, loop)
        except Exception as exc:  # reported to start()
            self._error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            # Let cancelled tasks (pysnmp's timer, the endpoint) finish before closing.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def _shutdown(self) -> None:
        assert self._engine is not None and self._loop is not None
        dispatcher = self._engine.transport_dispatcher
        if dispatcher is not None:
            dispatcher.close_dispatcher()
        self._loop.stop()

    def _configure(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> engine.SnmpEngine:
        s = self.settings
        snmp = engine.SnmpEngine(snmpEngineID=rfc1902.OctetString(s.engine_id))
        config.add_transport(snmp, udp.DOMAIN_NAME, udp.UdpAsyncioTransport(loop=loop).open_server_mode(sock=sock))
        config.add_v3_user(snmp, s.user, AUTH[s.auth_protocol], s.auth_key, PRIV[s.priv_protocol], s.priv_key)
        config.add_vacm_user(snmp, 3, s.user, "authPriv", readSubTree=MIB, notifySubTree=MIB)
        config.add_target_parameters(snmp, "faxd-v3", s.user, "authPriv", mpModel=3)
        if s.community is not None:
            config.add_v1_system(snmp, "faxd-v2c", s.community)
            config.add_vacm_user(snmp, 2, "faxd-v2c", "noAuthNoPriv", readSubTree=MIB, notifySubTree=MIB)
            config.add_target_parameters(snmp, "faxd-v2c", "faxd-v2c", "noAuthNoPriv", mpModel=1)
        # One tag and one notification entry per manager, so each gets its own kind (trap or
        # inform) and an inform's answer (or silence) is known per manager.
        for i, manager in enumerate(s.managers):
            params = "faxd-v3" if manager.version == "v3" else "faxd-v2c"
            config.add_target_address(
                snmp,
                f"manager-{i}",
                udp.DOMAIN_NAME,
                (manager.address, manager.port),
                params,
                timeout=round(manager.timeout_seconds * 100),  # hundredths of a second (RFC 3413)
                retryCount=manager.retries,
                tagList=f"faxd-{i}".encode(),
            )
            config.add_notification_target(snmp, f"faxd-notify-{i}", params, f"faxd-{i}", manager.notify)
        self._originator = ntforg.NotificationOriginator()
        snmp_context = context.SnmpContext(snmp)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", HealthView(self.health))
        cmdrsp.GetCommandResponder(snmp, snmp_context)
        cmdrsp.NextCommandResponder(snmp, snmp_context)
        cmdrsp.BulkCommandResponder(snmp, snmp_context)
        cmdrsp.SetCommandResponder(snmp, snmp_context)
        return snmp

    # -- notifications ----------------------------------------------------------------

    def on_event(self, event: Mapping[str, Any]) -> None:
        """faxd.events subscriber: an event that raises a notification is sent to the managers."""
        name = event.get("event")
        modem = str(event.get("modem", ""))
        if name == "modem.down":
            if modem in self._modems_down:
                return  # already reported; a reopen that fails again is not news
            self._modems_down.add(modem)
        elif name in ("modem.up", "modem.ready"):
            if modem not in self._modems_down:
                return  # the first open at start-up is not a recovery
            self._modems_down.discard(modem)
            event = {**event, "event": "modem.up"}
        found = notification_for(event)
        if found is None or not self.settings.managers or self._loop is None:
            return
        uptime = rfc1902.TimeTicks(int((time.monotonic() - self._started_at) * 100) % 2**32)
        varbinds = [(SYS_UP_TIME, uptime), (SNMP_TRAP_OID, rfc1902.ObjectIdentifier(found.oid)), *found.varbinds]
        self._loop.call_soon_threadsafe(self._send, found.name, varbinds)

    def _send(self, name: str, varbinds: list[tuple[OID, Any]]) -> None:
        assert self._engine is not None and self._originator is not None
        for i, manager in enumerate(self.settings.managers):
            answered = functools.partial(self._answered, name, manager) if manager.notify == "inform" else None
            try:
                self._originator.send_varbinds(self._engine, f"faxd-notify-{i}", None, b"", varbinds, answered)
            except Exception:  # boundary: a notification that cannot be sent is logged, not fatal
                log.exception("snmp.notification_failed", notification=name, manager=manager.address)
                continue
            log.info("snmp.notification_sent", notification=name, manager=manager.address, kind=manager.notify)

    def _answered(self, name: str, manager: Manager, *result: Any) -> None:
        """pysnmp's callback for an inform: (engine, handle, errorIndication, status, index,
        varbinds, context). No error: the manager acknowledged it."""
        error = result[2] if len(result) > 2 else None
        if error:
            # Not an alarm.* event: that would raise a notification about notifications.
            log.warning("snmp.inform_unacknowledged", notification=name, manager=manager.address, error=str(error))
        else:
            log.info("snmp.inform_acknowledged", notification=name, manager=manager.address)
