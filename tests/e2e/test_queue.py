"""The durable queue through the real daemon: every way a file arrives, one daemon per
state, and a status that tells a dead daemon from a live one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import BIN, Gateway, admission_meta, make_pdf

# Less than the periodic rescan (30 s): a file seen within this came by its inotify event.
AT_ONCE_SECONDS = 15.0


def drop_outside(tmp_path: Path, name: str, reference: str) -> Path:
    """A finished PDF and its sidecar written in a folder outside the spool."""
    outside = tmp_path / "outbox"
    outside.mkdir(exist_ok=True)
    return make_pdf(outside / name, 1, metadata=admission_meta(FaxdReference=reference), label=reference)


@pytest.mark.parametrize("how", ["moved_in", "hard_link", "renamed_inside"])
def test_every_way_a_file_arrives_is_taken_at_once(gateway: Gateway, tmp_path: Path, how: str) -> None:
    """A PDF moved in from another folder, hard-linked in, or renamed from a temporary name
    inside incoming/ is claimed and routed within seconds, not at the next restart."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    incoming = gateway.spool / "incoming"
    source = drop_outside(tmp_path, "arrival.pdf", f"ARRIVE-{how}")
    if how == "moved_in":
        os.rename(source, incoming / "arrival.pdf")
    elif how == "hard_link":
        os.link(source, incoming / "arrival.pdf")
    else:
        hidden = incoming / ".arrival.pdf.tmp"
        os.rename(source, hidden)  # a writer's temporary: not taken
        os.rename(hidden, incoming / "arrival.pdf")
    daemon.wait_for(r"event=document\.routed", timeout=AT_ONCE_SECONDS)
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    assert list(incoming.iterdir()) == []


def test_a_second_daemon_on_the_same_state_refuses_to_start(gateway: Gateway) -> None:
    """The second faxd exits at once with a message naming the first's pid; the first goes on."""
    gateway.start_simulator()
    first = gateway.start_daemon()
    second = subprocess.run(
        [str(BIN / "faxd"), "--config", str(gateway.config)], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 1
    assert f"another faxd (pid {first.proc.pid}) is running" in second.stderr
    assert "one daemon per state" in second.stderr
    assert first.proc.poll() is None
    assert gateway.status()["daemon"]["state"] == "running"


def test_status_after_kill_9_says_not_running_and_shows_nothing_stale(gateway: Gateway, tmp_path: Path) -> None:
    """After SIGKILL mid-call, faxctl status says the daemon is not running, shows no modem
    as ready and no job as active; a restart takes the lock again and finishes the job."""
    gateway.start_simulator(speed=0.05)
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "k.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.dialing", timeout=60)
    daemon.stop(signal.SIGKILL)
    status = gateway.status()
    assert status["daemon"]["state"] == "not running"
    assert {m["state"] for m in status["modems"]} == {"unknown"}
    assert "active" not in status["jobs"] and status["jobs"].get("interrupted", 0) >= 1
    text = gateway.faxctl("status").stdout
    assert text.startswith("daemon: not running") and " ready " not in text and " active " not in text
    gateway.stop_all()
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    assert gateway.status()["daemon"]["state"] == "running"
    assert json.loads(gateway.faxctl("status", "--json").stdout)["open_jobs"] == []
