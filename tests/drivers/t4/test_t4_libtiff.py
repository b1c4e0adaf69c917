"""Independent checks against libtiff: it decodes what we encode, we decode what it encodes.

A wrong bit order or code can decode "successfully" into garbage, so every check
compares the row count and every pixel, never just an exit status.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin
from t4_pages import Bitmap, libtiff_decode, needs, patterns, read_bilevel, text_form_page

from drivers.t4 import Coding, T4DecodeError, decode_page, encode_page, reverse_bits


def pages() -> dict[str, Bitmap]:
    """The hand-made patterns (minus the empty page, which TIFF cannot hold), noise, text."""
    chosen = {name: page for name, page in patterns().items() if page.shape[0]}
    rng = np.random.default_rng(20261126)
    for density in (0.01, 0.3, 0.5, 0.9):
        chosen[f"noise {density}"] = rng.random((40, 1728)) < density
    chosen["text form"] = text_form_page(400)
    return chosen


PAGES = pages()
ENCODINGS = [
    (Coding.MH, {}),
    (Coding.MH, {"min_bits_per_line": 1152, "eol_align": True}),
    (Coding.MR, {"k": 2}),
    (Coding.MR, {"k": 4, "min_bits_per_line": 576}),
    (Coding.MR, {"k": 4, "eol_align": True}),
    (Coding.MMR, {}),
]


# libtiff's 1-D decoder overflows its run buffer on a line of 1729 runs (a zero white
# run, then 1728 one-pixel runs) and fails on its own coding of such a page just the same.
LIBTIFF_MH_LIMIT = pytest.mark.xfail(raises=subprocess.CalledProcessError, strict=True,
                                     reason="libtiff Fax3Decode1D: Buffer overflow")  # fmt: skip


def decode_cases() -> list[object]:
    cases: list[object] = []
    for name in PAGES:
        for number, (coding, options) in enumerate(ENCODINGS):
            too_many_runs = name.startswith("alternating") and coding is Coding.MH
            marks = [LIBTIFF_MH_LIMIT] if too_many_runs else []
            case_id = f"{name}-{coding.name}-{number}"
            cases.append(pytest.param(name, coding, options, marks=marks, id=case_id))
    return cases


@needs("tiffcp")
@pytest.mark.parametrize(("name", "coding", "options"), decode_cases())
def test_libtiff_decodes_our_pages(tmp_path: Path, name: str, coding: Coding, options: dict[str, int | bool]) -> None:
    """tiffcp decompresses our data, in a TIFF with FillOrder=2, to exactly our bitmap."""
    page = PAGES[name]
    data = encode_page(page, coding, **options)  # type: ignore[arg-type]
    aligned = bool(options.get("eol_align"))
    decoded, warnings = libtiff_decode(tmp_path, data, coding, page.shape, eol_aligned=aligned)
    assert warnings == ""
    assert decoded.shape == page.shape
    assert np.array_equal(decoded, page)


@needs("tiffcp")
def test_libtiff_fails_on_its_own_mh_coding_of_1729_runs(tmp_path: Path) -> None:
    """The xfails above are libtiff's limit, not our coding: tiffcp cannot read back
    libtiff's own MH coding of the same page either."""
    source = tmp_path / "libtiff.tif"
    Image.fromarray(PAGES["alternating columns"]).save(source, compression="group3")
    done = subprocess.run(["tiffcp", "-c", "none", str(source), str(tmp_path / "plain.tif")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0
    assert "Buffer overflow" in done.stderr


@needs("fax2tiff")
@pytest.mark.parametrize(("coding", "options"), ENCODINGS, ids=str)
def test_fax2tiff_reads_our_raw_stream(tmp_path: Path, coding: Coding, options: dict[str, int | bool]) -> None:
    """fax2tiff takes our raw stream as a modem would deliver it (EOLs, fill, RTC).

    fax2tiff does not stop at RTC/EOFB: it reads their EOLs as empty lines (5 for RTC,
    1 for EOFB) and warns "Premature EOL" for each, so those extra lines must be white
    and be the only ones it complains about.
    """
    page = PAGES["text form"]
    raw, tiff = tmp_path / "page.raw", tmp_path / "page.tif"
    raw.write_bytes(encode_page(page, coding, **options))  # type: ignore[arg-type]
    scheme = {Coding.MH: ["-3", "-1"], Coding.MR: ["-3", "-2"], Coding.MMR: ["-4"]}[coding]
    align = ["-A"] if options.get("eol_align") else []
    done = subprocess.run(
        ["fax2tiff", "-v", *scheme, *align, "-L", "-X", "1728", "-o", str(tiff), str(raw)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    extra = 1 if coding is Coding.MMR else 5
    decoded = read_bilevel(tiff)
    assert decoded.shape == (page.shape[0] + extra, page.shape[1])
    assert np.array_equal(decoded[: page.shape[0]], page)
    assert not decoded[page.shape[0] :].any()
    complaints = re.findall(r"at line (\d+)", done.stderr)
    assert [int(line) for line in complaints] == list(range(page.shape[0], page.shape[0] + extra))
    assert "0 total bad rows" in done.stderr


def libtiff_encode(page: Bitmap, compression: str, t4_options: int | None) -> bytes:
    """Encode with libtiff (through Pillow) and return the strip as LSB-first coded data."""
    info = TiffImagePlugin.ImageFileDirectory_v2()
    if t4_options is not None:
        info[292] = t4_options
    buffer = io.BytesIO()
    # Stored bit 1 is coded as black: mode "1" of the page itself, True = 1.
    Image.fromarray(page).save(
        buffer, format="TIFF", compression=compression, tiffinfo=info, strip_size=page.size
    )  # one strip for the whole page
    with Image.open(buffer) as image:
        assert isinstance(image, TiffImagePlugin.TiffImageFile)
        tags = image.tag_v2
        assert len(tags[273]) == 1, "one strip"
        start, length = tags[273][0], tags[279][0]
        msb_first = tags.get(266, 1) == 1
    strip = buffer.getvalue()[start : start + length]
    return reverse_bits(strip) if msb_first else strip


@pytest.mark.parametrize(
    ("compression", "t4_options", "coding"),
    [
        ("group3", None, Coding.MH),
        ("group3", 4, Coding.MH),  # EOL-aligned fill
        ("group3", 1, Coding.MR),
        ("group3", 5, Coding.MR),
        ("group4", None, Coding.MMR),
    ],
)
@pytest.mark.parametrize("name", list(PAGES))
def test_we_decode_libtiff_pages(name: str, compression: str, t4_options: int | None, coding: Coding) -> None:
    """Our decoder reads libtiff's G3/G4 coding of every page exactly.

    libtiff ends a G3 strip after the last line, without RTC, so G3 is decoded with
    strict=False after checking that the strict decoder objects only to the missing RTC.
    """
    page = PAGES[name]
    data = libtiff_encode(page, compression, t4_options)
    if coding is Coding.MMR:
        decoded = decode_page(data, coding)
    else:
        with pytest.raises(T4DecodeError, match="without RTC") as error:
            decode_page(data, coding)
        assert error.value.line == page.shape[0]
        decoded = decode_page(data, coding, strict=False)
    assert decoded.shape == page.shape
    assert np.array_equal(decoded, page)
