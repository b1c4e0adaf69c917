"""Why PDFium would not open a document, in words.

PDFium's load error code is not reliable: it is left over from the last failed load
when PDFium refuses without setting one (an empty page tree is refused that way), so a
file with no pages can be reported as "password". When PDFium refuses, pypdf looks at
the file to tell "no pages" and "encrypted" apart from damage. pypdf is pure Python: a
hostile file can make it slow or fail, not crash; and the spool has already parsed the
same file with it at intake.

pypdf is imported only when PDFium has refused a file: it is 60 ms of the render
child's start-up, paid for every document, and needed for almost none.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

ENCRYPTED = "the PDF is encrypted with a password; send it unencrypted"
NO_PAGES = "the document has no pages"
DAMAGED = "the file is not a PDF or is damaged beyond repair"


def refusal_reason(source: Path | bytes) -> str:
    """Return why a document PDFium refused cannot be rendered."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf reports recoverable damage through the logging module; we judge by exceptions.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
        if reader.is_encrypted:
            # PDFium opens a PDF whose user password is empty; so this one needs a password,
            # or a security handler PDFium does not have. Either way the sender must resend.
            return ENCRYPTED
        if len(reader.pages) == 0:
            return NO_PAGES
    except OSError as exc:
        return f"the file could not be read: {exc.strerror or exc}"
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        # pypdf signals damage through several exception types; all mean "cannot read it".
        return DAMAGED
    return DAMAGED
