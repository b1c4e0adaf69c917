"""PDF to fax pages: faxd's imaging against Ghostscript (the HylaFAX way), in one run.

Run:  .venv/bin/python bench/bench_imaging.py [--repeats 3] [--legibility OUT_DIR]

Corpus (made fresh in a temporary folder, see `bench/corpus.py`): the sample forms in
examples/forms/ plus a 20-page discharge-planning form ("forms"), one photo-like scanned
page ("photo"), and the discharge form at 100 pages for peak memory.

Prints, per corpus:
- conversion pages per second, best of ``--repeats`` (the machine is shared and noisy):
  ours = PDFium render + tone + MMR TIFF through libtiff, in-process (``render_pdf`` +
  ``write_tiff_streaming``), with a new render child per document as the daemon runs it
  today (``render_pdf_isolated``), and with one render child kept (``RenderWorker``);
  also render + our own T.6 encoder (`drivers.t4`, what the modem codes at send time).
  Ghostscript = ``gs -sDEVICE=tiffg3 -r204x196`` (and tiffg4), one process per
  document, as HylaFAX runs it;
- bytes per page as coded for the line: ours MH/MR/MMR by `drivers.t4` (no fill bits),
  Ghostscript's MH (tiffg3 strips) and G4 (tiffg4 strips), and the seconds on the line at
  14,400 and 9,600 bit/s that those bytes imply (bytes x 8 / rate, no protocol time);
- peak RSS for the 100-page document: ours through the daemon's path (isolated render,
  header on every page, streamed archive TIFF, `ArchivedPages` read back and coded page
  by page as the modem would), parent and render child; Ghostscript's one process.

``--screens`` also compares dithers on the scanned page's photo (the table in
`imaging.tone`): coded bytes of the same grey under each screen.

``--legibility DIR`` also writes the same text region of the same page from ours and
from Ghostscript, both at 204 x 196 dpi, as PNGs (and a side-by-side) for a person to
compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageSequence, TiffImagePlugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import discharge_planning, scanned_photo_page  # noqa: E402  (needs ROOT on the path)
from drivers.t4 import Coding, encode_page  # noqa: E402
from imaging import RenderWorker, render_pdf, render_pdf_isolated, write_tiff_streaming  # noqa: E402

RATES = (14_400, 9_600)
GS = ("gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-r204x196")


@dataclass
class Corpus:
    name: str
    documents: list[Path]
    pages: int


def make_corpus(folder: Path) -> tuple[list[Corpus], Path]:
    """Write the corpus into ``folder``; return the timed corpora and the 100-page document."""
    forms = sorted((ROOT / "examples" / "forms").glob("*.pdf"))
    discharge = folder / "discharge-planning-20.pdf"
    discharge.write_bytes(discharge_planning(20))
    photo = folder / "scanned-photo.pdf"
    photo.write_bytes(scanned_photo_page())
    long = folder / "discharge-planning-100.pdf"
    long.write_bytes(discharge_planning(100))
    corpora = [Corpus("forms", [*forms, discharge], 0), Corpus("photo", [photo], 0)]
    for corpus in corpora:
        corpus.pages = sum(len(list(render_pdf(d))) for d in corpus.documents)
    return corpora, long


def best_seconds(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def ours_archive(documents: Sequence[Path], out: Path, *, isolated: bool = False) -> None:
    render = render_pdf_isolated if isolated else render_pdf
    for index, document in enumerate(documents):
        write_tiff_streaming(render(document), out / f"ours-{index}.tif", Coding.MMR)


def ours_archive_worker(worker: RenderWorker, documents: Sequence[Path], out: Path) -> None:
    for index, document in enumerate(documents):
        write_tiff_streaming(worker.render(document), out / f"ours-{index}.tif", Coding.MMR)


def worker_start_seconds(document: Path) -> tuple[RenderWorker, float]:
    """Start a worker on its first document; return it and how long that took."""
    worker = RenderWorker()
    started = time.perf_counter()
    for _ in worker.render(document):
        pass
    return worker, time.perf_counter() - started


def ours_line_coding(documents: Sequence[Path]) -> None:
    for document in documents:
        for page in render_pdf(document):
            encode_page(page.pixels, Coding.MMR)


def ghostscript(documents: Sequence[Path], out: Path, device: str) -> list[Path]:
    outputs = []
    for index, document in enumerate(documents):
        target = out / f"gs-{device}-{index}.tif"
        subprocess.run([*GS, f"-sDEVICE={device}", f"-sOutputFile={target}", str(document)], check=True)
        outputs.append(target)
    return outputs


def strip_bytes_per_page(tiffs: Sequence[Path]) -> list[int]:
    """Return the coded bytes of every page of ``tiffs`` (the sum of its strips)."""
    sizes = []
    for path in tiffs:
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                sizes.append(sum(cast(TiffImagePlugin.TiffImageFile, frame).tag_v2[279]))  # StripByteCounts
    return sizes


def our_bytes_per_page(documents: Sequence[Path]) -> dict[Coding, list[int]]:
    sizes: dict[Coding, list[int]] = {coding: [] for coding in Coding}
    for document in documents:
        for page in render_pdf(document):
            for coding in Coding:
                sizes[coding].append(len(encode_page(page.pixels, coding)))
    return sizes


# Peak RSS is read as VmHWM from /proc, not with getrusage: Linux carries a process's
# ru_maxrss across fork and exec, so a child of this (large) benchmark process would
# report the benchmark's own size.
_PEAK = """
def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""

