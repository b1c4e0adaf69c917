"""Class1Modem against SpanDSP's T.31 modem and T.30 answering terminal (interop/spandsp).

An independent implementation of the far end: if our frames, bit order, DLE shielding,
HDLC framing (ECM) or T.4/T.6 data were wrong in a way our own simulator mirrors,
SpanDSP would not confirm the pages or would decode different pixels. Skipped, saying
what to install, where the reference peer cannot be built (``scripts/setup.sh`` builds
it; ``make -C interop/spandsp`` needs libspandsp-dev).

The matrix: rate (V.17 14400, V.29 9600, V.27ter 4800) x ECM (on, off) x coding (MH,
MR, and MMR with ECM), three pages each, one of them a full text-form page that codes
to 25-60 KB.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageSequence

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Policy, Station
from drivers.page import FAX_WIDTH, FaxPage
from drivers.t30.frames import PageCoding
from tests.drivers.pages import random_boxes
from tests.interop.spandsp_peer import SpandspPeer

PEER_CSI = "+46 40 628 04 99"
STATION = Station(tsi="+46 40 628 04 00", header_name="Region Skane test")
#: SpanDSP's names for the codings in its call record.
SPANDSP_CODING = {PageCoding.MH: "T.4 1-D", PageCoding.MR: "T.4 2-D", PageCoding.MMR: "T.6"}


def _boxes_page(seed: int, rows: int) -> FaxPage:
    return FaxPage(random_boxes(seed, rows, boxes=80, width=(3, 230)))


def text_form_page(seed: int, rows: int = 2200) -> FaxPage:
    """Returns an A4 fine page that looks like a filled-in form: a heading rule, lines of
    "text" (glyphs of two-pixel strokes) and framed boxes. MH ~55 KB, MMR ~27 KB."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((rows, FAX_WIDTH), dtype=np.bool_)
    glyphs = np.zeros((40, 24, 14), dtype=np.bool_)
    for glyph in glyphs:
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.5:
                x, (a, b) = int(rng.integers(1, 12)), sorted(int(v) for v in rng.integers(2, 22, 2))
                glyph[a : b + 2, x : x + 2] = True
            else:
                y, (a, b) = int(rng.integers(2, 21)), sorted(int(v) for v in rng.integers(1, 13, 2))
                glyph[y : y + 2, a : b + 2] = True
    pixels[60:64, 100:1628] = True
    for top in range(100, rows - 60, 36):
        if rng.random() < 0.2:
            continue
        column, end = 100, int(rng.integers(700, 1628))
        while column < end:
            if rng.random() > 0.17:
                pixels[top : top + 24, column : column + 14] |= glyphs[int(rng.integers(0, 40))]
            column += 16
    for top in range(400, rows - 300, 600):
        pixels[top : top + 300, 90] = pixels[top : top + 300, 1640] = True
        pixels[top, 90:1641] = pixels[top + 299, 90:1641] = True
    return FaxPage(pixels)


PAGES = [_boxes_page(1, 300), text_form_page(7), _boxes_page(2, 500)]

RATES = {"v17-14400": ([], 14400), "v29-9600": (["--v29-only"], 9600), "v27ter-4800": (["--v27-only"], 4800)}
MODES = [
    pytest.param(False, PageCoding.MH, id="no-ecm-MH"),
    pytest.param(False, PageCoding.MR, id="no-ecm-MR"),
    pytest.param(True, PageCoding.MH, id="ecm-MH"),
    pytest.param(True, PageCoding.MR, id="ecm-MR"),
    pytest.param(True, PageCoding.MMR, id="ecm-MMR"),
]


@pytest.fixture(params=list(RATES), ids=list(RATES))
def peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SpandspPeer, int]]:
    args, bps = RATES[request.param]
    with SpandspPeer(link=tmp_path / "ttySD", out=tmp_path / "spandsp", args=["--csi", PEER_CSI, *args]) as running:
        yield running, bps


