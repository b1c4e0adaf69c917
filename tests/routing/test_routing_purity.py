"""routing/ is pure: it imports nothing that does I/O on lines or belongs to the daemon."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "routing"
FORBIDDEN = ("serial", "asyncio", "faxd", "drivers", "spool", "socket", "threading", "subprocess", "structlog")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("path", sorted(ROUTING.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_nothing_forbidden(path: Path) -> None:
    """No module of routing/ imports serial, asyncio, faxd, drivers, spool or other I/O machinery."""
    bad = [m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN]
    assert bad == []


@pytest.mark.parametrize("path", sorted(ROUTING.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_no_relative_escape(path: Path) -> None:
    """Imports inside routing/ are absolute (routing.x) or stdlib, never relative beyond the package."""
    assert [m for m in imported_modules(path) if m.startswith("..")] == []


def test_the_check_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The AST walk sees imports nested in functions too."""
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    import serial.tools\n    from faxd import config\n")
    assert imported_modules(sample) == ["serial.tools", "faxd"]
