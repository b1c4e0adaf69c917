"""Queue and state in SQLite: documents, one job per document and recipient, attempts.

SQLite in WAL mode with ``synchronous=FULL``: a committed change survives a crash or a
power cut, readers (``faxctl``) never block the daemon, and one file is all an operator
has to back up. The package is split along its seams:

    schema.py  the tables and migrations
    model.py   states, ``Job`` (built by column name), ``NewJob``, ``AttemptEnd``
    base.py    one connection per thread, transactions, the confirmation log key
    queue.py   the writes: documents and jobs in, claims, attempts, recovery
    reads.py   the read-only queries ``faxctl`` shows
    resume.py  which machine got the earlier pages; starting a document again in full

``Store`` is all of it, and what the rest of faxd imports.
"""

from __future__ import annotations

from faxd.store.model import AttemptEnd, DocumentState, Job, JobState, NewJob, iso, now_utc
from faxd.store.queue import QueueStore
from faxd.store.reads import Reads
from faxd.store.resume import ResumeStore
from faxd.store.schema import SCHEMA


class Store(QueueStore, ResumeStore, Reads):
    """The daemon's and faxctl's view of the database: queue writes and read queries."""


__all__ = ["SCHEMA", "AttemptEnd", "DocumentState", "Job", "JobState", "NewJob", "Store", "iso", "now_utc"]
