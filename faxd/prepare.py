"""The pages of one transmission: the secrecy cover sheet, then the document's pages, each
with the header line, exactly as they go on the line (and into the archive).

The cover sheet is not optional and has no switch: every call starts with it. It
names units, numbers, the message type and the job reference, never the patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.page import FaxPage, Resolution
from faxd.config import Config
from imaging import (
    ArchivedPages,
    CoverInfo,
    DocumentRenderError,
    HeaderInfo,
    RenderLimits,
    cover_sheet,
    render_pdf,
    stamp_header,
    write_tiff_streaming,
)
from routing.directory import Directory
from routing.message_types import MessageType

#: Renders a PDF page by page: ``render_pdf`` in-process, or ``render_pdf_isolated``
#: (the daemon's choice) in a child process that a hostile PDF cannot take down with it.
Renderer = Callable[..., Iterator[FaxPage]]


@dataclass(frozen=True, slots=True)
class Transmission:
    """The pages of one call, read back lazily from the archive they were written to:
    what goes on the line is what the auditor finds in the archive."""

    pages: Sequence[FaxPage]
    archive: Path


def message_type_words(code: str) -> str:
    message_type = MessageType.from_code(code)
    return message_type.swedish_name if message_type else code


def transmission_pages(
    *,
    config: Config,
    directory: Directory,
    document: Path,
    document_pages: int,
    job_id: str,
    message_type: str,
    sender_id: str,
    recipient_id: str,
    sent_at: datetime,
    resolution: Resolution = Resolution.FINE,
    renderer: Renderer = render_pdf,
    first_page: int = 0,
    sent_again_notice: str | None = None,
) -> Iterator[FaxPage]:
    """Cover sheet, then the document's pages, each with the header line, one at a time.
    The cover has no header line of its own: it carries everything the line says.

    ``first_page`` > 0 resumes after pages the recipient already confirmed: a continuation
    cover sheet says so, and the pages keep their numbers in the header ("Sida 4/6").
    Raises imaging.DocumentRenderError (also at the end, if the renderer found
    another number of pages than the cover sheet announced). ``sent_again_notice``: the whole
    document goes again because the earlier part reached another machine (faxd/runner_resume.py).
    """
    sender = directory.get(sender_id)
    recipient = directory.get(recipient_id)
    recipient_name = recipient.name if recipient else recipient_id
    total = document_pages + 1
    cover = CoverInfo(
        sender_name=sender.name if sender else sender_id,
        sender_callback=config.station.callback,
        recipient_name=recipient_name,
        recipient_fax=recipient.fax_display if recipient else "",
        message_type=message_type_words(message_type),
        pages_total=total,
        job_reference=job_id,
        sent_at=sent_at,
        continuation_of_pages=first_page or None,
        sent_again_notice=sent_again_notice if not first_page else None,
    )
    header = HeaderInfo(
        sent_at=sent_at,
        sender=config.station.header_name,
        recipient=recipient_name,
        job_reference=job_id,
        pages_total=total,
    )
    # The cover carries no header line: it says all the header would, in larger type, and
    # the line would cost about 1.5 KB of the sheet's 4 (issue 15; imaging/cover.py).
    yield cover_sheet(cover, resolution=resolution)
    rendered = 0
    limits = RenderLimits(max_pages=config.limits.max_pages)
    for index, page in enumerate(renderer(document, resolution=resolution, limits=limits)):
        rendered += 1
        if index >= first_page:
            yield stamp_header(page, header, index + 2)
    if rendered != document_pages:
        # The page count on the cover was taken when the document was checked; a
        # renderer that sees another count would make the cover sheet lie.
        raise DocumentRenderError(
            f"the document has {document_pages} pages by its page tree but {rendered} could be rendered"
        )


def prepare(*, archive: Path, **page_args: Any) -> Transmission:
    """Write the transmission's pages into ``archive`` (TIFF, one page in memory at a time)
    and return them as a lazy sequence over that file. Takes ``transmission_pages``'s
    arguments. Raises DocumentRenderError; then no archive file is left behind."""
    write_tiff_streaming(transmission_pages(**page_args), archive)
    return Transmission(pages=ArchivedPages(archive), archive=archive)
