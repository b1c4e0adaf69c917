"""The emulated DCE's AT command set (V.250, T.31), without a pty: bytes in, bytes out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.simulator import Answer, RemoteProfile, hdlc, wire
from drivers.simulator.dce import EmulatedDce
from drivers.simulator.remote import AnsweringFax, ReceivedCall


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Host:
    """Collects what the DCE writes, the line time it spends and the calls it ends."""

    def __init__(self, profile: RemoteProfile | None = None) -> None:
        self.output = b""
        self.paused = 0.0
        self.calls: list[ReceivedCall] = []
        self.clock = _Clock()
        self.dce = EmulatedDce(
            write=self._write,
            pause=self._pause,
            profile_for=lambda number: profile or RemoteProfile(csi="031 390 06 00"),
            on_call_ended=self.calls.append,
            clock=self.clock,
            receive_timeout=5.0,
        )
        self.send(b"ATE0\r")

    def _write(self, data: bytes) -> None:
        self.output += data

    def _pause(self, seconds: float) -> None:
        self.paused += seconds

    def send(self, data: bytes) -> bytes:
        self.output = b""
        self.dce.receive(data)
        return self.output

    def after(self, seconds: float) -> bytes:
        """Lets ``seconds`` pass on the DCE's clock; returns what it wrote meanwhile."""
        self.output = b""
        self.clock.now += seconds
        self.dce.expire()
        return self.output


def _ok(*info: str) -> bytes:
    return b"".join(b"\r\n" + line.encode() + b"\r\n" for line in (*info, "OK"))


@pytest.mark.parametrize(
    ("command", "info"),
    [
        (b"AT+FCLASS=?", "0,1,1.0"),
        (b"AT+FCLASS?", "1"),
        (b"AT+FTM=?", "24,48,72,73,74,96,97,98,121,122,145,146"),
        (b"AT+FRM=?", "24,48,72,73,74,96,97,98,121,122,145,146"),
        (b"AT+FTH=?", "3"),
        (b"AT+FRH=?", "3"),
        (b"AT+FTS=?", "0-255"),
        (b"ATI", "faxd simulated Class 1 modem"),
        (b"ATI3", "faxd 1.0"),
        (b"AT+FMM?", "faxd simulated Class 1 modem"),
        (b"ATS7?", "000"),
    ],
)
def test_queries(command: bytes, info: str) -> None:
    """T.31 8.2: the DCE lists what it supports."""
    assert _Host().send(command + b"\r") == _ok(info)


def test_several_commands_on_one_line_and_errors() -> None:
    host = _Host()
    assert host.send(b"ATZ E0 V1 S7=60 &C1 +FCLASS=1;+FAR=1\r") == _ok()
    assert host.send(b"ATS7?\r") == _ok("060")
    assert host.send(b"AT+FCLASS=2\r") == b"\r\nERROR\r\n"
    assert host.send(b"AT+FTS=abc\r") == b"\r\nERROR\r\n"
    assert host.send(b"AT+FTS=8\r") == _ok()
    assert host.send(b"ATA\r") == b"\r\nERROR\r\n"  # answering is not simulated
    assert host.send(b"AT%%\r") == b"\r\nERROR\r\n"


def test_echo_and_factory_defaults() -> None:
    """E1 echoes; AT&F restores echo; numeric results with V0 (V.250 5.7.1)."""
    host = _Host()
    assert host.send(b"ATE1\r") == _ok()
    assert host.send(b"AT\r") == b"AT\r" + _ok()
    assert host.send(b"ATE0V0\r") == b"ATE0V0\r0\r"  # echoed before it took effect
    assert host.send(b"AT+FXYZ\r") == b"4\r"
    assert host.send(b"AT&F\r") == _ok()  # the result already in the restored format
    assert host.send(b"AT\r") == b"AT\r" + _ok()


def test_commands_that_need_a_call() -> None:
    """+FTH/+FTM/+FRH/+FRM on hook are ERROR; so are codes the modem does not offer."""
    host = _Host()
    for command in (b"AT+FTH=3\r", b"AT+FTM=96\r", b"AT+FRH=3\r", b"AT+FRM=96\r"):
        assert host.send(command) == b"\r\nERROR\r\n"
    host.send(b"ATD0313900600\r")
    assert host.send(b"AT+FTM=95\r") == b"\r\nERROR\r\n"
    assert host.send(b"AT+FRM=99\r") == b"\r\nERROR\r\n"
    assert host.send(b"AT+FTH=146\r") == b"\r\nERROR\r\n"  # +FTH=? says only 3


def test_frm_while_the_remote_sends_v21_is_fcerror() -> None:
    """+FRM when the remote's carrier is V.21 (DIS waiting) is +FCERROR (T.31 8.3.4)."""
    host = _Host()
    host.send(b"ATD0313900600\r")  # CONNECT + CSI; DIS is still to come
    assert host.send(b"AT+FRM=96\r") == b"\r\n+FCERROR\r\n"
    assert host.send(b"AT+FRH=3\r").startswith(b"\r\nCONNECT\r\n\xff\x13\x80")


