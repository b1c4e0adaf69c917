"""The Class 2 driver against scripted modem transcripts of each class, fed whole and one byte
at a time: what it writes, what it makes of the modem's reports, and the page data it sends.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pytest

from drivers.class2 import Class2Modem
from drivers.class2_dialect import CLASS_2, CLASS_2_0, HANGUP_CODES, hangup_outcome, hangup_table_markdown, parse_hangup
from drivers.class2_session import Capabilities, SessionParams, parse_ranges
from drivers.modem import CallRequest, Outcome, PageConfirmation, Policy, Station, StationCheck
from drivers.page import FaxPage
from drivers.t4 import Coding, decode_page
from tests.drivers.pages import random_boxes

STATION = Station("+46 40 628 04 00", "faxd test")
RANGES = "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)"
DLE = b"\x10"


@dataclass
class Step:
    """The host writes something matching ``expect``; the modem answers ``reply``."""

    expect: str  # a regex on the command line ("AT..."), or "<page>" for page data
    reply: bytes


@dataclass
class ScriptedPort:
    """A stand-in for ``SerialPort`` that plays a transcript; reads give one byte at a time
    (``bytewise``) or all that is waiting."""

    steps: deque[Step]
    bytewise: bool
    device: str = "scripted"
    pages: list[bytes] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    xonxoff: list[bool] = field(default_factory=list)
    _out: bytearray = field(default_factory=bytearray)
    _in: bytearray = field(default_factory=bytearray)
    _data: bytearray | None = None

    def write(self, data: bytes) -> None:
        for byte in data:
            if self._data is not None:
                self._page_byte(byte)
                continue
            self._in.append(byte)
            if byte == 0x0D:
                line = self._in.decode("ascii").strip()
                self._in.clear()
                self.written.append(line)
                step = self.steps.popleft()
                assert re.fullmatch(step.expect, line), f"wrote {line!r}, the transcript expects {step.expect!r}"
                self._out += step.reply
                if line == "AT+FDT" and self.steps and self.steps[0].expect == "<page>":
                    self._data = bytearray()

    def _page_byte(self, byte: int) -> None:
        data = self._data
        assert data is not None
        data.append(byte)
        if len(data) >= 2 and data[-2] == 0x10 and byte in b"\x03,;.":
            # The end of the page, unless that DLE is the second of a doubled pair.
            run = len(data) - 2 - len(data[:-1].rstrip(b"\x10")) + 1
            if run % 2 == 1:
                self.pages.append(bytes(data[:-2]).replace(b"\x10\x10", b"\x10") + bytes((0x10, byte)))
                self._data = None
                step = self.steps.popleft()
                assert step.expect == "<page>"
                self._out += step.reply

    def read(self, timeout: float) -> bytes:
        if not self._out:
            return b""
        count = 1 if self.bytewise else len(self._out)
        chunk = bytes(self._out[:count])
        del self._out[:count]
        return chunk

    def discard_input(self) -> None:
        self._out.clear()

    def pace_output(self, on: bool) -> None:
        self.xonxoff.append(on)

    def close(self) -> None:
        pass


def ok(*lines: str) -> bytes:
    return b"".join(b"\r\n" + line.encode() + b"\r\n" for line in (*lines, "OK"))


def setup_steps(
    fax_class: str,
    caps: str,
    local: str,
    order: str,
    optional: list[str],
    flow: list[str],
    flow_command: str = "+IFC=2,2",
) -> list[Step]:
    return [
        Step("AT", ok()),
        Step("ATZ", ok()),  # the generic profile: reset, init, flow control (drivers/profiles/)
        Step("ATE0V1", ok()),
        Step("ATE0V1Q0", ok()),
        Step("AT&C1&D2", ok()),
        Step(re.escape(f"AT{flow_command}"), ok()),
        Step(re.escape(f"AT+FCLASS={fax_class}"), ok()),
        *[Step(re.escape(f"AT{command}"), ok()) for command in optional],
        Step(re.escape(f"AT{caps}=?"), ok(RANGES)),
        Step(re.escape(f"AT{caps}=1,5,0,2,1,0,0,0"), ok()),
        Step(re.escape(f'AT{local}="{STATION.tsi}"'), ok()),
        Step(re.escape(f"AT{order}=0"), ok()),
        *[Step(re.escape(f"AT{command}"), ok()) for command in flow],
    ]


def two_pages() -> list[FaxPage]:
    return [FaxPage(random_boxes(seed, 120)) for seed in (1, 2)]


def modem(port: ScriptedPort, fax_class: str, flow: str = "rtscts") -> Class2Modem:
    # The transcript stands in for the port.
    return Class2Modem(
        "scripted",
        fax_class=fax_class,
        station=STATION,
        command_timeout=0.5,
        flow_control=flow,
        port=port,  # type: ignore[arg-type]
    )


CLASS2_CALL = [
    Step("ATD0406280499", ok("+FCON", '+FCSI: "040 628 04 99"', "+FDIS:1,5,0,2,1,0,0,0")),
    Step(r"AT\+FDT", b"\r\n+FDCS:1,5,0,2,1,0,0,0\r\n\r\nCONNECT\r\n\x11"),
    Step("<page>", ok()),
    Step(r"AT\+FET=0", ok("+FPTS:1")),
    Step(r"AT\+FDT", b"\r\n+FDCS:1,5,0,2,1,0,0,0\r\n\r\nCONNECT\r\n\x11"),
    Step("<page>", ok()),
    Step(r"AT\+FET=2", ok("+FPTS:1", "+FHNG:0")),
    Step("ATH0", ok()),
]
CLASS20_CALL = [
    Step("ATD0406280499", ok("+FCO", '+FCI:"040 628 04 99"', "+FIS:1,5,0,2,1,0,0,0")),
    Step(r"AT\+FDT", b"\r\n+FCS:1,5,0,2,1,0,0,0\r\n\r\nCONNECT\r\n"),
    Step("<page>", ok("+FPS:1")),
    Step(r"AT\+FDT", b"\r\n+FCS:1,5,0,2,1,0,0,0\r\n\r\nCONNECT\r\n"),
    Step("<page>", ok("+FPS:1", "+FHS:00")),
    Step("ATH0", ok()),
]
SETUPS = {
    "2": setup_steps("2", "+FDCC", "+FLID", "+FBOR", ["+FCR=1"], []),
    "2.0": setup_steps("2.0", "+FCC", "+FLI", "+FBO", ["+FIP", "+FNR=1,1,1,0", "+FPP=0", "+FCR=1"], ["+FLO=2"]),
    "2.1": setup_steps("2.1", "+FCC", "+FLI", "+FBO", ["+FIP", "+FNR=1,1,1,0", "+FPP=0", "+FCR=1"], ["+FLO=2"]),
}
CALLS = {"2": CLASS2_CALL, "2.0": CLASS20_CALL, "2.1": CLASS20_CALL}
ENDINGS = {"2": [b"\x10\x03", b"\x10\x03"], "2.0": [b"\x10,", b"\x10."], "2.1": [b"\x10,", b"\x10."]}


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("fax_class", ["2", "2.0", "2.1"])
def test_two_pages_confirmed(fax_class: str, bytewise: bool) -> None:
    """A clean call in each class: the right commands, both pages MR-coded as +FDCS said."""
    port = ScriptedPort(deque([*SETUPS[fax_class], *CALLS[fax_class]]), bytewise)
    pages = two_pages()
    confirmed: list[PageConfirmation] = []
    result = modem(port, fax_class).send(
        CallRequest("040-628 04 99", pages, expected_remote_id="+46 40 628 04 99"), confirmed.append
    )
    assert result.outcome is Outcome.CONFIRMED, result.reason
    assert (result.pages_confirmed, result.remote_id, result.bit_rate, result.coding) == (
        2,
        "040 628 04 99",
        14400,
        "MR",
    )
    # Each page reported with the session +FDCS/+FCS announced: what the log records per page.
    assert confirmed == [PageConfirmation(0, 14400, "MR", False), PageConfirmation(1, 14400, "MR", False)]
    assert not port.steps
    for sent, page, ending in zip(port.pages, pages, ENDINGS[fax_class], strict=True):
        assert sent.endswith(ending)
        assert np.array_equal(decode_page(sent[:-2], Coding.MR, 1728), page.pixels)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_station_mismatch_stops_before_page_one(bytewise: bool) -> None:
    """The CSI after ATD is not the directory's: +FKS, hang up, no +FDT."""
    call = [Step("ATD0406280499", ok("+FCO", '+FCI:"040 628 04 98"', "+FIS:1,5,0,2,1,0,0,0")),
            Step(r"AT\+FKS", ok("+FHS:02")), Step("ATH0", ok())]  # fmt: skip
    port = ScriptedPort(deque([*SETUPS["2.0"], *call]), bytewise)
    result = modem(port, "2.0").send(CallRequest("0406280499", two_pages(), expected_remote_id="040 628 04 99"))
    assert result.outcome is Outcome.STATION_MISMATCH
    assert "040 628 04 98" in result.reason and result.pages_sent == 0
    assert not any(line == "AT+FDT" for line in port.written)


