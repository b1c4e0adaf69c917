"""Document imaging: PDFs to fax pages, the secrecy cover sheet, the page header.

Everything that becomes a fax page goes through PDFium (`render`): the documents, and
the cover sheet and header, which faxd composes as small PDFs with reportlab's built-in
Helvetica. One renderer and one font path means no system fonts, and å, ä, ö come out
the same on every page.

The exported names are listed once, in ``__init__.pyi``: mypy reads that stub, and
``lazy_loader`` reads it to import each name on first use (PEP 562). The render child
imports this package and needs only PDFium and numpy, not reportlab for the cover sheet,
and it starts once per document.

A top-level package (not under ``faxd``) because it depends on nothing in the daemon:
numpy, PDFium, reportlab, ``drivers.page`` and the error root (see ARCHITECTURE.md).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
