"""Fax pages to files: a multi-page TIFF (the archive, `faxctl render`), PNG and PDF previews.

TIFF pages are coded with libtiff (through Pillow) as CCITT T.4 one- or two-dimensional
or T.6, with the page's real resolution (204 x 196 or 204 x 98 dpi), which is TIFF
Class F as fax software reads it (RFC 2306). This is an archive copy, recoded from the
bitmap; the bytes that went on the line come from the driver's own codec.

PNG and PDF previews are for people: pixels are not square, so a normal-resolution
page has each row doubled in the preview, to look the shape it will print.

Files are written beside their final name and renamed into place, so a crash leaves
the old file or the new one, never half of one (the archive is evidence).

`write_tiff_streaming` takes the pages as an iterable and holds one at a time, so a long
document is archived in the memory of one page; `imaging.archive.ArchivedPages`
reads it back the same way, and is what the modem is handed: what went on the line is
the archive, pixel for pixel.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, TiffImagePlugin

from drivers.page import FaxPage, Resolution
from drivers.t4 import Coding

_TIFF_COMPRESSION = {Coding.MH: "group3", Coding.MR: "group3", Coding.MMR: "group4"}
_T4_OPTIONS, _T4_2D = 292, 1  # TIFF 6.0 §11: T4Options bit 0 set means two-dimensional
_PHOTOMETRIC, _WHITE_IS_ZERO = 262, 0  # as fax data is, and TIFF Class F asks (RFC 2306 §3)
_SHORT = 3  # TIFF field type
# PageNumber (297) is left out: Pillow hands libtiff the pair wrongly and it comes out garbled.


def write_tiff(pages: Sequence[FaxPage], path: Path, *, coding: Coding | str = Coding.MMR) -> Path:
    """Write ``pages`` to ``path`` as a multi-page bilevel TIFF and return ``path``.

    ``coding`` is a `Coding` or its name ("mh", "mr", "mmr"). Raises ValueError if there
    are no pages or the coding is unknown.
    """
    if not pages:
        raise ValueError("no pages to write")
    write_tiff_streaming(pages, path, coding)
    return path


def write_tiff_streaming(pages: Iterable[FaxPage], path: Path, coding: Coding | str = Coding.MMR) -> int:
    """Write ``pages`` to ``path`` as `write_tiff` does, taking one page at a time from the
    iterable (a renderer's generator) and holding no more; return the number of pages.

    The file appears under ``path`` only once every page is written and on disk: if the
    iterable raises, the exception propagates and ``path`` is untouched. Raises
    ValueError if there are no pages or the coding is unknown.
    """
    chosen = coding if isinstance(coding, Coding) else Coding(coding.upper())
    count = 0
    with _replacing(path) as temporary:
        with TiffImagePlugin.AppendingTiffWriter(str(temporary)) as tiff:
            for page in pages:
                info = TiffImagePlugin.ImageFileDirectory_v2()
                if chosen is Coding.MR:
                    info[_T4_OPTIONS] = _T4_2D
                # Pillow's 255 ("white") where the page is black: libtiff stores a 1 bit
                # for black, which is WhiteIsZero data under a BlackIsZero label that
                # `_relabel_white_is_zero` then corrects. Asking Pillow for WhiteIsZero
                # instead makes it invert the page pixel by pixel in Python first: 0.4 to
                # 0.7 s a page against 10 ms, for the same coded bytes (compared).
                Image.fromarray(page.pixels).save(
                    tiff, "TIFF", compression=_TIFF_COMPRESSION[chosen], dpi=page.resolution.dpi, tiffinfo=info
                )
                tiff.newFrame()
                count += 1
                del page  # let it go before the next one is rendered, not after
        if count == 0:
            raise ValueError("no pages to write")
        _relabel_white_is_zero(temporary)
        # Evidence: on disk before it has its name, so a power cut cannot leave a
        # named archive with pages missing.
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
    return count


def _relabel_white_is_zero(path: Path) -> None:
    """Set PhotometricInterpretation to WhiteIsZero in every image file directory of the
    TIFF at ``path`` (TIFF 6.0 §2: header, then a chain of IFDs of 12-byte entries)."""
    with open(path, "r+b") as tiff:
        order = {b"II": "<", b"MM": ">"}[tiff.read(2)]
        tiff.seek(4)
        (offset,) = struct.unpack(order + "I", tiff.read(4))
        while offset:
            tiff.seek(offset)
            (count,) = struct.unpack(order + "H", tiff.read(2))
            entries = tiff.read(12 * count)
            for index in range(count):
                tag, kind = struct.unpack_from(order + "HH", entries, 12 * index)
                if tag == _PHOTOMETRIC and kind == _SHORT:
                    # A SHORT value sits in the first two bytes of the entry's value field.
                    tiff.seek(offset + 2 + 12 * index + 8)
                    tiff.write(struct.pack(order + "H", _WHITE_IS_ZERO))
            tiff.seek(offset + 2 + 12 * count)
            (offset,) = struct.unpack(order + "I", tiff.read(4))


def write_png(pages: Sequence[FaxPage], path: Path) -> list[Path]:
    """Write one PNG per page and return their paths: ``path`` itself for a single page,
    else ``<stem>-001.png``, ``<stem>-002.png`` ... beside it."""
    if not pages:
        raise ValueError("no pages to write")
    if len(pages) == 1:
        targets = [path]
    else:
        targets = [path.with_name(f"{path.stem}-{n:03d}{path.suffix or '.png'}") for n in range(1, len(pages) + 1)]
    for page, target in zip(pages, targets, strict=True):
        with _replacing(target) as temporary:
            _image(_as_fine(page)).save(temporary, "PNG", dpi=Resolution.FINE.dpi, optimize=True)
    return targets


def write_pdf(pages: Sequence[FaxPage], path: Path) -> list[Path]:
    """Write ``pages`` as one PDF, each page at its printed size, and return ``[path]``."""
    if not pages:
        raise ValueError("no pages to write")
    images = [_image(_as_fine(page)) for page in pages]
    with _replacing(path) as temporary:
        images[0].save(temporary, "PDF", save_all=True, append_images=images[1:], dpi=Resolution.FINE.dpi)
    return [path]


def _as_fine(page: FaxPage) -> npt.NDArray[np.bool_]:
    # A normal-resolution row prints 0.26 mm tall, twice a fine row.
    return page.pixels if page.resolution is Resolution.FINE else np.repeat(page.pixels, 2, axis=0)


def _image(pixels: npt.NDArray[np.bool_]) -> Image.Image:
    # Pillow's mode "1" is white where True; a fax page is black where True.
    return Image.fromarray(~pixels)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
