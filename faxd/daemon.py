"""The daemon: spool intake on the main thread, one runner thread per modem.

Start-up order is recovery first: attempts cut off by a crash are closed and their
jobs queued again, files left in work/ are processed, and only then are the modems
opened and the spool watched. TERM and INT stop the intake and let calls in progress
end; HUP reloads the fax directory.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

import structlog

from drivers.class1 import Class1Modem
from drivers.class2 import Class2Modem
from drivers.class2_quirks import class2_quirks
from drivers.modem import FaxModem, Station
from drivers.probe import detect_class
from drivers.simulator import KIND_MODEM, SimulatedModem, load_profiles, load_quirks
from drivers.simulator.profiles import SimulatorProfileError
from faxd import access
from faxd.audit.wiring import signing_chain
from faxd.config import Config, ConfigError, ModemConfig, load_config
from faxd.followup import FollowUp
from faxd.intake import Intake, StorageUnavailable
from faxd.liveness import HEARTBEAT_SECONDS, DaemonLock
from faxd.ops import Operations
from faxd.redact import allow_numbers
from faxd.retention import purge_archive
from faxd.runner import ModemRunner, WorkSignal
from faxd.store import Store, iso, now_utc
from faxd.systemd import notify
from routing.directory import Directory, dial_string
from routing.errors import DirectoryInvalid
from spool import queue as spool_queue
from spool.folders import SpoolFolders
from spool.watcher import SpoolWatcher, scan

log = structlog.get_logger("faxd.daemon")

RUNNER_STOP_SECONDS = 120.0
# The longest one intake step (taking a document, housekeeping) may take before the
# watchdog counts the loop as hung and systemd restarts the service.
STEP_ALLOWANCE_SECONDS = 600.0
PRUNE_INTERVAL_SECONDS = 3600.0
# The safety net under inotify: watchers miss events on queue overflow, on some file
# systems and across restarts, so incoming/ is read again this often.
RESCAN_SECONDS = 30.0
# A file the rescan finds is taken only when it has not changed for this long: a writer
# that writes in place (against the spool's rule) is then most likely done.
RESCAN_SETTLE_SECONDS = 2.0
# While the disk is full or read-only, how often to look whether it takes writes again.
STORAGE_RETRY_SECONDS = 10.0


class DirectoryHolder:
    """The fax directory in force; reloaded when its file changes or on HUP.

    A changed file that does not validate is refused whole and the previous version
    stays in force, so a half-edited list can never route anything.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # Called (version, previous version, units) after a changed directory came into
        # force, outside the lock: the daemon records it in the confirmation log.
        self.on_reloaded: Callable[[str, str, int], None] | None = None
        self._lock = threading.Lock()
        self._directory = Directory.load(path)
        self._stamp = self._file_stamp()
        self._allow_numbers()

    def _allow_numbers(self) -> None:
        # The units' own fax numbers may appear in the log (number=...); redaction would
        # otherwise mask a ten-digit number as if it were a personal identity number.
        allow_numbers(u.fax for u in self._directory.units.values())

    def _file_stamp(self) -> tuple[int, int]:
        st = self.path.stat()
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Directory:
        try:
            changed = self._file_stamp() != self._stamp
        except OSError:
            changed = False
        if changed:
            self.reload()
        with self._lock:
            return self._directory

    def reload(self) -> None:
        changed: tuple[str, str, int] | None = None
        with self._lock:
            try:
                stamp = self._file_stamp()
                fresh = Directory.load(self.path)
            except (OSError, DirectoryInvalid) as exc:
                log.error("directory.invalid", reason=str(exc), kept_version=self._directory.version)
                return
            self._stamp = stamp
            if fresh.version != self._directory.version:
                changed = (fresh.version, self._directory.version, len(fresh.units))
                log.info("directory.reloaded", version=fresh.version, previous=changed[1], units=changed[2])
            self._directory = fresh
            self._allow_numbers()
        if changed is not None and self.on_reloaded is not None:
            self.on_reloaded(*changed)


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.folders = SpoolFolders(config.spool)
        self.folders.create()
        # State, database, archive, follow-up folder, signing key: made or repaired to
        # their modes before anything is written into them. Raises AccessError.
        access.secure(config)
        # The lock before anything touches the queue: one daemon per state.
        self.lock = DaemonLock(config.state)
        self.lock.acquire()
        # The signing key first: without it nothing may be recorded, so nothing may start.
        self.store = Store(config.database, signing_chain(config))
        self.directory = DirectoryHolder(config.directory)
        self._record_directory(self.directory.current().version, None, len(self.directory.current().units))
        self.directory.on_reloaded = self._record_directory
        self.work = WorkSignal()
        self.stopping = threading.Event()
        # SimpleQueue: its put is reentrant, so the signal handler may put into it while the
        # main thread it interrupted is inside get or put. With queue.Queue that deadlocked
        # (the handler waited for a lock its own thread held): TERM under a 10,000-file drop
        # never stopped the daemon.
        self.arrivals: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self.intake = Intake(config, self.store, self.folders, self.directory.current, self.work.notify)
        self.simulators: list[SimulatedModem] = []
        self.runners: list[ModemRunner] = []
        self._reload_requested = threading.Event()
        self.storage_trouble: str | None = None  # set while the disk is full or read-only
        self.ops = Operations(config, self.store, self.directory.current, lambda: self.storage_trouble)
        self.followup = FollowUp(config, self.store, self.directory.current, self.work.notify)

    def _record_directory(self, version: str, previous: str | None, units: int) -> None:
        """A directory version coming into force is a log entry (``directory.reloaded``):
        on a change while running, and at start when the file changed while faxd was
        down. Jobs carry the version they were routed with; this says when it began."""
        try:
            with self.store.transaction() as conn:
                if previous is None:
                    row = conn.execute(
                        "SELECT data FROM audit WHERE event = 'directory.reloaded' ORDER BY seq DESC LIMIT 1"
                    ).fetchone()
                    last = json.loads(row[0]).get("version") if row else None
                    if last == version:
                        return  # the same version as when faxd last recorded one
                    previous = last
                self._audit_directory(conn, version, previous, units)
        except Exception:  # supervisor boundary: a reload is never undone for want of an entry
            log.exception("directory.reload_unrecorded", version=version)

    def _audit_directory(self, conn: sqlite3.Connection, version: str, previous: str | None, units: int) -> None:
        self.store.chain.append(
            conn,
            iso(now_utc()),
            "directory.reloaded",
            data={"version": version, "previous": previous, "units": units, "file": str(self.directory.path)},
        )

    # -- modems --------------------------------------------------------------------

    def _device_for(self, modem: ModemConfig) -> str:
        if not modem.simulated:
            return modem.device
        directory = self.directory.current()
        # The simulated remote answers each number with the station id the directory
        # expects for it, so the station check passes as it would with the real units.
        expected = {
            dial_string(u, self.config.dial_rule): u.station_id for u in directory.units.values() if u.station_id
        }
        try:
            profiles = load_profiles(modem.simulator_profiles) if modem.simulator_profiles else None
            quirks = load_quirks(modem.simulator_profiles) if modem.simulator_profiles else KIND_MODEM
        except (OSError, SimulatorProfileError) as exc:
            raise ConfigError(f"{self.config.source}: [modem.simulator_profiles] {exc}") from None
        simulator = SimulatedModem(
            csi=modem.simulator_csi or "+46 40 628 04 99",
            csi_for_number=expected.get,
            profiles=profiles,
            out_dir=self.config.state / "simulator" / modem.name,
            speed=modem.simulator_speed,
            keep_pages=False,  # the daemon runs for months: received pages live on disk only
            fax_class=modem.simulator_class,
            quirks=quirks,
        )
        path = simulator.start()
        self.simulators.append(simulator)
        log.info("simulator.started", modem=modem.name, pty=path)
        return path

    def _opener(self, modem: ModemConfig, device: str) -> FaxModem:
        station = Station(tsi=self.config.station.tsi, header_name=self.config.station.header_name)
        trace = self.config.state / "trace" / modem.name if modem.trace else None
        fax_class = modem.fax_class
        if fax_class == "auto":
            sections = modem.profile.sections if modem.profile is not None else {}
            source = modem.profile.source if modem.profile is not None else "profile"
            prefer = class2_quirks(sections.get("class2"), source=source).prefer_class
            fax_class = detect_class(device, modem.speed, prefer)
            log.info("modem.class_detected", modem=modem.name, fax_class=fax_class, prefer=prefer)
        if fax_class != "1":
            return Class2Modem(
                device,
                fax_class=fax_class,
                speed=modem.speed,
                station=station,
                name=modem.name,
                trace_dir=trace,
                profile=modem.profile,
                flow_control=modem.flow_control,
            )
        return Class1Modem(
            device,
            speed=modem.speed,
            station=station,
            name=modem.name,
            trace_dir=trace,
            profile=modem.profile,
            flow_control=modem.flow_control,
        )

    # -- lifecycle -----------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload_requested.set()
        else:
            self.stopping.set()
        self.arrivals.put(Path())  # wake the main loop

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        swept = spool_queue.sweep_temporaries(
            (
                self.folders.work,
                self.folders.quarantine,
                self.folders.done,
                self.folders.failed,
                self.config.state / "archive",
            )
        )
        if swept:
            log.info("spool.temporaries_removed", files=len(swept))
        self._recover(at_start=True)
        self.ops.start()
        for modem in self.config.modems:
            device = self._device_for(modem)
            runner = ModemRunner(
                modem_config=modem,
                open_modem=lambda m=modem, d=device: self._opener(m, d),  # type: ignore[misc]
                config=self.config,
                store=self.store,
                folders=self.folders,
                directory=self.directory.current,
                work=self.work,
                stopping=self.stopping,
                followup=self.followup,
            )
            runner.beat = self.ops.heartbeats.beat
            runner.storage_failed = self._storage_failed
            runner.start()
            self.runners.append(runner)
        watcher = SpoolWatcher(self.folders.incoming, self.arrivals.put)
        watcher.start()
        self.ops.intake_ready()  # systemd hears READY=1 once a modem is up as well
        log.info(
            "daemon.ready",
            pid=os.getpid(),
            spool=str(self.folders.incoming),
            modems=len(self.runners),
            directory_version=self.directory.current().version,
        )
        try:
            self._intake_loop()
        finally:
            notify("STOPPING=1")
            log.info("daemon.stopping")
            self.ops.stop()
            watcher.stop()
            self.stopping.set()
            self.work.notify()
            for runner in self.runners:
                runner.join(RUNNER_STOP_SECONDS)
            for simulator in self.simulators:
                simulator.stop()
            self.intake.close()
            log.info("daemon.stopped")
            self.lock.release()
        return 0

    def _recover(self, *, at_start: bool = False) -> bool:
        """Re-queue interrupted jobs and look at every document in work/. Returns whether the
        storage took it; if not, the alarm is raised and the documents wait."""
        try:
            interrupted = self.store.recover_interrupted(now_utc()) if at_start else 0
            found = self.intake.recover()
        except Exception as exc:  # supervisor boundary: the daemon must start, even on a full disk
            trouble = exc.reason if isinstance(exc, StorageUnavailable) else spool_queue.storage_trouble(exc)
            if trouble is None:
                raise
            self._storage_failed(trouble)
            return False
        self._follow_up()
        if interrupted or found.processed or found.filed or found.set_aside:
            log.info(
                "daemon.recovered",
                interrupted_jobs=interrupted,
                unrecorded_documents=found.processed,
                filed=found.filed,
                set_aside=found.set_aside,
            )
        return True

    def _follow_up(self) -> None:
        """Jobs that failed for good without their follow-up (a crash in between): now."""
        try:
            self.followup.settle()
        except Exception:  # supervisor boundary: the next pass (after a job, hourly) tries again
            log.exception("followup.failed")

    def _storage_failed(self, trouble: str) -> None:
        if self.storage_trouble is None:
            # One alarm per episode, not one per file: the operator needs to act once.
            log.error("alarm.storage", reason=trouble)
        self.storage_trouble = trouble
        self.lock.heartbeat(storage=trouble)

    def _storage_back(self) -> bool:
        """Whether spool, state and database take writes again (a small write to each)."""
        try:
            for folder in (self.folders.work, self.config.state):
                probe = folder / ".faxd-probe"
                spool_queue.write_atomically(probe, b"probe\n")
                probe.unlink()
            self.store.probe_write()
        except Exception as exc:  # supervisor boundary: still failing, or failing otherwise
            trouble = spool_queue.storage_trouble(exc)
            if trouble is None:
                log.exception("storage.probe_failed")
                trouble = f"{type(exc).__name__}: {exc}"
            self.storage_trouble = trouble
            return False
        return True

    def _intake_loop(self) -> None:
        now = time.monotonic()
        next_prune = now
        next_rescan = now + RESCAN_SECONDS
        next_storage_check = now
        while not self.stopping.is_set():
            self.lock.heartbeat(storage=self.storage_trouble)
            # One pass (a storage check, housekeeping, a rescan, one document) must end in
            # time, or the watchdog stops and systemd restarts the service.
            self.ops.heartbeats.beat("intake", HEARTBEAT_SECONDS + STEP_ALLOWANCE_SECONDS)
            now = time.monotonic()
            if self.storage_trouble is not None and now >= next_storage_check:
                next_storage_check = now + STORAGE_RETRY_SECONDS
                if self._storage_back():
                    log.warning("alarm.storage_cleared", was=self.storage_trouble)
                    self.storage_trouble = None
                    self.lock.heartbeat()
                    if self._recover():
                        next_rescan = now  # take what waited in incoming/ at once
                        self.work.notify()
            if self.storage_trouble is None and now >= next_prune:
                self._housekeeping()
                next_prune = now + PRUNE_INTERVAL_SECONDS
            if self.storage_trouble is None and now >= next_rescan:
                next_rescan = now + RESCAN_SECONDS
                self._rescan()
            try:
                path = self.arrivals.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                continue
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self._reload()
            if path == Path() or self.stopping.is_set() or self.storage_trouble is not None:
                continue  # while storage is failing, files wait in incoming/ for the rescan
            try:
                self.intake.take(path)
            except StorageUnavailable as exc:
                self._storage_failed(exc.reason)
                next_storage_check = time.monotonic() + STORAGE_RETRY_SECONDS
            except Exception:  # supervisor boundary: the daemon stays up; the file stays in work/
                log.exception("intake.crashed")

    def _reload(self) -> None:
        """SIGHUP: the fax directory, and the configuration's settings that can change
        while running (retries, priorities, station, limits, logging...). Paths, modems,
        SNMP and metrics take effect at the next start; a file that does not load is
        refused and the running configuration stays."""
        notify("RELOADING=1")
        self.directory.reload()
        try:
            fresh = load_config(self.config.source)
        except ConfigError as exc:
            log.error("config.invalid", reason=str(exc))
        else:
            kept = replace(
                fresh,
                spool=self.config.spool,
                state=self.config.state,
                directory=self.config.directory,
                modems=self.config.modems,
                ops=self.config.ops,
            )
            if kept != fresh:
                log.warning("config.restart_needed", reason="paths, modems, SNMP or metrics changed: restart faxd")
            self.config = kept
            self.intake.config = kept
            for runner in self.runners:
                runner.config = kept
            self.followup.config = kept
            log.info("config.reloaded")
        notify("READY=1")

    def _rescan(self) -> None:
        """Offer what is in incoming/ and has settled (the safety net under inotify)."""
        try:
            found = scan(self.folders.incoming, settled_for=RESCAN_SETTLE_SECONDS)
        except OSError:
            log.exception("spool.rescan_failed")
            return
        if found:
            log.info("spool.rescan_found", files=len(found))
        for path in found:
            self.arrivals.put(path)

    def _housekeeping(self) -> None:
        """Hourly: retention, and a second chance for documents left in work/."""
        try:
            self._recover()
            self._prune_archive()
        except Exception:  # supervisor boundary: try again at the next tick
            log.exception("housekeeping.failed")

    def _prune_archive(self) -> None:
        days = self.config.archive_retention_days
        folder = self.config.state / "archive"
        if days <= 0 or not folder.is_dir():
            return
        removed = purge_archive(self.store, folder, keep_days=days, now=now_utc())
        if removed:
            log.info("archive.pruned", files=removed, retention_days=days)
