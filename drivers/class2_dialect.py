"""Class 2, 2.0 and 2.1 as data: command and response names, conventions, hangup codes.

The Class 2 driver (``drivers.class2``) has no ``if fax_class == "2.0"``: everything that
differs between the dialects is a field of ``Dialect``, and the three rows are below.

- Class 2 is the EIA/TIA SP-2388 draft that modems shipped before the standard (+FCLASS=2).
- Class 2.0 is EIA-592 / ITU-T T.32 (+FCLASS=2.0); Class 2.1 is T.32 with V.34 fax
  (+FCLASS=2.1), the 2.0 command set with more values.

``HANGUP_CODES`` maps the modem's hangup status (+FHNG in Class 2, +FHS in 2.0/2.1) onto
faxd's outcome codes. SP-2388 gives the codes in decimal, T.32 in hexadecimal, and T.32
chose its values so that the transmit codes read the same (SP-2388 "52", T.32 "52" hex:
no response to MPS); ``parse_hangup`` turns either into the SP-2388 number the table uses.
README.md's hangup table is generated from it (``hangup_table_markdown``) and a test keeps
the two in step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from drivers.modem import Outcome


class PostPage(enum.IntEnum):
    """The post-page message after a page (+FET value, T.32 8.3.3; T.30 5.3.6.1.5)."""

    MPS = 0  # another page follows
    EOM = 1  # another document (new format) follows
    EOP = 2  # that was the last page


@dataclass(frozen=True, slots=True)
class Dialect:
    """One Class 2 command set."""

    fax_class: str  # the +FCLASS value
    capabilities: str  # sets what the modem may offer and accept (+FDCC / +FCC)
    session: str  # the current session parameters (+FDIS / +FIS)
    local_id: str  # our station id, sent as TSI (+FLID / +FLI)
    bit_order: str  # phase C data bit order (+FBOR / +FBO)
    abort: str  # end the session at once, with DCN (+FK / +FKS)
    connected: str  # the remote answered as a fax (+FCON / +FCO)
    remote_id: str  # the remote's CSI (+FCSI / +FCI)
    remote_capabilities: str  # the remote's DIS (+FDIS / +FIS)
    session_report: str  # the DCS the modem sent (+FDCS / +FCS)
    page_status: str  # the remote's answer to the post-page message (+FPTS / +FPS)
    hangup: str  # the call ended, with a status (+FHNG / +FHS)
    identity: tuple[str, str, str]  # manufacturer, model, revision queries
    hangup_radix: int  # 10 (SP-2388) or 16 (T.32)
    #: SP-2388: after CONNECT to +FDT the modem sends XON (DC1) when it is ready for data.
    wait_for_xon: bool
    #: T.32: the page ends with <DLE> and the post-page message in one (<DLE>, <DLE>; <DLE>.);
    #: SP-2388: <DLE><ETX>, then AT+FET=n.
    in_band_post_page: bool
    #: The character the DTE sends to start receiving after +FDR (faxd does not receive;
    #: kept so the table is whole): DC2 in SP-2388 and T.32 (efax's default), some Class 2
    #: firmware wants XON (efax -ox).
    receive_trigger: int
    #: +FBO/+FBOR default: 0 = direct (the first bit of each octet first on the line, as
    #: T.4 data is kept in files with FillOrder 2 and as Class 1 sends it).
    default_bit_order: int
    #: Flow control is set with +FLO in T.32; SP-2388 has no such command (the modem's own
    #: &K or &E, from the quirk profile, does it).
    flow_command: str | None
    #: The capability values for error correction and MMR: ec, df (0 MH, 1 MR, 3 MMR). ec
    #: differs: SP-2388 counts frame sizes (1: 64 octets, 2: 256), T.32 has 1 for T.30
    #: Annex A ECM in either size (2 and 3 are Annex C, for V.34), as HylaFAX's Class 2
    #: driver notes where it converts between them (faxd/Class2.c++, "The EC parameter
    #: varies between the Class 2 and Class 2.0 specs").
    ec_on: int = 2
    df_mmr: int = 3
    #: Commands sent after +FCLASS and before our capabilities, in order; a modem that
    #: refuses one is still used (not every firmware has them).
    optional_setup: tuple[str, ...] = ()


IN_BAND_POST_PAGE = {PostPage.MPS: b",", PostPage.EOM: b";", PostPage.EOP: b"."}

CLASS_2 = Dialect(
    fax_class="2",
    capabilities="+FDCC",
    session="+FDIS",
    local_id="+FLID",
    bit_order="+FBOR",
    abort="+FK",
    connected="+FCON",
    remote_id="+FCSI",
    remote_capabilities="+FDIS",
    session_report="+FDCS",
    page_status="+FPTS",
    hangup="+FHNG",
    identity=("+FMFR?", "+FMDL?", "+FREV?"),
    hangup_radix=10,
    wait_for_xon=True,
    in_band_post_page=False,
    receive_trigger=0x12,
    default_bit_order=0,
    flow_command=None,
    optional_setup=("+FCR=1",),
)
CLASS_2_0 = Dialect(
    fax_class="2.0",
    capabilities="+FCC",
    session="+FIS",
    local_id="+FLI",
    bit_order="+FBO",
    abort="+FKS",
    connected="+FCO",
    remote_id="+FCI",
    remote_capabilities="+FIS",
    session_report="+FCS",
    page_status="+FPS",
    hangup="+FHS",
    identity=("+FMI?", "+FMM?", "+FMR?"),
    hangup_radix=16,
    wait_for_xon=False,
    in_band_post_page=True,
    receive_trigger=0x12,
    default_bit_order=0,
    flow_command="+FLO",
    # +FIP: parameters to their defaults; +FNR: report the remote's capabilities and ids;
    # +FPP=0: no packet protocol on the DTE link; +FCR=1: may receive (T.32 8.5).
    optional_setup=("+FIP", "+FNR=1,1,1,0", "+FPP=0", "+FCR=1"),
    ec_on=1,
)
CLASS_2_1 = replace(CLASS_2_0, fax_class="2.1")

DIALECTS = {dialect.fax_class: dialect for dialect in (CLASS_2, CLASS_2_0, CLASS_2_1)}

#: +FPTS / +FPS values (T.32 8.4.2.13): confirmed?, T.30 name.
PAGE_STATUS = {1: (True, "MCF"), 2: (False, "RTN"), 3: (True, "RTP"), 4: (False, "PIN"), 5: (True, "PIP")}


@dataclass(frozen=True, slots=True)
class HangupCode:
    text: str
    outcome: Outcome


#: SP-2388 numbering (T.32: the same digits in hexadecimal). The receive codes (70-119) do
#: not occur while sending; a code not listed is a modem_error naming the code.
HANGUP_CODES: dict[int, HangupCode] = {
    0: HangupCode("normal end of the call", Outcome.CONFIRMED),
    1: HangupCode("ring detected without a successful handshake", Outcome.NO_CARRIER),
    2: HangupCode("call aborted by +FK/+FKS or CAN", Outcome.MODEM_ERROR),
    3: HangupCode("no loop current: check the phone line to the modem", Outcome.NO_DIALTONE),
    4: HangupCode("ringback detected, no answer", Outcome.NO_ANSWER),
    5: HangupCode("answered without a fax tone (CED): a voice or a data modem", Outcome.NOT_A_FAX),
    10: HangupCode("unspecified phase A error", Outcome.NO_CARRIER),
    11: HangupCode("no fax answer within T1 (answered, no DIS)", Outcome.NO_CARRIER),
    20: HangupCode("unspecified transmit phase B error", Outcome.PROTOCOL_ERROR),
    21: HangupCode("the remote cannot receive", Outcome.NOT_A_FAX),
    22: HangupCode("COMREC error in transmit phase B", Outcome.PROTOCOL_ERROR),
    23: HangupCode("COMREC: invalid command received", Outcome.PROTOCOL_ERROR),
    24: HangupCode("RSPREC error", Outcome.PROTOCOL_ERROR),
    25: HangupCode("DCS sent three times without response", Outcome.TRAINING_FAILED),
    26: HangupCode("DIS/DTC received three times: DCS not recognised", Outcome.PROTOCOL_ERROR),
    27: HangupCode("failure to train at 2400 bit/s or the +FMS/+FMINSP minimum", Outcome.TRAINING_FAILED),
    28: HangupCode("RSPREC: invalid response received", Outcome.PROTOCOL_ERROR),
    40: HangupCode("unspecified transmit phase C error", Outcome.MODEM_ERROR),
    41: HangupCode("unspecified image format error", Outcome.MODEM_ERROR),
    42: HangupCode("image conversion error", Outcome.MODEM_ERROR),
    43: HangupCode("DTE to DCE data underflow", Outcome.MODEM_ERROR),
    44: HangupCode("unrecognised transparent data command", Outcome.MODEM_ERROR),
    45: HangupCode("image error: line length wrong", Outcome.MODEM_ERROR),
    46: HangupCode("image error: page length wrong", Outcome.MODEM_ERROR),
    47: HangupCode("image error: wrong compression code", Outcome.MODEM_ERROR),
    50: HangupCode("unspecified transmit phase D error", Outcome.PROTOCOL_ERROR),
    51: HangupCode("RSPREC error in phase D", Outcome.PROTOCOL_ERROR),
    52: HangupCode("no response to MPS repeated three times", Outcome.PROTOCOL_ERROR),
    53: HangupCode("invalid response to MPS (the remote hung up: DCN)", Outcome.REMOTE_DISCONNECTED),
    54: HangupCode("no response to EOP repeated three times", Outcome.PROTOCOL_ERROR),
    55: HangupCode("invalid response to EOP (the remote hung up: DCN)", Outcome.REMOTE_DISCONNECTED),
    56: HangupCode("no response to EOM repeated three times", Outcome.PROTOCOL_ERROR),
    57: HangupCode("invalid response to EOM (the remote hung up: DCN)", Outcome.REMOTE_DISCONNECTED),
    58: HangupCode(
        "unable to continue after PIN or PIP (the remote asked for an operator)", Outcome.REMOTE_DISCONNECTED
    ),
}


def parse_hangup(value: str, dialect: Dialect) -> int | None:
    """Returns the SP-2388 number of a hangup status as the modem wrote it ("52", " 52",
    "A0" in T.32), or None if it is not a number. T.32's hexadecimal codes from A0 are
    its receive phase D codes, SP-2388's 100 and up."""
    text = value.strip().strip('"')
    try:
        number = int(text, dialect.hangup_radix)
    except ValueError:
        return None
    if dialect.hangup_radix == 16:
        digits = f"{number:02X}"
        return int(digits) if digits.isdigit() else 100 + number - 0xA0
    return number


