"""Modem detection: ask a modem what it is and which fax classes it speaks.

``probe_modem`` sends ``ATI0``..``ATI3`` (identification; some firmware prints pages for
higher numbers, so we stop at 3), ``AT+FCLASS=?`` (the classes), and for each fax class
the capability queries of that class: ``+FTM=?`` (Class 1 rates), ``+FDCC=?`` with
``+FMFR?``/``+FMDL?``/``+FREV?`` (Class 2), ``+FCC=?`` with ``+FMI?``/``+FMM?``/``+FMR?``
(Class 2.0, 2.1). It leaves the modem in data class 0 (``+FCLASS=0``, V.250's default).

``class = "auto"`` picks by ``PREFERENCE``: Class 1 first, because then faxd runs T.30
itself (error correction under its control, every frame in the trace, the same engine
the SpanDSP tests prove), then 2.1, 2.0 (both T.32, the standard) and last 2 (the
pre-standard SP-2388 draft, where firmware differs most). A quirk profile can say a
family is better used in another class (``prefer_class``): the report names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from drivers.at_codec import ResultCode
from drivers.at_link import T31Link
from drivers.class2_dialect import DIALECTS
from drivers.class2_quirks import class2_quirks
from drivers.port import DriverError, SerialPort
from drivers.quirks import FlowControl, match_profile

#: The order ``class = "auto"`` prefers; see the module docstring.
PREFERENCE = ("1", "2.1", "2.0", "2")
IDENTIFICATION = ("I0", "I1", "I2", "I3")


@dataclass(frozen=True, slots=True)
class ClassReport:
    """What the modem says in one fax class."""

    fax_class: str
    capabilities: str | None  # +FTM=? (Class 1) or +FDCC=?/+FCC=? (Class 2)
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class ProbeReport:
    device: str
    identification: dict[str, str] = field(default_factory=dict)  # "I0" -> its answer
    classes: tuple[str, ...] = ()  # the +FCLASS=? answer, fax classes and 0
    details: tuple[ClassReport, ...] = ()
    preferred: str | None = None  # what class = "auto" uses
    quirk_profile: str | None = None  # the profile the identification matches, if any

    def identity_text(self) -> str:
        """Returns everything the modem said about itself, for matching profiles."""
        parts = [*self.identification.values()]
        for detail in self.details:
            parts += [value for value in (detail.manufacturer, detail.model, detail.revision) if value]
        return " ".join(parts)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def text(self) -> str:
        lines = [f"modem on {self.device}"]
        for command, answer in self.identification.items():
            lines.append(f"  AT{command}: {answer}")
        lines.append(f"  classes: {', '.join(self.classes) or '(none: not a fax modem?)'}")
        for detail in self.details:
            who = " / ".join(v for v in (detail.manufacturer, detail.model, detail.revision) if v)
            lines.append(f"  Class {detail.fax_class}: {detail.capabilities or '-'}" + (f"  ({who})" if who else ""))
        lines.append(f'  class = "auto" uses: {self.preferred or "(no fax class faxd drives)"}')
        lines.append(f"  quirk profile: {self.quirk_profile or '(none matches; generic)'}")
        return "\n".join(lines)


def parse_classes(text: str) -> tuple[str, ...]:
    """Returns the classes in a ``+FCLASS=?`` answer: "0,1,2,2.0", "(0,1,2.0)", "0,1,1.0,2"."""
    return tuple(item for item in re.split(r"[,()\s]+", text) if re.fullmatch(r"\d+(\.\d+)?", item))


def choose_class(classes: tuple[str, ...], prefer: str | None = None) -> str | None:
    """Returns the class to use: ``prefer`` (a quirk profile's) if offered, else by
    ``PREFERENCE``; None if the modem offers no fax class faxd drives."""
    order = ((prefer,) if prefer else ()) + PREFERENCE
    return next((fax_class for fax_class in order if fax_class in classes), None)


def probe_modem(
    device: str,
    *,
    speed: int = 115200,
    command_timeout: float = 3.0,
    profile_for: Callable[[str], tuple[str | None, str | None]] | None = None,
) -> ProbeReport:
    """Returns what the modem on ``device`` says it is and can do. ``profile_for`` maps
    the identification text to (quirk profile name, the class it prefers).

    Raises ``DriverError`` when the port cannot be opened or the modem does not answer.
    """
    port = SerialPort(device, speed=speed, flow_control=FlowControl.NONE)
    try:
        port.discard_input()
        link = T31Link(port, command_timeout=command_timeout)
        link.command("")  # a modem that does not answer AT raises ModemTimeout here
        link.command("E0V1")
        identification = {}
        for command in IDENTIFICATION:
            if link.command(command).code is ResultCode.OK and link.info:
                identification[command] = " ".join(link.info)
        classes: tuple[str, ...] = ()
        if link.command("+FCLASS=?").code is ResultCode.OK and link.info:
            classes = parse_classes(link.info[-1])
        details = tuple(_class_details(link, fax_class) for fax_class in classes if fax_class in PREFERENCE)
        link.command("+FCLASS=0")
    finally:
        port.close()
    report = ProbeReport(device=device, identification=identification, classes=classes, details=details)
    profile, prefer = (profile_for or _shipped_profile)(report.identity_text())
    return ProbeReport(
        device=device,
        identification=identification,
        classes=classes,
        details=details,
        preferred=choose_class(classes, prefer),
        quirk_profile=profile,
    )


def profile_lookup(site_dir: Path | None = None) -> Callable[[str], tuple[str | None, str | None]]:
    """Returns a ``profile_for`` for ``probe_modem``: the profile (a site's in ``site_dir``
    first, then faxd's) whose ``match`` occurs in the identification, and its preferred class."""

    def lookup(identification: str) -> tuple[str | None, str | None]:
        profile = match_profile(identification, site_dir)
        if profile is None:
            return None, None
        return profile.name, class2_quirks(profile.sections.get("class2"), source=profile.source).prefer_class

    return lookup


_shipped_profile = profile_lookup()


def _class_details(link: T31Link, fax_class: str) -> ClassReport:
    if link.command(f"+FCLASS={fax_class}").code is not ResultCode.OK:
        return ClassReport(fax_class, None)
    if fax_class == "1":
        return ClassReport(fax_class, _answer(link, "+FTM=?"))
    dialect = DIALECTS[fax_class]
    who = [_answer(link, query) for query in dialect.identity]
    return ClassReport(fax_class, _answer(link, f"{dialect.capabilities}=?"), *who)


def _answer(link: T31Link, command: str) -> str | None:
    try:
        result = link.command(command)
    except DriverError:
        return None
    if result.code is not ResultCode.OK or not link.info:
        return None
    return " ".join(line.strip().strip('"') for line in link.info)


def detect_class(device: str, speed: int = 115200, prefer: str | None = None) -> str:
    """Returns the class ``class = "auto"`` uses on ``device`` (see ``PREFERENCE``).

    ``prefer``: the configured profile's ``prefer_class``, if any. Raises
    ``ModemUnavailable`` when the modem cannot be probed or offers no fax class faxd drives.
    """
    from drivers.modem import ModemUnavailable

    try:
        report = probe_modem(device, speed=speed)
    except DriverError as exc:
        raise ModemUnavailable(f"cannot detect the fax class of the modem{exc.where(device)}: {exc}") from exc
    if prefer is not None and prefer in report.classes:
        return prefer
    if report.preferred is None:
        raise ModemUnavailable(
            f"the modem on {device} offers no fax class faxd drives (+FCLASS=? says {report.classes})"
        )
    return report.preferred


__all__ = [
    "PREFERENCE",
    "ClassReport",
    "ProbeReport",
    "choose_class",
    "detect_class",
    "parse_classes",
    "probe_modem",
    "profile_lookup",
]
