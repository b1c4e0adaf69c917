"""Run inside a private mount namespace (``unshare -m``): a real systemd-journald on
fresh tmpfs mounts, our logging chain in journal mode sending it events, and
journalctl reading them back. Prints one JSON object: what journalctl returned per query.

It is a separate program because the mounts must not touch the machine's own journal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import structlog

JOURNALD = "/lib/systemd/systemd-journald"
EVENTS = [
    (
        "error",
        "job.failed",
        {
            "job_id": "FX-20261202-00042",
            "modem": "m0",
            "outcome": "no_answer",
            "document_id": "D20261202T101500-abc123",
            "reason": "no answer\nfrom 19121212-1212",
        },
    ),
    ("error", "modem.down", {"modem": "m1", "reason": "no answer to AT"}),
    ("info", "probe.custom_event", {"count": 3}),
]


def private_mounts() -> None:
    for folder in ("/run/systemd", "/run/log", "/var/log/journal"):
        if Path(folder).is_dir():
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", folder], check=True)
    Path("/run/systemd/journal").mkdir(parents=True, exist_ok=True)


def start_journald(workdir: Path) -> subprocess.Popen[bytes]:
    """journald, reporting READY=1 on our own notify socket (no sleeping on a guess)."""
    path = workdir / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(path))
    notify.settimeout(30)
    proc = subprocess.Popen([JOURNALD], env={**os.environ, "NOTIFY_SOCKET": str(path)})
    while b"READY=1" not in notify.recv(4096).split(b"\n"):
        pass
    notify.close()
    return proc


def main() -> int:
    private_mounts()
    with tempfile.TemporaryDirectory() as tmp:
        journald = start_journald(Path(tmp))
        try:
            from faxd.journal import message_id
            from faxd.logs import configure

            configure("logfmt", journal=True)
            log = structlog.get_logger("probe")
            for level, name, fields in EVENTS:
                getattr(log, level)(name, **fields)
            subprocess.run(["journalctl", "--sync"], check=True, timeout=30)
            queries = {
                "by_message_id": [f"MESSAGE_ID={message_id('job.failed')}"],
                "by_job": ["FAXD_JOB=FX-20261202-00042"],
                "by_modem": ["FAXD_MODEM=m1", "SYSLOG_IDENTIFIER=faxd"],
                "custom": [f"MESSAGE_ID={message_id('probe.custom_event')}"],
                "raw_identity_number": ["--grep=19121212"],
            }
            out = {}
            for name, args in queries.items():
                result = subprocess.run(
                    ["journalctl", "--no-pager", "-o", "json", *args], capture_output=True, text=True, timeout=30
                )
                out[name] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
            print(json.dumps(out))
        finally:
            journald.terminate()
            journald.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
