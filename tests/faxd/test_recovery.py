"""Recovery of work/: each file on its own, a failing one set aside with its reason, the
poison guard, quarantine recorded before it moves, storage trouble never quarantining."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from structlog.testing import capture_logs

import faxd.intake
from faxd.intake import StorageUnavailable
from spool import queue
from tests.faxd.site import WARD, Site

ADMISSION = (
    '{"FaxdType": "inskrivningsinformation", "FaxdSender": "%s", "FaxdMunicipality": "kommun-lund",'
    ' "FaxdOutpatient": "vc-lund-norra", "FaxdReference": "%s"}'
)


def pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(72, 760, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def left_in_work(site: Site, name: str, text: str) -> Path:
    """A document claimed into work/ by a daemon that was then killed before recording it."""
    path = site.folders.incoming / name
    (site.folders.incoming / f"{name}.json").write_text(ADMISSION % (WARD, name))
    path.write_bytes(pdf(text))
    claimed = queue.claim(site.folders, path)
    assert claimed is not None
    return claimed.path


class Killed(BaseException):
    """Stands for the process dying mid-way (SIGKILL): nothing after it runs."""


def test_one_failing_file_is_set_aside_with_its_reason_and_the_rest_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document whose processing raises (a parser bug on hostile input) goes to quarantine
    with a reason; the documents after it are still routed, and recovery returns normally."""
    site = Site(tmp_path)
    paths = [left_in_work(site, f"{n}.pdf", f"form {n}") for n in ("a", "b", "c")]
    bad = paths[1]
    real = faxd.intake.route_document

    def route(path: Path, *args: object, **kwargs: object) -> faxd.intake.RoutedDocument:
        if path == bad:
            raise RecursionError("maximum recursion depth exceeded while parsing")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(faxd.intake, "route_document", route)
    report = site.intake.recover()
    assert (report.processed, report.set_aside) == (2, 1)
    states = site.store.document_states()
    assert sorted(states.values()) == ["quarantined", "routed", "routed"]
    (quarantined,) = site.store.quarantined()
    assert quarantined["document_id"] == bad.name.removesuffix(".pdf")
    assert "RecursionError" in quarantined["reason"] and "set aside" in quarantined["reason"]
    target = Path(quarantined["path"])
    assert target.exists() and target.with_name(target.name + ".reason").exists()
    assert queue.in_work(site.folders) == sorted(p for p in paths if p != bad)


def test_a_document_that_kills_the_daemon_is_set_aside_after_the_poison_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document whose processing kills the process every time is counted before each try;
    after POISON_LIMIT recoveries it is quarantined with a reason and an alarm, and the
    others (which were behind it) are routed."""
    site = Site(tmp_path)
    poison = left_in_work(site, "a.pdf", "poison")
    good = left_in_work(site, "b.pdf", "fine")
    real = faxd.intake.route_document

    def route(path: Path, *args: object, **kwargs: object) -> faxd.intake.RoutedDocument:
        if path == poison:
            raise Killed
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(faxd.intake, "route_document", route)
    for _start in range(queue.POISON_LIMIT):
        with pytest.raises(Killed):
            site.intake.recover()
    with capture_logs() as logs:
        report = site.intake.recover()
    assert report.set_aside == 1  # the good one was routed in whichever pass reached it first
    alarms = [e for e in logs if e["event"] == "alarm.poison_document"]
    assert alarms and alarms[0]["recoveries"] == queue.POISON_LIMIT
    (quarantined,) = site.store.quarantined()
    assert f"recovered {queue.POISON_LIMIT} times" in quarantined["reason"]
    assert site.store.document_states()[good.name.removesuffix(".pdf")] == "routed"
    assert not list(site.folders.work.glob(".*recovered"))  # the counter leaves with the document


def enospc(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_storage_trouble_leaves_documents_waiting_and_quarantines_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk during recovery raises StorageUnavailable: no document is set aside,
    all stay in work/, and the next recovery (space back) routes them."""
    site = Site(tmp_path)
    paths = [left_in_work(site, f"{n}.pdf", f"form {n}") for n in ("a", "b")]
    monkeypatch.setattr(queue, "note_recovery", enospc)
    with pytest.raises(StorageUnavailable, match="No space left"):
        site.intake.recover()
    assert site.store.quarantined() == [] and queue.in_work(site.folders) == sorted(paths)
    monkeypatch.undo()
    assert site.intake.recover().processed == 2
    assert set(site.store.document_states().values()) == {"routed"}


