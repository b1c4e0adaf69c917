"""Document imaging: PDFs to fax pages, the secrecy cover sheet, the page header.

Everything that becomes a fax page goes through PDFium (`render`): the documents, and
the cover sheet and header, which faxd composes as small PDFs with reportlab's built-in
Helvetica. One renderer and one font path means no system fonts, and å, ä, ö come out
the same on every page.

Names are imported on first use (PEP 562): the render child imports this package and
needs only PDFium and numpy, not reportlab for the cover sheet, and it starts once per
document.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "ArchivedPages": "archive",
    "prune_archive": "archive",
    "CoverInfo": "cover",
    "CoverLabels": "cover",
    "CoverTemplate": "cover",
    "cover_sheet": "cover",
    "cover_sheet_pdf": "cover",
    "HeaderInfo": "header",
    "header_pdf": "header",
    "header_rows": "header",
    "header_text": "header",
    "stamp_header": "header",
    "render_pdf_isolated": "isolate",
    "RenderWorker": "worker",
    "DocumentRenderError": "limits",
    "RenderLimits": "limits",
    "write_pdf": "output",
    "write_png": "output",
    "write_tiff": "output",
    "write_tiff_streaming": "output",
    "THRESHOLD": "render",
    "place": "render",
    "render_pdf": "render",
}

if TYPE_CHECKING:
    from imaging.archive import ArchivedPages, prune_archive
    from imaging.cover import CoverInfo, CoverLabels, CoverTemplate, cover_sheet, cover_sheet_pdf
    from imaging.header import HeaderInfo, header_pdf, header_rows, header_text, stamp_header
    from imaging.isolate import render_pdf_isolated
    from imaging.limits import DocumentRenderError, RenderLimits
    from imaging.output import write_pdf, write_png, write_tiff, write_tiff_streaming
    from imaging.render import THRESHOLD, place, render_pdf
    from imaging.worker import RenderWorker


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once imported, a plain module attribute
    return value


__all__ = [
    "THRESHOLD",
    "ArchivedPages",
    "CoverInfo",
    "CoverLabels",
    "CoverTemplate",
    "DocumentRenderError",
    "HeaderInfo",
    "RenderLimits",
    "RenderWorker",
    "cover_sheet",
    "cover_sheet_pdf",
    "header_pdf",
    "header_rows",
    "header_text",
    "place",
    "prune_archive",
    "render_pdf",
    "render_pdf_isolated",
    "stamp_header",
    "write_pdf",
    "write_png",
    "write_tiff",
    "write_tiff_streaming",
]
