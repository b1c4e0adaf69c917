"""A small sample of bench/bench_load.py's drop: 300 documents at once through the real
daemon, all claimed and queued, memory bounded, TERM obeyed (the full run is in bench/)."""

from __future__ import annotations

import pytest

from bench.bench_load import run_intake

pytestmark = pytest.mark.e2e


def test_a_burst_of_documents_is_all_queued_with_bounded_memory() -> None:
    """None lost or left behind; the daemon stays under 200 MB and stops on TERM at once."""
    result = run_intake(300, keep=False)
    assert result["queued"] == 300 and result["work_files"] == 300, result
    assert result["quarantined"] == 0 and result["left_in_incoming"] == 0, result
    assert result["daemon_peak_rss_mb"] < 200, result  # type: ignore[operator]
    assert result["stop_on_term_seconds"] < 60, result  # type: ignore[operator]
