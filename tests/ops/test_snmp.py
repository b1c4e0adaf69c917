"""The SNMP agent and FAXD-MIB, checked with net-snmp's own tools (snmpwalk, snmptrapd,
snmptranslate) and libsmi's smilint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from faxd.health import DrillResult, Health, ModemHealth, ServiceState
from faxd.ops_config import Manager, SnmpConfig
from faxd.snmp import SnmpAgent
from faxd.snmp_mib import MIB, NOTIFICATION_EVENTS, objects
from tests.ops.netsnmp import AUTH_KEY, ENGINE_ID, PRIV_KEY, TrapReceiver, free_udp_port, tool_env, v3_args, walk

ROOT = Path(__file__).resolve().parents[2]
MIB_FILE = ROOT / "faxd" / "data" / "FAXD-MIB.txt"
pytestmark = pytest.mark.skipif(shutil.which("snmpwalk") is None, reason="net-snmp tools not installed (setup.sh)")


def health() -> Health:
    return Health(
        at=datetime.now(UTC),
        state=ServiceState.DEGRADED,
        reasons=("modem m1 is down (no answer to AT)",),
        queue={"queued": 3, "active": 1, "confirmed": 5, "failed": 1},
        oldest_queued_seconds=42,
        modems=(
            ModemHealth("m0", "ready", "", 7, 19, {"busy": 2}),
            ModemHealth("m1", "down", "no answer to AT", 1, 0, {"modem_error": 1}),
        ),
        last_confirmed=datetime(2026, 12, 2, 10, 30, 5, tzinfo=UTC),
        drill=DrillResult.PASSED,
        drill_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        drill_detail="",
        outage_declared=True,
        backlog_threshold=50,
    )


def settings(**kw: object) -> SnmpConfig:
    base: dict[str, object] = {"port": 0, "auth_key": AUTH_KEY, "priv_key": PRIV_KEY, "engine_id": ENGINE_ID}
    return SnmpConfig(**(base | kw))  # type: ignore[arg-type]


@pytest.fixture
def agent() -> Iterator[SnmpAgent]:
    running = SnmpAgent(settings(), health)
    running.start()
    yield running
    running.stop()


def test_snmpwalk_v3_authpriv_sees_the_whole_mib(agent: SnmpAgent, tmp_path: Path) -> None:
    """snmpwalk -v3 (SHA-256, AES) returns every object the agent serves, with its value."""
    assert agent.address is not None
    result = walk(tmp_path, agent.address[1], v3_args())
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    base = ".1.3.6.1.4.1.32473.1.1"
    assert lines[f"{base}.1.1.0"] == "INTEGER: 2"  # degraded
    assert lines[f"{base}.1.2.0"] == 'STRING: "modem m1 is down (no answer to AT)"'
    assert lines[f"{base}.1.3.0"] == "INTEGER: 1"  # outage declared: true
    assert lines[f"{base}.1.4.0"] == "Gauge32: 42"
    assert lines[f"{base}.1.5.0"] == "Hex-STRING: 07 EA 0C 02 0A 1E 05 00 2B 00 00 "
    assert lines[f"{base}.2.1.3.1"] == "Gauge32: 3"  # queued
    assert lines[f"{base}.3.1.2.2"] == 'STRING: "m1"' and lines[f"{base}.3.1.3.2"] == "INTEGER: 2"  # down
    assert lines[f"{base}.3.1.4.1"] == "Counter32: 7" and lines[f"{base}.3.1.5.1"] == "Counter32: 19"
    assert lines[f"{base}.4.1.3.1.1"] == "Counter32: 2"  # m0, busy
    assert len(lines) == len(objects(health()))


def test_wrong_key_and_v2c_get_nothing(agent: SnmpAgent, tmp_path: Path) -> None:
    """A wrong authentication key and SNMPv2c (not configured) are refused."""
    assert agent.address is not None
    port = agent.address[1]
    wrong = walk(tmp_path, port, v3_args(auth_key="not-the-key-at-all"))
    assert wrong.returncode != 0 and "Authentication failure" in wrong.stderr
    v2c = walk(tmp_path, port, ["-v2c", "-c", "public"])
    assert ".1.3.6.1.4.1.32473" not in v2c.stdout


def test_v2c_only_when_configured(tmp_path: Path) -> None:
    """With snmp.community set, a v2c walk reads the MIB."""
    running = SnmpAgent(settings(community="faxd-ro"), health)
    address = running.start()
    try:
        result = walk(tmp_path, address[1], ["-v2c", "-c", "faxd-ro"])
        assert result.returncode == 0 and ".1.3.6.1.4.1.32473.1.1.1.1.0 = INTEGER: 2" in result.stdout
    finally:
        running.stop()


EVENTS = {
    "modem.down": {"modem": "m1", "reason": "no answer to AT"},
    "modem.ready": {"modem": "m1"},
    "job.failed": {"job_id": "FX-20261202-00007", "outcome": "not_a_fax", "reason": "answered without fax tones"},
    "alarm.station_mismatch": {"job_id": "FX-20261202-00008", "reason": "CSI 040 628 04 55, expected 040 628 04 10"},
    "alarm.backlog": {"queued": 75, "reason": "75 jobs queued, more than 50"},
    "alarm.audit_verification_failed": {"reason": "entry 12: MAC does not match"},
    "alarm.drill_failed": {"job_id": "FX-20261202-00009", "reason": "no_answer"},
    "alarm.loop_stalled": {"loops": "intake"},
    "alarm.something_new": {"reason": "a future alarm"},
}


def test_each_notification_reaches_snmptrapd(tmp_path: Path) -> None:
    """Every alarm event becomes its FAXD-MIB notification at snmptrapd (SNMPv3 authPriv), with
    identity numbers masked."""
    receiver = TrapReceiver(tmp_path / "trapd")
    running = SnmpAgent(settings(managers=(Manager("127.0.0.1", receiver.port),)), health)
    running.start()
    try:
        numbers = dict(NOTIFICATION_EVENTS.values())
        numbers["faxdAlarm"] = 9
        expected = {
            "modem.down": 1,
            "modem.ready": 2,
            "job.failed": 3,
            "alarm.station_mismatch": 4,
            "alarm.backlog": 5,
            "alarm.audit_verification_failed": 6,
            "alarm.drill_failed": 7,
            "alarm.loop_stalled": 8,
            "alarm.something_new": 9,
        }
        for name, fields in EVENTS.items():
            running.on_event({"event": name, **fields})
            trap_oid = re.escape(f".1.3.6.1.4.1.32473.1.0.{expected[name]}")
            line = receiver.wait_for(rf"\.1\.3\.6\.1\.6\.3\.1\.1\.4\.1\.0 = OID: {trap_oid}\b")
            if "job_id" in fields:
                assert f'"{fields["job_id"]}"' in line
        running.on_event({"event": "job.failed", "job_id": "FX-1", "outcome": "busy", "reason": "pnr 19121212-1212"})
        line = receiver.wait_for(r'STRING: "FX-1"')
        assert "19121212" not in line and "[redacted]" in line
    finally:
        running.stop()
        receiver.stop()


def _logged(logs: list[dict[str, object]], event: str, timeout: float = 20.0) -> dict[str, object]:
    """The first captured event of that name, waiting for the agent's thread to log it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next((e for e in list(logs) if e["event"] == event), None)
        if found is not None:
            return found
        time.sleep(0.05)  # polling a list another thread appends to, up to a deadline
    raise AssertionError(f"no {event} logged; got {[e['event'] for e in logs]}")


