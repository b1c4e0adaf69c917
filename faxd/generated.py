"""Faxes the gateway makes itself (the readiness drill, the follow-up notice), queued as
ordinary documents.

Such a document skips the spool's ``incoming/`` and the intake: the gateway wrote the
PDF, so there is nothing to inspect or route. It enters the durable queue the way a
claimed document does (``spool.queue``): the file is published in ``work/`` whole
(write, fsync, rename) and then recorded with its one job. If the record fails (a full
disk, a read-only database), the file is removed again: an unrecorded PDF in ``work/``
is what a crash between claim and record leaves, so recovery would take it for a
dropped document and quarantine it for having no metadata.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from faxd.store import NewJob, Store
from spool.folders import SpoolFolders
from spool.queue import new_document_id, write_atomically


def queue_generated_fax(
    store: Store,
    spool: Path,
    pdf: bytes,
    *,
    original_name: str,
    message_type: str,
    sender: str,
    reference: str,
    directory_version: str,
    job: NewJob,
    then: Callable[[sqlite3.Connection, str, str, str], None] | None = None,
) -> tuple[str, str]:
    """Queue the one-page ``pdf`` for ``job``; returns (document id, job id).
    ``then(conn, at, document_id, job_id)`` runs in the recording transaction: the
    caller's own log entry, committed with the job or not at all."""
    folders = SpoolFolders(spool)
    folders.create()
    document_id = new_document_id()
    path = folders.work / f"{document_id}.pdf"
    write_atomically(path, pdf)
    try:
        (job_id,) = store.add_routed_document(
            document_id=document_id,
            sha256=hashlib.sha256(pdf).hexdigest(),
            original_name=original_name,
            path=path,
            message_type=message_type,
            sender=sender,
            reference=reference,
            event_date=None,
            pages=1,
            directory_version=directory_version,
            jobs=[job],
            then=None if then is None else (lambda conn, at, ids: then(conn, at, document_id, ids[0])),
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return document_id, job_id
