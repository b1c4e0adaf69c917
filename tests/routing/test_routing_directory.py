"""The fax directory: loading, validation with line numbers, validity periods, the example file."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest

from routing.directory import Directory, Unit, UnitKind, station_id_matches
from routing.errors import DirectoryInvalid, RoutingError
from tests.routing.routing_testdata import (
    EXAMPLE_DIRECTORY,
    SMALL_CSV,
    TODAY,
    example_directory,
    small_directory,
)

HEADER = "id,name,kind,municipality,fax,station_id,valid_from,valid_to"
MUNICIPALITY = "kommun-a,A kommun,municipality,,040-628 04 00,,,"


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(DirectoryInvalid) as caught:
        Directory.from_bytes(text.encode("utf-8"), today=TODAY)
    return [(p.line, p.message) for p in caught.value.problems]


# -- the example file ------------------------------------------------------------------

SKANE = {
    "Bjuv", "Bromölla", "Burlöv", "Båstad", "Eslöv", "Helsingborg", "Hässleholm", "Höganäs", "Hörby", "Höör",
    "Klippan", "Kristianstad", "Kävlinge", "Landskrona", "Lomma", "Lund", "Malmö", "Osby", "Perstorp",
    "Simrishamn", "Sjöbo", "Skurup", "Staffanstorp", "Svalöv", "Svedala", "Tomelilla", "Trelleborg", "Vellinge",
    "Ystad", "Åstorp", "Ängelholm", "Örkelljunga", "Östra Göinge",
}  # fmt: skip
FICTITIOUS = re.compile(r"04062804\d\d|03139006\d\d|08465004\d\d")


def all_units(directory: Directory) -> list[Unit]:
    return [*directory.units.values(), *directory.inactive.values()]


def test_the_example_lists_the_33_municipalities_of_skane() -> None:
    """Every Skåne municipality, and nothing else, is a municipality unit."""
    municipalities = [u for u in all_units(example_directory()) if u.kind is UnitKind.MUNICIPALITY]
    names = {re.sub(r" (kommun|stad)$", "", u.name.split(",")[0]).removesuffix("s") for u in municipalities}
    expected = {n.removesuffix("s") for n in SKANE}
    assert (len(municipalities), names) == (33, expected)


def test_the_example_has_outpatient_units_and_wards_in_several_hospitals() -> None:
    """A realistic set: vårdcentraler, psychiatry, SUS Malmö/Lund, Helsingborg, CSK, Ystad."""
    units = all_units(example_directory())
    names = " ".join(u.name for u in units)
    kinds = {kind: sum(u.kind is kind for u in units) for kind in UnitKind}
    assert kinds[UnitKind.OUTPATIENT] >= 30 and kinds[UnitKind.INPATIENT] >= 30
    for place in ("SUS Malmö", "SUS Lund", "Helsingborgs lasarett", "CSK Kristianstad", "Ystad", "Vuxenpsykiatri"):
        assert place in names


def test_every_example_number_is_fictitious_and_used_once() -> None:
    """Only the PTS ranges for fiction, and each number once: no example can ring a real fax."""
    numbers = [u.fax for u in all_units(example_directory())]
    assert [n for n in numbers if not FICTITIOUS.fullmatch(n)] == []
    assert len(numbers) == len(set(numbers))
    assert len(numbers) <= 300


def test_example_station_ids_are_the_units_own_numbers_in_international_form() -> None:
    """Where given, the expected CSI is the unit's fax number written +46 ..."""
    units = [u for u in all_units(example_directory()) if u.station_id]
    assert len(units) >= 10
    assert [u.id for u in units if u.station_id != u.fax_international] == []


def test_example_ids_are_readable_slugs() -> None:
    """Ids like kommun-malmo, vc-lund-norra, sus-lund-avd-12."""
    directory = example_directory()
    for unit_id in ("kommun-malmo", "kommun-ostra-goinge", "vc-lund-norra", "sus-lund-avd-12"):
        assert directory.get(unit_id) is not None


