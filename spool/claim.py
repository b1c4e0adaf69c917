"""Older name of ``spool.queue``, kept so code written against it still imports.

The durable queue lives in ``spool.queue``; import from there.
"""

from spool.queue import (
    IGNORED_SUFFIXES,
    SIDECAR_SUFFIX,
    Claimed,
    claim,
    file_away,
    fsync_dir,
    is_candidate,
    new_document_id,
    quarantine,
    reclaim,
    sha256_of,
    sidecar_of,
    write_atomically,
)

__all__ = [
    "IGNORED_SUFFIXES",
    "SIDECAR_SUFFIX",
    "Claimed",
    "claim",
    "file_away",
    "fsync_dir",
    "is_candidate",
    "new_document_id",
    "quarantine",
    "reclaim",
    "sha256_of",
    "sidecar_of",
    "write_atomically",
]
