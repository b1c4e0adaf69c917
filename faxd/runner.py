"""One thread per modem: take the most urgent due job, send it, record what happened.

The runner is the supervisor boundary for a call: whatever goes wrong inside one job
is logged with its traceback and turned into a recorded outcome, so one bad document
or one bad call never stops the modem's loop. A modem that cannot be opened is marked
down and tried again after a pause, without touching any job.

This module is the loop: take a job, wait for work, probe when idle, release a job after a
failure. The modem's life (open, probe, down and up, close; ``ModemState``) is
``faxd/runner_modem.py``; running one job (prepare, call, record the outcome, file the
document) is ``faxd/runner_job.py``; what to send after a broken call ``faxd/runner_resume.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from drivers.modem import FaxModem, Outcome
from faxd.config import Config, ModemConfig
from faxd.followup import FollowUp
from faxd.runner_job import JobRun
from faxd.runner_modem import REOPEN_DELAY_SECONDS, SERIAL_ERRORS, ModemState
from faxd.store import Job, Store, now_utc
from imaging import RenderWorker
from routing.directory import Directory
from spool.folders import SpoolFolders
from spool.queue import storage_trouble

__all__ = ["IDLE_WAIT_SECONDS", "ModemRunner", "ModemState", "WorkSignal"]

log = structlog.get_logger("faxd.runner")

STORAGE_RETRY_SECONDS = 10.0
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


class ModemRunner(JobRun, threading.Thread):
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
