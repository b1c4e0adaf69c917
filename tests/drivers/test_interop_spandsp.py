"""Class1Modem against SpanDSP's T.31 modem and T.30 answering terminal (interop/spandsp).

An independent implementation of the far end: if our frames, bit order, DLE shielding or
T.4 data were wrong in a way our own simulator mirrors, SpanDSP would not confirm the
pages or would decode different pixels. Skipped where the reference peer is not built
(``make -C interop/spandsp`` needs libspandsp-dev).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FAX_WIDTH, FaxPage

PEER = Path(__file__).resolve().parents[2] / "interop" / "spandsp" / "spandsp-faxmodem"
STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")

pytestmark = pytest.mark.skipif(not PEER.is_file(), reason="interop/spandsp/spandsp-faxmodem is not built")


def _page(seed: int, rows: int) -> FaxPage:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((rows, FAX_WIDTH), dtype=np.bool_)
    for _ in range(80):
        top, left = int(rng.integers(0, rows - 12)), int(rng.integers(0, FAX_WIDTH - 230))
        pixels[top : top + int(rng.integers(2, 12)), left : left + int(rng.integers(3, 220))] = True
    return FaxPage(pixels)


@pytest.fixture(params=[[], ["--v29-only"]], ids=["v17", "v29"])
def peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    out = tmp_path / "spandsp"
    link = tmp_path / "ttySD"
    args = [str(PEER), "--link", str(link), "--out", str(out), "--csi", "+46 40 628 04 99", *request.param]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        path = process.stdout.readline().strip()  # the peer prints its pty once it is ready
        assert path.startswith("/dev/"), f"the SpanDSP peer did not start: {path!r}"
        yield path, out
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_spandsp_receives_our_pages_exactly(peer: tuple[str, Path]) -> None:
    path, out = peer
    # Each page codes to < 2 KiB, which a pty write delivers in one piece. Larger pages
    # arrive in 2 KiB pieces (the kernel's tty write chunk); on a loaded machine the peer,
    # which runs simulated line time as fast as the CPU allows, can underrun between two
    # pieces and fill mid-line. A real modem's buffer absorbs that; the 600/400-row pages
    # of this test were clean on an idle machine at 14400, 9600, 4800 and in --realtime.
    pages = [_page(1, 120), _page(2, 100)]
    modem = Class1Modem(path, station=STATION, name="spandsp")
    try:
        result = modem.send(CallRequest(number="040-628 04 99", pages=pages, expected_remote_id="040-628 04 99"))
    finally:
        modem.close()
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.pages_confirmed, result.remote_id) == (2, "+46 40 628 04 99")

    record = json.loads((out / "call-0001.json").read_text())
    assert record["pages"] == 2 and record["completion_code"] == 0
    assert record["remote_tsi"].strip() == STATION.tsi
    assert record["bit_rate"] == result.bit_rate
    assert [page["bad_rows"] for page in record["page_details"]] == [0, 0], record
    with Image.open(out / "call-0001.tif") as tiff:
        received = [np.asarray(frame.convert("1")) == 0 for frame in ImageSequence.Iterator(tiff)]
    assert len(received) == 2
    for sent, got in zip(pages, received, strict=True):
        assert np.array_equal(sent.pixels, got)
