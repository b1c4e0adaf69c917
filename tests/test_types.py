"""Static checks as tests: mypy --strict and ruff (both configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_packages_pass_mypy_strict() -> None:
    """A type error anywhere in faxd, spool, routing or drivers fails the suite, with mypy's report."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "faxd", "spool", "routing", "drivers", "imaging", "faxerrors"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_unused_or_undefined_names() -> None:
    """ruff's pyflakes rules pass over the code, the tests and the benchmarks."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "faxd", "spool", "routing", "drivers", "imaging", "faxerrors", "tests", "bench", "examples"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
