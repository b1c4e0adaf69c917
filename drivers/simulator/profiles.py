"""Who answers a dialled number: ``RemoteProfile``, and profile files.

A profile is the remote fax machine's capabilities (what its DIS offers) plus a fault
script: the ways a real line or a real remote fails, each a field that is off by default.
The names below are the keys of a profile file and the fault names in ``summary.json``.

Capabilities (what DIS offers, T.30 Table 2): ``csi`` (at most 20 characters),
``modulations`` (``["V.27ter"]``, ``["V.29"]``, ``["V.27ter", "V.29"]`` or all three with
``"V.17"``, the default), ``fine`` (default true), ``two_d`` (MR), ``ecm``, ``t6`` (MMR,
needs ``ecm``), ``min_scan_ms`` (0, 5, 10, 20, 40), ``width`` (``A4``, ``B4``, ``A3``),
``length`` (``A4``, ``B4``, ``unlimited``).

Answering (``answer``):

- ``fax``: a fax machine answers (the default).
- ``busy``: ``BUSY``. ``no_answer``: rings, then ``NO ANSWER``. ``no_dialtone``:
  ``NO DIALTONE`` at once.
- ``no_carrier``: something answers but sends no fax tones: ``NO CARRIER`` after T1.
- ``voice``: a person or an answering machine: ``+FCERROR`` (a signal that is not V.21).
- ``silent``: the remote raises its V.21 carrier (``CONNECT``) but sends no frame before
  T1; then ``NO CARRIER``. Later ``+FRH=3`` get ``NO CARRIER`` after the DCE's wait.

Faults during the call (pages are counted from 1):

- ``ftt_above = 9600``: TCF above this bit rate gets FTT; the sender must fall back.
- ``rtn_pages = [2]``: the first copy of page 2 gets RTN (retrain, send it again).
- ``rtp_pages = [1]``: page 1 gets RTP (confirmed, but retrain before the next page).
  RTN and RTP answer pages sent without ECM; an ECM page is repaired by PPR instead.
- ``dcn_after_page = 1``: after confirming page 1 the remote answers the next command
  with DCN (0: it answers DCS/TCF with DCN).
- ``send_csi = false``: no CSI frame; ``csi = ""``: a blank CSI (20 spaces), named
  ``blank_csi``. A wrong CSI is just a ``csi`` other than the directory's.
- ``bad_fcs = ["DIS", "MCF"]``: the first time the remote sends each named frame its FCS
  is wrong: the host sees the frame and then ``ERROR``. The remote repeats DIS when the
  host keeps listening, and repeats any response on CRP or a repeated command.
- ``bit_errors = 5``: 5 bits flipped in each page's data. Without ECM the page then
  (usually) does not decode: RTN. With ECM 5 frames of each block's first transmission
  fail their FCS: PPR for them.
- ``ecm_lost_frames = [3, 7]``: FCD frames 3 and 7 of each block's first transmission are
  lost: PPR naming them.
- ``rnr_count = 2``: the remote answers a PPS (ECM) twice with RNR before its real
  response; the host polls with RR (T.30 A.5.4).
- ``wedge_after_page = 1``: after the first page data transmission the modem stops
  answering anything, even the OK for that data (0: from ATD on), for ``wedge_seconds``
  (absent: until the simulator stops). With ECM every block and every resend counts as
  one transmission.
- ``fcerror_frh = 2``: the first 2 ``AT+FRH=3`` of the call are answered ``+FCERROR``
  (the DCE heard a signal that is not V.21: the remote's answer tone, an echo). HylaFAX
  pauses and issues ``+FRH=3`` again until its timer runs out.
- ``carrier_lost = ["DIS", "MCF"]``: the first time the remote sends each named frame
  the DCE reports ``CONNECT`` and then ``NO CARRIER``: the flags came, the frame did not.
  The remote goes on as if it had been heard (it repeats DIS on its timer; a response it
  repeats when the caller repeats its command or sends CRP).
- ``crp = ["DCS", "MPS"]``: the first time the remote receives each named command it
  answers CRP (T.30 5.3.6.1.7: it got the command damaged) instead of acting on it; the
  caller must send it again (a DCS with its TCF).
- ``dis_collisions = 1``: the remote repeats DIS on its own timer (T.30 5.3.2) and the
  first DCS goes out while it does: the remote never hears that DCS (nor its TCF), and
  what the caller hears next is DIS again. T.30 Figure 5-2: the caller sends DCS again.
- ``missed_post_page = [2]``: the first MPS/EOP after page 2 (or the PPS that carries it)
  is lost on the line: the remote lets its T2 run out, drops the page and goes back to
  phase B with DIS, as SpanDSP's receiver does on a noisy line. The caller must send DCS,
  TCF and the page again.
- ``ftt_silence = 7.0``: after the remote has answered FTT, it answers the next TCF only
  this many seconds (of real time) after the TCF ended, and hears nothing the caller sends
  meanwhile: SpanDSP's receiver, whose high-speed receiver did not pick up the TCF, waits
  out its T2 before it says FTT again. An answer due while the caller is not listening
  is lost.
- ``close_after_page = 1``: likewise, but the pty closes, as a modem unplugged mid-call
  (0: on ATD); the host's port fails with EIO. The simulator then opens a new pty behind
  the same link (``SimulatedModem.wait_for_new_pty``).

Profile file (TOML or JSON, by suffix), the number as its digits (a dialled number
matches by the digits after its last ``,``, so an outside-line prefix ``0,`` is fine)::

    [default]                       # optional: anyone not listed below
    csi = "040 628 04 99"

    [numbers."0406280401"]
    answer = "busy"

    [numbers."0313900602"]
    csi = "031 390 06 02"
    modulations = ["V.27ter", "V.29"]
    ecm = true
    t6 = true
    rtn_pages = [2]

JSON: ``{"default": {...}, "numbers": {"0406280401": {"answer": "busy"}}}``.

A ``[modem]`` table in the same file sets how the simulated modem itself misbehaves
(``ModemQuirks``, ``quirks.py``; ``load_quirks`` reads it)::

    [modem]
    tx_buffer = 4096            # octets of page data it buffers
    flow_control = "none"       # until the host sets it: none | xonxoff | rtscts
    no_frs = true               # AT+FRS is ERROR
    connect_delay = 0.5         # seconds of late CONNECT
"""

