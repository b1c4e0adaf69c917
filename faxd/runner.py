"""One thread per modem: take the most urgent due job, send it, record what happened.

The runner is the supervisor boundary for a call: whatever goes wrong inside one job
is logged with its traceback and turned into a recorded outcome, so one bad document
or one bad call never stops the modem's loop. A modem that cannot be opened is marked
down and tried again after a pause, without touching any job.
"""

from __future__ import annotations

import enum
import sqlite3
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import structlog
from serial import SerialException

from drivers.modem import CallRequest, CallResult, FaxModem, ModemUnavailable, Outcome
from drivers.port import DriverError
from faxd.config import Config, ModemConfig
from faxd.followup import FollowUp
from faxd.intake import file_finished
from faxd.line_memory import LineMemory
from faxd.prepare import prepare
from faxd.retry import decide
from faxd.runner_resume import ResendReason, plan_call
from faxd.store import AttemptEnd, Job, JobState, Store, now_utc
from imaging import DocumentRenderError, RenderWorker
from routing.directory import Directory, dial_string
from spool.folders import SpoolFolders
from spool.queue import storage_trouble

log = structlog.get_logger("faxd.runner")

# A modem that is down is tried again this often (unplugged, powered off, the pty gone).
REOPEN_DELAY_SECONDS = 10.0
STORAGE_RETRY_SECONDS = 10.0
# Serial errors a driver may let through; each means the modem, not the job, failed.
# termios.error is not an OSError: tcflush on a pty whose other side is gone raises it.
SERIAL_ERRORS = (SerialException, DriverError, termios.error)
MODEM_FAILURES = (ModemUnavailable, SerialException, DriverError, termios.error)


class ModemState(enum.StrEnum):
    """What ``faxctl status`` and SNMP show for a modem (with the reason beside it)."""

    UNKNOWN = "unknown"
    READY = "ready"
    DEGRADED = "degraded"  # it answers, but its last call failed in the modem
    DOWN = "down"  # it does not answer; reopened every REOPEN_DELAY_SECONDS
    STOPPED = "stopped"


IDLE_WAIT_SECONDS = 30.0
RETRY_AFTER_FAILURE_SECONDS = 30.0
CALL_ALLOWANCE_SECONDS = 600.0  # a call's set-up, cover sheet and hang-up, generously
PAGE_ALLOWANCE_SECONDS = 180.0  # one A4 page at 2400 bit/s with resends


