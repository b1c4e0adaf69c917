"""The chain's heads as the journal holds them: ``audit.checkpoint`` events, read back
with journalctl by ``faxctl audit verify`` itself.

The daemon logs ``audit.checkpoint`` (sequence number, signature and the fingerprint of
the log's key) for entry 1 and every ``audit.checkpoint_every`` entries; under systemd
these go to the journal, which whoever can write the state folder cannot rewrite. So a
database rolled back together with the head file is still caught.

journalctl is asked by field (``SYSLOG_IDENTIFIER=faxd FAXD_EVENT=audit.checkpoint``,
JSON output) rather than with ``--grep`` over the message text: a field match is exact,
and ``--grep`` needs a journalctl built with PCRE2. Only checkpoints of this log's key
count (``FAXD_KEY``), so a journal that also holds another installation's checkpoints
(a test run, a reinstall with a new key) raises no false alarm; checkpoints logged
before the key field existed are taken as this log's. An auditor with a copy of the
journal gives ``--journal-directory`` or ``--journal-file``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from faxd.audit.head import Head
from faxd.journal import IDENTIFIER

_SIGNATURE = re.compile(r"[0-9a-f]{128}")
TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class JournalHeads:
    heads: list[Head]
    note: str  # one line: how many were compared, or why the journal was not read


def read_journal(
    fingerprint: str, *, directory: Path | None = None, file: Path | None = None, journalctl: str | None = None
) -> JournalHeads:
    """The checkpoints of the log with key ``fingerprint`` in the journal. Never raises:
    a journal that cannot be read is a note (verification then rests on the head file)."""
    binary = journalctl or shutil.which("journalctl")
    if binary is None:
        return JournalHeads([], "journal: not read (journalctl is not installed)")
    argv = [binary, "--no-pager", "--quiet", "-o", "json", "--output-fields=FAXD_SEQ,FAXD_SIGNATURE,FAXD_KEY"]
    if directory is not None:
        argv += ["--directory", str(directory)]
    if file is not None:
        argv += ["--file", str(file)]
    argv += [f"SYSLOG_IDENTIFIER={IDENTIFIER}", "FAXD_EVENT=audit.checkpoint"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return JournalHeads([], f"journal: not read ({type(exc).__name__}: {exc})")
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[0]
        return JournalHeads([], f"journal: not read (journalctl: {first})")
    heads: list[Head] = []
    others = 0
    for number, line in enumerate(result.stdout.splitlines(), 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(entry, dict):
            continue
        seq, signature, key = entry.get("FAXD_SEQ"), entry.get("FAXD_SIGNATURE"), entry.get("FAXD_KEY")
        if key is not None and key != fingerprint:
            others += 1
            continue
        if not (isinstance(seq, str) and seq.isdigit() and isinstance(signature, str)):
            continue
        if _SIGNATURE.fullmatch(signature):
            heads.append(Head(int(seq), signature, "", f"journal checkpoint {number} (entry {seq})"))
    where = f" in {directory or file}" if directory or file else ""
    note = f"journal: {len(heads)} checkpoints of this log compared{where}"
    if others:
        note += f" ({others} of other keys ignored)"
    if not heads:
        note += "; none found: is faxd logging to this journal, and may you read it (group systemd-journal or adm)?"
    return JournalHeads(heads, note)
