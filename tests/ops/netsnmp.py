"""net-snmp's own tools against our agent: snmpwalk/snmpget clients and an snmptrapd receiver.

Each tool runs with its persistent directory and configuration in the test's folder and
no MIBs loaded (numeric OIDs), so nothing on the machine influences the result.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

AUTH_KEY = "faxd-auth-secret"
PRIV_KEY = "faxd-priv-secret"
ENGINE_ID = bytes.fromhex("80007ed904666178642d74657374")  # enterprise 32473, text "faxd-test"


def tool_env(root: Path) -> dict[str, str]:
    empty = root / "no-mibs"
    empty.mkdir(exist_ok=True)
    return {
        **os.environ,
        "SNMP_PERSISTENT_DIR": str(root / "persist"),
        "SNMPCONFPATH": str(root / "conf"),
        "MIBS": "",
        "MIBDIRS": str(empty),
    }


def v3_args(*, auth: str = "SHA-256", priv: str = "AES", auth_key: str = AUTH_KEY) -> list[str]:
    return ["-v3", "-l", "authPriv", "-u", "faxd", "-a", auth, "-A", auth_key, "-x", priv, "-X", PRIV_KEY]


def walk(root: Path, port: int, args: list[str], oid: str = ".1.3.6.1.4.1.32473") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["snmpwalk", *args, "-On", "-r", "0", "-t", "5", f"udp:127.0.0.1:{port}", oid],
        capture_output=True,
        text=True,
        timeout=30,
        env=tool_env(root),
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TrapReceiver:
    """snmptrapd in the foreground on an ephemeral loopback port, accepting only our
    SNMPv3 user at authPriv (and v2c community ``public``), its output read line by line."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        conf = root / "faxd-trapd.conf"  # never inside the persistent dir: snmptrapd rewrites that one
        conf.write_text(
            f"createUser -e 0x{ENGINE_ID.hex()} faxd SHA-256 {AUTH_KEY} AES {PRIV_KEY}\n"
            # An inform's receiver is the authoritative engine (RFC 3414): the same user
            # under snmptrapd's own engine id, which our agent discovers before sending.
            f"createUser faxd SHA-256 {AUTH_KEY} AES {PRIV_KEY}\n"
            "authUser log faxd priv\n"
            "authCommunity log public\n"
        )
        self.port = free_udp_port()
        self.proc = subprocess.Popen(
            ["snmptrapd", "-f", "-Lo", "-C", "-c", str(conf), "-On", f"udp:127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=tool_env(root),
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(r"NET-SNMP version")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 20.0) -> str:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if regex.search(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"snmptrapd: nothing matching {pattern!r}; got:\n" + "\n".join(self.lines))
                self._cond.wait(remaining)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
