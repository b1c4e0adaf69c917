"""The real daemon against hostile spool entries: it stays up, takes later files, stops on
TERM, restarts past a pipe left in work/, keeps its own memory bounded and its journal
free of patient identity."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from tests.e2e.harness import Gateway, admission_meta, make_pdf
from tests.hostile import pdfbytes as pb
from tests.hostile.corpus import NAME, PNR, SNR, all_cases

pytestmark = pytest.mark.e2e

# A sample of the corpus: the cases that hung, leaked or bloated the daemon before.
SAMPLE = (
    "fifo-sidecar",
    "fifo",
    "symlink-sidecar-outside",
    "directory-as-sidecar",
    "sparse-8gib",
    "non-utf8-name",
    "identity-name",
    "flate-bomb.pdf",
    "xmp-bomb.pdf",
    "10000-pages.pdf",
    "damaged-bytes-with-identity.pdf",
    "title-with-identity.pdf",
    "sc-deep.pdf",
    "sc-lone-surrogate.pdf",
    "sc-huge-int.pdf",
    "parent-cycle.pdf",
    "unknown-filter.pdf",
    "encrypted-unknown-handler.pdf",
)
IDENTITY = re.compile(r"19121212|191212-?1212|191212721212|Tolvan")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_hostile_entries_neither_stop_nor_bloat_nor_leak(gateway: Gateway, tmp_path: Path) -> None:
    """Each sample case is quarantined; a good form dropped after them is sent; the daemon's
    peak RSS stays under 200 MB; no identity in its output; TERM stops it."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    incoming = gateway.spool / "incoming"
    outside = tmp_path / "outside"
    outside.mkdir()
    cases = {c.name: c for c in all_cases()}
    for name in SAMPLE:
        cases[name].make(incoming, outside)
    daemon.wait_for(r"event=document\.quarantined\b", count=len(SAMPLE), timeout=240)
    good = make_pdf(tmp_path / "good.pdf", 1, metadata=admission_meta())
    gateway.send(good)
    daemon.wait_for(r"event=job\.sent", count=2, timeout=180)
    assert daemon.proc.poll() is None
    peak = _peak_rss_mb(daemon.proc.pid)
    assert peak < 200, f"daemon peak RSS {peak:.0f} MB"
    assert sorted(os.listdir(incoming)) == []
    output = "\n".join(daemon.lines)
    assert "Traceback" not in output
    assert not IDENTITY.search(output)
    assert not IDENTITY.search(gateway.faxctl("status", "--json").stdout)
    assert daemon.stop(signal.SIGTERM, timeout=60) == 0
    assert PNR and SNR and NAME


def test_restart_after_kill_with_a_pipe_in_work_reaches_ready(gateway: Gateway) -> None:
    """The defect: after kill -9, recovery opened a FIFO left in work/ and never got READY."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    assert daemon.stop(signal.SIGKILL, timeout=30) != 0
    os.mkfifo(gateway.spool / "work" / "D20260101T000000-0a0b0c.pdf")
    (gateway.spool / "work" / "D20260101T000001-0a0b0d.pdf").write_bytes(pb.simple(info=pb.routing_info()))
    restarted = gateway.start_daemon()  # waits for daemon.ready
    restarted.wait_for(r"event=document\.quarantined\b", timeout=60)
    reason = (gateway.spool / "quarantine" / "D20260101T000000-0a0b0c.pdf.reason").read_text()
    assert "named pipe" in reason
