"""Redaction: what leaves the process carries no patient identity.

Everything that leaves faxd (the journal, SNMP, metrics, ``faxctl status``, reasons
written beside quarantined files) goes through this module. Two rules:

1. **Swedish identity numbers are masked wherever they appear.** A personnummer
   (YYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD+NNNN for the over-hundreds) and a
   samordningsnummer (the same with the day plus 60) are recognised by *shape*, not by
   a valid date or check digit: a mistyped number identifies a patient as well as a
   correct one. Concretely, masked are

   * any run of ten or more digits (10 and 12 digits without separator, and a number
     glued to other digits), and
   * six or more digits, one separator (``-``, ``+``, a space or any other dash or
     blank) and exactly four digits (10 and 12 digits with a separator).

   Exactly four: our own job references (``FX-20261202-00017``, five digits or more
   after the date) are not identity numbers and must stay readable. Document ids
   (``D20261202T180634-3fa2b1``) are let through whole by their exact shape, since their
   random hex part can begin with four digits.

   The price is that a ten-digit byte count or a fax number written as bare digits is
   masked too; fax numbers from the fax directory under the keys in ``NUMBER_KEYS``
   are let through by ``allow_numbers`` (the daemon hands over the directory's dial
   strings), since they are the units' own numbers, never a patient's.

2. **Document metadata other than the contract's ids never leaves.** A PDF's title,
   author, subject or keywords, and a file's name, are the sender's free text and may
   name the patient. ``redact_metadata`` keeps only the ``Faxd*`` contract fields;
   ``redact_filename`` turns a file name into a pseudonym stable within one process
   (a keyed hash, so it cannot be looked up in a list of names), keeping the suffix.

``redact_text`` and ``redact_value`` are the plain functions; ``redact_event`` is the
structlog processor (``faxd/logs.py`` puts it before every renderer and subscriber).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import PurePath
from typing import Any

MASK = "[redacted]"

# Dashes and blanks a person or a word processor may put between date and serial.
_SEPARATOR = r"[-+\s\u00a0\u2010-\u2015\u2212\u2007\u202f]"
# \d is Unicode-aware: full-width and other scripts' digits are masked as well.
_IDENTITY_NUMBER = re.compile(rf"\d{{6,}}{_SEPARATOR}\d{{4}}(?!\d)|\d{{10,}}")
# Our document ids, matched first and kept (spool/queue.py new_document_id).
_DOCUMENT_ID = r"D\d{8}T\d{6}-[0-9a-f]{6}(?![0-9A-Za-z])"
_SCAN = re.compile(rf"(?P<keep>{_DOCUMENT_ID})|(?P<mask>{_IDENTITY_NUMBER.pattern})")

# Keys whose whole value is document metadata or a file name: never shown.
METADATA_KEYS = frozenset(
    {"title", "author", "subject", "keywords", "creator", "producer", "metadata", "meta", "form_text"}
)
FILENAME_KEYS = frozenset({"filename", "file_name", "original_name"})
# Keys that may hold a fax number from the directory (let through when allowed).
NUMBER_KEYS = frozenset({"number", "dialed", "previous_number"})

# The document contract's fields (routing/metadata.py FIELD_KEYS); they hold codes,
# unit ids, a date and the sender's reference, all checked not to be identity numbers.
CONTRACT_KEYS = frozenset(
    {
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
    }
)

_PSEUDONYM_KEY = secrets.token_bytes(32)  # per process: pseudonyms cannot be precomputed
_allowed_lock = threading.Lock()
_allowed_numbers: frozenset[str] = frozenset()


def allow_numbers(numbers: Iterable[str]) -> None:
    """Let these exact values through under ``NUMBER_KEYS`` (the fax directory's numbers)."""
    global _allowed_numbers
    with _allowed_lock:
        _allowed_numbers = frozenset(numbers)


def contains_identity_number(text: str) -> bool:
    """True if ``text`` has anything shaped like a personnummer or samordningsnummer."""
    return any(m.group("mask") for m in _SCAN.finditer(text))


def redact_text(text: str) -> str:
    """``text`` with every identity-number-shaped run replaced by ``MASK``."""
    return _SCAN.sub(lambda m: m.group("keep") or MASK, text)


def redact_filename(name: str | PurePath) -> str:
    """A pseudonym for a file name: ``file-<8 hex>.pdf``, the same name giving the same
    pseudonym within this process, so log lines about one file can be followed."""
    path = PurePath(name)
    digest = hmac.new(_PSEUDONYM_KEY, path.name.encode("utf-8", "surrogateescape"), hashlib.sha256)
    suffix = redact_text(path.suffix) if len(path.suffix) <= 6 else ""
    return f"file-{digest.hexdigest()[:8]}{suffix}"


def redact_metadata(fields: Mapping[str, object]) -> dict[str, object]:
    """Only the contract's ``Faxd*`` fields (identity numbers masked), every other key's
    value replaced by ``MASK``: the keys stay, so "it had a title" can still be seen."""
    kept: dict[str, object] = {}
    for raw_key, value in fields.items():
        key = str(raw_key)
        kept[redact_text(key)] = redact_value(value) if key.removeprefix("/") in CONTRACT_KEYS else MASK
    return kept


def redact_value(value: object) -> Any:
    """``value`` with identity numbers masked in every string inside it (lists, tuples,
    sets and mappings are walked; other objects are masked in their ``str``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return MASK if contains_identity_number(repr(value)) else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {redact_text(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    if isinstance(value, PurePath):
        return redact_text(str(value))
    return redact_text(str(value))


def redact_field(key: str, value: object) -> Any:
    """One event field, by its key: metadata and file names hidden, numbers masked."""
    if key in METADATA_KEYS:
        return redact_metadata(value) if isinstance(value, Mapping) else MASK
    if key in FILENAME_KEYS and isinstance(value, str | PurePath):
        return redact_filename(value)
    if key in NUMBER_KEYS and isinstance(value, str) and value in _allowed_numbers:
        return value
    return redact_value(value)


def redact_event(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: every field of the event redacted (see the module's rules).

    Place it after ``format_exc_info`` so tracebacks are masked as well.
    """
    for key in list(event_dict):
        clean_key = redact_text(key)
        value = redact_field(key, event_dict.pop(key))
        event_dict[clean_key] = value
    return event_dict


def redact_tree(value: object) -> Any:
    """Like ``redact_value``, but each mapping's fields by their key (``redact_field``), so
    a record such as a job row keeps the directory's own number under ``number``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = str(raw_key)
            special = key in METADATA_KEYS or key in FILENAME_KEYS or key in NUMBER_KEYS
            nested = isinstance(item, Mapping | list | tuple)
            out[redact_text(key)] = redact_tree(item) if nested and not special else redact_field(key, item)
        return out
    if isinstance(value, list | tuple):
        return [redact_tree(item) for item in value]
    return redact_value(value)