def test_the_version_is_the_short_sha256_of_the_file() -> None:
    """The directory version identifies the file's exact content."""
    expected = hashlib.sha256(EXAMPLE_DIRECTORY.read_bytes()).hexdigest()[:12]
    assert example_directory().version == expected


def test_a_unit_is_read_whole() -> None:
    """Every column of a line ends up in the unit, the number canonical."""
    unit = example_directory().get("sus-lund-avd-12")
    assert unit == Unit(
        id="sus-lund-avd-12",
        name="SUS Lund, Medicinavdelning 12",
        kind=UnitKind.INPATIENT,
        municipality="kommun-lund",
        fax="0846500409",
        station_id="+46 8 465 004 09",
    )
    assert unit.fax_display == "08-465 004 09"


# -- validity periods -------------------------------------------------------------------


def test_units_outside_their_period_are_kept_aside() -> None:
    """A closed ward is not a unit today, but the directory still knows why."""
    directory = small_directory()
    assert directory.get("stangd-avd") is None
    assert "stangd-avd" in directory.inactive


@pytest.mark.parametrize(
    ("day", "active"),
    [(date(2019, 12, 31), False), (date(2020, 1, 1), True), (date(2021, 12, 31), True), (date(2022, 1, 1), False)],
)
def test_validity_periods_include_both_ends(day: date, active: bool) -> None:
    """valid_from and valid_to are inclusive."""
    directory = Directory.from_bytes(SMALL_CSV.encode(), today=day)
    assert ("stangd-avd" in directory.units) is active


def test_an_inactive_units_number_is_not_known() -> None:
    """The number of a closed unit is not a number the gateway may dial."""
    directory = small_directory()
    assert not directory.is_known_number("08-465 004 02")


@pytest.mark.parametrize("number", ["040-628 04 00", "+46 40 628 04 00", "0406280400"])
def test_known_numbers_are_recognised_in_any_writing(number: str) -> None:
    """is_known_number compares canonical digits."""
    assert small_directory().is_known_number(number)


@pytest.mark.parametrize("number", ["040-628 04 98", "", "nonsense"])
def test_unknown_or_unusable_numbers_are_not_known(number: str) -> None:
    """Anything not in the directory is unknown, without raising."""
    assert not small_directory().is_known_number(number)


# -- file forms ---------------------------------------------------------------------------


def test_semicolons_a_bom_comments_and_blank_lines_are_accepted() -> None:
    """A list saved by Excel in Swedish (semicolons, BOM) with comments loads."""
    text = "\ufeff# the region's list\n\n" + SMALL_CSV.replace(",", ";")
    directory = Directory.from_bytes(text.encode("utf-8"), today=TODAY)
    assert len(directory.units) == 7


def test_optional_columns_shared_fax_and_note_are_read() -> None:
    """Two units may share a number when both say so."""
    text = (
        HEADER + ",shared_fax,note\n" + MUNICIPALITY + ",,\n"
        "vc-a,VC A,outpatient,kommun-a,031-390 06 00,,,,yes,one machine in the reception\n"
        "vc-b,VC B,outpatient,kommun-a,031 3900600,,,,ja,\n"
    )
    directory = Directory.from_bytes(text.encode(), today=TODAY)
    assert [u.id for u in directory.units_at("031-390 06 00")] == ["vc-a", "vc-b"]


def test_load_reads_the_file_and_records_its_path(tmp_path: Path) -> None:
    """load() is from_bytes() over the file's content."""
    path = tmp_path / "fax.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")
    directory = Directory.load(path, today=TODAY)
    assert (directory.path, len(directory.units)) == (path, 7)


def test_a_missing_file_is_a_directory_problem(tmp_path: Path) -> None:
    """DirectoryInvalid, not OSError: the daemon handles one error type for the directory."""
    with pytest.raises(DirectoryInvalid, match="cannot read the file"):
        Directory.load(tmp_path / "missing.csv")


