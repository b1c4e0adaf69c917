"""The hostile-input corpus: every case is made by code here, nothing is committed as a
binary. ``python -m tests.hostile.corpus DIR`` writes the file cases into DIR/incoming
(the spool-entry cases need a live spool and are made by the test).

A case puts one or more entries into ``incoming`` (and may use ``outside``, a folder
beside the spool, to prove nothing outside is read or changed) and says what must become
of it: ``quarantined`` with a reason matching ``reason``, ``routed`` (a harmless oddity
that is faxed), or ``ignored`` (left where it is, untouched, not blocking anything).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile import pdfbytes as pb

# A fictitious personnummer and samordningsnummer (day + 60), and a name: they must
# never reach a reason, the journal or faxctl.
PNR = "19121212-1212"
SNR = "191212721212"
NAME = "Tolvan Tolvansson"

GOOD_SIDECAR = {
    "FaxdType": "inskrivningsinformation",
    "FaxdSender": "sus-lund-avd-12",
    "FaxdMunicipality": "kommun-lund",
    "FaxdOutpatient": "vc-lund-norra",
}


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Path], None]  # (incoming, outside)
    expect: str  # "quarantined", "routed", "ignored"; "handled": quarantined or routed (recoverable damage)
    reason: str = ""  # a word or phrase the reason must contain (case-insensitive); "" any
    entry: bool = False  # a spool-entry case (links, pipes...): not written by the script
    tags: tuple[str, ...] = field(default=())


def _file(name: str, data: bytes, sidecar: object | None = None, raw_sidecar: bytes | None = None):  # type: ignore[no-untyped-def]
    def make(incoming: Path, _outside: Path) -> None:
        if raw_sidecar is not None:
            (incoming / (name + ".json")).write_bytes(raw_sidecar)
        elif sidecar is not None:
            (incoming / (name + ".json")).write_text(json.dumps(sidecar), encoding="utf-8")
        (incoming / name).write_bytes(data)

    return make


GOOD_PDF = pb.simple(info=pb.routing_info())
PLAIN_PDF = pb.simple()


def _pdf_cases() -> list[Case]:
    s = pb.stream
    cycle = pb.pdf(
        [
            pb.CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
        ],
        info=pb.routing_info(),
    )
    parent_cycle = pb.pdf(
        [
            pb.CATALOG,
            b"<< /Type /Pages /Parent 3 0 R /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ],
        info=pb.routing_info(),
    )
    nested = b"[" * 50_000 + b"]" * 50_000
    return [
        Case("empty.pdf", _file("empty.pdf", b""), "quarantined", "empty"),
        Case("text.pdf", _file("text.pdf", b"just some text\n" * 10), "quarantined", "not a PDF"),
        Case("png.pdf", _file("png.pdf", b"\x89PNG\r\n\x1a\n" + bytes(200)), "quarantined", "not a PDF"),
        Case("header-only.pdf", _file("header-only.pdf", b"%PDF-1.7\n"), "quarantined", ""),
        Case("truncated.pdf", _file("truncated.pdf", GOOD_PDF[: len(GOOD_PDF) // 2]), "quarantined", ""),
        Case("truncated-10.pdf", _file("truncated-10.pdf", GOOD_PDF[:10]), "quarantined", ""),
        Case(
            "corrupt-xref.pdf",
            _file("corrupt-xref.pdf", GOOD_PDF.replace(b"xref\n0 ", b"xref\n7 ").replace(b" 00000 n", b" 9999 x")),
            "handled",  # the reader rebuilds the table from the objects, as viewers do
            "",
        ),
        Case("no-xref.pdf", _file("no-xref.pdf", pb.simple().replace(b"xref", b"xxxx")), "quarantined", ""),
        Case("pages-cycle.pdf", _file("pages-cycle.pdf", cycle), "quarantined", ""),
        Case("parent-cycle.pdf", _file("parent-cycle.pdf", parent_cycle), "quarantined", ""),
        Case(
            "lying-length.pdf",
            _file(
                "lying-length.pdf",
                pb.pdf(
                    [
                        pb.CATALOG,
                        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        s(b"BT ET", length=10**12),
                    ]
                ),
            ),
            "quarantined",
            "",
        ),
        Case(
            "unknown-filter.pdf",
            _file(
                "unknown-filter.pdf",
                pb.pdf(
                    [
                        pb.CATALOG,
                        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        s(b"garbage", b" /Filter /NoSuchDecode"),
                    ],
                    info=pb.routing_info(),
                ),
            ),
            "quarantined",
            "",
        ),
        Case(
            "encrypted-unknown-handler.pdf",
            _file(
                "encrypted-unknown-handler.pdf",
                pb.pdf(
                    [pb.CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>", b"<< /Filter /FooSecurity /V 9 /R 9 >>"],
                    trailer_extra=b" /Encrypt 3 0 R /ID [<00> <00>]",
                ),
            ),
            "quarantined",
            "encrypt",
        ),
        Case(
            "encrypted-password.pdf", _file("encrypted-password.pdf", _encrypted("hemligt")), "quarantined", "password"
        ),
        Case(
            "encrypted-aes256-handmade.pdf",
            _file(
                "encrypted-aes256-handmade.pdf",
                pb.pdf(
                    [
                        pb.CATALOG,
                        b"<< /Type /Pages /Kids [] /Count 0 >>",
                        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <"
                        + b"11" * 48
                        + b"> /U <"
                        + b"22" * 48
                        + b"> /OE <"
                        + b"33" * 32
                        + b"> /UE <"
                        + b"44" * 32
                        + b"> /Perms <"
                        + b"55" * 16
                        + b"> >>",
                    ],
                    trailer_extra=b" /Encrypt 3 0 R /ID [<00> <00>]",
                ),
            ),
            "quarantined",
            "",
        ),
        Case(
            "javascript.pdf",
            _file(
                "javascript.pdf",
                pb.simple(
                    info=pb.routing_info(),
                    catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
                ),
            ),
            "quarantined",
            "JavaScript",
        ),
        Case(
            "javascript-names.pdf",
            _file(
                "javascript-names.pdf",
                pb.simple(
                    info=pb.routing_info(),
                    catalog=b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [] >> >> >>",
                ),
            ),
            "quarantined",
            "JavaScript",
        ),
        Case(
            "embedded-file.pdf",
            _file(
                "embedded-file.pdf",
                pb.simple(
                    info=pb.routing_info(),
                    catalog=b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [] >> >> >>",
                ),
            ),
            "quarantined",
            "attached",
        ),
        Case(
            "10000-pages.pdf",
            _file("10000-pages.pdf", pb.simple(pages=10_000, info=pb.routing_info())),
            "quarantined",
            "pages",
        ),
        Case(
            "no-pages.pdf",
            _file("no-pages.pdf", pb.pdf([pb.CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"])),
            "quarantined",
            "no pages",
        ),
        Case(
            "giant-page.pdf",
            _file("giant-page.pdf", pb.simple(media=b"[0 0 14400 14400]", info=pb.routing_info())),
            "quarantined",
            "larger than the limit",
        ),
        Case(
            "zero-page.pdf",
            _file("zero-page.pdf", pb.simple(media=b"[0 0 0 0]", info=pb.routing_info())),
            "quarantined",
            "too small",
        ),
        Case(
            "nan-page.pdf",
            _file("nan-page.pdf", pb.simple(media=b"[0 0 1e999 5]", info=pb.routing_info())),
            "quarantined",
            "",
        ),
        Case(
            "flate-bomb.pdf",
            _file(
                "flate-bomb.pdf",
                pb.pdf(
                    [
                        pb.CATALOG,
                        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                        s(pb.flate_zeros(160 << 20), b" /Filter /FlateDecode"),
                    ],
                    info=pb.routing_info(),
                ),
            ),
            "quarantined",
            "limit",
        ),
        Case(
            "xmp-bomb.pdf",
            _file(
                "xmp-bomb.pdf",
                pb.simple(
                    info=pb.routing_info(),
                    catalog=b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>",
                    extra_objects=[
                        s(pb.flate_zeros(160 << 20), b" /Type /Metadata /Subtype /XML /Filter /FlateDecode")
                    ],
                ),
            ),
            "quarantined",
            "limit",
        ),
        Case(
            "deeply-nested.pdf",
            _file(
                "deeply-nested.pdf",
                pb.pdf(
                    [
                        pb.CATALOG,
                        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /X " + nested + b" >>",
                    ],
                    info=pb.routing_info(),
                ),
            ),
            "quarantined",
            "",
        ),
        Case("missing-font.pdf", _file("missing-font.pdf", pb.simple(font=False, info=pb.routing_info())), "routed"),
        Case("no-routing.pdf", _file("no-routing.pdf", PLAIN_PDF), "quarantined", "Faxd"),
        Case(
            "title-with-identity.pdf",
            _file(
                "title-with-identity.pdf",
                pb.simple(info=b"<< /Title " + pb.text(f"{NAME} {PNR}") + b" >>")[:-40],
            ),
            "quarantined",
            "",
            tags=("identity",),
        ),
        Case(
            "reference-is-identity.pdf",
            _file("reference-is-identity.pdf", pb.simple(info=pb.routing_info(FaxdReference=SNR))),
            "quarantined",
            "Reference",
            tags=("identity",),
        ),
        Case(
            "damaged-bytes-with-identity.pdf",
            _file(
                "damaged-bytes-with-identity.pdf",
                b"%PDF-1.4\n1 0 obj << /Title (" + f"{NAME} {PNR}".encode() + b") /Broken " + b"\x00" * 50 + b"\n%%EOF",
            ),
            "quarantined",
            "",
            tags=("identity",),
        ),
        Case(
            "control-in-metadata.pdf",
            _file("control-in-metadata.pdf", pb.simple(info=pb.routing_info(FaxdSender="sus-lund\x07\n-avd-12"))),
            "quarantined",
            "control",
        ),
        Case(
            "long-metadata.pdf",
            _file("long-metadata.pdf", pb.simple(info=pb.routing_info(FaxdReference="R" * 100_000))),
            "quarantined",
            "longer",
        ),
        Case("good.pdf", _file("good.pdf", GOOD_PDF), "routed"),
    ]


def _encrypted(password: str, algorithm: str = "RC4-128") -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(password, algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _sidecar_cases() -> list[Case]:
    def side(name: str, value: object, expect: str = "quarantined", reason: str = "", **kw: object) -> Case:
        data = dict(GOOD_SIDECAR)
        if isinstance(value, dict):
            data.update(value)
        return Case(name, _file(name, PLAIN_PDF, sidecar=data if isinstance(value, dict) else value), expect, reason)

    def raw(name: str, content: bytes, reason: str = "") -> Case:
        return Case(name, _file(name, PLAIN_PDF, raw_sidecar=content), "quarantined", reason)

    deep = b'{"FaxdType": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    return [
        side("sc-good.pdf", {}, "routed"),
        side("sc-newline.pdf", {"FaxdReference": "INSK\n2026"}, reason="control"),
        side("sc-control.pdf", {"FaxdSender": "sus-lund-avd-12\x1b[31m"}, reason="control"),
        side("sc-nul.pdf", {"FaxdReference": "A\x00B"}, reason="control"),
        side("sc-long-value.pdf", {"FaxdReference": "x" * 5000}, reason="longer"),
        side("sc-long-reference.pdf", {"FaxdReference": "x" * 200}, reason="longer"),
        side("sc-5000-ids.pdf", {"FaxdAlso": [f"vc-{i}" for i in range(5_000)]}, reason="more than"),
        raw("sc-10mb.pdf", b'{"FaxdReference": "' + b"x" * (10 << 20) + b'"}', "limit"),
        side("sc-traversal.pdf", {"FaxdSender": "../../../etc/passwd"}, reason="unit id"),
        side("sc-traversal-list.pdf", {"FaxdAlso": ["../outside", "/etc/shadow"]}, reason="unit id"),
        side("sc-number-type.pdf", {"FaxdType": 3.5}, reason="number"),
        side("sc-object-type.pdf", {"FaxdSender": {"id": "x"}}, reason="object"),
        side("sc-bool-type.pdf", {"FaxdWard": True}, reason="true/false"),
        side("sc-list-of-numbers.pdf", {"FaxdAlso": [1, 2]}, reason="text"),
        side("sc-huge-int.pdf", {"FaxdReference": 10**30}, reason="too large"),
        raw("sc-huger-int.pdf", b'{"FaxdReference": ' + b"9" * 5000 + b"}", "JSON"),
        raw("sc-deep.pdf", deep, "nested"),
        raw("sc-lone-surrogate.pdf", b'{"FaxdReference": "A\\ud800B"}', "Unicode"),
        raw("sc-not-utf8.pdf", b'{"FaxdReference": "\xff\xfe"}', "UTF-8"),
        raw("sc-array.pdf", b'["FaxdType"]', "object"),
        raw("sc-not-json.pdf", b"FaxdType=sip", "JSON"),
        raw("sc-empty.pdf", b"", "JSON"),
        side(
            "sc-unknown-id.pdf",
            {"FaxdMunicipality": "kommun-atlantis"},
            reason="unknown recipient (FaxdMunicipality): not in the fax directory",
        ),
        side("sc-short-keys.pdf", {"Type": "sip", "Sender": "x"}, reason="unknown field"),
        side("sc-identity-key.pdf", {PNR: "x"}, reason="unknown field"),
        side("sc-identity-value.pdf", {"FaxdSender": f"{NAME} {PNR}"}, reason="identity number"),
        side("sc-type-one.pdf", {"FaxdType": "checklista-beslutsstod"}, reason="checklista"),
    ]


def file_cases() -> list[Case]:
    return _pdf_cases() + _sidecar_cases()


# -- spool entries that are not plain files ------------------------------------------------


def _symlink_outside(incoming: Path, outside: Path) -> None:
    target = outside / "routed-elsewhere.pdf"
    target.write_bytes(GOOD_PDF)
    (incoming / "link-out.pdf").symlink_to(target)


def _symlink_sidecar_outside(incoming: Path, outside: Path) -> None:
    target = outside / "sidecar.json"
    target.write_text(json.dumps(GOOD_SIDECAR))
    (incoming / "link-sidecar.pdf.json").symlink_to(target)
    (incoming / "link-sidecar.pdf").write_bytes(PLAIN_PDF)


def _symlink_to_fifo_outside(incoming: Path, outside: Path) -> None:
    os.mkfifo(outside / "pipe")
    (incoming / "link-fifo.pdf").symlink_to(outside / "pipe")


def _fifo_sidecar(incoming: Path, _outside: Path) -> None:
    os.mkfifo(incoming / "fifo-sidecar.pdf.json")
    (incoming / "fifo-sidecar.pdf").write_bytes(GOOD_PDF)


def _socket(incoming: Path, _outside: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(incoming / "socket.pdf"))
    sock.close()


def _dir_sidecar(incoming: Path, _outside: Path) -> None:
    (incoming / "dir-sidecar.pdf.json").mkdir()
    (incoming / "dir-sidecar.pdf").write_bytes(GOOD_PDF)


def _hard_link(incoming: Path, outside: Path) -> None:
    (outside / "original.pdf").write_bytes(GOOD_PDF)
    os.link(outside / "original.pdf", incoming / "hard-link.pdf")


def _unreadable(incoming: Path, _outside: Path) -> None:
    path = incoming / "mode-000.pdf"
    path.write_bytes(PLAIN_PDF)
    path.chmod(0)


def _sparse(incoming: Path, _outside: Path) -> None:
    with (incoming / "sparse-8g.pdf").open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(8 << 30)


def _named(name: str | bytes, data: bytes = PLAIN_PDF) -> Callable[[Path, Path], None]:
    def make(incoming: Path, _outside: Path) -> None:
        raw = os.fsencode(incoming) + b"/" + (name if isinstance(name, bytes) else name.encode())
        with open(raw, "wb") as f:
            f.write(data)

    return make


def entry_cases() -> list[Case]:
    return [
        Case("symlink-outside", _symlink_outside, "quarantined", "symbolic link", entry=True),
        Case("symlink-sidecar-outside", _symlink_sidecar_outside, "quarantined", "symbolic link", entry=True),
        Case("symlink-to-fifo-outside", _symlink_to_fifo_outside, "quarantined", "symbolic link", entry=True),
        Case(
            "dangling-symlink",
            lambda i, o: (i / "dangling.pdf").symlink_to(o / "nothing"),
            "quarantined",
            "symbolic link",
            entry=True,
        ),
        Case("fifo", lambda i, o: os.mkfifo(i / "fifo.pdf"), "quarantined", "named pipe", entry=True),
        Case("fifo-sidecar", _fifo_sidecar, "quarantined", "named pipe", entry=True),
        Case("lone-fifo-like-sidecar", lambda i, o: os.mkfifo(i / "lonely.pdf.json"), "ignored", entry=True),
        Case("socket", _socket, "quarantined", "socket", entry=True),
        Case("directory", lambda i, o: (i / "folder.pdf").mkdir(), "quarantined", "directory", entry=True),
        Case("directory-as-sidecar", _dir_sidecar, "quarantined", "directory", entry=True),
        # Linking a finished file in is a way to publish it (spool.queue): taken as a file.
        Case("hard-link", _hard_link, "routed", entry=True),
        Case("mode-000", _unreadable, "quarantined", "", entry=True),
        Case("sparse-8gib", _sparse, "quarantined", "larger than the limit", entry=True),
        Case("non-utf8-name", _named(b"p\xe4tient-\xff.pdf"), "quarantined", "Faxd", entry=True),
        Case("255-byte-name", _named("n" * 251 + ".pdf"), "quarantined", "Faxd", entry=True),
        Case("newline-name", _named("line\nbreak.pdf"), "quarantined", "Faxd", entry=True),
        Case("control-name", _named("esc\x1b[2J.pdf"), "quarantined", "Faxd", entry=True),
        Case("dash-name", _named("-rf.pdf"), "quarantined", "Faxd", entry=True),
        Case("identity-name", _named(f"{NAME} {PNR}.pdf"), "quarantined", "Faxd", entry=True, tags=("identity",)),
        Case("identity-name-routed", _named(f"{SNR} remiss.pdf", GOOD_PDF), "routed", entry=True, tags=("identity",)),
        Case("no-suffix", _named("README"), "quarantined", "Faxd", entry=True),
    ]


def all_cases() -> list[Case]:
    return file_cases() + entry_cases()


if __name__ == "__main__":
    folder = Path(sys.argv[1]) / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    for case in file_cases():
        case.make(folder, folder.parent)
    print(f"wrote {len(file_cases())} file cases into {folder}")
