"""The health snapshot from a real database, and the same figures at /metrics."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from faxd.health import ServiceState, snapshot
from faxd.metrics import MetricsServer
from faxd.ops_config import MetricsConfig
from faxd.store import AttemptEnd, JobState, Store, now_utc
from tests.faxd.keys import signing_chain
from tests.faxd.test_store import add_document


def busy_store(tmp_path: Path) -> Store:
    """Two jobs: one confirmed (3 pages) on m0, one queued again after a busy line on m0; m1 down."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    add_document(store)
    first = store.claim_next_job("m0", now_utc())
    assert first is not None
    attempt = store.start_attempt(first, "m0", first.number, 3, now_utc())
    store.finish_attempt(
        attempt,
        first,
        AttemptEnd("confirmed", "ok", "+46", 3, 3, 14400),
        job_state=JobState.CONFIRMED,
        next_attempt=None,
    )
    second = store.claim_next_job("m0", now_utc())
    assert second is not None
    attempt = store.start_attempt(second, "m0", second.number, 3, now_utc())
    store.finish_attempt(
        attempt, second, AttemptEnd("busy", "busy", None, 0, 0, None), job_state=JobState.QUEUED, next_attempt=now_utc()
    )
    store.set_modem_state("m0", "/dev/ttyS0", "ready")
    store.set_modem_state("m1", "/dev/ttyS1", "down", "no answer to AT from 19121212-1212")
    return store


def test_snapshot_reads_queue_modems_and_reasons(tmp_path: Path) -> None:
    """Queue by state, per-modem counters and failures by outcome, and 'degraded' with its reason."""
    health = snapshot(busy_store(tmp_path), modem_names=("m0", "m1", "m2"), backlog_threshold=50)
    assert health.queue == {"queued": 1, "active": 0, "confirmed": 1, "failed": 0, "held": 0}
    m0, m1, m2 = health.modems
    assert (m0.calls, m0.pages_sent, m0.failures, m0.up) == (2, 3, {"busy": 1}, True)
    assert not m1.up and "19121212" not in m1.detail and m2.state == "unknown"
    assert health.state is ServiceState.DEGRADED and health.last_confirmed is not None
    assert any("modem m1 is down" in r for r in health.reasons)
    assert "19121212" not in health.status_line()


def test_no_modem_up_is_down(tmp_path: Path) -> None:
    """With no modem up the service is down and says so first."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    store.set_modem_state("m0", "/dev/ttyS0", "down", "cannot open")
    health = snapshot(store, modem_names=("m0",))
    assert health.state is ServiceState.DOWN and health.reasons[0].startswith("no modem is up")


def test_a_degraded_modem_is_up_and_makes_the_service_degraded_not_down(tmp_path: Path) -> None:
    """A modem whose last call failed in the modem but which still answers AT takes calls:
    with it the only modem, the service is degraded (not "no modem is up") and says why."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    store.set_modem_state("m0", "/dev/ttyS0", "degraded", "the modem answered ERROR to AT+FTM=96")
    health = snapshot(store, modem_names=("m0",))
    assert health.modems[0].up and health.state is ServiceState.DEGRADED
    assert health.reasons == (
        "modem m0 is degraded: its last call failed in the modem (the modem answered ERROR to AT+FTM=96)",
    )
    assert health.status_line().startswith("degraded: 1/1 modems up")


def test_a_storage_alarm_is_down_and_says_why_first(tmp_path: Path) -> None:
    """A full or read-only spool or state stops the intake: the service is down, with the
    alarm's words first, though every modem is up; without the alarm it is ready again."""
    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    store.set_modem_state("m0", "/dev/ttyS0", "ready")
    health = snapshot(store, modem_names=("m0",), storage="Read-only file system (/srv/faxd/spool/work)")
    assert health.state is ServiceState.DOWN
    assert health.reasons[0].startswith("storage alarm: Read-only file system (/srv/faxd/spool/work)")
    assert "storage alarm" in health.status_line()
    assert snapshot(store, modem_names=("m0",)).state is ServiceState.READY


def test_metrics_endpoint_serves_the_snapshot(tmp_path: Path) -> None:
    """/metrics on an ephemeral loopback port, in Prometheus's text format, parsed back."""
    store = busy_store(tmp_path)
    server = MetricsServer(MetricsConfig(port=0), lambda: snapshot(store, modem_names=("m0", "m1")))
    port = server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.stop()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("faxd_jobs", (("state", "queued"),))] == 1
    assert samples[("faxd_modem_up", (("modem", "m1"),))] == 0
    assert samples[("faxd_modem_pages_sent_total", (("modem", "m0"),))] == 3
    assert samples[("faxd_modem_failures_total", (("modem", "m0"), ("outcome", "busy")))] == 1
    assert samples[("faxd_service_state", (("state", "degraded"),))] == 1
    assert "19121212" not in text


def test_declared_outage_shows(tmp_path: Path) -> None:
    """An outage started in the signed log is 'declared' until it is ended."""
    from faxd import outage

    store = Store(tmp_path / "db.sqlite3", signing_chain(tmp_path))
    assert not snapshot(store).outage_declared
    outage.start(store, "Mina planer is down", now_utc(), "tester")
    assert snapshot(store).outage_declared
    outage.end(store, now_utc(), "tester")
    assert not snapshot(store).outage_declared