# The render child, reporting its peak on stderr just before it says it is done (the
# parent stops it right after that, so an atexit hook would not always run).
_CHILD = (
    _PEAK
    + """
import sys
import imaging.child as child
plain_send = child.send
def send(out, kind, payload):
    if kind == b"D":
        sys.stderr.write(f"render-child-peak-kb {peak_kb()}\\n")
        sys.stderr.flush()
    plain_send(out, kind, payload)
child.send = send
sys.exit(child.main(sys.argv[1:]))
"""
)

# The daemon's path for one long document, in a fresh interpreter: render in the
# isolated child, stamp the header, stream the archive, then hand ArchivedPages to "the
# modem", which codes each page for the line.
_DAEMON_PATH = (
    _PEAK
    + """
import sys
from datetime import datetime, timezone
from pathlib import Path
from drivers.t4 import Coding, encode_page
from imaging import ArchivedPages, HeaderInfo, render_pdf_isolated, stamp_header, write_tiff_streaming
document, archive, child = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
header = HeaderInfo(sent_at=datetime(2026, 11, 26, 10, 42, tzinfo=timezone.utc), sender="SUS Lund avd 12",
                    recipient="Lunds kommun", job_reference="FX-20261126-0042", pages_total=100)
pages = render_pdf_isolated(document, child=("-c", child))
count = write_tiff_streaming((stamp_header(page, header, n) for n, page in enumerate(pages, start=1)), archive)
coded = sum(len(encode_page(page.pixels, Coding.MMR)) for page in ArchivedPages(archive))
print(count, coded, peak_kb())
"""
)


def our_peak_rss(document: Path, out: Path) -> tuple[int, float, float, float]:
    """Return pages, seconds, parent and child peak RSS (MB) of the daemon's path."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _DAEMON_PATH, str(document), str(out / "archive-100.tif"), _CHILD],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seconds = time.perf_counter() - started
    count, _, parent_kb = (int(v) for v in result.stdout.split())
    child_kb = int(result.stderr.split("render-child-peak-kb")[1].split()[0])
    return count, seconds, parent_kb / 1024, child_kb / 1024


def gs_peak_rss(document: Path, out: Path) -> float:
    """Return Ghostscript's peak RSS (MB), as GNU time reports it from wait4."""
    # GNU time is small, so the ru_maxrss it gets for gs is gs's own.
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *GS, "-sDEVICE=tiffg3", f"-sOutputFile={out / 'gs-100.tif'}", str(document)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stderr.split()[-1]) / 1024


