"""drivers/t30 is the pure T.30 engine: it imports the standard library, itself and the error root only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

T30 = Path(__file__).resolve().parents[2] / "drivers" / "t30"
BANNED_STDLIB = {"asyncio", "time", "socket", "select", "threading", "logging", "os", "subprocess"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path.name}: use absolute imports (drivers.t30....)")
    return names


def test_t30_imports_only_stdlib_and_itself() -> None:
    """Every import in drivers/t30 is drivers.t30.*, faxerrors or a stdlib module without I/O or clock."""
    modules = sorted(T30.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "faxerrors":
                continue  # faxd's error root: imports nothing, so the engine stays pure
            if name.startswith("drivers."):
                assert name.startswith("drivers.t30"), f"{path.name} imports {name}"
                continue
            assert top in sys.stdlib_module_names, f"{path.name} imports non-stdlib {name}"
            assert top not in BANNED_STDLIB, f"{path.name} imports {name}: I/O or clock in the engine"
