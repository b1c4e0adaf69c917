"""The T.30 sender with error correction (T.30 Annex A): blocks, PPS, PPR, CTC, EOR, RNR."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.t30 import Policy
from drivers.t30.engine import T30Sender
from drivers.t30.events import (
    Action,
    BlockSent,
    CallAnswered,
    CallOutcome,
    ConfirmPage,
    Disconnect,
    FramesReceived,
    ReceiveTimeout,
    SendBlock,
    SendFrames,
    TrainingSent,
)
from drivers.t30.frames import (
    FCF,
    BitRate,
    CTCFrame,
    DISFrame,
    EORFrame,
    Frame,
    IdentityFrame,
    PageCoding,
    PPRFrame,
    PPSFrame,
    RateCapability,
)
from tests.drivers.t30_script import OUR_TSI, final_action, reply


def _frames(actions: Sequence[Action]) -> list[Frame]:
    return [frame for action in actions if isinstance(action, SendFrames) for frame in action.frames]


def _block(actions: Sequence[Action]) -> SendBlock:
    block = actions[-1]
    assert isinstance(block, SendBlock), actions
    return block


def _ecm_engine(
    page_count: int = 2, rates: RateCapability = RateCapability.V27TER_V29_V17, **options: object
) -> T30Sender:
    """Returns an engine past CFR, with block 0 of page 1 requested."""
    engine = T30Sender(local_id=OUR_TSI, page_count=page_count, policy=Policy(**options))  # type: ignore[arg-type]
    engine.handle(CallAnswered())
    csi = IdentityFrame(fcf=FCF.CSI, final=False, identity="040 628 04 99")
    engine.handle(FramesReceived((csi, DISFrame(rates=rates, mr=True, ecm=True, mmr=True))))
    engine.handle(TrainingSent())
    block = _block(engine.handle(reply(FCF.CFR)))
    assert (block.index, block.block, block.frames, block.coding) == (0, 0, None, PageCoding.MMR)
    return engine


def test_normal_ecm_call() -> None:
    """Block, PPS-MPS, MCF, next page straight away, PPS-EOP, MCF, DCN: CONFIRMED."""
    engine = _ecm_engine()
    actions = engine.handle(BlockSent(0, 0, 12, page_end=True))
    assert _frames(actions) == [PPSFrame(x_bit=True, post_message=FCF.MPS, page=0, block=0, frame_count=12)]
    actions = engine.handle(reply(FCF.MCF))
    assert actions[0] == ConfirmPage(0)
    block = _block(actions)
    assert (block.index, block.block, block.frames, block.long_training) == (1, 0, None, False)
    assert not any(isinstance(a, SendFrames) for a in actions)  # no DCS between pages after MPS
    actions = engine.handle(BlockSent(1, 0, 5, page_end=True))
    assert _frames(actions) == [PPSFrame(x_bit=True, post_message=FCF.EOP, page=1, block=0, frame_count=5)]
    actions = engine.handle(reply(FCF.MCF))
    assert actions[0] == ConfirmPage(1)
    assert final_action(actions).outcome is CallOutcome.CONFIRMED
    assert (engine.pages_sent, engine.pages_confirmed) == (2, 2)


def test_a_page_of_several_blocks_uses_pps_null() -> None:
    engine = _ecm_engine(page_count=1)
    actions = engine.handle(BlockSent(0, 0, 256, page_end=False))
    assert _frames(actions) == [PPSFrame(x_bit=True, post_message=None, page=0, block=0, frame_count=256)]
    actions = engine.handle(reply(FCF.MCF))
    assert not any(isinstance(a, ConfirmPage) for a in actions)  # only part of the page so far
    assert _block(actions).block == 1
    actions = engine.handle(BlockSent(0, 1, 40, page_end=True))
    assert _frames(actions) == [PPSFrame(x_bit=True, post_message=FCF.EOP, page=0, block=1, frame_count=40)]
    assert final_action(engine.handle(reply(FCF.MCF))).outcome is CallOutcome.CONFIRMED


def test_ppr_resends_only_the_missing_frames() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    # Frame 200 is beyond this block: a receiver's map covers all 256, only ours count.
    block = _block(engine.handle(reply(PPRFrame(missing=frozenset({3, 7, 200})))))
    assert (block.index, block.block, block.frames) == (0, 0, (3, 7))
    actions = engine.handle(BlockSent(0, 0, 10, page_end=True))
    assert _frames(actions) == [PPSFrame(x_bit=True, post_message=FCF.MPS, page=0, block=0, frame_count=10)]
    assert engine.handle(reply(FCF.MCF))[0] == ConfirmPage(0)


def test_fourth_ppr_brings_ctc_at_the_next_lower_rate() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    ppr = reply(PPRFrame(missing=frozenset({4})))
    for _ in range(3):
        assert _block(engine.handle(ppr)).frames == (4,)
        engine.handle(BlockSent(0, 0, 10, page_end=True))
    actions = engine.handle(ppr)
    assert _frames(actions) == [CTCFrame(x_bit=True, bit_rate=BitRate.V17_12000)]
    block = _block(engine.handle(reply(FCF.CTR)))
    assert (block.frames, block.bit_rate, block.long_training) == ((4,), BitRate.V17_12000, True)
    # The PPR count starts again at the new rate.
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    assert _block(engine.handle(ppr)).long_training is False
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    assert engine.handle(reply(FCF.MCF))[0] == ConfirmPage(0)


def test_at_the_lowest_rate_the_fourth_ppr_brings_eor() -> None:
    engine = _ecm_engine(rates=RateCapability.V27TER, min_bps=4800)
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    ppr = reply(PPRFrame(missing=frozenset({1, 2})))
    for _ in range(3):
        engine.handle(ppr)
        engine.handle(BlockSent(0, 0, 10, page_end=True))
    actions = engine.handle(ppr)
    assert _frames(actions) == [EORFrame(x_bit=True, post_message=FCF.MPS)]
    # ERR: T.30 A.4.4 lets the sender carry on; old engine ended the call here.
    actions = engine.handle(reply(FCF.ERR))
    assert not any(isinstance(a, (Disconnect, ConfirmPage)) for a in actions)
    assert any(isinstance(a, SendBlock) and a.index == 1 for a in actions)
    assert engine.pages_confirmed == 0


def test_rnr_is_answered_with_rr_until_ready() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    for _ in range(3):
        assert [f.fcf for f in _frames(engine.handle(reply(FCF.RNR)))] == [FCF.RR]
    assert engine.handle(reply(FCF.MCF))[0] == ConfirmPage(0)


def test_a_receiver_busy_beyond_t5_ends_the_call() -> None:
    """T5 is 60 s from the first RNR, by the driver's clock (old engine: 30 RR rounds,
    however long they took)."""
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True), now=100.0)
    for now in (100.0, 110.0, 130.0, 159.9):  # 4 rounds within 60 s: still polling
        assert [f.fcf for f in _frames(engine.handle(reply(FCF.RNR), now=now))] == [FCF.RR]
    final = final_action(engine.handle(reply(FCF.RNR), now=160.0))
    assert final.outcome is CallOutcome.PROTOCOL_ERROR and "T5 (60 s)" in final.reason


def test_many_quick_rnr_rounds_within_t5_go_on() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True), now=0.0)
    for round_ in range(50):  # old engine gave up after 30 rounds
        actions = engine.handle(reply(FCF.RNR), now=round_ * 1.0)
        assert [f.fcf for f in _frames(actions)] == [FCF.RR]
    assert engine.handle(reply(FCF.MCF), now=51.0)[0] == ConfirmPage(0)


def test_unanswered_pps_is_repeated_three_times() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    for _ in range(2):
        assert [f.fcf for f in _frames(engine.handle(ReceiveTimeout()))] == [FCF.PPS]
    final = final_action(engine.handle(ReceiveTimeout()))
    assert final.outcome is CallOutcome.PROTOCOL_ERROR and "PPS after 3 tries" in final.reason


def test_crp_repeats_pps() -> None:
    engine = _ecm_engine()
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    assert [f.fcf for f in _frames(engine.handle(reply(FCF.CRP)))] == [FCF.PPS]


def test_dcn_after_pps_keeps_confirmed_pages() -> None:
    engine = _ecm_engine(page_count=3)
    engine.handle(BlockSent(0, 0, 10, page_end=True))
    engine.handle(reply(FCF.MCF))
    engine.handle(BlockSent(1, 0, 10, page_end=True))
    final = final_action(engine.handle(reply(FCF.DCN)))
    assert final.outcome is CallOutcome.REMOTE_DISCONNECTED and "1 of 3 pages confirmed" in final.reason


def test_64_octet_frames_are_announced_and_used() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(ecm_frame_size=64))
    engine.handle(CallAnswered())
    engine.handle(FramesReceived((DISFrame(ecm=True, mmr=True),)))
    settings = engine.settings
    assert settings is not None and settings.ecm and settings.ecm_frame_64
    engine.handle(TrainingSent())
    assert _block(engine.handle(reply(FCF.CFR))).frame_size == 64
