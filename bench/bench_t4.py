"""Time the T.4/T.6 codecs on a synthetic text form page (A4, fine resolution).

Run: .venv/bin/python bench/bench_t4.py [repeats]
Prints, per coding, the best encode and decode time of ``repeats`` runs and the coded size.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from drivers.t4 import Coding, decode_page, encode_page

WIDTH, HEIGHT = 1728, 2290  # 204 x 196 dpi, A4


def text_form_page() -> np.ndarray:
    """A form: a title, boxed fields, then dense body text in Pillow's default font."""
    image = Image.new("1", (WIDTH, HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    title = ImageFont.load_default(size=56)
    body = ImageFont.load_default(size=28)  # about 10 pt at 196 dpi
    draw.text((120, 80), "REFERRAL FORM - Regional Health", font=title, fill=0)
    for row in range(6):
        top = 200 + row * 90
        draw.rectangle((100, top, WIDTH - 100, top + 70), outline=0, width=3)
        draw.text((120, top + 18), f"Field {row}: Patient name / MRN 00{row}4417", font=body, fill=0)
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod 0123456789"
    for row in range(45):
        draw.text((100, 800 + row * 32), line, font=body, fill=0)
    return ~np.array(image)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Return the fastest of ``repeats`` calls of ``run``, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    page = text_form_page()
    print(f"page {WIDTH}x{HEIGHT}, {page.mean():.1%} black, best of {repeats}")
    for coding in Coding:
        data = encode_page(page, coding)
        assert (decode_page(data, coding) == page).all()
        encode_ms = best_of(repeats, partial(encode_page, page, coding))
        decode_ms = best_of(repeats, partial(decode_page, data, coding))
        print(f"{coding.name:4} encode {encode_ms:7.1f} ms  decode {decode_ms:7.1f} ms  "
              f"{len(data):7d} bytes")  # fmt: skip
    fill = encode_page(page, Coding.MH, min_bits_per_line=14400 * 10 // 1000)
    print(f"MH with 10 ms fill at 14400 bit/s: {len(fill)} bytes")


if __name__ == "__main__":
    main()
