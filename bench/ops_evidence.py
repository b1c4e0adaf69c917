"""The operations evidence for a closing note, from the real tools, printed with the commands.

1. ``systemd-analyze verify`` and ``security --offline=true`` of ``systemd/faxd.service``
   (ExecStart pointed at this checkout's faxd, since verify requires the binary to exist).
2. The real daemon with ``[snmp]`` (SNMPv3 authPriv, SHA-256/AES-128, the test keys) and two
   managers: snmptrapd for traps, and the same snmptrapd again for informs. A real call to
   a unit whose directory station id the simulated remote does not give: the station
   mismatch alarm goes out as faxdStationMismatch; then a good call; then ``snmpwalk -v3``;
   then the idle modem's pty goes away (the simulator killed): faxdModemDown, ``faxctl
   status``; the simulator started again: faxdModemUp by itself, ``faxctl status``.

    .venv/bin/python -m bench.ops_evidence > ops-evidence.txt
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import GUARDED_MUNICIPALITY, Child, Gateway, admission_meta, make_pdf  # noqa: E402
from tests.ops.netsnmp import AUTH_KEY, ENGINE_ID, PRIV_KEY, TrapReceiver, free_udp_port, tool_env  # noqa: E402

BIN = Path(sys.executable).parent


def run(cmd: list[str], **kw: object) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    return f"$ {shlex.join(cmd)}\n{result.stdout}{result.stderr}(exit status {result.returncode})\n"


def systemd_part(scratch: Path) -> str:
    unit = scratch / "faxd.service"
    text = (ROOT / "systemd" / "faxd.service").read_text()
    unit.write_text(text.replace("ExecStart=/usr/bin/faxd", f"ExecStart={BIN / 'faxd'}"))
    out = f"# unit: systemd/faxd.service with ExecStart={BIN / 'faxd'} (as {unit})\n"
    out += run(["systemd-analyze", "--version"]).splitlines()[1] + "\n"
    out += run(["systemd-analyze", "verify", str(unit)])
    out += run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)])
    return out


def snmp_part(root: Path) -> str:
    trapd = TrapReceiver(root / "trapd")
    port = free_udp_port()
    extra = (
        "probe_seconds = 1\n"  # m0: the idle AT probe every second
        f'[snmp]\nport = {port}\nauth_key = "{AUTH_KEY}"\npriv_key = "{PRIV_KEY}"\nengine_id = "{ENGINE_ID.hex()}"\n'
        f'[[snmp.manager]]\naddress = "127.0.0.1"\nport = {trapd.port}\n'
        f'[[snmp.manager]]\naddress = "127.0.0.1"\nport = {trapd.port}\nnotify = "inform"\n'
    )
    gateway = Gateway(root=root, device=str(root / "tty-sim"), extra_config=extra)
    out = f"# snmptrapd: {shlex.join(trapd.proc.args)}\n# its config ({root / 'trapd' / 'faxd-trapd.conf'}):\n"  # type: ignore[arg-type]
    out += (root / "trapd" / "faxd-trapd.conf").read_text() + "\n"
    try:
        gateway.start_simulator()
        daemon = gateway.start_daemon()
        daemon.wait_for(r"snmp\.started")
        gateway.send(make_pdf(root / "a.pdf", 1, metadata=admission_meta(FaxdMunicipality=GUARDED_MUNICIPALITY)))
        daemon.wait_for(r"event=alarm\.station_mismatch", timeout=180)
        trapd.wait_for(r"32473\.1\.0\.4")
        daemon.wait_for(r"event=snmp\.inform_acknowledged", timeout=60)
        daemon.wait_for(r"event=job\.sent", timeout=180)
        cmd = ["snmpwalk", "-v3", "-l", "authPriv", "-u", "faxd", "-a", "SHA-256", "-A", AUTH_KEY]
        cmd += ["-x", "AES", "-X", PRIV_KEY, "-On", f"udp:127.0.0.1:{port}", ".1.3.6.1.4.1.32473.1.1"]
        out += run(cmd, env=tool_env(root))
        names = [*cmd[:-1], "-m", "FAXD-MIB", "-M", f"+/var/lib/mibs/ietf:{ROOT / 'faxd' / 'data'}"]
        out += run([n for n in names if n != "-On"] + ["FAXD-MIB::faxdMIB"], env=tool_env(root))
        out += modem_down_and_up(gateway, daemon, trapd)
        out += (
            "\n# snmptrapd received (each notification twice: to the trap manager and to the inform manager):\n"
            + "\n".join(trapd.lines)
            + "\n"
        )
        out += "\n# the daemon's own lines about it:\n"
        mentions = ("station_mismatch", "snmp.", "modem.down", "modem.up")
        out += "\n".join(line for line in list(daemon.lines) if any(m in line for m in mentions))
    finally:
        gateway.stop_all()
        trapd.stop()
    return out + "\n"


def modem_down_and_up(gateway: Gateway, daemon: Child, trapd: TrapReceiver) -> str:
    """The idle modem's pty goes away and comes back: the status after each, as printed."""
    assert gateway.simulator is not None
    gateway.simulator.stop(signal.SIGKILL)
    out = "\n# the simulator killed (m0's pty gone while idle); after modem.down and faxdModemDown:\n"
    daemon.wait_for(r"event=modem\.down", timeout=60)
    trapd.wait_for(r"32473\.1\.0\.1\b")
    out += run([str(BIN / "faxctl"), "--config", str(gateway.config), "status"])
    gateway.start_simulator()
    out += "\n# the simulator started again on the same link; after modem.up and faxdModemUp:\n"
    daemon.wait_for(r"event=modem\.up", timeout=60)
    trapd.wait_for(r"32473\.1\.0\.2\b")
    return out + run([str(BIN / "faxctl"), "--config", str(gateway.config), "status"])


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="faxd-ops-evidence-"))
    print(systemd_part(scratch))
    print(snmp_part(scratch / "site"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