def test_directory_invalid_is_a_routing_error_and_lists_every_problem() -> None:
    """str() gives one line per problem."""
    text = HEADER + "\nx,,nowhere,,123,,,\n"
    with pytest.raises(RoutingError) as caught:
        Directory.from_bytes(text.encode(), path=Path("fax.csv"))
    message = str(caught.value)
    assert message.startswith("the fax directory fax.csv has 3 problems:")
    assert message.count("\n  line 2: ") == 3


# -- validation: every problem with its line ----------------------------------------------

BROKEN = [
    pytest.param("", [(1, "the file is empty")], id="empty file"),
    pytest.param("# only a comment\n", [(1, "the file is empty")], id="only comments"),
    pytest.param(HEADER + "\n", [(1, "lists no units")], id="header only"),
    pytest.param("id,name,kind,fax\n", [(1, "missing columns: municipality, station_id, valid_from, valid_to")],
                 id="missing columns"),
    pytest.param(HEADER + ",shared_fa\n" + MUNICIPALITY + ",\n", [(1, "unknown columns: shared_fa")],
                 id="unknown column (a typo)"),
    pytest.param(HEADER + ",fax\n", [(1, "columns given twice: fax")], id="repeated column"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\n" + MUNICIPALITY.replace("04 00", "04 01") + "\n",
                 [(3, "id 'kommun-a' is already used on line 2")], id="duplicate id"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,kommun-a,040-628 04 0x,,,\n",
                 [(3, "fax number: '040-628 04 0x' contains characters that are not digits: x")], id="bad number"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,kommun-a,,,,\n",
                 [(3, "fax number: the number is empty")], id="no number"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,clinic,kommun-a,031-390 06 00,,,\n",
                 [(3, "unknown kind 'clinic' (known: municipality, outpatient, inpatient)")], id="unknown kind"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,kommun-x,031-390 06 00,,,\n",
                 [(3, "municipality 'kommun-x' is not in the directory")], id="municipality does not exist"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,kommun-a,031-390 06 00,,,\n"
                 "vc-b,VC B,outpatient,vc-a,031-390 06 01,,,\n",
                 [(4, "municipality 'vc-a' is a unit of kind 'outpatient', not a municipality")],
                 id="municipality is not a municipality"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,,031-390 06 00,,,\n",
                 [(3, "has no municipality")], id="unit without municipality"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,kommun-a,040-628 04 00,,,\n",
                 [(2, "must leave the municipality column empty")], id="municipality inside a municipality"),
    pytest.param(HEADER + "\n" + MUNICIPALITY + "\nvc-a,VC A,outpatient,kommun-a,040 6280400,,,\n",
                 [(3, "same fax number 040-628 04 00 as 'kommun-a' (line 2); if they really share one machine, "
                      "set shared_fax=yes on both")], id="shared number not declared"),
    pytest.param(HEADER + ",shared_fax\n" + MUNICIPALITY + ",\nvc-a,VC A,outpatient,kommun-a,040 6280400,,,,yes\n",
                 [(3, "same fax number")], id="shared number declared on one side only"),
    pytest.param(HEADER + "\nKommun A,A,municipality,,040-628 04 00,,,\n",
                 [(2, "id 'Kommun A' must be lower-case letters")], id="id not a slug"),
    pytest.param(HEADER + "\n,A,municipality,,040-628 04 00,,,\n", [(2, "the id is empty")], id="empty id"),
    pytest.param(HEADER + "\nkommun-a,,municipality,,040-628 04 00,,,\n", [(2, "has no name")], id="no name"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00,,2026-13-01,\n",
                 [(2, "valid_from '2026-13-01' is not an ISO date (YYYY-MM-DD)")], id="bad date"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00,,1/1/2026,\n",
                 [(2, "valid_from '1/1/2026' is not an ISO date")], id="date in another format"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00,,2026-02-01,2026-01-01\n",
                 [(2, "valid_to 2026-01-01 is before valid_from 2026-02-01")], id="period ends before it starts"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00,+46 40 628 04 00 00 00 00,,\n",
                 [(2, "longer than 20 characters")], id="station id too long"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00,FAX-A,,\n",
                 [(2, "station_id 'FAX-A' may hold only digits")], id="station id with letters"),
    pytest.param(HEADER + ",shared_fax\nkommun-a,A,municipality,,040-628 04 00,,,,maybe\n",
                 [(2, "shared_fax 'maybe' must be yes or empty")], id="shared_fax not yes/no"),
    pytest.param(HEADER + "\nkommun-a,\"A, kommun\",municipality,,040-628 04 00,,,,\n",
                 [(2, "9 fields, the header has 8 (a stray comma?)")], id="too many fields"),
    pytest.param(HEADER + "\nkommun-a,A,municipality,,040-628 04 00\n",
                 [(2, "5 fields, the header has 8")], id="too few fields"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_each_problem_is_reported_with_its_line(text: str, expected: list[tuple[int, str]]) -> None:
    """A broken file is refused naming the line and the problem."""
    found = problems_of(text)
    assert len(found) == len(expected), found
    for (line, message), (want_line, want) in zip(found, expected, strict=True):
        assert line == want_line and want in message, found


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    """Whoever fixes the list sees all of it in one pass."""
    text = (
        "# header comment\n"  # line 1
        + HEADER + "\n"  # line 2
        + MUNICIPALITY + "\n"  # line 3
        + "vc-a,VC A,outpatient,kommun-x,031-390 06 00,,,\n"  # line 4: unknown municipality
        + "vc-b,VC B,clinic,kommun-a,031-390 06 01,,,\n"  # line 5: unknown kind
        + "\n"  # line 6
        + "vc-a,VC A2,outpatient,kommun-a,031-390 06 0x,,,\n"  # line 7: duplicate id and a bad number
        + "avd-1,\"Avd\n1\",inpatient,kommun-a,08-465 004 00,,2026-02-30,\n"  # lines 8-9: bad date
        + "avd-2,Avd 2,inpatient,kommun-a,08-465 004 00,,,\n"  # line 10: same number as avd-1
    )  # fmt: skip
    found = problems_of(text)
    assert [line for line, _ in found] == [4, 5, 7, 7, 8, 10]
    assert "'kommun-x' is not in the directory" in found[0][1]
    assert "unknown kind 'clinic'" in found[1][1]
    assert {"fax number" in m or "already used on line 4" in m for _, m in found[2:4]} == {True}
    assert "2026-02-30" in found[4][1]
    assert "'avd-1' (line 8)" in found[5][1]


def test_a_file_that_is_not_utf8_is_refused_with_the_line() -> None:
    """A list saved in Latin-1 is refused, not read as mojibake names."""
    text = (HEADER + "\n" + MUNICIPALITY + "\nkommun-b,Höörs kommun,municipality,,040-628 04 01,,,\n").encode("latin-1")
    with pytest.raises(DirectoryInvalid) as caught:
        Directory.from_bytes(text)
    assert [(p.line, "UTF-8" in p.message) for p in caught.value.problems] == [(3, True)]


# -- station identity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "remote", "matches"),
    [
        ("+46 40 628 04 10", "+46 40 628 04 10", True),
        ("+46 40 628 04 10", "040 6280410", True),
        ("+46 40 628 04 10", "  +46406280410", True),
        ("+46 40 628 04 10", "+46 40 628 04 11", False),
        ("+46 40 628 04 10", "", False),
        ("LUND AVD 12", "lund avd 12", True),
    ],
)
def test_station_ids_are_compared_as_numbers_when_they_are_numbers(expected: str, remote: str, matches: bool) -> None:
    """The CSI check tolerates spacing and +46 versus 0, nothing else."""
    assert station_id_matches(expected, remote) is matches
