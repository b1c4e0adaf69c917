"""Phases C and D of the calling station with error correction (T.30 Annex A, T.4 Annex A).

Handlers of ``state.SENDER_TRANSITIONS``. A page is coded once and cut into FCD frames
of 256 (or 64) octets; up to 256 frames make a block (partial page). After each block
the sender sends PPS with the post-message command (NULL inside a page, MPS/EOP at its
end), the page and block counters and the frame count:

========  ===========================================================================
response  what the sender does
========  ===========================================================================
MCF       block received whole: next block, next page, or DCN after the last page
PPR       the frames it lists are sent again, then PPS again (A.4.3); the 4th PPR
          for one block brings CTC at the next lower rate (CTR: resend at that
          rate, long training) or, at the lowest allowed rate, EOR (A.4.4): the
          block is given up and the call ends PAGE_REJECTED
RNR       receiver busy: RR until it is ready, for at most T5 (A.4.5)
CRP       repeat the command; nothing within T4: repeat, 3 tries in all
DCN/PIN/  as without ECM (``phase_d``)
PIP
========  ===========================================================================
"""

from __future__ import annotations

import dataclasses

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, BlockSent, CallOutcome, Event, ReceiveTimeout
from drivers.t30.frames import FCF, CTCFrame, EORFrame, Frame, PPRFrame, PPSFrame
from drivers.t30.negotiation import next_rate
from drivers.t30.phase_b import start_phase_c
from drivers.t30.phase_d import confirm_page, operator_wanted
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
from drivers.t30.timers import MAX_RR_EXCHANGES, PPR_LIMIT


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
    session.rr_count = 0
    return send_command(session, (_pps(session),), State.WAIT_PPS_RESPONSE)


def _block_confirmed(session: Session) -> list[Action]:
    session.ppr_count = 0
    if not session.page_end:
        session.block += 1
        session.tries = 0
        return send_block(session, None)
    actions = confirm_page(session)
    if session.state is State.DONE:
        return actions
    return actions + start_phase_c(session)  # after PPS-MPS and MCF: straight to phase C


def on_pps_response(session: Session, event: Event) -> list[Action]:
    """The response to PPS (or to RR while the remote was busy)."""
    frame = response(frames_of(event))
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    if fcf is FCF.MCF:
        return _block_confirmed(session)
    if isinstance(frame, PPRFrame):
        return _partial_page_request(session, frame)
    if fcf is FCF.RNR:
        return _receiver_not_ready(session)
    if fcf is FCF.PIP:
        if session.page_end:
            actions = confirm_page(session)
            return actions if session.state is State.DONE else actions + operator_wanted(session, FCF.PIP, number)
        return operator_wanted(session, FCF.PIN, number)
    if fcf is FCF.PIN:
        return operator_wanted(session, FCF.PIN, number)
    if fcf is FCF.DCN:
        return remote_disconnected(session, f"instead of confirming page {number}")
    if fcf is FCF.CRP:
        return on_pps_timeout(session, event)
    return unexpected(session, frame, "MCF, PPR or RNR")


def _partial_page_request(session: Session, ppr: PPRFrame) -> list[Action]:
    session.ppr_count += 1
    session.rr_count = 0
    missing = tuple(sorted(n for n in ppr.missing if n < session.block_frames))
    if not missing:
        # Nothing of ours is missing (the PPS itself was garbled): ask again.
        return on_pps_timeout(session, ReceiveTimeout())
    session.missing = missing
    if session.ppr_count < PPR_LIMIT:
        session.tries = 0
        return send_block(session, missing)
    assert session.settings is not None
    lower = next_rate(session.settings.bit_rate, session.usable_rates)
    if lower is not None:
        # T.30 A.4.4: continue to correct at a lower rate.
        session.ctc_rate = lower
        return send_command(session, (CTCFrame(x_bit=True, bit_rate=lower),), State.WAIT_CTR)
    eor = EORFrame(x_bit=True, post_message=post_message(session) if session.page_end else None)
    return send_command(session, (eor,), State.WAIT_ERR)


def _receiver_not_ready(session: Session) -> list[Action]:
    """RNR: poll with RR; T5 (60 s) bounds the wait (T.30 A.4.5)."""
    session.rr_count += 1
    if session.rr_count > MAX_RR_EXCHANGES:
        return disconnect(
            session,
            CallOutcome.PROTOCOL_ERROR,
            f"the remote stayed not ready (RNR) for longer than T5 during page {session.page + 1}",
        )
    return send_command(session, (Frame(fcf=FCF.RR, x_bit=True),), session.state)


def on_pps_timeout(session: Session, event: Event) -> list[Action]:
    return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {session.page + 1} may not have arrived")


def on_ctc_response(session: Session, event: Event) -> list[Action]:
    """CTR: send the missing frames at the rate CTC named, with long training."""
    frame = response(frames_of(event))
    fcf = frame.fcf if frame is not None else None
    if fcf is FCF.CTR:
        assert session.settings is not None
        rate = session.ctc_rate or session.settings.bit_rate
        session.settings = dataclasses.replace(session.settings, bit_rate=rate)
        session.ppr_count = 0
        session.long_training = True
        session.tries = 0
        return send_block(session, session.missing)
    if fcf is FCF.DCN:
        return remote_disconnected(session, f"instead of accepting CTC during page {session.page + 1}")
    if fcf is FCF.CRP:
        return on_ctc_timeout(session, event)
    return unexpected(session, frame, "CTR")


def on_ctc_timeout(session: Session, event: Event) -> list[Action]:
    return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {session.page + 1} could not be corrected")


def on_eor_response(session: Session, event: Event) -> list[Action]:
    """ERR: the remote accepted that the block stays incomplete; faxd ends the call, as
    the page was not received in full."""
    frame = response(frames_of(event))
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    if fcf is FCF.ERR:
        return disconnect(
            session,
            CallOutcome.PAGE_REJECTED,
            f"page {number} could not be corrected after {PPR_LIMIT} PPRs at the lowest allowed rate; "
            f"{session.pages_confirmed} of {session.page_count} pages confirmed",
        )
    if fcf is FCF.RNR:
        return _receiver_not_ready(session)
    if fcf is FCF.DCN:
        return remote_disconnected(session, f"instead of answering EOR for page {number}")
    if fcf is FCF.CRP:
        return on_eor_timeout(session, event)
    return unexpected(session, frame, "ERR")


def on_eor_timeout(session: Session, event: Event) -> list[Action]:
    return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {session.page + 1} was not received whole")
