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
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError
from pypdf.generic import PdfObject

from faxd.redact import contains_identity_number
from faxerrors import FaxError
from imaging.limits import DocumentRenderError, RenderLimits
from routing.metadata import FIELD_KEYS, nearest
from spool.entry import MAX_SIDECAR_BYTES, EntryRefused, open_regular, read_bounded

#: A routing field's text: longer is not a code, an id list or a reference.
MAX_FIELD_CHARS = 2000
MAX_LIST_ITEMS = 200
#: Page sizes are checked here (A0 at most) for documents up to this many pages; the
#: page count limit refuses longer ones anyway.
MAX_SIZED_PAGES = 1000
PAGE_LIMITS = RenderLimits()
#: The text of page one is only searched for a form's title.
MAX_PAGE_ONE_CHARS = 20_000
# No routing field (a code, an id, a date, a reference) has a line break or a control
# character; either would also let a value forge a line in a log or a .reason file.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_FIELD_NAME = re.compile(r"/?Faxd[A-Za-z]{0,30}")

# FIELD_KEYS: the keys of the document contract, as they stand in the PDF's /Info dictionary
# (without the slash) and in a sidecar; routing owns the contract, spool only reads them.

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
    """Check the file and read its routing fields, in this process. Raises DocumentRejected.

    Total over its input: whatever the parser raises becomes DocumentRejected with a
    reason in our words (never the parser's message, which may quote the file's bytes).
    The daemon runs this in a limited child (`spool.inspector`); see there.
    """
    check_file(path, max_bytes=max_bytes)
    try:
        pages, info, page_one_text = _read_pdf(path, max_pages)
    except DocumentRejected:
        raise
    except Exception as exc:  # the parser's boundary: any failure means "cannot be read"
        raise DocumentRejected(parser_failure(exc)) from None
    fields: dict[str, object] = {}
    for key in FIELD_KEYS:
        value = info.get("/" + key)
        if value is not None and str(value).strip():
            fields[key] = field_value(f"/{key} in the PDF's metadata", str(value).strip())
    if sidecar is not None:
        fields.update(read_sidecar(sidecar))
    return DocumentFacts(pages=pages, fields=fields, page_one_text=page_one_text)


def check_file(path: Path, *, max_bytes: int) -> None:
    """The cheap checks, on the opened descriptor before any parsing: a regular file
    (no link followed, no pipe opened blocking), not empty, not too large, %PDF- early.
    Raises DocumentRejected."""
    try:
        fd = open_regular(path)
    except EntryRefused as exc:
        raise DocumentRejected(str(exc)) from None
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise DocumentRejected("the file is empty (0 bytes)")
        if size > max_bytes:
            raise DocumentRejected(
                f"the file is {size / 1048576:.1f} MB, larger than the limit of {max_bytes / 1048576:.0f} MB"
            )
        head = os.pread(fd, 1024, 0)
    except OSError:
        raise DocumentRejected("the file cannot be read (an input/output error)") from None
    finally:
        os.close(fd)
    if b"%PDF-" not in head:
        raise DocumentRejected("the file is not a PDF (it does not start with the %PDF- signature)")


def _read_pdf(path: Path, max_pages: int) -> tuple[int, Mapping[str, object], str]:
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except NotImplementedError:
            raise DocumentRejected(
                "the PDF is encrypted with a method faxd cannot open; send it without encryption"
            ) from None
        if not opened:
            raise DocumentRejected("the PDF is encrypted with a password; send it without a password")
    # The page tree's own count first: a document that declares 10,000 pages is refused
    # without walking them (a tree that under-declares is still counted below).
    declared = _dictionary(_dictionary(reader.trailer.get("/Root")).get("/Pages")).get("/Count")
    if isinstance(declared, int) and declared > max_pages:
        raise DocumentRejected(f"the PDF has {declared} pages, more than the limit of {max_pages}")
    pages = len(reader.pages)
    if pages == 0:
        raise DocumentRejected("the PDF has no pages")
    if pages > max_pages:
        raise DocumentRejected(f"the PDF has {pages} pages, more than the limit of {max_pages}")
    _refuse_active_content(reader)
    if pages <= MAX_SIZED_PAGES:
        for number, page in enumerate(reader.pages, start=1):
            box = page.mediabox
            try:
                PAGE_LIMITS.check_page_size(number, float(box.width), float(box.height))
            except DocumentRenderError as exc:
                raise DocumentRejected(str(exc)) from None
    info: Mapping[str, object] = reader.metadata or {}
    # The XMP stream is read too: a decompression bomb there must stop here, under the
    # inspector's limits, not later in the renderer.
    reader.xmp_metadata  # noqa: B018
    page_one_text = (reader.pages[0].extract_text() or "")[:MAX_PAGE_ONE_CHARS] if pages else ""
    if pages <= MAX_SIZED_PAGES:
        # Every page's content is decoded here, under pypdf's output limits and the
        # inspector's memory limit: a flate bomb or an unknown filter stops now, with a
        # reason, rather than in the renderer at the time of sending.
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
    return pages, info, page_one_text


