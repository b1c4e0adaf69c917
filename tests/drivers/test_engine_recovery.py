"""The T.30 sender when the line or the remote is not perfect: fallback, retrain,
resend, repeats, interruptions and the station check (no ECM here: see test_engine_ecm)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from drivers.t30 import Policy
from drivers.t30.engine import T30Sender
from drivers.t30.events import (
    CallAnswered,
    CallOutcome,
    ConfirmPage,
    Event,
    PageSent,
    ReceiveFrames,
    ReceiveTimeout,
    SendFrames,
    SendPage,
    SendTraining,
    TrainingSent,
)
from drivers.t30.frames import FCF, BitRate, DCSFrame, PageCoding, RateCapability
from drivers.t30.negotiation import StationCheck
from tests.drivers.t30_script import OUR_TSI, REMOTE_CSI, final_action, identification, reply, sent_fcfs


def _at_page_one(engine: T30Sender, **dis: Any) -> None:
    """Drives ``engine`` to the end of page 1 (PageSent fed, MPS/EOP sent)."""
    for event in (CallAnswered(), identification(**dis), TrainingSent(), reply(FCF.CFR), PageSent(0)):
        engine.handle(event)


def _training_rates(engine: T30Sender, events: Sequence[Event]) -> list[BitRate]:
    rates: list[BitRate] = []
    for event in events:
        for action in engine.handle(event):
            if isinstance(action, SendTraining):
                rates.append(action.bit_rate)
    return rates


# --- phase B: fallback ----------------------------------------------------------------------


def test_ftt_steps_down_through_every_rate_then_gives_up() -> None:
    """FTT: V.17 14400 -> 12000 -> 9600, V.29 9600 -> 7200, V.27ter 4800 -> 2400: V.29 on
    the fourth training (the first order: V.17 7200 too, V.29 on the fifth; issue 15's
    first step left V.17 9600 out, which lost 9600 on SpanDSP's noisy line)."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    events: list[Event] = [CallAnswered(), identification()]
    events += [TrainingSent(), reply(FCF.FTT)] * 7
    rates = _training_rates(engine, events[:-1])
    assert rates == [
        BitRate.V17_14400,
        BitRate.V17_12000,
        BitRate.V17_9600,
        BitRate.V29_9600,
        BitRate.V29_7200,
        BitRate.V27TER_4800,
        BitRate.V27TER_2400,
    ]
    final = final_action(engine.handle(events[-1]))
    assert final.outcome is CallOutcome.TRAINING_FAILED
    assert "V.17 14400" in final.reason and "V.27ter 2400" in final.reason


def test_fallback_uses_only_rates_the_dis_offers() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    events: list[Event] = [CallAnswered(), identification(rates=RateCapability.V27TER_V29)]
    events += [TrainingSent(), reply(FCF.FTT)] * 3
    assert _training_rates(engine, events) == [
        BitRate.V29_9600,
        BitRate.V29_7200,
        BitRate.V27TER_4800,
        BitRate.V27TER_2400,
    ]


def test_fallback_stops_at_the_minimum_rate() -> None:
    """min_bps=9600: after FTT at V.29 9600 there is nothing left: TRAINING_FAILED."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(min_bps=9600))
    events: list[Event] = [CallAnswered(), identification()]
    events += [TrainingSent(), reply(FCF.FTT)] * 3
    events.append(TrainingSent())
    assert _training_rates(engine, events) == [
        BitRate.V17_14400,
        BitRate.V17_12000,
        BitRate.V17_9600,
        BitRate.V29_9600,
    ]
    final = final_action(engine.handle(reply(FCF.FTT)))
    assert final.outcome is CallOutcome.TRAINING_FAILED
    assert "lowest allowed 9600 bit/s" in final.reason


def test_no_rate_above_the_minimum_is_training_failed() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(min_bps=9600))
    engine.handle(CallAnswered())
    final = final_action(engine.handle(identification(rates=RateCapability.V27TER)))
    assert final.outcome is CallOutcome.TRAINING_FAILED
    assert sent_fcfs([final]) == []


def test_after_fallback_the_page_goes_at_the_lower_rate() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(ecm=False))
    for event in (CallAnswered(), identification(), TrainingSent(), reply(FCF.FTT), TrainingSent()):
        actions = engine.handle(event)
    actions = engine.handle(reply(FCF.CFR))
    page = actions[-1]
    assert isinstance(page, SendPage) and page.bit_rate is BitRate.V17_12000
    settings = engine.settings
    assert settings is not None and settings.bit_rate is BitRate.V17_12000


def test_dcs_is_sent_again_with_the_new_rate() -> None:
    """Each retrain repeats TSI + DCS, and the DCS names the new rate (T.30 5.3.2.2)."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification())
    engine.handle(TrainingSent())
    actions = engine.handle(reply(FCF.FTT))
    dcs = [f for a in actions if isinstance(a, SendFrames) for f in a.frames if isinstance(f, DCSFrame)]
    assert [d.bit_rate for d in dcs] == [BitRate.V17_12000]


def test_dis_again_means_the_remote_missed_our_dcs() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification())
    engine.handle(TrainingSent())
    assert sent_fcfs(engine.handle(identification())) == [FCF.TSI, FCF.DCS]


