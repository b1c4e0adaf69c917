"""Per-destination memory: what each remote number's line took last time.

HylaFAX keeps a file per remote under ``info/`` with the best rate that worked and the
trouble it had, and starts the next call from there. faxd does the same in its own
SQLite file, ``state/lines.sqlite3`` (apart from the queue database: losing it costs
only a slower first training). After each call the runner records the fastest rate that
trained, the rate a page got RTN at and whether ECM needed CTC/EOR; before the next call
to the number, ``start_rate`` gives the rate to train at first:

- one rate above the fastest rate that trained last time: no point in failing all the
  same TCFs again, but one try higher notices a line that got better (starting at the
  trained rate itself, the memory could only ever go down: a call never trains above
  where it starts);
- below the rate that gave RTN (the page failed there, although training passed);
- one step below the trained rate after ECM trouble (blocks needed CTC or EOR).

A memory older than ``FORGET_AFTER`` is ignored: lines get repaired, and the next call
trains from the top again. ``faxctl lines`` shows the table. The numbers are the
directory's fax numbers of care units, no patient data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from drivers.modem import CallResult

FILE_NAME = "lines.sqlite3"
#: The signalling rates of T.30 (bit/s), ascending: the memory probes one above.
RATES = (2400, 4800, 7200, 9600, 12000, 14400)
#: After this long without a call the memory no longer lowers the first rate.
FORGET_AFTER = timedelta(days=30)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    number TEXT PRIMARY KEY,
    updated TEXT NOT NULL,
    calls INTEGER NOT NULL,
    trained_bps INTEGER,
    rtn_bps INTEGER,
    ecm_trouble INTEGER NOT NULL,
    last_outcome TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class LineRecord:
    number: str  # the dial string
    updated: datetime  # the last call that reached the remote's DIS
    calls: int  # calls that reached DIS since the memory started
    trained_bps: int | None  # fastest rate that got CFR on that call
    rtn_bps: int | None  # the rate a page got RTN at on that call
    ecm_trouble: bool  # ECM needed CTC or EOR on that call
    last_outcome: str

    def start_rate(self, now: datetime) -> int | None:
        """Returns the rate (bit/s) to train at first, or None for "the fastest"."""
        if now - self.updated > FORGET_AFTER:
            return None
        start = self.trained_bps
        if start is not None and self.ecm_trouble:
            start -= 1  # strictly below: the engine takes the next usable rate under it
        elif start is not None:
            start = next((bps for bps in RATES if bps > start), None)  # None: from the top
        if self.rtn_bps is not None:
            start = min(start, self.rtn_bps - 1) if start is not None else self.rtn_bps - 1
        return start


class LineMemory:
    """The memory file of one faxd state directory; safe to use from several threads
    (a connection per operation, SQLite serialises the writes)."""

    def __init__(self, state: Path) -> None:
        self.path = state / FILE_NAME
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def get(self, number: str) -> LineRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM lines WHERE number = ?", (number,)).fetchone()
        return _record(row) if row is not None else None

    def records(self) -> list[LineRecord]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM lines ORDER BY number").fetchall()
        return [_record(row) for row in rows]

    def start_rate(self, number: str, now: datetime) -> int | None:
        """Returns the first rate for a call to ``number`` (None: the fastest)."""
        record = self.get(number)
        return record.start_rate(now) if record is not None else None

    def remember(self, number: str, result: CallResult, now: datetime) -> None:
        """Records what the call showed; a call that never trained changes nothing."""
        if result.trained_bps is None and result.rtn_bps is None:
            return
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO lines (number, updated, calls, trained_bps, rtn_bps, ecm_trouble, last_outcome)"
                " VALUES (?, ?, 1, ?, ?, ?, ?)"
                " ON CONFLICT(number) DO UPDATE SET updated = excluded.updated, calls = calls + 1,"
                " trained_bps = excluded.trained_bps, rtn_bps = excluded.rtn_bps,"
                " ecm_trouble = excluded.ecm_trouble, last_outcome = excluded.last_outcome",
                (
                    number,
                    now.isoformat(timespec="seconds"),
                    result.trained_bps,
                    result.rtn_bps,
                    int(result.ecm_trouble),
                    result.outcome.value,
                ),
            )


def _record(row: tuple[object, ...]) -> LineRecord:
    number, updated, calls, trained, rtn, trouble, outcome = row
    return LineRecord(
        number=str(number),
        updated=datetime.fromisoformat(str(updated)),
        calls=int(str(calls)),
        trained_bps=int(str(trained)) if trained is not None else None,
        rtn_bps=int(str(rtn)) if rtn is not None else None,
        ecm_trouble=bool(trouble),
        last_outcome=str(outcome),
    )
