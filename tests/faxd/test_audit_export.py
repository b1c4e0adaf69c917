"""faxctl audit export: both formats parse, one row per attempt and per confirmed page,
the period filter, and no export of a log that does not verify."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from drivers.modem import CallResult, Outcome
from faxd.audit.export import COLUMNS
from faxd.cli import main as faxctl
from tests.faxd.site import Site, admission


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path, script=[CallResult(Outcome.BUSY, "the line was busy")], max_attempts=3)
    admission(site)
    site.run_all()
    site.run_all()
    return site


def export(site: Site, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = faxctl(["--config", str(site.config.source), "audit", "export", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_csv_and_json_parse_with_a_row_per_attempt_and_page(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """Three attempts (one busy), two pages confirmed per successful call: 3 + 4 rows, same in both formats."""
    code, out, _ = export(site, capsys, "--format", "csv")
    assert code == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = list(reader)
    assert [r["row_type"] for r in rows].count("attempt") == 3
    pages = [r for r in rows if r["row_type"] == "page"]
    assert len(pages) == 4 and {r["page"] for r in pages} == {"1", "2"}
    assert {r["outcome"] for r in rows if r["row_type"] == "attempt"} == {"busy", "confirmed"}
    assert all(len(r["document_sha256"]) == 64 for r in rows)
    code, out, _ = export(site, capsys, "--format", "json")
    data = json.loads(out)
    assert code == 0 and len(data) == len(rows) and set(data[0]) == set(COLUMNS)
    assert next(r for r in data if r["outcome"] == "confirmed")["bit_rate"] == 14400


def test_the_period_filter(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """--since after every attempt gives a header only; --until before them too."""
    code, out, _ = export(site, capsys, "--since", "2999-01-01")
    assert code == 0 and out.strip().splitlines() == [",".join(COLUMNS)]
    code, out, _ = export(site, capsys, "--until", "2000-01-01", "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, _, err = export(site, capsys, "--since", "last week")
    assert code == 1 and "ISO" in err


TAMPERING = {
    # A busy call rewritten as confirmed in the log: entry named, with how it broke.
    "edited": (
        "UPDATE audit SET data = replace(data, 'busy', 'confirmed') WHERE event = 'attempt.ended'",
        "first break at entry ",
    ),
    # The attempts table rewritten behind the log's back: no entry to name, the row is.
    "state_differs": ("UPDATE attempts SET outcome = 'confirmed' WHERE outcome = 'busy'", "first break: state_differs"),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_a_log_that_does_not_verify_is_not_exported(site: Site, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """Export refuses with one line naming the first break as `faxctl audit verify` does
    (exit 3, its status), unless --unverified: then the rows and one warning line."""
    statement, named = TAMPERING[kind]
    with sqlite3.connect(site.config.database) as conn:
        assert conn.execute(statement).rowcount >= 1
    code, out, err = export(site, capsys)
    assert code == 3 and out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("faxctl: no export: the confirmation log is NOT intact") and named in err
    assert f"{kind}:" in err and "entry None" not in err and "--unverified" in err
    code, out, err = export(site, capsys, "--unverified")
    assert code == 0 and out.startswith("row_type,")
    assert err.startswith("faxctl: WARNING: the confirmation log is NOT intact") and err.count("\n") == 1
