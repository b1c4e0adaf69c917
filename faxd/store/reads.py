"""Read-only queries for ``faxctl``: the confirmation log, jobs, quarantine, modems."""

from __future__ import annotations

from typing import Any

from faxd import audit
from faxd.store.base import Database
from faxd.store.model import DocumentState


class Reads(Database):
    # -- reading, for faxctl -----------------------------------------------------------

    def confirmation_log(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, in the shape of ``faxctl log --json``: replayed from
        the signed log, so what it shows is what verification covers."""
        return audit.replay(audit.entries(self._conn())).confirmation_log()

    def outage_in_force(self) -> bool:
        return audit.outage_in_force(self._conn())

    def attempts_table(self) -> list[dict[str, Any]]:
        """The queue's working copy of the attempts (not covered by the signatures)."""
        rows = (
            self._conn()
            .execute(
                "SELECT a.id, a.job_id, d.id, d.sha256, d.message_type, j.recipient, j.recipient_name, a.number,"
                " a.remote_id, a.pages_total, a.pages_sent, a.pages_confirmed, a.bit_rate, a.started, a.ended,"
                " a.outcome, a.reason, a.modem, j.directory_version, a.archive"
                " FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN documents d ON d.id = j.document_id"
                " ORDER BY a.id"
            )
            .fetchall()
        )
        keys = (
            "attempt",
            "job_id",
            "document_id",
            "document_sha256",
            "message_type",
            "recipient",
            "recipient_name",
            "number",
            "remote_id",
            "pages_total",
            "pages_sent",
            "pages_confirmed",
            "bit_rate",
            "started",
            "ended",
            "outcome",
            "reason",
            "modem",
            "directory_version",
            "archive",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def jobs(self) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT j.id, j.document_id, d.message_type, j.recipient, j.number, j.priority, j.state,"
                " j.attempts, j.next_attempt, j.outcome, j.reason FROM jobs j JOIN documents d ON d.id = j.document_id"
                " ORDER BY j.seq"
            )
            .fetchall()
        )
        keys = (
            "job_id",
            "document_id",
            "message_type",
            "recipient",
            "number",
            "priority",
            "state",
            "attempts",
            "next_attempt",
            "outcome",
            "reason",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def quarantined(self) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT id, original_name, received, reason, path FROM documents WHERE state = ? ORDER BY received",
                (DocumentState.QUARANTINED,),
            )
            .fetchall()
        )
        return [dict(zip(("document_id", "original_name", "received", "reason", "path"), r, strict=True)) for r in rows]

    def first_copy(
        self, sha256: str, sent_since: str, *, message_type: str, sender: str, reference: str | None
    ) -> dict[str, Any] | None:
        """The earliest document with this SHA-256 that is still queued (``routed``) or whose
        jobs last changed at or after ``sent_since`` (ISO UTC); None if there is none."""
        row = (
            self._conn()
            .execute(
                "SELECT d.id, d.state, d.received, MAX(j.updated) FROM documents d JOIN jobs j ON j.document_id = d.id"
                " WHERE d.sha256 = ? AND d.state != ? AND d.message_type = ? AND d.sender = ? AND d.reference IS ?"
                " GROUP BY d.id HAVING d.state = ? OR MAX(j.updated) >= ? ORDER BY d.received LIMIT 1",
                (sha256, DocumentState.QUARANTINED, message_type, sender, reference, DocumentState.ROUTED, sent_since),
            )
            .fetchone()
        )
        if row is None:
            return None
        return dict(zip(("id", "state", "received", "last_change"), row, strict=True))

    def document(self, document_id: str) -> dict[str, Any] | None:
        """One document's row (state, path, reason, names), or None if it is not recorded."""
        cur = self._conn().execute(
            "SELECT id, sha256, original_name, path, received, state, reason FROM documents WHERE id = ?",
            (document_id,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip(("id", "sha256", "original_name", "path", "received", "state", "reason"), row, strict=True))

    def modems(self) -> list[dict[str, Any]]:
        rows = self._conn().execute("SELECT name, device, state, detail, updated FROM modems ORDER BY name")
        return [dict(zip(("name", "device", "state", "detail", "updated"), r, strict=True)) for r in rows]
