"""Entries the confirmation log gained: the directory coming into force (at start when it
changed, and on a reload), each confirmed page with its own rate, coding and ECM, and
the journal's checkpoints read back by ``faxctl audit verify`` itself."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from drivers.modem import CallResult, Outcome
from faxd.audit.journal_heads import read_journal
from faxd.daemon import Daemon
from faxd.journal import journal_fields
from tests.faxd.site import Site, admission

BIN = Path(sys.executable).parent
JOURNAL_REMOTE = Path("/lib/systemd/systemd-journal-remote")


def _entries(database: Path, event: str) -> list[dict[str, object]]:
    with sqlite3.connect(database) as conn:
        return [json.loads(r[0]) for r in conn.execute("SELECT data FROM audit WHERE event = ? ORDER BY seq", (event,))]


def test_the_directory_in_force_is_a_log_entry_at_start_and_on_reload(tmp_path: Path) -> None:
    """First start: the version is recorded; a second start with the same file adds
    nothing; a changed file read on reload (or found changed at start) is recorded with
    the version it replaced."""
    site = Site(tmp_path)
    daemon = Daemon(site.config)
    try:
        (first,) = _entries(site.config.database, "directory.reloaded")
        assert first["version"] == site.directory.current().version and first["previous"] is None
        site.edit_directory("040-628 04 16", "040-628 04 88")
        daemon.directory.reload()
        second = _entries(site.config.database, "directory.reloaded")[1]
        assert second["previous"] == first["version"] and second["version"] == site.directory.current().version
    finally:
        daemon.intake.close()
        daemon.lock.release()
    again = Daemon(site.config)  # the same file: nothing new
    try:
        assert len(_entries(site.config.database, "directory.reloaded")) == 2
    finally:
        again.intake.close()
        again.lock.release()
    assert site.store.verify_log().intact


def test_each_confirmed_page_carries_its_rate_coding_and_ecm(tmp_path: Path) -> None:
    site = Site(tmp_path, script=[CallResult(Outcome.CONFIRMED, "ok", None, 2, 2, 9600, coding="MR", ecm=False)])
    admission(site)
    site.run_all()
    pages = _entries(site.config.database, "page.confirmed")
    assert pages[:2] == [
        {"attempt": 1, "page": 1, "bit_rate": 9600, "coding": "MR", "ecm": False},
        {"attempt": 1, "page": 2, "bit_rate": 9600, "coding": "MR", "ecm": False},
    ]
    exported = site.store.confirmation_log()
    assert exported[0]["bit_rate"] == 9600


def _journal_with(tmp_path: Path, events: list[dict[str, object]]) -> Path:
    """A real journal file holding ``events`` as faxd's journal renderer would send them."""
    lines = []
    for number, event in enumerate(events, 1):
        fields = journal_fields(event, f"event={event['event']}")
        lines += [f"__REALTIME_TIMESTAMP={1764700000000000 + number}"] + [f"{k}={v}" for k, v in fields.items()] + [""]
    export = tmp_path / "checkpoints.export"
    export.write_text("\n".join(lines) + "\n")
    journal = tmp_path / "faxd.journal"
    subprocess.run([str(JOURNAL_REMOTE), f"--output={journal}", str(export)], check=True, capture_output=True)
    return journal


@pytest.mark.skipif(
    shutil.which("journalctl") is None or not JOURNAL_REMOTE.exists(), reason="needs journalctl and journal-remote"
)
def test_verify_reads_the_journal_checkpoints_itself(tmp_path: Path) -> None:
    """The database and the head file rolled back together: only the journal still has the
    newer head, and `faxctl audit verify` finds it there without an export."""
    site = Site(tmp_path)
    with capture_logs() as logs:
        admission(site)
        site.run_all()
    checkpoints = [e for e in logs if e["event"] == "audit.checkpoint"]
    assert checkpoints and all(e["key"] == site.store.chain.key for e in checkpoints)
    with sqlite3.connect(site.config.database) as conn:
        last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
        signature = conn.execute("SELECT sig FROM audit WHERE seq = ?", (last,)).fetchone()[0]
    newest = {"event": "audit.checkpoint", "seq": last, "signature": signature, "key": site.store.chain.key}
    other = {"event": "audit.checkpoint", "seq": 9999, "signature": "ab" * 64, "key": "0123456789abcdef"}
    journal = _journal_with(tmp_path, [*checkpoints, newest, other])
    found = read_journal(str(site.store.chain.key), file=journal)
    assert [h.seq for h in found.heads] == [*(e["seq"] for e in checkpoints), last]
    assert "1 of other keys ignored" in found.note

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(BIN / "faxctl"),
                "--config",
                str(site.config.source),
                "audit",
                "verify",
                "--journal-file",
                str(journal),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    intact = verify()
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert f"journal: {len(checkpoints) + 1} checkpoints of this log compared" in intact.stdout
    # Roll back: drop the newest three entries and their lines in the head file.
    with sqlite3.connect(site.config.database) as conn:
        conn.execute("DELETE FROM audit WHERE seq > ?", (last - 3,))
    head = site.config.audit.head_file
    assert head is not None
    head.write_text(
        "".join(line for line in head.read_text().splitlines(keepends=True) if int(line.split()[0]) <= last - 3)
    )
    rolled_back = verify()
    assert rolled_back.returncode == 3
    assert f"truncated: the log ends at entry {last - 3}" in rolled_back.stdout
    assert "journal checkpoint" in rolled_back.stdout
