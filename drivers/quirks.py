"""Modem profiles: what a modem family needs, as data a site can read and extend.

A profile is a TOML file (``drivers/profiles/*.toml`` ship with faxd; a site adds its own
in ``[modems] profile_dir``) with the commands that reset and set up the modem, the
commands that set each kind of flow control on the modem, and the Class 1 quirks the
driver works around. ``drivers/profiles/README.md`` documents every key. A profile may
``extends`` another and change only what differs; a ``[[modem]]`` in faxd.toml names a
profile and may override single keys again (``[modem.quirks]``).

``[class2]``, for the Class 2 driver, is kept as plain data in ``ModemProfile.sections``
for the code that reads it, so one file describes a modem for every driver; it is checked
as each file is read (``drivers.class2_quirks``), so a profile that loads can be used by
either driver. Any other section is refused with the nearest known name: a typo such as
``[clas2]`` must not leave a site's quirks silently unused.
"""

from __future__ import annotations

import difflib
import enum
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from faxerrors import FaxError

#: Where the profiles shipped with faxd live.
SHIPPED_DIR = Path(__file__).parent / "profiles"
#: The profile a ``[[modem]]`` without ``profile`` uses: plain V.250 / T.31.
DEFAULT_PROFILE = "generic"
_MAX_EXTENDS = 8  # a longer chain is a loop or a mistake


class ProfileError(FaxError):
    """A modem profile (``drivers/profiles/``, ``[modem.quirks]``; any section, the Class 2
    driver's ``[class2]`` too) cannot be found or read; the message names file and key. The simulator's own files have their own error,
    ``drivers.simulator.SimulatorProfileError``."""


class FlowControl(enum.StrEnum):
    """How the modem stops the host when its transmit buffer fills (T.31 8.5, V.250 6.2.12).

    RTS/CTS is what every Class 1 modem on a real serial port should use; XON/XOFF for
    three-wire cables and USB adapters without the lines; ``none`` only for ptys and
    modems with a buffer larger than any page (SpanDSP's T.31 on a pty).
    """

    RTSCTS = "rtscts"
    XONXOFF = "xonxoff"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Class1Quirks:
    """Where a Class 1 modem differs from T.31 as written, and what the driver does about it."""

    #: The command that waits for silence after receiving, before we transmit (T.31 8.3.4).
    #: ``{tens}`` is replaced by the silence in 10 ms units. A modem without ``+FRS`` gets
    #: another command here (``+FTS={tens}``), or "" for a pause on the host.
    switching_command: str = "+FRS={tens}"
    #: Wait this long after ``CONNECT`` to ``+FTM`` before writing data: some modems drop
    #: the first octets when data follows CONNECT at once (HylaFAX Class1TMConnectDelay).
    tm_connect_delay_ms: int = 0
    #: Extra silence before EOP (HylaFAX Class1EOPWaitCmd, ``+FTS=9``): some receivers miss
    #: an EOP that follows the page carrier too closely.
    eop_pause_ms: int = 0
    #: Octets of FCS a received HDLC frame carries before DLE ETX (T.31: 2; some DCEs 0).
    received_fcs_octets: int = 2
    #: The modem does not double DLE in received data: a DLE followed by anything but
    #: ETX is data, not a control pair (else such frames fail their FCS and are lost).
    dle_undoubled: bool = False

    def __post_init__(self) -> None:
        if self.received_fcs_octets not in (0, 2):
            raise ValueError("received_fcs_octets is 2 (T.31) or 0 (a DCE that strips the FCS)")
        if self.tm_connect_delay_ms < 0 or self.eop_pause_ms < 0:
            raise ValueError("delays cannot be negative")
        if self.switching_command and "{tens}" not in self.switching_command:
            raise ValueError("switching_command needs {tens} (the silence in 10 ms units), or is empty")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModemProfile:
    """One modem family's set-up and quirks."""

    name: str
    description: str = ""
    source: str = "built in"  # the file(s) it was read from, for messages
    #: Substrings of the modem's identification (``ATI``, ``+FMI``/``+FMM`` answers) that
    #: pick this profile; for a probe, compared case-insensitively.
    match: tuple[str, ...] = ()
    reset: str = "Z"  # after ATZ the modem is in its stored profile; E0V1 follows always
    init: tuple[str, ...] = ()  # commands after reset, before flow control and +FCLASS=1
    flow_control: FlowControl = FlowControl.RTSCTS  # the default when the [[modem]] names none
    #: The command that sets each kind of flow control on the modem ("" sends nothing).
    flow_commands: Mapping[FlowControl, str] = field(
        default_factory=lambda: MappingProxyType(
            {FlowControl.RTSCTS: "+IFC=2,2", FlowControl.XONXOFF: "+IFC=1,1", FlowControl.NONE: "+IFC=0,0"}
        )
    )
    class1: Class1Quirks = field(default_factory=Class1Quirks)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    def flow_command(self, flow: FlowControl) -> str:
        return self.flow_commands.get(flow, "")


_TOP_KEYS = {"name", "description", "extends", "match", "reset", "init", "flow_control"}
_QUIRK_KEYS = {f.name for f in fields(Class1Quirks)}
#: Sections kept as data for another driver's code (``ModemProfile.sections``).
_SECTIONS = {"class2"}


def apply(profile: ModemProfile, raw: Mapping[str, Any], *, source: str) -> ModemProfile:
    """Returns ``profile`` with the keys of ``raw`` (a parsed profile file, or a
    ``[modem.quirks]`` table) laid over it. Raises ``ProfileError`` naming ``source``."""
    try:
        return _apply(profile, raw, source)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{source}: {exc}") from None


