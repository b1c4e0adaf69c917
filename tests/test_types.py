"""Static checks as tests: mypy --strict, ruff check and ruff format (all configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_packages_pass_mypy_strict() -> None:
    """A type error anywhere in faxd, spool, routing or drivers fails the suite, with mypy's report."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "faxd", "spool", "routing", "drivers", "imaging", "faxerrors"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_rules_pass() -> None:
    """ruff's rule set (pyproject.toml: pyflakes, pycodestyle, import order, bugbear, ...) passes over the whole tree."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    """`ruff format` would change no file: the whole tree keeps one format."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
