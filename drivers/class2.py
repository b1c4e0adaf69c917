"""``Class2Modem``: a ``FaxModem`` for Class 2, 2.0 and 2.1 fax modems.

A Class 2 modem runs T.30 in its firmware: the driver sets the modem up, dials, reads the
remote's CSI and DIS from the modem's reports, hands it each page (T.4, coded here for
the session the modem reports) and gives the post-page message; the modem answers with
the remote's page status and, when the call ends, a hangup status. Where the command sets
differ (names, XON after CONNECT, <DLE><ETX> + ``+FET`` or <DLE> + post-page character,
decimal or hexadecimal hangup codes) the driver reads ``drivers.class2_dialect``: no
branch on the class here.

The guarantees are Class 1's, through the same paths: the runner puts the cover sheet
first and resumes at the first unconfirmed page; the station check happens on the CSI the
modem reports after dialling, before ``+FDT``, so on a mismatch no page leaves (``+FK``
then ``ATH``); each confirmed page is reported at once (``on_page_confirmed``); a page the
remote rejects (RTN) is sent again up to ``max_page_resends`` times; every call can write
a protocol trace. Hangup codes become outcomes by ``class2_dialect.HANGUP_CODES``, with
the modem's code and words in the reason.

Set-up and flow control come from the modem's profile (``drivers.quirks``: reset, init,
the family's flow control commands) and its ``[class2]`` quirks (``class2_quirks``).
Flow control is RTS/CTS, XON/XOFF or none; with XON/XOFF the port honours XOFF only while
page data flows, after the XON that starts it (Class 2), so the XON the driver waits for
is not eaten by the port. A write held off longer than
the port's write timeout fails the call as ``modem_error`` instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import structlog

from drivers.at_codec import END_OF_DATA, ResultCode, stuff
from drivers.at_link import ModemError, ProtocolTrace, T31Link
from drivers.class1 import checked_atd_operand
from drivers.class2_dialect import (
    DIALECTS,
    IN_BAND_POST_PAGE,
    PAGE_STATUS,
    Dialect,
    PostPage,
    hangup_outcome,
    parse_hangup,
)
from drivers.class2_quirks import class2_quirks
from drivers.class2_session import Capabilities, SessionParams, parse_ranges
from drivers.modem import (
    CallRequest,
    CallResult,
    ModemUnavailable,
    Outcome,
    PageConfirmation,
    PageConfirmed,
    Station,
    StationCheck,
)
from drivers.page import FaxPage, Resolution
from drivers.port import DriverError, ModemTimeout, PortError, SerialPort
from drivers.quirks import DEFAULT_PROFILE, FlowControl, ModemProfile, load_profile
from drivers.t4 import Coding, encode_page
from drivers.t30.negotiation import same_station
from drivers.traced_call import open_trace, run_traced

logger = structlog.get_logger("drivers.class2")

XON = 0x11
#: How long the modem may take between CONNECT to +FDT and its XON (SP-2388; mgetty
#: waits 20 s, efax 2 s). Generous: a slow firmware is no reason to fail a call.
XON_TIMEOUT = 10.0
_WRITE_CHUNK = 4096
_CODINGS = {0: Coding.MH, 1: Coding.MR, 3: Coding.MMR}


class Class2Modem:
    """A Class 2 / 2.0 / 2.1 fax modem on a serial port (or a pty)."""

    def __init__(
        self,
        device: str,
        *,
        fax_class: str = "2.0",
        speed: int = 115200,
        station: Station,
        name: str | None = None,
        command_timeout: float = 5.0,
        dial_timeout: float = 120.0,
        flow_control: FlowControl | str | None = None,
        profile: ModemProfile | None = None,
        trace_dir: Path | None = None,
        mmr: bool = True,
        init: Sequence[str] = (),
        reversed_bit_order: bool = False,
        wait_for_xon: bool | None = None,
        phase_timeout: float = 60.0,
        port: SerialPort | None = None,
        line_time_factor: float = 1.5,
    ) -> None:
        """``fax_class`` is "2", "2.0" or "2.1". ``port``: a port already open to the modem
        (a scripted one in tests), used until ``close``; None: ``device`` is opened at the
        first call or check. ``profile``: the modem family's set-up
        (reset, init, flow control commands) and its ``[class2]`` quirks
        (``drivers.class2_quirks``; None: the generic profile); ``flow_control``: None
        takes the profile's default. ``mmr``: ask the modem for MMR when it has it. How a
        call behaves comes with each call in ``CallRequest.policy``: of it a Class 2 modem
        leaves to us ECM (asked for at each call's set-up, when the modem has it and the
        profile allows it), the resends after RTN and the station check; training, rates
        and codings within those are the modem's own. ``init``: more commands
        after +FCLASS. ``reversed_bit_order``: the modem wants phase C data with the last
        bit of each octet first (+FBO/+FBOR 1); ``wait_for_xon`` overrides the dialect's
        rule; ``line_time_factor``: the wait for the modem's answer after page data allows
        this many times the page's line time (a modem may hold much of it in its buffer;
        tests against the simulator at speed 0 set it low); ``phase_timeout``: how long
        +FDT (training) and a post-page exchange may
        take. The profile's quirks apply where these are left at their defaults.

        Raises ``ValueError`` for a class or flow control faxd does not know.
        """
        if fax_class not in DIALECTS:
            raise ValueError(f"fax class {fax_class!r} is not a Class 2 command set: one of {', '.join(DIALECTS)}")
        self.profile = profile or load_profile(DEFAULT_PROFILE)
        quirks = class2_quirks(self.profile.sections.get("class2"), source=self.profile.source)
        init = (*quirks.init, *init)
        reversed_bit_order = reversed_bit_order or quirks.reversed_bit_order
        wait_for_xon = quirks.wait_for_xon if wait_for_xon is None else wait_for_xon
        if phase_timeout == 60.0:
            phase_timeout = quirks.phase_timeout_seconds
        flow_control = FlowControl(flow_control) if flow_control is not None else self.profile.flow_control
        self.dialect: Dialect = DIALECTS[fax_class]
        # The command that sets flow control on the DCE in this class: the class's rule
        # unless the family's profile says its firmware differs (lucent.toml: +FLO in Class 2).
        self.flow_class_command = self.dialect.flow_command if quirks.flow_command is None else quirks.flow_command
        self.name = name or device
        self.description = f"Class {fax_class}"  # shown in the modem's status while it is ready
        self.device = device
        self.speed = speed
        self.station = station
        self.command_timeout = command_timeout
        self.dial_timeout = dial_timeout
        self.flow_control = flow_control
        self.trace_dir = trace_dir
        self.ecm_allowed = quirks.ecm  # the profile may forbid ECM (firmware that breaks with it)
        self.mmr = mmr
        self.init = tuple(init)
        self.reversed_bit_order = reversed_bit_order
        self.wait_for_xon = self.dialect.wait_for_xon if wait_for_xon is None else wait_for_xon
        self.phase_timeout = phase_timeout
        self.line_time_factor = line_time_factor
        self.capabilities = Capabilities()
        self._port = port
        self._calls = 0
        self._log: structlog.typing.FilteringBoundLogger = logger.bind(modem=self.name)

    # --- FaxModem -------------------------------------------------------------------

    def send(self, request: CallRequest, on_page_confirmed: PageConfirmed | None = None) -> CallResult:
        """Places one call and sends ``request.pages``; returns how it ended.

        Raises ``ModemUnavailable`` if the port or the modem cannot be used;
        ``ValueError`` for an undialable number or no pages.
        """
        if not request.pages:
            raise ValueError("a fax call needs at least one page")
        number = checked_atd_operand(request.number)
        link = self._prepare(ecm=request.policy.ecm)
        self._log.info("modem.call_started", pages=len(request.pages), fax_class=self.dialect.fax_class)
        call = _Call(self, link, request, on_page_confirmed)
        return run_traced(link, self._open_trace(), lambda: call.run(number), self._hang_up, self._log)

    def probe(self) -> None:
        """Opens the port and sets the modem up; raises ``ModemUnavailable`` as ``send`` would."""
        # The port failing on ATH means the modem went away during the check: it must
        # not pass (the next check would reopen the device path, which may by then lead
        # to another pseudo-terminal, or to a modem that is not this one).
        if not self._hang_up(self._prepare(ecm=True)):
            raise ModemUnavailable(
                f"modem {self.name} on {self.device} went away during the check (port failed on ATH)"
            )

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    # --- set-up ---------------------------------------------------------------------

    def _prepare(self, *, ecm: bool) -> T31Link:
        """Opens the port and sets the modem up, asking for ECM if ``ecm`` (and the
        profile allows it). A check (``probe``) places no call and asks for all the modem
        has; each call sets the modem up again with its own policy."""
        try:
            if self._port is None:
                self._port = SerialPort(self.device, speed=self.speed, flow_control=self.flow_control)
            self._port.discard_input()
            link = T31Link(self._port, command_timeout=self.command_timeout)
            self._initialise(link, ecm=ecm)
            return link
        except DriverError as exc:
            self.close()
            self._log.warning("modem.unavailable", error=str(exc))
            raise ModemUnavailable(f"modem {self.name}{exc.where(self.device)} cannot be used: {exc}") from exc

    def _initialise(self, link: T31Link, *, ecm: bool) -> None:
        """ATZ, E0V1, +FCLASS, the quirk profile's commands, then what we want of a call:
        capabilities within what the modem offers, our id, bit order, flow control.

        Raises ``ModemTimeout``/``ModemError``.
        """
        d = self.dialect
        if not _answers_at(link):
            link.port.write(END_OF_DATA + b"\r")  # a modem left in page data by a crash
            link.wait_result(time.monotonic() + 0.5)
            if not _answers_at(link):
                raise ModemTimeout(f"the modem did not answer AT ({self.device})")
        profile = self.profile
        if profile.reset:
            link.expect(profile.reset, ResultCode.OK)
        link.expect("E0V1", ResultCode.OK)
        for command in profile.init:
            link.expect(command, ResultCode.OK)
        flow = profile.flow_command(self.flow_control)
        if flow:
            link.expect(flow, ResultCode.OK)
        link.expect(f"+FCLASS={d.fax_class}", ResultCode.OK)
        for command in (*d.optional_setup, *self.init):
            link.command(command)  # firmware without one of these still sends faxes
        if link.command(f"{d.capabilities}=?").code is ResultCode.OK and link.info:
            offered = parse_ranges(link.info[-1])
            self.capabilities = Capabilities.wanted(
                offered, ecm=ecm and self.ecm_allowed, mmr=self.mmr, ec_on=d.ec_on, df_mmr=d.df_mmr
            )
        link.expect(f"{d.capabilities}={self.capabilities.text()}", ResultCode.OK)
        link.expect(f'{d.local_id}="{self.station.tsi}"', ResultCode.OK)
        link.expect(f"{d.bit_order}={1 if self.reversed_bit_order else d.default_bit_order}", ResultCode.OK)
        if self.flow_class_command:
            values = {FlowControl.RTSCTS: 2, FlowControl.XONXOFF: 1, FlowControl.NONE: 0}
            link.command(f"{self.flow_class_command}={values[self.flow_control]}")

    def _hang_up(self, link: T31Link) -> bool:
        """Hangs up; returns False when the port itself failed (it is closed then)."""
        try:
            link.port.pace_output(False)
            link.hang_up()
        except DriverError as exc:
            self._log.warning("modem.hang_up_failed", error=str(exc))
            if isinstance(exc, PortError):
                self.close()
                return False
        return True

    def _open_trace(self) -> ProtocolTrace | None:
        """Returns a new trace file for one call, or None when tracing is off."""
        if self.trace_dir is None:
            return None
        self._calls += 1
        return open_trace(
            self.trace_dir,
            name=self.name,
            call_number=self._calls,
            title=f"faxd Class {self.dialect.fax_class} call on {self.name} ({self.device})",
            log=self._log,
        )


class _Call:
    """One call: dial, station check, pages, post-page messages."""

    def __init__(
        self, modem: Class2Modem, link: T31Link, request: CallRequest, confirmed: PageConfirmed | None
    ) -> None:
        self.modem = modem
        self.d = modem.dialect
        self.link = link
        self.request = request
        self.on_page_confirmed = confirmed
        self.log = modem._log
        self.remote_id: str | None = None
        self.session: SessionParams | None = None
        self.pages_sent = 0
        self.pages_confirmed = 0
        self.warnings: list[str] = []
        self.hangup: int | None = None
        self.page_status = 0

    def result(self, outcome: Outcome, reason: str) -> CallResult:
        session = self.session
        return CallResult(
            outcome=outcome,
            reason=reason,
            remote_id=self.remote_id,
            pages_sent=self.pages_sent,
            pages_confirmed=self.pages_confirmed,
            bit_rate=session.bps if session else None,
            warnings=tuple(self.warnings),
            ecm=session.ecm if session else None,
            coding=_CODINGS[session.df].value if session and session.df in _CODINGS else None,
        )

    def ended(self, fallback: Outcome, reason: str) -> CallResult:
        """Returns the result of a call the modem ended (by its hangup code when it gave one)."""
        if self.hangup is not None and self.hangup != 0:
            outcome, words = hangup_outcome(self.hangup, self.d)
            return self.result(outcome, f"{words}; {self.pages_confirmed} of {len(self.request.pages)} pages confirmed")
        return self.result(fallback, reason)

    def reports(self) -> None:
        """Reads the +F reports among the last command's information lines."""
        for line in self.link.info:
            name, _, value = line.partition(":")
            name = name.strip().upper()
            if name == self.d.remote_id:
                self.remote_id = value.strip().strip('"').strip() or None
            elif name == self.d.session_report:
                self.session = SessionParams.parse(value, radix=self.d.hangup_radix)
            elif name == self.d.hangup:
                self.hangup = parse_hangup(value, self.d)
            elif name == self.d.page_status:
                self.page_status = int(value.strip() or 0) if value.strip().isdigit() else 0

    def run(self, number: str) -> CallResult:
        try:
            return self._run(number)
        except DriverError as exc:
            self.log.warning("modem.failed_mid_call", error=str(exc))
            return self.result(Outcome.MODEM_ERROR, f"the modem failed during the call: {exc}")

    def _run(self, number: str) -> CallResult:
        link = self.link
        result = link.command(f"D{number}", timeout=self.modem.dial_timeout)
        self.reports()
        self.log.info("modem.dialled", result=result.code.value, hangup=self.hangup)
        dial_outcomes = {
            ResultCode.BUSY: (Outcome.BUSY, "the line was busy"),
            ResultCode.NO_ANSWER: (Outcome.NO_ANSWER, "nobody answered"),
            ResultCode.NO_DIALTONE: (Outcome.NO_DIALTONE, "no dial tone: check the phone line to the modem"),
        }
        if result.code in dial_outcomes:
            return self.result(*dial_outcomes[result.code])
        connected = any(line.strip().upper().startswith(self.d.connected) for line in link.info)
        if result.code is not ResultCode.OK or not connected:
            return self.ended(Outcome.NO_CARRIER, f"the call was answered but no fax machine responded ({result.text})")
        problem = self._station_problem()
        if problem is not None and self.request.policy.station_check is StationCheck.STRICT:
            link.command(self.d.abort)  # DCN before any page (T.30 5.3.6.1.8)
            return self.result(Outcome.STATION_MISMATCH, f"{problem}; no page was sent")
        if problem is not None:
            self.warnings.append(f"station check: {problem}")
        pages = self.request.pages
        index, resends = 0, 0
        while index < len(pages):
            last = index == len(pages) - 1
            status = self._send_page(index, PostPage.EOP if last else PostPage.MPS)
            if status is None:
                return self.ended(Outcome.PROTOCOL_ERROR, f"the modem ended the call at page {index + 1}")
            confirmed, name = PAGE_STATUS.get(status, (False, f"page status {status}"))
            self.link._trace(f"page {index + 1}: {self.d.page_status}:{status} ({name})")
            if confirmed:
                self.pages_confirmed += 1
                self.log.info("t30.page_confirmed", page=index)
                if self.on_page_confirmed is not None:
                    session = self.session
                    self.on_page_confirmed(
                        PageConfirmation(
                            index,
                            session.bps if session else None,
                            _CODINGS[session.df].value if session and session.df in _CODINGS else None,
                            session.ecm if session else None,
                        )
                    )
                index, resends = index + 1, 0
                if name == "PIP":
                    link.command(self.d.abort)
                    return self.result(
                        Outcome.REMOTE_DISCONNECTED, f"the remote asked for an operator (PIP) after page {index}"
                    )
                continue
            if name == "RTN" and resends < self.request.policy.max_page_resends:
                resends += 1
                continue  # the modem retrains on the next +FDT (T.30 5.3.6.1.5)
            link.command(self.d.abort)
            if name == "RTN":
                return self.result(Outcome.PAGE_REJECTED, f"page {index + 1} rejected (RTN) {resends + 1} times")
            return self.result(Outcome.REMOTE_DISCONNECTED, f"the remote answered page {index + 1} with {name}")
        if self.hangup not in (None, 0):
            return self.ended(Outcome.PROTOCOL_ERROR, "the modem reported an abnormal end")
        return self.result(Outcome.CONFIRMED, f"all {len(pages)} pages confirmed")

    def _station_problem(self) -> str | None:
        expected = self.request.expected_remote_id
        if expected is None or self.request.policy.station_check is StationCheck.OFF:
            return None
        if same_station(expected, self.remote_id):
            return None
        return f"the remote identifies as {self.remote_id or '(no CSI)'}, expected {expected}"

    def _send_page(self, index: int, message: PostPage) -> int | None:
        """Sends page ``index`` and its post-page message; returns the page status, or None
        when the modem ended the call (``self.hangup`` says why)."""
        link, d = self.link, self.d
        self.page_status = 0
        result = link.command("+FDT", timeout=self.modem.phase_timeout)
        self.reports()
        if result.code is not ResultCode.CONNECT or self.session is None:
            return None
        if self.modem.wait_for_xon:
            self._wait_for_xon()
        data = self._coded(index)
        if self.modem.reversed_bit_order:
            data = data.translate(_REVERSED)
        ending = b"\x10" + IN_BAND_POST_PAGE[message] if d.in_band_post_page else END_OF_DATA
        payload = stuff(data) + ending
        link._trace(f"> page {index + 1}: {len(data)} octets {self.session.coding_name} at {self.session.bps} bit/s")
        link.port.pace_output(True)  # XON/XOFF only: the modem may now hold us off
        try:
            for start in range(0, len(payload), _WRITE_CHUNK):
                link.port.write(payload[start : start + _WRITE_CHUNK])
            line_seconds = len(data) * 8 / self.session.bps
            final = link.wait_result(
                time.monotonic()
                + self.modem.command_timeout
                + self.modem.line_time_factor * line_seconds
                + self.modem.phase_timeout
            )
        finally:
            link.port.pace_output(False)
        self.pages_sent += 1
        if final is None:
            raise ModemTimeout(f"the modem did not answer the end of page {index + 1}")
        self.reports()
        if not d.in_band_post_page:
            if final.code is not ResultCode.OK:
                return None
            link.command(f"+FET={int(message)}", timeout=self.modem.phase_timeout)
            self.reports()
        if self.page_status:
            return self.page_status
        return None

    def _wait_for_xon(self) -> None:
        """Waits for the XON that says the modem is ready for data (SP-2388)."""
        pending = self.link.reader.take_pending()
        deadline = time.monotonic() + XON_TIMEOUT
        while XON not in pending:
            if time.monotonic() > deadline:
                raise ModemError("the modem said CONNECT to +FDT but never XON")
            pending += self.link.port.read(min(0.5, deadline - time.monotonic()))

    def _coded(self, index: int) -> bytes:
        session = self.session
        assert session is not None
        page = self.request.pages[index]
        pixels = _at_resolution(page, fine=session.vr == 1)
        coding = _CODINGS.get(session.df, Coding.MH)
        min_bits = session.bps * session.min_scan_ms // 1000
        return encode_page(pixels, coding, k=4 if session.vr else 2, min_bits_per_line=0 if session.ecm else min_bits)


def _answers_at(link: T31Link) -> bool:
    """Returns whether the modem answers a plain "AT" within two tries."""
    for _ in range(2):
        try:
            link.command("", timeout=min(link.command_timeout, 1.0))
            return True
        except ModemTimeout:
            continue
    return False


def _at_resolution(page: FaxPage, *, fine: bool) -> npt.NDArray[np.bool_]:
    """Returns the page's rows at the session's resolution (the modem's +FDCS vr)."""
    if fine and page.resolution is Resolution.NORMAL:
        return np.repeat(page.pixels, 2, axis=0)
    if not fine and page.resolution is Resolution.FINE:
        return page.pixels[::2]
    return page.pixels


_REVERSED = bytes(int(f"{value:08b}"[::-1], 2) for value in range(256))


__all__ = ["Class2Modem"]
