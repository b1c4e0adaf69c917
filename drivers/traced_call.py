"""What every modem driver does around one call, whatever its class.

The call itself differs (Class 1 runs T.30 on the host, Class 2 reads what the modem's
firmware reports); around it the drivers do the same: a protocol trace per call when
asked for one, the hang-up whatever happened, the trace closed with the outcome, and one
``modem.call_ended`` event. Kept here once so the classes cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from drivers.at_link import ProtocolTrace, T31Link
from drivers.modem import CallResult


def open_trace(
    trace_dir: Path | None, *, name: str, call_number: int, title: str, log: structlog.typing.FilteringBoundLogger
) -> ProtocolTrace | None:
    """Returns a new trace file for call ``call_number`` on modem ``name``, or None when
    tracing is off or the file cannot be made (a trace is a debugging aid: the call goes
    ahead without one)."""
    if trace_dir is None:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = trace_dir / f"{stamp}-{safe}-{call_number:04d}.trace"
    try:
        return ProtocolTrace(path, title=title)
    except OSError as exc:
        log.warning("modem.trace_unavailable", error=str(exc))
        return None


def run_traced(
    link: T31Link,
    trace: ProtocolTrace | None,
    call: Callable[[], CallResult],
    hang_up: Callable[[T31Link], object],
    log: structlog.typing.FilteringBoundLogger,
) -> CallResult:
    """Runs ``call`` on ``link`` with ``trace`` attached, hangs up whatever happens, closes
    the trace with the outcome and logs ``modem.call_ended``. Returns the call's result
    (with the trace's path); lets what ``call`` raises through, after the hang-up."""
    link.trace = trace
    result: CallResult | None = None
    try:
        result = call()
    finally:
        hang_up(link)
        link.trace = None
        if trace is not None:
            if result is not None:
                trace.line(f"outcome {result.outcome.value}: {result.reason}")
            trace.close()
    if trace is not None:
        result = dataclasses.replace(result, trace_path=trace.path)
    log.info(
        "modem.call_ended",
        outcome=result.outcome.value,
        reason=result.reason,
        pages_confirmed=result.pages_confirmed,
        bit_rate=result.bit_rate,
        ecm=result.ecm,
        coding=result.coding,
        warnings=len(result.warnings),
    )
    return result
