"""The nine message types of the backup routine, and recognising them from a form's title.

Each type has a stable ``code`` (used in ``FaxdType``, the queue and the confirmation
log; never change one), the Swedish name the routine and the region's forms use, and
its row ``number`` (1-9) in the routine's table (``shared/domain``).

``detect_type`` is the fallback for a document without ``FaxdType``: the region's
forms carry the type's Swedish name in the title on page one. It works on the text
of page one only, is pure, and answers ``None`` rather than guess. Recipients are
never taken from the text: only the type (and the kartläggning part) is.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class MessageType(enum.Enum):
    """A message type of the routine; the value is the stable code."""

    CHECKLISTA_BESLUTSSTOD = "checklista-beslutsstod"
    AKUTBLAD = "akutblad"
    INSKRIVNINGSINFORMATION = "inskrivningsinformation"
    KARTLAGGNING = "kartlaggning"
    STALLNINGSTAGANDE = "stallningstagande"
    KALLELSE_SIP_SLUTENVARD = "kallelse-sip-slutenvard"
    KALLELSE_SIP_OPPENVARD = "kallelse-sip-oppenvard"
    SIP = "sip"
    ANDRAD_UTSKRIVNING = "andrad-utskrivning"

    @property
    def code(self) -> str:
        """The stable code, as in ``FaxdType``."""
        return self.value

    @property
    def swedish_name(self) -> str:
        """The type's name as the routine and the forms write it."""
        return _SWEDISH_NAMES[self]

    @property
    def number(self) -> int:
        """The type's row in the routine's table, 1-9."""
        return _NUMBERS[self]

    @classmethod
    def from_code(cls, text: str) -> MessageType | None:
        """The type whose code or Swedish name is ``text`` (any case), or None."""
        wanted = _fold(text)
        for message_type in cls:
            if wanted in (message_type.code, _fold(message_type.swedish_name)):
                return message_type
        return None


_SWEDISH_NAMES: dict[MessageType, str] = {
    MessageType.CHECKLISTA_BESLUTSSTOD: "Checklista beslutsstöd",
    MessageType.AKUTBLAD: "Akutblad för manuell hantering",
    MessageType.INSKRIVNINGSINFORMATION: "Inskrivningsinformation",
    MessageType.KARTLAGGNING: "Kartläggning",
    MessageType.STALLNINGSTAGANDE: "Ställningstagande inför utskrivning",
    MessageType.KALLELSE_SIP_SLUTENVARD: "Kallelse till SIP, patient inskriven i slutenvård",
    MessageType.KALLELSE_SIP_OPPENVARD: "Kallelse till SIP, öppenvård",
    MessageType.SIP: "Samordnad individuell plan - SIP",
    MessageType.ANDRAD_UTSKRIVNING: ("Underrätta om förändrad beräknad tid för utskrivning och Utskrivningsklar"),
}
_NUMBERS: dict[MessageType, int] = {t: n for n, t in enumerate(MessageType, start=1)}


class KartlaggningPart(enum.Enum):
    """The two parts of type 4; the value is the stable code used in ``FaxdPart``."""

    AKTUELLT_TILLSTAND = "aktuellt-tillstand"  # filled in by inpatient care
    BAKGRUND = "bakgrund"  # filled in by the municipality / outpatient care

    @property
    def code(self) -> str:
        """The stable code, as in ``FaxdPart``."""
        return self.value

    @property
    def swedish_name(self) -> str:
        """The part's name as the form writes it."""
        return "Aktuellt tillstånd" if self is KartlaggningPart.AKTUELLT_TILLSTAND else "Bakgrund"

    @classmethod
    def from_code(cls, text: str) -> KartlaggningPart | None:
        """The part whose code or Swedish name is ``text`` (any case), or None."""
        wanted = _fold(text).replace(" ", "-")
        for part in cls:
            if wanted in (part.code, _fold(part.swedish_name).replace(" ", "-")):
                return part
        return None


