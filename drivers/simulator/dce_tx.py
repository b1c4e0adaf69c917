"""The transmit modes of the emulated Class 1 DCE (T.31 8.3.2, 8.3.3): +FTH and +FTM.

``TransmitModes`` is the part of ``dce.EmulatedDce`` that takes frames (HDLC_TX) and TCF
or page data (DATA_TX) from the host, spends their line time, passes page data through
the transmit buffer and flow control (``txbuffer.py``), and hands what reached the line
to the remote. It lives apart only to keep ``dce.py`` readable; it is not used alone:
``EmulatedDce`` provides the state and the methods declared below.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.at_codec import Unstuffer
from drivers.simulator import timing, wire
from drivers.simulator.commands import Reply
from drivers.simulator.quirks import FlowControl, ModemQuirks
from drivers.simulator.txbuffer import XOFF, XON, TransmitBuffer

if TYPE_CHECKING:
    from drivers.simulator.remote import AnsweringFax, RemoteProfile

#: A host that stops sending in the middle of +FTH/+FTM for this long is gone (crashed,
#: unplugged): the DCE drops its carrier, says ERROR and takes commands again, as a real
#: one does when its transmit buffer underruns. Without this, "AT" would be frame data
#: forever after a host died mid-frame.
TX_IDLE_SECONDS = 5.0


class Mode(enum.Enum):
    COMMAND = "command"
    HDLC_TX = "hdlc_tx"
    DATA_TX = "data_tx"
    RECEIVE_WAIT = "receive_wait"
    WEDGED = "wedged"


class TransmitModes:
    """+FTH/+FTM for ``EmulatedDce``: the state it keeps and the methods it provides."""

    _mode: Mode
    _deadline: float | None
    _tx_frames: list[bytes]
    _tx_frame: bytearray
    _tx_data: bytearray
    _tx_code: int
    _unstuffer: Unstuffer
    _buffer: TransmitBuffer | None
    _rx_queue: deque[list[bytes]]
    _held: tuple[list[bytes], float] | None
    call: AnsweringFax | None
    quirks: ModemQuirks
    flow_control: FlowControl
    _pause: Callable[[float], None]
    _write: Callable[[bytes], None]
    _in_flight: Callable[[], int]
    _clock: Callable[[], float]

    def result(self, code: str, *info: str) -> None:
        raise NotImplementedError

    def hang_up(self, reason: str) -> None:
        raise NotImplementedError

    def _deaf(self) -> bool:
        raise NotImplementedError

    def _line_fault(self, profile: RemoteProfile) -> None:
        raise NotImplementedError

    def start_hdlc_tx(self) -> Reply:
        """+FTH=3: CONNECT, then V.21 frames from the host (T.31 8.3.3)."""
        if self.call is None:
            return Reply.ERROR
        self._tx_frames = []
        self._pause(self.quirks.connect_delay)  # a late CONNECT
        self._start_tx(Mode.HDLC_TX)
        self._pause(timing.V21_PREAMBLE_SECONDS)  # T.30 5.3.1: 1 s of flags first
        return Reply.DONE

    def start_data_tx(self, code: int) -> Reply:
        """+FTM=<code>: CONNECT, then TCF or page data from the host (T.31 8.3.2)."""
        if self.call is None or code not in wire.MODULATION_CODES:
            return Reply.ERROR
        self._tx_code = code
        self._tx_data = bytearray()
        self._buffer = None
        if self.quirks.tx_buffer is not None:
            self._buffer = TransmitBuffer(
                capacity=self.quirks.tx_buffer,
                bps=wire.MODULATION_CODES[code][0],
                serial_bps=self.quirks.serial_bps,
                mode=self.flow_control,
            )
        self._pause(timing.training_seconds(code) + self.quirks.connect_delay)
        self._start_tx(Mode.DATA_TX)
        return Reply.DONE

    def _start_tx(self, mode: Mode) -> None:
        self._mode = mode
        self._deadline = self._clock() + TX_IDLE_SECONDS
        self._unstuffer = Unstuffer()
        self._tx_frame = bytearray()
        self.result("CONNECT")

    def _data_bytes(self, data: bytes) -> bytes:
        """Takes shielded data in HDLC_TX/DATA_TX; returns the bytes after DLE ETX."""
        payload, end = self._unstuffer.feed(data)
        if self._mode is Mode.DATA_TX and self._buffer is not None:
            self._tx_data += self._buffered(payload, len(data))
        elif self._mode is Mode.DATA_TX:
            self._tx_data += payload
            bps = wire.MODULATION_CODES[self._tx_code][0]
            self._pause(len(payload) * 8 / bps)
        else:
            self._tx_frame += payload
        if end is None:
            return b""
        rest = data[end:]
        if self._mode is Mode.DATA_TX:
            self._end_data()
        else:
            self._end_frame()
        return rest

    def _end_frame(self) -> None:
        frame = bytes(self._tx_frame)
        self._tx_frame = bytearray()
        self._unstuffer = Unstuffer()
        self._pause(timing.v21_seconds(frame))
        final = len(frame) < 2 or frame[1] == wire.CONTROL_FINAL
        if frame:
            self._tx_frames.append(frame)
        if not final:
            self.result("CONNECT")  # ready for the next frame of this transmission
            return
        self._mode = Mode.COMMAND
        call = self.call
        if call is not None and not self._deaf():
            reply = call.frames_received(self._tx_frames)
            if reply:
                self._rx_queue.append(list(reply))  # a copy: the remote keeps its own to repeat
            if call.done and not reply:
                self.hang_up("DCN")
        self.result("OK")

    def _buffered(self, payload: bytes, raw: int) -> bytes:
        """Passes page data through the transmit buffer; returns what reaches the line
        (the ``tx_buffer`` quirk: see ``txbuffer.py``)."""
        buffer = self._buffer
        assert buffer is not None
        arrival = buffer.arrive(len(payload), self._in_flight())
        kept = payload[: arrival.kept]  # what is lost is the end of what arrived
        if arrival.send_xoff:
            self._write(bytes((XOFF,)))
            self._pause(buffer.drain_seconds())
            buffer.after_xoff(self._in_flight())
            self._write(bytes((XON,)))
        elif buffer.must_wait():  # RTS/CTS: full; the host waits in the kernel meanwhile
            self._pause(buffer.drain_seconds())
        return kept

    def _end_data(self) -> None:
        self._mode = Mode.COMMAND
        buffer, self._buffer = self._buffer, None
        if buffer is not None:
            self._pause(buffer.finish_seconds())  # the rest of the buffer goes out before OK
            if buffer.lost and self.call is not None:
                self.call.applied("tx_overrun")
        call = self.call
        if call is not None and not self._deaf():
            before = call.page_transmissions
            delay = call.training_reply_delay()
            reply = call.data_received(self._tx_code, bytes(self._tx_data))
            if reply and delay > 0:
                call.applied("ftt_silence")
                self._held = (list(reply), self._clock() + delay)
            elif reply:
                self._rx_queue.append(list(reply))  # a copy: the remote keeps its own to repeat
            page = call.page_transmissions
            if page != before and page in (call.profile.wedge_after_page, call.profile.close_after_page):
                self._tx_data = bytearray()
                self._line_fault(call.profile)
                return  # the host gets no OK: the modem is gone
        self._tx_data = bytearray()
        self.result("OK")
