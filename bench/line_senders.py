"""The two senders of bench/bench_line.py and the messages they send.

Each ``send_with_*`` starts a fresh SpanDSP peer (``tests/interop/spandsp_peer.py``) for
one call, sends one message through it and returns the peer's call record: what the
independent far end saw, including the simulated line time. A call that does not end
with every page received and completion OK raises ``CallFailed``; a benchmark of calls
that did not get through would measure nothing.
"""

from __future__ import annotations

import logging
import subprocess
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from PIL import Image, ImageSequence

from drivers.class1 import Class1Modem
from drivers.modem import CallRequest, Outcome, Station
from drivers.page import FaxPage
from faxd.config import Config, load_config
from faxd.intake import route_document
from faxd.prepare import prepare
from imaging import RenderWorker
from routing.directory import Directory
from routing.errors import RoutingError
from routing.numbers import dial_string
from spool.queue import sidecar_of
from tests.interop.spandsp_peer import SpandspPeer

EFAX_TOOLS = ("gs", "efix", "efax")
#: The peer's CSI where the directory expects no station id for the recipient (fictitious).
DEFAULT_CSI = "+46 40 628 04 99"
#: Generous: at real line pace the efax pipeline takes about 40 s a page.
CALL_TIMEOUT = 600.0


class CallFailed(RuntimeError):
    """A benchmark call did not deliver every page; the message says what the peer saw."""


@dataclass(frozen=True, slots=True)
class Site:
    config: Config
    directory: Directory
    renderer: RenderWorker  # the daemon's render child; close() it when done


@dataclass(frozen=True, slots=True)
class Message:
    """One message as the daemon would send it to one recipient."""

    name: str
    slug: str
    document: Path
    document_pages: int
    recipient: str
    dial: str  # what the modem dials, by the site's dialling rule
    expected_csi: str | None  # the directory's station id for the recipient
    pages: Sequence[FaxPage]  # faxd's transmission: cover sheet first, header on every page


@dataclass(frozen=True, slots=True)
class SentCall:
    record: dict[str, Any]  # the peer's call record

    @property
    def line_seconds(self) -> float:
        return float(self.record["sim_seconds"])

    @property
    def wall_seconds(self) -> float:
        return float(self.record["wall_seconds"])

    @property
    def pages(self) -> int:
        return int(self.record["pages"])


def load_site(config_path: Path) -> Site:
    """Returns the example configuration, its fax directory and a render child (the caller
    closes ``renderer``); quiets the driver's log."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    config = load_config(config_path)
    return Site(config, Directory.load(config.directory), RenderWorker())


def _message(
    document: Path, sidecar: Path | None, name: str, site: Site, sent_at: datetime, archive: Path, min_pages: int = 1
) -> Message | None:
    """Returns the message, or None for a document of fewer than ``min_pages`` pages.
    Raises RoutingError (or DocumentRejected) as the daemon's intake would."""
    routed = route_document(document, sidecar, site.config, site.directory)
    if routed.facts.pages < min_pages:
        return None
    unit = routed.route.recipients[0].unit
    # As the daemon's runner does it: its render child, the pages written to the attempt's
    # archive TIFF and read back from there while the call runs.
    archive.parent.mkdir(parents=True, exist_ok=True)
    transmission = prepare(
        archive=archive,
        config=site.config,
        directory=site.directory,
        document=document,
        document_pages=routed.facts.pages,
        job_id=f"FX-{sent_at:%Y%m%d}-{zlib.crc32(name.encode()) % 100000:05d}",
        message_type=routed.route.message_type.code,
        sender_id=routed.route.sender.id,
        recipient_id=unit.id,
        sent_at=sent_at,
        renderer=site.renderer.render,
    )
    return Message(
        name=name,
        slug=document.stem,
        document=document,
        document_pages=routed.facts.pages,
        recipient=unit.id,
        dial=dial_string(unit, site.config.dial_rule),
        expected_csi=unit.station_id,
        pages=transmission.pages,
    )


def messages_from_forms(
    folder: Path, site: Site, sent_at: datetime, archive: Path, min_pages: int = 2
) -> list[Message]:
    """Returns the multi-page sample forms the routine lets the daemon send, in name order;
    their transmissions are archived under ``archive``."""
    messages = []
    for document in sorted(folder.glob("*.pdf")):
        sidecar = sidecar_of(document)
        try:
            message = _message(
                document,
                sidecar if sidecar.exists() else None,
                document.stem,
                site,
                sent_at,
                archive / f"{document.stem}.tif",
                min_pages=min_pages,
            )
        except RoutingError:
            continue  # e.g. checklista-beslutsstod: never faxed
        if message is not None:
            messages.append(message)
    return messages


