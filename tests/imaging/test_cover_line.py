"""The cover sheet on the line: what it costs in MMR, that libtiff reads it, and that it
stays legible at fine resolution (read back by tesseract, an independent OCR engine)."""

from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivers.page import Resolution
from drivers.t4 import Coding, encode_page
from faxd.runner_resume import ResendReason, notice_for
from imaging import CoverInfo, cover_sheet, cover_sheet_pdf, write_tiff
from tests.drivers.t4.t4_pages import libtiff_decode, needs, read_bilevel
from tests.imaging.test_cover import INFO, text_of

#: The longest content the sample directory and the routine give: its longest inpatient
#: ward to its longest municipality unit, the longest message-type name, two-digit page
#: counts, and a resumed call's continuation line.
LONGEST = dataclasses.replace(
    INFO,
    sender_name="Lasarettet i Landskrona, Rehabiliteringsavdelning 5",
    recipient_name="Kristianstads kommun, vårdplanering (biståndshandläggare)",
    recipient_fax="040-628 04 12",
    message_type="Underrätta om förändrad beräknad tid för utskrivning och Utskrivningsklar",
    pages_total=12,
    continuation_of_pages=3,
)
#: The same names on a full send again after a resume found another station (issue 13):
#: the longest line the runner puts on a cover.
LONGEST_AGAIN = dataclasses.replace(
    LONGEST,
    continuation_of_pages=None,
    sent_again_notice=notice_for(ResendReason.STATION_CHANGED.value),
)


def test_cover_is_cheap_on_the_line() -> None:
    """At most 4 KiB of MMR for a typical cover (the full-A4 sheet was 13 KB), under 6000
    octets for the longest realistic continuation, 6500 with the sent-again line; no
    large black areas."""
    typical = cover_sheet(INFO).pixels
    assert len(encode_page(typical, Coding.MMR)) <= 4096
    assert len(encode_page(cover_sheet(LONGEST).pixels, Coding.MMR)) < 6000
    assert len(encode_page(cover_sheet(LONGEST_AGAIN).pixels, Coding.MMR)) < 6500
    # No black block 8 pels square anywhere: rules are thin and nothing is filled.
    solid = np.lib.stride_tricks.sliding_window_view(typical, (8, 8)).all(axis=(2, 3))
    assert not solid.any()


@pytest.mark.parametrize("resolution", [Resolution.FINE, Resolution.NORMAL])
def test_every_line_of_text_is_tall_enough(resolution: Resolution) -> None:
    """Every line of text is at least 12 rows from its top to its foot at fine (6.5 pt
    capitals at 7.7 lines/mm), 8 at normal (where the type is set larger)."""
    pixels = cover_sheet(LONGEST, resolution=resolution).pixels
    inked = pixels.any(axis=1)
    starts = np.flatnonzero(inked[1:] & ~inked[:-1]) + 1
    ends = np.flatnonzero(inked[:-1] & ~inked[1:]) + 1
    heights = [end - start for start, end in zip(starts, ends, strict=True) if end - start > 3]
    assert len(heights) >= 10  # heading, notice, warning and the fields
    assert min(heights) >= (12 if resolution is Resolution.FINE else 8)


@pytest.mark.parametrize("info", [LONGEST, LONGEST_AGAIN], ids=["continuation", "sent-again"])
def test_resume_lines_follow_the_page_count(info: CoverInfo) -> None:
    """The continuation or sent-again line comes right after "Sidor", before the time and
    the reference (whether or not the call-back field is drawn)."""
    text = text_of(cover_sheet_pdf(info))
    label = "Fortsättning" if info.continuation_of_pages else "Skickas igen"
    assert text.index("Sidor 12") < text.index(label) < text.index("Skickat") < text.index("Referens")


@needs("tiffcp")
@needs("tiffinfo")
def test_libtiff_reads_the_cover(tmp_path: Path) -> None:
    """libtiff decodes our MMR coding of the cover to the same pixels, and reads the cover
    as faxd archives it (the TIFF the call is sent from) without a complaint."""
    pixels = cover_sheet(LONGEST).pixels
    decoded, stderr = libtiff_decode(tmp_path, encode_page(pixels, Coding.MMR), Coding.MMR, pixels.shape)
    assert stderr == ""
    assert np.array_equal(decoded, pixels)

    archived = write_tiff([cover_sheet(INFO)], tmp_path / "archive.tif")
    info = subprocess.run(["tiffinfo", str(archived)], capture_output=True, text=True, check=True)
    assert info.stderr == ""
    assert "CCITT Group 4" in info.stdout and "Image Width: 1728" in info.stdout
    plain = tmp_path / "plain.tif"
    subprocess.run(["tiffcp", "-c", "none", str(archived), str(plain)], capture_output=True, check=True)
    assert np.array_equal(read_bilevel(plain), cover_sheet(INFO).pixels)


def _tesseract_swedish() -> bool:
    if shutil.which("tesseract") is None:
        return False
    languages = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False).stdout
    return "swe" in languages.split()


def _read(pixels: np.ndarray, folder: Path) -> str:
    """Returns what tesseract reads on the page, dashes made hyphens, spaces single."""
    image = folder / "cover.png"
    Image.fromarray(~pixels).save(image)
    done = subprocess.run(
        ["tesseract", str(image), "-", "-l", "swe", "--dpi", "200", "--psm", "4"],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.sub(r"[ \t]+", " ", re.sub("[–—]", "-", done.stdout))


def _closest(expected: str, text: str) -> float:
    """Returns the share of ``expected``'s characters found, in order, on the line of
    ``text`` that has most of them (0..1)."""
    found = (
        sum(block.size for block in difflib.SequenceMatcher(None, expected, line, autojunk=False).get_matching_blocks())
        for line in text.splitlines()
    )
    return max(found, default=0) / len(expected)


@pytest.mark.skipif(not _tesseract_swedish(), reason="tesseract with Swedish not installed (scripts/setup.sh)")
@pytest.mark.parametrize("info", [INFO, LONGEST, LONGEST_AGAIN], ids=["typical", "longest", "sent-again"])
def test_tesseract_reads_every_field_at_fine(info: CoverInfo, tmp_path: Path) -> None:
    """Legible at fine resolution: an OCR engine reads every number exactly, and every
    name and the law reference nearly so, on the page as it goes on the line."""
    text = _read(cover_sheet(info).pixels, tmp_path)
    # What a reader must not misread: the numbers, exactly.
    for number in (
        info.sender_callback,
        info.recipient_fax,
        info.job_reference,
        info.sent_at.strftime("%Y-%m-%d %H:%M"),
        f"Sidor {info.pages_total}",
        "(2009:400) 25 kap.",
    ):
        assert number in text, f"{number!r} not read in:\n{text}"
    # Names and wording: tesseract may take "m" for "rn" in small type; a reader does not.
    for words in (
        "SEKRETESS",
        f"Från {info.sender_name}",
        f"Till {info.recipient_name}",
        f"Meddelande {info.message_type}",
        "Fel mottagare? Ring avsändaren på",
    ):
        assert _closest(words, text) > 0.9, f"{words!r} not read in:\n{text}"
    if info.continuation_of_pages:
        assert f"{info.continuation_of_pages + 2}-{info.pages_total}" in text
    if info.sent_again_notice:
        assert _closest(f"Skickas igen {info.sent_again_notice}", text) > 0.9, text