def line_seconds(size: float) -> str:
    return " / ".join(f"{size * 8 / rate:5.1f}" for rate in RATES)


def report(corpus: Corpus, repeats: int, out: Path) -> None:
    docs, pages = corpus.documents, corpus.pages
    ours = best_seconds(repeats, lambda: ours_archive(docs, out))
    ours_child = best_seconds(repeats, lambda: ours_archive(docs, out, isolated=True))
    # A daemon starts its worker once, not per corpus: its start is shown on its own.
    worker, start = worker_start_seconds(docs[0])
    with worker:
        ours_worker = best_seconds(repeats, lambda: ours_archive_worker(worker, docs, out))
    ours_t6 = best_seconds(repeats, lambda: ours_line_coding(docs))
    g3 = best_seconds(repeats, lambda: ghostscript(docs, out, "tiffg3"))
    g4 = best_seconds(repeats, lambda: ghostscript(docs, out, "tiffg4"))
    print(f"\n## {corpus.name}: {len(docs)} documents, {pages} pages (best of {repeats})\n")
    print("| conversion | pages/s | vs gs tiffg3 |")
    print("|---|---:|---:|")
    rows = [
        ("ours: render + MMR TIFF (libtiff), in-process", ours),
        ("ours: same, a new render child per document (render_pdf_isolated)", ours_child),
        (f"ours: same, one render child kept (RenderWorker; its start, {start:.2f} s, not in this)", ours_worker),
        ("ours: render + our T.6 coder (drivers.t4)", ours_t6),
        ("gs -sDEVICE=tiffg3 (MH), process per document", g3),
        ("gs -sDEVICE=tiffg4 (G4), process per document", g4),
    ]
    for label, seconds in rows:
        print(f"| {label} | {pages / seconds:7.1f} | {g3 / seconds:5.2f}x |")

    mine = our_bytes_per_page(docs)
    gs_mh = strip_bytes_per_page(ghostscript(docs, out, "tiffg3"))
    gs_g4 = strip_bytes_per_page(ghostscript(docs, out, "tiffg4"))
    reference = statistics.mean(gs_mh)
    print("\n| coding | bytes/page (mean) | max | s/page at 14,400 / 9,600 | vs gs MH |")
    print("|---|---:|---:|---:|---:|")
    sizes = [(f"ours {c.name}", mine[c]) for c in Coding] + [("gs MH (tiffg3)", gs_mh), ("gs G4 (tiffg4)", gs_g4)]
    for label, values in sizes:
        mean = statistics.mean(values)
        print(f"| {label} | {mean:9,.0f} | {max(values):9,} | {line_seconds(mean)} | {mean / reference:5.2f}x |")


def legibility(folder: Path, out: Path) -> None:
    """Write the same text region of page 1 of two forms from ours and from gs, as PNG."""
    out.mkdir(parents=True, exist_ok=True)
    samples = (ROOT / "examples" / "forms" / "03-inskrivningsinformation.pdf", folder / "discharge-planning-20.pdf")
    for document in samples:
        ours = next(iter(render_pdf(document))).pixels
        (gs_tiff,) = ghostscript([document], folder, "tiffg3")
        with Image.open(gs_tiff) as image:
            theirs = np.asarray(image.convert("1")) == 0
        # gs puts the page at the left of the 1728-pel line, faxd centres it: align on the ink.
        region = (slice(0, 700), slice(0, 1000))
        crops = [_from_ink(pixels)[region] for pixels in (ours, theirs)]
        stem = document.stem
        for name, crop in zip(("faxd", "gs"), crops, strict=True):
            Image.fromarray(~crop).save(out / f"{stem}-{name}.png", dpi=(204, 196))
        side = np.full((max(c.shape[0] for c in crops), sum(c.shape[1] for c in crops) + 20), False)
        side[: crops[0].shape[0], : crops[0].shape[1]] = crops[0]
        side[: crops[1].shape[0], crops[0].shape[1] + 20 :] = crops[1]
        side[:, crops[0].shape[1] + 8 : crops[0].shape[1] + 12] = True  # a rule between them
        Image.fromarray(~side).save(out / f"{stem}-faxd-left-gs-right.png", dpi=(204, 196))
        print(f"wrote {out / stem}-faxd.png, -gs.png, -faxd-left-gs-right.png")