def _refuse_active_content(reader: PdfReader) -> None:
    """JavaScript and attached files are refused: a fax carries neither, and a sender
    who attached a file must not believe it went out."""
    root = _dictionary(reader.trailer.get("/Root"))
    names = _dictionary(root.get("/Names"))
    if "/JavaScript" in names or "/AA" in root or "/JS" in _dictionary(root.get("/OpenAction")):
        raise DocumentRejected("the PDF contains JavaScript (active content); send it flattened, without scripts")
    if "/EmbeddedFiles" in names:
        raise DocumentRejected("the PDF has attached files, which a fax cannot carry; send them as pages")


def _dictionary(value: object) -> dict[Any, Any]:
    """``value`` resolved, if it is a dictionary; otherwise an empty one."""
    resolved = value.get_object() if isinstance(value, PdfObject) else value
    return resolved if isinstance(resolved, dict) else {}


def parser_failure(exc: BaseException) -> str:
    """What a parser's exception means, in our words; its message is never repeated."""
    if isinstance(exc, FileNotDecryptedError):
        return "the PDF is encrypted with a password; send it without a password"
    if isinstance(exc, LimitReachedError):
        return (
            "the PDF is damaged or hostile: it reaches a reading limit (a page or reference loop,"
            " or data that expands beyond the limit)"
        )
    if isinstance(exc, MemoryError):
        return "the PDF needs more memory to read than the limit allows (a decompression bomb?)"
    if isinstance(exc, RecursionError):
        return "the PDF is damaged or hostile: its objects are nested too deeply to read"
    if isinstance(exc, NotImplementedError):
        return "the PDF uses a feature faxd cannot read (an unknown filter or encryption method)"
    return f"the PDF is damaged and cannot be read ({type(exc).__name__})"


def field_value(where: str, value: object) -> object:
    """A routing field's value if it is text (or a list of text) fit to be stored.
    Raises DocumentRejected naming ``where``, never repeating the value."""
    if isinstance(value, str):
        if len(value) > MAX_FIELD_CHARS:
            raise DocumentRejected(f"{where} is longer than {MAX_FIELD_CHARS} characters")
        if _BAD_CHARS.search(value):
            raise DocumentRejected(f"{where} holds control characters or invalid Unicode")
        if contains_identity_number(value):
            # No routing field may carry a patient's identity, in any spelling: refused
            # here, before routing, so it cannot reach the database or the cover sheet.
            raise DocumentRejected(
                f"{where} looks like a personal identity number; routing data must not identify the patient"
            )
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**15:
            raise DocumentRejected(f"{where} is a number too large to be a reference or an id")
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise DocumentRejected(f"{where} lists more than {MAX_LIST_ITEMS} values")
        for item in value:
            if not isinstance(item, str):
                raise DocumentRejected(f"{where} must list text values, not {_json_type(item)}")
            field_value(where, item)
        return value
    raise DocumentRejected(f"{where} must be text or a list of text, not {_json_type(value)}")


def _json_type(value: object) -> str:
    return {bool: "true/false", int: "a number", float: "a number", dict: "an object", list: "a list"}.get(
        type(value), "null" if value is None else "another type"
    )


def read_sidecar(path: Path) -> dict[str, object]:
    """The sidecar's contract fields. Raises DocumentRejected if it is not usable JSON.

    Opened as any spool entry (no link followed, no pipe opened blocking), at most
    MAX_SIDECAR_BYTES; each value must be text or a list of text, short and printable.
    """
    try:
        raw = read_bounded(path, MAX_SIDECAR_BYTES, "the sidecar")
    except EntryRefused as exc:
        raise DocumentRejected(str(exc)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DocumentRejected("the sidecar is not UTF-8 text") from None
    except RecursionError:
        raise DocumentRejected("the sidecar's JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and an integer too long to convert
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise DocumentRejected(f"the sidecar is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise DocumentRejected("the sidecar must hold a JSON object of Faxd* fields")
    unknown = sorted(set(data) - set(FIELD_KEYS))
    if unknown:
        # A key is the sender's free text (a patient's name fits in it): never quoted. The
        # nearest contract field is ours to suggest, which still points at a typo.
        hints = dict.fromkeys(nearest(k, FIELD_KEYS) for k in unknown[:20] if _FIELD_NAME.fullmatch(k))
        hint = next((h for h in hints if h), "")
        count = "an unknown field" if len(unknown) == 1 else f"{len(unknown)} unknown fields"
        raise DocumentRejected(f"the sidecar has {count}{hint}; known: {', '.join(FIELD_KEYS)}")
    return {k: field_value(f"the sidecar's {k}", v) for k, v in data.items() if v not in (None, "", [])}
