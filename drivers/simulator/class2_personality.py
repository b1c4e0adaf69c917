"""The Class 2 dialects the simulator's Class 2 DCE speaks: one ``Personality`` row each.

``class2_dce.Class2Dce`` takes its row from ``PERSONALITIES`` ("2", "2.0", "2.1"); the
differences between SP-2388 and T.32 (response names, XON after CONNECT, the in-band
post-page message, ECM) are these data rather than branches in the code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Personality:
    """One Class 2 dialect as the modem speaks it."""

    fax_class: str
    classes: str  # the +FCLASS=? answer
    connect: str
    csi: str
    dis: str
    dcs: str
    page_status: str
    hangup: str
    capabilities: str  # the command that sets capabilities (+FDCC / +FCC)
    session: str  # the command that sets the session parameters (+FDIS / +FIS)
    local_id: str
    bit_order: str
    abort: str
    identity: tuple[str, str, str]  # manufacturer, model, revision queries
    xon_after_connect: bool
    in_band_post_page: bool
    hangup_format: str
    #: +FDCC=? / +FCC=?: what the modem can do; a value outside it answers ERROR.
    capability_ranges: str = "(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)"
    #: The firmware sends in ECM (and so MMR) when the session allows (class2_line.py).
    ecm: bool = False


_CLASS2 = Personality(
    fax_class="2", classes="0,2", connect="+FCON", csi="+FCSI", dis="+FDIS", dcs="+FDCS",
    page_status="+FPTS", hangup="+FHNG", capabilities="+FDCC", session="+FDIS", local_id="+FLID",
    bit_order="+FBOR", abort="+FK", identity=("+FMFR", "+FMDL", "+FREV"),
    xon_after_connect=True, in_band_post_page=False, hangup_format="{:d}",
)  # fmt: skip
_CLASS20 = Personality(
    fax_class="2.0", classes="0,2.0", connect="+FCO", csi="+FCI", dis="+FIS", dcs="+FCS",
    page_status="+FPS", hangup="+FHS", capabilities="+FCC", session="+FIS", local_id="+FLI",
    bit_order="+FBO", abort="+FKS", identity=("+FMI", "+FMM", "+FMR"),
    xon_after_connect=False, in_band_post_page=True, hangup_format="{:02d}",
    # T.32: ec 1 is T.30 Annex A ECM (either frame size; 2 and 3 are Annex C, V.34 only),
    # df 3 is MMR. SP-2388's ec counts differently (1: 64-octet, 2: 256-octet frames).
    capability_ranges="(0,1),(0-5),(0-2),(0-2),(0,1,3),(0,1),(0),(0-7)", ecm=True,
)  # fmt: skip
PERSONALITIES = {
    "2": _CLASS2,
    "2.0": _CLASS20,
    "2.1": dataclasses.replace(_CLASS20, fax_class="2.1", classes="0,2.0,2.1"),
}
IDENTITY = ("faxd", "faxd simulated Class {} modem", "1.0")


__all__ = ["IDENTITY", "PERSONALITIES", "Personality"]
