"""Phase B of the calling station: identification, station check, DCS, training, fallback.

Handlers of ``state.SENDER_TRANSITIONS`` (see its Rules). T.30 5.3.2 and Figure 5.2:
after the answer we wait up to T1 for DIS (T1 runs from the answer: other transmissions
in between do not restart it); we check the CSI, choose settings, send TSI + DCS and
TCF. The reply to DCS/TCF is looked up in ``replies.TRAINING``: CFR starts phase C, FTT
steps down one rate (``negotiation.FALLBACK_ORDER``) and trains again, until the rate
would fall below the policy's minimum.
"""

from __future__ import annotations

import dataclasses

from drivers.t30.events import (
    Action,
    CallOutcome,
    Event,
    ReceiveFrames,
    ReceiveTimeout,
    SendFrames,
    SendPage,
    SendTraining,
    Silence,
)
from drivers.t30.frames import FCF, DISFrame, IdentityFrame
from drivers.t30.negotiation import StationCheck, choose_settings, next_rate, same_station, usable_rates
from drivers.t30.replies import TRAINING, Step
from drivers.t30.session import (
    Session,
    State,
    disconnect,
    frames_of,
    remote_disconnected,
    response,
    send_block,
    unexpected,
)
from drivers.t30.timers import CARRIER_GAP_MS, MAX_COMMAND_TRIES, TCF_SECONDS, TRAINING_REPLY_SECONDS, Timer


def send_dcs(session: Session) -> list[Action]:
    """Returns the actions for TSI + DCS and TCF (T.30 phase B, calling station)."""
    assert session.settings is not None
    session.tries += 1
    tsi = IdentityFrame(fcf=FCF.TSI, final=False, x_bit=True, identity=session.local_id)
    session.last_command = (tsi, session.settings)
    session.state = State.SEND_TCF
    return [
        Silence(CARRIER_GAP_MS),
        SendFrames(session.last_command),
        Silence(CARRIER_GAP_MS),
        SendTraining(session.settings.bit_rate, TCF_SECONDS),
    ]


def retrain(session: Session) -> list[Action]:
    """Returns DCS + TCF again with a fresh try count (after RTP or RTN, T.30 5.3.6.1.5)."""
    session.tries = 0
    return send_dcs(session)


def start_phase_c(session: Session) -> list[Action]:
    """Returns the actions that send the current page: ECM block 0 or a plain page."""
    assert session.settings is not None
    session.tries = 0
    if session.settings.ecm:
        session.block = 0
        return send_block(session, None)
    session.state = State.SEND_PAGE
    settings = session.settings
    page = SendPage(
        session.page, settings.bit_rate, settings.coding, settings.min_scan_ms, settings.fine, settings.superfine
    )
    return [Silence(CARRIER_GAP_MS), page]


def _station_problem(session: Session) -> str | None:
    """Returns why the CSI is not the station we meant, or None if it is (or unchecked)."""
    expected = session.expected_remote_id
    if expected is None or session.policy.station_check is StationCheck.OFF:
        return None
    if same_station(expected, session.remote_id):
        return None
    seen = session.remote_id or "(no CSI)"
    return f"the remote identifies as {seen}, expected {expected}"


# --- handlers -----------------------------------------------------------------------------


def on_answered(session: Session, event: Event) -> list[Action]:
    session.state = State.WAIT_DIS
    session.t1_deadline = session.now + Timer.T1.seconds
    return [ReceiveFrames(Timer.T1.seconds)]


def on_identification(session: Session, event: Event) -> list[Action]:
    """DIS (+ CSI, NSF) arrived: check the station, then TSI + DCS + TCF."""
    frames = frames_of(event)
    if any(frame.fcf is FCF.DCN for frame in frames):
        return remote_disconnected(session, "before identifying itself")
    dis = next((frame for frame in frames if isinstance(frame, DISFrame) and frame.fcf is FCF.DIS), None)
    if dis is None:
        # T.30 5.3.2: keep listening for DIS until T1 (from the answer) runs out; a
        # remote that keeps sending something else is broken after 3 such transmissions.
        session.tries += 1
        left = session.t1_deadline - session.now
        if session.tries >= MAX_COMMAND_TRIES:
            return unexpected(session, response(frames), "DIS")
        if left <= 0:
            return on_no_identification(session, event)
        return [ReceiveFrames(left)]
    session.tries = 0
    session.dis = dis
    csi = next((f for f in frames if isinstance(f, IdentityFrame) and f.fcf is FCF.CSI), None)
    session.remote_id = (csi.identity.strip() or None) if csi is not None else None
    problem = _station_problem(session)
    if problem is not None and session.policy.station_check is StationCheck.STRICT:
        return disconnect(session, CallOutcome.STATION_MISMATCH, f"{problem}; no page was sent")
    if problem is not None:
        session.warnings.append(f"station check: {problem}")
    if not dis.can_receive:
        return disconnect(session, CallOutcome.NOT_A_FAX, "the remote fax machine says it cannot receive")
    policy = session.policy
    settings = choose_settings(
        dis,
        rates=session.rates,
        fine=session.fine,
        ecm=policy.ecm,
        max_coding=policy.max_coding,
        ecm_frame_size=policy.ecm_frame_size,
        min_bps=policy.min_bps,
        start_bps=policy.start_bps,
        superfine=session.superfine,
        page_length_mm=session.page_length_mm,
    )
    if settings is None:
        return disconnect(
            session,
            CallOutcome.TRAINING_FAILED,
            f"no modulation in common with the remote at or above {policy.min_bps} bit/s",
        )
    session.settings = settings
    session.usable_rates = usable_rates(dis, session.rates, min_bps=policy.min_bps)
    return send_dcs(session)


