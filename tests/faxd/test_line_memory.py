"""Per-destination memory (issue 15): what a number's line took last time sets the first
rate of the next call, as HylaFAX's info/ does; old memories are forgotten."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.modem import CallResult, Outcome
from faxd.cli import main
from faxd.line_memory import FORGET_AFTER, LineMemory

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NUMBER = "0406280410"


def _result(**kwargs: object) -> CallResult:
    return CallResult(Outcome.CONFIRMED, "ok", **kwargs)  # type: ignore[arg-type]


def test_an_unknown_number_starts_at_the_top(tmp_path: Path) -> None:
    assert LineMemory(tmp_path).start_rate(NUMBER, NOW) is None


def test_the_first_rate_is_one_above_the_rate_that_trained_last_time(tmp_path: Path) -> None:
    """One try above what trained: otherwise the memory only ever went down (a call that
    starts at 7200 never trains above it, and that is what it records)."""
    memory = LineMemory(tmp_path)
    memory.remember(NUMBER, _result(trained_bps=9600), NOW)
    assert memory.start_rate(NUMBER, NOW + timedelta(hours=1)) == 12000
    assert memory.start_rate("0406280411", NOW) is None
    memory.remember(NUMBER, _result(trained_bps=12000), NOW)  # the line got better
    assert memory.start_rate(NUMBER, NOW) == 14400
    memory.remember(NUMBER, _result(trained_bps=14400), NOW)
    assert memory.start_rate(NUMBER, NOW) is None  # from the top


def test_rtn_and_ecm_trouble_start_below(tmp_path: Path) -> None:
    memory = LineMemory(tmp_path)
    memory.remember(NUMBER, _result(trained_bps=14400, rtn_bps=14400), NOW)
    assert memory.start_rate(NUMBER, NOW) == 14399  # the engine takes the next rate under it
    memory.remember(NUMBER, _result(trained_bps=12000, ecm_trouble=True), NOW)
    assert memory.start_rate(NUMBER, NOW) == 11999
    record = memory.get(NUMBER)
    assert record is not None and record.calls == 2 and record.ecm_trouble


def test_a_call_that_never_trained_changes_nothing(tmp_path: Path) -> None:
    memory = LineMemory(tmp_path)
    memory.remember(NUMBER, _result(trained_bps=7200), NOW)
    memory.remember(NUMBER, CallResult(Outcome.BUSY, "busy"), NOW)
    assert memory.start_rate(NUMBER, NOW) == 9600


def test_an_old_memory_is_forgotten(tmp_path: Path) -> None:
    memory = LineMemory(tmp_path)
    memory.remember(NUMBER, _result(trained_bps=4800), NOW)
    assert memory.start_rate(NUMBER, NOW + FORGET_AFTER + timedelta(seconds=1)) is None


def test_the_memory_survives_a_restart(tmp_path: Path) -> None:
    LineMemory(tmp_path).remember(NUMBER, _result(trained_bps=9600, rtn_bps=9600), NOW)
    records = LineMemory(tmp_path).records()
    assert [(r.number, r.trained_bps, r.rtn_bps) for r in records] == [(NUMBER, 9600, 9600)]


def test_faxctl_lines_shows_the_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "faxd.toml"
    config.write_text(
        '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "dir.csv"\n'
        '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "T"\ncallback = "040-628 04 00"\n'
        '[[modem]]\nname = "m1"\ndevice = "simulated"\n'
    )
    (tmp_path / "state").mkdir()
    assert main(["--config", str(config), "lines"]) == 0
    assert "no line memory yet" in capsys.readouterr().out
    LineMemory(tmp_path / "state").remember(NUMBER, _result(trained_bps=9600, rtn_bps=9600), datetime.now(UTC))
    assert main(["--config", str(config), "lines", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["number"] == NUMBER and rows[0]["trained_bps"] == 9600 and rows[0]["next_start_bps"] == 9599
    assert main(["--config", str(config), "lines"]) == 0
    assert NUMBER in capsys.readouterr().out
