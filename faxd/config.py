"""The daemon's configuration: one TOML file, checked whole before anything starts.

Relative paths in the file are taken relative to the folder the file is in, so the
shipped example (``examples/faxd.toml``) finds ``../var/`` whatever the working
directory, and ``faxctl`` run from anywhere agrees with the daemon.

Every problem is reported as ``ConfigError`` naming the file and the key, because the
person reading it is an operator at a terminal or in the journal, not a developer.
"""

from __future__ import annotations

import enum
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from drivers.modem import Policy, StationCheck
from drivers.quirks import DEFAULT_PROFILE, FlowControl, ModemProfile, ProfileError, apply, load_profile
from faxd.config_keys import TrackedTable, nearest, track, unknown_keys
from faxd.ops_config import OpsConfig, read_ops
from faxerrors import FaxError
from routing.message_types import MessageType
from routing.numbers import DialRule

DEFAULT_CONFIG = Path("/etc/faxd/faxd.toml")
SIMULATED = "simulated"
#: The values of [[modem]] class; "auto" asks the modem (drivers.probe.PREFERENCE).
FAX_CLASSES = ("1", "2", "2.0", "2.1", "auto")


_E = TypeVar("_E", bound=enum.Enum)


class ConfigError(FaxError):
    """The configuration cannot be used; the message names file and key."""

    key: str | None = None  # the dotted key at fault, when there is one


@dataclass(frozen=True, slots=True)
class StationConfig:
    tsi: str  # our station id on the line (TSI), at most 20 characters
    header_name: str  # the name on the cover sheet and the page header
    callback: str  # the number a recipient calls if a fax reached the wrong place
    # What to do when the answering machine's CSI is not the one the directory expects:
    # "strict" (hang up before page one), "warn" (send, record it) or "off".
    check: StationCheck = StationCheck.STRICT


@dataclass(frozen=True, slots=True)
class ModemConfig:
    name: str
    device: str  # a serial device path, or "simulated"
    speed: int = 115200
    fax_class: str = "1"  # "1", "2", "2.0", "2.1", or "auto" (probe the modem; drivers/probe.py)
    simulator_class: str = "1"  # only for a simulated modem: its personality (default: class)
    simulator_csi: str | None = None  # only for a simulated modem: its remote's CSI
    simulator_speed: float = 0.0  # only for a simulated modem: 0 = no line delays, 1 = line pace
    simulator_profiles: Path | None = None  # only for a simulated modem: remotes and faults per number
    trace: bool = False  # write a protocol trace per call under state/trace/<modem>/
    # How calls on this modem behave where T.30 leaves the choice to us, from the keys
    # ecm (use error correction, and MMR, when the remote offers it), min_bit_rate
    # (training fallback gives up below this) and max_page_resends (a page the remote
    # rejects with RTN is sent again this often). The runner adds, per call, the
    # [station] check (it reloads on HUP; modems do not) and the line memory's start rate.
    policy: Policy = Policy()
    probe_seconds: float = 60.0  # an idle modem is checked with AT this often (0: never)
    # The modem family's set-up and quirks (drivers/profiles/README.md); None: "generic".
    profile: ModemProfile | None = None
    flow_control: FlowControl | None = None  # None: the profile's default

    @property
    def simulated(self) -> bool:
        return self.device == SIMULATED


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """When to try a recipient again. The delays follow HylaFAX's long-proven defaults
    (JobReqBusy 180 s, JobReqNoAnswer 300 s): a busy machine frees up soon, an
    unanswered one may be switched off."""

    max_attempts: int = 3
    delay_seconds: float = 120.0  # after line or protocol trouble
    busy_delay_seconds: float = 180.0
    no_answer_delay_seconds: float = 300.0
    deadline_hours: float = 24.0  # a recipient not reached by then is left for follow-up


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_document_bytes: int = 50 * 1024 * 1024
    max_pages: int = 200


