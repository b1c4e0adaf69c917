"""The T.30 calling station (sender) as a table of transitions.

Rules:

1. Everything that decides what the sender does next lives here: the ``State`` enum, the
   ``Session`` it works on and ``SENDER_TRANSITIONS``, a dict from (state, event type) to a
   handler. ``engine.py`` only looks handlers up and guards the table.
2. Handlers are pure: they read the event and the session, update the session and return
   the actions the driver must execute. No I/O, no clock, no logging.
3. A pair missing from the table is a bug on our side (the driver fed an event that cannot
   happen): the engine moves to ``State.FAILED`` and raises ``LocalProtocolError``.
   Anything the *remote* does wrong is an outcome: we send DCN and ``Disconnect`` with
   ``PROTOCOL_ERROR``, because a job result is a value, not an exception.
4. Extending the procedure (fallback on FTT, RTN retransmission, ECM, polling) means new
   states, new rows and new handlers; the rows of the normal call stay as they are.

Theory of operation (T.30 phases, Figure 5.2):

- Phase B: after ``CallAnswered`` we wait up to T1 for DIS (+CSI, NSF). We check the CSI
  against the expected station, choose settings, send TSI + DCS, then TCF.
- CFR takes us to phase C (page), FTT ends the call for now.
- Phase D: after each page we send MPS (more pages) or EOP (last) and wait T4 for MCF.
  An unanswered command is sent again, at most ``MAX_COMMAND_TRIES`` times (T.30 5.3.2).
- Phase E: DCN, then ``Disconnect`` with the outcome.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import (
    Action,
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
from drivers.t30.frames import FCF, BitRate, DCSFrame, DISFrame, Frame, IdentityFrame
from drivers.t30.negotiation import choose_settings, same_station
from drivers.t30.timers import CARRIER_GAP_MS, MAX_COMMAND_TRIES, TCF_SECONDS, Timer


class State(enum.Enum):
    IDLE = "idle"  # not connected yet
    WAIT_DIS = "wait_dis"  # phase B: waiting for the answering station's DIS
    SEND_TCF = "send_tcf"  # phase B: DCS sent, TCF on the line
    WAIT_CFR = "wait_cfr"  # phase B: waiting for CFR/FTT
    SEND_PAGE = "send_page"  # phase C: page data on the line
    WAIT_MCF = "wait_mcf"  # phase D: post-page command sent, waiting for the response
    DONE = "done"  # phase E: disconnected, with an outcome
    FAILED = "failed"  # a bug fed an impossible event; see LocalProtocolError

    @property
    def phase(self) -> str:
        """Returns the T.30 phase letter, for error messages."""
        return {
            State.IDLE: "A",
            State.WAIT_DIS: "B",
            State.SEND_TCF: "B",
            State.WAIT_CFR: "B",
            State.SEND_PAGE: "C",
            State.WAIT_MCF: "D",
            State.DONE: "E",
            State.FAILED: "E",
        }[self]


TERMINAL_STATES = frozenset({State.DONE, State.FAILED})


@dataclass(slots=True, kw_only=True)
class Session:
    """What the sender knows about the call so far; handlers mutate it."""

    local_id: str
    page_count: int
    fine: bool
    expected_remote_id: str | None
    rates: frozenset[BitRate]
    state: State = State.IDLE
    remote_id: str | None = None
    dis: DISFrame | None = None
    settings: DCSFrame | None = None
    page: int = 0  # 0-based index of the page being sent or awaiting its response
    pages_sent: int = 0
    pages_confirmed: int = 0
    tries: int = 0  # times the current command has been sent
    last_command: tuple[Frame, ...] = ()
    outcome: CallOutcome | None = None
    reason: str = ""


# --- helpers ------------------------------------------------------------------------------


def _disconnect(session: Session, outcome: CallOutcome, reason: str, *, send_dcn: bool = True) -> list[Action]:
    """Returns the actions that end the call; DCN first unless the line is already gone."""
    session.state = State.DONE
    session.outcome = outcome
    session.reason = reason
    actions: list[Action] = []
    if send_dcn:
        dcn = Frame(fcf=FCF.DCN, x_bit=session.dis is not None)
        actions += [Silence(CARRIER_GAP_MS), SendFrames((dcn,))]
    actions.append(Disconnect(outcome, reason))
    return actions


def _frames(event: Event) -> tuple[Frame, ...]:
    """Returns the frames of a ``FramesReceived``; the table only routes that type here."""
    assert isinstance(event, FramesReceived)
    return event.frames


def _response(frames: tuple[Frame, ...]) -> Frame | None:
    """Returns the frame that answers a command: the final one of the transmission."""
    return frames[-1] if frames else None


def _send_dcs(session: Session) -> list[Action]:
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


def _send_page(session: Session) -> list[Action]:
    assert session.settings is not None
    session.state = State.SEND_PAGE
    session.tries = 0
    settings = session.settings
    page = SendPage(session.page, settings.bit_rate, settings.coding, settings.min_scan_ms, settings.fine)
    return [Silence(CARRIER_GAP_MS), page]


def _repeat_post_page(session: Session) -> list[Action]:
    """Returns the post-page command again, or ends the call after the last try."""
    if session.tries >= MAX_COMMAND_TRIES:
        command = session.last_command[-1].fcf.name
        return _disconnect(
            session,
            CallOutcome.PROTOCOL_ERROR,
            f"no valid response to {command} after {session.tries} tries; "
            f"page {session.page + 1} may not have arrived",
        )
    session.tries += 1
    return [Silence(CARRIER_GAP_MS), SendFrames(session.last_command), ReceiveFrames(Timer.T4.seconds)]


def _remote_disconnected(session: Session, when: str) -> list[Action]:
    return _disconnect(session, CallOutcome.REMOTE_DISCONNECTED, f"the remote sent DCN {when}", send_dcn=False)


def _unexpected(session: Session, frame: Frame | None, waiting_for: str) -> list[Action]:
    got = frame.fcf.name if frame is not None else "nothing valid"
    return _disconnect(session, CallOutcome.PROTOCOL_ERROR, f"expected {waiting_for} from the remote, got {got}")


# --- handlers -----------------------------------------------------------------------------


def on_answered(session: Session, event: Event) -> list[Action]:
    session.state = State.WAIT_DIS
    return [ReceiveFrames(Timer.T1.seconds)]


def on_identification(session: Session, event: Event) -> list[Action]:
    """DIS (+ CSI, NSF) arrived: check the station, then TSI + DCS + TCF."""
    frames = _frames(event)
    if any(frame.fcf is FCF.DCN for frame in frames):
        return _remote_disconnected(session, "before identifying itself")
    dis = next((frame for frame in frames if isinstance(frame, DISFrame) and frame.fcf is FCF.DIS), None)
    if dis is None:
        # T.30 5.3.2: keep listening for DIS; a remote that never sends one ends at T1.
        session.tries += 1
        if session.tries >= MAX_COMMAND_TRIES:
            return _unexpected(session, _response(frames), "DIS")
        return [ReceiveFrames(Timer.T1.seconds)]
    session.tries = 0
    session.dis = dis
    csi = next((f for f in frames if isinstance(f, IdentityFrame) and f.fcf is FCF.CSI), None)
    session.remote_id = csi.identity if csi is not None and csi.identity else None
    expected = session.expected_remote_id
    if expected is not None and not same_station(expected, session.remote_id):
        return _disconnect(
            session,
            CallOutcome.STATION_MISMATCH,
            f"the remote identifies as {session.remote_id or '(no CSI)'!s}, expected {expected}; "
            "no page was sent",
        )
    if not dis.can_receive:
        return _disconnect(session, CallOutcome.NOT_A_FAX, "the remote fax machine says it cannot receive")
    settings = choose_settings(dis, rates=session.rates, fine=session.fine)
    if settings is None:
        return _disconnect(session, CallOutcome.PROTOCOL_ERROR, "no modulation in common with the remote")
    session.settings = settings
    return _send_dcs(session)


def on_no_identification(session: Session, event: Event) -> list[Action]:
    return _disconnect(
        session,
        CallOutcome.PROTOCOL_ERROR,
        "the remote answered but sent no valid DIS within T1",
        send_dcn=False,
    )


def on_training_sent(session: Session, event: Event) -> list[Action]:
    session.state = State.WAIT_CFR
    return [ReceiveFrames(Timer.T4.seconds)]


def on_training_response(session: Session, event: Event) -> list[Action]:
    """CFR starts the pages; FTT ends the call until rate fallback exists (later issue)."""
    frame = _response(_frames(event))
    fcf = frame.fcf if frame is not None else None
    if fcf is FCF.CFR:
        return _send_page(session)
    if fcf is FCF.FTT:
        assert session.settings is not None
        rate = session.settings.bit_rate
        return _disconnect(
            session,
            CallOutcome.TRAINING_FAILED,
            f"the remote rejected training at {rate.bps} bit/s ({rate.modulation}); check the line quality",
        )
    if fcf is FCF.DCN:
        return _remote_disconnected(session, "instead of confirming training")
    if fcf in (FCF.DIS, FCF.CRP):
        # The remote did not get our DCS (it repeats DIS) or asks for a repeat (CRP).
        return on_training_timeout(session, ReceiveTimeout())
    return _unexpected(session, frame, "CFR or FTT")


def on_training_timeout(session: Session, event: Event) -> list[Action]:
    if session.tries >= MAX_COMMAND_TRIES:
        return _disconnect(
            session,
            CallOutcome.TRAINING_FAILED,
            f"no response to DCS/TCF after {session.tries} tries",
        )
    return _send_dcs(session)


def on_page_sent(session: Session, event: Event) -> list[Action]:
    assert isinstance(event, PageSent)
    if event.index != session.page:
        session.state = State.FAILED
        raise LocalProtocolError(f"PageSent({event.index}) while page {session.page} was being sent (phase C)")
    session.pages_sent = max(session.pages_sent, event.index + 1)
    last = session.page + 1 >= session.page_count
    # T.30 5.3.6.1.4: MPS when pages follow with the same settings, EOP after the last.
    session.last_command = (Frame(fcf=FCF.EOP if last else FCF.MPS, x_bit=True),)
    session.tries = 1
    session.state = State.WAIT_MCF
    return [Silence(CARRIER_GAP_MS), SendFrames(session.last_command), ReceiveFrames(Timer.T4.seconds)]


def on_post_page_response(session: Session, event: Event) -> list[Action]:
    frame = _response(_frames(event))
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    if fcf in (FCF.MCF, FCF.RTP, FCF.PIP):
        # MCF, RTP and PIP all say the page arrived in good order (T.30 5.3.6.1.5).
        session.pages_confirmed += 1
        actions: list[Action] = [ConfirmPage(session.page)]
        if number >= session.page_count:
            return actions + _disconnect(session, CallOutcome.CONFIRMED, f"all {number} pages confirmed")
        if fcf is FCF.PIP:
            reason = f"the remote asked for an operator after page {number} (PIP)"
            return actions + _disconnect(session, CallOutcome.REMOTE_DISCONNECTED, reason)
        session.page += 1
        if fcf is FCF.RTP:
            session.tries = 0
            return actions + _send_dcs(session)  # RTP: retrain before the next page
        return actions + _send_page(session)
    if fcf in (FCF.RTN, FCF.PIN):
        # Retraining and resending after RTN comes with a later issue.
        return _disconnect(
            session,
            CallOutcome.PAGE_REJECTED,
            f"the remote rejected page {number} ({fcf.name}): poor copy quality",
        )
    if fcf is FCF.DCN:
        return _remote_disconnected(session, f"instead of confirming page {number}")
    if fcf is FCF.CRP:
        return _repeat_post_page(session)
    return _unexpected(session, frame, "MCF")


def on_post_page_timeout(session: Session, event: Event) -> list[Action]:
    return _repeat_post_page(session)


def on_modem_failed(session: Session, event: Event) -> list[Action]:
    assert isinstance(event, ModemFailed)
    return _disconnect(session, CallOutcome.MODEM_ERROR, event.reason, send_dcn=False)


Handler = Callable[[Session, Event], list[Action]]

#: (state, event type) -> handler. Missing pairs are bugs: see Rule 3.
SENDER_TRANSITIONS: dict[tuple[State, type[Event]], Handler] = {
    (State.IDLE, CallAnswered): on_answered,
    (State.WAIT_DIS, FramesReceived): on_identification,
    (State.WAIT_DIS, ReceiveTimeout): on_no_identification,
    (State.SEND_TCF, TrainingSent): on_training_sent,
    (State.WAIT_CFR, FramesReceived): on_training_response,
    (State.WAIT_CFR, ReceiveTimeout): on_training_timeout,
    (State.SEND_PAGE, PageSent): on_page_sent,
    (State.WAIT_MCF, FramesReceived): on_post_page_response,
    (State.WAIT_MCF, ReceiveTimeout): on_post_page_timeout,
}
for _state in State:
    if _state not in TERMINAL_STATES and _state is not State.IDLE:
        SENDER_TRANSITIONS[(_state, ModemFailed)] = on_modem_failed
