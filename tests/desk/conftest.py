"""The order desk and the reset page in a real browser: Debian's chromium (installed by bin/setup) driven by
Playwright for Python through ``executable_path`` — no browser download.

The pages are served over real HTTP: in the in-process run by the composed app behind the project's WSGI bridge
on a thread (the same bridge the container uses), in the parity run (OM_PARITY=1) by the container entrypoint
itself. Screenshots of every page land in ``test-artifacts/desk/`` (``OM_TEST_ARTIFACTS`` to move it; git ignores
it) and their paths are printed."""
import os
import shutil
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def site(app, parity_server):
    """The base URL that serves the pages and the API on one origin."""
    if parity_server:
        yield parity_server
        return
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from chalice_wsgi import make_wsgi_app

    class _Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class _Quiet(WSGIRequestHandler):
        def log_message(self, fmt, *args):
            pass

    httpd = make_server("127.0.0.1", 0, make_wsgi_app(app), server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module: Playwright's event loop is gone again before other modules run in this
    worker (some start asyncio servers of their own)."""
    executable = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if executable is None:
        pytest.fail(f"no chromium at {CHROMIUM}: run bin/setup (it installs Debian's chromium package as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    """A fresh browser context (its own cookies and storage) on the site. ``page.problems`` collects script errors
    and anything the Content-Security-Policy refused (the API's 4xx answers the pages show are not problems)."""
    context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []

    def console(msg):
        if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused" in msg.text):
            problems.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    folder = os.environ.get("OM_TEST_ARTIFACTS") or os.path.join(ROOT, "test-artifacts")
    folder = os.path.join(folder, "desk" + ("-parity" if os.environ.get("OM_PARITY") == "1" else ""))
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture
def shot(artifacts):
    """``shot(page, name)``: a full-page screenshot kept as a test artefact; its path is printed."""

    def take(page, name: str) -> str:
        path = os.path.join(artifacts, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        print(f"screenshot: {path}")
        return path

    return take
