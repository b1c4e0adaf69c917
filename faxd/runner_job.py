"""Running one job on a runner's modem: prepare the pages, call, record the outcome (a
retry, a resend in full, the modem's failure, a crash), file the document.

``JobRun`` is a part of ``faxd.runner.ModemRunner``, which takes the job from the queue
(``run_once``) and sets the attributes declared here. What to send after a broken call is
``faxd/runner_resume.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from drivers.modem import CallRequest, CallResult, Outcome
from faxd.config import Config
from faxd.intake import file_finished
from faxd.line_memory import LineMemory
from faxd.prepare import prepare
from faxd.retry import decide
from faxd.runner_modem import MODEM_FAILURES, ModemLife, ModemState
from faxd.runner_resume import ResendReason, plan_call
from faxd.store import AttemptEnd, Job, JobState, now_utc
from imaging import DocumentRenderError
from routing.directory import Directory, dial_string
from spool.folders import SpoolFolders

if TYPE_CHECKING:
    from faxd.runner import WorkSignal

log = structlog.get_logger("faxd.runner")


class JobRun(ModemLife):
    """The job's side of a ``ModemRunner``: one call and what it leaves behind."""

    config: Config
    directory: Callable[[], Directory]
    folders: SpoolFolders
    work: WorkSignal

    def _run_job(self, job: Job) -> None:
        if job.pages_done >= job.document_pages > 0:
            self._confirmed_earlier(job)
            return
        directory = self.directory()
        unit = directory.get(job.recipient)
        if unit is None:
            reason = (
                f"recipient {job.recipient} is no longer in the fax directory (version {directory.version});"
                " nothing was sent: follow up by hand"
            )
            self.store.fail_job(job, "recipient_removed", reason)
            log.warning("job.failed", outcome="recipient_removed", directory_version=directory.version)
            self._file_document(job)
            return
        if unit.fax != job.number:
            # Always dial the directory's current number, and leave a trace of the change.
            self.store.update_job_number(job.id, unit.fax, directory.version, "the directory changed the number")
            log.info("job.number_changed", directory_version=directory.version)
        number = dial_string(unit, self.config.dial_rule)
        plan = plan_call(self.store, job, unit, number, self.config.station.check)
        sent_at = now_utc().astimezone()
        archive = archive_path(self.config.state, job.id, sent_at)
        archive.parent.mkdir(parents=True, exist_ok=True)
        try:
            transmission = prepare(
                archive=archive,
                config=self.config,
                directory=directory,
                document=job.document_path,
                document_pages=job.document_pages,
                job_id=job.id,
                message_type=job.message_type,
                sender_id=job.sender,
                recipient_id=job.recipient,
                sent_at=sent_at,
                renderer=self._renderer.render,
                first_page=plan.first_page,
                sent_again_notice=plan.notice,
            )
        except DocumentRenderError as exc:
            self.store.fail_job(job, "document_error", f"the document could not be rendered: {exc}")
            log.warning("job.failed", outcome="document_error")
            self._file_document(job)
            return
        attempt_id = self.store.start_attempt(
            job,
            self.modem_name,
            number,
            len(transmission.pages),
            now_utc(),
            first_page=plan.first_page,
            archive=transmission.archive.name,
            sent_again_in_full=plan.resend_reason,
        )
        log.info("job.dialing", pages=len(transmission.pages), attempt=attempt_id, resumed_after=plan.first_page)
        assert self._modem is not None
        try:
            result = self._modem.send(
                CallRequest(
                    number=number,
                    pages=transmission.pages,
                    expected_remote_id=plan.expected_remote_id,
                    policy=replace(
                        self.modem_config.policy,
                        station_check=plan.station_check,
                        start_bps=self._start_rate(number),
                    ),
                ),
                on_page_confirmed=lambda page: self.store.page_confirmed(
                    attempt_id, job.id, page.index, bit_rate=page.bit_rate, coding=page.coding, ecm=page.ecm
                ),
            )
        except MODEM_FAILURES as exc:
            self._modem_down(str(exc))
            self._requeue_modem_failure(job, attempt_id, str(exc), result=None)
            return
        if result.outcome is Outcome.MODEM_ERROR:
            if not self.probe():
                # The port failed mid-call (unplugged, the pty gone): the modem's fault, not
                # the job's. It goes back to the queue with its try kept; another modem may take it.
                self._requeue_modem_failure(job, attempt_id, result.reason, result=result)
                return
            self._set_state(ModemState.DEGRADED, result.reason)
        elif self._state is ModemState.DEGRADED:
            self._set_state(ModemState.READY, self._ready_detail)
        self._remember_line(number, result)
        if plan.guard_station is not None and result.outcome is Outcome.STATION_MISMATCH:
            self._restart_in_full(job, attempt_id, result, plan.guard_station, number)
            return
        self._finish(job, attempt_id, result)

    def _restart_in_full(
        self, job: Job, attempt_id: int, result: CallResult, earlier_station: str, number: str
    ) -> None:
        """A continuation met another station than the one that confirmed the earlier pages
        (the call ended before page one): queue the whole document at once, the try given
        back; see faxd/runner_resume.py for why the call ends rather than switching."""
        reason = ResendReason.STATION_CHANGED
        self.store.finish_attempt(
            attempt_id,
            job,
            AttemptEnd(
                result.outcome.value,
                f"{result.reason}; the earlier pages went to {earlier_station}: the whole document is sent again",
                result.remote_id,
                result.pages_sent,
                result.pages_confirmed,
                result.bit_rate,
            ),
            job_state=JobState.QUEUED,
            next_attempt=now_utc(),
            count_attempt=False,
        )
        earlier = self.store.earlier_delivery(job.id)
        self.store.restart_in_full(
            job, reason.value, earlier=earlier, now={"number": number, "remote_id": result.remote_id or ""}
        )
        log.warning("job.resend_in_full", reason=reason.value, pages_confirmed_earlier=job.pages_done)
        self.work.notify()

    def _confirmed_earlier(self, job: Job) -> None:
        """The remote confirmed every page in an attempt the daemon was killed in before it
        recorded the outcome: the job is done. Sending it again would fax it twice."""
        attempt_id = self.store.start_attempt(job, self.modem_name, job.number, 0, now_utc())
        reason = "every page was confirmed by the remote in an interrupted attempt; nothing sent again"
        self.store.finish_attempt(
            attempt_id,
            job,
            AttemptEnd(Outcome.CONFIRMED.value, reason, None, 0, 0, None),
            job_state=JobState.CONFIRMED,
            next_attempt=None,
            count_attempt=False,
        )
        log.info("job.sent", outcome=Outcome.CONFIRMED.value, pages_confirmed=job.pages_done, note=reason)
        self._file_document(job)

    def _requeue_modem_failure(self, job: Job, attempt_id: int, reason: str, result: CallResult | None) -> None:
        self.store.finish_attempt(
            attempt_id,
            job,
            AttemptEnd(
                Outcome.MODEM_ERROR.value,
                f"the modem failed: {reason}; queued again",
                result.remote_id if result else None,
                result.pages_sent if result else 0,
                result.pages_confirmed if result else 0,
                result.bit_rate if result else None,
            ),
            job_state=JobState.QUEUED,
            next_attempt=now_utc(),
            count_attempt=False,
        )
        log.warning("job.requeued", reason="modem failure; the try is kept")
        self.work.notify()  # another modem may take it now

    def _start_rate(self, number: str) -> int | None:
        """The first rate for ``number`` from the per-destination memory (None: fastest).
        The memory only speeds calls up: if it cannot be read, the call starts at the top."""
        try:
            return LineMemory(self.config.state).start_rate(number, now_utc())
        except (sqlite3.Error, OSError) as exc:
            log.warning("lines.memory_unavailable", error=str(exc))
            return None

    def _remember_line(self, number: str, result: CallResult) -> None:
        try:
            LineMemory(self.config.state).remember(number, result, now_utc())
        except (sqlite3.Error, OSError) as exc:
            log.warning("lines.memory_unavailable", error=str(exc))

    def _finish(self, job: Job, attempt_id: int, result: CallResult) -> None:
        now = now_utc()
        decision = decide(result.outcome, job.attempts + 1, self.config.retry, now, job.created)
        reason = "; ".join(part for part in (result.reason, *result.warnings, decision.note) if part)
        station_warned = any(w.startswith("station check") for w in result.warnings)
        if result.outcome is Outcome.STATION_MISMATCH or station_warned:
            # A wrong answering machine is how faxes reach the wrong people: a person must look.
            sent = result.outcome is not Outcome.STATION_MISMATCH
            unit = self.directory().get(job.recipient)
            log.error(
                "alarm.station_mismatch",
                recipient=job.recipient,
                number=job.number,
                remote_id=result.remote_id,
                sent=sent,
                reason=unit.station_alarm(answered_with_id=bool(result.remote_id), sent=sent)
                if unit is not None
                else f"the station that answered for {job.recipient} is not the one on record; check the number",
            )
        self.store.finish_attempt(
            attempt_id,
            job,
            AttemptEnd(
                outcome=result.outcome.value,
                reason=reason,
                remote_id=result.remote_id,
                pages_sent=result.pages_sent,
                pages_confirmed=result.pages_confirmed,
                bit_rate=result.bit_rate,
                coding=result.coding,
                ecm=result.ecm,
            ),
            job_state=decision.state,
            next_attempt=decision.next_attempt,
        )
        event = {"confirmed": "job.sent", "queued": "job.retry_scheduled", "failed": "job.failed"}[decision.state]
        log.info(
            event,
            outcome=result.outcome.value,
            pages_confirmed=result.pages_confirmed,
            pages_sent=result.pages_sent,
            bit_rate=result.bit_rate,
            next_attempt=decision.next_attempt.isoformat() if decision.next_attempt else None,
        )
        self._file_document(job)

    def _record_without_call(self, job: Job, outcome: Outcome, reason: str) -> None:
        now = now_utc()
        decision = decide(outcome, job.attempts + 1, self.config.retry, now, job.created)
        attempt_id = self.store.start_attempt(job, self.modem_name, job.number, 0, now)
        self.store.finish_attempt(
            attempt_id,
            job,
            AttemptEnd(outcome.value, reason, None, 0, 0, None),
            job_state=decision.state,
            next_attempt=decision.next_attempt,
        )
        self._file_document(job)

    def _file_document(self, job: Job) -> None:
        file_finished(self.store, self.folders, job.document_id)


def archive_path(state: Path, job_id: str, sent_at: datetime) -> Path:
    """Where the pages of one attempt are kept: an auditor sees what went on the line."""
    return state / "archive" / f"{job_id}-{sent_at.astimezone(UTC):%Y%m%dT%H%M%S%f}.tif"
