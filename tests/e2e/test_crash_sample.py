"""A small sample of the crash campaign (bench/crash_harness.py runs 200 rounds): the real
daemon SIGKILLed at random moments and restarted, then left to finish."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from crash_harness import run_campaign


def test_kill_9_at_random_moments_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    """Two kill rounds and the final run: every document accounted for, none recorded
    twice, no page received twice outside a resume, no temporary left, the log verifies."""
    report = run_campaign(tmp_path / "campaign", rounds=2, documents_per_round=2, seed=2)
    assert report.kills == 2 and report.documents == 4
    assert report.settled, "the final run ends when every document is final, not on a timer"
    assert report.problems == []
    assert (report.lost, report.duplicated, report.pages_twice, report.temporaries) == (0, 0, 0, 0)
    assert report.log_verifies
    assert report.confirmed_jobs + report.failed_jobs + report.quarantined > 0
