"""Generated personnummer and samordningsnummer, in every spelling, and patients' names, put
where a care system might put them (the file name, the PDF title, sidecar values and keys,
damaged bytes, the page): none reaches the log events (the journal's source), SNMP
notifications, a .reason file, the database, faxctl's output, SNMP objects or metrics."""

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
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from faxd import cli
from faxd.health import snapshot
from faxd.metrics import HealthCollector
from faxd.snmp_mib import notification, objects
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


# Names no word of ours contains (checked against the code, the directory and the output).
FIRST_NAMES = ("Ingegerd", "Ragnhild", "Hjördis", "Torgny", "Solbritt", "Yngvild", "Gunnborg", "Tolvan")
LAST_NAMES = ("Bergqvist", "Sjöholm", "Åkerlund", "Wahlgren", "Nyqvist", "Lindkvist", "Tolvansson")
# Where a name goes: a file name, /Info text, each routing field (as free text, or shaped
# like a unit id so it passes the form check and fails only against the directory), a
# sidecar key, damaged bytes, and the page itself. FaxdReference when too long (refused); a
# valid reference is the sender's own and is shown by design.
NAME_PLACES = (
    "name", "title", "author", "subject", "page", "damaged", "key", "faxd_key",
    "FaxdSender", "FaxdMunicipality", "FaxdOutpatient", "FaxdWard", "FaxdAlso", "FaxdParticipants",
    "FaxdType", "FaxdPart", "FaxdEventDate", "FaxdReference",
)  # fmt: skip


@st.composite
def named_cases(draw: st.DrawFn) -> dict[str, object]:
    first, last = draw(st.sampled_from(FIRST_NAMES)), draw(st.sampled_from(LAST_NAMES))
    number = draw(st.one_of(st.just(""), identity_numbers()))
    spelling = draw(st.sampled_from(["text", "slug"]))
    value = f"{first} {last} {number}".strip() if spelling == "text" else f"{first}-{last}".lower()
    return {"first": first, "last": last, "number": number, "value": value}


def _drop_named(spool: Spool, case: dict[str, object], where: str, index: int) -> Path:
    value = str(case["value"])
    name = f"{value} inskrivning.pdf" if where == "name" else f"named-{index}.pdf"
    info_extra = b""
    if where in ("title", "author", "subject"):
        info_extra = b" /" + where.capitalize().encode() + b" " + pb.text(value)
    info = pb.routing_info()[:-2] + info_extra + b" >>"
    content = b"BT /F1 12 Tf 72 770 Td (Inskrivningsinformation) Tj 0 -20 Td " + pb.text(value) + b" Tj ET"
    data = pb.simple(info=info, content=content if where == "page" else pb.simple.__kwdefaults__["content"])
    if where == "damaged":
        data = b"%PDF-1.4\n1 0 obj << /Title " + pb.text(value) + b" >> \x00\xff garbage"
    sidecar: dict[str, object] = {}
    if where.startswith("Faxd"):
        sidecar[where] = value + " " + "x" * 64 if where == "FaxdReference" else value
    if where == "key":
        sidecar[value] = "x"
    if where == "faxd_key":
        sidecar["Faxd" + str(case["first"]) + str(case["last"])] = "x"
    incoming = spool.folders.incoming
    if sidecar:
        (incoming / (name + ".json")).write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    (incoming / name).write_bytes(data)
    return incoming / name


def _faxctl(spool: Spool, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--config", str(spool.config.source), *args]) == 0
    return out.getvalue()


@pytest.mark.parametrize("where", NAME_PLACES)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=named_cases())
def test_no_name_leaves_the_intake(spool: Spool, where: str, case: dict[str, object]) -> None:
    """A patient's name (with or without an identity number) in a file name, /Info, a routing
    field, a sidecar key, damaged bytes or the page: every reason is in our words and the
    contract's ids, so the name is in no log event, SNMP notification, reason, .reason file,
    database row, faxctl output (status, status --json, log --json), SNMP object or metric."""
    path = _drop_named(spool, case, where, next(COUNTER))
    with capture_logs() as logs:
        result = spool.intake.take(path)
    assert result is not None
    seen = [json.dumps(logs, default=str, ensure_ascii=False)]
    for event in logs:
        trap = notification(event)
        if trap is not None:
            seen.append(repr([bytes(v) if hasattr(v, "asOctets") else v for _, v in trap.varbinds]))
    if result.quarantine_reason is not None:
        seen.append(result.quarantine_reason)
        seen.append((spool.folders.quarantine / f"{result.document_id}.pdf.reason").read_text())
    seen.extend(os.listdir(spool.folders.quarantine))
    with sqlite3.connect(spool.config.database) as db:
        rows = db.execute("SELECT original_name, reason FROM documents WHERE id = ?", (result.document_id,)).fetchall()
        audit = db.execute("SELECT data FROM audit WHERE document_id = ?", (result.document_id,)).fetchall()
    seen.append(repr(rows) + repr(audit))
    seen += [_faxctl(spool, "status"), _faxctl(spool, "status", "--json"), _faxctl(spool, "log", "--json")]
    health = snapshot(spool.store, modem_names=("m0",))
    seen.append(repr([value.prettyPrint() for _, value in objects(health)]))
    registry = CollectorRegistry()
    registry.register(HealthCollector(lambda: health))
    seen.append(generate_latest(registry).decode())
    text = "\n".join(seen).lower()
    needles = [str(case["first"]).lower(), str(case["last"]).lower()]
    if case["number"]:
        needles += [str(case["number"]), _digits(str(case["number"]))]
    leaked = [n for n in needles if n in text]
    assert not leaked, (where, case, leaked)
