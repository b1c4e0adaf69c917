"""Text for the standard-14 PDF fonts (Helvetica), which encode WinAnsi (cp1252) only.

Cover sheet and page header are drawn with reportlab's built-in Helvetica so that no
system font is needed: pdfium carries its own standard-14 fonts. WinAnsi covers
Swedish (å ä ö), the other Nordic and Western European letters, "§" and "—". Any
other character would print as a black box, so it is folded to its base letter
("Ł" has none and becomes "?"): a name stays readable rather than blotted.
"""

from __future__ import annotations

import unicodedata


def winansi(text: str) -> str:
    """Return ``text`` with every character a standard-14 font can draw; controls become spaces."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if unicodedata.category(char).startswith("C"):
            out.append(" ")
        elif _encodable(char):
            out.append(char)
        else:
            parts = unicodedata.normalize("NFKD", char)
            base = "".join(c for c in parts if _encodable(c) and not unicodedata.combining(c))
            out.append(base or "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True
