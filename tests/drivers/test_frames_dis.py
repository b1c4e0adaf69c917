"""The whole DIS (issue 15): extension octets past bit 32 are read, and DCS negotiates
resolution (standard/fine/superfine), length (A4/B4/Legal/unlimited) and 64-octet ECM
frames from them; the page is coded at the negotiated resolution."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from drivers.page import FaxPage, Resolution
from drivers.t30.frames import DCSFrame, DISFrame, LengthCapability, PageLength, decode
from drivers.t30.negotiation import choose_settings

_FLAGS = ("superfine", "res_300", "res_400", "inch_preferred", "metric_preferred", "letter", "legal")


@given(st.fixed_dictionaries({name: st.booleans() for name in (*_FLAGS, "ecm", "ecm_frame_64", "mmr")}))
def test_dis_extension_bits_round_trip(flags: dict[str, bool]) -> None:
    dis = DISFrame(**flags)  # type: ignore[arg-type]
    assert decode(dis.encode()) == dis


@given(st.fixed_dictionaries({name: st.booleans() for name in ("superfine", "inch", "letter", "legal", "ecm")}))
def test_dcs_extension_bits_round_trip(flags: dict[str, bool]) -> None:
    dcs = DCSFrame(**flags)  # type: ignore[arg-type]
    assert decode(dcs.encode()) == dcs


def test_a_dis_with_seven_extension_octets_is_read_whole() -> None:
    """DIS FIF as a receiver sends it: bits 41 (superfine), 44 (inch preferred), 76 and
    77 (letter, legal) behind extend bits 24..72. The old decoder stopped at bit 32."""
    fif = bytes((0x00, 0x6E, 0x84, 0xC4, 0x80, 0x89, 0x80, 0x80, 0x80, 0x18))
    dis = decode(bytes((0xFF, 0x13, 0x80)) + fif)
    assert isinstance(dis, DISFrame)
    assert (dis.ecm, dis.mmr, dis.superfine, dis.inch_preferred, dis.letter, dis.legal) == (
        True,
        True,
        True,
        True,
        True,
        True,
    )
    assert not dis.res_300 and not dis.metric_preferred


def test_an_extend_bit_with_no_octet_after_it_is_not_an_error() -> None:
    dis = decode(bytes((0xFF, 0x13, 0x80, 0x00, 0x6E, 0x84, 0x84)))
    assert isinstance(dis, DISFrame) and dis.ecm and not dis.superfine


def _dcs(dis: DISFrame, **kwargs: object) -> DCSFrame:
    dcs = choose_settings(dis, rates=list(dis.rates.bit_rates), fine=True, **kwargs)  # type: ignore[arg-type]
    assert dcs is not None
    return dcs


def test_superfine_pages_go_superfine_where_the_remote_takes_it() -> None:
    dcs = _dcs(DISFrame(superfine=True), superfine=True)
    assert dcs.superfine and not dcs.fine and not dcs.inch
    dcs = _dcs(DISFrame(superfine=False), superfine=True)
    assert dcs.fine and not dcs.superfine


def test_an_inch_preferring_remote_still_gets_metric_pages_stated_as_metric() -> None:
    assert not _dcs(DISFrame(inch_preferred=True)).inch


def test_page_length_is_negotiated() -> None:
    a4_only = DISFrame(lengths=LengthCapability.A4)
    legal = DISFrame(lengths=LengthCapability.A4, legal=True)
    b4 = DISFrame(lengths=LengthCapability.A4_B4)
    unlimited = DISFrame(lengths=LengthCapability.UNLIMITED)
    assert _dcs(unlimited, page_length_mm=500).length is PageLength.UNLIMITED
    assert _dcs(a4_only, page_length_mm=297).length is PageLength.A4
    legal_dcs = _dcs(legal, page_length_mm=350)
    assert legal_dcs.legal and legal_dcs.length is PageLength.A4
    assert _dcs(b4, page_length_mm=360).length is PageLength.B4
    assert _dcs(b4, page_length_mm=297).length is PageLength.A4


def test_pages_are_coded_at_the_negotiated_resolution() -> None:
    rows = np.zeros((10, 1728), dtype=np.bool_)
    rows[::2] = True
    page = FaxPage(rows, Resolution.FINE)
    assert page.rows_at(Resolution.SUPERFINE).shape[0] == 20
    assert page.rows_at(Resolution.NORMAL).shape[0] == 5
    assert FaxPage(rows, Resolution.SUPERFINE).rows_at(Resolution.NORMAL).shape[0] == 3
    assert page.length_mm == 10 / 7.7
