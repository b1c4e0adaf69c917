"""structlog set-up, once per process: key=value (logfmt) or JSON lines on stderr.

systemd's journal takes stderr line by line, so one event is one line with a stable
dotted name (``job.sent``, ``modem.down``) first. What may appear in an event is
restricted by convention: ids, counts, outcomes and numbers from the fax directory;
never file names or form content, which may carry a patient's identity.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure(fmt: str = "logfmt", level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.processors.LogfmtRenderer(key_order=["event", "level"], bool_as_flag=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
