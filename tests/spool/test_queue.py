"""Claiming files from the spool: once, atomically, with the sidecar, never a temp file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from spool.folders import SpoolFolders
from spool.queue import claim, is_candidate, quarantine


def folders(tmp_path: Path) -> SpoolFolders:
    f = SpoolFolders(tmp_path / "spool")
    f.create()
    return f


def test_claim_moves_file_and_sidecar_and_hashes(tmp_path: Path) -> None:
    """The PDF and its sidecar land in work/ under the document id, with the original's hash."""
    f = folders(tmp_path)
    (f.incoming / "a.pdf").write_bytes(b"%PDF-1.4 x")
    (f.incoming / "a.pdf.json").write_text("{}")
    claimed = claim(f, f.incoming / "a.pdf")
    assert claimed is not None
    assert claimed.path.parent == f.work and claimed.path.read_bytes() == b"%PDF-1.4 x"
    assert claimed.sidecar is not None and claimed.sidecar.read_text() == "{}"
    assert claimed.sha256 == hashlib.sha256(b"%PDF-1.4 x").hexdigest()
    assert list(f.incoming.iterdir()) == []


def test_second_claim_of_the_same_file_gets_nothing(tmp_path: Path) -> None:
    """Two announcements of one file (inotify and the start-up scan) make one claim."""
    f = folders(tmp_path)
    (f.incoming / "a.pdf").write_bytes(b"%PDF-1.4")
    assert claim(f, f.incoming / "a.pdf") is not None
    assert claim(f, f.incoming / "a.pdf") is None
    assert len(list(f.work.iterdir())) == 1


def test_temp_hidden_and_sidecar_names_are_not_candidates() -> None:
    """Files still being written (hidden or .tmp) and sidecars are not taken on their own."""
    assert is_candidate(Path("form.pdf"))
    assert is_candidate(Path("notes.txt"))  # taken, then quarantined as not a PDF
    for name in (".form.pdf.tmp", "form.pdf.tmp", "form.pdf.part", "form.pdf.json", ".hidden.pdf"):
        assert not is_candidate(Path(name))


def test_quarantine_keeps_bytes_and_writes_reason(tmp_path: Path) -> None:
    """A quarantined document keeps its bytes and gets a .reason file saying why in words."""
    f = folders(tmp_path)
    (f.incoming / "b.pdf").write_bytes(b"junk")
    claimed = claim(f, f.incoming / "b.pdf")
    assert claimed is not None
    target = quarantine(f, claimed, "the file is not a PDF")
    assert target.read_bytes() == b"junk"
    reason = target.with_name(target.name + ".reason").read_text()
    assert "Reason: the file is not a PDF" in reason and "Document: file-" in reason
    assert (
        "Document: b.pdf" not in reason and target.name == f"{claimed.document_id}.pdf"
    )  # the name may be a patient's
    assert list(f.work.iterdir()) == []
