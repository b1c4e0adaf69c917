"""Shared test data for tests/routing (a plain module: tests/ has no conftest to share)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from routing.directory import Directory

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIRECTORY = REPO / "examples" / "directory.csv"
FORMS = REPO / "examples" / "forms"
TODAY = date(2026, 11, 26)

SMALL_CSV = """\
id,name,kind,municipality,fax,station_id,valid_from,valid_to
kommun-a,A kommun,municipality,,040-628 04 00,+46 40 628 04 00,,
kommun-b,B kommun,municipality,,040-628 04 01,,,
vc-a,Vårdcentralen A,outpatient,kommun-a,031-390 06 00,,,
vc-b,Vårdcentralen B,outpatient,kommun-b,031-390 06 01,,,
psyk-a,Psykiatri A öppenvård,outpatient,kommun-a,031-390 06 02,,,
avd-a,Sjukhuset A avd 1,inpatient,kommun-a,08-465 004 00,,,
avd-b,Sjukhuset B avd 2,inpatient,kommun-b,08-465 004 01,,,
stangd-avd,Stängd avdelning,inpatient,kommun-a,08-465 004 02,,2020-01-01,2021-12-31
"""


def small_directory() -> Directory:
    """Two municipalities, three outpatient units, two wards and one ward closed in 2021."""
    return Directory.from_bytes(SMALL_CSV.encode(), today=TODAY)


def example_directory() -> Directory:
    return Directory.load(EXAMPLE_DIRECTORY, today=TODAY)
