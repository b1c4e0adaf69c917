"""The SpanDSP reference peer works on its own, proved with software none of us wrote.

Debian's ``efax`` (a Class 1 host) dials the peer's pty and sends a two-page fax;
SpanDSP's T.31 modem and fax terminal, behind the pty, receive it. If this passes,
a later failure of our Class 1 driver against the same peer is the driver's fault,
not the harness's.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from tests.interop.spandsp_peer import SpandspPeer, build_peer, open_host_side

CSI = "+46 40 628 04 99"
TSI = "+1 555 0100"

# efax 0.9a prints a page's bit/s as bytes*8 / whole seconds elapsed and dies of
# SIGFPE when a page takes under one wall-clock second; at 14400 bit/s a page of
# ours lasts about 6 s on the line, so 3x real time keeps every page over 1 s.
EFAX_SPEED = "3"


@pytest.fixture
def peer_binary() -> Path:
    """The built peer (the test is skipped when libspandsp-dev is missing)."""
    return build_peer()


@pytest.fixture
def peer(tmp_path: Path, peer_binary: Path) -> Iterator[SpandspPeer]:
    """A running peer with default options (as fast as possible, ECM allowed)."""
    running = SpandspPeer(link=tmp_path / "ttyFAX", out=tmp_path / "calls", args=["--csi", CSI])
    with running:
        yield running


def read_until(fd: int, marker: bytes, timeout: float, seen: bytes = b"") -> bytes:
    """Read from ``fd`` until ``marker`` appears; return everything read (raise on timeout)."""
    data = seen
    deadline = time.monotonic() + timeout
    while marker not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {marker!r} within {timeout} s; got {data!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                data += os.read(fd, 4096)
            except BlockingIOError:
                continue
    return data


def command(fd: int, line: str, timeout: float = 5.0) -> bytes:
    """Send one AT command line and return the modem's answer up to its OK."""
    os.write(fd, line.encode() + b"\r")
    return read_until(fd, b"OK\r\n", timeout)


def test_peer_answers_at_commands_and_survives_the_host_reopening(peer: SpandspPeer) -> None:
    """The pty speaks T.31, and a host closing it does not kill the peer."""
    assert os.path.realpath(peer.link) == peer.slave
    fd = open_host_side(peer.link)
    try:
        command(fd, "ATE0")
        assert b"OK" in command(fd, "AT+FCLASS=1")
    finally:
        os.close(fd)
    fd = open_host_side(peer.link)
    try:
        command(fd, "ATE0")
        answer = command(fd, "AT+FTM=?")
        assert b"145,146" in answer, answer
    finally:
        os.close(fd)
    assert peer.proc is not None and peer.proc.poll() is None, peer.log()


def test_host_hanging_up_mid_call_gives_an_abnormal_call_record(peer: SpandspPeer) -> None:
    """A host that dials, hears DIS and hangs up leaves a record that says so."""
    fd = open_host_side(peer.link)
    try:
        command(fd, "ATE0")
        command(fd, "AT+FCLASS=1")
        os.write(fd, b"ATD5550199\r")
        seen = read_until(fd, b"CONNECT\r\n", 30)
        # CSI and DIS arrive as HDLC frames; the final one (DIS) ends with OK.
        read_until(fd, b"\r\nOK\r\n", 30, seen.split(b"CONNECT\r\n", 1)[1])
        command(fd, "ATH")
        record = peer.wait_for_call(1, timeout=30)
    finally:
        os.close(fd)
    assert record["dialled"] == "5550199"
    assert record["pages"] == 0
    assert record["hangup"] == "host"
    assert record["ended_normally"] is False
    assert record["completion_code"] != 0
    assert record["completion_text"]


@pytest.fixture
def two_page_fax(tmp_path: Path) -> list[Path]:
    """Two G3 TIFF pages made with efix (part of Debian's efax package)."""
    if shutil.which("efax") is None or shutil.which("efix") is None:
        pytest.skip("efax/efix not installed: apt-get install -y efax")
    pages = []
    for number, text in enumerate(
        [
            "Page one of the faxd SpanDSP interop test\nHello from efax\n",
            "Page two of the faxd SpanDSP interop test\n\n\nGoodbye\n",
        ],
        start=1,
    ):
        source = tmp_path / f"page{number}.txt"
        source.write_text(text)
        target = tmp_path / f"page{number}.tif"
        with open(target, "wb") as out:
            subprocess.run(
                ["efix", "-i", "text", "-o", "tiffg3", str(source)], stdout=out, stderr=subprocess.DEVNULL, check=True
            )
        pages.append(target)
    return pages


def test_efax_sends_two_pages_through_spandsp(tmp_path: Path, peer_binary: Path, two_page_fax: list[Path]) -> None:
    """efax in Class 1 mode faxes two pages to the peer, and both arrive intact."""
    peer = SpandspPeer(link=tmp_path / "ttyFAX", out=tmp_path / "calls", args=["--csi", CSI, "--speed", EFAX_SPEED])
    with peer:
        efax = subprocess.run(
            [
                "efax",
                "-d",
                str(peer.link),
                "-o1",
                "-l",
                TSI,
                "-v",
                "ewinchart",
                "-t",
                "5550100",
                *map(str, two_page_fax),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        transcript = efax.stderr
        assert efax.returncode == 0, f"efax failed:\n{transcript}\n--- peer ---\n{peer.log()}"
        record = peer.wait_for_call(1, timeout=60)

    # What efax saw of the peer: our CSI came through, both pages went out.
    assert f"remote ID -> {CSI}" in " ".join(transcript.split()), transcript
    for page in two_page_fax:
        assert f"sent -> {page}" in transcript, transcript
    assert transcript.count("received MCF - page OK") == 2, transcript

    # What the peer saw of efax.
    assert record["pages"] == 2, record
    assert record["completion_code"] == 0, record
    assert record["completion_text"] == "OK"
    assert record["ended_normally"] is True
    assert record["remote_tsi"] == TSI
    assert record["local_csi"] == CSI
    assert record["bit_rate"] == 14400
    assert record["ecm"] is False  # efax has no ECM
    assert record["resolution"] == "fine"

    tiff = Path(record["tiff"])
    with Image.open(tiff) as image:
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    assert len(frames) == 2
    for frame in frames:
        assert frame.size[0] == 1728
        assert frame.size[1] > 2000  # a full A4 page at fine resolution
    ink = [np.count_nonzero(np.asarray(frame.convert("L")) < 128) for frame in frames]
    assert all(count > 1000 for count in ink), ink  # header and text made it
    assert ink[0] != ink[1]  # and they are the two different pages