def _apply(profile: ModemProfile, raw: Mapping[str, Any], source: str) -> ModemProfile:
    changes: dict[str, Any] = {}
    for key in ("name", "description", "reset"):
        if key in raw:
            changes[key] = _text(raw[key], key)
    if "match" in raw:
        changes["match"] = _texts(raw["match"], "match")
    if "init" in raw:
        changes["init"] = _texts(raw["init"], "init")
    if "flow_control" in raw:
        changes["flow_control"] = _flow(raw["flow_control"], "flow_control")
    sections = dict(profile.sections)
    for key, value in raw.items():
        if key in _TOP_KEYS:
            continue
        if not isinstance(value, Mapping):
            raise ValueError(f"unknown key {key!r} (keys: {', '.join(sorted(_TOP_KEYS))}, or a [section])")
        if key == "flow_commands":
            commands = dict(profile.flow_commands)
            for name, command in value.items():
                commands[_flow(name, f"flow_commands.{name}")] = _text(command, f"flow_commands.{name}")
            changes["flow_commands"] = MappingProxyType(commands)
        elif key == "class1":
            unknown = set(value) - _QUIRK_KEYS
            if unknown:
                raise ValueError(f"unknown [class1] key(s) {sorted(unknown)} (known: {sorted(_QUIRK_KEYS)})")
            quirks = {k: _typed(v, getattr(profile.class1, k), f"class1.{k}") for k, v in value.items()}
            changes["class1"] = replace(profile.class1, **quirks)
        elif key not in _SECTIONS:
            near = difflib.get_close_matches(key, sorted(_SECTIONS | {"flow_commands", "class1"}), n=1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            raise ValueError(f"unknown section [{key}]{hint}; sections: [class1], [class2], [flow_commands]")
        else:
            if key == "class2":
                # Checked as each file is read, whatever class the modem runs, so a bad key
                # stops the configuration's load naming this file, not a call at run time.
                # Imported here: class2_quirks imports ProfileError from this module.
                from drivers.class2_quirks import class2_quirks

                class2_quirks(value, source=source)
            sections[key] = MappingProxyType({**sections.get(key, {}), **value})
    changes["sections"] = MappingProxyType(sections)
    changes["source"] = source if profile.source == "built in" else f"{profile.source} + {source}"
    return replace(profile, **changes)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if any(ch in value for ch in "\r\n"):
        raise ValueError(f"{key} must be one line (faxd adds AT and the CR)")
    return value


def _texts(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a string or a list of strings")
    return tuple(_text(item, key) for item in value)


def _flow(value: Any, key: str) -> FlowControl:
    try:
        return FlowControl(value)
    except ValueError:
        raise ValueError(f"{key} is one of {', '.join(f.value for f in FlowControl)}, not {value!r}") from None


def _typed(value: Any, current: Any, key: str) -> Any:
    """Checks a quirk value against the type of its default."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
    elif isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be a whole number")
    elif isinstance(current, str):
        return _text(value, key)
    return value


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ProfileError(f"cannot read modem profile {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None


def profile_dirs(site_dir: Path | None) -> tuple[Path, ...]:
    """Returns where profiles are looked up: the site's directory first, then faxd's."""
    return (site_dir, SHIPPED_DIR) if site_dir is not None else (SHIPPED_DIR,)


def available(site_dir: Path | None = None) -> list[str]:
    """Returns the names of every profile that can be loaded, sorted."""
    names = {
        path.stem for directory in profile_dirs(site_dir) if directory.is_dir() for path in directory.glob("*.toml")
    }
    return sorted(names)


def load_profile(name: str, site_dir: Path | None = None) -> ModemProfile:
    """Returns profile ``name`` with everything it ``extends``; a site's file of the same
    name replaces the shipped one. Raises ``ProfileError``."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    wanted: str | None = name
    while wanted is not None:
        if len(chain) >= _MAX_EXTENDS:
            raise ProfileError(f"modem profile {name!r}: 'extends' loops or is deeper than {_MAX_EXTENDS}")
        path = _find(wanted, site_dir, below=[p for p, _ in chain])
        raw = _read(path)
        chain.append((path, raw))
        parent = raw.get("extends")
        if parent is not None and not isinstance(parent, str):
            raise ProfileError(f"{path}: extends must be the name of another profile")
        wanted = parent
    profile = ModemProfile(name=name)
    for path, raw in reversed(chain):
        profile = apply(profile, raw, source=str(path))
    return replace(profile, name=name)


def _find(name: str, site_dir: Path | None, *, below: Iterable[Path]) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ProfileError(f"{name!r} is not a modem profile name")
    seen = set(below)
    for directory in profile_dirs(site_dir):
        path = directory / f"{name}.toml"
        # A site profile may extend the shipped one of the same name.
        if path.is_file() and path not in seen:
            return path
    if seen and any(path.stem == name for path in seen):
        raise ProfileError(f"modem profile {name!r}: 'extends' loops")
    known = ", ".join(available(site_dir))
    raise ProfileError(f"no modem profile {name!r} (known: {known})")


def match_profile(identification: str, site_dir: Path | None = None) -> ModemProfile | None:
    """Returns the first profile (by name) whose ``match`` strings occur in the modem's
    identification text, or None. For a probe that picks a profile."""
    text = identification.casefold()
    for name in available(site_dir):
        profile = load_profile(name, site_dir)
        if any(needle.casefold() in text for needle in profile.match if needle):
            return profile
    return None
