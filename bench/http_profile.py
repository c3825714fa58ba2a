"""Where one cached GET spends its time on the container path: cProfile over the container's WSGI application
(``swarm-fallback/wsgi.py``: body guard → ``chalice_wsgi`` adapter → Chalice → route → near cache) called with the
environ gunicorn builds, in process. gunicorn's own share (HTTP parsing, socket writes) is what the hello-world
baseline of the HTTP benchmark measures."""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time

from common import ROOT, Section, pct

N = int(os.environ.get("BENCH_PROFILE_CALLS", "3000"))


def environ_for(path: str, query: str = "") -> dict:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}


def _load_application():
    sys.path.insert(0, os.path.join(ROOT, "swarm-fallback"))
    import importlib

    return importlib.import_module("wsgi").application


def profile(path="/api/v1/category", calls=N):
    application = _load_application()

    def start_response(status, headers, exc_info=None):
        return None

    for _ in range(200):  # warm: caches filled, near cache populated, connections open
        b"".join(application(environ_for(path), start_response))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        b"".join(application(environ_for(path), start_response))
        times.append(time.perf_counter() - start)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        b"".join(application(environ_for(path), start_response))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    return times, out.getvalue()


def summary(text: str) -> list[str]:
    """The pstats table lines, paths shortened to the package."""
    lines, started = [], False
    for line in text.splitlines():
        if line.strip().startswith("ncalls"):
            started = True
        if started and line.strip():
            lines.append(line.replace(ROOT + "/", "").replace(sys.prefix + "/lib/python3.12/site-packages/", "")
                         .replace(sys.base_prefix + "/lib/python3.12/", ""))
    return lines


def run(functions_list) -> Section:
    times, text = profile()
    section = Section(
        "Profile of one cached GET on the container path",
        f"`GET /api/v1/category` through the container's WSGI application (body guard → `chalice_wsgi` → Chalice → "
        f"route → near cache), in process, {N} calls: p50 {pct(times, 50) * 1e6:.0f} µs, p99 "
        f"{pct(times, 99) * 1e6:.0f} µs per request without the profiler. cProfile, functions by own time "
        "(profiler overhead inflates small functions):")
    section.notes.append("\n```\n" + "\n".join(summary(text)) + "\n```")
    return section
