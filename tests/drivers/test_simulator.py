"""The simulated modem's AT side and answering fax, without a pty, and its command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.class1 import Class1Modem
from drivers.fake import FakeModem
from drivers.modem import CallRequest, CallResult, ModemUnavailable, Outcome, PageConfirmation, Station
from drivers.page import FAX_WIDTH, FaxPage
from drivers.simulator import SimulatedModem, wire
from drivers.simulator.dce import EmulatedDce
from drivers.simulator.remote import AnsweringFax, ReceivedCall, RemoteProfile

ROOT = Path(__file__).resolve().parents[2]


class _Host:
    """Collects what the DCE writes and the calls it ends."""

    def __init__(self) -> None:
        self.output = b""
        self.calls: list[ReceivedCall] = []
        self.dce = EmulatedDce(
            write=self._write,
            pause=lambda seconds: None,
            profile_for=lambda number: RemoteProfile(csi="031 390 06 00"),
            on_call_ended=self.calls.append,
        )

    def _write(self, data: bytes) -> None:
        self.output += data

    def send(self, data: bytes) -> bytes:
        self.output = b""
        self.dce.receive(data)
        return self.output


def test_echo_until_ate0() -> None:
    """A fresh DCE echoes commands (V.250 E1 default); after ATE0 it does not."""
    host = _Host()
    assert host.send(b"AT\r") == b"AT\r\r\nOK\r\n"
    assert host.send(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert host.send(b"AT+FCLASS=1\r") == b"\r\nOK\r\n"


def test_queries_and_unknown_commands() -> None:
    host = _Host()
    host.send(b"ATE0\r")
    assert host.send(b"AT+FCLASS?\r") == b"\r\n1\r\n\r\nOK\r\n"
    assert b"145,146" in host.send(b"AT+FTM=?\r")
    assert host.send(b"AT+FMI?\r") == b"\r\nfaxd\r\n\r\nOK\r\n"
    assert host.send(b"AT+FXYZ=1\r") == b"\r\nERROR\r\n"
    assert host.send(b"AT+FTH=3\r") == b"\r\nERROR\r\n"  # on hook: nothing to send to
    assert host.send(b"hello\r") == b""  # no AT prefix: ignored


def test_dial_connects_and_delivers_csi_then_dis() -> None:
    """ATD answers CONNECT + the first frame with its FCS; +FRH=3 gives the next one."""
    host = _Host()
    host.send(b"ATE0\r")
    out = host.send(b"ATDT0313900600\r")
    csi = wire.frame(wire.CSI, wire.identity_fif("031 390 06 00"), final=False)
    assert out == b"\r\nCONNECT\r\n" + csi + wire.fcs(csi) + b"\x10\x03\r\nOK\r\n"
    out = host.send(b"AT+FRH=3\r")
    assert out.startswith(b"\r\nCONNECT\r\n\xff\x13\x80")
    # A host that listens instead of answering hears CSI + DIS again (T.30 5.3.2), twice.
    repeats = [host.send(b"AT+FRH=3\r") for _ in range(4)]
    assert [out.startswith(b"\r\nCONNECT\r\n\xff\x03\x40") for out in repeats] == [True, False, True, False]
    assert host.send(b"AT+FRH=3\r") == b""  # then nothing more on the line: waits ...
    assert host.send(b"\x18") == b"\r\nOK\r\n"  # ... until any character aborts it
    assert host.send(b"ATH\r") == b"\r\nOK\r\n"
    (call,) = host.calls
    assert call.outcome is Outcome.REMOTE_DISCONNECTED and "ATH" in call.reason


def test_fcs_is_crc16_x25() -> None:
    """The check value of CRC-16/X.25 for "123456789" is 0x906E (sent low octet first)."""
    assert wire.fcs(b"123456789") == bytes([0x6E, 0x90])


def test_bad_training_gets_ftt() -> None:
    """TCF with too many ones is answered with FTT; the remote stays ready for another TCF."""
    remote = AnsweringFax(profile=RemoteProfile(), call_id=1, number="0406280400")
    dcs = wire.frame(wire.DCS | 1, wire.with_bits([10, 11], 3))  # 9600 V.29
    assert remote.frames_received([dcs]) == []
    assert remote.data_received(96, b"\xff" * 1800) == [wire.frame(wire.FTT)]
    assert remote.data_received(96, bytes(1800)) == [wire.frame(wire.CFR)]


@pytest.mark.skipif(sys.platform != "linux", reason="pty behaviour checked on Linux only")
def test_run_simulator_prints_path_and_stops_on_sigterm(tmp_path: Path) -> None:
    link = tmp_path / "ttyFAX0"
    code = (
        "import sys; from pathlib import Path; from drivers.simulator import run_simulator; "
        "run_simulator(Path(sys.argv[1]), '040 628 04 99', Path(sys.argv[2]), 0.0)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(link), str(tmp_path / "out")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the simulator is up
        assert "/dev/pts/" in line
        assert link.is_symlink() and os.readlink(link) in line
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert not link.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_fake_modem_plays_its_script() -> None:
    """Scripted results come back in order; confirmed pages are reported one by one."""
    page = FaxPage(np.zeros((4, FAX_WIDTH), dtype=np.bool_))
    busy = CallResult(Outcome.BUSY, "the line was busy")
    fake = FakeModem(script=[busy, ModemUnavailable("gone")])
    request = CallRequest(number="08-465 004 00", pages=[page, page])
    assert fake.send(request) is busy
    with pytest.raises(ModemUnavailable):
        fake.send(request)
    confirmed: list[PageConfirmation] = []
    assert fake.send(request, confirmed.append).pages_confirmed == 2
    assert [p.index for p in confirmed] == [0, 1] and len(fake.requests) == 3


def test_profile_lookup_order() -> None:
    """profiles first, then csi_for_number, then the default CSI."""
    busy = RemoteProfile(csi="08 465 004 01")
    modem = SimulatedModem(
        csi="040 628 04 99",
        profiles={"084650040": busy},
        csi_for_number=lambda number: "031 390 06 33" if number.endswith("0633") else None,
    )
    assert modem.profile_for("084650040") is busy
    assert modem.profile_for("0,0313900633").csi == "031 390 06 33"
    assert modem.profile_for("0406280400").csi == "040 628 04 99"


def test_undecodable_page_gets_rtn() -> None:
    """Page data that is not T.4 is answered with RTN and the call recorded as rejected."""
    remote = AnsweringFax(profile=RemoteProfile(), call_id=1, number="0406280400")
    remote.frames_received([wire.frame(wire.DCS | 1, wire.with_bits([10, 11], 3))])
    assert remote.data_received(96, bytes(1800)) == [wire.frame(wire.CFR)]
    assert remote.data_received(96, b"\xff" * 500) == []
    assert remote.frames_received([wire.frame(wire.EOP | 1)]) == [wire.frame(wire.RTN)]
    remote.frames_received([wire.frame(wire.DCN | 1)])
    call = remote.finished()
    assert call.outcome is Outcome.PAGE_REJECTED and "undecodable" in call.reason


def test_line_pace_scales_with_speed() -> None:
    """At speed 0.05 a one-page call spends 5 % of its line time: ringing 4 s, V.21 frames
    with 1 s of flags each way, TCF 1.5 s after V.17 training: over 12 s in all."""
    page = FaxPage(np.zeros((40, FAX_WIDTH), dtype=np.bool_))
    with SimulatedModem(speed=0.05) as simulator:
        assert simulator.path is not None
        modem = Class1Modem(simulator.path, station=Station(tsi="+46 40 628 04 00", header_name="t"))
        try:
            started = time.monotonic()
            result = modem.send(CallRequest(number="040-628 04 99", pages=[page]))
            elapsed = time.monotonic() - started
        finally:
            modem.close()
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert 0.05 * 12 <= elapsed < 10
