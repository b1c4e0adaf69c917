"""The ``[class2]`` section of a modem profile: where a family's Class 2 firmware differs.

Modem profiles (TOML, one per family, site-extendable) carry a ``[class2]`` table beside
the Class 1 one; this module reads it into ``Class2Quirks``, which becomes keyword
arguments of ``Class2Modem``. Keys (all optional)::

    [class2]
    init = ["+FBUG=0"]          # commands after +FCLASS (the modem must answer OK or ERROR)
    reversed_bit_order = false  # the firmware wants phase C data last bit first (+FBO/+FBOR 1)
    wait_for_xon = true         # override the class's rule (SP-2388: XON after CONNECT; T.32: none)
    ecm = true                  # false: never ask this firmware for ECM (and so MMR)
    phase_timeout_seconds = 60  # how long +FDT (training) or a post-page exchange may take
    prefer_class = "1"          # for class = "auto": use this class when the modem offers it
    flow_command = "+FLO"       # the DCE flow control command in this class ("" none); by
                                # default Class 2.0/2.1 send +FLO, Class 2 (SP-2388 has none) not

An unknown key or a wrong type is a ``ProfileError`` that names the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

# A bad [class2] section is a modem profile that cannot be used, as a bad [class1] one is:
# one error for both, so whoever reads profiles catches one thing.
from drivers.quirks import ProfileError


@dataclass(frozen=True, slots=True, kw_only=True)
class Class2Quirks:
    init: tuple[str, ...] = ()
    reversed_bit_order: bool = False
    wait_for_xon: bool | None = None
    ecm: bool = True
    phase_timeout_seconds: float = 60.0
    prefer_class: str | None = None
    flow_command: str | None = None  # None: the class's own rule (Dialect.flow_command)

    def driver_options(self) -> dict[str, Any]:
        """Returns the ``Class2Modem`` keyword arguments these quirks set."""
        return {
            "init": self.init,
            "reversed_bit_order": self.reversed_bit_order,
            "wait_for_xon": self.wait_for_xon,
            "phase_timeout": self.phase_timeout_seconds,
        }


_TYPES: dict[str, tuple[type, ...]] = {
    "init": (list,),
    "reversed_bit_order": (bool,),
    "wait_for_xon": (bool,),
    "ecm": (bool,),
    "phase_timeout_seconds": (int, float),
    "prefer_class": (str,),
    "flow_command": (str,),
}


def class2_quirks(section: Mapping[str, Any] | None, *, source: str = "profile") -> Class2Quirks:
    """Returns the quirks in a profile's ``[class2]`` table (None: no quirks).

    Raises ``ProfileError`` naming ``source`` and the key.
    """
    if not section:
        return Class2Quirks()
    known = {field.name for field in fields(Class2Quirks)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in known:
            raise ProfileError(f"{source}: [class2] {key}: unknown key (known: {', '.join(sorted(known))})")
        if type(value) not in _TYPES[key]:  # bool is an int: exact types on purpose
            raise ProfileError(f"{source}: [class2] {key}: must be {' or '.join(t.__name__ for t in _TYPES[key])}")
        if key == "init":
            if not all(isinstance(command, str) for command in value):
                raise ProfileError(f"{source}: [class2] init: a list of AT commands (strings)")
            value = tuple(command.removeprefix("AT").removeprefix("at") for command in value)
        if key == "prefer_class" and value not in ("1", "2", "2.0", "2.1"):
            raise ProfileError(f"{source}: [class2] prefer_class: one of 1, 2, 2.0, 2.1")
        if key == "flow_command" and value not in ("", "+FLO"):
            raise ProfileError(f'{source}: [class2] flow_command: "+FLO" or "" (none)')
        if key == "phase_timeout_seconds" and value <= 0:
            raise ProfileError(f"{source}: [class2] phase_timeout_seconds: must be positive")
        values[key] = float(value) if key == "phase_timeout_seconds" else value
    return Class2Quirks(**values)


__all__ = ["Class2Quirks", "class2_quirks"]