def test_a_quarantine_is_recorded_before_the_file_moves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If moving to quarantine fails (full disk), the database already knows the document as
    quarantined, no temporary is left, and recovery finishes the move with its reason."""
    site = Site(tmp_path)
    path = site.folders.incoming / "junk.pdf"
    path.write_bytes(b"not a pdf at all")
    real_claim, real_fsync = queue.claim, os.fsync
    disk_full = False

    def claim_then_fill_the_disk(*args: object, **kwargs: object) -> queue.Claimed | None:
        nonlocal disk_full
        claimed = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        disk_full = True
        return claimed

    def fsync(fd: int) -> None:
        if disk_full:
            enospc()
        real_fsync(fd)

    monkeypatch.setattr(queue, "claim", claim_then_fill_the_disk)
    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StorageUnavailable):
        site.intake.take(path)
    monkeypatch.undo()
    (recorded,) = site.store.quarantined()
    assert [p.name for p in site.folders.work.iterdir()] == [f"{recorded['document_id']}.pdf"]
    assert list(site.folders.quarantine.iterdir()) == []  # no .reason.tmp, no half-moved file
    assert site.intake.recover().filed == 1
    target = Path(recorded["path"])
    assert target.read_bytes() == b"not a pdf at all"
    assert "Reason:" in target.with_name(target.name + ".reason").read_text()
    assert list(site.folders.work.iterdir()) == []


def test_a_failed_atomic_write_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write_atomically on a full disk raises and removes its own temporary."""
    monkeypatch.setattr(os, "fsync", enospc)
    with pytest.raises(OSError):
        queue.write_atomically(tmp_path / "x.reason", b"why")
    assert list(tmp_path.iterdir()) == []


def test_start_up_sweeps_temporaries_a_kill_left(tmp_path: Path) -> None:
    """Archive and spool temporaries (``.NAME.tif.XXXX.tmp``, ``.NAME.reason.tmp``) are removed."""
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / ".FX-1-20260101T000000.tif.ab12.tmp").write_bytes(b"half")
    (archive / "FX-1-20260101T000000.tif").write_bytes(b"whole")
    (tmp_path / ".D1-x.pdf.reason.tmp").write_bytes(b"half")
    removed = queue.sweep_temporaries([archive, tmp_path])
    assert len(removed) == 2
    assert [p.name for p in archive.iterdir()] == ["FX-1-20260101T000000.tif"]


def drop_copy(site: Site, name: str, data: bytes, *, again: bool = False) -> faxd.intake.IntakeResult:
    path = site.folders.incoming / name
    (site.folders.incoming / f"{name}.json").write_text(ADMISSION % (WARD, "DUP-1"))
    if again:
        queue.write_atomically(queue.again_marker_of(path), b"again\n")
    path.write_bytes(data)
    result = site.intake.take(path)
    assert result is not None
    return result


def test_the_same_document_dropped_again_is_held_as_a_duplicate_naming_the_first(tmp_path: Path) -> None:
    """Dropped three times, a document is routed once; the copies are quarantined with a
    reason naming the first, also after it was sent; --again (the marker) sends it."""
    site = Site(tmp_path)
    data = pdf("same bytes")
    first = drop_copy(site, "a.pdf", data)
    assert first.quarantine_reason is None
    second = drop_copy(site, "a.pdf", data)
    assert second.quarantine_reason is not None
    assert f"duplicate of document {first.document_id}" in second.quarantine_reason
    assert "still queued" in second.quarantine_reason
    site.run_all()
    third = drop_copy(site, "a.pdf", data)
    assert third.quarantine_reason is not None and "was sent" in third.quarantine_reason
    again = drop_copy(site, "a.pdf", data, again=True)
    assert again.quarantine_reason is None and again.job_ids
    assert len(site.store.quarantined()) == 2


def test_a_finished_document_is_recorded_before_it_moves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the database cannot take the finished document's new path (full disk), the file
    stays in work/ (not in done/ with the database naming work/), and recovery files it."""
    import sqlite3

    site = Site(tmp_path)
    site.drop("a.pdf", FaxdType="akutblad", FaxdSender="kommun-lund", FaxdWard="sus-malmo-akuten")

    def disk_full(*_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(site.store, "set_document_path", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        site.run_all()  # the job is sent and recorded; filing its document meets the full disk
    assert {j["state"] for j in site.store.jobs()} == {"confirmed"}
    assert len(list(site.folders.work.glob("*.pdf"))) == 1
    assert list(site.folders.done.iterdir()) == []
    monkeypatch.undo()
    assert site.intake.recover().filed == 1
    [done] = site.folders.done.glob("*.pdf")
    assert site.store.document(_only_document(site))["path"] == str(done)  # type: ignore[index]


def _only_document(site: Site) -> str:
    [document_id] = site.store.document_states()
    return document_id
