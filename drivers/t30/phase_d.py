"""Phase D of the calling station without ECM: post-page commands and their responses.

Handlers of ``state.SENDER_TRANSITIONS``. The reply to MPS/EOP is looked up in
``replies.POST_PAGE`` (rendered in ``drivers/t30/REPLIES.md``); this module carries out
the step it names. RTN steps down one rate before the page is sent again (as HylaFAX
and SpanDSP do: a page that failed at a rate mostly fails again there); RTP does so too
if ``Policy.step_down_on_rtp``.
"""

from __future__ import annotations

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, CallOutcome, ConfirmPage, Event, PageSent, ReceiveTimeout
from drivers.t30.frames import FCF, Frame
from drivers.t30.negotiation import next_rate
from drivers.t30.phase_b import retrain, start_phase_c, step_down
from drivers.t30.replies import POST_PAGE, Step
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
from drivers.t30.timers import MAX_COMMAND_TRIES


def confirm_page(session: Session) -> list[Action]:
    """Records the current page as confirmed; returns ConfirmPage, and the end of the
    call if it was the last page.

    After a page the remote got incomplete (EOR/ERR) no later page counts as confirmed:
    the confirmation log counts confirmed pages from the first, and a retry must send
    the incomplete page again.
    """
    session.resends = 0
    session.missed_commands = 0
    actions: list[Action] = []
    if session.incomplete_page is None:
        session.pages_confirmed += 1
        actions.append(ConfirmPage(session.page))
    if session.page + 1 < session.page_count:
        session.page += 1
        return actions
    if session.incomplete_page is not None:
        return actions + disconnect(
            session,
            CallOutcome.PAGE_REJECTED,
            f"page {session.incomplete_page + 1} was received incomplete (EOR/ERR: a block could not be "
            f"corrected at the lowest allowed rate); the pages after it were sent but are not counted; "
            f"{session.pages_confirmed} of {session.page_count} pages confirmed",
        )
    return actions + disconnect(session, CallOutcome.CONFIRMED, f"all {session.page_count} pages confirmed")


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
    frame = response(frames_of(event)) if not isinstance(event, ReceiveTimeout) else None
    fcf = frame.fcf if frame is not None else None
    number = session.page + 1
    reply = POST_PAGE.get(fcf)
    if reply is None:
        return unexpected(session, frame, "MCF, RTP or RTN")
    step = reply.step
    if step is Step.REPEAT:
        return repeat_command(session, CallOutcome.PROTOCOL_ERROR, f"page {number} may not have arrived")
    if step is Step.HUNG_UP:
        return remote_disconnected(session, f"instead of confirming page {number}")
    if step is Step.RESEND_LOWER:
        return _page_rejected(session, number)
    if step is Step.RESEND_SAME:
        return command_missed(session, number)
    actions = confirm_page(session) if reply.confirms else []
    if session.state is State.DONE:
        return actions
    if step is Step.OPERATOR:
        return actions + operator_wanted(session, fcf or FCF.PIN, number)
    if step is Step.RETRAIN_NEXT:
        # T.30 5.3.6.1.5: retrain before the next page.
        if session.policy.step_down_on_rtp:
            return actions + step_down(session, "the remote asked to retrain (RTP)")
        return actions + retrain(session)
    assert step is Step.NEXT
    return actions + start_phase_c(session)


def _page_rejected(session: Session, number: int) -> list[Action]:
    """RTN: the page again, one rate lower, after DCS/TCF (T.30 5.3.6.1.5)."""
    assert session.settings is not None
    session.resends += 1
    session.rtn_rate = session.settings.bit_rate
    if session.resends > session.policy.max_page_resends:
        return disconnect(
            session,
            CallOutcome.PAGE_REJECTED,
            f"the remote rejected page {number} (RTN) {session.resends} times: poor copy quality; "
            f"{session.pages_confirmed} of {session.page_count} pages confirmed",
        )
    if next_rate(session.settings.bit_rate, session.usable_rates) is None:
        return retrain(session)  # already at the floor: the same rate once more
    return step_down(session, "the remote rejected the page (RTN) and training")


def command_missed(session: Session, number: int) -> list[Action]:
    """DIS instead of a reply to MPS/EOP (or PPS): the remote missed the command, its T2 ran out and
    it is back in phase B waiting for DCS (T.30 Figure 5-2b). The page is not confirmed, so
    DCS + TCF at the same rate (the page data may well have been fine) and the page again."""
    session.missed_commands += 1
    if session.missed_commands >= MAX_COMMAND_TRIES:
        return disconnect(
            session,
            CallOutcome.PROTOCOL_ERROR,
            f"the remote answered the command after page {number} with DIS {session.missed_commands} times "
            f"(it keeps missing it); {session.pages_confirmed} of {session.page_count} pages confirmed",
        )
    session.warnings.append(f"the remote missed the command after page {number} (sent DIS); page {number} again")
    return retrain(session)


def on_post_page_timeout(session: Session, event: Event) -> list[Action]:
    return on_post_page_response(session, event)
