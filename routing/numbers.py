"""Swedish fax numbers: one canonical form, a display form, and the site's dialling rule.

Canonical form is the national number as digits with the trunk prefix: "0406280400".
It is what the directory stores, what the queue keeps and what is compared, so
"040-628 04 00", "040 6280400" and "+46 40 628 04 00" are one number.

The display form follows the Swedish convention (area code, hyphen, groups from the
right): "040-628 04 00", "08-465 004 00". Area codes are 2 digits (08), 3 digits
(the list below) or 4 digits (all others) including the 0.

Only Swedish numbers are accepted: every unit of the backup routine is in Skåne, and
a foreign number in the fax list is far more likely a typing error than a real unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# Three-digit area codes (with the trunk 0), PTS numbering plan; 08 is the only two-digit one.
_THREE_DIGIT_AREAS = frozenset(
    {
        "010", "011", "013", "016", "018", "019", "020", "021", "023", "026", "031", "033", "035", "036",
        "040", "042", "044", "046", "054", "060", "063", "070", "071", "072", "073", "074", "075", "076",
        "077", "078", "079", "090",
    }
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-./()\u2010-\u2015\u00a0]")
MIN_DIGITS = 8  # trunk 0 + at least 7 digits (national significant number 7-9 digits)
MAX_DIGITS = 10


def normalise_number(text: str) -> str:
    """The canonical national digits of a Swedish phone number ("0406280400").

    Accepts spaces, hyphens, dots, slashes and parentheses between digits, an
    international prefix "+46" or "0046", and the "(0)" some write after it.

    Raises ValueError with the reason, for a person, when the text is not a usable
    Swedish number.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("the number is empty")
    compact = raw.replace("(0)", "")
    compact = _SEPARATORS.sub("", compact)
    if compact.startswith("+"):
        if not compact.startswith("+46"):
            raise ValueError(f"{raw!r} is not a Swedish number (+46); only Swedish numbers are accepted")
        compact = "0" + compact[3:]
    elif compact.startswith("0046"):
        compact = "0" + compact[4:]
    elif compact.startswith("00"):
        raise ValueError(f"{raw!r} is not a Swedish number (it dials abroad); only Swedish numbers are accepted")
    if not compact.isascii() or not compact.isdigit():
        bad = sorted({c for c in compact if not (c.isascii() and c.isdigit())})
        raise ValueError(f"{raw!r} contains characters that are not digits: {' '.join(bad)}")
    if compact.startswith("00"):
        raise ValueError(f"{raw!r} has a 0 too many after the country code")
    if not compact.startswith("0"):
        raise ValueError(f"{raw!r} has no area code (a Swedish number starts with 0, or +46)")
    if not MIN_DIGITS <= len(compact) <= MAX_DIGITS:
        raise ValueError(
            f"{raw!r} has {len(compact)} digits; a Swedish number with area code has {MIN_DIGITS}-{MAX_DIGITS}"
        )
    return compact


def _split(digits: str) -> tuple[str, str]:
    """(area code with 0, subscriber number) of canonical digits."""
    if digits.startswith("08"):
        cut = 2
    elif digits[:3] in _THREE_DIGIT_AREAS:
        cut = 3
    else:
        cut = 4
    return digits[:cut], digits[cut:]


def _group(subscriber: str) -> str:
    """Swedish grouping of a subscriber number: 123 45, 12 34 56, 628 04 00, 465 004 00."""
    sizes = {5: (3, 2), 6: (2, 2, 2), 7: (3, 2, 2), 8: (3, 3, 2)}.get(len(subscriber), (len(subscriber),))
    groups, start = [], 0
    for size in sizes:
        groups.append(subscriber[start : start + size])
        start += size
    return " ".join(groups)


def display_number(digits: str) -> str:
    """Canonical digits as a person writes them: "040-628 04 00". Raises ValueError."""
    canonical = normalise_number(digits)
    area, subscriber = _split(canonical)
    return f"{area}-{_group(subscriber)}"


def international_number(digits: str) -> str:
    """Canonical digits in international form: "+46 40 628 04 00". Raises ValueError."""
    canonical = normalise_number(digits)
    area, subscriber = _split(canonical)
    return f"+46 {area[1:]} {_group(subscriber)}"


class _HasFax(Protocol):
    @property
    def fax(self) -> str: ...


_DIAL_CHARACTERS = re.compile(r"[0-9*#,W@!]*")


@dataclass(frozen=True, slots=True)
class DialRule:
    """How this site dials out: an outside-line prefix and what follows it.

    ``outside_line_prefix`` is what the PBX wants before an external number ("0",
    "9" or nothing); ``pause_after_prefix`` is the modem dial modifier between them,
    usually "," (a pause of the modem's S8 seconds) or "W" (wait for dial tone), or
    nothing. With no prefix no pause is dialled.

    Raises ValueError on construction if either holds a character a modem dial string
    cannot carry.
    """

    outside_line_prefix: str = ""
    pause_after_prefix: str = ""

    def __post_init__(self) -> None:
        for name in ("outside_line_prefix", "pause_after_prefix"):
            value = getattr(self, name)
            if not _DIAL_CHARACTERS.fullmatch(value):
                raise ValueError(f"{name} {value!r} may hold only digits, * # and the dial modifiers , W @ !")


def dial_string(unit_or_digits: _HasFax | str, rule: DialRule = DialRule()) -> str:
    """What the modem dials (after ATD) for a unit or a number under the site's rule.

    Returns e.g. "0,0406280400" for prefix "0" and pause ",". Raises ValueError when
    given text that is not a usable Swedish number.
    """
    raw = unit_or_digits if isinstance(unit_or_digits, str) else unit_or_digits.fax
    digits = normalise_number(raw)
    if not rule.outside_line_prefix:
        return digits
    return f"{rule.outside_line_prefix}{rule.pause_after_prefix}{digits}"
