"""What every ``faxctl`` command module shares: its errors, the configuration, the
fax directory, the database and a plain table.

``faxd.cli`` turns ``CliError`` into exit status 1 and ``SetupError`` into 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from faxd.audit.wiring import reading_chain
from faxd.config import Config, config_path, load_config
from faxd.store import Store
from faxerrors import FaxError

if TYPE_CHECKING:
    from routing.directory import Directory


class CliError(FaxError):
    """A message for the operator; faxctl prints it and exits 1."""


class SetupError(CliError):
    """The configuration, the fax directory or the database cannot be used: exit status 2,
    as for a configuration error, so scripts tell "fix the set-up" from "this input"."""


def load_directory(config: Config) -> Directory:
    from routing.directory import Directory
    from routing.errors import DirectoryInvalid

    try:
        return Directory.load(config.directory)
    except DirectoryInvalid as exc:
        if len(exc.problems) == 1:
            problem = exc.problems[0]
            where = f"line {problem.line}: " if problem.line else ""
            raise SetupError(f"the fax directory {config.directory}: {where}{problem.message}") from None
        raise SetupError(
            f"the fax directory {config.directory} is not valid ({len(exc.problems)} problems); "
            "`faxctl directory check FILE` lists them"
        ) from None
    except OSError as exc:
        raise SetupError(
            f"the fax directory {config.directory} cannot be read: {exc.strerror or exc}; check paths.directory"
        ) from None


def read_config(args: argparse.Namespace) -> Config:
    return load_config(config_path(args.config))


def reading_store(config: Config) -> Store | None:
    return Store(config.database, reading_chain(config)) if config.database.exists() else None


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