def test_station_warn_sends_and_records() -> None:
    """Station check "warn": the call goes on and the mismatch is a warning."""
    call = [Step("ATD0406280499", ok("+FCON", '+FCSI:"040 628 04 98"', "+FDIS:1,5,0,2,1,0,0,0")), *CLASS2_CALL[1:]]
    port = ScriptedPort(deque([*SETUPS["2"], *call]), True)
    request = CallRequest(
        "0406280499", two_pages(), expected_remote_id="040 628 04 99", policy=Policy(station_check=StationCheck.WARN)
    )
    result = modem(port, "2").send(request)
    assert result.outcome is Outcome.CONFIRMED and result.warnings


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_rtn_resends_the_page_and_a_hangup_maps_to_an_outcome(bytewise: bool) -> None:
    """Class 2.0: RTN (+FPS:2, ERROR) sends page 1 again; then the remote hangs up (+FHS:53)."""
    fdt = b"\r\n+FCS:1,3,0,2,0,0,0,0\r\n\r\nCONNECT\r\n"
    call = [
        Step("ATD0406280499", ok("+FCO", '+FCI:"040 628 04 99"', "+FIS:1,3,0,2,0,0,0,0")),
        Step(r"AT\+FDT", fdt), Step("<page>", b"\r\n+FPS:2\r\n\r\nERROR\r\n"),
        Step(r"AT\+FDT", fdt), Step("<page>", ok("+FPS:1")),
        Step(r"AT\+FDT", fdt), Step("<page>", b"\r\n+FHS:53\r\n\r\nERROR\r\n"),
        Step("ATH0", ok()),
    ]  # fmt: skip
    port = ScriptedPort(deque([*SETUPS["2.0"], *call]), bytewise)
    pages = [*two_pages(), FaxPage(random_boxes(3, 50))]
    result = modem(port, "2.0").send(CallRequest("0406280499", pages))
    assert result.outcome is Outcome.REMOTE_DISCONNECTED
    assert "+FHS:53" in result.reason and result.pages_confirmed == 1 and result.pages_sent == 3
    assert result.bit_rate == 9600 and result.coding == "MH"


