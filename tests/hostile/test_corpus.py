"""The hostile corpus through the intake: every case ends quarantined with a readable
reason, routed, or ignored; nothing blocks, nothing stays in work/, nothing outside the
spool is touched, and no patient identity reaches a reason, the log, the database or
faxctl's output."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from faxd.audit.wiring import signing_chain
from faxd.config import load_config
from faxd.daemon import DirectoryHolder
from faxd.intake import Intake, IntakeResult
from faxd.store import Store
from spool.folders import SpoolFolders
from spool.queue import REASON_MAX
from spool.watcher import scan
from tests.faxd.keys import audit_config, ensure_keys
from tests.hostile.corpus import NAME, PNR, SNR, Case, all_cases

ROOT = Path(__file__).resolve().parents[2]
IDENTITY = re.compile(r"19121212|191212-?1212|191212-?7212|191212721212|Tolvan|p\xe4tient|p\\xe4tient")

CONFIG = (
    '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "directory.csv"\n'
    '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Test"\ncallback = "040-628 04 00"\n'
    '[outage]\nwhen_not_declared = "send"\n[[modem]]\nname = "m0"\ndevice = "/dev/null"\n'
    # The corpus drops one good PDF in many cases on one store; holding the copies as
    # duplicates (issue 13) is tested in tests/faxd/test_recovery.py, not here.
    '[intake]\nduplicates = "send"\n'
)


def test_the_corpus_has_at_least_sixty_cases() -> None:
    """The issue asks for 60 or more generated cases."""
    cases = all_cases()
    assert len(cases) >= 60 and len({c.name for c in cases}) == len(cases)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run every case through one intake, as the daemon would: scan, then take."""
    base = tmp_path_factory.mktemp("hostile")
    shutil.copy(ROOT / "examples" / "directory.csv", base / "directory.csv")
    (base / "faxd.toml").write_text(CONFIG + audit_config(base))
    ensure_keys(base)
    config = load_config(base / "faxd.toml")
    folders = SpoolFolders(config.spool)
    folders.create()
    outside = base / "outside"
    outside.mkdir()
    created: dict[str, set[str]] = {}
    for case in all_cases():
        before = set(os.listdir(folders.incoming))
        case.make(folders.incoming, outside)
        created[case.name] = set(os.listdir(folders.incoming)) - before
    outside_before = {p.name: (p.lstat().st_mode, p.read_bytes() if p.is_file() else b"") for p in outside.iterdir()}
    store = Store(config.database, signing_chain(config))
    intake = Intake(config, store, folders, DirectoryHolder(base / "directory.csv").current)
    results: dict[str, IntakeResult | None] = {}
    seconds: dict[str, float] = {}
    try:
        with capture_logs() as logs:
            for path in scan(folders.incoming):
                started = time.monotonic()
                results[path.name] = intake.take(path)
                seconds[path.name] = time.monotonic() - started
                print(f"{seconds[path.name]:6.2f}s {path.name[:40]!r}")
    finally:
        intake.close()
    return {
        "base": base,
        "config": config,
        "folders": folders,
        "outside": outside,
        "created": created,
        "outside_before": outside_before,
        "results": results,
        "seconds": seconds,
        "logs": logs,
        "store": store,
    }


def _entry_of(case: Case, created: set[str]) -> str:
    candidates = [n for n in created if not n.endswith(".json")] or sorted(created)
    assert len(candidates) == 1, (case.name, created)
    return candidates[0]


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.name)
def test_each_case_ends_as_expected(outcome: dict, case: Case) -> None:  # type: ignore[type-arg]
    """Quarantined with a reason saying what was wrong, routed, or left alone."""
    entry = _entry_of(case, outcome["created"][case.name])
    result = outcome["results"].get(entry)
    folders: SpoolFolders = outcome["folders"]
    if case.expect == "ignored":
        assert entry not in outcome["results"] and os.path.lexists(folders.incoming / entry)
        return
    assert result is not None, f"{case.name} was not taken"
    if case.expect == "routed" or (case.expect == "handled" and result.quarantine_reason is None):
        assert result.quarantine_reason is None and result.job_ids, result
        return
    reason = result.quarantine_reason
    assert reason, f"{case.name} was routed: {result}"
    assert len(reason) <= REASON_MAX and "\n" not in reason and reason.isprintable(), reason
    assert case.reason.lower() in reason.lower(), reason
    reason_file = folders.quarantine / f"{result.document_id}.pdf.reason"
    assert f"Reason: {reason}\n" in reason_file.read_text()
    assert not os.path.lexists(folders.incoming / entry)


def test_nothing_is_left_in_work_and_every_document_is_recorded(outcome: dict) -> None:  # type: ignore[type-arg]
    """No case is "claimed, not recorded": work/ is empty and the database knows each one."""
    folders: SpoolFolders = outcome["folders"]
    states = outcome["store"].document_states()
    in_work = {name.removesuffix(".pdf") for name in os.listdir(folders.work) if name.endswith(".pdf")}
    assert all(states.get(document_id) == "routed" for document_id in in_work), in_work
    taken = [r for r in outcome["results"].values() if r is not None]
    assert sorted(states) == sorted(r.document_id for r in taken)
    assert sorted(os.listdir(folders.incoming)) == ["lonely.pdf.json"]


def test_nothing_outside_the_spool_is_read_moved_or_written(outcome: dict) -> None:  # type: ignore[type-arg]
    """The targets of links and hard links outside the spool are where they were, unchanged,
    and the documents routed by an outside sidecar were not routed."""
    outside: Path = outcome["outside"]
    now = {p.name: (p.lstat().st_mode, p.read_bytes() if p.is_file() else b"") for p in outside.iterdir()}
    assert now == outcome["outside_before"]


def test_no_entry_blocks_the_intake(outcome: dict) -> None:  # type: ignore[type-arg]
    """Every entry is decided within the reader's clock (30 s): no pipe is opened blocking,
    no 8 GiB file is hashed."""
    slow = {name: s for name, s in outcome["seconds"].items() if s > 45}
    assert not slow
    sparse = next(n for n in outcome["results"] if n.startswith("sparse"))
    assert outcome["seconds"][sparse] < 2


def test_no_patient_identity_in_logs_reasons_database_or_faxctl(outcome: dict) -> None:  # type: ignore[type-arg]
    """Names and identity numbers in file names, titles, sidecars and damaged bytes reach
    none of: the captured log events, the .reason files, the database, faxctl's output."""
    folders: SpoolFolders = outcome["folders"]
    assert not IDENTITY.search(json.dumps(outcome["logs"], default=str, ensure_ascii=False))
    for reason_file in folders.quarantine.glob("*.reason"):
        assert not IDENTITY.search(reason_file.read_text()), reason_file.read_text()
    assert not any(IDENTITY.search(name) for name in os.listdir(folders.quarantine))
    with sqlite3.connect(outcome["config"].database) as db:
        dump = "\n".join(db.iterdump())
    assert not IDENTITY.search(dump)
    config = outcome["base"] / "faxd.toml"
    for command in (["status", "--json"], ["status"], ["log", "--json"], ["log"]):
        out = subprocess.run(
            [sys.executable, "-m", "faxd.cli", "--config", str(config), *command],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert not IDENTITY.search(out.stdout + out.stderr), command
    assert PNR and SNR and NAME  # the corpus does carry them