def _received(path: Path) -> list[npt.NDArray[np.bool_]]:
    with Image.open(path) as tiff:
        return [np.asarray(frame.convert("1")) == 0 for frame in ImageSequence.Iterator(tiff)]


@pytest.mark.parametrize(("ecm", "coding"), MODES)
def test_matrix(peer: tuple[SpandspPeer, int], ecm: bool, coding: PageCoding) -> None:
    """Three pages, one a full text form, reach SpanDSP pixel for pixel in every mode."""
    running, bps = peer
    modem = Class1Modem(str(running.link), station=STATION, name="spandsp")
    request = CallRequest(
        number="040-628 04 99",
        pages=PAGES,
        expected_remote_id="040-628 04 99",
        policy=Policy(ecm=ecm, max_coding=coding),
    )
    try:
        result = modem.send(request)
    finally:
        modem.close()
    assert result.outcome is Outcome.CONFIRMED, f"{result.reason}\n{running.log()}"
    assert (result.pages_sent, result.pages_confirmed, result.bit_rate) == (3, 3, bps)
    assert (result.ecm, result.coding) == (ecm, coding.value)

    record = running.wait_for_call(1, timeout=30)
    assert record["pages"] == 3 and record["completion_code"] == 0, record
    assert (record["bit_rate"], record["ecm"], record["compression"]) == (bps, ecm, SPANDSP_CODING[coding])
    assert record["remote_tsi"].strip() == STATION.tsi
    received = _received(running.out / "call-0001.tif")
    assert len(received) == 3
    for number, (sent, got) in enumerate(zip(PAGES, received, strict=True), start=1):
        assert np.array_equal(sent.pixels, got), f"page {number} differs"


def test_text_form_page_is_realistic() -> None:
    """The big page codes to tens of kilobytes, like a scanned form, not a toy page."""
    from drivers.t4 import Coding, encode_page

    pixels = PAGES[1].pixels
    assert 40_000 < len(encode_page(pixels, Coding.MH)) < 70_000
    assert 20_000 < len(encode_page(pixels, Coding.MMR)) < 40_000


def test_call_record_names_what_we_sent(tmp_path: Path) -> None:
    """A one-page call with forced MH and no ECM: the record is complete, the trace written."""
    with SpandspPeer(link=tmp_path / "ttySD", out=tmp_path / "spandsp", args=["--csi", PEER_CSI]) as running:
        modem = Class1Modem(str(running.link), station=STATION, name="spandsp", trace_dir=tmp_path / "traces")
        try:
            result = modem.send(CallRequest(number="040-628 04 99", pages=PAGES[:1], policy=Policy(ecm=False)))
        finally:
            modem.close()
        record = running.wait_for_call(1, timeout=30)
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert result.coding == "MR"  # SpanDSP offers 2-D coding; without ECM, MR is the best
    assert json.dumps(record)  # the record is plain JSON
    assert result.trace_path is not None and result.trace_path.parent == tmp_path / "traces"
    trace = result.trace_path.read_text()
    for expected in ("> ATDT0406280499", "DISFrame", "DCSFrame", "CFR", "> AT+FTM=", "EOP", "MCF", "DCN"):
        assert expected in trace


def test_ecm_with_64_octet_frames(tmp_path: Path) -> None:
    """DCS bit 28: SpanDSP takes ECM frames of 64 octets too, and the pages come out exact."""
    with SpandspPeer(link=tmp_path / "ttySD", out=tmp_path / "spandsp", args=["--csi", PEER_CSI]) as running:
        modem = Class1Modem(str(running.link), station=STATION, name="spandsp")
        try:
            result = modem.send(CallRequest(number="040-628 04 99", pages=PAGES[:2], policy=Policy(ecm_frame_size=64)))
        finally:
            modem.close()
        record = running.wait_for_call(1, timeout=30)
        received = _received(running.out / "call-0001.tif")
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (record["pages"], record["ecm"], record["compression"]) == (2, True, "T.6")
    for sent, got in zip(PAGES[:2], received, strict=True):
        assert np.array_equal(sent.pixels, got)
