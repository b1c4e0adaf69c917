"""How Class1Modem puts an ECM block on the line: HDLC frames after AT+FTM (T.4 Annex A)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import structlog

from drivers.class1_runner import CallRunner
from drivers.page import FAX_WIDTH, FaxPage
from drivers.quirks import Class1Quirks
from drivers.t4 import Coding, decode_page
from drivers.t30.events import BlockSent, SendBlock
from drivers.t30.frames import FCF, BitRate, FCDFrame, PageCoding, decode
from drivers.t30.hdlc import unframe


@dataclass
class _RecordingLink:
    """Stands in for T31Link: keeps what ``send_data`` was given."""

    sent: list[tuple[int, bytes, int]] = field(default_factory=list)
    quirks: Class1Quirks = field(default_factory=Class1Quirks)

    def send_data(self, code: int, data: bytes, *, bps: int) -> None:
        self.sent.append((code, data, bps))


def _page(rows: int) -> FaxPage:
    rng = np.random.default_rng(5)
    return FaxPage(rng.random((rows, FAX_WIDTH)) < 0.08)  # noisy: many octets per row


def _runner(link: _RecordingLink, page: FaxPage) -> CallRunner:
    return CallRunner(link, [page], None, structlog.get_logger("test"))  # type: ignore[arg-type]


def _block(block: int = 0, frames: tuple[int, ...] | None = None, *, long_training: bool = False) -> SendBlock:
    return SendBlock(0, block, frames, BitRate.V17_14400, PageCoding.MMR, 256, True, long_training)


def test_a_block_is_fcd_frames_then_three_rcp() -> None:
    """Frames numbered from 0, 256 octets each (the last padded), then 3 RCP; the data
    put back together decodes to the page."""
    link, page = _RecordingLink(), _page(60)
    event = _runner(link, page).execute(_block())
    ((code, stream, bps),) = link.sent
    assert (code, bps) == (146, 14400)  # V.17 short training after TCF
    frames = [decode(raw) for raw in unframe(stream)]
    fcd = [f for f in frames if isinstance(f, FCDFrame)]
    assert [f.fcf for f in frames[len(fcd) :]] == [FCF.RCP] * 3
    assert [f.number for f in fcd] == list(range(len(fcd)))
    assert all(len(f.data) == 256 for f in fcd)
    assert event == BlockSent(0, 0, len(fcd), page_end=True)
    pixels = decode_page(b"".join(f.data for f in fcd), Coding.MMR, strict=False)
    assert np.array_equal(pixels, page.pixels)


def test_a_long_page_is_cut_into_blocks_of_256_frames() -> None:
    link, page = _RecordingLink(), _page(500)  # MMR codes it to 1.5 blocks
    runner = _runner(link, page)
    first = runner.execute(_block(0))
    assert isinstance(first, BlockSent) and (first.frame_count, first.page_end) == (256, False)
    second = runner.execute(_block(1))
    assert isinstance(second, BlockSent) and second.page_end and 0 < second.frame_count < 256
    numbers = [decode(raw) for raw in unframe(link.sent[1][1])]
    assert [f.number for f in numbers if isinstance(f, FCDFrame)] == list(range(second.frame_count))


def test_a_resend_carries_only_the_frames_asked_for() -> None:
    link, page = _RecordingLink(), _page(60)
    runner = _runner(link, page)
    whole = runner.execute(_block())
    again = runner.execute(_block(frames=(1, 3), long_training=True))
    assert again == whole  # the frame count is the block's, not the resend's
    code, stream, _ = link.sent[1]
    assert code == 145  # after CTC/CTR: long training
    fcd = [f for f in (decode(raw) for raw in unframe(stream)) if isinstance(f, FCDFrame)]
    first = [f for f in (decode(raw) for raw in unframe(link.sent[0][1])) if isinstance(f, FCDFrame)]
    assert [f.number for f in fcd] == [1, 3]
    assert [f.data for f in fcd] == [first[1].data, first[3].data]
