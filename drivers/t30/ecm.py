"""Phases C and D of the calling station with error correction (T.30 Annex A, T.4 Annex A).

Handlers of ``state.SENDER_TRANSITIONS``. A page is coded once and cut into FCD frames
of 256 (or 64) octets; up to 256 frames make a block (partial page). After each block
the sender sends PPS with the post-message command (NULL inside a page, MPS/EOP at its
end), the page and block counters and the frame count. The replies to PPS/RR, CTC and
EOR are looked up in ``replies.PARTIAL_PAGE``, ``CONTINUE_TO_CORRECT`` and
``END_OF_RETRANSMISSION`` (rendered in ``drivers/t30/REPLIES.md``); this module carries
out the step they name. The fourth PPR for a block brings CTC one rate lower, or at the
lowest allowed rate EOR; after ERR the sender carries on with the next block or page
(T.30 A.4.4), and the page stays unconfirmed. RNR is polled with RR until T5 (60 s from
the first RNR) runs out.
"""

from __future__ import annotations

import dataclasses

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, BlockSent, CallOutcome, Event, ReceiveTimeout
from drivers.t30.frames import FCF, CTCFrame, EORFrame, Frame, PPRFrame, PPSFrame
from drivers.t30.negotiation import next_rate
from drivers.t30.phase_b import start_phase_c
from drivers.t30.phase_d import command_missed, confirm_page, operator_wanted
from drivers.t30.replies import CONTINUE_TO_CORRECT, END_OF_RETRANSMISSION, PARTIAL_PAGE, ReplyTable, Step
from drivers.t30.session import (
    Session,
    State,
    disconnect,
    frames_of,
    post_message,
    remote_disconnected,
    repeat_command,
    response,
    send_block,
    send_command,
    unexpected,
)
from drivers.t30.timers import PPR_LIMIT, Timer


def _pps(session: Session) -> PPSFrame:
    return PPSFrame(
        x_bit=True,
        post_message=post_message(session) if session.page_end else None,
        page=session.page % 256,
        block=session.block % 256,
        frame_count=session.block_frames,
    )


def on_block_sent(session: Session, event: Event) -> list[Action]:
    assert isinstance(event, BlockSent)
    if (event.page, event.block) != (session.page, session.block):
        session.state = State.FAILED
        raise LocalProtocolError(
            f"BlockSent({event.page}, {event.block}) while block {session.block} of page {session.page} "
            "was being sent (phase C)"
        )
    session.block_frames = event.frame_count
    session.page_end = event.page_end
    if event.page_end:
        session.pages_sent = max(session.pages_sent, event.page + 1)
    return send_command(session, (_pps(session),), State.WAIT_PPS_RESPONSE)


def _block_confirmed(session: Session) -> list[Action]:
    session.ppr_count = 0
    session.t5_deadline = None
    if not session.page_end:
        session.block += 1
        session.tries = 0
        return send_block(session, None)
    actions = confirm_page(session)
    if session.state is State.DONE:
        return actions
    return actions + start_phase_c(session)  # after PPS-MPS and MCF: straight to phase C


def _reply(session: Session, event: Event, table: ReplyTable, waiting_for: str) -> list[Action]:
    """Carries out what ``table`` says about the reply in ``event``."""
    frame = response(frames_of(event)) if not isinstance(event, ReceiveTimeout) else None
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    reply = table.get(fcf)
    if reply is None:
        return unexpected(session, frame, waiting_for)
    step = reply.step
    if step is Step.REPEAT:
        return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {number} may not have arrived whole")
    if step is Step.HUNG_UP:
        return remote_disconnected(session, f"instead of answering {table.command} during page {number}")
    if step is Step.POLL:
        return _receiver_not_ready(session)
    session.t5_deadline = None
    if step is Step.NEXT_BLOCK:
        return _block_confirmed(session)
    if step is Step.RESEND_FRAMES:
        assert isinstance(frame, PPRFrame)
        return _partial_page_request(session, frame)
    if step is Step.CORRECT_LOWER:
        return _correct_lower(session)
    if step is Step.RESEND_SAME:
        # Back in phase B the remote has dropped the partial page: the page from block 0.
        session.ppr_count = 0
        return command_missed(session, number)
    if step is Step.GIVE_UP_BLOCK:
        if session.incomplete_page is None:
            session.incomplete_page = session.page
        session.ppr_count = 0
        return _block_confirmed(session)
    assert step is Step.OPERATOR and fcf is not None
    if reply.confirms and session.page_end:
        actions = confirm_page(session)
        return actions if session.state is State.DONE else actions + operator_wanted(session, FCF.PIP, number)
    return operator_wanted(session, FCF.PIN, number)


def on_pps_response(session: Session, event: Event) -> list[Action]:
    """The response to PPS (or to RR while the remote was busy)."""
    return _reply(session, event, PARTIAL_PAGE, "MCF, PPR or RNR")


def _partial_page_request(session: Session, ppr: PPRFrame) -> list[Action]:
    session.ppr_count += 1
    missing = tuple(sorted(n for n in ppr.missing if n < session.block_frames))
    if not missing:
        # Nothing of ours is missing (the PPS itself was garbled): ask again.
        return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {session.page + 1} may not have arrived")
    session.missing = missing
    if session.ppr_count < PPR_LIMIT:
        session.tries = 0
        return send_block(session, missing)
    session.ecm_trouble = True
    assert session.settings is not None
    lower = next_rate(session.settings.bit_rate, session.usable_rates)
    if lower is not None:
        # T.30 A.4.4: continue to correct at a lower rate.
        session.ctc_rate = lower
        return send_command(session, (CTCFrame(x_bit=True, bit_rate=lower),), State.WAIT_CTR)
    eor = EORFrame(x_bit=True, post_message=post_message(session) if session.page_end else None)
    return send_command(session, (eor,), State.WAIT_ERR)


def _receiver_not_ready(session: Session) -> list[Action]:
    """RNR: poll with RR; T5 (60 s from the first RNR) bounds the wait (T.30 A.4.5)."""
    if session.t5_deadline is None:
        session.t5_deadline = session.now + Timer.T5.seconds
    elif session.now >= session.t5_deadline:
        return disconnect(
            session,
            CallOutcome.PROTOCOL_ERROR,
            f"the remote stayed not ready (RNR) for longer than T5 ({Timer.T5.seconds:g} s) "
            f"during page {session.page + 1}",
        )
    return send_command(session, (Frame(fcf=FCF.RR, x_bit=True),), session.state)


def on_pps_timeout(session: Session, event: Event) -> list[Action]:
    return on_pps_response(session, event)


def _correct_lower(session: Session) -> list[Action]:
    """CTR: send the missing frames at the rate CTC named, with long training."""
    assert session.settings is not None
    rate = session.ctc_rate or session.settings.bit_rate
    session.settings = dataclasses.replace(session.settings, bit_rate=rate)
    session.ppr_count = 0
    session.long_training = True
    session.tries = 0
    return send_block(session, session.missing)


def on_ctc_response(session: Session, event: Event) -> list[Action]:
    return _reply(session, event, CONTINUE_TO_CORRECT, "CTR")


def on_ctc_timeout(session: Session, event: Event) -> list[Action]:
    return on_ctc_response(session, event)


def on_eor_response(session: Session, event: Event) -> list[Action]:
    return _reply(session, event, END_OF_RETRANSMISSION, "ERR")


def on_eor_timeout(session: Session, event: Event) -> list[Action]:
    return on_eor_response(session, event)
