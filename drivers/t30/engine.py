"""``T30Sender``: the sans-IO calling station of T.30.

The engine never touches a port or a clock. A driver creates one per call, feeds it events
and executes the actions it returns (see ``drivers.t30.events`` for the contract)::

    engine = T30Sender(local_id="+46 40 628 04 00", page_count=len(pages))
    actions = engine.handle(CallAnswered())
    # ... execute actions; feed back the event the last one yields; repeat until Disconnect.

The transitions themselves live in ``drivers.t30.state``.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, CallOutcome, Event
from drivers.t30.frames import IDENTITY_LENGTH, BitRate, DCSFrame
from drivers.t30.state import SENDER_TRANSITIONS, TERMINAL_STATES, Session, State


class T30Sender:
    """One outgoing T.30 call, from CONNECT to DCN."""

    def __init__(
        self,
        *,
        local_id: str,
        page_count: int,
        fine: bool = True,
        expected_remote_id: str | None = None,
        rates: Iterable[BitRate] = tuple(BitRate),
    ) -> None:
        """``local_id`` is our TSI; ``rates`` are the rates our modem supports.

        Raises ``ValueError`` for a TSI longer than 20 characters or no pages.
        """
        if len(local_id) > IDENTITY_LENGTH or not local_id.isascii():
            raise ValueError(f"a TSI is at most {IDENTITY_LENGTH} ASCII characters: {local_id!r}")
        if page_count < 1:
            raise ValueError("a fax call sends at least one page")
        self._session = Session(
            local_id=local_id,
            page_count=page_count,
            fine=fine,
            expected_remote_id=expected_remote_id,
            rates=frozenset(rates),
        )

    @property
    def state(self) -> State:
        return self._session.state

    @property
    def remote_id(self) -> str | None:
        """The CSI the remote sent, stripped; None before DIS or if it sent none."""
        return self._session.remote_id

    @property
    def settings(self) -> DCSFrame | None:
        """The DCS we sent; None before negotiation."""
        return self._session.settings

    @property
    def pages_sent(self) -> int:
        return self._session.pages_sent

    @property
    def pages_confirmed(self) -> int:
        return self._session.pages_confirmed

    @property
    def outcome(self) -> CallOutcome | None:
        return self._session.outcome

    @property
    def reason(self) -> str:
        return self._session.reason

    def handle(self, event: Event) -> list[Action]:
        """Returns the actions to execute for ``event``, in order.

        Raises ``LocalProtocolError`` (and moves to ``State.FAILED``) if the event cannot
        happen in the current state: that is a driver bug, not a line fault.
        """
        state = self._session.state
        handler = SENDER_TRANSITIONS.get((state, type(event)))
        if handler is None:
            self._session.state = State.FAILED
            where = "after the call ended" if state in TERMINAL_STATES else f"in T.30 phase {state.phase}"
            raise LocalProtocolError(
                f"the T.30 sender cannot handle {type(event).__name__} in state {state.name} ({where})"
            )
        return handler(self._session, event)
