"""Hand-built PDF bytes for the hostile corpus: objects written as given, with a correct
cross-reference table unless a case asks for a broken one.

The hostile cases need files no PDF library would write (a page tree that loops, a
stream whose /Length lies, a filter that does not exist), so they are composed here from
object bodies. ``pdf(objects)`` numbers the objects from 1; object 1 is the catalog.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def pdf(
    objects: Sequence[bytes],
    *,
    info: bytes | None = None,
    trailer_extra: bytes = b"",
    xref: bool = True,
    header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
) -> bytes:
    """A PDF file of ``objects`` (bodies, numbered from 1), with /Info ``info`` if given."""
    out = bytearray(header)
    offsets = []
    bodies = list(objects)
    if info is not None:
        bodies.append(info)
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    if xref:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
    info_ref = b" /Info %d 0 R" % len(bodies) if info is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        info_ref,
        trailer_extra,
        start,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", *, length: int | None = None) -> bytes:
    """A stream object body; ``length`` may lie about the data's length."""
    size = len(data) if length is None else length
    return b"<< /Length %d%s >>\nstream\n" % (size, extra) + data + b"\nendstream"


def flate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def flate_zeros(size: int) -> bytes:
    """``size`` zero bytes, deflated, made without holding them all in memory."""
    compressor = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = []
    remaining = size
    while remaining > 0:
        parts.append(compressor.compress(block[: min(remaining, len(block))]))
        remaining -= len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def text(s: str) -> bytes:
    """A PDF text string: UTF-16BE with BOM, which holds any Unicode."""
    return b"<" + ("\ufeff" + s).encode("utf-16-be").hex().encode() + b">"


def simple(
    *,
    pages: int = 1,
    media: bytes = b"[0 0 595 842]",
    content: bytes = b"BT /F1 12 Tf 72 770 Td (Inskrivningsinformation) Tj ET",
    font: bool = True,
    info: bytes | None = None,
    catalog: bytes = CATALOG,
    extra_objects: Sequence[bytes] = (),
) -> bytes:
    """A well-formed document of ``pages`` identical pages (objects: 1 catalog, 2 pages,
    3 font, 4 content, 5.. pages, then ``extra_objects``)."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    resources = b"/Resources << /Font << /F1 3 0 R >> >>" if font else b"/Resources << >>"
    objects = [
        catalog,
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(content),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 4 0 R %s >>" % (media, resources)
    objects += [page] * pages
    objects += list(extra_objects)
    return pdf(objects, info=info)


def routing_info(**overrides: str) -> bytes:
    """An /Info dictionary with a complete admission notice's routing fields."""
    fields = {
        "FaxdType": "inskrivningsinformation",
        "FaxdSender": "sus-lund-avd-12",
        "FaxdMunicipality": "kommun-lund",
        "FaxdOutpatient": "vc-lund-norra",
        "FaxdReference": "INSK-2026-0001",
    }
    fields.update(overrides)
    return b"<< " + b" ".join(b"/" + k.encode() + b" " + text(v) for k, v in fields.items()) + b" >>"
