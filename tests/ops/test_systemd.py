"""systemd: the unit passes systemd's own checks; the real daemon speaks sd_notify on a
real socket; the watchdog goes quiet when a working loop hangs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faxd.systemd import Heartbeats, Watchdog
from tests.e2e.harness import BIN, Child, Gateway, ensure_keys

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "faxd.service"
needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")


def installed_unit(tmp_path: Path) -> Path:
    """The unit as installed, with ExecStart pointing at this checkout's faxd (verify checks it exists)."""
    unit = tmp_path / "faxd.service"
    unit.write_text(UNIT.read_text().replace("ExecStart=/usr/bin/faxd", f"ExecStart={BIN / 'faxd'}"))
    return unit


@needs_systemd
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """systemd-analyze verify has nothing to say about the unit."""
    result = subprocess.run(
        ["systemd-analyze", "verify", str(installed_unit(tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


@needs_systemd
def test_unit_exposure_is_below_two(tmp_path: Path) -> None:
    """systemd-analyze security rates the unit below 2.0 ("OK")."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(installed_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for faxd\.service: (\d+\.\d+) (\w+)", result.stdout + result.stderr)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) < 2.0 and found.group(2) == "OK", found.group(0)


def test_sysusers_and_tmpfiles_are_well_formed() -> None:
    """sysusers.d creates the faxd user with dialout and the auditors' group faxaudit;
    tmpfiles.d makes the spool faxd's own and state and log head readable by faxaudit."""
    sysusers = (ROOT / "systemd" / "faxd.sysusers").read_text()
    assert re.search(r"^u faxd - ", sysusers, re.MULTILINE) and re.search(r"^m faxd dialout$", sysusers, re.MULTILINE)
    assert re.search(r"^g faxaudit -$", sysusers, re.MULTILINE) and re.search(
        r"^m faxd faxaudit$", sysusers, re.MULTILINE
    )
    tmpfiles = (ROOT / "systemd" / "faxd.tmpfiles").read_text()
    assert re.search(r"^d /var/spool/faxd\s+0\d+ faxd faxd", tmpfiles, re.MULTILINE)
    for path in ("/var/lib/faxd", "/var/log/faxd"):
        assert re.search(rf"^d {re.escape(path)}\s+2750 faxd faxaudit", tmpfiles, re.MULTILINE)
    unit = UNIT.read_text()
    assert "ReadWritePaths=/var/spool/faxd /var/lib/faxd /var/log/faxd" in unit and "User=faxd" in unit


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers not installed")
def test_sysusers_then_tmpfiles_make_the_user_and_folders(tmp_path: Path) -> None:
    """systemd-sysusers creates faxd (in dialout) under a scratch root; systemd-tmpfiles then
    makes spool and state owned by it, closed to others."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "group").write_text("dialout:x:20:\n")
    users = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(ROOT / "systemd" / "faxd.sysusers")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert users.returncode == 0, users.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text()
    uid = int(re.search(r"^faxd:x:(\d+):", passwd, re.MULTILINE).group(1))  # type: ignore[union-attr]

    def group_file() -> str:
        return (tmp_path / "etc" / "group").read_text()

    assert re.search(r"^dialout:x:20:faxd$", group_file(), re.MULTILINE)
    dirs = subprocess.run(
        ["systemd-tmpfiles", "--create", f"--root={tmp_path}", str(ROOT / "systemd" / "faxd.tmpfiles")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dirs.returncode == 0, dirs.stderr
    auditors = int(re.search(r"^faxaudit:x:(\d+):faxd$", group_file(), re.MULTILINE).group(1))  # type: ignore[union-attr]
    for path, mode in (
        ("var/spool/faxd", 0o750),
        ("var/spool/faxd/incoming", 0o2770),
        ("var/lib/faxd", 0o2750),
        ("var/log/faxd", 0o2750),
    ):
        st = (tmp_path / path).stat()
        assert st.st_uid == uid and st.st_mode & 0o7777 == mode, (path, oct(st.st_mode))
    assert (tmp_path / "var/lib/faxd").stat().st_gid == auditors


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 60.0) -> str:
        """Block until a datagram matching ``pattern`` arrives (each datagram is kept)."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        for message in self.received:
            if regex.search(message):
                return message
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {pattern!r} on the notify socket; got {self.received}")
            self.sock.settimeout(remaining)
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.received.append(message)
            if regex.search(message):
                return message

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


@pytest.mark.e2e
def test_daemon_notifies_ready_status_watchdog_reload_and_stopping(tmp_path: Path, notify_socket: NotifySocket) -> None:
    """The real daemon, under a real notify socket: READY once its modem answers, STATUS lines,
    WATCHDOG pings, RELOADING/READY on SIGHUP, STOPPING on SIGTERM, then a clean exit."""
    gateway = Gateway(root=tmp_path, device=str(tmp_path / "tty-sim"))
    try:
        gateway.start_simulator()
        gateway.write_config()
        ensure_keys(gateway.root)
        daemon = Child(
            [str(BIN / "faxd"), "--config", str(gateway.config)],
            env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": ""},
        )
        gateway.children.append(daemon)
        ready = notify_socket.wait_for(r"^READY=1$")
        assert re.search(r"^STATUS=(ready|degraded): 1/1 modems up", ready, re.MULTILINE), ready
        daemon.wait_for(r"service\.ready")
        notify_socket.wait_for(r"^WATCHDOG=1$")
        notify_socket.wait_for(r"^STATUS=ready: 1/1 modems up, 0 queued")
        daemon.proc.send_signal(signal.SIGHUP)
        notify_socket.wait_for(r"^RELOADING=1$")
        daemon.wait_for(r"config\.reloaded")
        assert daemon.stop(signal.SIGTERM) == 0
        notify_socket.wait_for(r"^STOPPING=1$")
        assert notify_socket.received.index("RELOADING=1") < len(notify_socket.received) - 1
    finally:
        gateway.stop_all()


def test_watchdog_goes_quiet_when_a_loop_hangs(notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch) -> None:
    """WATCHDOG=1 only while every loop beats within its allowance; a hung loop stops the pings
    (and raises alarm.loop_stalled) so systemd restarts the service."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_socket.path))
    now = [1000.0]
    beats = Heartbeats(clock=lambda: now[0])
    dog = Watchdog(beats, interval=1.0, status=lambda: "test")
    beats.beat("modem-m0", 30.0)
    beats.beat("intake", 30.0)
    assert dog.tick() is True
    notify_socket.wait_for(r"^WATCHDOG=1$")
    now[0] += 20.0
    beats.beat("intake", 30.0)  # the intake keeps going, the runner does not
    assert dog.tick() is True
    now[0] += 20.0
    assert beats.stalled() == ["modem-m0"]
    pings = sum(1 for m in notify_socket.received if m == "WATCHDOG=1")
    assert dog.tick() is False
    notify_socket.wait_for(r"^STATUS=test$")
    assert sum(1 for m in notify_socket.received if m == "WATCHDOG=1") == pings
    beats.beat("modem-m0", 30.0)  # it recovers: pings resume
    assert dog.tick() is True


def test_watchdog_interval_follows_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half of WatchdogSec; none when unset or meant for another process."""
    from faxd.systemd import watchdog_interval

    monkeypatch.setenv("WATCHDOG_USEC", "90000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 45.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert watchdog_interval() is None
