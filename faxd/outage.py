"""Outage periods: when the backup routine was switched on and off, by whom.

The reconciliation after an outage depends on when it ended, and an auditor asks when
it began, so both are entries of the signed confirmation log (``outage.started``,
``outage.ended``), not rows of a table someone could quietly change. ``--at`` records
a decision taken earlier than it is entered; the entry keeps both times and the OS
user who entered it (and the user behind ``sudo``).

While no outage is declared, a dropped document is handled by ``outage.when_not_declared``:
``hold`` keeps it (jobs ``held``, an ``alarm.no_outage_declared`` event) until an outage
is declared, which releases the held jobs to the queue in the same transaction.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from faxd.audit.chain import Entry, entries
from faxd.store.model import DocumentState, JobState
from faxerrors import FaxError

if TYPE_CHECKING:
    from faxd.store import Store


# A decision entered with --at may not lie in the future beyond clock skew between machines.
FUTURE_TOLERANCE = timedelta(minutes=2)


class OutageError(FaxError):
    """The outage cannot be started or ended as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Outage:
    id: str  # "O-1", "O-2", ... in the order they were declared
    reason: str
    started: str  # when the decision was taken (ISO, UTC)
    started_by: str
    start_entered: str  # when it was entered
    ended: str | None = None
    ended_by: str | None = None
    end_entered: str | None = None

    @property
    def open(self) -> bool:
        return self.ended is None

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"open": self.open}

    def covers(self, moment: str) -> bool:
        """Whether an ISO UTC time lies within the outage (an open one runs until now)."""
        start = datetime.fromisoformat(self.started)
        end = datetime.fromisoformat(self.ended) if self.ended else None
        when = datetime.fromisoformat(moment)
        return start <= when and (end is None or when <= end)


def outages(entries: Iterable[Entry]) -> list[Outage]:
    """The outage periods the log records, oldest first."""
    found: list[Outage] = []
    for entry in entries:
        data = entry.data
        if entry.event == "outage.started":
            found.append(
                Outage(
                    id=str(data.get("outage")),
                    reason=str(data.get("reason", "")),
                    started=str(data.get("decided_at", entry.at)),
                    started_by=str(data.get("user", "")),
                    start_entered=entry.at,
                )
            )
        elif entry.event == "outage.ended":
            for i, outage in enumerate(found):
                if outage.id == data.get("outage") and outage.open:
                    found[i] = Outage(
                        **{
                            **asdict(outage),
                            "ended": str(data.get("decided_at", entry.at)),
                            "ended_by": str(data.get("user", "")),
                            "end_entered": entry.at,
                        }
                    )
    return found


def current(periods: Iterable[Outage]) -> Outage | None:
    return next((o for o in reversed(list(periods)) if o.open), None)


def operator() -> str:
    """The OS user entering the decision, and the one behind sudo when there is one."""
    user = getpass.getuser()
    sudo = os.environ.get("SUDO_USER")
    return f"{user} (sudo by {sudo})" if sudo and sudo != user else user


def decision_time(text: str | None, zone: str, now: datetime) -> datetime:
    """``--at``: an ISO time; without an offset it is local time in ``zone``. Defaults to
    now. Raises OutageError for a malformed time or one in the future."""
    if text is None:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OutageError(f"--at {text!r} is not an ISO time such as 2026-03-09T14:30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    if moment > now + FUTURE_TOLERANCE:
        raise OutageError(f"--at {text} is in the future; a decision is recorded when it has been taken")
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def start(store: Store, reason: str, decided: datetime, user: str) -> tuple[Outage, int]:
    """Declare an outage and release documents held for want of one, in one transaction.
    Returns the outage and how many documents were released. Raises OutageError."""
    if not reason.strip():
        raise OutageError("--reason must say why (e.g. 'Mina planer down, decided by the on-call IT manager')")
    now = _iso(datetime.now(UTC))
    with store.transaction() as conn:
        periods = outages(entries(conn))
        running = current(periods)
        if running is not None:
            raise OutageError(f"outage {running.id} is already in force (since {running.started}); end it first")
        if periods and periods[-1].ended and _iso(decided) < str(periods[-1].ended):
            raise OutageError(f"--at {_iso(decided)} is before the previous outage {periods[-1].id} ended")
        outage_id = f"O-{len(periods) + 1}"
        store.chain.append(
            conn,
            now,
            "outage.started",
            data={"outage": outage_id, "reason": reason, "user": user, "decided_at": _iso(decided)},
        )
        released = release_held(conn, store, now, outage_id)
    return Outage(outage_id, reason, _iso(decided), user, now), released


def end(store: Store, decided: datetime, user: str) -> Outage:
    """End the outage in force. Raises OutageError if none is, or if ``decided`` is before its start."""
    now = _iso(datetime.now(UTC))
    with store.transaction() as conn:
        running = current(outages(entries(conn)))
        if running is None:
            raise OutageError("no outage is in force: nothing to end")
        if _iso(decided) < running.started:
            raise OutageError(f"--at {_iso(decided)} is before outage {running.id} started ({running.started})")
        store.chain.append(
            conn, now, "outage.ended", data={"outage": running.id, "user": user, "decided_at": _iso(decided)}
        )
    return Outage(**{**asdict(running), "ended": _iso(decided), "ended_by": user, "end_entered": now})


def release_held(conn: sqlite3.Connection, store: Store, at: str, outage_id: str) -> int:
    """Held jobs go to the queue; one log entry per document. Returns the documents released."""
    documents = [r[0] for r in conn.execute("SELECT DISTINCT document_id FROM jobs WHERE state = ?", (JobState.HELD,))]
    for document_id in documents:
        count = conn.execute(
            "UPDATE jobs SET state = ?, next_attempt = ?, updated = ? WHERE document_id = ? AND state = ?",
            (JobState.QUEUED, at, at, document_id, JobState.HELD),
        ).rowcount
        conn.execute("UPDATE documents SET state = ? WHERE id = ?", (DocumentState.ROUTED, document_id))
        store.chain.append(
            conn, at, "document.released", document_id=document_id, data={"outage": outage_id, "jobs": count}
        )
    return len(documents)
