"""An emulated T.31 Class 1 DCE: the AT side of the simulated modem.

``EmulatedDce`` is fed the bytes the host writes to the pty and answers through a
``write`` callback, as a Class 1 modem would (T.31 8.3; behaviour modelled on SpanDSP's
``t31.c``). Behind it sits an ``AnsweringFax`` per call. Line time is spent through a
``pause`` callback, so the pty thread decides how real the pace is (``speed``); the DCE's
own timers (the wait for a carrier after +FRH/+FRM, a wedge) are deadlines on ``clock``
that the pty thread checks with ``deadline``/``expire``, so nothing here sleeps on them.

Modes: COMMAND (AT lines, echo), HDLC_TX (+FTH: frames from the host), DATA_TX (+FTM:
TCF or page data from the host; these two in ``dce_tx.py``), RECEIVE_WAIT (+FRH/+FRM with nothing on the line: any
character aborts with OK, T.31 8.3.4; no carrier before the deadline gives NO CARRIER;
HDLC_TX and DATA_TX end with ERROR when the host stops sending), WEDGED (a scripted
fault: every byte is ignored until the wedge ends).

Command syntax (V.250 5): ``AT`` then basic commands (letter + number, ``&F``, ``Sn=v``)
and extended ``+F`` commands separated by ``;``; ``D`` takes the rest of the line.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from drivers.at_codec import CAN, END_OF_DATA, Unstuffer, stuff
from drivers.modem import Outcome
from drivers.simulator import timing, wire
from drivers.simulator.commands import CommandLine, Reply
from drivers.simulator.dce_tx import TX_IDLE_SECONDS, TransmitModes
from drivers.simulator.dce_tx import Mode as _Mode
from drivers.simulator.quirks import KIND, FlowControl, ModemQuirks
from drivers.simulator.remote import Answer, AnsweringFax, ReceivedCall, RemoteProfile

#: The DCE's wait for a carrier after +FRH/+FRM before NO CARRIER (a modem setting, not
#: line time: not scaled by ``speed``).
RECEIVE_TIMEOUT = 10.0


class EmulatedDce(TransmitModes):
    """A Class 1 modem whose line leads to a simulated answering fax machine."""

    def __init__(
        self,
        *,
        write: Callable[[bytes], None],
        pause: Callable[[float], None],
        profile_for: Callable[[str], RemoteProfile],
        on_call_ended: Callable[[ReceivedCall], None],
        close_line: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        receive_timeout: float = RECEIVE_TIMEOUT,
        quirks: ModemQuirks = KIND,
        in_flight: Callable[[], int] = lambda: 0,
    ) -> None:
        """``profile_for`` returns the remote that answers a dialled number;
        ``close_line`` closes the pty (the ``close_after_page`` fault); ``quirks`` is how
        this modem misbehaves; ``in_flight`` returns how many octets the host has written
        and the DCE not read yet (for XON/XOFF)."""
        self._write = write
        self._pause = pause
        self._profile_for = profile_for
        self._on_call_ended = on_call_ended
        self._close_line = close_line or (lambda: None)
        self._clock = clock
        self.receive_timeout = receive_timeout
        self.quirks = quirks
        self._in_flight = in_flight
        self.flow_control = quirks.flow_control
        self._buffer = None
        self.call_count = 0
        self.call: AnsweringFax | None = None
        self._mode = _Mode.COMMAND
        self._deadline: float | None = None
        self._commands = CommandLine(self)
        # The remote's answer to a TCF, due at a clock time (``ftt_silence``).
        self._held: tuple[list[bytes], float] | None = None
        self._reset()

    # --- input and timers -----------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Handles bytes the host wrote."""
        while data:
            if self._mode is _Mode.WEDGED:
                return  # a wedged modem swallows everything, as a hung firmware does
            if self._mode is _Mode.COMMAND:
                data = self._command_bytes(data)
            elif self._mode is _Mode.RECEIVE_WAIT:
                self._end_receive_wait()
                self.result("OK")  # T.31 8.3.4: any character aborts the receive
                data = data[1:]
            else:
                data = self._data_bytes(data)
        if self._mode in (_Mode.HDLC_TX, _Mode.DATA_TX):
            self._deadline = self._clock() + TX_IDLE_SECONDS
        elif self._mode is _Mode.COMMAND:
            self._deadline = None

    @property
    def read_limit(self) -> int | None:
        """Returns how many octets the DCE takes in its next read, or None for any: with
        RTS/CTS and a full transmit buffer, no more than fits (the host's writes block)."""
        buffer = self._buffer
        if self._mode is _Mode.DATA_TX and buffer is not None and buffer.mode is FlowControl.RTSCTS:
            return buffer.room()
        return None

    @property
    def deadline(self) -> float | None:
        """Returns when ``expire`` must be called (``clock`` time), or None."""
        return self._deadline

    def expire(self) -> None:
        """Acts on a deadline that has passed: NO CARRIER for a receive, end of a wedge."""
        if self._deadline is None or self._clock() < self._deadline:
            return
        if self._mode is _Mode.RECEIVE_WAIT and self._held is not None and self._clock() >= self._held[1]:
            self._end_receive_wait()
            self._rx_queue.append(self._held[0])  # the late answer, and the host is listening
            self._held = None
            self._deliver_frame()
        elif self._mode is _Mode.RECEIVE_WAIT:
            self._end_receive_wait()
            self.result("NO CARRIER")  # T.31 8.3.4/8.3.5: no carrier within the wait
        elif self._mode in (_Mode.HDLC_TX, _Mode.DATA_TX):
            self._mode = _Mode.COMMAND  # the host stopped mid-transmission: see TX_IDLE_SECONDS
            self._deadline = None
            self.result("ERROR")
        elif self._mode is _Mode.WEDGED:
            self._deadline = None
            self._reset()  # the modem comes back as after a power cycle

    def hang_up(self, reason: str) -> None:
        """Ends the call in progress, if any (ATH, ATZ, host gone)."""
        if self.call is not None:
            call, self.call = self.call, None
            if not call.done and call.outcome is not Outcome.CONFIRMED:
                call.reason = f"{call.reason} ({reason})"
            self._on_call_ended(call.finished())
        self._rx_queue.clear()
        self._in_burst = False
        self._held = None

    # --- used by the command interpreter --------------------------------------------

    def result(self, code: str, *info: str) -> None:
        """Writes information lines and a result code, verbose or numeric (V.250 5.7)."""
        self._write(b"".join(b"\r\n" + line.encode("ascii") + b"\r\n" for line in info))
        if self.verbose:
            self._write(b"\r\n" + code.encode("ascii") + b"\r\n")
        else:
            self._write(_NUMERIC.get(code, "4").encode("ascii") + b"\r")

    def echo_byte(self, byte: int) -> None:
        if self.echo:
            self._write(bytes((byte,)))

    def factory_reset(self) -> None:
        """ATZ / AT&F: on hook, echo and verbose results on (V.250 6.1)."""
        self.hang_up("ATZ")
        self._reset()

    def silence(self, tens: int) -> Reply:
        """+FTS: stop transmitting and wait ``tens`` x 10 ms (T.31 8.3.1)."""
        self._pause(tens / 100)
        return Reply.OK

    def receive_silence(self, tens: int) -> Reply:
        """+FRS: wait for ``tens`` x 10 ms of silence (T.31 8.3.4); ERROR on a modem
        without it (``no_frs``)."""
        if self.quirks.no_frs:
            return Reply.ERROR
        self._pause(tens / 100)
        return Reply.OK

    def set_flow_control(self, mode: FlowControl) -> None:
        """+IFC, +FLO, &K: how this DCE holds the host back from now on."""
        self.flow_control = mode

    def start_receive(self, hdlc: bool, code: int) -> Reply:
        """+FRH=3 / +FRM=<code> (T.31 8.3.4, 8.3.5)."""
        if self.call is None or (not hdlc and code not in wire.MODULATION_CODES):
            return Reply.ERROR
        if self._deaf():
            self._mode = _Mode.RECEIVE_WAIT  # the remote answers when its T2 runs out
            assert self._held is not None
            self._deadline = min(self._held[1], self._clock() + self.receive_timeout)
            return Reply.DONE
        if not self._rx_queue:
            waited = self.call.host_listening()
            if waited:
                self._pause(timing.T4_SECONDS)  # the remote repeats after T4 of silence
                self._rx_queue.append(list(waited))
        if self._rx_queue and not hdlc:
            return Reply.FCERROR  # the remote is sending V.21, not a high-speed carrier
        if hdlc and self.call.fcerror():
            self._pause(timing.CARRIER_GAP_SECONDS)
            return Reply.FCERROR  # T.31 8.3.5: a carrier, but not V.21 (an answer tone, an echo)
        if self._rx_queue:
            self._deliver_frame()
        else:
            self._mode = _Mode.RECEIVE_WAIT
            self._deadline = self._clock() + self.receive_timeout
        return Reply.DONE

    # --- command mode ---------------------------------------------------------------

    def _reset(self) -> None:
        self._mode = _Mode.COMMAND
        self.echo = True
        self.verbose = True
        self._line = bytearray()
        self._unstuffer = Unstuffer()
        self._tx_frame = bytearray()
        self._tx_frames = []
        self._tx_data = bytearray()
        self._tx_code = 0
        # Transmissions of the remote not yet read by the host: lists of frames.
        self._rx_queue: deque[list[bytes]] = deque()
        self._in_burst = False  # the host is reading a transmission frame by frame
        self._held = None

    def _command_bytes(self, data: bytes) -> bytes:
        """Collects a command line; returns the bytes left after it if the mode changed."""
        for index, byte in enumerate(data):
            self.echo_byte(byte)
            if byte == 0x0D:
                line = self._line.decode("ascii", errors="replace")
                self._line.clear()
                dial = self._commands.execute(line)
                if dial is not None:
                    self._dial(dial)
                if self._mode is not _Mode.COMMAND:
                    return data[index + 1 :]
            elif byte == 0x08:
                del self._line[-1:]
            elif byte not in (0x0A, CAN) and len(self._line) < 256:
                self._line.append(byte)
        return b""

    def _deaf(self) -> bool:
        """Returns whether the remote is still waiting out its T2 before answering a TCF
        (``ftt_silence``): it hears nothing meanwhile. An answer whose time came while
        the host was not listening is lost."""
        if self._held is None:
            return False
        if self._clock() < self._held[1]:
            return True
        self._held = None
        return False

    def _end_receive_wait(self) -> None:
        self._mode = _Mode.COMMAND
        self._deadline = None

    # --- calls ----------------------------------------------------------------------

    def _dial(self, dial: str) -> None:
        number = dial.lstrip("TP").rstrip(";")
        if self.call is not None or not number:
            self.result("ERROR")
            return
        self.call_count += 1
        profile = self._profile_for(number)
        call = AnsweringFax(profile=profile, call_id=self.call_count, number=number)
        if profile.wedge_after_page == 0 or profile.close_after_page == 0:
            self.call = call
            self._line_fault(profile)
            return
        answer = profile.answer
        if answer is Answer.NO_DIALTONE:
            self._end_unanswered(call, Outcome.NO_DIALTONE, "NO DIALTONE")
            return
        self._pause(timing.RING_SECONDS if answer is not Answer.NO_ANSWER else timing.T0_SECONDS)
        if answer in _UNANSWERED:
            outcome, code, extra = _UNANSWERED[answer]
            self._pause(extra)
            self._end_unanswered(call, outcome, code)
            return
        self.call = call
        if answer is Answer.SILENT:
            # V.21 flags but no frame before T1: CONNECT, then the carrier goes (T.31 8.3.5).
            self.result("CONNECT")
            self._pause(timing.T1_SECONDS)
            self._write(END_OF_DATA)
            self.result("NO CARRIER")
            return
        self._rx_queue.append(call.identification())
        # After ATD the DCE reports CONNECT on V.21 flags and is receiving HDLC (T.31 8.3.5).
        self._deliver_frame()

    def _end_unanswered(self, call: AnsweringFax, outcome: Outcome, code: str) -> None:
        call.outcome, call.reason = outcome, f"simulated {call.profile.answer.value}"
        self._on_call_ended(call.finished())
        self.result(code)

    def _deliver_frame(self) -> None:
        """Sends the host the next frame of the remote's transmission (+FRH=3)."""
        frames = self._rx_queue[0]
        first = not self._in_burst
        frame = frames.pop(0)
        self._in_burst = bool(frames)
        if not frames:
            self._rx_queue.popleft()
        if first:
            self._pause(timing.CARRIER_GAP_SECONDS)  # T.30 5.3.1: 75 ms between carriers
        self.result("CONNECT")
        if self.call is not None and self.call.carrier_lost(frame):
            # The flags came and went: the rest of this transmission is lost (T.31 8.3.5).
            self._pause(timing.V21_PREAMBLE_SECONDS if first else 0.0)
            if frames:
                self._rx_queue.popleft()
            self._in_burst = False
            self.result("NO CARRIER")
            return
        self._pause((timing.V21_PREAMBLE_SECONDS if first else 0.0) + timing.v21_seconds(frame))
        check = wire.fcs(frame)
        bad = self.call is not None and self.call.corrupt(frame)
        if bad:
            check = bytes(octet ^ 0xFF for octet in check)
        self._write(stuff(frame + check) + END_OF_DATA)
        # T.31 8.3.5: OK for a good FCS (after a final frame: once the carrier is off),
        # ERROR for a bad one.
        self.result("ERROR" if bad else "OK")
        if not self._rx_queue and self.call is not None and self.call.done:
            self.hang_up("the remote sent DCN")  # its carrier is off: the call is over

    def _line_fault(self, profile: RemoteProfile) -> None:
        """Wedges the modem or closes the pty, as the profile scripts for this point."""
        call = self.call
        assert call is not None
        if profile.close_after_page == call.page_transmissions:
            call.applied("close_after_page")
            self.hang_up("the pty closed")
            self._close_line()
            return
        call.applied("wedge_after_page")
        self.hang_up("the modem wedged")
        self._mode = _Mode.WEDGED
        seconds = profile.wedge_seconds
        self._deadline = math.inf if seconds is None else self._clock() + seconds


#: Dial results for remotes that never get to phase B: outcome, result code, extra wait.
_UNANSWERED = {
    Answer.BUSY: (Outcome.BUSY, "BUSY", 0.0),
    Answer.NO_ANSWER: (Outcome.NO_ANSWER, "NO ANSWER", 0.0),
    Answer.NO_CARRIER: (Outcome.NO_CARRIER, "NO CARRIER", timing.T1_SECONDS),
    # T.31 8.3.5: a signal that is not the expected V.21 carrier is +FCERROR.
    Answer.VOICE: (Outcome.NOT_A_FAX, "+FCERROR", timing.VOICE_SECONDS),
}

#: V.250 5.7.1 numeric result codes (ATV0); +FCERROR is "+F4" (T.31 8.3.5).
_NUMERIC = {
    "OK": "0",
    "CONNECT": "1",
    "RING": "2",
    "NO CARRIER": "3",
    "ERROR": "4",
    "NO DIALTONE": "6",
    "BUSY": "7",
    "NO ANSWER": "8",
    "+FCERROR": "+F4",
}
