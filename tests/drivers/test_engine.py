"""The sans-IO T.30 sender, driven directly with events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modem import Outcome
from drivers.t30.engine import T30Sender
from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import (
    EVENT_TYPES,
    BlockSent,
    CallAnswered,
    CallOutcome,
    ConfirmPage,
    Disconnect,
    Event,
    FramesReceived,
    ModemFailed,
    PageSent,
    ReceiveFrames,
    ReceiveTimeout,
    SendFrames,
    SendPage,
    SendTraining,
    Silence,
    TrainingSent,
)
from drivers.t30.frames import (
    FCF,
    BitRate,
    DCSFrame,
    Frame,
    IdentityFrame,
    PageCoding,
    PPRFrame,
    RateCapability,
    ScanTime,
)
from drivers.t30.negotiation import same_station, station_digits
from drivers.t30.state import SENDER_TRANSITIONS, TERMINAL_STATES, Session, State
from tests.drivers.t30_script import OUR_TSI, REMOTE_CSI, identification, reply, sent_fcfs


def test_normal_three_page_call() -> None:
    """DIS/CSI -> TSI/DCS/TCF -> CFR -> 3 x (page, MPS/EOP, MCF) -> DCN, CONFIRMED."""
    engine = T30Sender(local_id=OUR_TSI, page_count=3, expected_remote_id="+46 40 628 04 99")
    assert engine.handle(CallAnswered()) == [ReceiveFrames(35.0)]

    actions = engine.handle(identification(scan_time=ScanTime.MS_20_FINE_10))
    assert engine.remote_id == REMOTE_CSI
    dcs = DCSFrame(x_bit=True, bit_rate=BitRate.V17_14400, fine=True, min_scan_ms=10)
    tsi = IdentityFrame(fcf=FCF.TSI, final=False, x_bit=True, identity=OUR_TSI)
    assert actions == [Silence(75), SendFrames((tsi, dcs)), Silence(75), SendTraining(BitRate.V17_14400, 1.5)]
    assert engine.handle(TrainingSent()) == [ReceiveFrames(3.0)]

    actions = engine.handle(reply(FCF.CFR))
    assert actions == [Silence(75), SendPage(0, BitRate.V17_14400, PageCoding.MH, 10, True)]
    states = [engine.state]

    expected_ppm = [FCF.MPS, FCF.MPS, FCF.EOP]
    for index in range(3):
        actions = engine.handle(PageSent(index))
        assert actions == [
            Silence(75),
            SendFrames((Frame(fcf=expected_ppm[index], x_bit=True),)),
            ReceiveFrames(3.0),
        ]
        actions = engine.handle(reply(FCF.MCF))
        assert actions[0] == ConfirmPage(index)
        if index < 2:
            assert actions[1:] == [Silence(75), SendPage(index + 1, BitRate.V17_14400, PageCoding.MH, 10, True)]

    assert sent_fcfs(actions) == [FCF.DCN]
    assert actions[-1] == Disconnect(CallOutcome.CONFIRMED, "all 3 pages confirmed")
    assert (engine.pages_sent, engine.pages_confirmed) == (3, 3)
    states.append(engine.state)
    assert states == [State.SEND_PAGE, State.DONE]


def test_station_mismatch_stops_before_page_one() -> None:
    """A CSI other than the expected one gets DCN straight after DIS: no DCS, no page."""
    engine = T30Sender(local_id=OUR_TSI, page_count=2, expected_remote_id="031-390 06 12")
    engine.handle(CallAnswered())
    actions = engine.handle(identification())
    assert sent_fcfs(actions) == [FCF.DCN]
    assert not any(isinstance(action, (SendPage, SendTraining)) for action in actions)
    final = actions[-1]
    assert isinstance(final, Disconnect) and final.outcome is CallOutcome.STATION_MISMATCH
    assert "031-390 06 12" in final.reason and REMOTE_CSI in final.reason
    assert engine.pages_sent == 0


def test_missing_csi_is_a_mismatch_when_a_station_is_expected() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, expected_remote_id=REMOTE_CSI)
    engine.handle(CallAnswered())
    final = engine.handle(identification(csi=None))[-1]
    assert isinstance(final, Disconnect) and final.outcome is CallOutcome.STATION_MISMATCH


@pytest.mark.parametrize(
    ("expected", "received", "same"),
    [
        ("040-628 04 99", "+46 40 628 04 99", True),
        ("040 628 04 99", "0046406280499", True),
        ("040-628 04 99", "040-628 04 98", False),
        ("08-465 004 12", "08 46500412", True),
        ("Akuten Lund", "AKUTEN  LUND", True),
        # the country code written either way compares equal; another country does not
        ("+46 40 6280410", "040 628 04 10", True),
        ("040-628 04 10", "0046 40 628 04 10", True),
        ("040 628 04 10", "+46406280410", True),
        ("031-390 06 05", "+46 31 390 06 05", True),
        ("031-390 06 05", "+46 31 390 06 06", False),
        ("040 628 04 10", "+45 40 628 04 10", False),
        ("040 628 04 10", "", False),
    ],
)
def test_same_station(expected: str, received: str, same: bool) -> None:
    assert same_station(expected, received) is same


def test_station_digits() -> None:
    """Swedish numbers become national digits; foreign ones keep their international form."""
    assert station_digits("+46 31 390 06 00") == "0313900600"
    assert station_digits("+45 00 00 00 00") == "004500000000"


def test_negotiation_takes_best_common_rate_and_normal_resolution() -> None:
    """A V.27ter/V.29 remote without fine and a modem up to V.29 7200: 7200, normal."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1, rates=[BitRate.V29_7200, BitRate.V27TER_4800])
    engine.handle(CallAnswered())
    actions = engine.handle(identification(rates=RateCapability.V27TER_V29, fine=False, scan_time=ScanTime.MS_40))
    settings = engine.settings
    assert settings is not None
    assert (settings.bit_rate, settings.fine, settings.min_scan_ms) == (BitRate.V29_7200, False, 40)
    assert SendTraining(BitRate.V29_7200, 1.5) in actions


