"""From a file in the spool to routed jobs in the queue, or to quarantine with a reason.

The order matters for "nothing is lost": the file is claimed (renamed into work/)
before anything else, and it leaves work/ only after the database says what became of
it. A crash in between leaves a file in work/ that ``recover`` finds and processes
again at the next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from faxd.config import Config
from faxd.store import NewJob, Store
from routing.directory import Directory
from routing.metadata import DocumentMeta
from routing.errors import RoutingError
from routing.rules import Route, route
from spool import claim as spool_claim
from spool.inspection import DocumentFacts, DocumentRejected, inspect
from spool.folders import SpoolFolders

log = structlog.get_logger("faxd.intake")


@dataclass(frozen=True, slots=True)
class RoutedDocument:
    facts: DocumentFacts
    meta: DocumentMeta
    route: Route


def route_document(path: Path, sidecar: Path | None, config: Config, directory: Directory) -> RoutedDocument:
    """Check a document and route it. Raises DocumentRejected or RoutingError with the reason.

    The daemon's intake and ``faxctl route`` (the dry run) both come through here, so the
    dry run says exactly what the daemon would do.
    """
    facts = inspect(path, sidecar, max_bytes=config.limits.max_document_bytes, max_pages=config.limits.max_pages)
    meta = DocumentMeta.from_fields(facts.fields)
    chosen = route(meta, directory, page_one_text=facts.page_one_text, priorities=config.priorities)
    return RoutedDocument(facts, meta, chosen)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    document_id: str
    job_ids: tuple[str, ...] = ()
    quarantine_reason: str | None = None


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

    def take(self, path: Path) -> IntakeResult | None:
        """Claim a file from incoming/ and process it. None if another claim got it first."""
        claimed = spool_claim.claim(self.folders, path)
        if claimed is None:
            return None
        log.info("spool.document_claimed", document_id=claimed.document_id, bytes=claimed.size)
        return self.process(claimed)

    def process(self, claimed: spool_claim.Claimed) -> IntakeResult:
        directory = self.directory()
        try:
            routed = route_document(claimed.path, claimed.sidecar, self.config, directory)
        except (DocumentRejected, RoutingError) as exc:
            return self._quarantine(claimed, str(exc))
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
        )
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

    def _quarantine(self, claimed: spool_claim.Claimed, reason: str) -> IntakeResult:
        target = spool_claim.quarantine(self.folders, claimed, reason)
        self.store.add_quarantined_document(
            document_id=claimed.document_id,
            sha256=claimed.sha256,
            original_name=claimed.original_name,
            path=target,
            reason=reason,
        )
        # The reason goes to the journal: it names fields and limits, never form content.
        log.warning("document.quarantined", document_id=claimed.document_id, reason=reason)
        return IntakeResult(claimed.document_id, quarantine_reason=reason)

    def recover(self) -> int:
        """At start-up: process files left in work/ by a crash before they were recorded."""
        known = self.store.document_states()
        count = 0
        for path in sorted(self.folders.work.glob("*.pdf")):
            document_id = path.name.removesuffix(".pdf")
            if document_id in known:
                continue
            log.warning("spool.document_recovered", document_id=document_id)
            self.process(spool_claim.reclaim(path))
            count += 1
        return count
