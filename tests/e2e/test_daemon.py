"""The real daemon, end to end: PDFs dropped in the spool are faxed through the simulated
Class 1 modem on a pty, and what the remote received is what we sent."""

from __future__ import annotations

import hashlib
import io
import signal
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfWriter

from drivers.page import Resolution
from imaging import render_pdf
from tests.e2e.harness import (
    ALL_CLASSES,
    GUARDED_MUNICIPALITY,
    MUNICIPALITY,
    OUTPATIENT,
    Gateway,
    admission_meta,
    make_pdf,
    tiff_pages,
)

pytestmark = pytest.mark.e2e


@ALL_CLASSES
def test_dropped_pdfs_are_faxed_with_cover_sheet_and_confirmed(gateway: Gateway, tmp_path: Path) -> None:
    """Two PDFs go to two recipients each; the remote receives cover + pages exactly as archived."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    first = make_pdf(tmp_path / "admission.pdf", 2, metadata=admission_meta())
    second = make_pdf(tmp_path / "second.pdf", 1, label="Sidecar")
    gateway.send(first)
    gateway.send(second, admission_meta(FaxdReference="E2E-2"))
    daemon.wait_for(r"event=job\.sent", count=4, timeout=120)

    log = gateway.log()
    assert len(log) == 4
    assert {e["outcome"] for e in log} == {"confirmed"}
    assert sorted(e["pages_total"] for e in log) == [2, 2, 3, 3]  # cover sheet + document pages
    assert all(e["pages_confirmed"] == e["pages_total"] for e in log)
    assert {e["recipient"] for e in log} == {MUNICIPALITY, OUTPATIENT}
    assert all(len(e["document_sha256"]) == 64 and e["remote_id"] for e in log)

    calls = gateway.calls()
    assert len(calls) == 4 and all(c["outcome"] == "confirmed" for c in calls)
    assert {c["remote_tsi"] for c in calls} == {"+46 40 628 04 00"}
    # What the remote decoded is, pixel for pixel, what we archived as sent.
    archives = sorted((gateway.state / "archive").glob("*.tif"))
    assert len(archives) == 4
    assert sorted(e["archive"] for e in log) == [a.name for a in archives]
    sent_sets = [tiff_pages(a) for a in archives]
    received_sets = [tiff_pages(Path(c["dir"]) / "pages.tif") for c in calls]
    for received in received_sets:
        assert any(
            len(s) == len(received) and all(np.array_equal(a, b) for a, b in zip(s, received, strict=True))
            for s in sent_sets
        )
    # The document pages are the PDF's pages (below the header line), after a cover sheet.
    three_page = next(r for r in received_sets if len(r) == 3)
    own = list(render_pdf(first, resolution=Resolution.FINE))
    header_rows = 80
    for got, expected in zip(three_page[1:], own, strict=True):
        assert got.shape == expected.pixels.shape
        assert np.array_equal(got[header_rows:], expected.pixels[header_rows:])
    assert three_page[0].mean() > 0.01  # the cover sheet carries text
    # Both documents are filed as done, nothing is left in work/.
    assert len(list((gateway.spool / "done").glob("*.pdf"))) == 2
    assert list((gateway.spool / "work").iterdir()) == []
    assert gateway.faxctl("log", "--verify").returncode == 0


def test_restart_completes_queued_jobs_and_takes_files_dropped_while_down(gateway: Gateway, tmp_path: Path) -> None:
    """Jobs queued while the modem is absent survive a restart; a file dropped while down is taken at start."""
    daemon = gateway.start_daemon()  # no simulator yet: the modem is down
    daemon.wait_for(r"event=modem\.down")
    gateway.send(make_pdf(tmp_path / "a.pdf", 1, metadata=admission_meta()))
    daemon.wait_for(r"event=document\.routed")
    gateway.stop_all()
    assert daemon.proc.returncode == 0
    assert {j["state"] for j in gateway.status()["open_jobs"]} == {"queued"}

    gateway.send(make_pdf(tmp_path / "b.pdf", 1, metadata=admission_meta(FaxdReference="E2E-B")))
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    daemon.wait_for(r"event=job\.sent", count=4, timeout=120)
    log = gateway.log()
    assert [e["outcome"] for e in log] == ["confirmed"] * 4
    assert gateway.status()["open_jobs"] == []


def test_kill_9_during_a_call_loses_nothing(gateway: Gateway, tmp_path: Path) -> None:
    """A daemon killed mid-call leaves an interrupted attempt; after restart the job is confirmed."""
    gateway.start_simulator(speed=0.05)  # slow enough to be mid-call when killed
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "k.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.dialing", timeout=60)
    daemon.stop(signal.SIGKILL)
    gateway.stop_all()

    gateway.start_simulator()
    daemon = gateway.start_daemon()
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    log = gateway.log()
    assert sorted(e["outcome"] for e in log) == ["confirmed", "confirmed", "interrupted"]
    interrupted = next(e for e in log if e["outcome"] == "interrupted")
    assert any(e["job_id"] == interrupted["job_id"] and e["outcome"] == "confirmed" for e in log)
    assert len(list((gateway.spool / "done").glob("*.pdf"))) == 1
    assert gateway.faxctl("log", "--verify").returncode == 0


def test_bad_input_is_quarantined_with_a_reason_and_the_daemon_keeps_going(gateway: Gateway, tmp_path: Path) -> None:
    """Each unusable document lands in quarantine with a readable reason; a good one still goes out."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    encrypted = PdfWriter()
    encrypted.add_blank_page(595, 842)
    encrypted.add_metadata({"/" + k: v for k, v in admission_meta().items()})
    encrypted.encrypt("hemligt")
    buf = io.BytesIO()
    encrypted.write(buf)
    cases = {
        "not-a-pdf.pdf": (b"just some text\n", "not a PDF"),
        "empty.pdf": (b"", "empty"),
        "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n%%EOF", "damaged|no pages"),
        "encrypted.pdf": (buf.getvalue(), "encrypted"),
    }
    for name, (data, _) in cases.items():
        (tmp_path / name).write_bytes(data)
        gateway.send(tmp_path / name)
    gateway.send(make_pdf(tmp_path / "no-routing.pdf", 1))
    gateway.send(make_pdf(tmp_path / "unknown.pdf", 1, metadata=admission_meta(FaxdMunicipality="kommun-atlantis")))
    daemon.wait_for(r"event=document\.quarantined\b", count=6, timeout=60)

    # Quarantined files are named by document id (a name may be a patient's): the
    # .reason file's SHA-256 line tells which is which.
    texts = [p.read_text() for p in (gateway.spool / "quarantine").glob("*.reason")]
    assert len(texts) == 6
    sha = {
        name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        for name in [*cases, "no-routing.pdf", "unknown.pdf"]
    }
    reasons = {name: next(t for t in texts if f"SHA-256: {digest}" in t) for name, digest in sha.items()}
    for name, (_, words) in cases.items():
        assert any(w in reasons[name] for w in words.split("|")), reasons[name]
    # The field is named, the value not (an id the directory does not hold may be anything).
    assert "unknown recipient (FaxdMunicipality)" in reasons["unknown.pdf"]
    assert "kommun-atlantis" not in reasons["unknown.pdf"]
    assert "Faxd" in reasons["no-routing.pdf"] or "type" in reasons["no-routing.pdf"].lower()

    gateway.send(make_pdf(tmp_path / "good.pdf", 1, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    assert daemon.proc.poll() is None
    quarantined = gateway.status()["quarantined"]
    assert len(quarantined) == 6 and all(q["reason"] for q in quarantined)


@ALL_CLASSES
def test_wrong_station_id_stops_before_page_one_and_is_not_retried(gateway: Gateway, tmp_path: Path) -> None:
    """A remote whose CSI differs from the directory's gets no page; the job fails for follow-up."""
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "s.pdf", 1, metadata=admission_meta(FaxdMunicipality=GUARDED_MUNICIPALITY)))
    daemon.wait_for(r"event=job\.failed .*outcome=station_mismatch", timeout=60)
    daemon.wait_for(r"event=job\.sent", timeout=60)  # the other recipient is unaffected
    log = {e["recipient"]: e for e in gateway.log()}
    mismatch = log[GUARDED_MUNICIPALITY]
    assert mismatch["outcome"] == "station_mismatch" and mismatch["pages_confirmed"] == 0
    assert "+46 40 628 04 99" in mismatch["reason"] and "not retried" in mismatch["reason"]
    assert log[OUTPATIENT]["outcome"] == "confirmed"
    calls = gateway.calls()
    assert sorted(c["pages"] for c in calls) == [0, 2]
    assert len(list((gateway.spool / "failed").glob("*.pdf"))) == 1
    failed = gateway.status()["failed_jobs"]
    assert [j["recipient"] for j in failed] == [GUARDED_MUNICIPALITY]
