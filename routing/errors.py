"""The errors of the routing package: one root, three kinds.

``routing`` is pure: it imports the standard library and faxd's error root ``faxerrors``
(which imports nothing), so ``RoutingError`` is a ``FaxError`` like every other refusal. Every
message is a sentence for a person (an operator, a care coordinator), naming the
field, the unit id or the line that is wrong -- never form content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faxerrors import FaxError


class RoutingError(FaxError):
    """Root of everything the routing package raises on purpose."""


class MetadataError(RoutingError):
    """A routing field (``Faxd*``) of a document cannot be read; the message names the key."""


class RouteRefused(RoutingError):
    """The document must not be faxed as it stands; ``reason`` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DirectoryProblem:
    """One problem in the fax directory file: the 1-based line and what is wrong there."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class DirectoryInvalid(RoutingError):
    """The fax directory file cannot be used; ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: Sequence[DirectoryProblem]) -> None:
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the fax directory {path} has {count} {noun}:\n{lines}")