def screens(photo: Path) -> None:
    """Print the coded size of the scanned page's photo region under several screens."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from drivers.page import Resolution
    from imaging import place
    from imaging.render import _FLAGS
    from imaging.tone import Box, screen

    document = pdfium.PdfDocument(str(photo))
    page = document[0]
    width, height = page.get_size()
    placement = place(width, height, Resolution.FINE)
    bitmap = pdfium.PdfBitmap.new_native(1728, placement.rows, pdfium_c.FPDFBitmap_Gray)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, 1728, placement.rows)
    pdfium_c.FPDF_RenderPageBitmapWithMatrix(
        bitmap, page, pdfium_c.FS_MATRIX(*placement.matrix), pdfium_c.FS_RECTF(0, 0, 1728, placement.rows), _FLAGS
    )
    grey = bitmap.to_numpy().copy()
    bitmap.close()
    page.close()
    document.close()
    whole = Box(0, grey.shape[0], 0, 1728)
    bayer = np.array([[0]])
    while bayer.shape[0] < 8:
        bayer = np.block([[4 * bayer, 4 * bayer + 2], [4 * bayer + 3, 4 * bayer + 1]])
    bayer_screen = np.tile((bayer + 0.5) * 4, (grey.shape[0] // 8 + 1, 1728 // 8))[: grey.shape[0]]
    candidates = {
        "50 % threshold": grey < 128,
        "Floyd-Steinberg (Pillow)": np.asarray(Image.fromarray(grey).convert("1")) == 0,
        "Bayer 8 x 8 dispersed": grey < bayer_screen,
        "clustered dot 8 x 8 (faxd)": screen(grey, whole),
    }
    print("\n## screens on the scanned page (whole page, fine)\n")
    print("| screen | MH bytes | MMR bytes |")
    print("|---|---:|---:|")
    for label, pixels in candidates.items():
        sizes = [len(encode_page(np.ascontiguousarray(pixels), coding)) for coding in (Coding.MH, Coding.MMR)]
        print(f"| {label} | {sizes[0]:,} | {sizes[1]:,} |")


def _from_ink(pixels: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    rows, columns = np.nonzero(pixels)
    return pixels[max(0, rows.min() - 10) :, max(0, columns.min() - 10) :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--legibility", type=Path, help="also write legibility PNGs into this folder")
    parser.add_argument("--screens", action="store_true", help="also compare dithers on the scanned page")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-imaging-") as name:
        folder = Path(name)
        corpora, long = make_corpus(folder)
        gs_version = subprocess.run(["gs", "--version"], capture_output=True, text=True, check=True).stdout.strip()
        print(f"# faxd imaging vs Ghostscript {gs_version}, {os.cpu_count()} CPUs, 204 x 196 dpi, A4")
        for corpus in corpora:
            report(corpus, arguments.repeats, folder)
        count, seconds, parent_mb, child_mb = our_peak_rss(long, folder)
        gs_mb = gs_peak_rss(long, folder)
        print(f"\n## peak RSS, {count}-page document\n")
        print("| process | peak RSS |")
        print("|---|---:|")
        print(
            f"| ours, daemon path (render child, headers, archive, read back, T.6 coded): parent "
            f"| {parent_mb:6.1f} MB |"
        )
        print(f"| ours, render child | {child_mb:6.1f} MB |")
        print(f"| gs tiffg3 | {gs_mb:6.1f} MB |")
        print(f"\n(the daemon path took {seconds:.1f} s for {count} pages, all stages, one run)")
        if arguments.screens:
            screens(folder / "scanned-photo.pdf")
        if arguments.legibility:
            legibility(folder, arguments.legibility)


if __name__ == "__main__":
    main()
