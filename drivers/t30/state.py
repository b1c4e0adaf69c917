"""The T.30 calling station (sender) as a table of transitions.

Rules:

1. What the sender does next is decided by the table at the bottom of this module,
   ``SENDER_TRANSITIONS``: a dict from (state, event type) to a handler. ``State`` and
   ``Session`` live in ``session.py``, the handlers in ``phase_b.py`` (identification,
   training, fallback), ``phase_d.py`` (post-page exchange without ECM) and ``ecm.py``
   (T.30 Annex A). ``engine.py`` only looks handlers up and guards the table.
2. Handlers are pure: they read the event and the session, update the session and return
   the actions the driver must execute. No I/O, no clock, no logging.
3. A pair missing from the table is a bug on our side (the driver fed an event that cannot
   happen): the engine moves to ``State.FAILED`` and raises ``LocalProtocolError``.
   Anything the *remote* does wrong is an outcome: we send DCN and ``Disconnect`` with
   ``PROTOCOL_ERROR``, because a job result is a value, not an exception.
4. Extending the procedure (polling, EOM, ...) means new states, new rows and new
   handlers; the rows of the normal call stay as they are.

Theory of operation (T.30 phases, Figure 5.2):

- Phase B: after ``CallAnswered`` we wait up to T1 for DIS (+CSI, NSF); none: NOT_A_FAX.
  We check the CSI against the expected station (policy strict/warn/off), choose
  settings, send TSI + DCS, then TCF. CFR takes us to phase C; FTT to the next lower
  rate (fallback), until below the policy's minimum (TRAINING_FAILED).
- Phase C: the page as one carrier of T.4 data, or with ECM as blocks of HDLC frames.
- Phase D: after each page MPS (more pages) or EOP (last), after each ECM block PPS;
  responses as in the tables of ``phase_d`` and ``ecm``. An unanswered command is sent
  again, at most ``MAX_COMMAND_TRIES`` times (T.30 5.3.2).
- Phase E: DCN, then ``Disconnect`` with the outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from drivers.t30 import ecm, phase_b, phase_d
from drivers.t30.events import (
    Action,
    BlockSent,
    CallAnswered,
    CallOutcome,
    Event,
    FramesReceived,
    ModemFailed,
    PageSent,
    ReceiveTimeout,
    TrainingSent,
)
from drivers.t30.session import TERMINAL_STATES, Policy, Session, State, disconnect

__all__ = ["SENDER_TRANSITIONS", "TERMINAL_STATES", "Handler", "Policy", "Session", "State"]


def on_modem_failed(session: Session, event: Event) -> list[Action]:
    assert isinstance(event, ModemFailed)
    return disconnect(session, CallOutcome.MODEM_ERROR, event.reason, send_dcn=False)


Handler = Callable[[Session, Event], list[Action]]

#: (state, event type) -> handler. Missing pairs are bugs: see Rule 3.
SENDER_TRANSITIONS: dict[tuple[State, type[Event]], Handler] = {
    (State.IDLE, CallAnswered): phase_b.on_answered,
    (State.WAIT_DIS, FramesReceived): phase_b.on_identification,
    (State.WAIT_DIS, ReceiveTimeout): phase_b.on_no_identification,
    (State.SEND_TCF, TrainingSent): phase_b.on_training_sent,
    (State.WAIT_CFR, FramesReceived): phase_b.on_training_response,
    (State.WAIT_CFR, ReceiveTimeout): phase_b.on_training_timeout,
    (State.SEND_PAGE, PageSent): phase_d.on_page_sent,
    (State.WAIT_MCF, FramesReceived): phase_d.on_post_page_response,
    (State.WAIT_MCF, ReceiveTimeout): phase_d.on_post_page_timeout,
    (State.SEND_BLOCK, BlockSent): ecm.on_block_sent,
    (State.WAIT_PPS_RESPONSE, FramesReceived): ecm.on_pps_response,
    (State.WAIT_PPS_RESPONSE, ReceiveTimeout): ecm.on_pps_timeout,
    (State.WAIT_CTR, FramesReceived): ecm.on_ctc_response,
    (State.WAIT_CTR, ReceiveTimeout): ecm.on_ctc_timeout,
    (State.WAIT_ERR, FramesReceived): ecm.on_eor_response,
    (State.WAIT_ERR, ReceiveTimeout): ecm.on_eor_timeout,
}
for _state in State:
    if _state not in TERMINAL_STATES and _state is not State.IDLE:
        SENDER_TRANSITIONS[(_state, ModemFailed)] = on_modem_failed
