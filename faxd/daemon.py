"""The daemon: spool intake on the main thread, one runner thread per modem.

Start-up order is recovery first: attempts cut off by a crash are closed and their
jobs queued again, files left in work/ are processed, and only then are the modems
opened and the spool watched. TERM and INT stop the intake and let calls in progress
end; HUP reloads the fax directory.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from pathlib import Path
from types import FrameType

import structlog

from drivers.class1 import Class1Modem
from drivers.modem import FaxModem, Station
from drivers.simulator import SimulatedModem, load_profiles
from drivers.simulator.profiles import ProfileError
from faxd.audit.wiring import signing_chain
from faxd.config import Config, ConfigError, ModemConfig
from imaging import prune_archive
from faxd.intake import Intake
from faxd.redact import allow_numbers
from faxd.runner import ModemRunner, WorkSignal
from faxd.store import DocumentState, Store, now_utc
from faxd.systemd import notify
from routing.directory import Directory, dial_string
from routing.errors import DirectoryInvalid
from spool.claim import file_away
from spool.folders import SpoolFolders
from spool.watcher import SpoolWatcher

log = structlog.get_logger("faxd.daemon")

RUNNER_STOP_SECONDS = 120.0
PRUNE_INTERVAL_SECONDS = 3600.0


class DirectoryHolder:
    """The fax directory in force; reloaded when its file changes or on HUP.

    A changed file that does not validate is refused whole and the previous version
    stays in force, so a half-edited list can never route anything.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
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
        with self._lock:
            try:
                stamp = self._file_stamp()
                fresh = Directory.load(self.path)
            except (OSError, DirectoryInvalid) as exc:
                log.error("directory.invalid", reason=str(exc), kept_version=self._directory.version)
                return
            self._stamp = stamp
            if fresh.version != self._directory.version:
                log.info("directory.reloaded", version=fresh.version, previous=self._directory.version,
                         units=len(fresh.units))
            self._directory = fresh
            self._allow_numbers()


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.folders = SpoolFolders(config.spool)
        self.folders.create()
        config.state.mkdir(parents=True, exist_ok=True)
        # The signing key first: without it nothing may be recorded, so nothing may start.
        self.store = Store(config.database, signing_chain(config))
        self.directory = DirectoryHolder(config.directory)
        self.work = WorkSignal()
        self.stopping = threading.Event()
        self.arrivals: queue.Queue[Path] = queue.Queue()
        self.intake = Intake(config, self.store, self.folders, self.directory.current, self.work.notify)
        self.simulators: list[SimulatedModem] = []
        self.runners: list[ModemRunner] = []
        self._reload_requested = threading.Event()

    # -- modems --------------------------------------------------------------------

    def _device_for(self, modem: ModemConfig) -> str:
        if not modem.simulated:
            return modem.device
        directory = self.directory.current()
        # The simulated remote answers each number with the station id the directory
        # expects for it, so the station check passes as it would with the real units.
        expected = {dial_string(u, self.config.dial_rule): u.station_id
                    for u in directory.units.values() if u.station_id}
        try:
            profiles = load_profiles(modem.simulator_profiles) if modem.simulator_profiles else None
        except (OSError, ProfileError) as exc:
            raise ConfigError(f"{self.config.source}: [modem.simulator_profiles] {exc}") from None
        simulator = SimulatedModem(
            csi=modem.simulator_csi or "+46 40 628 04 99",
            csi_for_number=expected.get,
            profiles=profiles,
            out_dir=self.config.state / "simulator" / modem.name,
            speed=modem.simulator_speed,
        )
        path = simulator.start()
        self.simulators.append(simulator)
        log.info("simulator.started", modem=modem.name, pty=path)
        return path

    def _opener(self, modem: ModemConfig, device: str) -> FaxModem:
        station = Station(tsi=self.config.station.tsi, header_name=self.config.station.header_name)
        trace = self.config.state / "trace" / modem.name if modem.trace else None
        return Class1Modem(device, speed=modem.speed, station=station, name=modem.name, trace_dir=trace,
                           ecm=modem.ecm, min_bit_rate=modem.min_bit_rate, max_page_resends=modem.max_page_resends,
                           profile=modem.profile, flow_control=modem.flow_control)

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
        recovered = self.store.recover_interrupted(now_utc())
        found = self.intake.recover()
        self._file_finished_documents()
        if recovered or found:
            log.info("daemon.recovered", interrupted_jobs=recovered, unrecorded_documents=found)
        for modem in self.config.modems:
            device = self._device_for(modem)
            runner = ModemRunner(
                modem_config=modem,
                open_modem=lambda m=modem, d=device: self._opener(m, d),  # type: ignore[misc]
                config=self.config, store=self.store, folders=self.folders,
                directory=self.directory.current, work=self.work, stopping=self.stopping,
            )
            runner.start()
            self.runners.append(runner)
        watcher = SpoolWatcher(self.folders.incoming, self.arrivals.put)
        watcher.start()
        notify("READY=1")
        log.info("daemon.ready", pid=os.getpid(), spool=str(self.folders.incoming), modems=len(self.runners),
                 directory_version=self.directory.current().version)
        try:
            self._intake_loop()
        finally:
            notify("STOPPING=1")
            log.info("daemon.stopping")
            watcher.stop()
            self.stopping.set()
            self.work.notify()
            for runner in self.runners:
                runner.join(RUNNER_STOP_SECONDS)
            for simulator in self.simulators:
                simulator.stop()
            log.info("daemon.stopped")
        return 0

    def _intake_loop(self) -> None:
        next_prune = time.monotonic()
        while not self.stopping.is_set():
            if time.monotonic() >= next_prune:
                self._housekeeping()
                next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
            try:
                path = self.arrivals.get(timeout=PRUNE_INTERVAL_SECONDS)
            except queue.Empty:
                continue
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self.directory.reload()
            if path == Path() or self.stopping.is_set():
                continue
            try:
                self.intake.take(path)
            except Exception:  # supervisor boundary: the daemon stays up; the file stays in work/
                log.exception("intake.crashed")

    def _housekeeping(self) -> None:
        """Hourly: retention, and a second chance for documents left in work/ when an
        intake failed (e.g. a full disk) rather than only at the next start."""
        try:
            self.intake.recover()
            self._prune_archive()
        except Exception:  # supervisor boundary: try again at the next tick
            log.exception("housekeeping.failed")

    def _prune_archive(self) -> None:
        days = self.config.archive_retention_days
        folder = self.config.state / "archive"
        if days <= 0 or not folder.is_dir():
            return
        removed = prune_archive(folder, keep_days=days, now=now_utc())
        if removed:
            log.info("archive.pruned", files=removed, retention_days=days)

    def _file_finished_documents(self) -> None:
        """Documents whose jobs all ended but which a crash left in work/."""
        for document_id, state in self.store.document_states().items():
            path = self.folders.work / f"{document_id}.pdf"
            if state in (DocumentState.DONE, DocumentState.FOLLOW_UP) and path.exists():
                folder = self.folders.done if state == DocumentState.DONE else self.folders.failed
                self.store.set_document_path(document_id, file_away(folder, path))
