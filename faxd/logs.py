"""structlog set-up, once per process: key=value (logfmt) or JSON lines on stderr.

systemd's journal takes stderr line by line, so one event is one line with a stable
dotted name (``job.sent``, ``modem.down``) first. What may appear in an event is
restricted by convention: ids, counts, outcomes and numbers from the fax directory;
never file names or form content, which may carry a patient's identity. Whatever slips
through that convention is caught by ``faxd.redact.redact_event``, the last step before
the event leaves (subscribers such as SNMP and the renderer only see redacted events).
"""

from __future__ import annotations

import logging
import sys

import structlog

from faxd.events import publish
from faxd.journal import JournalRenderer
from faxd.redact import redact_event


def configure(fmt: str = "logfmt", level: int = logging.INFO, *, journal: bool = False) -> None:
    """Set up structlog once. ``journal``: send each event to journald with its fields
    (faxd/journal.py) instead of writing the line to stderr."""
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.processors.LogfmtRenderer(key_order=["event", "level"], bool_as_flag=False)
    if journal:
        renderer = JournalRenderer(renderer)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.format_exc_info,
            redact_event,
            publish,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
