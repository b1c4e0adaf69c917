"""Modems that go away and come back, with the real daemon and simulated modems whose
pty disappears (the simulator killed) and reappears (started again on the same link)."""

from __future__ import annotations

import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.e2e.harness import BIN, Child, Gateway, admission_meta, make_pdf
from tests.ops.netsnmp import AUTH_KEY, ENGINE_ID, PRIV_KEY, TrapReceiver, free_udp_port

pytestmark = pytest.mark.e2e


def simulator(gateway: Gateway, name: str, speed: float = 0.0) -> Child:
    link = gateway.root / f"tty-{name}"
    child = Child(
        [
            str(BIN / "faxctl"),
            "modem",
            "simulate",
            "--link",
            str(link),
            "--out",
            str(gateway.received / name),
            "--speed",
            str(speed),
            "--csi",
            "+46 40 628 04 99",
        ]
    )
    gateway.children.append(child)
    child.wait_for(re.escape(str(link)), timeout=30)
    return child


def modems(gateway: Gateway) -> dict[str, dict[str, str]]:
    return {m["name"]: m for m in gateway.status()["modems"]}


def two_modem_gateway(gateway: Gateway) -> None:
    gateway.device = str(gateway.root / "tty-sim0")
    gateway.extra_config = (
        f'probe_seconds = 1\n[[modem]]\nname = "m1"\ndevice = "{gateway.root / "tty-sim1"}"\nprobe_seconds = 1\n'
    )


def test_an_idle_modem_unplugged_is_marked_down_jobs_go_to_the_other_and_it_comes_back(
    gateway: Gateway, tmp_path: Path
) -> None:
    """The idle AT probe finds m0 gone: modem.down with its reason, status shows it down;
    documents dropped meanwhile go out on m1 without an error; when the pty is back m0 is
    reopened on its schedule (modem.up) and shows ready."""
    sim0 = simulator(gateway, "sim0")
    simulator(gateway, "sim1")
    two_modem_gateway(gateway)
    daemon = gateway.start_daemon()
    sim0.stop(signal.SIGKILL)  # the pty disappears; the link is left dangling
    line = daemon.wait_for(r"event=modem\.down(?=.*modem=m0)", timeout=30)[0]
    assert "reason=" in line
    assert modems(gateway)["m0"]["state"] == "down"
    for n in range(2):
        gateway.send(make_pdf(tmp_path / f"d{n}.pdf", 1, metadata=admission_meta(FaxdReference=f"U-{n}")))
    daemon.wait_for(r"event=job\.sent", count=4, timeout=120)
    log = gateway.log()
    # Every job confirmed, all on m1: nothing was tried on the modem that was down.
    assert [e["outcome"] for e in log].count("confirmed") == 4, log
    # m1 takes the work. (m0 may get one too: the kernel can hand sim0's pty number to a
    # pty another process opens meanwhile, and the dangling link then leads there.)
    assert any(e["modem"] == "m1" and e["outcome"] == "confirmed" for e in log)
    assert daemon.count(r"job\.crashed|internal error") == 0
    simulator(gateway, "sim0")  # the pty reappears behind the same link
    daemon.wait_for(r"event=modem\.up(?=.*modem=m0)", timeout=60)
    assert modems(gateway)["m0"]["state"] == "ready"


def test_a_modem_unplugged_mid_call_gives_the_job_back_with_its_try_kept(gateway: Gateway, tmp_path: Path) -> None:
    """The pty disappears during a call: the modem is marked down, the attempt ends as a
    modem error without using up a try, and the job is confirmed once the modem is back."""
    gateway.device = str(gateway.root / "tty-sim0")
    sim0 = simulator(gateway, "sim0", speed=0.05)
    daemon = gateway.start_daemon()
    gateway.send(make_pdf(tmp_path / "k.pdf", 2, metadata=admission_meta()))
    daemon.wait_for(r"event=job\.dialing", timeout=60)
    sim0.stop(signal.SIGKILL)
    daemon.wait_for(r"event=modem\.down(?=.*modem=m0)", timeout=60)
    daemon.wait_for(r"event=job\.requeued", timeout=30)
    status = gateway.status()
    assert status["modems"][0]["state"] == "down"
    assert {j["state"] for j in status["open_jobs"]} == {"queued"}
    assert all(j["attempts"] == 0 for j in status["open_jobs"])  # the modem's fault: no try used
    simulator(gateway, "sim0")
    daemon.wait_for(r"event=modem\.up(?=.*modem=m0)", timeout=60)
    daemon.wait_for(r"event=job\.sent", count=2, timeout=120)
    outcomes = [e["outcome"] for e in gateway.log()]
    assert outcomes[0] == "modem_error" and outcomes.count("confirmed") == 2


