"""What a document says about its own routing: the ``Faxd*`` fields, read and checked.

The fields come from the PDF's document information (``/FaxdType`` ...) or a sidecar
``NAME.pdf.json``; the spool merges them and hands over a plain mapping. Reading them
here only checks their form (a known type code, unit ids that look like ids, an ISO
date); whether the units exist and may exchange this type is ``rules.route``'s job.

A mistyped key such as ``FaxdAslo`` is an error, not ignored: ignoring it would drop
a recipient the sender asked for without anyone noticing.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from routing.errors import MetadataError
from routing.message_types import KartlaggningPart, MessageType

FIELD_KEYS = (
    "FaxdType",
    "FaxdPart",
    "FaxdSender",
    "FaxdMunicipality",
    "FaxdOutpatient",
    "FaxdWard",
    "FaxdParticipants",
    "FaxdAlso",
    "FaxdEventDate",
    "FaxdReference",
)
_UNIT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A Swedish personal or coordination number (YYMMDD-NNNN, YYYYMMDDNNNN, ...).
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+\s\u00a0\u2010-\u2015\u2212\u2007\u202f]?\d{4}(?!\d)")
REFERENCE_MAX = 64


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """The routing fields of one document, in canonical form (codes, lower-case ids)."""

    message_type: str | None = None  # a MessageType code
    sender: str | None = None
    municipality: str | None = None  # the patient's municipality
    outpatient: str | None = None  # the patient's outpatient unit
    ward: str | None = None  # the inpatient ward
    participants: tuple[str, ...] = ()  # other participating units
    also: tuple[str, ...] = ()  # units the sender adds explicitly
    event_date: date | None = None  # the date the message is about (SIP date, discharge date)
    reference: str | None = None  # the sender's own reference; shown on the cover sheet
    part: str | None = None  # a KartlaggningPart code, for type 4

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> DocumentMeta:
        """Read the ``Faxd*`` fields (keys with or without a leading "/"; other keys ignored).

        ``FaxdParticipants`` and ``FaxdAlso`` may be a comma-separated string, a JSON
        list in a string, or a list. Empty values count as absent.

        Raises MetadataError naming the key, e.g. "FaxdEventDate '2026-13-01' is not an
        ISO date (YYYY-MM-DD)".
        """
        values: dict[str, object] = {}
        for raw_key, value in fields.items():
            key = raw_key.removeprefix("/")
            if not key.startswith("Faxd"):
                continue
            if key not in FIELD_KEYS:
                # The name itself is not quoted: a sidecar key can be anything, a name too.
                hint = nearest(key, FIELD_KEYS) if len(key) <= 30 else ""
                raise MetadataError(f"a Faxd* field is not a routing field{hint}; known: {', '.join(FIELD_KEYS)}")
            values[key] = value
        return cls(
            message_type=_message_type(values.get("FaxdType")),
            sender=_unit_id("FaxdSender", values.get("FaxdSender")),
            municipality=_unit_id("FaxdMunicipality", values.get("FaxdMunicipality")),
            outpatient=_unit_id("FaxdOutpatient", values.get("FaxdOutpatient")),
            ward=_unit_id("FaxdWard", values.get("FaxdWard")),
            participants=_unit_ids("FaxdParticipants", values.get("FaxdParticipants")),
            also=_unit_ids("FaxdAlso", values.get("FaxdAlso")),
            event_date=_event_date(values.get("FaxdEventDate")),
            reference=_reference(values.get("FaxdReference")),
            part=_part(values.get("FaxdPart")),
        )


def nearest(text: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" when one of ``known`` (our own codes or ids) is close to ``text``.

    Error messages go to the journal, ``.reason`` files and ``faxctl``; a value from a
    document may hold a patient's name or identity number, so it is never quoted. The
    suggestion is one of our own words, which is safe to show and still points at a typo.
    """
    if _PERSONAL_NUMBER.search(text):
        return ""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(text.strip().lower(), list(by_lower), n=1, cutoff=0.75)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def _id_problem(text: str) -> str:
    """What is wrong with a would-be unit id, in our words (the value itself is not shown)."""
    if _PERSONAL_NUMBER.search(text):
        return "it looks like a personal identity number, which routing data must never hold"
    if any(c.isspace() for c in text.strip()):
        return "it holds blanks"
    if any(not (c.isascii() and (c.isalnum() or c == "-")) for c in text.strip()):
        return "it holds characters other than a-z, digits and hyphens"
    return "a hyphen may only stand between letters or digits"


def _text(key: str, value: object) -> str | None:
    """The stripped text of a single-valued field, None when absent or empty."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MetadataError(f"{key} must be text, not {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _message_type(value: object) -> str | None:
    text = _text("FaxdType", value)
    if text is None:
        return None
    found = MessageType.from_code(text)
    if found is None:
        known = ", ".join(t.code for t in MessageType)
        hint = nearest(text, (t.code for t in MessageType))
        raise MetadataError(f"FaxdType is not a known message type{hint}; known: {known}")
    return found.code


def _part(value: object) -> str | None:
    text = _text("FaxdPart", value)
    if text is None:
        return None
    found = KartlaggningPart.from_code(text)
    if found is None:
        known = ", ".join(p.code for p in KartlaggningPart)
        hint = nearest(text, (p.code for p in KartlaggningPart))
        raise MetadataError(f"FaxdPart is not a part of the kartläggning{hint}; known: {known}")
    return found.code


def _unit_id(key: str, value: object) -> str | None:
    text = _text(key, value)
    if text is None:
        return None
    return _check_id(key, text)


def _check_id(key: str, text: str) -> str:
    unit_id = text.strip().lower()
    if not _UNIT_ID.fullmatch(unit_id) or _PERSONAL_NUMBER.search(unit_id):
        raise MetadataError(
            f"{key} is not a unit id (letters a-z, digits and hyphens, as in the fax directory): {_id_problem(text)}"
        )
    return unit_id


def _unit_ids(key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items: list[object]
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                decoded = json.loads(stripped)
            except json.JSONDecodeError:
                raise MetadataError(f"{key} starts with '[' but is not a JSON list of unit ids") from None
            if not isinstance(decoded, list):
                raise MetadataError(f"{key} must be a list of unit ids")
            items = decoded
        else:
            items = list(stripped.split(","))
    else:
        raise MetadataError(f"{key} must be unit ids separated by commas, or a list")
    ids: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise MetadataError(f"{key} must hold unit ids as text, not {type(item).__name__}")
        if not item.strip():
            continue
        unit_id = _check_id(key, item)
        if unit_id not in ids:  # the same unit named twice is one recipient
            ids.append(unit_id)
    return tuple(ids)


def _event_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    text = _text("FaxdEventDate", value)
    if text is None:
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        what = "a day in the calendar" if _ISO_DATE.fullmatch(text) else "an ISO date"
        raise MetadataError(f"FaxdEventDate is not {what} (YYYY-MM-DD)") from None


def _reference(value: object) -> str | None:
    text = _text("FaxdReference", value)
    if text is None:
        return None
    if len(text) > REFERENCE_MAX:
        raise MetadataError(f"FaxdReference is longer than {REFERENCE_MAX} characters")
    if _PERSONAL_NUMBER.search(text):
        # The reference is printed on the cover sheet, which anyone at the receiving
        # machine can read: it must never identify the patient (OSL 25:1).
        raise MetadataError(
            "FaxdReference looks like a personal identity number; the reference is printed on the "
            "cover sheet, which must not identify the patient"
        )
    return text