class NoOutagePolicy(enum.StrEnum):
    """What happens to a document dropped while no outage is declared."""

    HOLD = "hold"  # kept, not sent, shown in status, alarm.no_outage_declared; sent once an outage starts
    SEND = "send"  # sent as during an outage
    REFUSE = "refuse"  # quarantined with the reason


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Where the confirmation log's keys and its published head live: never in the
    state folder, so whoever can write the database can neither re-sign nor roll back."""

    signing_key: Path = Path("/etc/faxd/audit-signing.key")  # the daemon's user only
    public_key: Path = Path("/etc/faxd/audit-public.pem")  # for auditors
    head_file: Path | None = Path("/var/log/faxd/audit-head")  # append-only; the auditors' group reads it
    checkpoint_every: int = 100  # the head also goes to the journal every this many entries
    # The auditors' group: it may read the state database, the archive, the follow-up folder
    # and the head (faxd.access); None: the daemon's own group. Never the signing key.
    group: str | None = None


@dataclass(frozen=True, slots=True)
class OutageConfig:
    when_not_declared: NoOutagePolicy = NoOutagePolicy.HOLD
    timezone: str = "Europe/Stockholm"  # the routine's dates (SIP date, discharge date) are local dates


@dataclass(frozen=True, slots=True)
class FollowUpConfig:
    """``[followup]``: what the daemon does when a job fails for good (faxd/followup/)."""

    enabled: bool = True  # write the printable package into ``folder``
    folder: Path | None = None  # None: ``<paths.state>/followup``
    notify_sender: bool = True  # and fax the sending unit a one-page notice (no patient data)
    # Failures older than this when the daemon first sees them (a database from before
    # follow-up was switched on, a daemon down for days) get no automatic package or
    # notice: they stay on the reconciliation's not-arrived list.
    within_hours: float = 72.0


@dataclass(frozen=True, slots=True)
class Config:
    source: Path
    spool: Path
    state: Path
    directory: Path
    station: StationConfig
    modems: tuple[ModemConfig, ...]
    dial_rule: DialRule = field(default_factory=DialRule)
    priorities: Mapping[MessageType, int] = field(default_factory=dict)  # overrides of the routine's defaults
    retry: RetryConfig = field(default_factory=RetryConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    log_format: str = "logfmt"  # or "json"
    archive_retention_days: int = 365  # page images of each attempt; 0 keeps them for ever
    audit: AuditConfig = field(default_factory=AuditConfig)
    outage: OutageConfig = field(default_factory=OutageConfig)
    ops: OpsConfig = field(default_factory=OpsConfig)  # journal, SNMP, metrics, alarms, drill
    # [intake] The same document (SHA-256) dropped again while the first is queued or within
    # the window after it was sent: "hold" quarantines it as a duplicate naming the first,
    # "send" faxes it again. ``faxctl send --again`` sends one anyway.
    duplicates: str = "hold"
    duplicate_window_hours: float = 72.0
    followup: FollowUpConfig = field(default_factory=FollowUpConfig)

    @property
    def database(self) -> Path:
        return self.state / "faxd.sqlite3"

    @property
    def followup_folder(self) -> Path:
        return self.followup.folder or self.state / "followup"


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The file to read: ``--config``, else ``FAXD_CONFIG``, else the system default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FAXD_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: Path) -> Config:
    """Read and check the whole file. Raises ConfigError."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (give --config PATH or set FAXD_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    tracked = track(raw)
    try:
        config = _Reader(path).config(tracked)
    except ConfigError as exc:
        hint = _typo_hint(tracked, exc.key)
        if hint is None:
            raise
        raise ConfigError(f"{exc} ({hint})") from None
    # Only after the whole file was read: the known keys are those the reader asked for.
    unknown = unknown_keys(tracked)
    if unknown:
        raise ConfigError(f"{path}: " + "; ".join(u.message() for u in unknown))
    return config


def _typo_hint(tracked: TrackedTable, key: str | None) -> str | None:
    """When a required key is missing, the key of the same table that looks like it."""
    if key is None or _present(tracked, key):
        return None  # the key is there and its value is wrong: no typo to point at
    prefix, _, name = key.rpartition(".")
    for unknown in unknown_keys(tracked):
        table, _, candidate = unknown.key.rpartition(".")
        if table == prefix and nearest(candidate, {name}) is not None:
            return f"the file has [{unknown.key}]: did you mean `{name}`?"
    return None


def _present(tracked: TrackedTable, key: str) -> bool:
    node: Any = tracked
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and dict.__contains__(node, part):
            node = dict.__getitem__(node, part)
        else:
            return False
    return True