def test_informs_are_acknowledged_by_snmptrapd_and_silence_is_logged(tmp_path: Path) -> None:
    """With notify = "inform" the notification goes as an SNMPv3 authPriv inform: snmptrapd
    receives and answers it (pysnmp discovers its engine id first) and the agent logs the
    acknowledgement; a manager that never answers is logged as unacknowledged after its
    retries, and no alarm.* event follows (that would notify about notifying)."""
    receiver = TrapReceiver(tmp_path / "trapd")
    silent = free_udp_port()  # nobody listens there
    managers = (
        Manager("127.0.0.1", receiver.port, notify="inform"),
        Manager("127.0.0.1", silent, notify="inform", timeout_seconds=0.2, retries=1),
    )
    running = SnmpAgent(settings(managers=managers), health)
    running.start()
    try:
        with capture_logs() as logs:
            running.on_event({"event": "alarm.drill_failed", "job_id": "FX-20261202-00010", "reason": "no_answer"})
            receiver.wait_for(r"OID: \.1\.3\.6\.1\.4\.1\.32473\.1\.0\.7\b")
            acknowledged = _logged(logs, "snmp.inform_acknowledged")
            unanswered = _logged(logs, "snmp.inform_unacknowledged")
        assert acknowledged["notification"] == "faxdDrillFailed"
        assert unanswered["notification"] == "faxdDrillFailed" and unanswered["error"]
        assert not [e for e in logs if str(e["event"]).startswith("alarm.")]
    finally:
        running.stop()
        receiver.stop()


def ietf_mibs() -> Path:
    """Where the IETF base modules (SNMPv2-SMI, -TC, -CONF) are: Debian ships them only in
    non-free snmp-mibs-downloader, which scripts/setup.sh installs (to /var/lib/mibs/ietf);
    FAXD_IETF_MIBS may point at another copy."""
    for folder in (os.environ.get("FAXD_IETF_MIBS"), "/var/lib/mibs/ietf", "/usr/share/snmp/mibs/ietf"):
        if folder and any(Path(folder, name).exists() for name in ("SNMPv2-SMI", "SNMPv2-SMI.txt")):
            return Path(folder)
    pytest.fail("the IETF base MIB modules are missing: run scripts/setup.sh (snmp-mibs-downloader)")


