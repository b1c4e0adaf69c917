"""A site for queue-runner tests: config, a copy of the sample directory, spool, store,
intake and one runner, on a scripted modem unless a test brings its own."""

from __future__ import annotations

import io
import itertools
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from drivers.fake import FakeModem
from drivers.modem import CallResult, FaxModem
from faxd.audit.wiring import signing_chain
from faxd.config import load_config
from faxd.daemon import DirectoryHolder
from faxd.intake import Intake
from faxd.runner import ModemRunner, WorkSignal
from faxd.store import Store
from spool.folders import SpoolFolders
from tests.faxd.keys import audit_config, ensure_keys

ROOT = Path(__file__).resolve().parents[2]
WARD = "sus-lund-avd-12"
_DROPS = itertools.count(1)


class Site:
    """Config, directory copy, spool, store, intake and one runner on a FakeModem."""

    def __init__(
        self,
        tmp_path: Path,
        script: Iterable[CallResult | Exception] = (),
        open_modem: Callable[[], FaxModem] | None = None,
        max_attempts: int = 2,
        when_not_declared: str = "send",
        modem_keys: str = "",
    ) -> None:
        """``modem_keys``: more TOML lines for the modem's table (its call policy, say)."""
        self.directory_file = tmp_path / "directory.csv"
        shutil.copy(ROOT / "examples" / "directory.csv", self.directory_file)
        config_file = tmp_path / "faxd.toml"
        config_file.write_text(
            '[paths]\nspool = "spool"\nstate = "state"\ndirectory = "directory.csv"\n'
            '[station]\ntsi = "+46 40 628 04 00"\nheader_name = "Test"\ncallback = "040-628 04 00"\n'
            f"[retry]\nmax_attempts = {max_attempts}\ndelay_seconds = 0\nbusy_delay_seconds = 0\nno_answer_delay_seconds = 0\n"
            + audit_config(tmp_path)
            + f'[outage]\nwhen_not_declared = "{when_not_declared}"\n'
            '[[modem]]\nname = "fake0"\ndevice = "/dev/null"\n' + modem_keys
        )
        self.config = load_config(config_file)
        self.folders = SpoolFolders(self.config.spool)
        self.folders.create()
        ensure_keys(tmp_path)
        self.store = Store(self.config.database, signing_chain(self.config))
        self.directory = DirectoryHolder(self.directory_file)
        self.intake = Intake(self.config, self.store, self.folders, self.directory.current)
        self.modem = FakeModem(script=script)
        self.runner = self.new_runner(open_modem or (lambda: self.modem))
        assert self.runner.open()

    def new_runner(self, open_modem: Callable[[], FaxModem], **modem_changes: Any) -> ModemRunner:
        """A runner on this site's store, spool and directory; ``modem_changes`` replace
        fields of the configured modem (``name``, ``device``, ``probe_seconds``...)."""
        return ModemRunner(
            modem_config=replace(self.config.modems[0], **modem_changes),
            open_modem=open_modem,
            config=self.config,
            store=self.store,
            folders=self.folders,
            directory=self.directory.current,
            work=WorkSignal(),
            stopping=threading.Event(),
        )

    def drop(self, name: str, **fields: str) -> list[str]:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4)
        c.drawString(72, 760, "Testformulär")
        # Each drop its own bytes: the same bytes again would be held as a duplicate.
        c.drawString(72, 740, f"{name} #{next(_DROPS)}")
        c.showPage()
        c.setAuthor("test")
        c.save()
        path = self.folders.incoming / name
        path.write_bytes(buf.getvalue())
        (self.folders.incoming / f"{name}.json").write_text(
            "{" + ",".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"
        )
        result = self.intake.take(path)
        assert result is not None and result.quarantine_reason is None, result
        return list(result.job_ids)

    def run_all(self) -> None:
        while self.runner.run_once():
            pass

    def edit_directory(self, old: str, new: str) -> None:
        text = self.directory_file.read_text(encoding="utf-8")
        assert old in text
        self.directory_file.write_text(text.replace(old, new), encoding="utf-8")
        self.directory.reload()

    def remove_unit(self, unit_id: str) -> None:
        """Take a unit out of the directory file and reload it."""
        lines = self.directory_file.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(f"{unit_id},")]
        assert len(kept) == len(lines) - 1, unit_id
        self.directory_file.write_text("".join(kept), encoding="utf-8")
        self.directory.reload()


def admission(site: Site, name: str = "a.pdf") -> list[str]:
    return site.drop(
        name,
        FaxdType="inskrivningsinformation",
        FaxdSender=WARD,
        FaxdMunicipality="kommun-lund",
        FaxdOutpatient="vc-lund-norra",
    )
