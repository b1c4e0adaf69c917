"""Verification of the confirmation log, as an auditor runs it: public key only.

Walks the chain in sequence order and names the first entry where it breaks and how:

- ``edited``: an entry's content no longer matches its signature;
- ``deleted``: sequence numbers are missing, or an entry's predecessor is gone;
- ``inserted``: an entry that is not signed sits between two entries that link;
- ``reordered``: a genuine entry sits at another place than the one it was signed for;
- ``replayed``: a copy of an earlier entry;
- ``resigned``: from this entry on the chain was signed with a key that is not the
  gateway's (e.g. rebuilt with a key found in the state folder);
- ``truncated`` / ``wiped``: the published head (head file, journal checkpoints) names
  entries the database no longer has, or has with another signature (a database
  rolled back to a copy);
- ``table_missing``: the log's table is gone;
- ``state_differs``: a row of the queue's tables (what ``faxctl status`` reads) says
  something the log does not.

Returns a Verification; never raises for tampering, only for a missing public key.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from faxd.audit.chain import GENESIS, Entry, entries
from faxd.audit.head import Head
from faxd.audit.keys import Verifier
from faxd.audit.view import LogView, replay

MAX_PROBLEMS = 50
REORDER_REACH = 16  # how far from its place a moved entry is looked for


class Break(enum.StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    REPLAYED = "replayed"
    RESIGNED = "resigned"
    TRUNCATED = "truncated"
    WIPED = "wiped"
    TABLE_MISSING = "table_missing"
    HEAD_MISSING = "head_missing"
    STATE_DIFFERS = "state_differs"


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    kind: Break
    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    last_seq: int
    head_seq: int  # the highest published head found (0: none)
    breaks: tuple[Problem, ...] = ()
    view: LogView = field(default_factory=LogView, compare=False)

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(p.detail for p in self.breaks)

    def as_json(self) -> dict[str, Any]:
        first = self.breaks[0] if self.breaks else None
        return {
            "intact": self.intact,
            "entries": self.entries,
            "last_seq": self.last_seq,
            "head_seq": self.head_seq,
            "first_break": None
            if first is None
            else {"seq": first.seq, "kind": first.kind.value, "detail": first.detail},
            "problems": [{"seq": p.seq, "kind": p.kind.value, "detail": p.detail} for p in self.breaks],
        }


def verify(
    conn: sqlite3.Connection, verifier: Verifier, heads: Sequence[Head] = (), *, head_expected: bool = False
) -> Verification:
    """Check the chain, the published heads and the queue's tables against the log.

    ``head_expected``: a head file is configured but gave no heads; if the log has
    entries, that itself is reported (the file was removed or never written)."""
    try:
        rows = list(entries(conn))
    except sqlite3.OperationalError as exc:
        head_seq = max((h.seq for h in heads), default=0)
        return Verification(
            0,
            0,
            head_seq,
            (
                Problem(
                    None,
                    Break.TABLE_MISSING,
                    f"the log's table cannot be read ({exc}): dropped or damaged; "
                    f"the published head says {head_seq} entries existed",
                ),
            ),
        )
    problems = _check_chain(rows, verifier)
    last_seq = rows[-1].seq if rows else 0
    problems += _check_heads(rows, heads)
    if head_expected and not heads and rows:
        problems.append(
            Problem(
                None, Break.HEAD_MISSING, "the published head file is missing or empty: truncation cannot be ruled out"
            )
        )
    view = replay(rows)
    problems += _check_state(conn, view)
    return Verification(
        len(rows), last_seq, max((h.seq for h in heads), default=0), tuple(problems[:MAX_PROBLEMS]), view
    )


def _check_chain(rows: Sequence[Entry], verifier: Verifier) -> list[Problem]:
    problems: list[Problem] = []
    position = {row.sig: i for i, row in reversed(list(enumerate(rows)))}  # first occurrence wins
    seen: dict[str, int] = {}
    prev_sig, expected_seq = GENESIS, 1
    resigned = False
    for i, row in enumerate(rows):
        where = f"entry {row.seq} ({row.event} at {row.at})"
        if row.sig in seen:
            problems.append(Problem(row.seq, Break.REPLAYED, f"{where} is a replayed copy of entry {seen[row.sig]}"))
            prev_sig, expected_seq = row.sig, row.seq + 1
            continue
        seen[row.sig] = row.seq
        gap = row.seq != expected_seq
        if gap:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}-{row.seq - 1}"
            problems.append(
                Problem(expected_seq, Break.DELETED, f"entry {missing} missing: deleted (the log goes on at {row.seq})")
            )
        linked = row.prev == prev_sig
        valid = _signed(verifier, row)
        if valid and not linked and not gap:
            j = position.get(row.prev)
            if j is not None and j > i:
                problems.append(
                    Problem(row.seq, Break.REORDERED, f"{where} was moved: it was signed to follow entry {rows[j].seq}")
                )
            elif j is not None:
                problems.append(
                    Problem(
                        row.seq,
                        Break.INSERTED,
                        f"entries between {rows[j].seq} and {row.seq} are not part of the chain (inserted)",
                    )
                )
            else:
                problems.append(Problem(row.seq, Break.DELETED, f"the entry {where} was signed to follow is gone"))
        elif not valid and not resigned:
            problems.append(_classify_bad(rows, i, prev_sig, verifier, position))
            resigned = problems[-1].kind is Break.RESIGNED
        prev_sig, expected_seq = row.sig, row.seq + 1
    return problems


def _signed(verifier: Verifier, row: Entry, seq: int | None = None) -> bool:
    try:
        signature = bytes.fromhex(row.sig)
    except ValueError:
        return False
    return verifier.valid(signature, row.message(seq))


def _classify_bad(
    rows: Sequence[Entry], i: int, prev_sig: str, verifier: Verifier, position: dict[str, int]
) -> Problem:
    """An entry whose signature does not verify: say what most likely happened."""
    row = rows[i]
    where = f"entry {row.seq} ({row.event} at {row.at})"
    if row.prev in position:
        # A genuine entry at a place it was not signed for: try the nearby places.
        for seq in range(max(1, row.seq - REORDER_REACH), row.seq + REORDER_REACH + 1):
            if seq != row.seq and _signed(verifier, row, seq):
                return Problem(row.seq, Break.REORDERED, f"{where} was moved: it holds the entry signed as entry {seq}")
    following = rows[i + 1] if i + 1 < len(rows) else None
    if following is not None and following.prev == prev_sig:
        return Problem(
            row.seq, Break.INSERTED, f"{where} was inserted: it is not signed and the next entry links past it"
        )
    if following is not None and following.prev == row.sig and not _signed(verifier, following):
        return Problem(
            row.seq,
            Break.RESIGNED,
            f"{where} and the entries after it are not signed with the gateway's key "
            f"{verifier.fingerprint} ({verifier.path}): the chain was rebuilt with another key",
        )
    return Problem(row.seq, Break.EDITED, f"{where} was altered after it was written (its signature does not match)")


def _check_heads(rows: Sequence[Entry], heads: Iterable[Head]) -> list[Problem]:
    by_seq = {row.seq: row.sig for row in rows}
    last = rows[-1].seq if rows else 0
    problems: list[Problem] = []
    highest: Head | None = None
    for head in heads:
        if head.seq > last:
            if highest is None or head.seq > highest.seq:
                highest = head
        elif by_seq.get(head.seq, head.signature) != head.signature:
            problems.append(
                Problem(
                    head.seq,
                    Break.TRUNCATED,
                    f"entry {head.seq} differs from the head published in {head.source}: "
                    f"the log was rolled back or rewritten from there",
                )
            )
            break
    if highest is not None:
        kind = Break.WIPED if not rows else Break.TRUNCATED
        what = "the log is empty" if not rows else f"the log ends at entry {last}"
        problems.append(
            Problem(
                last + 1,
                kind,
                f"{what}, but {highest.source} published entry {highest.seq}: "
                f"entries {last + 1}-{highest.seq} were removed",
            )
        )
    return problems


_ATTEMPT_COLUMNS = (
    "job_id",
    "number",
    "started",
    "ended",
    "remote_id",
    "pages_total",
    "pages_sent",
    "pages_confirmed",
    "bit_rate",
    "outcome",
    "reason",
)


def _check_state(conn: sqlite3.Connection, view: LogView) -> list[Problem]:
    """The queue's tables against the log: a row changed behind the log's back is named."""
    problems: list[Problem] = []
    try:
        attempt_rows = conn.execute(f"SELECT id, {', '.join(_ATTEMPT_COLUMNS)} FROM attempts").fetchall()
        job_rows = conn.execute("SELECT id, document_id, recipient, number, state FROM jobs").fetchall()
        document_rows = conn.execute(
            "SELECT id, sha256, state, message_type, sender, reference FROM documents"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        return [Problem(None, Break.STATE_DIFFERS, f"the queue's tables cannot be read: {exc}")]
    found: set[int] = set()
    for row in attempt_rows:
        found.add(row[0])
        logged = view.attempts.get(row[0])
        if logged is None:
            problems.append(Problem(None, Break.STATE_DIFFERS, f"attempts row {row[0]} is not in the log"))
            continue
        for column, value in zip(_ATTEMPT_COLUMNS, row[1:], strict=True):
            expected = getattr(logged, column)
            if value != expected:
                problems.append(
                    Problem(
                        None,
                        Break.STATE_DIFFERS,
                        f"attempts row {row[0]}: {column} is {value!r} but the log says {expected!r}",
                    )
                )
    for attempt in view.attempts:
        if attempt not in found:
            problems.append(
                Problem(None, Break.STATE_DIFFERS, f"attempt {attempt} of the log was deleted from the attempts table")
            )
    for job_id, document_id, recipient, number, state in job_rows:
        job = view.jobs.get(job_id)
        if job is None:
            problems.append(Problem(None, Break.STATE_DIFFERS, f"job {job_id} is not in the log"))
        elif (document_id, recipient, number) != (job.document_id, job.recipient, job.number) or (
            {state, job.state} & {"confirmed", "failed"} and state != job.state
        ):
            problems.append(
                Problem(
                    None,
                    Break.STATE_DIFFERS,
                    f"job {job_id}: the jobs table says {recipient} "
                    f"{number} {state}, the log {job.recipient} {job.number} {job.state}",
                )
            )
    for document_id, sha256, state, message_type, sender, reference in document_rows:
        doc = view.documents.get(document_id)
        if doc is None:
            problems.append(Problem(None, Break.STATE_DIFFERS, f"document {document_id} is not in the log"))
        elif (sha256, message_type, sender, reference) != (doc.sha256, doc.message_type, doc.sender, doc.reference):
            problems.append(
                Problem(None, Break.STATE_DIFFERS, f"document {document_id}: the documents table differs from the log")
            )
    return problems
