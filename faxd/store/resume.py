"""What a resume needs from the queue: which machine got the earlier pages, and starting a
document again from page one when a continuation would reach another machine (issue 13).

A continuation (the pages after those the remote confirmed) is only right for the machine
that holds the first part. ``earlier_delivery`` names that machine as the calls saw it
(the dial string and the CSI); ``restart_in_full`` makes the earlier attempts stop counting
towards the job's confirmed pages, so the next call sends the whole document, and writes
the decision into the signed confirmation log with what differed.
"""

from __future__ import annotations

from faxd.store.base import Database
from faxd.store.model import EarlierDelivery, Job, iso, now_utc


class ResumeStore(Database):
    def earlier_delivery(self, job_id: str) -> EarlierDelivery | None:
        """Returns the latest attempt since the job's last restart whose remote confirmed at
        least one document page (``pages_confirmed`` counts the cover sheet too), or None."""
        row = (
            self._conn()
            .execute(
                "SELECT a.id, a.number, a.remote_id FROM attempts a JOIN jobs j ON j.id = a.job_id"
                " WHERE a.job_id = ? AND a.id > j.restart_after AND a.pages_confirmed >= 2"
                " ORDER BY a.id DESC LIMIT 1",
                (job_id,),
            )
            .fetchone()
        )
        return EarlierDelivery(attempt=row[0], number=row[1], remote_id=row[2]) if row else None

    def restart_in_full(self, job: Job, reason: str, *, earlier: EarlierDelivery | None, now: dict[str, str]) -> None:
        """From now on the job counts no page confirmed so far: its next call sends the whole
        document, with ``reason`` on the cover sheet. ``now`` says what the call found
        (``number``, ``remote_id``), logged beside the earlier machine's."""
        at = iso(now_utc())
        with self.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET restart_after = (SELECT COALESCE(MAX(id), 0) FROM attempts WHERE job_id = ?),"
                " resend_reason = ?, updated = ? WHERE id = ?",
                (job.id, reason, at, job.id),
            )
            self._audit(
                conn,
                at,
                "job.resend_in_full",
                document_id=job.document_id,
                job_id=job.id,
                data={
                    "reason": reason,
                    "pages_confirmed_earlier": job.pages_done,
                    "earlier_attempt": earlier.attempt if earlier else None,
                    "earlier_number": earlier.number if earlier else None,
                    "earlier_remote_id": earlier.remote_id if earlier else None,
                    **now,
                },
            )
