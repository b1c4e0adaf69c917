"""The journal: fields proven by a real systemd-journald and journalctl; the MESSAGE_ID table
in the README kept in step with the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from faxd.journal import MESSAGE_IDS, encode, journal_fields, message_id

ROOT = Path(__file__).resolve().parents[2]


def can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or not Path("/lib/systemd/systemd-journald").exists():
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not can_unshare(), reason="needs root, unshare -m and systemd-journald (a private journald)")
def test_real_journald_stores_our_fields() -> None:
    """Events sent by our chain to a real journald come back from journalctl by MESSAGE_ID,
    FAXD_JOB and FAXD_MODEM, with PRIORITY, SYSLOG_IDENTIFIER and no identity number."""
    result = subprocess.run(
        ["unshare", "-m", sys.executable, "-m", "tests.ops.journal_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    (entry,) = found["by_message_id"]
    assert entry["MESSAGE_ID"] == MESSAGE_IDS["job.failed"] == message_id("job.failed")
    assert (entry["PRIORITY"], entry["SYSLOG_IDENTIFIER"], entry["FAXD_EVENT"]) == ("3", "faxd", "job.failed")
    assert (entry["FAXD_JOB"], entry["FAXD_MODEM"], entry["FAXD_OUTCOME"], entry["FAXD_DOCUMENT"]) == (
        "FX-20261202-00042",
        "m0",
        "no_answer",
        "D20261202T101500-abc123",
    )
    assert entry["FAXD_REASON"] == "no answer\nfrom [redacted]"  # a value with a newline, binary-framed
    assert entry["MESSAGE"].startswith("event=job.failed level=error")
    assert [e["FAXD_JOB"] for e in found["by_job"]] == ["FX-20261202-00042"]
    (down,) = found["by_modem"]
    assert down["FAXD_EVENT"] == "modem.down" and down["MESSAGE_ID"] == MESSAGE_IDS["modem.down"]
    (custom,) = found["custom"]
    assert custom["FAXD_COUNT"] == "3" and custom["PRIORITY"] == "6"
    assert found["raw_identity_number"] == []


def test_native_protocol_framing() -> None:
    """KEY=value lines; a value with a newline as KEY, 64-bit little-endian length, bytes."""
    assert encode({"A": "x", "B": "1\n2"}) == b"A=x\nB\n\x03\x00\x00\x00\x00\x00\x00\x002\n"[:4] + (
        b"B\n" + (3).to_bytes(8, "little") + b"1\n2\n"
    )
    fields = journal_fields({"event": "x.y", "level": "warning", "queued-jobs": 3, "ts": "t"}, "line")
    assert fields["PRIORITY"] == "4" and fields["FAXD_QUEUED_JOBS"] == "3" and "FAXD_TS" not in fields


def test_message_ids_are_unique_and_128_bit() -> None:
    """One id per event kind, 32 hex digits; unknown events get a stable derived id."""
    assert len(set(MESSAGE_IDS.values())) == len(MESSAGE_IDS)
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for v in MESSAGE_IDS.values())
    assert message_id("some.new_event") == message_id("some.new_event") not in MESSAGE_IDS.values()


def test_readme_lists_every_message_id() -> None:
    """The README's MESSAGE_ID table is the code's table, row for row."""
    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_.]+)` \| `([0-9a-f]{32})` \|", text, re.MULTILINE))
    assert rows == MESSAGE_IDS
