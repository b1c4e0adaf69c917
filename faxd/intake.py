"""From a file in the spool to routed jobs in the queue, or to quarantine with a reason.

The order matters for "nothing is lost" (the argument is in ``spool.queue``): the file
is claimed (renamed into work/) before anything else, and it leaves work/ only after
the database says what became of it. A crash in between leaves a file in work/ that
``recover`` finds and processes again. Recovery takes each file on its own: one that
fails is set aside with its reason and the rest continue; storage trouble (a full or
read-only disk) stops it without touching any document, until the storage is back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog

from faxd.config import Config, NoOutagePolicy
from faxd.store import DocumentState, NewJob, Store, iso, now_utc
from faxerrors import FaxError
from routing.directory import Directory
from routing.errors import RoutingError
from routing.metadata import DocumentMeta
from routing.rules import Route, route
from spool import queue
from spool.folders import SpoolFolders
from spool.inspection import DocumentFacts, DocumentRejected
from spool.inspector import Inspector

log = structlog.get_logger("faxd.intake")


@dataclass(frozen=True, slots=True)
class RoutedDocument:
    facts: DocumentFacts
    meta: DocumentMeta
    route: Route


def route_document(
    path: Path, sidecar: Path | None, config: Config, directory: Directory, inspector: Inspector | None = None
) -> RoutedDocument:
    """Check a document and route it. Raises DocumentRejected or RoutingError with the reason.

    The daemon's intake and ``faxctl route`` (the dry run) both come through here, so the
    dry run says exactly what the daemon would do. The PDF is parsed in ``inspector``'s
    limited child (a new one for this document when none is given), never here.
    """
    if inspector is None:
        with Inspector() as own:
            return route_document(path, sidecar, config, directory, own)
    facts = inspector.inspect(
        path, sidecar, max_bytes=config.limits.max_document_bytes, max_pages=config.limits.max_pages
    )
    meta = DocumentMeta.from_fields(facts.fields)
    chosen = route(meta, directory, page_one_text=facts.page_one_text, priorities=config.priorities)
    return RoutedDocument(facts, meta, chosen)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    document_id: str
    job_ids: tuple[str, ...] = ()
    quarantine_reason: str | None = None


class StorageUnavailable(FaxError):
    """The spool or the state cannot take writes (full, read-only, failing disk).

    Nothing was lost or set aside: the document waits in incoming/ or work/ until
    the storage takes writes again. ``reason`` says which storage and why.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Recovery:
    """What one pass over work/ did."""

    processed: int = 0
    filed: int = 0
    set_aside: int = 0


DESTINATIONS = {
    DocumentState.DONE: queue.Destination.DONE,
    DocumentState.FOLLOW_UP: queue.Destination.FAILED,
    DocumentState.QUARANTINED: queue.Destination.QUARANTINE,
}


def file_finished(store: Store, folders: SpoolFolders, document_id: str) -> Path | None:
    """File a document whose outcome is recorded, if it is finished and still in work/.

    The one place that decides where a finished document goes (``spool.queue.file_document``
    moves it). Returns its new path, or None if it is not finished or not in work/.
    """
    row = store.document(document_id)
    path = folders.work / f"{document_id}.pdf"
    # lexists: the entry itself (a dangling link set aside is still an entry to file).
    if row is None or row["state"] not in DESTINATIONS or not os.path.lexists(path):
        return None
    state = DocumentState(row["state"])
    destination = DESTINATIONS[state]
    if destination is queue.Destination.QUARANTINE:
        # The database already names the path it gets (recorded before the move).
        target = queue.file_document(
            folders,
            path,
            destination,
            target=Path(row["path"]),
            reason=queue.reason_text(
                original_name=row["original_name"],
                document_id=document_id,
                sha256=row["sha256"],
                reason=row["reason"] or "set aside",
            ),
        )
    else:
        # Record, then move: if the database cannot take the new path (a full disk), the
        # file stays in work/ and recovery files it once storage is back. Moved first, it
        # would be in done/ with the database naming work/, and no event for it.
        target = queue.destination_folder(folders, destination) / path.name
        store.set_document_path(document_id, target)
        target = queue.file_document(folders, path, destination, target=target)
    log.info(f"document.{state.value}_filed", document_id=document_id, folder=destination.value)
    return target


