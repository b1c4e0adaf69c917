"""FAXD-MIB as values: object identifiers, the walkable view of a `Health`, notifications.

The MIB text is ``faxd/data/FAXD-MIB.txt`` (SMIv2, checked by ``smilint`` and loaded by
``snmptranslate`` in the tests); this module is its implementation, kept pure (no
sockets) so it is easy to test: ``objects(health)`` is the sorted list of (OID, value)
the agent serves, ``notification(event)`` the notification an event raises, if any.

Numbering under the enterprise placeholder (``faxd.ops_config.ENTERPRISE``)::

    faxdMIB            .1
      faxdNotifications  .0   (.N: one per notification, below)
      faxdObjects        .1
        faxdService        .1   scalars
        faxdQueueTable     .2   index: queue state
        faxdModemTable     .3   index: modem (configuration order)
        faxdOutcomeTable   .4   index: modem, outcome
        faxdNotifyObjects  .5   accessible-for-notify
      faxdConformance    .2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pysnmp.proto import rfc1902

from faxd.health import QUEUE_STATES, Health
from faxd.ops_config import ENTERPRISE
from faxd.redact import redact_text

OID = tuple[int, ...]

MIB: OID = (1, 3, 6, 1, 4, 1, ENTERPRISE, 1)
NOTIFICATIONS: OID = (*MIB, 0)
SERVICE: OID = (*MIB, 1, 1)
QUEUE_ENTRY: OID = (*MIB, 1, 2, 1)
MODEM_ENTRY: OID = (*MIB, 1, 3, 1)
OUTCOME_ENTRY: OID = (*MIB, 1, 4, 1)
NOTIFY: OID = (*MIB, 1, 5)
SNMP_TRAP_OID: OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)

# Outcome codes in FAXD-MIB's faxdOutcomeIndex order; append only (indexes are stable).
OUTCOMES = (
    "busy",
    "no_answer",
    "no_dialtone",
    "no_carrier",
    "not_a_fax",
    "training_failed",
    "station_mismatch",
    "remote_disconnected",
    "page_rejected",
    "protocol_error",
    "modem_error",
    "interrupted",
    "recipient_removed",
    "document_error",
)

MODEM_UP, MODEM_DOWN, MODEM_UNKNOWN = 1, 2, 3


def date_and_time(moment: datetime | None) -> bytes:
    """SNMPv2-TC DateAndTime, 11 octets in UTC; FAXD-MIB's FaxdDateAndTimeOrNone allows the
    zero-length string when there is none (eight zero octets would be month 0, no date)."""
    if moment is None:
        return b""
    m = moment.astimezone(UTC)
    return (
        bytes([m.year >> 8, m.year & 0xFF, m.month, m.day, m.hour, m.minute, m.second, m.microsecond // 100_000])
        + b"+\x00\x00"
    )


def _text(value: str, limit: int = 255) -> rfc1902.OctetString:
    return rfc1902.OctetString(redact_text(value).encode("utf-8")[:limit])


def objects(health: Health) -> list[tuple[OID, Any]]:
    """Every readable instance with its value, sorted by OID (the order of a walk)."""
    out: list[tuple[OID, Any]] = [
        ((*SERVICE, 1, 0), rfc1902.Integer32(int(health.state))),
        ((*SERVICE, 2, 0), _text("; ".join(health.reasons))),
        ((*SERVICE, 3, 0), rfc1902.Integer32(1 if health.outage_declared else 2)),  # TruthValue
        ((*SERVICE, 4, 0), rfc1902.Gauge32(min(health.oldest_queued_seconds, 2**32 - 1))),
        ((*SERVICE, 5, 0), rfc1902.OctetString(date_and_time(health.last_confirmed))),
        ((*SERVICE, 6, 0), rfc1902.Integer32(int(health.drill))),
        ((*SERVICE, 7, 0), rfc1902.OctetString(date_and_time(health.drill_at))),
        ((*SERVICE, 8, 0), rfc1902.Gauge32(health.backlog_threshold)),
    ]
    for i, queue_state in enumerate(QUEUE_STATES, start=1):
        out.append(((*QUEUE_ENTRY, 2, i), _text(queue_state)))
        out.append(((*QUEUE_ENTRY, 3, i), rfc1902.Gauge32(health.queue.get(queue_state, 0))))
    for i, modem in enumerate(health.modems, start=1):
        modem_state = MODEM_UP if modem.up else (MODEM_UNKNOWN if modem.state == "unknown" else MODEM_DOWN)
        out.append(((*MODEM_ENTRY, 2, i), _text(modem.name)))
        out.append(((*MODEM_ENTRY, 3, i), rfc1902.Integer32(modem_state)))
        out.append(((*MODEM_ENTRY, 4, i), rfc1902.Counter32(modem.calls % 2**32)))
        out.append(((*MODEM_ENTRY, 5, i), rfc1902.Counter32(modem.pages_sent % 2**32)))
        out.append(((*MODEM_ENTRY, 6, i), rfc1902.Counter32(sum(modem.failures.values()) % 2**32)))
        out.append(((*MODEM_ENTRY, 7, i), _text(modem.detail)))
        for j, outcome in enumerate(OUTCOMES, start=1):
            out.append(((*OUTCOME_ENTRY, 2, i, j), _text(outcome)))
            out.append(((*OUTCOME_ENTRY, 3, i, j), rfc1902.Counter32(modem.failures.get(outcome, 0) % 2**32)))
    out.sort(key=lambda item: item[0])
    return out


# -- notifications -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notification:
    name: str  # as in FAXD-MIB
    oid: OID
    varbinds: tuple[tuple[OID, Any], ...]


NOTIFY_MODEM: OID = (*NOTIFY, 1, 0)
NOTIFY_JOB: OID = (*NOTIFY, 2, 0)
NOTIFY_OUTCOME: OID = (*NOTIFY, 3, 0)
NOTIFY_TEXT: OID = (*NOTIFY, 4, 0)
NOTIFY_COUNT: OID = (*NOTIFY, 5, 0)

# Event name -> (notification name, number under faxdNotifications).
NOTIFICATION_EVENTS: dict[str, tuple[str, int]] = {
    "modem.down": ("faxdModemDown", 1),
    "modem.up": ("faxdModemUp", 2),
    "job.failed": ("faxdJobFailed", 3),
    "alarm.station_mismatch": ("faxdStationMismatch", 4),
    "alarm.backlog": ("faxdBacklog", 5),
    "alarm.audit_verification_failed": ("faxdAuditVerificationFailed", 6),
    "alarm.drill_failed": ("faxdDrillFailed", 7),
    "alarm.loop_stalled": ("faxdLoopStalled", 8),
}
OTHER_ALARM = ("faxdAlarm", 9)  # any other alarm.* event: its name in faxdNotifyText


def _field(event: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = event.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def notification(event: Mapping[str, Any]) -> Notification | None:
    """The notification an (already redacted) log event raises, or None."""
    name = str(event.get("event", ""))
    found = NOTIFICATION_EVENTS.get(name)
    if found is None:
        if not name.startswith("alarm."):
            return None
        found = OTHER_ALARM
    title, number = found
    text = _field(event, "reason", "error", "detail")
    if not text and name == "job.failed":
        text = f"the job failed for good ({_field(event, 'outcome') or 'no outcome'}): see faxctl log; nothing more is tried"
    text = text or name
    modem = rfc1902.OctetString(redact_text(_field(event, "modem")).encode())
    job = rfc1902.OctetString(redact_text(_field(event, "job_id", "job")).encode())
    varbinds: tuple[tuple[OID, Any], ...]
    if number in (1, 2):
        varbinds = ((NOTIFY_MODEM, modem), (NOTIFY_TEXT, _text(text)))
    elif number == 3:
        varbinds = ((NOTIFY_JOB, job), (NOTIFY_OUTCOME, _text(_field(event, "outcome"))), (NOTIFY_TEXT, _text(text)))
    elif number in (4, 7):
        varbinds = ((NOTIFY_JOB, job), (NOTIFY_TEXT, _text(text)))
    elif number == 5:
        count = int(event.get("queued", 0) or 0)
        varbinds = ((NOTIFY_COUNT, rfc1902.Unsigned32(count)), (NOTIFY_TEXT, _text(text)))
    elif number == 9:
        varbinds = ((NOTIFY_TEXT, _text(f"{name}: {text}")),)
    else:
        varbinds = ((NOTIFY_TEXT, _text(text)),)
    return Notification(name=title, oid=(*NOTIFICATIONS, number), varbinds=varbinds)
