"""Open every page of a built book in headless Chromium and fail on what a reader would see
broken: JavaScript errors, failed requests (missing images, scripts), plot containers that
stayed empty. Saves a screenshot of each page.

    python tools/check_pages.py BUILD_HTML_DIR [--screenshots DIR]

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it). The pages are served
from a local HTTP server on a free port; nothing is fetched from outside (the book is offline).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-unsafe-swiftshader",  # software WebGL, for the 3D figures
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=6000",
]
_CONSOLE = re.compile(r'CONSOLE[^"]*"(?P<message>.*)", source: (?P<source>\S+)')
_BAD = ("Uncaught", "Failed to load resource", "Error", "WebGL")  # a GPU-less WebGL's driver notes are not


def pages(root: Path) -> list[Path]:
    return [root / "index.html", *sorted((root / "book").glob("*.html")), *sorted((root / "notebooks").glob("*.html"))]


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # one line per request would drown the report
        pass


def problems(dom: str, log: str, base: str) -> list[str]:
    """What is broken on one rendered page: console errors, empty plots, images that do not load."""
    found = []
    for m in _CONSOLE.finditer(log):
        if any(word in m["message"] for word in _BAD) and "GL Driver Message" not in m["message"]:
            found.append(f"console: {m['message'][:160]} ({m['source'].split('/')[-1]})")
    plots = len(re.findall(r'class="[^"]*\bplotly-graph-div\b', dom))
    drawn = len(re.findall(r'class="[^"]*\bsvg-container\b', dom))
    if drawn < plots:
        found.append(f"{plots - drawn} of {plots} plot containers stayed empty")
    for src in re.findall(r'<img[^>]+src="([^"]+)"', dom):
        if src.startswith("data:"):
            continue
        url = src if src.startswith("http") else f"{base}/{src.lstrip('/')}"
        if not url.startswith(base):
            found.append(f"image from outside the book: {src}")
            continue
        try:
            urllib.request.urlopen(url, timeout=10).close()
        except OSError as err:
            found.append(f"image {src} does not load ({err})")
    return found


def check(root: Path, shots: Path, browser: str) -> int:
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)

    def visit(page: Path) -> tuple[str, list[str]]:
        rel = page.relative_to(root).as_posix()
        shot = shots / (rel.replace("/", "_").removesuffix(".html") + ".png")
        shot.unlink(missing_ok=True)
        command = [browser, *FLAGS, "--window-size=1280,1800", f"--screenshot={shot}", "--dump-dom", f"{base}/{rel}"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
        found = problems(run.stdout, run.stderr, base) if run.returncode == 0 else [f"chromium exit {run.returncode}"]
        return rel, found + ([] if shot.exists() else ["no screenshot"])

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # the browser mostly waits on its virtual time budget
            verdicts = list(pool.map(visit, pages(root)))
    finally:
        server.shutdown()
    for rel, found in verdicts:
        print(f"{'FAIL' if found else 'ok  '} {rel}" + "".join(f"\n       {p}" for p in found))
    failed = sum(bool(found) for _, found in verdicts)
    print(f"{len(verdicts) - failed} of {len(verdicts)} pages clean; screenshots in {shots}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the book's _build/html folder")
    ap.add_argument("--screenshots", type=Path, help="where the screenshots go (default: HTML/../screenshots)")
    args = ap.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("check_pages: no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    if not (args.html / "index.html").is_file():
        print(f"check_pages: {args.html}: no index.html (expected a built book's _build/html)", file=sys.stderr)
        return 2
    return check(args.html.resolve(), (args.screenshots or args.html.parent / "screenshots").resolve(), browser)


if __name__ == "__main__":
    sys.exit(main())