from __future__ import annotations

import dataclasses
import enum
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.simulator import wire
from drivers.simulator.quirks import FlowControl, ModemQuirks
from faxerrors import FaxError

#: The key of the default profile in the mapping ``load_profiles`` returns.
DEFAULT_KEY = "*"

ALL_MODULATIONS = frozenset({"V.27ter", "V.29", "V.17"})
#: DIS bits (17, 18) for the widths a remote can print, (19, 20) for lengths (T.30 Table 2).
WIDTH_BITS = {"A4": (0, 0), "B4": (1, 0), "A3": (0, 1)}
LENGTH_BITS = {"A4": (0, 0), "B4": (1, 0), "unlimited": (0, 1)}


_MODULATION_RULE = "one of [V.27ter], [V.29], [V.27ter, V.29], [V.27ter, V.29, V.17] (T.30 Table 2)"


class Answer(enum.Enum):
    """What happens when the number is dialled; see the module docstring."""

    FAX = "fax"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_DIALTONE = "no_dialtone"
    NO_CARRIER = "no_carrier"
    VOICE = "voice"
    SILENT = "silent"


class SimulatorProfileError(FaxError, ValueError):
    """A remote profile, the simulated modem's quirks or their file cannot be used; the
    message names the field.

    Not ``drivers.quirks.ProfileError``: that one is our driver's modem profile (an
    operator's configuration: faxd refuses to start); this one is the simulated line's
    set-up (a test's or a demonstration's), read by the simulator, which as an independent
    peer keeps its own types (its own ``FlowControl``, ``ModemQuirks``). Also a
    ``ValueError``: ``RemoteProfile`` raises it for an impossible value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteProfile:
    """Who answers a number, what it can do and how it fails; see the module docstring."""

    csi: str = "040 628 04 99"
    send_csi: bool = True
    answer: Answer = Answer.FAX
    # What DIS offers (T.30 Table 2).
    modulations: frozenset[str] = ALL_MODULATIONS
    fine: bool = True
    two_d: bool = False  # MR, bit 16
    t6: bool = False  # MMR, bit 31; T.6 needs ECM (T.30 Table 2 note)
    ecm: bool = False  # bit 27
    min_scan_ms: int = 0  # one of wire.SCAN_BITS
    width: str = "A4"  # A4, B4 (A4 and B4) or A3 (A4, B4 and A3)
    length: str = "B4"  # A4, B4 (A4 and B4) or unlimited
    # The fault script.
    ftt_above: int | None = None
    rtn_pages: frozenset[int] = frozenset()
    rtp_pages: frozenset[int] = frozenset()
    dcn_after_page: int | None = None
    bad_fcs: frozenset[str] = frozenset()
    bit_errors: int = 0
    ecm_lost_frames: frozenset[int] = frozenset()
    rnr_count: int = 0
    wedge_after_page: int | None = None
    wedge_seconds: float | None = None
    close_after_page: int | None = None
    fcerror_frh: int = 0
    carrier_lost: frozenset[str] = frozenset()
    crp: frozenset[str] = frozenset()
    dis_collisions: int = 0
    missed_post_page: frozenset[int] = frozenset()
    ftt_silence: float = 0.0

    def __post_init__(self) -> None:
        """Raises ``SimulatorProfileError`` for a value no remote could have."""
        checks = [
            (frozenset(self.modulations) in wire.DIS_RATES, "modulations", _MODULATION_RULE),
            (self.min_scan_ms in wire.SCAN_BITS, "min_scan_ms", f"must be one of {sorted(wire.SCAN_BITS)}"),
            (self.width in WIDTH_BITS, "width", f"must be one of {sorted(WIDTH_BITS)}"),
            (self.length in LENGTH_BITS, "length", f"must be one of {sorted(LENGTH_BITS)}"),
            (not self.t6 or self.ecm, "t6", "T.6 (MMR) needs ecm = true"),
            (len(self.csi) <= 20 and self.csi.isascii(), "csi", "at most 20 ASCII characters"),
            (all(page >= 1 for page in self.rtn_pages | self.rtp_pages), "rtn_pages", "pages count from 1"),
            (set(self.bad_fcs) <= set(wire.CODES), "bad_fcs", f"frame names: {sorted(wire.CODES)}"),
            (all(0 <= n < 256 for n in self.ecm_lost_frames), "ecm_lost_frames", "frame numbers 0..255"),
            (self.bit_errors >= 0 and self.rnr_count >= 0, "bit_errors", "cannot be negative"),
            (self.fcerror_frh >= 0 and self.dis_collisions >= 0, "fcerror_frh", "cannot be negative"),
            (set(self.carrier_lost) <= set(wire.CODES), "carrier_lost", f"frame names: {sorted(wire.CODES)}"),
            (set(self.crp) <= set(wire.CODES), "crp", f"frame names: {sorted(wire.CODES)}"),
            (all(page >= 1 for page in self.missed_post_page), "missed_post_page", "pages count from 1"),
            (self.ftt_silence >= 0, "ftt_silence", "cannot be negative"),
        ]
        for ok, name, rule in checks:
            if not ok:
                raise SimulatorProfileError(f"{name}: {rule}")

    def dis(self) -> bytes:
        """Returns the FIF of this remote's DIS (T.30 Table 2)."""
        rates = wire.DIS_RATES[frozenset(self.modulations)]
        bits = [10]  # can receive
        bits += [n for n, on in zip((11, 12, 13, 14), rates, strict=True) if on]
        bits += [15] if self.fine else []
        bits += [16] if self.two_d else []
        bits += [n for n, on in zip((17, 18), WIDTH_BITS[self.width], strict=True) if on]
        bits += [n for n, on in zip((19, 20), LENGTH_BITS[self.length], strict=True) if on]
        bits += [n for n, on in zip((21, 22, 23), wire.SCAN_BITS[self.min_scan_ms], strict=True) if on]
        bits += [24]  # the FIF goes on: octet 4 holds ECM and T.6
        bits += [27] if self.ecm else []
        bits += [31] if self.t6 else []
        return wire.with_bits(bits, 4)

    def faults(self) -> list[str]:
        """Returns the names of the faults this profile scripts (``answer`` other than fax
        first), as ``summary.json`` and the logs name them."""
        names = [] if self.answer is Answer.FAX else [self.answer.value]
        names += [] if self.csi.strip() else ["blank_csi"]
        defaults = RemoteProfile()
        for name in _FAULT_FIELDS:
            if getattr(self, name) != getattr(defaults, name):
                names.append(name)
        return names


