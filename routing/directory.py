"""The fax directory: the region's fax list of units, loaded from a CSV file and checked whole.

File format (UTF-8, a header line, comma or semicolon separated, ``#`` lines are comments)::

    id,name,kind,municipality,fax,station_id,valid_from,valid_to[,shared_fax][,note]

- ``id``: the unit's stable slug (``kommun-malmo``, ``vc-lund-norra``): a-z, 0-9, hyphens.
- ``kind``: ``municipality`` | ``outpatient`` | ``inpatient``.
- ``municipality``: the id of the municipality unit the unit lies in; empty for a
  municipality itself, required for every other unit.
- ``fax``: any usual writing of a Swedish number; stored canonical ("0406280400").
- ``station_id``: the station identity (CSI) the unit's machine is expected to answer
  with, e.g. "+46 40 628 04 10"; optional, at most 20 characters (T.30).
- ``valid_from`` / ``valid_to``: optional ISO dates, both inclusive. A unit outside its
  period is kept aside (``inactive``) and is not a recipient.
- ``shared_fax`` (optional column): ``yes`` on every unit that really shares its fax
  machine with another unit. Two units with one number and no ``yes`` on both are an
  error: it is the typical copy-paste mistake that sends patient data to the wrong unit.
- ``note`` (optional column): free text for people; ignored.

Loading reports every problem at once, each with its line number, so whoever
maintains the list can fix it in one pass (``DirectoryInvalid``). The version is the
first 12 hex digits of the SHA-256 of the file's bytes: it is recorded with every job.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

from routing.errors import DirectoryInvalid, DirectoryProblem
from routing.numbers import DialRule, dial_string, display_number, international_number, normalise_number

__all__ = [
    "DialRule",
    "Directory",
    "Unit",
    "UnitKind",
    "dial_string",
    "normalise_number",
    "station_id_matches",
]

REQUIRED_COLUMNS = ("id", "name", "kind", "municipality", "fax", "station_id", "valid_from", "valid_to")
OPTIONAL_COLUMNS = ("shared_fax", "note")
UNIT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STATION_ID_MAX = 20  # T.30: the CSI/TSI field holds 20 characters
STATION_ID_CHARACTERS = re.compile(r"[0-9+ ]*")  # T.30 Table 3 and the "+" of international form
VERSION_LENGTH = 12
_YES = {"yes", "ja", "true", "1", "x"}
_NO = {"", "no", "nej", "false", "0"}


class UnitKind(enum.StrEnum):
    """The three kinds of party in the routine."""

    MUNICIPALITY = "municipality"  # kommun
    OUTPATIENT = "outpatient"  # öppenvård: vårdcentral, outpatient psychiatry, ...
    INPATIENT = "inpatient"  # slutenvård: a hospital ward

    @property
    def description(self) -> str:
        """The kind with its article, for sentences: "a municipality"."""
        return {"municipality": "a municipality", "outpatient": "an outpatient unit", "inpatient": "an inpatient ward"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of the fax list. ``fax`` is canonical digits."""

    id: str
    name: str
    kind: UnitKind
    municipality: str | None
    fax: str
    station_id: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    shared_fax: bool = False

    @property
    def fax_display(self) -> str:
        """The fax number as a person writes it: "040-628 04 00"."""
        return display_number(self.fax)

    @property
    def fax_international(self) -> str:
        """The fax number in international form: "+46 40 628 04 00"."""
        return international_number(self.fax)

    def station_alarm(self, *, answered_with_id: bool, sent: bool) -> str:
        """Why a station check raised an alarm, in words and the directory's own facts.

        Goes to the journal, SNMP and metrics: the id the remote gave stays in the
        attempt's record (it is nothing the directory holds, and may be anyone's text).
        """
        # Short enough for a trap's DisplayString (255 characters) with the longest ids.
        expected = repr(self.station_id) if self.station_id else "the one on record"
        seen = "another station id" if answered_with_id else "no station id"
        outcome = "sent all the same (station_check = warn)" if sent else "nothing was sent"
        return (
            f"{self.fax_display} ({self.id}) answered with {seen}, not {expected} as in the fax directory; "
            f"{outcome}: check the number before faxing there again"
        )

    def valid_on(self, day: date) -> bool:
        """True if ``day`` lies in the unit's validity period (both ends inclusive)."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


def station_id_matches(expected: str, remote: str) -> bool:
    """True if the remote station identity (CSI) is the expected one.

    Compared as phone numbers when both read as Swedish numbers ("+46 40 628 04 10"
    equals "040 6280410"), otherwise as text without spaces, case-insensitive.
    """
    try:
        return normalise_number(expected) == normalise_number(remote)
    except ValueError:
        return "".join(expected.split()).casefold() == "".join(remote.split()).casefold()


class Directory:
    """The units of one version of the fax list, as they stand on one day.

    ``units`` holds the units valid that day, keyed by id; ``inactive`` those outside
    their validity period (kept so a refusal can say why a unit is not reachable).
    """

    def __init__(
        self,
        units: Mapping[str, Unit],
        *,
        version: str,
        path: Path | None = None,
        inactive: Mapping[str, Unit] | None = None,
    ) -> None:
        self.units: Mapping[str, Unit] = MappingProxyType(dict(units))
        self.inactive: Mapping[str, Unit] = MappingProxyType(dict(inactive or {}))
        self.version = version
        self.path = path
        self._numbers = frozenset(u.fax for u in self.units.values())

    def __repr__(self) -> str:
        return f"Directory(version={self.version!r}, units={len(self.units)}, path={self.path!s})"

    def get(self, unit_id: str) -> Unit | None:
        """The unit valid today with this id, or None."""
        return self.units.get(unit_id)

    def is_known_number(self, digits: str) -> bool:
        """True if the number (any usual writing) is the fax of a unit valid today."""
        try:
            return normalise_number(digits) in self._numbers
        except ValueError:
            return False

    def units_at(self, digits: str) -> tuple[Unit, ...]:
        """The valid units with this fax number (more than one only if shared)."""
        try:
            canonical = normalise_number(digits)
        except ValueError:
            return ()
        return tuple(u for u in self.units.values() if u.fax == canonical)

    @classmethod
    def load(cls, path: Path, *, today: date | None = None) -> Directory:
        """Read and check the fax list at ``path``; units are taken as valid on ``today``.

        Raises DirectoryInvalid listing every problem (with line numbers), including a
        file that cannot be read. ``today`` defaults to the local date.
        """
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise DirectoryInvalid(str(path), [DirectoryProblem(0, f"cannot read the file: {exc.strerror}")]) from None
        return cls.from_bytes(content, path=Path(path), today=today)

    @classmethod
    def from_bytes(cls, content: bytes, *, path: Path | None = None, today: date | None = None) -> Directory:
        """As ``load``, from the file's bytes. Raises DirectoryInvalid."""
        name = str(path) if path is not None else "<directory>"
        version = hashlib.sha256(content).hexdigest()[:VERSION_LENGTH]
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            raise DirectoryInvalid(
                name, [DirectoryProblem(line, "the file is not UTF-8 text (save it as 'CSV UTF-8')")]
            ) from None
        units, problems = _parse(text)
        if problems:
            raise DirectoryInvalid(name, problems)
        day = today if today is not None else date.today()
        active = {u.id: u for u in units if u.valid_on(day)}
        inactive = {u.id: u for u in units if not u.valid_on(day)}
        return cls(active, version=version, path=path, inactive=inactive)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, fields) of each non-empty, non-comment record."""
    # Comment lines become empty lines so the csv reader's line count stays the file's.
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvSyntaxError(previous + 1, str(exc)) from None
        start = previous + 1
        previous = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        yield start, [f.strip() for f in fields]


class _CsvSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _parse(text: str) -> tuple[list[Unit], list[DirectoryProblem]]:
    problems: list[DirectoryProblem] = []
    rows = _rows(text)
    try:
        header_line, header = next(rows)
    except StopIteration:
        return [], [DirectoryProblem(1, "the file is empty; expected the header " + ",".join(REQUIRED_COLUMNS))]
    except _CsvSyntaxError as exc:
        return [], [DirectoryProblem(exc.line, f"not readable as CSV: {exc}")]
    columns = [h.casefold() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [h for h in header if h.casefold() not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({h for h in columns if columns.count(h) > 1})
    if missing:
        problems.append(DirectoryProblem(header_line, "missing columns: " + ", ".join(missing)))
    if unknown:
        problems.append(
            DirectoryProblem(
                header_line,
                f"unknown columns: {', '.join(unknown)} (known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
            )
        )
    if repeated:
        problems.append(DirectoryProblem(header_line, "columns given twice: " + ", ".join(repeated)))
    if problems:
        return [], problems

    parsed: list[tuple[int, Unit | None, dict[str, str]]] = []
    try:
        for line, fields in rows:
            if len(fields) != len(columns):
                problems.append(
                    DirectoryProblem(line, f"{len(fields)} fields, the header has {len(columns)} (a stray comma?)")
                )
                continue
            record = dict(zip(columns, fields, strict=True))
            parsed.append((line, _unit(line, record, problems), record))
    except _CsvSyntaxError as exc:
        problems.append(DirectoryProblem(exc.line, f"not readable as CSV: {exc}"))

    _check_whole(parsed, problems)
    if not parsed and not problems:
        problems.append(DirectoryProblem(header_line, "the file lists no units"))
    problems.sort(key=lambda p: p.line)
    return [u for _, u, _ in parsed if u is not None], problems


def _unit(line: int, record: Mapping[str, str], problems: list[DirectoryProblem]) -> Unit | None:
    """The unit of one record, or None after adding its problems (every one of them)."""
    before = len(problems)

    def problem(message: str) -> None:
        problems.append(DirectoryProblem(line, message))

    unit_id = record["id"]
    if not unit_id:
        problem("the id is empty")
    elif not UNIT_ID.fullmatch(unit_id):
        problem(f"id {unit_id!r} must be lower-case letters a-z, digits and single hyphens (like 'vc-lund-norra')")
    if not record["name"]:
        problem(f"unit {unit_id!r} has no name")
    kind: UnitKind | None = None
    try:
        kind = UnitKind(record["kind"].casefold())
    except ValueError:
        problem(f"unknown kind {record['kind']!r} (known: {', '.join(k.value for k in UnitKind)})")
    municipality = record["municipality"] or None
    if kind is UnitKind.MUNICIPALITY and municipality is not None:
        problem(f"municipality {unit_id!r} must leave the municipality column empty (it is {municipality!r})")
    elif kind is not None and kind is not UnitKind.MUNICIPALITY and municipality is None:
        problem(f"unit {unit_id!r} has no municipality (the id of the municipality it lies in)")
    fax = ""
    try:
        fax = normalise_number(record["fax"])
    except ValueError as exc:
        problem(f"fax number: {exc}")
    station_id = " ".join(record["station_id"].split()) or None
    if station_id is not None:
        if len(station_id) > STATION_ID_MAX:
            problem(f"station_id {station_id!r} is longer than {STATION_ID_MAX} characters (T.30)")
        if not STATION_ID_CHARACTERS.fullmatch(station_id):
            problem(f"station_id {station_id!r} may hold only digits, '+' and spaces (T.30)")
    valid_from = _date(record["valid_from"], "valid_from", problem)
    valid_to = _date(record["valid_to"], "valid_to", problem)
    if valid_from and valid_to and valid_to < valid_from:
        problem(f"valid_to {valid_to} is before valid_from {valid_from}")
    shared = record.get("shared_fax", "").casefold()
    if shared not in _YES | _NO:
        problem(f"shared_fax {record['shared_fax']!r} must be yes or empty")
    if len(problems) > before or kind is None:
        return None
    return Unit(
        id=unit_id,
        name=record["name"],
        kind=kind,
        municipality=municipality,
        fax=fax,
        station_id=station_id,
        valid_from=valid_from,
        valid_to=valid_to,
        shared_fax=shared in _YES,
    )


def _date(text: str, column: str, problem: Callable[[str], None]) -> date | None:
    if not text:
        return None
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        problem(f"{column} {text!r} is not an ISO date (YYYY-MM-DD)")
        return None


def _check_whole(parsed: list[tuple[int, Unit | None, dict[str, str]]], problems: list[DirectoryProblem]) -> None:
    """The checks that need every record: ids, municipalities, numbers."""
    first_line: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for line, _, record in parsed:
        unit_id = record["id"]
        if not unit_id:
            continue
        if unit_id in first_line:
            problems.append(DirectoryProblem(line, f"id {unit_id!r} is already used on line {first_line[unit_id]}"))
        else:
            first_line[unit_id] = line
            kinds[unit_id] = record["kind"].casefold()
    for line, _, record in parsed:
        municipality = record["municipality"]
        if not municipality or record["kind"].casefold() == UnitKind.MUNICIPALITY:
            continue
        if municipality not in kinds:
            problems.append(
                DirectoryProblem(line, f"unit {record['id']!r}: municipality {municipality!r} is not in the directory")
            )
        elif kinds[municipality] != UnitKind.MUNICIPALITY:
            problems.append(
                DirectoryProblem(
                    line,
                    f"unit {record['id']!r}: municipality {municipality!r} is a unit of kind "
                    f"{kinds[municipality]!r}, not a municipality",
                )
            )
    # Numbers are compared over every record whose number reads, even if the record has
    # other problems: the list's maintainer should see all of them in one pass.
    by_number: dict[str, list[tuple[int, str, bool]]] = {}
    for line, _, record in parsed:
        try:
            fax = normalise_number(record["fax"])
        except ValueError:
            continue
        shared = record.get("shared_fax", "").casefold() in _YES
        by_number.setdefault(fax, []).append((line, record["id"], shared))
    for fax, sharing in by_number.items():
        if len(sharing) < 2 or all(shared for _, _, shared in sharing):
            continue
        first_line_, first_id, _ = sharing[0]
        for line, unit_id, _ in sharing[1:]:
            problems.append(
                DirectoryProblem(
                    line,
                    f"unit {unit_id!r} has the same fax number {display_number(fax)} as {first_id!r} "
                    f"(line {first_line_}); if they really share one machine, set shared_fax=yes on both",
                )
            )
