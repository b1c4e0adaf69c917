"""One error root: every exception faxd raises on purpose is a ``FaxError``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from faxerrors import FaxError

PACKAGES = ("faxd", "drivers", "routing", "spool", "imaging")


def _public_exceptions() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                    and not name.startswith("_")  # private control flow that never leaves its module
                ):
                    found.append(value)
    return found


def test_the_walk_finds_the_known_branches() -> None:
    """The walk sees errors of every package, so the check below is not vacuous."""
    names = {cls.__name__ for cls in _public_exceptions()}
    assert {"ModemUnavailable", "RoutingError", "ConfigError", "DocumentRejected", "RemoteProtocolError"} <= names


@pytest.mark.parametrize("cls", _public_exceptions(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_public_exception_is_a_fax_error(cls: type[BaseException]) -> None:
    """A public exception class defined in faxd, drivers, routing, spool or imaging derives from FaxError."""
    assert issubclass(cls, FaxError)