def test_ftt_at_the_lowest_rate_ends_with_training_failed() -> None:
    """FTT at every rate (here only V.27ter 4800 and 2400 are offered) ends the call."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification(rates=RateCapability.V27TER))
    engine.handle(TrainingSent())
    assert SendTraining(BitRate.V27TER_2400, 1.5) in engine.handle(reply(FCF.FTT))
    engine.handle(TrainingSent())
    actions = engine.handle(reply(FCF.FTT))
    assert sent_fcfs(actions) == [FCF.DCN]
    final = actions[-1]
    assert isinstance(final, Disconnect) and final.outcome is CallOutcome.TRAINING_FAILED
    assert "V.27ter 4800, V.27ter 2400" in final.reason


def test_unanswered_eop_is_repeated_three_times() -> None:
    """T.30 5.3.2: no response within T4 -> EOP again, at most 3 tries in all."""
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    for event in (CallAnswered(), identification(), TrainingSent(), reply(FCF.CFR)):
        engine.handle(event)
    assert sent_fcfs(engine.handle(PageSent(0))) == [FCF.EOP]
    assert sent_fcfs(engine.handle(ReceiveTimeout())) == [FCF.EOP]
    assert sent_fcfs(engine.handle(ReceiveTimeout())) == [FCF.EOP]
    actions = engine.handle(ReceiveTimeout())
    final = actions[-1]
    assert isinstance(final, Disconnect) and final.outcome is CallOutcome.PROTOCOL_ERROR
    assert "page 1 may not have arrived" in final.reason
    assert engine.pages_confirmed == 0


def test_rtn_three_times_is_page_rejected() -> None:
    """RTN: retrain and resend, twice by default; the third RTN ends in PAGE_REJECTED."""
    engine = T30Sender(local_id=OUR_TSI, page_count=2)
    for event in (CallAnswered(), identification(), TrainingSent(), reply(FCF.CFR), PageSent(0)):
        engine.handle(event)
    for _ in range(2):
        assert sent_fcfs(engine.handle(reply(FCF.RTN))) == [FCF.TSI, FCF.DCS]
        engine.handle(TrainingSent())
        assert isinstance(engine.handle(reply(FCF.CFR))[-1], SendPage)
        engine.handle(PageSent(0))
    final = engine.handle(reply(FCF.RTN))[-1]
    assert isinstance(final, Disconnect) and final.outcome is CallOutcome.PAGE_REJECTED
    assert "page 1 (RTN) 3 times" in final.reason
    assert engine.pages_confirmed == 0


def test_modem_failure_ends_without_dcn() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1)
    engine.handle(CallAnswered())
    engine.handle(identification())
    actions = engine.handle(ModemFailed("port gone"))
    assert actions == [Disconnect(CallOutcome.MODEM_ERROR, "port gone")]


def test_event_after_the_end_is_a_local_error() -> None:
    engine = T30Sender(local_id=OUR_TSI, page_count=1, expected_remote_id="031-390 06 00")
    engine.handle(CallAnswered())
    engine.handle(identification())
    with pytest.raises(LocalProtocolError, match="after the call ended"):
        engine.handle(TrainingSent())
    assert engine.state is State.FAILED


def test_call_outcomes_exist_in_the_driver_vocabulary() -> None:
    assert {Outcome(outcome.value) for outcome in CallOutcome}


_RESPONSES = [
    FCF.MCF, FCF.CFR, FCF.FTT, FCF.RTN, FCF.RTP, FCF.PIN, FCF.PIP, FCF.CRP, FCF.DCN,
    FCF.CTR, FCF.ERR, FCF.RNR, FCF.DIS, FCF.EOP,
]  # fmt: skip


def _sample(event_type: type[Event], response: FCF) -> Event:
    samples: dict[type[Event], Event] = {
        CallAnswered: CallAnswered(),
        FramesReceived: reply(response) if response is not FCF.DIS else identification(),
        ReceiveTimeout: ReceiveTimeout(),
        TrainingSent: TrainingSent(),
        PageSent: PageSent(0),
        BlockSent: BlockSent(0, 0, 3, True),
        ModemFailed: ModemFailed("gone"),
    }
    return samples[event_type]


def test_every_state_and_event_pair_transitions_or_fails_cleanly() -> None:
    """All State x EventType pairs, exhaustively: a row returns actions, a gap raises
    LocalProtocolError and leaves the engine FAILED (nothing else escapes)."""
    for state in State:
        for event_type in EVENT_TYPES:
            for response in [*_RESPONSES, FCF.PPR]:
                _check_pair(state, event_type, response, ecm=True)


@given(
    st.sampled_from(list(State)),
    st.sampled_from(EVENT_TYPES),
    st.sampled_from([*_RESPONSES, FCF.PPR]),
    st.booleans(),
)
def test_table_is_total(state: State, event_type: type[Event], response: FCF, ecm: bool) -> None:
    """Each (state, event) either transitions (returning actions) or fails cleanly."""
    _check_pair(state, event_type, response, ecm=ecm)


def _check_pair(state: State, event_type: type[Event], response: FCF, *, ecm: bool) -> None:
    session = Session(
        local_id=OUR_TSI,
        page_count=2,
        fine=True,  # T30Sender's defaults
        expected_remote_id=None,
        rates=frozenset(BitRate),
        state=state,
        settings=DCSFrame(x_bit=True, ecm=ecm, bit_rate=BitRate.V17_9600),
        usable_rates=(BitRate.V17_9600, BitRate.V29_7200),
    )
    engine = T30Sender.from_session(session)
    event = _sample(event_type, response)
    if response is FCF.PPR and event_type is FramesReceived:
        event = FramesReceived((PPRFrame(missing=frozenset({0, 2})),))
    if (state, event_type) in SENDER_TRANSITIONS:
        actions = engine.handle(event)
        assert actions
        assert state not in TERMINAL_STATES
        assert engine.state is not State.FAILED
    else:
        with pytest.raises(LocalProtocolError, match=event_type.__name__):
            engine.handle(event)
        assert engine.state is State.FAILED
