"""The printable follow-up package: one PDF, our first page, then the cover sheet and
the pages as they went (or would have gone) on the line.

The pages come from the attempt's page archive when the job had a full attempt (the
cover sheet and every page exactly as faxed, header line included); otherwise they are
rendered now, in the render child, the way ``faxd.prepare`` renders them for a call. The
document itself is never parsed here: only PDFs we made (reportlab, Pillow) are joined,
with pypdf. The file is written under a temporary name and renamed into place, with
the mode the follow-up folder's access rule gives it (``faxd.access``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter

from drivers.page import FaxPage, Resolution

FILE_MODE = 0o640  # the daemon's user and the auditors' group; nobody else


def page_pdf(page: FaxPage) -> bytes:
    """One fax page as a one-page PDF at its printed size (CCITT G4 inside)."""
    pixels = page.pixels
    if page.resolution is Resolution.NORMAL:
        # A normal-resolution row prints twice as tall as a fine one.
        pixels = np.repeat(pixels, 2, axis=0)
    # Pillow's mode "1" is white where True; a fax page is black where True.
    image = Image.fromarray(~pixels)
    out = io.BytesIO()
    image.save(out, "PDF", dpi=Resolution.FINE.dpi)
    return out.getvalue()


def assemble(first_page: bytes, pages: Iterable[FaxPage], target: Path, *, mode: int = FILE_MODE) -> int:
    """Write ``first_page`` followed by ``pages`` to ``target`` atomically; returns the
    page count. Raises OSError (the folder cannot be written) and whatever the pages'
    source raises (imaging.DocumentRenderError) before anything is in place."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(first_page)))
    for page in pages:  # one page in memory at a time
        writer.append(PdfReader(io.BytesIO(page_pdf(page))))
    writer.add_metadata({"/Title": f"Uppföljning {target.stem}", "/Producer": "faxd follow-up"})
    temporary = target.with_name(f".{target.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer.write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)  # O_CREAT's mode is filtered by the umask
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(writer.pages)
