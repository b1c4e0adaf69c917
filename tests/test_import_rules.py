"""What each package may import: the walls of ARCHITECTURE.md, checked on every module.

A module's rule is the one of the most specific package it is in (``drivers.t30`` before
``drivers``). A rule lists the first-party packages the module may import, whether it may
import anything outside the standard library, and the standard-library modules it may
not touch (I/O and the clock, for the pure packages). Imports nested in functions count.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("faxd", "drivers", "routing", "spool", "imaging", "faxerrors")
#: What a pure package may not use from the standard library: ports, processes, threads,
#: the clock and logging belong to the driver and the daemon (the engine takes time as events).
IO_AND_CLOCK = frozenset(
    {"asyncio", "time", "socket", "select", "selectors", "threading", "logging", "os", "subprocess"}
)


@dataclass(frozen=True)
class Rule:
    may_import: tuple[str, ...]  # first-party packages or modules (prefixes)
    third_party: bool = True  # anything outside the standard library and faxd's packages
    banned_stdlib: frozenset[str] = frozenset()
    banned: tuple[str, ...] = ()  # first-party prefixes refused although a broader one is allowed
    why: str = ""


RULES: dict[str, Rule] = {
    "faxerrors": Rule((), third_party=False, why="the error root imports nothing, so every package may import it"),
    "drivers.t30": Rule(
        ("drivers.t30", "faxerrors"),
        third_party=False,
        banned_stdlib=IO_AND_CLOCK,
        why="the sans-IO T.30 engine: no port, no clock, no other driver code",
    ),
    "routing": Rule(
        ("routing", "faxerrors"),
        third_party=False,
        banned_stdlib=IO_AND_CLOCK - {"os"},
        why="pure routing decisions: reads its tables and the directory file, nothing else",
    ),
    "drivers.t4": Rule(("drivers.t4", "faxerrors"), why="page codecs: bytes and pixels only"),
    "drivers.simulator": Rule(
        ("drivers", "faxerrors"),
        banned=("drivers.t30", "drivers.class1", "drivers.at_link"),
        why="the simulated line is an independent T.30 peer: sharing the engine would prove nothing",
    ),
    "drivers": Rule(
        ("drivers", "faxerrors"),
        banned=("drivers.simulator",),
        why="modem drivers know nothing of the daemon, the spool or routing; the simulator is a peer",
    ),
    "imaging": Rule(
        ("imaging", "drivers.page", "drivers.t4", "faxerrors"),
        why="PDFs to fax pages: knows the page type and the codecs, nothing of the daemon",
    ),
    "spool": Rule(
        # faxd.redact (stdlib only) masks identity numbers in anything that leaves the process;
        # imaging.limits gives the inspection the same page and size limits as the renderer.
        ("spool", "routing.metadata", "faxd.redact", "imaging.limits", "faxerrors"),
        why="takes files in; the document contract, the redaction and the render limits only",
    ),
    "faxd": Rule(FIRST_PARTY, why="the daemon puts the others together"),
}


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def rule_for(path: Path) -> Rule:
    """Returns the rule of the most specific package ``path`` is in."""
    package = _package_of(path)
    for name in sorted(RULES, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            return RULES[name]
    raise AssertionError(f"{path.relative_to(ROOT)} is in no package with an import rule")


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, nested imports included; relative ones with their dots."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def violations(path: Path, rule: Rule | None = None) -> list[str]:
    """Returns the imports of ``path`` its package's rule (or ``rule``) refuses, each with why."""
    rule = rule or rule_for(path)
    found = []
    for name in imported_modules(path):
        top = name.split(".")[0]
        if name.startswith("."):
            # lazy_loader reads imaging's stub, which must use relative imports.
            if path.name != "__init__.pyi":
                found.append(f"{name}: use absolute imports")
        elif top in FIRST_PARTY:
            if not any(name == p or name.startswith(p + ".") for p in rule.may_import):
                found.append(f"{name}: not among {rule.may_import}")
            elif any(name == p or name.startswith(p + ".") for p in rule.banned):
                found.append(f"{name}: refused ({rule.why})")
        elif top in sys.stdlib_module_names:
            if top in rule.banned_stdlib:
                found.append(f"{name}: I/O or clock ({rule.why})")
        elif not rule.third_party:
            found.append(f"{name}: outside the standard library ({rule.why})")
    return found


MODULES = sorted(p for package in FIRST_PARTY for p in (ROOT / package).rglob("*.py*") if p.suffix in (".py", ".pyi"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_keeps_its_package_import_rule(path: Path) -> None:
    """No module imports what its package's rule refuses."""
    assert violations(path) == []


def test_every_package_is_walked() -> None:
    """The walk reaches the modules of every package and sub-package that has a rule."""
    packages = {_package_of(path) for path in MODULES}
    assert set(RULES) <= packages


def test_the_check_catches_what_it_should(tmp_path: Path) -> None:
    """Forbidden imports nested in a function are caught: the clock, a library, the daemon, relative."""
    sample = tmp_path / "m.py"
    sample.write_text(
        "def f():\n    import time\n    import serial.tools\n    from faxd import config\n    from . import x\n"
    )
    assert imported_modules(sample) == ["time", "serial.tools", "faxd", "."]
    assert len(violations(sample, RULES["drivers.t30"])) == 4
    assert rule_for(ROOT / "drivers" / "t30" / "engine.py") is RULES["drivers.t30"]
    assert rule_for(ROOT / "drivers" / "class1.py") is RULES["drivers"]
    assert rule_for(ROOT / "faxd" / "store" / "queue.py") is RULES["faxd"]
