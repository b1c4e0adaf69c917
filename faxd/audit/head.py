"""The published head of the chain: where a rolled-back database cannot hide.

Every committed entry's sequence number and signature are appended to a head file in
a separate place (``audit.head_file``: by default ``/var/log/faxd/audit-head``, a folder
the daemon appends to and the auditors' group reads; ``chattr +a`` makes it
append-only for root's purposes too). Every ``checkpoint_every`` entries the head also
goes to the journal as ``audit.checkpoint``. Someone who can write the state folder can
truncate, wipe or restore the database, but not un-publish a head: verification finds
the published entries missing or different.

Lines are ``SEQ SIGNATURE-HEX AT``. Several processes (the daemon, ``faxctl outage``)
append; lines may therefore come slightly out of order, which verification allows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(\d+) ([0-9a-f]{128}) (\S+)$")
_CHECKPOINT_SEQ = re.compile(r'"?seq"?\s*[=:]\s*(\d+)')
_CHECKPOINT_SIG = re.compile(r'"?signature"?\s*[=:]\s*"?([0-9a-f]{128})')


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    signature: str
    at: str
    source: str  # where it was read: "head file line 12", "checkpoint line 3"


class HeadFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def publish(self, seq: int, signature: str, at: str) -> None:
        """Append one head line. O_APPEND: concurrent writers never overwrite each other."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, f"{seq} {signature} {at}\n".encode())
        finally:
            os.close(fd)

    def read(self) -> tuple[list[Head], list[str]]:
        """The heads in the file and a note per line that could not be read.
        A missing file gives no heads (the caller decides whether that is suspicious)."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return [], []
        heads: list[Head] = []
        bad: list[str] = []
        for number, line in enumerate(text.splitlines(), 1):
            match = _LINE.match(line.strip())
            if match is None:
                if line.strip():
                    bad.append(f"{self.path} line {number} is not a head line")
                continue
            heads.append(Head(int(match[1]), match[2], match[3], f"{self.path} line {number}"))
        return heads, bad


def read_checkpoints(path: Path) -> Iterator[Head]:
    """``audit.checkpoint`` events from a journal export (logfmt or JSON lines), e.g.
    ``journalctl -u faxd -o cat --grep audit.checkpoint > checkpoints.txt``."""
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if "audit.checkpoint" not in line:
            continue
        seq, sig = _CHECKPOINT_SEQ.search(line), _CHECKPOINT_SIG.search(line)
        if seq and sig:
            yield Head(int(seq[1]), sig[1], "", f"{path} line {number}")