def test_unanswered_dcs_listens_on_then_steps_down_three_times_in_all() -> None:
    """No CFR/FTT within T4: listen on to 7 s after TCF (a remote waiting out its T2
    answers late; repeating DCS at T4 talked over it), then train one rate lower, as
    HylaFAX does after a training that got no answer; the third silent training ends
    the call. (Until issue 15: DCS again at the same rate after each T4, 3 tries.)"""
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification())
    assert engine.handle(TrainingSent()) == [ReceiveFrames(3.0)]
    rates = []
    for _ in range(2):
        assert engine.handle(ReceiveTimeout()) == [ReceiveFrames(4.0)]
        actions = engine.handle(ReceiveTimeout())
        assert sent_fcfs(actions) == [FCF.TSI, FCF.DCS]
        rates.append(next(a.bit_rate for a in actions if isinstance(a, SendTraining)))
        engine.handle(TrainingSent())
    assert rates == [BitRate.V17_12000, BitRate.V17_9600]
    engine.handle(ReceiveTimeout())
    final = final_action(engine.handle(ReceiveTimeout()))
    assert final.outcome is CallOutcome.TRAINING_FAILED and "after 3 trainings" in final.reason


def test_a_late_ftt_is_heard_and_a_reply_resets_the_silence_count() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification())
    for _ in range(5):  # a late FTT each time: never silent, down to V.27ter 2400
        engine.handle(TrainingSent())
        assert engine.handle(ReceiveTimeout()) == [ReceiveFrames(4.0)]
        actions = engine.handle(reply(FCF.FTT))  # SpanDSP's FTT when its T2 ran out
        assert sent_fcfs(actions) == [FCF.TSI, FCF.DCS]
    engine.handle(TrainingSent())
    engine.handle(ReceiveTimeout())
    actions = engine.handle(ReceiveTimeout())
    assert [a.bit_rate for a in actions if isinstance(a, SendTraining)] == [BitRate.V27TER_2400]  # the floor: again


def test_crp_after_dcs_repeats_dcs() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    for event in (CallAnswered(), identification(), TrainingSent()):
        engine.handle(event)
    assert sent_fcfs(engine.handle(reply(FCF.CRP))) == [FCF.TSI, FCF.DCS]


def test_no_dis_within_t1_is_not_a_fax() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    assert engine.handle(CallAnswered()) == [ReceiveFrames(35.0)]
    final = final_action(engine.handle(ReceiveTimeout()))
    assert final.outcome is CallOutcome.NOT_A_FAX and "T1" in final.reason
    assert sent_fcfs([final]) == []


# --- phase D: responses ---------------------------------------------------------------------


def test_rtp_confirms_the_page_and_retrains_before_the_next() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    _at_page_one(engine)
    actions = engine.handle(reply(FCF.RTP))
    assert actions[0] == ConfirmPage(0)
    assert sent_fcfs(actions) == [FCF.TSI, FCF.DCS]
    assert any(isinstance(action, SendTraining) for action in actions)
    engine.handle(TrainingSent())
    page = engine.handle(reply(FCF.CFR))[-1]
    assert isinstance(page, SendPage) and page.index == 1
    engine.handle(PageSent(1))
    final = final_action(engine.handle(reply(FCF.MCF)))
    assert final.outcome is CallOutcome.CONFIRMED
    assert engine.pages_confirmed == 2


def test_rtp_on_the_last_page_is_confirmed() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    _at_page_one(engine)
    actions = engine.handle(reply(FCF.RTP))
    assert actions[0] == ConfirmPage(0) and final_action(actions).outcome is CallOutcome.CONFIRMED


def test_rtn_resends_the_same_page_after_retraining() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    _at_page_one(engine)
    actions = engine.handle(reply(FCF.RTN))
    assert not any(isinstance(action, ConfirmPage) for action in actions)
    assert sent_fcfs(actions) == [FCF.TSI, FCF.DCS]
    engine.handle(TrainingSent())
    page = engine.handle(reply(FCF.CFR))[-1]
    assert isinstance(page, SendPage) and page.index == 0
    assert sent_fcfs(engine.handle(PageSent(0))) == [FCF.MPS]
    assert engine.handle(reply(FCF.MCF))[0] == ConfirmPage(0)


def test_max_page_resends_zero_rejects_at_the_first_rtn() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(max_page_resends=0))
    _at_page_one(engine)
    assert final_action(engine.handle(reply(FCF.RTN))).outcome is CallOutcome.PAGE_REJECTED


