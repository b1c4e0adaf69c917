"""``class = "auto"`` in the real daemon: the simulated modem of each personality is probed,
the class is chosen by ``drivers.probe.PREFERENCE``, and a fax goes through in that class."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.harness import Gateway, admission_meta, make_pdf

pytestmark = pytest.mark.e2e

#: personality -> the class auto must pick (+FCLASS=? answers "0,1,1.0", "0,2", "0,2.0", "0,2.0,2.1").
CHOICE = {"1": "1", "2": "2", "2.0": "2.0", "2.1": "2.1"}


@pytest.mark.parametrize("gateway", list(CHOICE), indirect=True, ids=lambda c: f"personality{c}")
def test_auto_picks_the_preferred_class_and_the_fax_is_confirmed(gateway: Gateway, tmp_path: Path) -> None:
    """The journal names the detected class, the status shows it, the remote confirms every page."""
    expected = CHOICE[gateway.fax_class]
    gateway.config_class = "auto"
    gateway.start_simulator()
    daemon = gateway.start_daemon()
    detected = daemon.wait_for(r"event=modem\.class_detected", timeout=60)[0]
    assert re.search(rf"fax_class={re.escape(expected)}(\s|$)", detected), detected
    assert "modem=m0" in detected
    (modem,) = gateway.status()["modems"]
    assert modem["state"] == "ready" and modem["detail"] == f"Class {expected}"

    gateway.send(make_pdf(tmp_path / "auto.pdf", 2, metadata=admission_meta(FaxdReference="AUTO-1")))
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    log = gateway.log()
    assert len(log) == 2 and {e["outcome"] for e in log} == {"confirmed"}
    assert all(e["pages_confirmed"] == e["pages_total"] == 3 for e in log)  # cover + 2 pages
    calls = gateway.calls()
    assert len(calls) == 2 and all(c["outcome"] == "confirmed" and c["pages"] == 3 for c in calls), calls
    # The driver that made the calls is the one for the detected class.
    started = daemon.wait_for(r"event=modem\.call_started", count=2, timeout=5)
    if expected == "1":
        assert not any("fax_class=" in line for line in started)
    else:
        assert all(re.search(rf"fax_class={re.escape(expected)}(\s|$)", line) for line in started), started