def test_receive_without_carrier_ends_in_no_carrier_or_abort() -> None:
    """+FRH=3 with the remote silent: any character aborts with OK; else after the DCE's
    wait, NO CARRIER."""
    host = _Host(RemoteProfile(answer=Answer.SILENT))
    assert host.send(b"ATD0313900600\r") == b"\r\nCONNECT\r\n\x10\x03\r\nNO CARRIER\r\n"
    assert host.send(b"AT+FRH=3\r") == b""
    assert host.after(4.9) == b""
    assert host.after(0.2) == b"\r\nNO CARRIER\r\n"
    assert host.send(b"AT+FRM=96\r") == b""
    assert host.send(b"\x18") == b"\r\nOK\r\n"
    assert host.after(10) == b""  # the deadline went with the abort


def test_host_that_stops_mid_frame_gets_error_and_command_mode() -> None:
    """A host that died after part of a frame: after 5 s the DCE gives up with ERROR."""
    host = _Host()
    host.send(b"ATD0313900600\r")
    assert host.send(b"AT+FTH=3\r") == b"\r\nCONNECT\r\n"
    assert host.send(b"\xff\x03\x42 half a TSI\x10\x03") == b"\r\nCONNECT\r\n"  # not final: next
    assert host.send(b"AT\r") == b""  # frame data now, as on a real modem
    assert host.after(4.9) == b""
    assert host.after(0.2) == b"\r\nERROR\r\n"
    assert host.send(b"AT\r") == _ok()


def test_wedged_dce_ignores_everything_until_the_wedge_ends() -> None:
    host = _Host(RemoteProfile(wedge_after_page=0, wedge_seconds=2))
    assert host.send(b"ATD0313900600\r") == b""
    assert host.send(b"AT\r") == b""
    assert host.dce.deadline == pytest.approx(102.0)
    host.after(2)
    assert host.send(b"AT\r") == b"AT\r" + _ok()  # back as after power-on: echo on
    (call,) = host.calls
    assert call.faults == ("wedge_after_page",)


def test_line_time_at_speed_one() -> None:
    """V.21 frames at 300 bit/s after 1 s of flags and a 75 ms gap; TCF at its bit rate
    after the training sequence; ringing first."""
    host = _Host()
    host.send(b"ATD0313900600\r")
    csi = wire.frame(wire.CSI, wire.identity_fif("031 390 06 00"), final=False)
    ring, gap, flags = 4.0, 0.075, 1.0
    assert host.paused == pytest.approx(ring + gap + flags + (len(csi) + 3) * 8 / 300)
    host.send(b"AT+FRH=3\r")  # DIS: same transmission, no gap or flags
    host.paused = 0.0
    host.send(b"AT+FTM=145\r")
    host.send(bytes(2700) + b"\x10\x03")
    assert host.paused == pytest.approx(1.393 + 1.5)  # V.17 long training, then 1.5 s of TCF
    host.paused = 0.0
    host.send(b"AT+FTS=8\r")
    assert host.paused == pytest.approx(0.08)


_COMMANDS = [b"AT\r", b"ATD0313900600\r", b"AT+FRH=3\r", b"AT+FTH=3\r", b"AT+FTM=146\r", b"AT+FRM=96\r", b"ATH\r"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_COMMANDS), st.binary(max_size=40)), max_size=25))
def test_any_bytes_leave_the_dce_working(chunks: list[bytes]) -> None:
    """Whatever a host writes, the DCE never raises, and ends up answering AT again."""
    host = _Host(RemoteProfile(ecm=True, t6=True))
    for chunk in chunks:
        host.send(chunk)
        host.after(10)
    host.send(b"\x10\x03\x18\rATE0\r")  # ends any data mode or receive, as the driver does
    assert host.send(b"AT\r").endswith(b"\r\nOK\r\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([wire.DCS, wire.MPS, wire.EOP, wire.EOM, wire.PPS, wire.RR, wire.CTC, wire.EOR, wire.CRP]),
            st.binary(max_size=6),
        ),
        max_size=12,
    ),
    st.lists(st.binary(max_size=300), max_size=4),
)
def test_any_frames_leave_the_remote_consistent(frames: list[tuple[int, bytes]], data: list[bytes]) -> None:
    """The answering fax takes any sequence of commands and data without raising."""
    remote = AnsweringFax(profile=RemoteProfile(ecm=True, t6=True, rnr_count=1), call_id=1, number="0406280400")
    remote.identification()
    for (fcf, fif), chunk in zip(frames, [*data, *[bytes(2700)] * len(frames)], strict=False):
        remote.frames_received([wire.frame(fcf | 1, fif)])
        remote.data_received(145, chunk)
        remote.data_received(146, hdlc.encode([wire.frame(wire.FCD, b"\x00" + chunk)]))
    assert remote.finished().call_id == 1
