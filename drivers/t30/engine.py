"""``T30Sender``: the sans-IO calling station of T.30.

The engine never touches a port or a clock. A driver creates one per call, feeds it events
and executes the actions it returns (see ``drivers.t30.events`` for the contract)::

    engine = T30Sender(local_id="+46 40 628 04 00", page_count=len(pages))
    actions = engine.handle(CallAnswered(), now=time.monotonic())
    # ... execute actions; feed back the event the last one yields; repeat until Disconnect.

The transitions themselves live in ``drivers.t30.state``.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.t30.errors import LocalProtocolError
from drivers.t30.events import Action, CallOutcome, Event, LineMemory
from drivers.t30.frames import IDENTITY_LENGTH, BitRate, DCSFrame
from drivers.t30.state import SENDER_TRANSITIONS, TERMINAL_STATES, Policy, Session, State


class T30Sender:
    """One outgoing T.30 call, from CONNECT to DCN."""

    def __init__(
        self,
        *,
        local_id: str,
        page_count: int,
        fine: bool = True,
        superfine: bool = False,
        page_length_mm: float = 297.0,
        expected_remote_id: str | None = None,
        rates: Iterable[BitRate] = tuple(BitRate),
        policy: Policy = Policy(),
    ) -> None:
        """``local_id`` is our TSI; ``rates`` are the rates our modem supports.

        ``policy`` is what T.30 leaves to the sender (``drivers.t30.session.Policy``): what
        a CSI other than ``expected_remote_id`` does, the lowest rate FTT fallback may
        reach, how often a page is sent again after RTN, ECM, the highest coding, the ECM
        frame size, RTP and the rate to train at first.

        ``fine``/``superfine``: our pages have 7.7 / 15.4 lines/mm (each used only if the
        DIS offers it); ``page_length_mm``: the longest page, for the DCS length.

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
            superfine=superfine,
            page_length_mm=page_length_mm,
            expected_remote_id=expected_remote_id,
            rates=frozenset(rates),
            policy=policy,
        )

    @classmethod
    def from_session(cls, session: Session) -> T30Sender:
        """Returns an engine that carries on from ``session`` (what a call knows at some
        point: its state, the DCS sent, the rates left). Drivers start with ``__init__``;
        this is for checking every state against every event without playing a call into
        each state first."""
        engine = cls(local_id=session.local_id, page_count=session.page_count)
        engine._session = session
        return engine

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

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things a person should know although the call went on (station check ``warn``)."""
        return tuple(self._session.warnings)

    @property
    def line_memory(self) -> LineMemory:
        """What this call showed about the remote's line, for the next call to it."""
        session = self._session
        settings = session.settings
        return LineMemory(
            trained_bps=session.trained.bps if session.trained is not None else None,
            rtn_bps=session.rtn_rate.bps if session.rtn_rate is not None else None,
            ecm_trouble=session.ecm_trouble,
            ecm=settings.ecm if settings is not None else None,
        )

    def handle(self, event: Event, now: float | None = None) -> list[Action]:
        """Returns the actions to execute for ``event``, in order.

        ``now`` is the driver's monotonic time in seconds when the event happened; the
        T.30 timers (T1 from the answer, T5 from the first RNR) are measured with it.
        Without it the engine's clock stands still (tests that step by hand).

        Raises ``LocalProtocolError`` (and moves to ``State.FAILED``) if the event cannot
        happen in the current state: that is a driver bug, not a line fault.
        """
        if now is not None:
            self._session.now = now
        state = self._session.state
        handler = SENDER_TRANSITIONS.get((state, type(event)))
        if handler is None:
            self._session.state = State.FAILED
            where = "after the call ended" if state in TERMINAL_STATES else f"in T.30 phase {state.phase}"
            raise LocalProtocolError(
                f"the T.30 sender cannot handle {type(event).__name__} in state {state.name} ({where})"
            )
        return handler(self._session, event)