def hangup_outcome(code: int, dialect: Dialect) -> tuple[Outcome, str]:
    """Returns the outcome of a call the modem ended with ``code``, and the reason: the
    table's words with the modem's own code (e.g. "... (+FHS:52)")."""
    shown = f"{dialect.hangup}:{code:02d}" if dialect.hangup_radix == 16 and code < 100 else f"{dialect.hangup}:{code}"
    if dialect.hangup_radix == 16 and code >= 100:
        shown = f"{dialect.hangup}:{code - 100 + 0xA0:02X}"
    known = HANGUP_CODES.get(code)
    if known is None:
        return Outcome.MODEM_ERROR, f"the modem ended the call with a code faxd does not know ({shown})"
    return known.outcome, f"{known.text} ({shown})"


def hangup_table_markdown() -> str:
    """Returns the README's hangup table: code, meaning, outcome."""
    lines = [
        "| code (+FHNG decimal, +FHS hex) | the modem says | outcome |",
        "|---|---|---|",
    ]
    for code, entry in HANGUP_CODES.items():
        lines.append(f"| {code:02d} | {entry.text} | `{entry.outcome.value}` |")
    return "\n".join(lines)


__all__ = [
    "CLASS_2",
    "CLASS_2_0",
    "CLASS_2_1",
    "DIALECTS",
    "HANGUP_CODES",
    "IN_BAND_POST_PAGE",
    "PAGE_STATUS",
    "Dialect",
    "HangupCode",
    "PostPage",
    "hangup_outcome",
    "hangup_table_markdown",
    "parse_hangup",
]
