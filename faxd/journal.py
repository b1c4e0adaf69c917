"""The journal's native protocol: every event with its fields, so journalctl can filter.

When systemd runs faxd it connects stderr to the journal (``$JOURNAL_STREAM``); then
each event is sent instead as one datagram to journald's socket, in the native
protocol (systemd.journal-fields(7), "Native Journal Protocol"), with

- ``MESSAGE``: the event as the logfmt line stderr would have had,
- ``MESSAGE_ID``: a fixed 128-bit id per event kind (``MESSAGE_IDS``, listed in the
  README; an event not in the table gets a stable id derived from its name),
- ``PRIORITY`` from the level, ``SYSLOG_IDENTIFIER=faxd``,
- ``FAXD_EVENT``, ``FAXD_JOB``, ``FAXD_MODEM``, ``FAXD_OUTCOME``, ``FAXD_DOCUMENT`` where
  the event has them, and every other field as ``FAXD_<KEY>``.

Why not a library: ``systemd-python`` (journal.send) needs a C build against
libsystemd-dev and always writes to the system socket, so it can neither be installed
by pip alone nor pointed at a test journald; the protocol is a few documented lines.
The events reach this step already redacted (faxd/redact.py).
"""

from __future__ import annotations

import os
import re
import socket
import struct
import sys
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import structlog

DEFAULT_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "faxd"
MAX_VALUE = 48 * 1024  # far below journald's datagram limit; longer values are cut

# A fixed id per event kind: `journalctl MESSAGE_ID=...` finds every event of that kind.
MESSAGE_IDS: dict[str, str] = {
    "spool.document_claimed": "a88910183b33507888147de81d196360",
    "spool.document_recovered": "161db5acfeb954cdb928afb2a7e889a9",
    "document.routed": "9f95fbc982035b87a0f31d086832fedc",
    "document.quarantined": "b5d6e20f8a065d2daa0dfba4cb3d8a17",
    "job.dialing": "c2285588848057fa8c63324051b69183",
    "job.sent": "c754840c3ca15e9d9bd48c4ab0d775a1",
    "job.retry_scheduled": "5677f5e86ae151af9d0896028d23d81c",
    "job.failed": "6073550d0a765e08886d2c90f735b909",
    "job.number_changed": "71ac933607555795bf7cbf590a16b6d8",
    "job.crashed": "516c73dc25d35518800c53bfd1cb7157",
    "alarm.station_mismatch": "687d9ea2dde45d83bdb1349cf896d646",
    "alarm.backlog": "20b4ef2aec035a7c94c6615a934c5cf6",
    "alarm.backlog_cleared": "8960a25b658754dbb21b7e927d0f01ec",
    "alarm.audit_verification_failed": "d17b7953c0f75e2ca22039e80124541f",
    "alarm.drill_failed": "816df8dcaf1d58ca83e179aadca6485b",
    "alarm.loop_stalled": "b13b4b51e7d452b98b8f0671f9b3af02",
    "modem.ready": "5fce8487892f536996b2931f2a3f722b",
    "modem.up": "5ec4c8d1dff85017bb8a36768f2d18ea",
    "modem.down": "996c7584c00c52e4867c045884979317",
    "runner.failed": "3213fda5df82561ea6d3648e33132db9",
    "directory.reloaded": "7473f875cd005efebe666cbfdc9a04c8",
    "directory.invalid": "9a4aa15dc632593ab6907f6b62987fe1",
    "config.reloaded": "37f1a3de2e0053c8aeb27c85df708ac3",
    "config.invalid": "107f52c3cac55ac88c85fc534a262b1c",
    "config.restart_needed": "4b7761d73baa564d9eb56f44689a43bb",
    "archive.pruned": "4f83f4ccddd35ffc90ae359164c3e1f7",
    "daemon.ready": "3eb334598dd5509cb71a2e291a38b782",
    "daemon.recovered": "d70cb789340f5852b2c49ae658e55671",
    "daemon.stopping": "814ecd57628455b3af65fb494c92ffcf",
    "daemon.stopped": "5362bd728073535f99cb981ed87f0c96",
    "service.ready": "f2205b00d488504698e675a3601729c3",
    "intake.crashed": "60bda199459a53e09ff9fc145adc158a",
    "drill.started": "3a4124d32a865dc1b5bf3ef622ce8f86",
    "drill.passed": "7429197968d8563aa9b4689c039ab4fd",
    "drill.failed": "3d398f56496a5781b3b6e414cc607157",
    "snmp.started": "8837670d164554eebbf822728e68bf8e",
    "snmp.notification_sent": "1e1d0d2ba6265ffc91b647c86102ad59",
    "metrics.started": "bc76ca917eb250d1a6ae81d46da2567d",
}
# Events not in the table: uuid5 of the name in this namespace (stable across versions).
_NAMESPACE = uuid.UUID("6f0e1c52-8a63-4d7e-9b1a-3c2d5e4f7a10")

PRIORITIES = {"critical": 2, "exception": 3, "error": 3, "warning": 4, "warn": 4, "info": 6, "debug": 7}
NAMED_FIELDS = {"job_id": "FAXD_JOB", "modem": "FAXD_MODEM", "outcome": "FAXD_OUTCOME", "document_id": "FAXD_DOCUMENT"}
_FIELD_NAME = re.compile(r"[^A-Z0-9_]")


def message_id(event: str) -> str:
    """The event kind's MESSAGE_ID: from the table, else derived from the name."""
    return MESSAGE_IDS.get(event) or uuid.uuid5(_NAMESPACE, event).hex


def field_name(key: str) -> str:
    """``FAXD_<KEY>``: upper case, letters, digits and underscores only (journal field rules)."""
    return ("FAXD_" + _FIELD_NAME.sub("_", key.upper()))[:64]


def journal_fields(event_dict: Mapping[str, Any], message: str) -> dict[str, str]:
    """The journal entry for one (redacted) event."""
    name = str(event_dict.get("event", ""))
    fields = {
        "MESSAGE": message,
        "MESSAGE_ID": message_id(name),
        "PRIORITY": str(PRIORITIES.get(str(event_dict.get("level", "info")), 6)),
        "SYSLOG_IDENTIFIER": IDENTIFIER,
        "FAXD_EVENT": name,
    }
    for key, value in event_dict.items():
        if key in ("event", "level", "ts") or value is None:
            continue
        fields[NAMED_FIELDS.get(key) or field_name(key)] = str(value)
    return fields


def encode(fields: Mapping[str, str]) -> bytes:
    """One native-protocol datagram: ``KEY=value\\n``, or for a value with a newline
    ``KEY\\n`` + its length as little-endian 64 bits + the value + ``\\n``."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")[:MAX_VALUE]
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


def journal_stream_is_stderr() -> bool:
    """True when systemd connected our stderr to the journal (``$JOURNAL_STREAM`` is dev:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


class JournalRenderer:
    """Last step of the chain: sends the event to journald and drops it from stderr; when
    journald cannot be reached the line goes to stderr as before, so nothing is lost."""

    def __init__(self, render: Callable[[Any, str, MutableMapping[str, Any]], Any], path: str = DEFAULT_SOCKET) -> None:
        self.render = render
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        fields = dict(event_dict)
        fields.setdefault("level", method)
        line = self.render(logger, method, event_dict)
        try:
            self.sock.sendto(encode(journal_fields(fields, str(line))), self.path)
        except OSError:
            return line
        raise structlog.DropEvent
