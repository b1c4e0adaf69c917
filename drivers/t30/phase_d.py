"""Phase D of the calling station without ECM: post-page commands and their responses.

Handlers of ``state.SENDER_TRANSITIONS``. T.30 5.3.6.1.4/5.3.6.1.5 and Figure 5.2:

========  ===========================================================================
response  what the sender does
========  ===========================================================================
MCF       page confirmed; next page, or DCN after the last (CONFIRMED)
RTP       page confirmed; DCS + TCF again before the next page
RTN       page not confirmed; DCS + TCF and the same page again, at most
          ``Policy.max_page_resends`` times, then PAGE_REJECTED
PIP       page confirmed, the remote wants an operator: DCN (REMOTE_DISCONNECTED,
          or CONFIRMED after the last page)
PIN       page not confirmed, the remote wants an operator: DCN (REMOTE_DISCONNECTED)
CRP       the remote asks for the command again: repeat it (counts as a try)
DCN       the remote hung up: REMOTE_DISCONNECTED with the pages confirmed so far
nothing   T4 expired: repeat the command, 3 tries in all, then PROTOCOL_ERROR
========  ===========================================================================
"""

from __future__ import annotations

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, CallOutcome, ConfirmPage, Event, PageSent
from drivers.t30.frames import FCF, Frame
from drivers.t30.phase_b import retrain, start_phase_c
from drivers.t30.session import (
    Session,
    State,
    disconnect,
    frames_of,
    post_message,
    remote_disconnected,
    repeat_command,
    response,
    send_command,
    unexpected,
)


def confirm_page(session: Session) -> list[Action]:
    """Records the current page as confirmed; returns ConfirmPage, and the end of the
    call if it was the last page."""
    session.pages_confirmed += 1
    session.resends = 0
    actions: list[Action] = [ConfirmPage(session.page)]
    if session.page + 1 >= session.page_count:
        return actions + disconnect(session, CallOutcome.CONFIRMED, f"all {session.page_count} pages confirmed")
    session.page += 1
    return actions


def operator_wanted(session: Session, fcf: FCF, number: int) -> list[Action]:
    """PIP/PIN after page ``number``: the remote asks for an operator (T.30 5.3.6.1.5);
    faxd has none to offer, so the call ends with the pages confirmed so far."""
    what = "after confirming" if fcf is FCF.PIP else "without confirming"
    return disconnect(
        session,
        CallOutcome.REMOTE_DISCONNECTED,
        f"the remote asked for an operator ({fcf.name}) {what} page {number}; "
        f"{session.pages_confirmed} of {session.page_count} pages confirmed",
    )


def on_page_sent(session: Session, event: Event) -> list[Action]:
    assert isinstance(event, PageSent)
    if event.index != session.page:
        session.state = State.FAILED
        raise LocalProtocolError(f"PageSent({event.index}) while page {session.page} was being sent (phase C)")
    session.pages_sent = max(session.pages_sent, event.index + 1)
    return send_command(session, (Frame(fcf=post_message(session), x_bit=True),), State.WAIT_MCF)


def on_post_page_response(session: Session, event: Event) -> list[Action]:
    frame = response(frames_of(event))
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    if fcf in (FCF.MCF, FCF.RTP, FCF.PIP):
        actions = confirm_page(session)
        if session.state is State.DONE:
            return actions
        if fcf is FCF.PIP:
            return actions + operator_wanted(session, FCF.PIP, number)
        if fcf is FCF.RTP:
            return actions + retrain(session)  # T.30 5.3.6.1.5: retrain before the next page
        return actions + start_phase_c(session)
    if fcf is FCF.RTN:
        session.resends += 1
        if session.resends > session.policy.max_page_resends:
            return disconnect(
                session,
                CallOutcome.PAGE_REJECTED,
                f"the remote rejected page {number} (RTN) {session.resends} times: poor copy quality; "
                f"{session.pages_confirmed} of {session.page_count} pages confirmed",
            )
        return retrain(session)  # T.30 5.3.6.1.5: retrain, then the same page again
    if fcf is FCF.PIN:
        return operator_wanted(session, FCF.PIN, number)
    if fcf is FCF.DCN:
        return remote_disconnected(session, f"instead of confirming page {number}")
    if fcf is FCF.CRP:
        return on_post_page_timeout(session, event)
    return unexpected(session, frame, "MCF, RTP or RTN")


def on_post_page_timeout(session: Session, event: Event) -> list[Action]:
    return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {session.page + 1} may not have arrived")
