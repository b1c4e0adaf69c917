"""Retention: old page images are deleted, the log records the purge and still verifies,
and what the auditor reads about the attempts is unchanged."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from faxd.audit.cli import run_verify
from faxd.retention import purge_archive
from faxd.store import now_utc
from tests.faxd.site import Site, admission


def test_purge_keeps_the_facts_and_the_log_verifies(tmp_path: Path) -> None:
    """Archive files older than the period go; retention.purged is logged; verify passes."""
    site = Site(tmp_path)
    admission(site)
    site.run_all()
    folder = site.config.state / "archive"
    files = sorted(folder.glob("*.tif"))
    assert len(files) == 2
    old = (now_utc() - timedelta(days=400)).timestamp()
    os.utime(files[0], (old, old))
    before = site.store.confirmation_log()
    assert purge_archive(site.store, folder, keep_days=365, now=now_utc()) == 1
    assert sorted(folder.glob("*.tif")) == files[1:]
    assert purge_archive(site.store, folder, keep_days=365, now=now_utc()) == 0
    result = run_verify(site.config)
    assert result.intact, result.problems
    (purge,) = [e for e in result.view.events if e.event == "retention.purged"]
    assert purge.data["files"] == 1 and purge.data["retention_days"] == 365
    assert site.store.confirmation_log() == before
