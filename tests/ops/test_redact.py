"""Redaction: no Swedish identity number and no document metadata leaves the process."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import PurePosixPath

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from faxd import events
from faxd.logs import configure
from faxd.redact import (
    MASK,
    allow_numbers,
    contains_identity_number,
    redact_event,
    redact_filename,
    redact_metadata,
    redact_text,
)


def luhn_digit(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    """A personnummer or samordningsnummer as people write it: 10 or 12 digits, with or
    without a separator, with a correct check digit or any digit."""
    born = draw(st.dates(min_value=date(1890, 1, 1), max_value=date(2026, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)  # samordningsnummer: day + 60
    serial = f"{draw(st.integers(0, 999)):03d}"
    short = f"{born.year % 100:02d}{born.month:02d}{day:02d}"
    check = luhn_digit(short + serial) if draw(st.booleans()) else draw(st.integers(0, 9))
    century = f"{born.year // 100:02d}" if draw(st.booleans()) else ""
    separator = draw(st.sampled_from(["", "-", "+", " "]))
    return f"{century}{short}{separator}{serial}{check}"


surrounding = st.text(max_size=20)
# A number glued to further digits after its four-digit serial is not an identity
# number's shape (and our job references FX-YYYYMMDD-NNNNN must pass): the text after
# the number does not begin with a digit.
following = surrounding.filter(lambda t: not t[:1].isdigit())


def bare(number: str) -> str:
    return re.sub(r"\D", "", number)


@given(identity_numbers(), surrounding, following)
def test_no_identity_number_passes_redact_text(number: str, before: str, after: str) -> None:
    """An identity number anywhere in a text, in any written form, is masked."""
    out = redact_text(before + number + after)
    assert number not in out
    assert bare(number) not in out
    assert MASK in out


@given(identity_numbers(), st.text(min_size=1, max_size=10), surrounding)
def test_no_identity_number_passes_the_processor(number: str, key: str, before: str) -> None:
    """The structlog processor masks identity numbers in values, nested values and keys."""
    event = {
        "event": f"job.failed {number}",
        key: before + number,
        "nested": {"list": [number, (number,)], number: 1},
        "as_int": int(bare(number)),
        "exception": f"Traceback ...\nValueError: bad value {number!r}",
    }
    out = json.dumps(redact_event(None, "info", event), ensure_ascii=False)
    assert number not in out
    assert bare(number) not in out


@given(identity_numbers())
def test_number_keys_let_only_directory_numbers_through(number: str) -> None:
    """Under ``number`` only the directory's own numbers are let through."""
    allow_numbers({"0406280400"})
    try:
        assert redact_event(None, "info", {"number": "0406280400"})["number"] == "0406280400"
        assert redact_event(None, "info", {"number": number})["number"] == MASK
        assert redact_event(None, "info", {"other": "0406280400"})["other"] == MASK
    finally:
        allow_numbers(())


def test_text_without_identity_numbers_is_unchanged() -> None:
    """Ids, dates, timestamps, counts and formatted fax numbers are left alone."""
    for text in [
        "job 42 of document 2026-12-02-0001",
        "2026-12-02T17:42:30Z",
        "040-628 04 00",
        "pages=12 bytes=5242880",
        "kommun-lund",
        "INSK-2026-0117",
    ]:
        assert redact_text(text) == text
        assert not contains_identity_number(text)


def test_metadata_keeps_only_contract_fields() -> None:
    """Title, author and every other free-text metadata value is withheld; Faxd* fields stay."""
    meta = {
        "/Title": "Anna Andersson inskrivning",
        "/Author": "dr X",
        "/FaxdType": "akutblad",
        "/FaxdSender": "kommun-lund",
        "/FaxdReference": "REF 19121212-1212",
    }
    out = redact_metadata(meta)
    assert out["/Title"] == MASK and out["/Author"] == MASK
    assert out["/FaxdType"] == "akutblad" and out["/FaxdSender"] == "kommun-lund"
    assert out["/FaxdReference"] == f"REF {MASK}"
    event = redact_event(None, "info", {"title": "Anna Andersson", "metadata": meta})
    assert event["title"] == MASK and "Anna" not in json.dumps(event)


def test_file_names_become_stable_pseudonyms() -> None:
    """A file name is replaced by a keyed hash with its suffix; the same name, the same pseudonym."""
    one = redact_filename("Anna_Andersson_19121212-1212.pdf")
    assert re.fullmatch(r"file-[0-9a-f]{8}\.pdf", one)
    assert redact_filename(PurePosixPath("/spool/incoming/Anna_Andersson_19121212-1212.pdf")) == one
    assert redact_filename("other.pdf") != one
    assert redact_event(None, "info", {"filename": "Anna.pdf"})["filename"] == redact_filename("Anna.pdf")


@pytest.fixture
def configured_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
    yield stream
    structlog.reset_defaults()


def test_the_configured_chain_redacts_before_output_and_subscribers(configured_log: io.StringIO) -> None:
    """The daemon's own chain: the rendered line and every subscriber see only redacted values."""
    seen: list[dict[str, object]] = []

    def subscriber(event: Mapping[str, object]) -> None:
        seen.append(dict(event))

    events.subscribe(subscriber)
    try:
        structlog.get_logger("t").error(
            "document.quarantined", reason="name 19121212-1212 in title", title="Anna Andersson"
        )
    finally:
        events.unsubscribe(subscriber)
    line = json.loads(configured_log.getvalue())
    assert line["reason"] == f"name {MASK} in title" and line["title"] == MASK
    assert seen and seen[0]["event"] == "document.quarantined" and seen[0]["reason"] == line["reason"]
    assert seen[0]["level"] == "error"