class _Reader:
    """Typed access to the parsed TOML that knows which key it is reading, for errors."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.resolve().parent

    def fail(self, key: str, problem: str) -> ConfigError:
        error = ConfigError(f"{self.path}: [{key}] {problem}")
        error.key = key
        return error

    def table(self, raw: Mapping[str, Any], key: str, *, required: bool = True) -> Mapping[str, Any]:
        value = raw.get(key.rsplit(".", 1)[-1])
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "is missing or not a table")
        return value

    def string(self, raw: Mapping[str, Any], key: str, default: str | None = None) -> str:
        value = raw.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def number(self, raw: Mapping[str, Any], key: str, default: float, *, minimum: float = 0) -> float:
        value = raw.get(key.rsplit(".", 1)[-1], default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self.fail(key, f"must be a number >= {minimum}, not {value!r}")
        return float(value)

    def choice(self, raw: Mapping[str, Any], key: str, kind: type[_E], default: _E) -> _E:
        value = raw.get(key.rsplit(".", 1)[-1], default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in kind)
            raise self.fail(key, f"must be one of {allowed}, not {value!r}") from None

    def flag(self, raw: Mapping[str, Any], key: str, default: bool) -> bool:
        value = raw.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def path_value(self, raw: Mapping[str, Any], key: str) -> Path:
        path = Path(self.string(raw, key)).expanduser()
        return path if path.is_absolute() else (self.base / path).resolve()

    def config(self, raw: Mapping[str, Any]) -> Config:
        paths = self.table(raw, "paths")
        station = self.table(raw, "station")
        tsi = self.string(station, "station.tsi")
        if len(tsi) > 20 or not all(c.isdigit() or c in "+ " for c in tsi):
            raise self.fail("station.tsi", f"{tsi!r} must be at most 20 characters of digits, '+' and spaces (T.30)")
        modems_raw = raw.get("modem")
        if not isinstance(modems_raw, list) or not modems_raw:
            raise self.fail("modem", "at least one [[modem]] table is required")
        modems = tuple(self.modem(m, i) for i, m in enumerate(modems_raw))
        names = [m.name for m in modems]
        if len(set(names)) != len(names):
            raise self.fail("modem", f"modem names must be unique, got {names}")
        dialing = self.table(raw, "dialing", required=False)
        retry = self.table(raw, "retry", required=False)
        limits = self.table(raw, "limits", required=False)
        logging = self.table(raw, "logging", required=False)
        archive = self.table(raw, "archive", required=False)
        log_format = logging.get("format", "logfmt")
        if log_format not in ("logfmt", "json"):
            raise self.fail("logging.format", f"must be 'logfmt' or 'json', not {log_format!r}")
        try:
            dial_rule = DialRule(
                outside_line_prefix=str(dialing.get("outside_line_prefix", "")),
                pause_after_prefix=str(dialing.get("pause_after_prefix", "")),
            )
        except ValueError as exc:
            raise self.fail("dialing", str(exc)) from None
        priorities: dict[MessageType, int] = {}
        for code, value in self.table(raw, "priorities", required=False).items():
            message_type = MessageType.from_code(code)
            if message_type is None:
                known = ", ".join(t.code for t in MessageType)
                raise self.fail(f"priorities.{code}", f"is not a message type code; known: {known}")
            priorities[message_type] = int(self.number({code: value}, f"priorities.{code}", 0))
        state = self.path_value(paths, "paths.state")
        return Config(
            source=self.path,
            spool=self.path_value(paths, "paths.spool"),
            state=state,
            directory=self.path_value(paths, "paths.directory"),
            station=StationConfig(
                tsi=tsi,
                header_name=self.string(station, "station.header_name"),
                callback=self.string(station, "station.callback"),
                check=self.choice(station, "station.check", StationCheck, StationCheck.STRICT),
            ),
            modems=modems,
            dial_rule=dial_rule,
            priorities=priorities,
            retry=RetryConfig(
                max_attempts=int(self.number(retry, "retry.max_attempts", 3, minimum=1)),
                delay_seconds=self.number(retry, "retry.delay_seconds", 120.0),
                busy_delay_seconds=self.number(retry, "retry.busy_delay_seconds", 180.0),
                no_answer_delay_seconds=self.number(retry, "retry.no_answer_delay_seconds", 300.0),
                deadline_hours=self.number(retry, "retry.deadline_hours", 24.0),
            ),
            limits=LimitsConfig(
                max_document_bytes=int(self.number(limits, "limits.max_document_mb", 50, minimum=1) * 1024 * 1024),
                max_pages=int(self.number(limits, "limits.max_pages", 200, minimum=1)),
            ),
            log_format=log_format,
            archive_retention_days=int(self.number(archive, "archive.retention_days", 365)),
            audit=self.audit(self.table(raw, "audit", required=False), state),
            outage=self.outage(self.table(raw, "outage", required=False)),
            ops=read_ops(self, raw, logging),
            followup=self.followup(self.table(raw, "followup", required=False)),
            **self.intake(self.table(raw, "intake", required=False)),
        )

    def intake(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        duplicates = raw.get("duplicates", "hold")
        if duplicates not in ("hold", "send"):
            raise self.fail("intake.duplicates", f"must be 'hold' or 'send', not {duplicates!r}")
        return {
            "duplicates": duplicates,
            "duplicate_window_hours": self.number(raw, "intake.duplicate_window_hours", 72.0),
        }

    def followup(self, raw: Mapping[str, Any]) -> FollowUpConfig:
        return FollowUpConfig(
            enabled=self.flag(raw, "followup.enabled", True),
            folder=self.path_value(raw, "followup.folder") if "folder" in raw else None,
            notify_sender=self.flag(raw, "followup.notify_sender", True),
            within_hours=self.number(raw, "followup.within_hours", 72.0),
        )

    def audit(self, raw: Mapping[str, Any], state: Path) -> AuditConfig:
        default = AuditConfig()
        signing = self.path_value(raw, "audit.signing_key") if "signing_key" in raw else default.signing_key
        public = self.path_value(raw, "audit.public_key") if "public_key" in raw else default.public_key
        head = self.path_value(raw, "audit.head_file") if "head_file" in raw else default.head_file
        for key, path in (("audit.signing_key", signing), ("audit.head_file", head)):
            if path is not None and path.resolve().is_relative_to(state.resolve()):
                # Whoever can write the state folder must not be able to re-sign or roll back the log.
                raise self.fail(key, f"{path} must be outside the state folder {state}")
        return AuditConfig(
            signing_key=signing,
            public_key=public,
            head_file=head,
            checkpoint_every=int(self.number(raw, "audit.checkpoint_every", 100, minimum=1)),
            group=self.string(raw, "audit.group") if "group" in raw else None,
        )

    def outage(self, raw: Mapping[str, Any]) -> OutageConfig:
        zone = self.string(raw, "outage.timezone", "Europe/Stockholm")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail("outage.timezone", f"{zone!r} is not a known time zone") from None
        return OutageConfig(
            when_not_declared=self.choice(raw, "outage.when_not_declared", NoOutagePolicy, NoOutagePolicy.HOLD),
            timezone=zone,
        )

    def modem(self, raw: Any, index: int) -> ModemConfig:
        key = f"modem.{index}"
        if not isinstance(raw, dict):
            raise self.fail(key, "must be a table")
        name = self.string(raw, f"{key}.name", f"modem{index}")
        device = self.string(raw, f"{key}.device")
        fax_class = str(raw.get("class", "1"))
        if fax_class not in FAX_CLASSES:
            raise self.fail(f"{key}.class", f"fax class {fax_class!r}: one of {', '.join(map(repr, FAX_CLASSES))}")
        simulator_class = str(raw.get("simulator_class", fax_class if fax_class != "auto" else "1"))
        if simulator_class not in FAX_CLASSES[:-1]:
            raise self.fail(
                f"{key}.simulator_class", f"the simulated modem's class: one of {', '.join(FAX_CLASSES[:-1])}"
            )
        csi = raw.get("simulator_csi")
        if csi is not None and not isinstance(csi, str):
            raise self.fail(f"{key}.simulator_csi", "must be a string")
        profiles = self.path_value(raw, f"{key}.simulator_profiles") if "simulator_profiles" in raw else None
        profile = self.modem_profile(raw, key)
        return ModemConfig(
            name=name,
            device=device,
            speed=int(self.number(raw, f"{key}.speed", 115200, minimum=300)),
            fax_class=fax_class,
            simulator_class=simulator_class,
            simulator_csi=csi,
            simulator_speed=self.number(raw, f"{key}.simulator_speed", 0.0),
            simulator_profiles=profiles,
            trace=self.flag(raw, f"{key}.trace", False),
            policy=Policy(
                ecm=self.flag(raw, f"{key}.ecm", True),
                min_bps=int(self.number(raw, f"{key}.min_bit_rate", 2400, minimum=2400)),
                max_page_resends=int(self.number(raw, f"{key}.max_page_resends", 2)),
            ),
            probe_seconds=self.number(raw, f"{key}.probe_seconds", 60.0),
            profile=profile,
            flow_control=self.choice(raw, f"{key}.flow_control", FlowControl, profile.flow_control),
        )

    def modem_profile(self, raw: Mapping[str, Any], key: str) -> ModemProfile:
        """The [[modem]]'s profile (``profile``, looked up in ``profile_dir`` first) with
        its own ``init``, ``reset``, ``flow_commands`` and ``[modem.quirks]`` laid over."""
        site = self.path_value(raw, f"{key}.profile_dir") if "profile_dir" in raw else None
        overrides: dict[str, Any] = {name: raw[name] for name in ("init", "reset", "flow_commands") if name in raw}
        if "quirks" in raw:
            overrides["class1"] = dict(self.table(raw, f"{key}.quirks").items())
        try:
            profile = load_profile(self.string(raw, f"{key}.profile", DEFAULT_PROFILE), site)
            return apply(profile, overrides, source=f"{self.path} [{key}]")
        except ProfileError as exc:
            raise self.fail(f"{key}.profile", str(exc)) from None
