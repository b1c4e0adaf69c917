"""What the T.30 sender knows about a call, and the small steps every phase shares.

``State`` and ``Session`` are the data the handlers in ``phase_b``, ``phase_d`` and
``ecm`` work on; ``state.py`` ties them into the transition table. Nothing here does
I/O or reads a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from drivers.t30.events import (
    Action,
    CallOutcome,
    Disconnect,
    Event,
    FramesReceived,
    ReceiveFrames,
    SendBlock,
    SendFrames,
    Silence,
)
from drivers.t30.frames import FCF, BitRate, DCSFrame, DISFrame, Frame, PageCoding
from drivers.t30.negotiation import ECM_FRAME_SIZES, StationCheck
from drivers.t30.timers import CARRIER_GAP_MS, MAX_COMMAND_TRIES, Timer


class State(enum.Enum):
    IDLE = "idle"  # not connected yet
    WAIT_DIS = "wait_dis"  # phase B: waiting for the answering station's DIS
    SEND_TCF = "send_tcf"  # phase B: DCS sent, TCF on the line
    WAIT_CFR = "wait_cfr"  # phase B: waiting for CFR/FTT
    SEND_PAGE = "send_page"  # phase C: page data on the line
    WAIT_MCF = "wait_mcf"  # phase D: post-page command sent, waiting for the response
    SEND_BLOCK = "send_block"  # phase C, ECM: a block of HDLC frames on the line
    WAIT_PPS_RESPONSE = "wait_pps_response"  # phase D, ECM: PPS (or RR) sent
    WAIT_CTR = "wait_ctr"  # phase D, ECM: CTC sent, waiting for CTR
    WAIT_ERR = "wait_err"  # phase D, ECM: EOR sent, waiting for ERR
    DONE = "done"  # phase E: disconnected, with an outcome
    FAILED = "failed"  # a bug fed an impossible event; see LocalProtocolError

    @property
    def phase(self) -> str:
        """Returns the T.30 phase letter, for error messages."""
        return _PHASES[self]


_PHASES = {
    State.IDLE: "A",
    State.WAIT_DIS: "B",
    State.SEND_TCF: "B",
    State.WAIT_CFR: "B",
    State.SEND_PAGE: "C",
    State.SEND_BLOCK: "C",
    State.WAIT_MCF: "D",
    State.WAIT_PPS_RESPONSE: "D",
    State.WAIT_CTR: "D",
    State.WAIT_ERR: "D",
    State.DONE: "E",
    State.FAILED: "E",
}

TERMINAL_STATES = frozenset({State.DONE, State.FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How this sender behaves where T.30 leaves the choice to the sender.

    This is THE call policy of faxd, not only the engine's: the configuration builds it
    (``faxd.config.ModemConfig.policy``), the runner completes it per call (the station
    check of the running configuration, the start rate from the line memory) and hands it
    over in ``drivers.modem.CallRequest.policy``; the Class 1 driver gives it to this engine
    as it is, the Class 2 driver honours the fields a Class 2 modem leaves to the host. Every
    field is a choice T.30 leaves to the sender, so a driver-level wrapper would only repeat
    these fields and need the field-by-field copy this value replaced.
    """

    station_check: StationCheck = StationCheck.STRICT
    min_bps: int = 2400  # give up with TRAINING_FAILED below this rate
    max_page_resends: int = 2  # RTN: resend a page at most this often
    ecm: bool = True  # use ECM when the remote offers it
    max_coding: PageCoding = PageCoding.MMR  # MMR needs ECM; MR needs the remote's bit 16
    ecm_frame_size: int = 256
    step_down_on_rtp: bool = False  # RTP: retrain one rate lower before the next page
    start_bps: int | None = None  # begin at or below this rate (what the remote took last time)

    def __post_init__(self) -> None:
        """Raises ``ValueError`` for an option no call could honour."""
        object.__setattr__(self, "station_check", StationCheck(self.station_check))
        if self.ecm_frame_size not in ECM_FRAME_SIZES:
            raise ValueError(f"an ECM frame is 256 or 64 octets, not {self.ecm_frame_size}")
        if self.max_page_resends < 0:
            raise ValueError("max_page_resends cannot be negative")


