"""Checking a spooled file and reading its routing fields (the document contract)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfWriter

from spool.inspection import DocumentRejected, inspect

LIMITS = {"max_bytes": 1_000_000, "max_pages": 5}


def pdf_bytes(pages: int = 1, metadata: dict[str, str] | None = None, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if metadata:
        writer.add_metadata(metadata)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def put(tmp_path: Path, data: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_metadata_fields_are_read(tmp_path: Path) -> None:
    """The Faxd* entries of the PDF's document information are the routing fields."""
    path = put(tmp_path, pdf_bytes(2, {"/FaxdType": "akutblad", "/FaxdSender": "kommun-lund", "/Title": "x"}))
    facts = inspect(path, None, **LIMITS)
    assert facts.pages == 2
    assert facts.fields == {"FaxdType": "akutblad", "FaxdSender": "kommun-lund"}


def test_sidecar_wins_field_by_field(tmp_path: Path) -> None:
    """Where PDF and sidecar both give a field the sidecar's value is used; others are kept."""
    path = put(tmp_path, pdf_bytes(1, {"/FaxdType": "akutblad", "/FaxdSender": "kommun-lund"}))
    sidecar = tmp_path / "doc.pdf.json"
    sidecar.write_text(json.dumps({"FaxdSender": "kommun-malmo", "FaxdAlso": ["a", "b"]}))
    facts = inspect(path, sidecar, **LIMITS)
    assert facts.fields == {"FaxdType": "akutblad", "FaxdSender": "kommun-malmo", "FaxdAlso": ["a", "b"]}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"Hello, this is a text file\n", "not a PDF"),
        (b"%PDF-1.7\n1 0 obj garbage garbage\n%%EOF", "damaged"),
        (pdf_bytes(1, password="secret"), "encrypted"),
        (pdf_bytes(6), "more than the limit of 5"),
    ],
    ids=["empty", "not-pdf", "corrupt", "encrypted", "too-many-pages"],
)
def test_unusable_files_are_rejected_with_a_reason(tmp_path: Path, data: bytes, words: str) -> None:
    """Each kind of unusable file gets a refusal that says what is wrong."""
    with pytest.raises(DocumentRejected, match=words):
        inspect(put(tmp_path, data), None, **LIMITS)


def test_huge_file_is_rejected_before_parsing(tmp_path: Path) -> None:
    """A file over the size limit is refused by its size."""
    with pytest.raises(DocumentRejected, match="larger than the limit"):
        inspect(put(tmp_path, b"%PDF-1.4\n" + b"0" * 2_000_000), None, **LIMITS)


def test_sidecar_with_unknown_field_is_rejected(tmp_path: Path) -> None:
    """A misspelt sidecar field is an error rather than silently ignored routing data."""
    path = put(tmp_path, pdf_bytes())
    sidecar = tmp_path / "doc.pdf.json"
    sidecar.write_text(json.dumps({"FaxdTyp": "akutblad"}))
    with pytest.raises(DocumentRejected, match=r"an unknown field \(did you mean 'FaxdType'\?\)"):
        inspect(path, sidecar, **LIMITS)


def test_sidecar_keys_are_never_quoted(tmp_path: Path) -> None:
    """A sidecar key is the sender's free text (a patient's name fits): counted, not quoted."""
    path = put(tmp_path, pdf_bytes())
    sidecar = tmp_path / "doc.pdf.json"
    sidecar.write_text(json.dumps({"FaxdAnnaSvensson": "x", "Anna Svensson": "y"}))
    with pytest.raises(DocumentRejected) as caught:
        inspect(path, sidecar, **LIMITS)
    assert "Anna" not in str(caught.value) and "Svensson" not in str(caught.value)
    assert str(caught.value).startswith("the sidecar has 2 unknown fields; known: FaxdType")