_FAULT_FIELDS = (
    "send_csi",
    "ftt_above",
    "rtn_pages",
    "rtp_pages",
    "dcn_after_page",
    "bad_fcs",
    "bit_errors",
    "ecm_lost_frames",
    "rnr_count",
    "wedge_after_page",
    "close_after_page",
    "fcerror_frh",
    "carrier_lost",
    "crp",
    "dis_collisions",
    "missed_post_page",
    "ftt_silence",
)


def number_key(number: str) -> str:
    """Returns the digits a profile table is keyed by: what follows the last pause
    (an outside-line prefix such as ``0,``), without spaces, hyphens or T/P."""
    return "".join(ch for ch in number.rsplit(",", 1)[-1] if ch.isdigit())


def load_profiles(path: Path) -> dict[str, RemoteProfile]:
    """Returns the profiles in a TOML or JSON file, keyed by the number's digits; the
    ``[default]`` table, if any, under ``DEFAULT_KEY``.

    Raises ``SimulatorProfileError`` naming the file and the field for anything wrong, and
    ``OSError`` if the file cannot be read.
    """
    text = path.read_text(encoding="utf-8")
    try:
        raw: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SimulatorProfileError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - {"default", "numbers", "modem"}:
        raise SimulatorProfileError(f"{path}: expected only 'default', 'numbers' and 'modem' tables")
    profiles: dict[str, RemoteProfile] = {}
    if "default" in raw:
        profiles[DEFAULT_KEY] = _profile(raw["default"], f"{path}: default")
    numbers = raw.get("numbers", {})
    if not isinstance(numbers, dict):
        raise SimulatorProfileError(f"{path}: numbers: must be a table of numbers")
    for number, fields in numbers.items():
        key = number_key(number)
        if not key or any(ch not in "0123456789 -" for ch in number):
            raise SimulatorProfileError(f"{path}: numbers.{number}: the key must be the number's digits")
        profiles[key] = _profile(fields, f"{path}: numbers.{number}")
    return profiles