class Intake:
    def __init__(
        self,
        config: Config,
        store: Store,
        folders: SpoolFolders,
        directory: Callable[[], Directory],
        on_jobs: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.store = store
        self.folders = folders
        self.directory = directory
        self.on_jobs = on_jobs
        self.inspector = Inspector()

    def close(self) -> None:
        """End the inspector's child process."""
        self.inspector.close()

    def take(self, path: Path) -> IntakeResult | None:
        """Claim a file from incoming/ and process it. None if another claim got it first.

        Raises StorageUnavailable when the disk cannot take writes (the file then waits
        in work/ for ``recover``); any other failure sets the document aside with a reason.
        """
        try:
            claimed = queue.claim(self.folders, path, max_bytes=self.config.limits.max_document_bytes)
        except OSError as exc:
            raise self._storage(exc) from exc
        if claimed is None:
            return None
        log.info("spool.document_claimed", document_id=claimed.document_id, bytes=claimed.size)
        return self._guarded(claimed)

    def _storage(self, exc: BaseException) -> BaseException:
        trouble = queue.storage_trouble(exc)
        return StorageUnavailable(trouble) if trouble else exc

    def _guarded(self, claimed: queue.Claimed) -> IntakeResult:
        """Process one document; a failure that is not the storage's sets it aside."""
        try:
            return self.process(claimed)
        except Exception as exc:  # supervisor boundary for one document
            trouble = queue.storage_trouble(exc)
            if trouble:
                raise StorageUnavailable(trouble) from exc
            # No traceback: its text may quote the document's bytes (a name, a number).
            log.error("intake.document_failed", document_id=claimed.document_id, error=type(exc).__name__)
            return self._quarantine(
                claimed,
                f"it could not be processed ({type(exc).__name__}); set aside so the others can go on;"
                " the journal has the details",
            )

    def process(self, claimed: queue.Claimed) -> IntakeResult:
        """Route a claimed document into jobs, or quarantine it with a reason.

        Total over the document: whatever its content makes a parser or the routing
        raise ends in quarantine with a reason in our words (a library's message may
        quote the file's bytes). Only storage trouble leaves it in work/.
        """
        if claimed.problem is not None:
            return self._quarantine(claimed, claimed.problem)
        directory = self.directory()
        try:
            routed = route_document(claimed.path, claimed.sidecar, self.config, directory, self.inspector)
        except (DocumentRejected, RoutingError) as exc:
            return self._quarantine(claimed, str(exc))
        except Exception as exc:  # the parsers' boundary: a document must not stop the intake
            if queue.storage_trouble(exc):
                raise
            log.warning("intake.check_failed", document_id=claimed.document_id, error=type(exc).__name__)
            return self._quarantine(
                claimed, f"the document could not be checked ({type(exc).__name__}); set aside so the others can go on"
            )
        # After the checks: a refused document gets its own reason, not "duplicate".
        duplicate = self._duplicate_reason(claimed, routed)
        if duplicate is not None:
            return self._quarantine(claimed, duplicate)
        policy = self.config.outage.when_not_declared
        if policy is NoOutagePolicy.REFUSE and not self.store.outage_in_force():
            return self._quarantine(
                claimed,
                "no outage is declared and outage.when_not_declared is 'refuse': "
                "send it through Mina planer, or declare the outage (faxctl outage start)",
            )
        try:
            return self._record(claimed, routed, directory)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # The routing data passed the checks yet cannot be stored (sqlite3 raises these
            # for values it cannot bind): set aside, never left unrecorded in work/.
            log.warning("intake.record_refused", document_id=claimed.document_id, error=type(exc).__name__)
            return self._quarantine(claimed, "the routing data cannot be stored (a value of an unusable kind)")

    def _record(self, claimed: queue.Claimed, routed: RoutedDocument, directory: Directory) -> IntakeResult:
        facts, meta, chosen = routed.facts, routed.meta, routed.route
        jobs = [
            NewJob(
                recipient=r.unit.id,
                recipient_name=r.unit.name,
                number=r.unit.fax,
                roles=",".join(role.value for role in r.roles),
                rule=r.rule,
                priority=chosen.priority,
            )
            for r in chosen.recipients
        ]
        job_ids = self.store.add_routed_document(
            document_id=claimed.document_id,
            sha256=claimed.sha256,
            original_name=claimed.original_name,
            path=claimed.path,
            message_type=chosen.message_type.code,
            sender=chosen.sender.id,
            reference=meta.reference,
            event_date=meta.event_date.isoformat() if meta.event_date else None,
            pages=facts.pages,
            directory_version=directory.version,
            jobs=jobs,
            hold_without_outage=self.config.outage.when_not_declared is NoOutagePolicy.HOLD,
        )
        if self.store.document_finished(claimed.document_id) is DocumentState.HELD:
            # A person must decide: declare the outage (the document is then sent) or not.
            log.error("alarm.no_outage_declared", document_id=claimed.document_id, jobs=len(job_ids))
        log.info(
            "document.routed",
            document_id=claimed.document_id,
            message_type=chosen.message_type.code,
            pages=facts.pages,
            jobs=len(job_ids),
            directory_version=directory.version,
        )
        self.on_jobs()
        return IntakeResult(claimed.document_id, tuple(job_ids))

    def _duplicate_reason(self, claimed: queue.Claimed, routed: RoutedDocument) -> str | None:
        """Why this document is held back as a copy of an earlier one, or None to send it.

        A care system that retries a drop must not fax the patient's data twice: the same
        bytes while the first is queued, or within the window after it was sent, are held.
        """
        if claimed.send_again or self.config.duplicates == "send":
            return None
        since = iso(now_utc() - timedelta(hours=self.config.duplicate_window_hours))
        # The same document: the same bytes with the same routing fields (type, sender,
        # reference); the same PDF under another sidecar is another document.
        first = self.store.first_copy(
            claimed.sha256,
            since,
            message_type=routed.route.message_type.code,
            sender=routed.route.sender.id,
            reference=routed.meta.reference,
        )
        if first is None:
            return None
        when = (
            "is still queued"
            if first["state"] == DocumentState.ROUTED
            else f"was sent ({first['last_change'][:19]} UTC)"
        )
        log.warning("document.duplicate", document_id=claimed.document_id, first=first["id"])
        return (
            f"duplicate of document {first['id']} (same SHA-256), which {when}; not faxed again."
            " To send it anyway: faxctl send --again FILE"
        )

    def _quarantine(self, claimed: queue.Claimed, reason: str) -> IntakeResult:
        # One line, bounded, identity numbers masked: it goes to the journal, the .reason
        # file, the database and the confirmation log alike.
        reason = queue.clean_reason(reason)
        # Recorded first, with the path it will have: a crash before the move leaves a
        # recorded quarantined document in work/, which recovery files (never one on
        # disk that the database and faxctl do not know).
        target = queue.quarantine_target(self.folders, claimed.document_id, claimed.original_name)
        self.store.add_quarantined_document(
            document_id=claimed.document_id,
            sha256=claimed.sha256,
            original_name=claimed.original_name,
            path=target,
            reason=reason,
        )
        file_finished(self.store, self.folders, claimed.document_id)
        # Logged once the file and its .reason are in quarantine/, so whoever reads the
        # journal finds them there. The reason names fields and limits, never form content.
        log.warning("document.quarantined", document_id=claimed.document_id, reason=reason)
        return IntakeResult(claimed.document_id, quarantine_reason=reason)

    def recover(self) -> Recovery:
        """Look at each document in work/ on its own (at start-up, and when storage is back).

        Unrecorded documents (a crash before their commit) are processed again, after the
        poison guard counted them; recorded finished ones are filed. Raises
        StorageUnavailable, leaving the rest in work/, when the disk cannot take writes.
        """
        known = self.store.document_states()
        report = Recovery()
        for path in queue.in_work(self.folders):
            document_id = path.name.removesuffix(".pdf")
            try:
                if document_id not in known:
                    self._recover_one(path, report)
                elif known[document_id] != DocumentState.ROUTED:
                    if file_finished(self.store, self.folders, document_id) is not None:
                        report.filed += 1
            except StorageUnavailable:
                raise
            except Exception as exc:  # supervisor boundary: one file never stops the rest
                trouble = queue.storage_trouble(exc)
                if trouble:
                    raise StorageUnavailable(trouble) from exc
                log.exception("spool.recovery_failed", document_id=document_id)
        return report

    def _recover_one(self, path: Path, report: Recovery) -> None:
        count = queue.note_recovery(path)
        claimed = queue.describe(path, max_bytes=self.config.limits.max_document_bytes)
        if count > queue.POISON_LIMIT:
            reason = (
                f"it was recovered {count - 1} times without finishing (processing it stopped the daemon"
                " each time); set aside so the others can go on"
            )
            log.error("alarm.poison_document", document_id=claimed.document_id, recoveries=count - 1)
            self._quarantine(claimed, reason)
            report.set_aside += 1
            return
        log.warning("spool.document_recovered", document_id=claimed.document_id, recoveries=count)
        result = self._guarded(claimed)
        queue.forget_recovery(path)
        if result.quarantine_reason is None:
            report.processed += 1
        else:
            report.set_aside += 1
