"""Document imaging: PDFs to fax pages, the secrecy cover sheet, the page header.

Everything that becomes a fax page goes through PDFium (`render`): the documents, and
the cover sheet and header, which faxd composes as small PDFs with reportlab's built-in
Helvetica. One renderer and one font path means no system fonts, and å, ä, ö come out
the same on every page.
"""

from faxd.imaging.cover import CoverInfo, CoverLabels, CoverTemplate, cover_sheet, cover_sheet_pdf
from faxd.imaging.header import HeaderInfo, header_pdf, header_rows, header_text, stamp_header
from faxd.imaging.isolate import render_pdf_isolated
from faxd.imaging.limits import DocumentRenderError, RenderLimits
from faxd.imaging.output import write_pdf, write_png, write_tiff
from faxd.imaging.render import THRESHOLD, place, render_pdf

__all__ = [
    "THRESHOLD",
    "CoverInfo",
    "CoverLabels",
    "CoverTemplate",
    "DocumentRenderError",
    "HeaderInfo",
    "RenderLimits",
    "cover_sheet",
    "cover_sheet_pdf",
    "header_pdf",
    "header_rows",
    "header_text",
    "place",
    "render_pdf",
    "render_pdf_isolated",
    "stamp_header",
    "write_pdf",
    "write_png",
    "write_tiff",
]