def test_class2_busy_and_no_fax() -> None:
    """BUSY is busy; NO CARRIER with +FHNG:11 is no_carrier, with the code in the reason."""
    for reply, outcome, words in [
        (b"\r\nBUSY\r\n", Outcome.BUSY, "busy"),
        (b"\r\n+FHNG:11\r\n\r\nNO CARRIER\r\n", Outcome.NO_CARRIER, "(+FHNG:11)"),
        (b"\r\n+FHNG:5\r\n\r\nNO CARRIER\r\n", Outcome.NOT_A_FAX, "(+FHNG:5)"),
    ]:
        port = ScriptedPort(deque([*SETUPS["2"], Step("ATD0406280499", reply), Step("ATH0", ok())]), True)
        result = modem(port, "2").send(CallRequest("0406280499", two_pages()))
        assert result.outcome is outcome and words in result.reason, result.reason


def test_xonxoff_is_honoured_only_during_page_data() -> None:
    """With XON/XOFF the port obeys XOFF while the page flows, and not while the driver
    waits for the modem's XON (it would be eaten)."""
    setup = setup_steps("2", "+FDCC", "+FLID", "+FBOR", ["+FCR=1"], [], flow_command="+IFC=1,1")
    port = ScriptedPort(deque([*setup, *CLASS2_CALL]), True)
    result = modem(port, "2", flow="xonxoff").send(CallRequest("0406280499", two_pages()))
    assert result.outcome is Outcome.CONFIRMED
    assert port.xonxoff == [True, False, True, False, False]  # one stretch per page; off to hang up


def test_class21_v34_rate_in_hexadecimal() -> None:
    """Class 2.1 writes br 13 (33600 bit/s) as "D"."""
    assert SessionParams.parse("1,D,0,2,0,0,0,0", radix=16) == SessionParams(1, 13, 0, 2, 0, 0, 0, 0)
    assert SessionParams(1, 13).bps == 33600


def test_capabilities_within_what_the_modem_offers() -> None:
    """No ECM offered: no MMR either; MR and the top rate instead."""
    offered = parse_ranges(RANGES)
    assert Capabilities.wanted(offered, ecm=True, mmr=True, ec_on=2, df_mmr=3).text() == "1,5,0,2,1,0,0,0"
    full = parse_ranges("(0,1),(0-D),(0-2),(0-2),(0-3),(0-2),(0),(0-7)")
    assert Capabilities.wanted(full, ecm=True, mmr=True, ec_on=2, df_mmr=3).text() == "1,D,0,2,3,2,0,0"


def test_hangup_codes_read_alike_in_both_radixes() -> None:
    """SP-2388 "52" and T.32 "52" (hex) are the same code; T.32's A0 is SP-2388's 100."""
    assert parse_hangup("52", CLASS_2) == parse_hangup(" 52", CLASS_2_0) == 52
    assert parse_hangup("A0", CLASS_2_0) == 100
    assert hangup_outcome(53, CLASS_2_0) == (Outcome.REMOTE_DISCONNECTED, f"{HANGUP_CODES[53].text} (+FHS:53)")
    assert hangup_outcome(99, CLASS_2)[0] is Outcome.MODEM_ERROR


def test_readme_hangup_table_is_the_code_table() -> None:
    """README.md carries the table the driver maps hangup codes by."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert hangup_table_markdown() in readme