@dataclass(slots=True, kw_only=True)
class Session:
    """What the sender knows about the call so far; handlers mutate it."""

    local_id: str
    page_count: int
    fine: bool
    superfine: bool = False  # our pages have 15.4 lines/mm
    page_length_mm: float = 297.0  # the longest page
    expected_remote_id: str | None
    rates: frozenset[BitRate]
    policy: Policy = field(default_factory=Policy)
    state: State = State.IDLE
    remote_id: str | None = None
    dis: DISFrame | None = None
    settings: DCSFrame | None = None
    usable_rates: tuple[BitRate, ...] = ()  # common rates, fallback order
    page: int = 0  # 0-based index of the page being sent or awaiting its response
    pages_sent: int = 0
    pages_confirmed: int = 0
    resends: int = 0  # times the current page was sent again after RTN
    missed_commands: int = 0  # DIS instead of a reply to MPS/EOP for the current page
    tries: int = 0  # times the current command has been sent
    listened_on: bool = False  # the wait for CFR/FTT was already extended past T4
    silent_trainings: int = 0  # DCS/TCF in a row that got no reply at all
    last_command: tuple[Frame, ...] = ()
    # ECM (T.30 Annex A)
    block: int = 0  # 0-based block of the current page
    block_frames: int = 0  # frames in the current block
    page_end: bool = False  # the current block is the page's last
    ppr_count: int = 0  # PPRs for the current block
    missing: tuple[int, ...] = ()  # frames the last PPR asked for
    t5_deadline: float | None = None  # RNR: when T5 runs out (set at the first RNR)
    long_training: bool = False  # next block after CTC/CTR
    ctc_rate: BitRate | None = None  # the rate the last CTC named
    outcome: CallOutcome | None = None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    # Time (T.30 5.4.3): the driver's monotonic clock as of the last event, in seconds.
    now: float = 0.0
    t1_deadline: float = 0.0  # phase B: DIS must come by then
    # What the line took, for the per-destination memory.
    trained: BitRate | None = None  # the fastest rate that got CFR
    rtn_rate: BitRate | None = None  # the rate a page got RTN at
    ecm_trouble: bool = False  # PPR four times, CTC or EOR
    incomplete_page: int | None = None  # EOR/ERR: the first page the remote got incomplete


# --- steps shared by the phases -----------------------------------------------------------


def disconnect(session: Session, outcome: CallOutcome, reason: str, *, send_dcn: bool = True) -> list[Action]:
    """Returns the actions that end the call; DCN first unless the line is already gone.

    Warnings gathered during the call (station check ``warn``) are added to the reason.
    """
    session.state = State.DONE
    session.outcome = outcome
    if session.warnings:
        reason = f"{reason}; warning: {'; '.join(session.warnings)}"
    session.reason = reason
    actions: list[Action] = []
    if send_dcn:
        dcn = Frame(fcf=FCF.DCN, x_bit=session.dis is not None)
        actions += [Silence(CARRIER_GAP_MS), SendFrames((dcn,))]
    actions.append(Disconnect(outcome, reason))
    return actions


def frames_of(event: Event) -> tuple[Frame, ...]:
    """Returns the frames of a ``FramesReceived``; the table only routes that type here."""
    assert isinstance(event, FramesReceived)
    return event.frames


def response(frames: tuple[Frame, ...]) -> Frame | None:
    """Returns the frame that answers a command: the final one of the transmission."""
    return frames[-1] if frames else None


def send_command(session: Session, frames: tuple[Frame, ...], state: State) -> list[Action]:
    """Returns the actions that send a phase D command and wait T4 for its response."""
    session.last_command = frames
    session.tries = 1
    session.state = state
    return [Silence(CARRIER_GAP_MS), SendFrames(frames), ReceiveFrames(Timer.T4.seconds)]


def repeat_command(session: Session, outcome: CallOutcome, consequence: str) -> list[Action]:
    """Returns the last command again (T4 expired or CRP), or ends the call after the
    third try (T.30 5.3.2: a command is sent at most 3 times)."""
    if session.tries >= MAX_COMMAND_TRIES:
        command = session.last_command[-1].fcf.name if session.last_command else "the command"
        return disconnect(
            session, outcome, f"no valid response to {command} after {session.tries} tries; {consequence}"
        )
    session.tries += 1
    return [Silence(CARRIER_GAP_MS), SendFrames(session.last_command), ReceiveFrames(Timer.T4.seconds)]


def remote_disconnected(session: Session, when: str) -> list[Action]:
    """The remote sent DCN: no DCN back, pages confirmed so far stand."""
    confirmed = session.pages_confirmed
    return disconnect(
        session,
        CallOutcome.REMOTE_DISCONNECTED,
        f"the remote sent DCN {when}; {confirmed} of {session.page_count} pages confirmed",
        send_dcn=False,
    )


def unexpected(session: Session, frame: Frame | None, waiting_for: str) -> list[Action]:
    got = frame.fcf.name if frame is not None else "nothing valid"
    return disconnect(session, CallOutcome.PROTOCOL_ERROR, f"expected {waiting_for} from the remote, got {got}")


def post_message(session: Session) -> FCF:
    """Returns MPS when pages follow, EOP after the last (T.30 5.3.6.1.4)."""
    return FCF.EOP if session.page + 1 >= session.page_count else FCF.MPS


def send_block(session: Session, frames: tuple[int, ...] | None) -> list[Action]:
    """Returns the actions that send ECM block ``session.block`` of the current page:
    every frame (``frames`` None) or only those a PPR asked for (T.30 A.4.3)."""
    assert session.settings is not None
    settings = session.settings
    session.state = State.SEND_BLOCK
    block = SendBlock(
        index=session.page,
        block=session.block,
        frames=frames,
        bit_rate=settings.bit_rate,
        coding=settings.coding,
        frame_size=64 if settings.ecm_frame_64 else 256,
        fine=settings.fine,
        superfine=settings.superfine,
        long_training=session.long_training,
    )
    session.long_training = False
    return [Silence(CARRIER_GAP_MS), block]
