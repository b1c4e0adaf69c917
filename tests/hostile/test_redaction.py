"""Generated personnummer and samordningsnummer, in every spelling, put where a care system
might put them (the file name, the PDF title, sidecar values and keys, damaged bytes):
none reaches the log events, a .reason file, the database or faxctl's output."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from faxd import cli
from tests.hostile import pdfbytes as pb
from tests.hostile.test_defects import Spool


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    """A personnummer or samordningsnummer (day + 60), in one of the ways people write them."""
    year = draw(st.integers(1900, 2025))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 60]))
    serial = draw(st.integers(0, 9999))
    date = f"{year:04d}{month:02d}{day:02d}"
    if draw(st.booleans()):
        date = date[2:]
    separator = draw(st.sampled_from(["", "-", "+", " ", "\u2010", "\u2013"]))
    return f"{date}{separator}{serial:04d}"


@st.composite
def placements(draw: st.DrawFn) -> dict[str, object]:
    number = draw(identity_numbers())
    where = draw(st.sampled_from(["name", "title", "reference", "sender", "key", "damaged", "author"]))
    return {"number": number, "where": where, "routable": draw(st.booleans())}


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


@pytest.fixture(scope="module")
def spool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spool]:
    site = Spool(tmp_path_factory.mktemp("redaction"))
    yield site
    site.intake.close()


def _drop(spool: Spool, case: dict[str, object], index: int) -> Path:
    number, where = str(case["number"]), case["where"]
    name = f"form-{index}.pdf" if where != "name" else f"Tolvan {number}.pdf"
    overrides: dict[str, str] = {}
    info_extra = b""
    if where == "title":
        info_extra = b" /Title " + pb.text(f"Tolvan Tolvansson {number}")
    if where == "author":
        info_extra = b" /Author " + pb.text(number)
    info = pb.routing_info(**overrides)[:-2] + info_extra + b" >>"
    data = pb.simple(info=info) if case["routable"] else pb.simple(info=info)[:-60]
    if where == "damaged":
        data = b"%PDF-1.4\n1 0 obj << /Title (" + number.encode() + b") >> \x00\xff garbage"
    sidecar: dict[str, object] = {}
    if where == "reference":
        sidecar["FaxdReference"] = number
    if where == "sender":
        sidecar["FaxdSender"] = number
    if where == "key":
        sidecar[number] = "x"
    incoming = spool.folders.incoming
    if sidecar:
        (incoming / (name + ".json")).write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    (incoming / name).write_bytes(data)
    return incoming / name


COUNTER = iter(range(10**6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=placements())
def test_no_identity_number_leaves_the_intake(spool: Spool, case: dict[str, object]) -> None:
    """The number, in its spelling or as bare digits, is in no log event, reason or output."""
    number = str(case["number"])
    digits = _digits(number)
    path = _drop(spool, case, next(COUNTER))
    with capture_logs() as logs:
        result = spool.intake.take(path)
    assert result is not None
    seen = [json.dumps(logs, default=str, ensure_ascii=False)]
    if result.quarantine_reason is not None:
        seen.append(result.quarantine_reason)
        seen.append((spool.folders.quarantine / f"{result.document_id}.pdf.reason").read_text())
    seen.extend(os.listdir(spool.folders.quarantine))
    with sqlite3.connect(spool.config.database) as db:
        rows = db.execute(
            "SELECT original_name, reason, reference FROM documents WHERE id = ?", (result.document_id,)
        ).fetchall()
        audit = db.execute("SELECT data FROM audit WHERE document_id = ?", (result.document_id,)).fetchall()
    seen.append(repr(rows) + repr(audit))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--config", str(spool.config.source), "status", "--json"]) == 0
    seen.append(out.getvalue())
    text = "\n".join(seen)
    assert number not in text and digits not in text, case
