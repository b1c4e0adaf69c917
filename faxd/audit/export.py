"""``faxctl audit export``: the confirmation log as rows an auditor's tools read.

One row per call attempt (``row_type`` = ``attempt``) and one per confirmed page
(``row_type`` = ``page``), replayed from the signed log. The columns are stable: new
ones are only ever added at the end. Times are ISO 8601 in UTC.

=====================  ===============================================================
column                 meaning
=====================  ===============================================================
row_type               ``attempt`` or ``page``
document_id            the gateway's id of the document
document_sha256        SHA-256 of the PDF as it was dropped
reference              the sender's own reference (``FaxdReference``)
message_type           the routine's type code
sender                 the sending unit (directory id)
job_id                 the job (one per document and recipient); the cover sheet's reference
recipient              the receiving unit (directory id)
recipient_name         its name in the directory
number                 the number dialled
directory_version      the fax directory version the job was routed or re-numbered with
attempt                the attempt's number
modem                  the modem that placed the call
started, ended         when the call started and ended
outcome, reason        the attempt's outcome code and reason (README, "Outcomes of a call")
remote_id              the answering station's id (CSI)
pages_total            pages in the call, cover sheet included
pages_sent             pages sent
pages_confirmed        pages the remote confirmed
page                   for ``page`` rows: the page's place in the call (1 = cover sheet)
page_confirmed_at      for ``page`` rows: when the remote confirmed it
bit_rate, coding, ecm  ``attempt`` rows: the call's last negotiated bit rate, coding (MH/MR/MMR) and error
                       correction; ``page`` rows: how that page went on the line (the call's values for
                       pages logged before faxd recorded them per page)
=====================  ===============================================================
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from faxd.audit.view import LogView

COLUMNS = (
    "row_type",
    "document_id",
    "document_sha256",
    "reference",
    "message_type",
    "sender",
    "job_id",
    "recipient",
    "recipient_name",
    "number",
    "directory_version",
    "attempt",
    "modem",
    "started",
    "ended",
    "outcome",
    "reason",
    "remote_id",
    "pages_total",
    "pages_sent",
    "pages_confirmed",
    "page",
    "page_confirmed_at",
    "bit_rate",
    "coding",
    "ecm",
)


def rows(view: LogView, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """Attempt and page rows for attempts started in [since, until), oldest first."""
    out: list[dict[str, Any]] = []
    for a in sorted(view.attempts.values(), key=lambda a: a.attempt):
        started = datetime.fromisoformat(a.started)
        if (since and started < since) or (until and started >= until):
            continue
        job = view.jobs.get(a.job_id)
        document = view.documents.get(job.document_id or "") if job else None
        base = {
            "document_id": job.document_id if job else a.document_id,
            "document_sha256": document.sha256 if document else None,
            "reference": document.reference if document else None,
            "message_type": document.message_type if document else None,
            "sender": document.sender if document else None,
            "job_id": a.job_id,
            "recipient": job.recipient if job else None,
            "recipient_name": job.recipient_name if job else None,
            "number": a.number,
            "directory_version": job.directory_version if job else None,
            "attempt": a.attempt,
            "modem": a.modem,
            "started": a.started,
            "ended": a.ended,
            "outcome": a.outcome,
            "reason": a.reason,
            "remote_id": a.remote_id,
            "pages_total": a.pages_total,
            "pages_sent": a.pages_sent,
            "pages_confirmed": a.pages_confirmed,
            "bit_rate": a.bit_rate,
            "coding": a.coding,
            "ecm": a.ecm,
        }
        out.append({c: base.get(c) for c in COLUMNS} | {"row_type": "attempt"})
        for page in a.pages:
            out.append(
                {c: base.get(c) for c in COLUMNS}
                | {"row_type": "page", "page": page.page, "page_confirmed_at": page.confirmed_at}
                | {
                    key: value
                    for key, value in (("bit_rate", page.bit_rate), ("coding", page.coding), ("ecm", page.ecm))
                    if value is not None
                }
            )
    return out


def render(data: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in data:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