@pytest.mark.parametrize(("fcf", "confirmed"), [(FCF.PIP, 1), (FCF.PIN, 0)])
def test_procedure_interrupt_ends_the_call(fcf: FCF, confirmed: int) -> None:
    """PIP (page good) and PIN (page bad) ask for an operator: DCN, REMOTE_DISCONNECTED."""
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    _at_page_one(engine)
    actions = engine.handle(reply(fcf))
    final = final_action(actions)
    assert final.outcome is CallOutcome.REMOTE_DISCONNECTED
    assert fcf.name in final.reason and "operator" in final.reason
    assert sent_fcfs(actions) == [FCF.DCN]
    assert engine.pages_confirmed == confirmed


def test_crp_repeats_the_post_page_command() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    _at_page_one(engine)
    assert sent_fcfs(engine.handle(reply(FCF.CRP))) == [FCF.MPS]
    assert engine.handle(reply(FCF.MCF))[0] == ConfirmPage(0)


def test_dcn_mid_call_keeps_the_pages_confirmed_so_far() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=3)
    _at_page_one(engine)
    engine.handle(reply(FCF.MCF))
    engine.handle(PageSent(1))
    actions = engine.handle(reply(FCF.DCN))
    final = final_action(actions)
    assert final.outcome is CallOutcome.REMOTE_DISCONNECTED
    assert "1 of 3 pages confirmed" in final.reason
    assert sent_fcfs(actions) == []  # the remote has gone: no DCN back
    assert (engine.pages_sent, engine.pages_confirmed) == (2, 1)


def test_unanswered_mps_is_repeated_then_protocol_error() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    _at_page_one(engine)
    assert sent_fcfs(engine.handle(ReceiveTimeout())) == [FCF.MPS]
    assert sent_fcfs(engine.handle(ReceiveTimeout())) == [FCF.MPS]
    final = final_action(engine.handle(ReceiveTimeout()))
    assert final.outcome is CallOutcome.PROTOCOL_ERROR and "MPS after 3 tries" in final.reason


# --- coding choice --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dis", "options", "coding", "ecm"),
    [
        ({"mr": True}, {"ecm": False}, PageCoding.MR, False),
        ({"mr": False}, {}, PageCoding.MH, False),
        ({"mr": True, "mmr": True, "ecm": True}, {}, PageCoding.MMR, True),
        ({"mr": True, "mmr": True, "ecm": True}, {"ecm": False}, PageCoding.MR, False),
        ({"mr": True, "mmr": True, "ecm": True}, {"max_coding": PageCoding.MH}, PageCoding.MH, True),
        ({"mr": True, "mmr": True, "ecm": False}, {}, PageCoding.MR, False),  # no T.6 without ECM
    ],
)
def test_coding_and_ecm_choice(dis: dict[str, Any], options: dict[str, object], coding: PageCoding, ecm: bool) -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, policy=Policy(**options))  # type: ignore[arg-type]
    engine.handle(CallAnswered())
    engine.handle(identification(**dis))
    settings = engine.settings
    assert settings is not None and (settings.coding, settings.ecm) == (coding, ecm)


# --- station check --------------------------------------------------------------------------


def test_strict_mismatch_names_expected_and_seen() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, expected_remote_id="031-390 06 12")
    engine.handle(CallAnswered())
    actions = engine.handle(identification())
    final = final_action(actions)
    assert final.outcome is CallOutcome.STATION_MISMATCH
    assert "expected 031-390 06 12" in final.reason and REMOTE_CSI in final.reason
    assert sent_fcfs(actions) == [FCF.DCN] and engine.pages_sent == 0


def test_strict_blank_csi_is_a_mismatch() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, expected_remote_id=REMOTE_CSI)
    engine.handle(CallAnswered())
    final = final_action(engine.handle(identification(csi="   ")))
    assert final.outcome is CallOutcome.STATION_MISMATCH and "(no CSI)" in final.reason


def test_warn_sends_and_records_the_mismatch() -> None:
    engine = T30Sender(
        local_id=OUR_TSI,
        page_count=1,
        expected_remote_id="08-465 004 10",
        policy=Policy(station_check=StationCheck.WARN),
    )
    _at_page_one(engine)
    final = final_action(engine.handle(reply(FCF.MCF)))
    assert final.outcome is CallOutcome.CONFIRMED
    assert "warning: station check" in final.reason and "08-465 004 10" in final.reason
    assert len(engine.warnings) == 1 and REMOTE_CSI in engine.warnings[0]


def test_off_does_not_compare() -> None:
    engine = T30Sender(
        local_id=OUR_TSI,
        page_count=1,
        expected_remote_id="08-465 004 10",
        policy=Policy(station_check=StationCheck.OFF),
    )
    _at_page_one(engine, mr=False)
    final = final_action(engine.handle(reply(FCF.MCF)))
    assert final.outcome is CallOutcome.CONFIRMED and engine.warnings == ()


def test_station_check_codes_match_the_driver_contract() -> None:
    """The driver contract's StationCheck (drivers.modem) has exactly the engine's codes: it is the engine's enum."""
    from drivers import modem

    assert {check.value for check in StationCheck} == {check.value for check in modem.StationCheck}