def messages_from_corpus(folder: Path, site: Site, sent_at: datetime, archive: Path) -> list[Message]:
    """Returns the corpus discharge-planning form at 2 and 3 pages, routed as the type its title
    reads as (andrad-utskrivning) from a ward (sidecar routing data; the corpus PDFs carry none)."""
    from bench.corpus import discharge_planning

    folder.mkdir(parents=True, exist_ok=True)
    messages = []
    for pages in (2, 3):
        document = folder / f"discharge-planning-{pages}p.pdf"
        document.write_bytes(discharge_planning(pages))
        sidecar = sidecar_of(document)
        sidecar.write_text(
            '{"FaxdType": "andrad-utskrivning", "FaxdSender": "sus-malmo-avd-3",'
            ' "FaxdMunicipality": "kommun-malmo", "FaxdOutpatient": "vc-malmo-centrum",'
            f' "FaxdReference": "BENCH-UTSK-{pages}"}}'
        )
        message = _message(
            document, sidecar, f"corpus discharge-planning {pages}p", site, sent_at, archive / f"{document.stem}.tif"
        )
        assert message is not None
        messages.append(message)
    return messages


def _peer(message: Message, folder: Path, pace: Sequence[str]) -> SpandspPeer:
    # The same options for every sender: only the pace differs between runs, never per sender.
    csi = message.expected_csi or DEFAULT_CSI
    return SpandspPeer(link=folder / "ttyFAX", out=folder / "calls", args=["--csi", csi, *pace])


def _checked(record: dict[str, Any], pages: int, who: str, log: str) -> SentCall:
    if record["pages"] != pages or record["completion_code"] != 0:
        raise CallFailed(
            f"{who}: the peer received {record['pages']} of {pages} pages, "
            f"completion {record['completion_code']} {record['completion_text']}\n{log}"
        )
    return SentCall(record)


def send_with_faxd(message: Message, site: Site, folder: Path, pace: Sequence[str]) -> SentCall:
    """Sends the message's pages through ``Class1Modem`` as the daemon builds it; returns the
    peer's record. Raises CallFailed unless every page arrived pixel for pixel."""
    folder.mkdir(parents=True, exist_ok=True)
    modem_config = site.config.modems[0]
    station = Station(tsi=site.config.station.tsi, header_name=site.config.station.header_name)
    with _peer(message, folder, pace) as peer:
        modem = Class1Modem(
            str(peer.link),
            speed=modem_config.speed,
            station=station,
            name="bench",
        )
        try:
            result = modem.send(
                CallRequest(
                    number=message.dial,
                    pages=message.pages,
                    expected_remote_id=message.expected_csi,
                    policy=replace(modem_config.policy, station_check=site.config.station.check),
                )
            )
        finally:
            modem.close()
        if result.outcome is not Outcome.CONFIRMED:
            raise CallFailed(f"faxd: {result.outcome.value}: {result.reason}\n{peer.log()}")
        record = peer.wait_for_call(1, timeout=CALL_TIMEOUT)
        sent = _checked(record, len(message.pages), "faxd", peer.log())
    with Image.open(record["tiff"]) as tiff:
        received = [np.asarray(frame.convert("1")) == 0 for frame in ImageSequence.Iterator(tiff)]
    for number, (page, got) in enumerate(zip(message.pages, received, strict=True), start=1):
        if not np.array_equal(page.pixels, got):
            raise CallFailed(f"faxd: page {number} of {message.name} arrived with other pixels than were sent")
    return sent


def efax_files(document: Path, folder: Path) -> list[Path]:
    """Converts ``document`` as an administrator's script would: Ghostscript to G3 TIFF,
    then efix to one raw G3 file per page. Returns the files in page order."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "gs",
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=tiffg3",
            "-r204x196",
            f"-sOutputFile={folder / 'page.%03d.tif'}",
            str(document),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    files = []
    for tiff in sorted(folder.glob("page.*.tif")):
        raw = tiff.with_suffix(".g3")
        with open(raw, "wb") as out:
            subprocess.run(
                ["efix", "-i", "tiffg3", "-o", "fax", str(tiff)], stdout=out, stderr=subprocess.DEVNULL, check=True
            )
        files.append(raw)
    return files


def send_with_efax(message: Message, site: Site, folder: Path, pace: Sequence[str]) -> SentCall:
    """Sends the bare document with ``efax -o1`` (Class 1); returns the peer's record.
    Raises CallFailed when efax fails or the peer did not receive every page."""
    files = efax_files(message.document, folder / "efax")
    with _peer(message, folder, pace) as peer:
        started = time.monotonic()
        efax = subprocess.run(
            ["efax", "-d", str(peer.link), "-o1", "-l", site.config.station.tsi, "-t", message.dial, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT,
            check=False,
        )
        if efax.returncode != 0:
            raise CallFailed(
                f"efax exited {efax.returncode} after {time.monotonic() - started:.1f} s:\n"
                f"{efax.stderr[-3000:]}\n--- peer ---\n{peer.log()}"
            )
        record = peer.wait_for_call(1, timeout=CALL_TIMEOUT)
        record["efax_files"] = [str(name) for name in files]  # for the floor: the octets efax sent
        return _checked(record, len(files), "efax", peer.log())
