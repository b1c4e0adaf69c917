"""Is this file a document we can fax, and what does it say about itself?

Checks what can be known without rendering: that it is a PDF at all, opens, is not
locked with a password, has pages, is within the size limits; and reads the routing
fields (the document contract) from the PDF's document information and from a sidecar
``NAME.pdf.json``, the sidecar winning field by field.

Every refusal is ``DocumentRejected`` with a sentence for the person who sent it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

# FIELD_KEYS: the keys of the document contract, as they stand in the PDF's /Info dictionary
# (without the slash) and in a sidecar; routing owns the contract, spool only reads them.
from faxerrors import FaxError
from routing.metadata import FIELD_KEYS

# pypdf reports recoverable damage through the logging module; we judge by exceptions.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class DocumentRejected(FaxError):
    """The file cannot be faxed; the message says why in words."""


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    pages: int
    fields: Mapping[str, object]  # contract fields, sidecar over PDF metadata
    page_one_text: str


def inspect(path: Path, sidecar: Path | None, *, max_bytes: int, max_pages: int) -> DocumentFacts:
    """Check the file and read its routing fields. Raises DocumentRejected."""
    size = path.stat().st_size
    if size == 0:
        raise DocumentRejected("the file is empty (0 bytes)")
    if size > max_bytes:
        raise DocumentRejected(
            f"the file is {size / 1048576:.1f} MB, larger than the limit of {max_bytes / 1048576:.0f} MB"
        )
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise DocumentRejected("the file is not a PDF (it does not start with the %PDF- signature)")
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentRejected("the PDF is encrypted with a password; send it without a password")
        pages = len(reader.pages)
        info: Mapping[str, object] = reader.metadata or {}
        page_one_text = (reader.pages[0].extract_text() or "") if pages else ""
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        # pypdf signals damage through several exception types; all mean "cannot read it".
        raise DocumentRejected(f"the PDF is damaged and cannot be read ({type(exc).__name__}: {exc})") from None
    if pages == 0:
        raise DocumentRejected("the PDF has no pages")
    if pages > max_pages:
        raise DocumentRejected(f"the PDF has {pages} pages, more than the limit of {max_pages}")
    fields: dict[str, object] = {}
    for key in FIELD_KEYS:
        value = info.get("/" + key)
        if value is not None and str(value).strip():
            fields[key] = str(value).strip()
    if sidecar is not None:
        fields.update(read_sidecar(sidecar))
    return DocumentFacts(pages=pages, fields=fields, page_one_text=page_one_text)


def read_sidecar(path: Path) -> dict[str, object]:
    """The sidecar's contract fields. Raises DocumentRejected if it is not usable JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentRejected(f"the sidecar {path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DocumentRejected(f"the sidecar {path.name} must hold a JSON object of Faxd* fields")
    unknown = sorted(set(data) - set(FIELD_KEYS))
    if unknown:
        raise DocumentRejected(
            f"the sidecar {path.name} has unknown fields {', '.join(unknown)}; known: {', '.join(FIELD_KEYS)}"
        )
    return {k: v for k, v in data.items() if v not in (None, "", [])}
