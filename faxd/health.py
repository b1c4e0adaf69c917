"""The service's health in one snapshot: what SNMP, metrics, STATUS= and ``faxctl status`` show.

Everything is read from the database, so the daemon and a separate ``faxctl`` process
agree: modem states (the runners write them), the queue by state, the oldest queued
job, per-modem counters from the attempts, the last confirmed transmission, the last
readiness drill and whether an outage is declared. Nothing here carries a patient's
identity: ids, counts, outcome codes and times only, and every text goes through
``faxd.redact`` before it leaves.

The verdict is ``ready`` (every modem up, nothing stuck), ``degraded`` (some modem down
or degraded, a backlog over the threshold, the last drill failed) or ``down`` (no modem up,
or the storage alarm: a full or read-only spool or state, so no new document is taken), with
the reasons in words.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faxd import outage
from faxd.audit.chain import entries
from faxd.redact import redact_text
from faxd.store import Store

# "degraded" (faxd.runner.ModemState): it still answers AT and takes calls, but its last
# call failed in the modem; up, with a reason that makes the service degraded.
UP_STATES = frozenset({"ready", "up", "idle", "busy", "sending", "degraded"})


class ServiceState(enum.IntEnum):
    """SNMP's FaxdServiceState values (FAXD-MIB)."""

    READY = 1
    DEGRADED = 2
    DOWN = 3


class DrillResult(enum.IntEnum):
    """SNMP's FaxdDrillResult values (FAXD-MIB)."""

    NONE = 1
    PASSED = 2
    FAILED = 3
    RUNNING = 4


QUEUE_STATES = ("queued", "active", "confirmed", "failed", "held")


@dataclass(frozen=True, slots=True)
class ModemHealth:
    name: str
    state: str  # as the runner recorded it: ready, down, stopped ...
    detail: str
    calls: int
    pages_sent: int  # pages the remote confirmed
    failures: dict[str, int]  # outcome code -> count, confirmed calls excluded

    @property
    def up(self) -> bool:
        return self.state in UP_STATES


@dataclass(frozen=True, slots=True)
class Health:
    at: datetime
    state: ServiceState
    reasons: tuple[str, ...]
    queue: dict[str, int]  # job state -> count, every state of QUEUE_STATES present
    oldest_queued_seconds: int  # 0 when nothing is queued
    modems: tuple[ModemHealth, ...]
    last_confirmed: datetime | None
    drill: DrillResult
    drill_at: datetime | None
    drill_detail: str
    outage_declared: bool
    backlog_threshold: int
    failures: dict[str, int] = field(default_factory=dict)  # all modems' failures by outcome

    @property
    def word(self) -> str:
        return self.state.name.lower()

    def status_line(self) -> str:
        """One line for systemd's STATUS= (shown by ``systemctl status``)."""
        up = sum(1 for m in self.modems if m.up)
        text = (
            f"{self.word}: {up}/{len(self.modems)} modems up, {self.queue['queued']} queued, "
            f"{self.queue['active']} sending, {self.queue['failed']} failed"
        )
        if self.reasons:
            text += "; " + "; ".join(self.reasons)
        return redact_text(text)

    def as_dict(self) -> dict[str, object]:
        """For ``faxctl status --json``."""
        return {
            "state": self.word,
            "reasons": list(self.reasons),
            "queue": dict(self.queue),
            "oldest_queued_seconds": self.oldest_queued_seconds,
            "last_confirmed": self.last_confirmed.isoformat() if self.last_confirmed else None,
            "drill": {
                "result": self.drill.name.lower(),
                "at": self.drill_at.isoformat() if self.drill_at else None,
                "detail": self.drill_detail,
            },
            "outage_declared": self.outage_declared,
            "modems": [
                {
                    "name": m.name,
                    "state": m.state,
                    "detail": m.detail,
                    "calls": m.calls,
                    "pages_sent": m.pages_sent,
                    "failures": m.failures,
                }
                for m in self.modems
            ],
        }


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outage_declared(conn: sqlite3.Connection) -> bool:
    """An outage period started and not ended (``outage.*`` entries of the signed log)."""
    return outage.current(outage.outages(entries(conn))) is not None


