"""Which keys of a configuration file nobody reads: typos, refused with a suggestion.

A mistyped key (``max_atempts``, ``[retyr]``, ``simulator_sped``) would otherwise be
ignored and the daemon would start on the default the operator meant to change. The set
of known keys is not a second list kept by hand beside the reader: the parsed TOML is
wrapped in `TrackedTable`, which records every key the reader asks for (``get``,
``[]``, ``in``; iterating a table counts as asking for all of its keys). Whatever is in
the file but was never asked for is unknown. A key another module starts reading is
known from then on, with no list to update.

Tables of an array (``[[modem]]``) share one set of known keys: a key read from any
modem table is known in all of them. A table the reader fetched but never looked into
(handed whole to something else) is not checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class TrackedTable(dict[str, Any]):
    """A TOML table that remembers which keys were asked for."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__({key: track(value) for key, value in raw.items()})
        self.asked: set[str] = set()
        self.all_asked = False

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.all_asked = True
        return super().__iter__()

    def keys(self) -> Any:
        self.all_asked = True
        return super().keys()

    def items(self) -> Any:
        self.all_asked = True
        return super().items()

    def values(self) -> Any:
        self.all_asked = True
        return super().values()

    @property
    def looked_into(self) -> bool:
        return self.all_asked or bool(self.asked)


def track(value: Any) -> Any:
    """``value`` with every table in it (also inside arrays) wrapped in `TrackedTable`."""
    if isinstance(value, dict) and not isinstance(value, TrackedTable):
        return TrackedTable(value)
    if isinstance(value, list):
        return [track(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class UnknownKey:
    key: str  # dotted, as in the file: "retry.max_atempts", "modem.0.simulator_sped"
    suggestion: str | None  # the nearest known key in the same table

    def message(self) -> str:
        hint = f"; did you mean `{self.suggestion}`?" if self.suggestion else ""
        return f"[{self.key}] is not a known key{hint}"


def unknown_keys(root: TrackedTable) -> list[UnknownKey]:
    """Every key in ``root`` (recursively) that the reader never asked for, in file order."""
    found: list[UnknownKey] = []
    _walk(root, root.asked, root.all_asked, "", found)
    return found


def nearest(word: str, known: set[str]) -> str | None:
    """The known key closest to ``word``, if any is close enough to be the one meant."""
    matches = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _walk(table: TrackedTable, known: set[str], all_asked: bool, prefix: str, found: list[UnknownKey]) -> None:
    for key, value in dict.items(table):
        dotted = f"{prefix}{key}"
        if not all_asked and key not in known:
            found.append(UnknownKey(dotted, nearest(key, known)))
            continue
        if isinstance(value, TrackedTable):
            if value.looked_into:
                _walk(value, value.asked, value.all_asked, dotted + ".", found)
        elif isinstance(value, list):
            _walk_array(value, dotted, found)


def _walk_array(items: list[Any], dotted: str, found: list[UnknownKey]) -> None:
    tables = [item for item in items if isinstance(item, TrackedTable)]
    if not any(t.looked_into for t in tables):
        return
    # One set of known keys for the whole array: every [[modem]] is read the same way.
    shared: set[str] = set().union(*(t.asked for t in tables))
    all_asked = any(t.all_asked for t in tables)
    for index, item in enumerate(items):
        if isinstance(item, TrackedTable):
            _walk(item, shared, all_asked, f"{dotted}.{index}.", found)
