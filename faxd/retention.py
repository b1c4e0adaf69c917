"""Retention: page images of old attempts are deleted, the facts stay in the signed log.

The archive (``state/archive/``) holds what went on the line for each attempt; after
``archive.retention_days`` those images go. The confirmation log keeps what an auditor
needs afterwards (document SHA-256, reference, recipients, attempts, pages confirmed,
outcomes), and the purge itself becomes a log entry (``retention.purged``: how many
files, the retention period, the cut-off), so verification passes after a purge and an
auditor sees when and why images are missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from faxd.store import Store, iso
from imaging import prune_archive


def purge_archive(store: Store, folder: Path, *, keep_days: int, now: datetime) -> int:
    """Delete archive files older than ``keep_days`` and record the purge in the log.
    Returns how many files were deleted (0: nothing recorded). ``keep_days`` 0 keeps all."""
    if keep_days <= 0 or not folder.is_dir():
        return 0
    removed = prune_archive(folder, keep_days=keep_days, now=now)
    if removed:
        cutoff = now - timedelta(days=keep_days)
        with store.transaction() as conn:
            store.chain.append(
                conn,
                iso(datetime.now(UTC)),
                "retention.purged",
                data={"files": removed, "retention_days": keep_days, "older_than": iso(cutoff)},
            )
    return removed