def load_quirks(path: Path) -> ModemQuirks:
    """Returns the ``[modem]`` table of a profile file as ``ModemQuirks`` (the kind modem
    if there is none). Raises ``SimulatorProfileError`` naming the field, ``OSError`` if unreadable."""
    text = path.read_text(encoding="utf-8")
    try:
        raw: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SimulatorProfileError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from exc
    table = raw.get("modem", {}) if isinstance(raw, dict) else {}
    if not isinstance(table, dict):
        raise SimulatorProfileError(f"{path}: modem: must be a table")
    known = {field.name for field in dataclasses.fields(ModemQuirks)}
    values: dict[str, Any] = {}
    for name, value in table.items():
        if name not in known:
            raise SimulatorProfileError(f"{path}: modem.{name}: unknown field; known: {', '.join(sorted(known))}")
        if name == "flow_control":
            try:
                value = FlowControl(value)
            except ValueError:
                raise SimulatorProfileError(f"{path}: modem.flow_control: one of none, xonxoff, rtscts") from None
        elif name == "no_frs" and not isinstance(value, bool):
            raise SimulatorProfileError(f"{path}: modem.no_frs: must be true or false")
        elif name != "no_frs" and (type(value) not in (int, float) or isinstance(value, bool)):
            raise SimulatorProfileError(f"{path}: modem.{name}: must be a number")
        values[name] = value
    try:
        return ModemQuirks(**values)
    except ValueError as exc:
        raise SimulatorProfileError(f"{path}: modem.{exc}") from None


def _profile(fields: object, where: str) -> RemoteProfile:
    if not isinstance(fields, dict):
        raise SimulatorProfileError(f"{where}: must be a table of profile fields")
    known = {field.name: field for field in dataclasses.fields(RemoteProfile)}
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known:
            raise SimulatorProfileError(f"{where}.{name}: unknown field; known: {', '.join(sorted(known))}")
        values[name] = _convert(name, value, f"{where}.{name}")
    try:
        return RemoteProfile(**values)
    except SimulatorProfileError as exc:
        raise SimulatorProfileError(f"{where}.{exc}") from None


def _convert(name: str, value: object, where: str) -> object:
    """Returns a file value as the field's type; raises ``SimulatorProfileError``."""
    expected = {
        "csi": str,
        "width": str,
        "length": str,
        "send_csi": bool,
        "fine": bool,
        "two_d": bool,
        "t6": bool,
        "ecm": bool,
    }
    if name == "answer":
        try:
            return Answer(value)
        except ValueError:
            raise SimulatorProfileError(f"{where}: one of {', '.join(a.value for a in Answer)}") from None
    if name in expected:
        if not isinstance(value, expected[name]):
            raise SimulatorProfileError(f"{where}: must be a {expected[name].__name__}")
        return value
    lists = ("modulations", "bad_fcs", "rtn_pages", "rtp_pages", "ecm_lost_frames", "carrier_lost", "crp")
    if name in (*lists, "missed_post_page"):
        item = str if name in ("modulations", "bad_fcs", "carrier_lost", "crp") else int
        if not isinstance(value, list) or not all(type(v) is item for v in value):
            raise SimulatorProfileError(f"{where}: must be a list of {'names' if item is str else 'numbers'}")
        return frozenset(value)
    if name in ("wedge_seconds", "ftt_silence"):
        if type(value) not in (int, float) or value < 0:  # type: ignore[operator]  # checked first
            raise SimulatorProfileError(f"{where}: must be a number of seconds")
        return float(value)  # type: ignore[arg-type]  # int or float, checked above
    if type(value) is not int:  # bool is an int subclass: exact type on purpose
        raise SimulatorProfileError(f"{where}: must be a whole number")
    return value


__all__ = [
    "DEFAULT_KEY",
    "Answer",
    "RemoteProfile",
    "SimulatorProfileError",
    "load_profiles",
    "load_quirks",
    "number_key",
]