def _fold(text: str) -> str:
    """Lower case, without diacritics (å -> a, ö -> o), whitespace collapsed to one space.

    Text extracted from a PDF or scanned by OCR often loses the ring and the dots, and
    breaks a title over lines; both spellings must be recognised alike.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"-\s*\n\s*", "", plain)  # a word hyphenated at a line break
    return " ".join(plain.casefold().split())


_SIP = r"(?:sip|samordnad individuell plan)"
# One pattern per type, over folded text. A title that names a type more narrowly
# must not also be read as a wider one: "Kallelse till samordnad individuell plan" is
# an invitation (6 or 7), not the plan itself (8); see _names_an_invitation.
_INVITATION_REACH = 30  # characters before "samordnad individuell plan" searched for "kallelse"
_TITLE_PATTERNS: tuple[tuple[MessageType, re.Pattern[str]], ...] = (
    (MessageType.CHECKLISTA_BESLUTSSTOD, re.compile(r"\bchecklista\W{0,3}beslutsstod")),
    (MessageType.AKUTBLAD, re.compile(r"\bakutblad")),
    (MessageType.INSKRIVNINGSINFORMATION, re.compile(r"\binskrivnings(?:information|meddelande)")),
    (MessageType.KARTLAGGNING, re.compile(r"\bkartlaggning")),
    (MessageType.STALLNINGSTAGANDE, re.compile(r"\bstallningstagande")),
    (
        MessageType.KALLELSE_SIP_SLUTENVARD,
        re.compile(r"\bkallelse till " + _SIP + r"\b.{0,40}?\binskriven i slutenvard\b"),
    ),
    (MessageType.KALLELSE_SIP_OPPENVARD, re.compile(r"\bkallelse till " + _SIP + r"\b.{0,40}?\boppenvard\b")),
    (MessageType.SIP, re.compile(r"\bsamordnad individuell plan\b")),
    (
        MessageType.ANDRAD_UTSKRIVNING,
        re.compile(r"\b(?:forandrad|andrad) beraknad tid for utskrivning|\butskrivningsklar\b"),
    ),
)
_PART_PATTERNS: tuple[tuple[KartlaggningPart, re.Pattern[str]], ...] = (
    (KartlaggningPart.AKTUELLT_TILLSTAND, re.compile(r"\baktuellt tillstand\b")),
    (KartlaggningPart.BAKGRUND, re.compile(r"\bbakgrund\b")),
)


def _names_an_invitation(message_type: MessageType, folded: str, found: re.Match[str]) -> bool:
    """True if a match for the plan (8) is part of an invitation's title ("Kallelse till SIP -
    samordnad individuell plan"): an invitation is type 6 or 7, never the plan itself."""
    return (
        message_type is MessageType.SIP
        and "kallelse" in folded[max(0, found.start() - _INVITATION_REACH) : found.start()]
    )


def detect_type(page_one_text: str) -> MessageType | None:
    """The message type whose Swedish name comes first in the text of page one.

    The title is the first thing on a form, so the earliest match wins; a later
    mention (a form that refers to another form in its body) does not count. Of two
    matches starting at the same place, the shorter one wins: "Kallelse till SIP,
    patient inskriven i slutenvård" followed by "Ansvarig öppenvård" is type 6.

    Returns None when no type's name is found. Never raises.
    """
    folded = _fold(page_one_text)
    best: tuple[int, int, MessageType] | None = None
    for message_type, pattern in _TITLE_PATTERNS:
        found = next((m for m in pattern.finditer(folded) if not _names_an_invitation(message_type, folded, m)), None)
        if found is None:
            continue
        key = (found.start(), found.end() - found.start(), message_type)
        if best is None or key[:2] < best[:2]:
            best = key
    return None if best is None else best[2]


def detect_part(page_one_text: str) -> KartlaggningPart | None:
    """The kartläggning part named after the word "Kartläggning" on page one, or None.

    Returns None when the text names no part, or names no kartläggning at all.
    """
    folded = _fold(page_one_text)
    title = re.search(r"\bkartlaggning\b", folded)
    if title is None:
        return None
    rest = folded[title.end() :]
    best: tuple[int, KartlaggningPart] | None = None
    for part, pattern in _PART_PATTERNS:
        found = pattern.search(rest)
        if found is not None and (best is None or found.start() < best[0]):
            best = (found.start(), part)
    return None if best is None else best[1]