MODEM_DOWN_TRAP = r"OID: \.1\.3\.6\.1\.4\.1\.32473\.1\.0\.1\b"  # faxdModemDown
MODEM_UP_TRAP = r"OID: \.1\.3\.6\.1\.4\.1\.32473\.1\.0\.2\b"  # faxdModemUp


@pytest.mark.skipif(shutil.which("snmptrapd") is None, reason="net-snmp's snmptrapd not installed (setup.sh)")
def test_an_idle_modem_that_stops_answering_raises_modem_down_and_up_at_snmptrapd(
    gateway: Gateway, tmp_path: Path
) -> None:
    """The only modem, idle, loses its pty: the AT probe finds it, the daemon takes it out
    of service and snmptrapd receives faxdModemDown naming it; `faxctl status` says the
    service is down and why. The pty comes back and nobody does anything: the daemon
    reopens the modem by itself, snmptrapd receives faxdModemUp, the status is ready again.
    One notification each: the reopen attempts while it is down raise no more."""
    trapd = TrapReceiver(tmp_path / "trapd")
    try:
        gateway.device = str(gateway.root / "tty-sim0")
        gateway.extra_config = (
            "probe_seconds = 1\n"
            f'[snmp]\nport = {free_udp_port()}\nauth_key = "{AUTH_KEY}"\npriv_key = "{PRIV_KEY}"\n'
            f'engine_id = "{ENGINE_ID.hex()}"\n'
            f'[[snmp.manager]]\naddress = "127.0.0.1"\nport = {trapd.port}\n'
        )
        sim0 = simulator(gateway, "sim0")
        daemon = gateway.start_daemon()
        daemon.wait_for(r"event=snmp\.started")
        assert "\nservice: ready\n" in gateway.faxctl("status").stdout
        sim0.stop(signal.SIGKILL)  # the pty disappears while no call is on it

        # Within probe_seconds (1 s) of the idle modem's last use, well before the runner's
        # idle wait (30 s) would end on its own.
        daemon.wait_for(r"event=modem\.down(?=.*modem=m0)", timeout=20)
        down = trapd.wait_for(MODEM_DOWN_TRAP, timeout=30)
        assert '= STRING: "m0"' in down  # faxdNotifyModem
        assert "cannot be used" in down and "(5, '" not in down, down  # faxdNotifyText, in words
        text = gateway.faxctl("status").stdout
        verdict = next(line for line in text.splitlines() if line.startswith("service: "))
        assert verdict.startswith("service: down - no modem is up: nothing can be sent; modem m0 is down ("), verdict
        assert modems(gateway)["m0"]["state"] == "down"

        simulator(gateway, "sim0")  # the pty is back behind the same link
        daemon.wait_for(r"event=modem\.up(?=.*modem=m0)", timeout=60)
        up = trapd.wait_for(MODEM_UP_TRAP, timeout=30)
        assert '= STRING: "m0"' in up
        assert "\nservice: ready\n" in gateway.faxctl("status").stdout
        assert modems(gateway)["m0"]["state"] == "ready"
        assert sum(1 for line in trapd.lines if re.search(MODEM_DOWN_TRAP, line)) == 1
        assert sum(1 for line in trapd.lines if re.search(MODEM_UP_TRAP, line)) == 1
    finally:
        gateway.stop_all()
        trapd.stop()