def on_no_identification(session: Session, event: Event) -> list[Action]:
    """T1 ran out without a DIS: whatever answered is not a fax machine (T.30 5.4.3.1)."""
    return disconnect(
        session,
        CallOutcome.NOT_A_FAX,
        f"the call was answered but no fax identification (DIS) came within T1 ({Timer.T1.seconds:g} s)",
        send_dcn=False,
    )


def on_training_sent(session: Session, event: Event) -> list[Action]:
    session.state = State.WAIT_CFR
    session.listened_on = False
    return [ReceiveFrames(Timer.T4.seconds)]


def _no_training_reply(session: Session) -> list[Action]:
    """Nothing came within T4 after TCF: listen on until ``TRAINING_REPLY_SECONDS``
    (the remote may be waiting out its T2 before it says FTT), then count the training
    as failed and step down one rate, as HylaFAX does for a training that got no answer
    (at the floor: the same rate again). Three silent trainings in a row end the call."""
    if not session.listened_on:
        session.listened_on = True
        return [ReceiveFrames(TRAINING_REPLY_SECONDS - Timer.T4.seconds)]
    session.silent_trainings += 1
    if session.silent_trainings >= MAX_COMMAND_TRIES:
        return disconnect(
            session,
            CallOutcome.TRAINING_FAILED,
            f"no response to DCS/TCF after {session.silent_trainings} trainings "
            f"(waited {TRAINING_REPLY_SECONDS:g} s after each)",
        )
    assert session.settings is not None
    if next_rate(session.settings.bit_rate, session.usable_rates) is None:
        return send_dcs(session)
    return step_down(session, "the remote did not answer training")


def on_training_response(session: Session, event: Event) -> list[Action]:
    """The reply to DCS/TCF, as ``replies.TRAINING`` says (T.30 5.3.2.2)."""
    frame = response(frames_of(event)) if not isinstance(event, ReceiveTimeout) else None
    fcf = frame.fcf if frame is not None else None
    reply = TRAINING.get(fcf)
    if reply is None:
        return unexpected(session, frame, "CFR or FTT")
    if reply.step is Step.LISTEN_ON:
        return _no_training_reply(session)
    session.silent_trainings = 0
    if reply.step is Step.START_PAGES:
        assert session.settings is not None
        rate = session.settings.bit_rate
        if session.trained is None or rate.bps > session.trained.bps:
            session.trained = rate
        return start_phase_c(session)
    if reply.step is Step.STEP_DOWN:
        return step_down(session, "the remote rejected training")
    if reply.step is Step.HUNG_UP:
        return remote_disconnected(session, "instead of confirming training")
    assert reply.step is Step.REPEAT and reply.outcome is not None
    if session.tries >= MAX_COMMAND_TRIES:
        return disconnect(session, reply.outcome, f"no response to DCS/TCF after {session.tries} tries")
    return send_dcs(session)


def step_down(session: Session, why: str) -> list[Action]:
    """Trains again one rate lower (``negotiation.FALLBACK_ORDER``); below the policy's
    floor the call ends TRAINING_FAILED."""
    assert session.settings is not None
    rate = session.settings.bit_rate
    lower = next_rate(rate, session.usable_rates)
    if lower is None:
        tried = [r for r in session.usable_rates if r.bps >= rate.bps] or [rate]
        names = ", ".join(f"{r.modulation} {r.bps}" for r in tried)
        return disconnect(
            session,
            CallOutcome.TRAINING_FAILED,
            f"{why} at every rate tried ({names} bit/s; lowest allowed "
            f"{session.policy.min_bps} bit/s); check the line quality",
        )
    session.settings = dataclasses.replace(session.settings, bit_rate=lower)
    return retrain(session)


def on_training_timeout(session: Session, event: Event) -> list[Action]:
    return on_training_response(session, event)
