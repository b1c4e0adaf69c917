"""``faxctl send``, ``route``, ``directory``, ``render`` and ``preview``: a document into
the spool, and what the daemon would do with one (route it, render it, show a recipient's
pages) without sending anything; the fax directory checked and shown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from faxd.cli_support import CliError, load_directory, print_table, read_config
from faxd.config import Config
from spool.folders import SpoolFolders
from spool.queue import again_marker_of, sidecar_of, write_atomically

if TYPE_CHECKING:
    from faxd.intake import RoutedDocument
    from routing.directory import Directory


# -- send --------------------------------------------------------------------------------


def cmd_send(args: argparse.Namespace) -> int:
    config = read_config(args)
    incoming = SpoolFolders(config.spool).incoming
    if not incoming.is_dir():
        raise CliError(f"the spool folder {incoming} does not exist: start the daemon once, or check paths.spool")
    source = Path(args.file)
    try:
        data = source.read_bytes()
        meta = Path(args.meta).read_bytes() if args.meta else None
    except OSError as exc:
        raise CliError(f"cannot read {exc.filename}: {exc.strerror}") from None
    if meta is not None:
        try:
            json.loads(meta)
        except json.JSONDecodeError as exc:
            raise CliError(f"{args.meta} is not valid JSON: {exc}") from None
    name = source.name if source.suffix.lower() == ".pdf" else source.name + ".pdf"
    target = incoming / name
    counter = 1
    while target.exists() or sidecar_of(target).exists():
        target = incoming / f"{Path(name).stem}-{counter}.pdf"
        counter += 1
    # The sidecar goes in first: the daemon takes the PDF the moment it appears.
    companions: list[Path] = []
    try:
        if meta is not None:
            companions.append(sidecar_of(target))
            write_atomically(companions[-1], meta)
        if args.again:
            # The marker travels with the document: send it even if it is a duplicate.
            companions.append(again_marker_of(target))
            write_atomically(companions[-1], b"sent again on purpose with faxctl send --again\n")
        write_atomically(target, data)
    except OSError as exc:  # a full or read-only spool: the writer keeps its file and tries again
        for companion in companions:
            with contextlib.suppress(OSError):
                companion.unlink(missing_ok=True)
        raise CliError(f"{source} was not queued: cannot write into {incoming}: {exc.strerror}") from None
    print(f"queued {source} as {target}")
    return 0


# -- route, directory -------------------------------------------------------------------


def _sidecar_for(file: Path, meta: str | None) -> Path | None:
    if meta:
        return Path(meta)
    beside = sidecar_of(file)
    return beside if beside.exists() else None


def _dry_route(args: argparse.Namespace) -> tuple[Config, Directory, RoutedDocument | str]:
    """Check and route ``args.file`` as the daemon would: the route, or why it is refused."""
    from faxd.intake import route_document
    from routing.errors import RoutingError
    from spool.inspection import DocumentRejected

    config = read_config(args)
    directory = load_directory(config)
    file = Path(args.file)
    try:
        return config, directory, route_document(file, _sidecar_for(file, args.meta), config, directory)
    except (DocumentRejected, RoutingError) as exc:
        return config, directory, str(exc)


def cmd_route(args: argparse.Namespace) -> int:
    _, directory, routed = _dry_route(args)
    if isinstance(routed, str):
        if args.json:
            json.dump(
                {"refused": True, "reason": routed, "directory_version": directory.version},
                sys.stdout,
                ensure_ascii=False,
                indent=2,
            )
            print()
        else:
            print(f"refused: {routed}")
        return 1
    chosen = routed.route
    recipients = [
        {
            "id": r.unit.id,
            "name": r.unit.name,
            "number": r.unit.fax_display,
            "dial": r.unit.fax,
            "roles": [role.value for role in r.roles],
            "rule": r.rule,
        }
        for r in chosen.recipients
    ]
    if args.json:
        json.dump(
            {
                "refused": False,
                "message_type": chosen.message_type.code,
                "sender": chosen.sender.id,
                "priority": chosen.priority,
                "pages": routed.facts.pages,
                "directory_version": directory.version,
                "recipients": recipients,
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
        return 0
    print(f"type:      {chosen.message_type.code} ({chosen.message_type.swedish_name})")
    print(f"sender:    {chosen.sender.id} ({chosen.sender.name})")
    print(f"pages:     {routed.facts.pages} + cover sheet")
    print(f"priority:  {chosen.priority}")
    print(f"directory: version {directory.version}")
    print_table(
        [(r["id"], r["name"], r["number"], ",".join(r["roles"]), r["rule"]) for r in recipients],
        ("recipient", "name", "fax", "roles", "rule"),
    )
    return 0


def cmd_directory_check(args: argparse.Namespace) -> int:
    from routing.directory import Directory
    from routing.errors import DirectoryInvalid

    try:
        directory = Directory.load(Path(args.file))
    except DirectoryInvalid as exc:
        print(f"{args.file}: NOT valid\n{exc}")
        return 1
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    print(f"{args.file}: valid, {len(directory.units)} units, version {directory.version}")
    return 0


def cmd_directory_show(args: argparse.Namespace) -> int:
    directory = load_directory(read_config(args))
    units = list(directory.units.values())
    if args.id:
        unit = directory.get(args.id)
        if unit is None:
            raise CliError(f"no unit {args.id!r} in the fax directory (version {directory.version})")
        units = [unit]
    print_table(
        [(u.id, u.name, u.kind.value, u.municipality or "", u.fax_display, u.station_id or "") for u in units],
        ("id", "name", "kind", "municipality", "fax", "station id"),
    )
    return 0


# -- render, preview ---------------------------------------------------------------------


def cmd_render(args: argparse.Namespace) -> int:
    from drivers.page import Resolution
    from imaging import DocumentRenderError, render_pdf, write_tiff

    resolution = Resolution[args.resolution.upper()]
    try:
        pages = list(render_pdf(Path(args.file), resolution=resolution))
    except DocumentRenderError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    write_tiff(pages, Path(args.output), coding=args.coding)
    print(f"wrote {len(pages)} pages to {args.output} ({args.coding.upper()}, {resolution.name.lower()})")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from faxd.prepare import transmission_pages
    from faxd.store import now_utc
    from imaging import DocumentRenderError, write_pdf, write_png

    config, directory, routed = _dry_route(args)
    file = Path(args.file)
    if isinstance(routed, str):
        raise CliError(f"{file}: would be refused: {routed}")
    try:
        recipients = [r.unit.id for r in routed.route.recipients]
        recipient = args.recipient or recipients[0]
        if recipient not in recipients:
            raise CliError(f"{recipient} is not a recipient of this document; its recipients: {', '.join(recipients)}")
        pages = list(
            transmission_pages(
                config=config,
                directory=directory,
                document=file,
                document_pages=routed.facts.pages,
                job_id="FX-PREVIEW",
                message_type=routed.route.message_type.code,
                sender_id=routed.route.sender.id,
                recipient_id=recipient,
                sent_at=now_utc().astimezone(),
            )
        )
    except DocumentRenderError as exc:
        raise CliError(f"{file}: would be refused: {exc}") from None
    output = Path(args.output)
    if output.suffix.lower() == ".png":
        written = write_png(pages, output)
    else:
        written = write_pdf(pages, output)
    print(
        f"preview for {recipient}: {len(pages)} pages (cover sheet included) -> " + ", ".join(str(p) for p in written)
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``faxctl send``, ``route``, ``directory ...``, ``render`` and ``preview``; each
    parser's ``func`` takes (args)."""
    p = sub.add_parser("send", help="put a PDF into the spool (written, then renamed in)")
    p.add_argument("file")
    p.add_argument("--meta", help="a JSON sidecar with the Faxd* routing fields")
    p.add_argument(
        "--again",
        action="store_true",
        help="send it even if the same document was queued or sent recently (not held as a duplicate)",
    )
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("route", help="dry run: who would get this document, by which rule, or why it is refused")
    p.add_argument("file")
    p.add_argument("--meta", help="sidecar JSON (default: FILE.json beside the PDF, if present)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_route)

    directory = sub.add_parser("directory", help="the fax directory").add_subparsers(dest="dir_command", required=True)
    p = directory.add_parser("check", help="validate a directory CSV and list every problem with its line")
    p.add_argument("file")
    p.set_defaults(func=cmd_directory_check)
    p = directory.add_parser("show", help="the units of the configured directory")
    p.add_argument("id", nargs="?")
    p.set_defaults(func=cmd_directory_show)

    p = sub.add_parser("render", help="a PDF's pages as a multi-page TIFF Class F (no cover sheet)")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--resolution", choices=("fine", "normal"), default="fine")
    p.add_argument("--coding", choices=("mh", "mr", "mmr"), default="mh")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("preview", help="exactly what a recipient would get: cover sheet, headers, pages")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, help="OUT.pdf, or OUT.png (one PNG per page)")
    p.add_argument("--meta", help="sidecar JSON (default: FILE.json beside the PDF, if present)")
    p.add_argument("--recipient", help="directory id of the recipient to preview for (default: the first)")
    p.set_defaults(func=cmd_preview)
