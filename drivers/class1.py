"""``Class1Modem``: a ``FaxModem`` for T.31 (Class 1) fax modems.

The driver owns the port and the clock (modem set-up, dial, hang-up here; the call itself
in ``drivers.class1_runner.CallRunner``); ``drivers.t30.T30Sender`` owns the procedure. For
each call the driver initialises the modem, dials, then runs the engine's actions until it
says ``Disconnect``. Every line outcome comes back as a ``CallResult``; only a modem that
cannot be used at all raises ``ModemUnavailable``.

Logging: debug events for each frame (``t30.frame_sent``/``t30.frame_received``), info
events for the call (``modem.call_started``, ``modem.call_ended``). Frame logs name the
FCF only: no page content and no FIF ever reaches the log. With ``trace_dir`` set, each
call also writes a protocol trace file there (AT commands, responses, decoded frames,
timings; page data by size only): for people debugging a line, never the journal.

Outcomes (``CallResult.outcome``; stable codes, stored in the confirmation log; the
``reason`` says in words what happened and, where it helps, what to check):

=====================  =====================================================================
outcome                when
=====================  =====================================================================
confirmed              every page got MCF (or RTP/PIP, which confirm the page, T.30
                       5.3.6.1.5; with ECM: every block of every page got MCF)
busy                   the dial ended in BUSY
no_answer              the dial ended in NO ANSWER (nobody picked up within T0)
no_dialtone            the modem found no dial tone: the phone line to the modem
no_carrier             answered, but no carrier at all (NO CARRIER on the dial)
not_a_fax              answered, but no DIS within T1 (35 s), +FCERROR on the dial, or a DIS
                       that says it cannot receive
training_failed        FTT at every rate down to ``Policy.min_bps``, no common rate at or above
                       it, or no response to DCS/TCF after 3 tries
station_mismatch       station check ``strict``: the CSI (or no CSI) is not the expected
                       station; DCN before page 1, the reason names expected and seen
remote_disconnected    the remote sent DCN, or asked for an operator (PIN/PIP); pages
                       confirmed so far stand (``pages_confirmed``)
page_rejected          RTN for the same page more than ``Policy.max_page_resends`` times (each
                       resend one rate lower), or an ECM block still incomplete after CTC at
                       the lowest rate (EOR/ERR: the call carries on, the page and those
                       after it are not counted as confirmed)
protocol_error         the remote broke T.30, or a command got no valid response after
                       3 tries (T4), or stayed not ready (RNR) beyond T5
modem_error            the modem refused a command or stopped answering mid-call
=====================  =====================================================================

Station check ``warn`` does not change the outcome: ``CallResult.warnings`` and the
reason record the mismatch.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import structlog

from drivers.at_codec import CAN, END_OF_DATA, ResultCode, parse_modulations
from drivers.at_link import ModemError, ProtocolTrace, T31Link
from drivers.class1_runner import CallRunner
from drivers.modem import (
    CallRequest,
    CallResult,
    ModemUnavailable,
    Outcome,
    PageConfirmed,
    Station,
)
from drivers.page import Resolution
from drivers.port import DriverError, ModemTimeout, PortError, SerialPort
from drivers.quirks import DEFAULT_PROFILE, FlowControl, ModemProfile, load_profile
from drivers.t30.engine import T30Sender
from drivers.t30.frames import BitRate
from drivers.traced_call import open_trace, run_traced

logger = structlog.get_logger("drivers.class1")

#: Characters a dial string may hold after spaces and hyphens are removed (V.250 6.3.1).
_DIALABLE = re.compile(r"[0-9*#+,WwPpTt!@]+")

#: "AT" probes before we try to end a data mode, and again after.
INIT_PROBES = 2
#: Time for the modem to answer DLE ETX / CAN when it was stuck in a data mode.
WAKE_UP_SECONDS = 0.5

_DIAL_OUTCOMES = {
    ResultCode.BUSY: (Outcome.BUSY, "the line was busy"),
    ResultCode.NO_ANSWER: (Outcome.NO_ANSWER, "nobody answered"),
    ResultCode.NO_DIALTONE: (Outcome.NO_DIALTONE, "no dial tone: check the phone line to the modem"),
    ResultCode.NO_CARRIER: (Outcome.NO_CARRIER, "the call was answered but no fax machine responded"),
    ResultCode.FCERROR: (Outcome.NOT_A_FAX, "the number answered with something that is not a fax"),
    ResultCode.ERROR: (Outcome.MODEM_ERROR, "the modem refused to dial"),
}


def checked_atd_operand(number: str) -> str:
    """Returns ``number`` as the modem dials it: spaces, hyphens and brackets removed.

    Raises ``ValueError`` if anything else would be sent to the modem (it could be an
    AT command smuggled into the number).
    """
    digits = re.sub(r"[\s\-().]", "", number)
    if not _DIALABLE.fullmatch(digits):
        raise ValueError(f"{number!r} is not a number a modem can dial")
    return digits


class Class1Modem:
    """A Class 1 fax modem on a serial port (or a pty)."""

    def __init__(
        self,
        device: str,
        *,
        speed: int = 115200,
        station: Station,
        name: str | None = None,
        command_timeout: float = 5.0,
        dial_timeout: float = 90.0,
        profile: ModemProfile | None = None,
        flow_control: FlowControl | None = None,
        trace_dir: Path | None = None,
        port: SerialPort | None = None,
        line_time_factor: float = 1.5,
    ) -> None:
        """``trace_dir``: write a protocol trace file per call there (off by default).
        ``port``: a port already open to the modem (a scripted one in tests), used until
        ``close``; None: ``device`` is opened at the first call or check.
        ``profile``: the modem family's set-up and quirks (``drivers.quirks``; None: the
        generic profile); ``flow_control``: None takes the profile's default. How a call
        behaves (ECM, lowest rate, resends, station check...) comes with each call, in
        ``CallRequest.policy``. ``line_time_factor``: the wait for OK after page data
        allows this many times the data's line time (the DCE may buffer it all; tests
        against the simulator at speed 0 set it low).
        """
        self.trace_dir = trace_dir
        self.line_time_factor = line_time_factor
        self._calls = 0
        self.name = name or device
        self.description = "Class 1"  # shown in the modem's status while it is ready
        self.device = device
        self.speed = speed
        self.station = station
        self.command_timeout = command_timeout
        self.dial_timeout = dial_timeout  # ATD: ringing plus T0 (T.30 5.4.3.1: 60 s)
        self.profile = profile or load_profile(DEFAULT_PROFILE)
        self.flow_control = flow_control or self.profile.flow_control
        self._port = port
        self._rates: frozenset[BitRate] = frozenset(BitRate)
        self._log: structlog.typing.FilteringBoundLogger = logger.bind(modem=self.name)

    # --- FaxModem -------------------------------------------------------------------

    def send(self, request: CallRequest, on_page_confirmed: PageConfirmed | None = None) -> CallResult:
        """Places one call and sends ``request.pages``; returns how it ended.

        Raises ``ModemUnavailable`` if the port cannot be opened or the modem does not
        answer AT; ``ValueError`` for an undialable number or no pages.
        """
        if not request.pages:
            raise ValueError("a fax call needs at least one page")
        number = checked_atd_operand(request.number)
        link = self._prepare()
        self._log.info("modem.call_started", pages=len(request.pages))
        return run_traced(
            link,
            self._open_trace(),
            lambda: self._call(link, request, number, on_page_confirmed),
            self._hang_up,
            self._log,
        )

    def probe(self) -> None:
        """Opens the port and initialises the modem, so a missing modem shows before a call.

        Raises ``ModemUnavailable`` as ``send`` would.
        """
        # The port failing on ATH means the modem went away during the check: it must
        # not pass (the next check would reopen the device path, which may by then lead
        # to another pseudo-terminal, or to a modem that is not this one).
        if not self._hang_up(self._prepare()):
            raise ModemUnavailable(
                f"modem {self.name} on {self.device} went away during the check (port failed on ATH)"
            )

    def _open_trace(self) -> ProtocolTrace | None:
        """Returns a new trace file for one call, or None when tracing is off."""
        if self.trace_dir is None:
            return None
        self._calls += 1
        return open_trace(
            self.trace_dir,
            name=self.name,
            call_number=self._calls,
            title=f"faxd Class 1 call on {self.name} ({self.device})",
            log=self._log,
        )

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    # --- set-up ---------------------------------------------------------------------

    def _prepare(self) -> T31Link:
        """Returns a link to an initialised modem in Class 1.

        Raises ``ModemUnavailable`` when the port or the modem cannot be used.
        """
        try:
            if self._port is None:
                self._port = SerialPort(self.device, speed=self.speed, flow_control=self.flow_control)
            self._port.discard_input()
            link = T31Link(
                self._port,
                command_timeout=self.command_timeout,
                quirks=self.profile.class1,
                line_time_factor=self.line_time_factor,
            )
            self._initialise(link)
            return link
        except DriverError as exc:
            self.close()
            self._log.warning("modem.unavailable", error=str(exc))
            raise ModemUnavailable(f"modem {self.name}{exc.where(self.device)} cannot be used: {exc}") from exc

    def _initialise(self, link: T31Link) -> None:
        """The profile's reset, no echo and verbose results, its init commands, flow
        control on the modem as on the port, Class 1; reads the rates the modem offers.

        Raises ``ModemTimeout`` if the modem stays silent, ``ModemError`` if it refuses.
        """
        if not _answers_at(link):
            # A modem left in a data mode by a crashed call takes "AT" as data: DLE ETX
            # ends a transmission and CAN aborts a receive (T.31 8.3). Then try again.
            link.port.write(END_OF_DATA + bytes((CAN,)) + b"\r")
            link.wait_result(time.monotonic() + WAKE_UP_SECONDS)
            if not _answers_at(link):
                raise ModemTimeout(f"the modem did not answer AT, even after ending any data mode ({self.device})")
        profile = self.profile
        if profile.reset:
            self._setup(link, profile.reset, "reset")
        link.expect("E0V1", ResultCode.OK)  # the reader needs verbose result codes
        for command in profile.init:
            self._setup(link, command, "init")
        flow = profile.flow_command(self.flow_control)
        if flow:
            self._setup(link, flow, f"{self.flow_control.value} flow control")
        link.expect("+FCLASS=1", ResultCode.OK)
        result = link.command("+FTM=?")
        if result.code is ResultCode.OK:
            offered = frozenset().union(*(parse_modulations(line) for line in link.info))
            self._rates = offered or frozenset(BitRate)

    def _setup(self, link: T31Link, command: str, what: str) -> None:
        """Sends one set-up command of the profile; a refusal names the profile to fix."""
        result = link.command(command)
        if result.code is not ResultCode.OK:
            raise ModemError(
                f"the modem answered the {what} command AT{command} with {result.text}; "
                f"check modem profile {self.profile.name!r} ({self.profile.source})"
            )

    def _hang_up(self, link: T31Link) -> bool:
        """Hangs up; returns False when the port itself failed (it is closed then)."""
        try:
            link.hang_up()
        except DriverError as exc:
            self._log.warning("modem.hang_up_failed", error=str(exc))
            if isinstance(exc, PortError):
                self.close()
                return False
        return True

    # --- the call -------------------------------------------------------------------

    def _call(
        self, link: T31Link, request: CallRequest, number: str, on_page_confirmed: PageConfirmed | None
    ) -> CallResult:
        try:
            result = link.command(f"DT{number}", timeout=self.dial_timeout)
        except DriverError as exc:
            return CallResult(Outcome.MODEM_ERROR, f"dialling failed: {exc}")
        self._log.info("modem.dialled", result=result.code.value)
        if result.code is not ResultCode.CONNECT:
            outcome, reason = _DIAL_OUTCOMES.get(result.code, (Outcome.MODEM_ERROR, f"dial answered {result.text}"))
            return CallResult(outcome, reason)
        engine = T30Sender(
            local_id=self.station.tsi,
            page_count=len(request.pages),
            fine=any(page.resolution is Resolution.FINE for page in request.pages),
            superfine=any(page.resolution is Resolution.SUPERFINE for page in request.pages),
            page_length_mm=max(page.length_mm for page in request.pages),
            expected_remote_id=request.expected_remote_id,
            rates=self._rates,
            policy=request.policy,
        )
        runner = CallRunner(link, request.pages, on_page_confirmed, self._log, link.trace)
        final = runner.run(engine)
        settings = engine.settings
        line = engine.line_memory
        return CallResult(
            outcome=Outcome(final.outcome.value),
            reason=final.reason,
            remote_id=engine.remote_id,
            pages_sent=engine.pages_sent,
            pages_confirmed=engine.pages_confirmed,
            bit_rate=settings.bit_rate.bps if settings is not None else None,
            warnings=engine.warnings,
            ecm=settings.ecm if settings is not None else None,
            coding=settings.coding.value if settings is not None else None,
            trained_bps=line.trained_bps,
            rtn_bps=line.rtn_bps,
            ecm_trouble=line.ecm_trouble,
        )


def _answers_at(link: T31Link) -> bool:
    """Returns whether the modem answers a plain "AT" within a few tries."""
    for _ in range(INIT_PROBES):
        try:
            link.command("", timeout=min(link.command_timeout, 1.0))
            return True
        except ModemTimeout:
            continue
    return False


__all__ = ["Class1Modem", "ModemError", "checked_atd_operand"]
