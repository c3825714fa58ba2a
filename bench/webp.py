"""WebP conversion: the images pipeline against cwebp (libwebp's own encoder, Debian's `webp` package) at the same
quality, method and output size, and against a naive Pillow open/save; ms per source megapixel, output bytes, and
the pipeline's peak memory against the decoded target size."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time

from common import PYTHON, ROOT, Section, median

RUNS = int(os.environ.get("BENCH_WEBP_RUNS", "3"))
SIZES = [(2048, 1536), (4000, 3000)]


def photo(width, height, seed=3) -> bytes:
    """A synthetic photo: smooth gradients, shapes and sensor-like noise (compresses like a real picture)."""
    from PIL import Image, ImageDraw, ImageFilter

    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(img)
    import random

    rng = random.Random(seed)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(width // 40, width // 6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    img = img.filter(ImageFilter.GaussianBlur(3))
    noise = Image.effect_noise((width, height), 12).convert("RGB")
    img = Image.blend(img, noise, 0.08)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


_MEMORY_PROBE = r"""
import io
import sys
import tracemalloc
sys.path[:0] = {paths!r}
import functions
from PIL import Image
from functions.images import pipeline, webpenc
from omcommerce import media
if {main_only!r}:
    media.VARIANT_WIDTHS = ()
data = open({path!r}, "rb").read()
# load the codecs first (their libraries are not the conversion's memory)
Image.open(io.BytesIO(data)).load()
Image.new("RGB", (64, 64)).save(io.BytesIO(), "WEBP")
webpenc.encode(Image.new("RGB", (64, 64)), 80, 1)

def status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))

before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
tracemalloc.start()
pipeline.convert(data)
python_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(status("VmHWM:") - before, python_peak // 1024)
"""

TIME_TARGET = 1.2  # pipeline (main file) vs cwebp at the same output size
MEMORY_TARGET = 2.5  # peak growth vs the decoded target (width x height x 3 bytes)


def _peak(source: str, main_only: bool) -> tuple[int, int]:
    """(VmHWM growth KB, tracemalloc peak KB) of one conversion in a fresh process."""
    probe = _MEMORY_PROBE.format(paths=[ROOT], path=source, main_only=main_only)
    out = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True).stdout.split()
    return int(out[0]), int(out[1])


def run(functions_list) -> Section:
    from PIL import Image

    from omcommerce import media

    from functions.images import pipeline

    have_cwebp = shutil.which("cwebp") is not None
    settings = pipeline._settings()
    folder = tempfile.mkdtemp()
    section = Section(
        "WebP conversion",
        f"Median of {RUNS} runs per image. *Pipeline* = decode (JPEG draft at the nearest DCT scale), orient, "
        f"convert, encode the main WebP (≤ {settings['max_dimension']} px, quality {settings['quality']}, method "
        f"{settings['method']}); *+variants* adds the 320/640/1280 px files (each derived from the previous one). "
        "*cwebp* = `cwebp -q Q -m M -resize W 0` to the same size (a new process per run, as a shell pipeline would "
        "use it). *naive* = `Image.open().save('WEBP')` at full size with Pillow's defaults. Peak memory = growth "
        "of VmHWM over VmRSS in a fresh process with the codecs loaded, against the decoded target (output width × "
        "height × 3 bytes), for the main file alone and with the variants; *Python heap* = tracemalloc's peak "
        "(the output buffers; pixel buffers live outside it). "
        f"Targets (issue 13): time ≤ {TIME_TARGET}× cwebp at equal size (±5 %), peak memory ≤ {MEMORY_TARGET}×.",
        ["source", "pipeline ms/MP", "+variants ms/MP", "cwebp ms/MP", "naive ms/MP", "time vs cwebp",
         "bytes: pipeline / cwebp / naive", "peak memory vs decoded target (main / +variants)", "Python heap peak"])
    for width, height in SIZES:
        data = photo(width, height)
        source = os.path.join(folder, f"{width}x{height}.jpg")
        with open(source, "wb") as fh:
            fh.write(data)
        mp = width * height / 1e6
        saved = media.VARIANT_WIDTHS
        try:
            media.VARIANT_WIDTHS = ()
            times, main = [], None
            for _ in range(RUNS):
                start = time.perf_counter()
                main = pipeline.convert(data, settings)
                times.append(time.perf_counter() - start)
        finally:
            media.VARIANT_WIDTHS = saved
        full_times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            pipeline.convert(data, settings)
            full_times.append(time.perf_counter() - start)
        target_w, target_h = main["size"]
        cw_ms, cw_bytes = float("nan"), 0
        if have_cwebp:
            out = os.path.join(folder, "cwebp.webp")
            runs = []
            for _ in range(RUNS):
                start = time.perf_counter()
                subprocess.run(["cwebp", "-quiet", "-q", str(settings["quality"]), "-m", str(settings["method"]),
                                "-resize", str(target_w), "0", source, "-o", out], check=True)
                runs.append(time.perf_counter() - start)
            cw_ms, cw_bytes = median(runs) * 1000 / mp, os.path.getsize(out)
        naive_runs, naive_bytes = [], 0
        for _ in range(RUNS):
            start = time.perf_counter()
            buffer = io.BytesIO()
            Image.open(io.BytesIO(data)).save(buffer, "WEBP")
            naive_runs.append(time.perf_counter() - start)
            naive_bytes = len(buffer.getvalue())
        peak_main, heap_main = _peak(source, True)
        peak_all, heap_all = _peak(source, False)
        decoded = target_w * target_h * 3
        ours_ms = median(times) * 1000 / mp
        ratio = ours_ms / cw_ms if have_cwebp else float("nan")
        size_ratio = len(main["main"]) / cw_bytes if cw_bytes else float("nan")
        mem_main, mem_all = peak_main * 1024 / decoded, peak_all * 1024 / decoded
        time_ok = ratio <= TIME_TARGET and abs(size_ratio - 1) <= 0.05
        section.rows.append([
            f"{width}×{height} JPEG ({mp:.1f} MP) → {target_w}×{target_h}", f"{ours_ms:.1f}",
            f"{median(full_times) * 1000 / mp:.1f}", f"{cw_ms:.1f}", f"{median(naive_runs) * 1000 / mp:.1f}",
            f"{ratio:.2f}× ({'met' if time_ok else 'missed'})",
            f"{len(main['main']):,} / {cw_bytes:,} / {naive_bytes:,} (size {size_ratio:.2f}×)",
            f"{mem_main:.2f}× / {mem_all:.2f}× of {decoded / 1e6:.1f} MB "
            f"({'met' if max(mem_main, mem_all) <= MEMORY_TARGET else 'missed'})",
            f"{max(heap_main, heap_all) / 1024:.1f} MB"])
    if not have_cwebp:
        section.notes.append("cwebp is not installed (`apt-get install webp`; `make bench` installs it)")
    from functions.images import webpenc

    direct = webpenc._library() is not None
    section.notes.append(f"Pillow {Image.__version__}, libwebp as bundled in its wheel; cwebp from Debian. Still RGB "
                         "pictures are encoded " + ("straight to YUV (functions/images/webpenc.py)" if direct else
                                                    "by Pillow (the direct YUV path is unavailable here)") + ".")
    return section