def _last_drill(conn: sqlite3.Connection) -> tuple[DrillResult, datetime | None, str]:
    row = conn.execute(
        "SELECT at, event, data FROM audit WHERE event IN ('drill.started', 'drill.passed', 'drill.failed')"
        " ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return DrillResult.NONE, None, ""
    result = {"drill.started": DrillResult.RUNNING, "drill.passed": DrillResult.PASSED}.get(row[1], DrillResult.FAILED)
    detail = str(json.loads(row[2]).get("reason", "")) if row[2] else ""
    return result, _time(row[0]), redact_text(detail)


def snapshot(
    store: Store,
    *,
    modem_names: tuple[str, ...] = (),
    backlog_threshold: int = 50,
    now: datetime | None = None,
    storage: str | None = None,
) -> Health:
    """Read the service's health from the database. ``modem_names``: the configured
    modems, so one that never reported still shows (as ``unknown``). ``storage``: the
    daemon's storage alarm (it is not in the database, which may be what cannot be written)."""
    now = now or datetime.now(UTC)
    conn = store._conn()  # read-only queries over the store's own connection for this thread
    queue = dict.fromkeys(QUEUE_STATES, 0)
    for state, count in conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
        queue[str(state)] = int(count)
    oldest = conn.execute("SELECT MIN(created) FROM jobs WHERE state = 'queued'").fetchone()[0]
    oldest_at = _time(oldest)
    oldest_seconds = max(0, int((now - oldest_at).total_seconds())) if oldest_at else 0
    recorded = {r[0]: (str(r[1]), str(r[2] or "")) for r in conn.execute("SELECT name, state, detail FROM modems")}
    names = list(modem_names) or sorted(recorded)
    counts: dict[str, tuple[int, int]] = {}
    for modem, calls, pages in conn.execute(
        "SELECT modem, COUNT(*), COALESCE(SUM(pages_confirmed), 0) FROM attempts GROUP BY modem"
    ):
        counts[str(modem)] = (int(calls), int(pages))
    failures: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for modem, outcome, count in conn.execute(
        "SELECT modem, outcome, COUNT(*) FROM attempts WHERE outcome IS NOT NULL AND outcome != 'confirmed'"
        " GROUP BY modem, outcome"
    ):
        failures.setdefault(str(modem), {})[str(outcome)] = int(count)
        totals[str(outcome)] = totals.get(str(outcome), 0) + int(count)
    modems = tuple(
        ModemHealth(
            name=name,
            state=recorded.get(name, ("unknown", ""))[0],
            detail=redact_text(recorded.get(name, ("", ""))[1]),
            calls=counts.get(name, (0, 0))[0],
            pages_sent=counts.get(name, (0, 0))[1],
            failures=failures.get(name, {}),
        )
        for name in names
    )
    last = conn.execute("SELECT MAX(ended) FROM attempts WHERE outcome = 'confirmed'").fetchone()[0]
    drill, drill_at, drill_detail = _last_drill(conn)
    reasons: list[str] = []
    up = [m for m in modems if m.up]
    for m in modems:
        if not m.up:
            reasons.append(f"modem {m.name} is {m.state}" + (f" ({m.detail})" if m.detail else ""))
        elif m.state == "degraded":
            reasons.append(
                f"modem {m.name} is degraded: its last call failed in the modem"
                + (f" ({m.detail})" if m.detail else "")
            )
    if queue["queued"] > backlog_threshold:
        reasons.append(f"{queue['queued']} jobs queued, more than the threshold {backlog_threshold}")
    if drill is DrillResult.FAILED:
        reasons.append("the last readiness drill failed" + (f": {drill_detail}" if drill_detail else ""))
    if not up:
        reasons.insert(0, "no modem is up: nothing can be sent")
    if storage:
        reasons.insert(0, f"storage alarm: {storage}: new documents wait in the spool until it takes writes")
    if storage or not up:
        state = ServiceState.DOWN
    elif reasons:
        state = ServiceState.DEGRADED
    else:
        state = ServiceState.READY
    return Health(
        at=now,
        state=state,
        reasons=tuple(redact_text(r) for r in reasons),
        queue=queue,
        oldest_queued_seconds=oldest_seconds,
        modems=modems,
        last_confirmed=_time(last),
        drill=drill,
        drill_at=drill_at,
        drill_detail=drill_detail,
        outage_declared=_outage_declared(conn),
        backlog_threshold=backlog_threshold,
        failures=totals,
    )