def test_mib_passes_smilint_and_matches_the_code(tmp_path: Path) -> None:
    """smilint -l 6 reports one warning only (explained below); snmptranslate -Tp shows the
    whole tree and -On resolves each name to the OID the agent uses."""
    base = ietf_mibs()
    lint = subprocess.run(
        ["smilint", "-l", "6", str(MIB_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SMIPATH": str(base)},
    )
    # The one warning left at levels 5-6: the MODULE-IDENTITY hangs at { enterprises 32473 1 },
    # and the enterprise arc 32473 itself is defined in no MIB module (IANA publishes none per
    # enterprise number), so the node is implicit. Every enterprise MIB below its own number
    # gets it; levels 1-4 are silent.
    identity_line = next(
        i for i, line in enumerate(MIB_FILE.read_text().splitlines(), 1) if "::= { enterprises 32473 1 }" in line
    )
    expected = f"{MIB_FILE}:{identity_line}: warning: implicit node definition"
    assert lint.returncode == 0 and (lint.stdout + lint.stderr).splitlines() == [expected], lint.stdout + lint.stderr
    quiet = subprocess.run(
        ["smilint", "-l", "4", str(MIB_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SMIPATH": str(base)},
    )
    assert quiet.returncode == 0 and quiet.stdout + quiet.stderr == "", quiet.stdout + quiet.stderr
    env = {**tool_env(tmp_path), "MIBDIRS": f"{base}:{MIB_FILE.parent}", "MIBS": "FAXD-MIB"}
    tree = subprocess.run(
        ["snmptranslate", "-Tp", "FAXD-MIB::faxdMIB"], capture_output=True, text=True, timeout=30, env=env
    )
    # net-snmp announces the persistent folder it makes in the test's scratch space; nothing else.
    complaints = [line for line in tree.stderr.splitlines() if not line.startswith("Created directory:")]
    assert tree.returncode == 0 and not complaints, tree.stderr
    defined = set(
        re.findall(
            r"^(faxd\w+)\s+(?:OBJECT-TYPE|NOTIFICATION-TYPE|OBJECT IDENTIFIER)", MIB_FILE.read_text(), re.MULTILINE
        )
    )
    shown = set(re.findall(r"(faxd\w+)\(\d+\)", tree.stdout))
    assert defined and defined <= shown, defined - shown
    names = {
        "faxdServiceState.0": (*MIB, 1, 1, 1, 0),
        "faxdLastConfirmedTime.0": (*MIB, 1, 1, 5, 0),
        "faxdQueueDepth.1": (*MIB, 1, 2, 1, 3, 1),
        "faxdModemState.2": (*MIB, 1, 3, 1, 3, 2),
        "faxdOutcomeCount.1.7": (*MIB, 1, 4, 1, 3, 1, 7),
        "faxdNotifyText.0": (*MIB, 1, 5, 4, 0),
    }
    names |= {title: (*MIB, 0, number) for title, number in NOTIFICATION_EVENTS.values()}
    env = {**tool_env(tmp_path), "MIBDIRS": f"{base}:{MIB_FILE.parent}", "MIBS": "FAXD-MIB"}
    for name, oid in names.items():
        out = subprocess.run(
            ["snmptranslate", "-On", f"FAXD-MIB::{name}"], capture_output=True, text=True, timeout=30, env=env
        )
        assert out.stdout.strip() == "." + ".".join(map(str, oid)), (name, out.stdout, out.stderr)
    served = {oid[:-1] if oid[-1] == 0 else oid for oid, _ in objects(health())}
    assert all(oid[: len(MIB)] == MIB for oid in served)


def test_a_job_failed_without_a_reason_still_says_what_happened() -> None:
    """The runner's job.failed carries the outcome, not a reason: the trap's text says it in words."""
    from faxd.snmp_mib import notification

    trap = notification({"event": "job.failed", "job_id": "FX-1", "outcome": "no_answer"})
    assert trap is not None and trap.name == "faxdJobFailed"
    assert (
        bytes(trap.varbinds[-1][1]).decode()
        == "the job failed for good (no_answer): see faxctl log; nothing more is tried"
    )


def test_never_is_a_valid_date_and_time(tmp_path: Path) -> None:
    """No drill yet and nothing confirmed yet: both times are the zero-length string the MIB
    allows for "none", not the eight zero octets (month 0 is no DateAndTime, RFC 2579)."""

    def fresh() -> Health:
        return replace(health(), last_confirmed=None, drill=DrillResult.NONE, drill_at=None)

    running = SnmpAgent(settings(), fresh)
    address = running.start()
    try:
        env = {**tool_env(tmp_path), "MIBDIRS": f"{ietf_mibs()}:{MIB_FILE.parent}", "MIBS": "FAXD-MIB"}
        names = ["FAXD-MIB::faxdLastConfirmedTime.0", "FAXD-MIB::faxdDrillTime.0"]
        got = subprocess.run(
            ["snmpget", *v3_args(), "-r", "0", "-t", "5", f"udp:127.0.0.1:{address[1]}", *names],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
    finally:
        running.stop()
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == [
        "FAXD-MIB::faxdLastConfirmedTime.0 = STRING: ",
        "FAXD-MIB::faxdDrillTime.0 = STRING: ",
    ], got.stdout
