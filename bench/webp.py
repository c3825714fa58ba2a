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
import sys
sys.path[:0] = {paths!r}
import functions
from PIL import Image
from functions.images import pipeline
from omcommerce import media
media.VARIANT_WIDTHS = ()
data = open({path!r}, "rb").read()

def status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))

before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
pipeline.convert(data)
print(status("VmHWM:") - before)
"""


def run(functions_list) -> Section:
    from PIL import Image

    from functions.images import pipeline
    from omcommerce import media

    have_cwebp = shutil.which("cwebp") is not None
    settings = pipeline._settings()
    folder = tempfile.mkdtemp()
    section = Section(
        "WebP conversion",
        f"Median of {RUNS} runs per image. *Pipeline* = decode (JPEG draft), orient, convert, encode the main WebP "
        f"(≤ {settings['max_dimension']} px, quality {settings['quality']}, method {settings['method']}); *+variants* "
        "adds the 320/640/1280 px files. Peak memory = growth of VmHWM over VmRSS in a fresh process. *cwebp* = `cwebp -q Q -m M -resize W 0` to the same size (a new process "
        "per run, as a shell pipeline would use it). *naive* = `Image.open().save('WEBP')` at full size with Pillow's "
        "defaults. Target: pipeline ≤ 1.3× cwebp's time at equal size ±5 %; peak memory ≤ 2× the decoded target.",
        ["source", "pipeline ms/MP", "+variants ms/MP", "cwebp ms/MP", "naive ms/MP", "time vs cwebp",
         "bytes: pipeline / cwebp / naive", "peak memory vs decoded target"])
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
        probe = _MEMORY_PROBE.format(paths=[ROOT], path=source)
        peak_kb = int(subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                                     check=True).stdout.strip() or 0)
        decoded = target_w * target_h * 3
        ours_ms = median(times) * 1000 / mp
        ratio = ours_ms / cw_ms if have_cwebp else float("nan")
        size_ratio = len(main["main"]) / cw_bytes if cw_bytes else float("nan")
        section.rows.append([
            f"{width}×{height} JPEG ({mp:.1f} MP)", f"{ours_ms:.1f}", f"{median(full_times) * 1000 / mp:.1f}",
            f"{cw_ms:.1f}", f"{median(naive_runs) * 1000 / mp:.1f}",
            f"{ratio:.2f}× ({'met' if ratio <= 1.3 and abs(size_ratio - 1) <= 0.05 else 'see size'})",
            f"{len(main['main']):,} / {cw_bytes:,} / {naive_bytes:,} (size {size_ratio:.2f}×)",
            f"{peak_kb * 1024 / decoded:.2f}× of {decoded / 1e6:.1f} MB"])
    if not have_cwebp:
        section.notes.append("cwebp is not installed (`apt-get install webp`; `make bench` installs it)")
    section.notes.append(f"Pillow {Image.__version__}, libwebp as bundled in its wheel; cwebp from Debian.")
    return section