class WorkSignal:
    """Wakes idle runners when intake adds jobs, instead of having them poll."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)
            return self._generation

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation


class ModemRunner(threading.Thread):
    def __init__(
        self,
        *,
        modem_config: ModemConfig,
        open_modem: Callable[[], FaxModem],
        config: Config,
        store: Store,
        folders: SpoolFolders,
        directory: Callable[[], Directory],
        work: WorkSignal,
        stopping: threading.Event,
        followup: FollowUp | None = None,
    ) -> None:
        super().__init__(name=f"modem-{modem_config.name}", daemon=True)
        self.modem_config = modem_config
        self.open_modem = open_modem
        self.config = config
        self.store = store
        self.folders = folders
        self.directory = directory
        self.work = work
        self.stopping = stopping
        self.followup = followup  # writes the package and queues the notice when a job fails for good
        self._modem: FaxModem | None = None
        # Set by the daemon: tells the watchdog this loop is alive and for how long
        # (faxd/systemd.py Heartbeats); a loop that stops beating gets the service restarted.
        self.beat: Callable[[str, float], None] = lambda _loop, _allowance: None
        # Set by the daemon: a full or read-only disk seen here raises the daemon's storage
        # alarm (once per episode, shown by faxctl status; intake stops until it clears).
        self.storage_failed: Callable[[str], None] = lambda reason: log.error(
            "alarm.storage", modem=self.modem_name, reason=reason
        )
        self._current_job: Job | None = None
        self._state = ModemState.UNKNOWN
        self._down_reason: str | None = None
        self._ready_detail: str | None = None  # the open driver's description, for the status
        self._last_used = time.monotonic()
        # One render child per modem, kept between jobs: starting one per document costs
        # more than rendering it (bench/bench_imaging.py).
        self._renderer = RenderWorker()

    @property
    def modem_name(self) -> str:
        return self.modem_config.name

    def run(self) -> None:
        while not self.stopping.is_set():
            # The longest this loop waits between steps (idle, reopen, after a failure) plus slack.
            self.beat(self.name, max(IDLE_WAIT_SECONDS, REOPEN_DELAY_SECONDS, RETRY_AFTER_FAILURE_SECONDS) + 60.0)
            try:
                if self._modem is None and not self.open():
                    self.stopping.wait(REOPEN_DELAY_SECONDS)
                    continue
                seen = self.work.generation
                if not self.run_once():
                    if self._probe_due():
                        self.probe()
                        continue
                    self.work.wait(seen, self._idle_timeout())
            except Exception as exc:  # supervisor boundary: e.g. the database on a full disk
                # The thread must not die silently with its modem. A job it had taken
                # goes back to the queue as soon as the database takes writes again (at
                # the latest at the next start, which re-queues every active job).
                trouble = None if isinstance(exc, SERIAL_ERRORS) else storage_trouble(exc)
                if trouble:
                    self.storage_failed(trouble)
                else:
                    log.exception("runner.failed", modem=self.modem_name)
                self.stopping.wait(STORAGE_RETRY_SECONDS if trouble else RETRY_AFTER_FAILURE_SECONDS)
                self.release_current_job()
        self.close()

    def run_once(self) -> bool:
        """Send the most urgent due job, if there is one and the modem is open. Returns
        whether a job was taken. The thread's loop calls this; tests call it directly."""
        if self._modem is None:
            return False
        job = self.store.claim_next_job(self.modem_name, now_utc())
        if job is None:
            return False
        self._current_job = job
        # A call may take minutes: allow for rendering and every page at the slowest rate.
        self.beat(self.name, CALL_ALLOWANCE_SECONDS + PAGE_ALLOWANCE_SECONDS * max(1, job.document_pages))
        with structlog.contextvars.bound_contextvars(job_id=job.id, modem=self.modem_name):
            try:
                self._run_job(job)
            except Exception as exc:  # supervisor boundary: never let one job stop the modem
                if isinstance(exc, SERIAL_ERRORS):
                    # The port failed in a way the driver did not wrap: the modem's fault.
                    self._modem_down(f"{type(exc).__name__}: {exc}")
                    self.release_current_job()
                    return True
                if storage_trouble(exc):
                    raise  # not the job's fault nor the modem's: run() releases it and waits
                log.exception("job.crashed")
                self._record_without_call(job, Outcome.MODEM_ERROR, "internal error while sending; see journal")
            self._current_job = None
            self._follow_up()
        self._current_job = None
        self._last_used = time.monotonic()
        return True

    def _follow_up(self) -> None:
        """If the job just ended failed for good, its package and notice (faxd.followup)."""
        if self.followup is None:
            return
        try:
            self.followup.settle(self._renderer.render)
        except Exception as exc:  # supervisor boundary: the daemon's hourly pass tries again
            if storage_trouble(exc):
                log.error("alarm.storage", modem=self.modem_name, reason=storage_trouble(exc))
            else:
                log.exception("followup.failed")

    def release_current_job(self) -> None:
        """Gives the job this runner has taken back to the queue, if any. ``run`` does
        this after a failure (the database on a full disk); if the store still fails the
        job stays taken and the next start re-queues it."""
        job, self._current_job = self._current_job, None
        if job is None:
            return
        try:
            self.store.release_job(job)
        except Exception:  # still failing: the next start re-queues it
            log.exception("job.release_failed", job_id=job.id)
            self._current_job = job

    def _idle_timeout(self) -> float:
        """How long the idle loop may wait: until the next job is due or the next AT probe
        (``probe_seconds`` after the modem was last used), at most IDLE_WAIT_SECONDS."""
        wait = IDLE_WAIT_SECONDS
        due = self.store.next_due_time()
        if due is not None:
            wait = min(wait, (due - now_utc()).total_seconds())
        interval = self.modem_config.probe_seconds
        if interval > 0:
            wait = min(wait, self._last_used + interval - time.monotonic())
        return max(0.05, wait)

    def open(self) -> bool:
        """Open and probe the modem; on failure mark it down. Returns whether it is ready."""
        try:
            self._modem = self.open_modem()
            self._modem.probe()
        except MODEM_FAILURES as exc:
            self._modem_down(str(exc))
            return False
        # The status shows what the driver says it is (e.g. "Class 2.0", also when the
        # class was chosen by class = "auto"); FaxModem does not require the attribute.
        self._ready_detail = getattr(self._modem, "description", None)
        self._set_state(ModemState.READY, self._ready_detail)
        log.info("modem.ready", modem=self.modem_name, detail=self._ready_detail)
        self._last_used = time.monotonic()
        return True

    def probe(self) -> bool:
        """The idle check: does the open modem still answer AT? If not it is marked down
        (the loop reopens it on a schedule). Returns whether it answered."""
        if self._modem is None:
            return False
        try:
            self._modem.probe()
        except MODEM_FAILURES as exc:
            self._modem_down(str(exc))
            return False
        finally:
            self._last_used = time.monotonic()
        if self._state is ModemState.DEGRADED:
            self._set_state(ModemState.READY, self._ready_detail)
        return True

    def _probe_due(self) -> bool:
        interval = self.modem_config.probe_seconds
        return interval > 0 and self._modem is not None and time.monotonic() - self._last_used >= interval

    def _set_state(self, state: ModemState, reason: str | None) -> None:
        previous, self._state = self._state, state
        self.store.set_modem_state(self.modem_name, self.modem_config.device, state.value, reason)
        if state is ModemState.READY and previous is ModemState.DOWN:
            log.warning("modem.up", modem=self.modem_name, reason="the modem answers again", was=self._down_reason)
        elif state is ModemState.DEGRADED and previous is not ModemState.DEGRADED:
            log.warning("modem.degraded", modem=self.modem_name, reason=reason)

    def _modem_down(self, reason: str) -> None:
        """Close the port and mark the modem down; the loop reopens it on a schedule."""
        if self._modem is not None:
            try:
                self._modem.close()
            except (OSError, DriverError, termios.error):
                pass  # the port is already gone: closing it cannot fail any worse
            self._modem = None
        if self._state is not ModemState.DOWN:
            # One event per outage, not one per reopen attempt.
            log.error("modem.down", modem=self.modem_name, reason=reason)
            self._down_reason = reason
        self._set_state(ModemState.DOWN, reason)

    def close(self) -> None:
        """Ends this runner's hold on things: the render child stops, the modem is closed
        and marked stopped. ``run`` does this when it stops; a test that drives
        ``run_once`` itself does it at the end."""
        self._renderer.close()
        if self._modem is not None:
            self._modem.close()
            self._modem = None
        self._state = ModemState.STOPPED
        try:
            self.store.set_modem_state(self.modem_name, self.modem_config.device, ModemState.STOPPED.value)
        except Exception as exc:  # supervisor boundary: stopping on a full or read-only state
            if storage_trouble(exc) is None:
                raise
            # Nothing is lost: faxctl status shows no modem state while no daemon runs.
            log.warning("modem.stop_unrecorded", modem=self.modem_name, reason=storage_trouble(exc))

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
