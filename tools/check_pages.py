"""Open every page of a built book in headless Chromium and fail on what a reader would see
broken: JavaScript errors, failed requests (missing images, scripts), plot containers that
stayed empty, a table, figure or line of text running past the text column (measured in the laid-out
page by a script the check's server adds to each page it serves), a chart axis with tick labels but
no title, a legend entry without a name or a legend over the chart's title, and a results page that does
not open with its finding.
Saves a full-page screenshot of each page.

    python tools/check_pages.py BUILD_HTML_DIR [--screenshots DIR]

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it). The pages are served
from a local HTTP server on a free port; nothing is fetched from outside (the book is offline).
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import io
import json
import re
import sys
import threading
import urllib.request
from pathlib import Path

from chromium import Chromium, ChromiumError, find_binary

from drpose3d.book.ledger import FINDING, claims_on
from drpose3d.chapters import NOTEBOOKS

_BAD = ("Uncaught", "Failed to load resource", "Error", "WebGL")  # a GPU-less WebGL's driver notes are not


def pages(root: Path) -> list[Path]:
    return [root / "index.html", *sorted((root / "book").glob("*.html")), *sorted((root / "notebooks").glob("*.html"))]


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


#: Run in each served page once it has laid out: every table, figure, code block and paragraph of the
#: article whose box ends right of the text column (of the window, in a cell tagged ``full-width``), unless a
#: scroll box that fits holds it;
#: every Plotly chart's axes, legend and title as Plotly laid them out.
#: The verdicts go into the DOM (``data-overflow``, ``data-plots`` on <body>), which the check reads back.
MEASURE = rb"""<script>
window.addEventListener("load", () => setTimeout(() => {
  const main = document.querySelector("article") || document.querySelector("main") || document.body;
  const column = main.getBoundingClientRect().right + 1, page = document.documentElement.clientWidth + 1;
  const found = [];
  for (const el of main.querySelectorAll("table, pre, img, svg, .plotly-graph-div, p, li")) {
    const box = el.getBoundingClientRect();
    const limit = el.closest(".tag_full-width") ? page : column;  // a cell tagged full-width may take the margin
    if (box.width === 0 || box.right <= limit) continue;
    let held = false;
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x === "auto" || x === "scroll" || x === "hidden") { held = a.getBoundingClientRect().right <= limit; break; }
    }
    if (!held) found.push(el.tagName.toLowerCase() + " " + Math.round(box.right - limit) + " px: "
                          + (el.textContent || "").trim().slice(0, 50));
  }
  document.body.setAttribute("data-overflow", JSON.stringify(found.slice(0, 5)));
  const plots = [];
  for (const gd of document.querySelectorAll(".js-plotly-plot")) {
    const layout = gd._fullLayout, traces = gd._fullData;
    if (!layout || !traces) continue;
    const name = ((layout.title && layout.title.text) || "untitled").replace(/<[^>]*>/g, "").slice(0, 40);
    const axes = Object.keys(layout).filter(k => /^[xy]axis\d*$/.test(k)).map(k => [k, layout[k]]);
    for (const s of Object.keys(layout).filter(k => /^scene\d*$/.test(k)))
      for (const a of ["xaxis", "yaxis", "zaxis"]) axes.push([s + "." + a, layout[s][a]]);
    for (const [k, ax] of axes) {  // an unset title reads as Plotly's editor placeholder, drawn only when editable
      const title = String((ax && ax.title && ax.title.text) || "").trim();
      if (ax && ax.visible && ax.showticklabels && (!title || title.startsWith("Click to enter")))
        plots.push(name + ": " + k + " has tick labels but no title");
    }
    if (layout.showlegend)
      traces.forEach((t, i) => {
        if (t.visible !== false && t.showlegend && !String(t.name || "").trim())
          plots.push(name + ": legend entry " + i + " has no name");
      });
    // a legend above the plot grows upward as it wraps, into the title: an entry and the title collide when
    // their line boxes (which include the line spacing) share more than half the shorter one's height
    const title = gd.querySelector(".gtitle"), a = title && title.getBoundingClientRect();
    const collide = title && [...gd.querySelectorAll(".legend .traces")].some(entry => {
      const b = entry.getBoundingClientRect();
      const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      return across > 1 && down > Math.min(a.height, b.height) / 2;
    });
    if (collide) plots.push(name + ": its title and its legend overlap");
  }
  document.body.setAttribute("data-plots", JSON.stringify(plots.slice(0, 5)));
}, 300));
</script>"""
WIDTH, HEIGHT = 1280, 1800  # a laptop's window: the layout the overflow check measures
BUDGET_MS = 6000  # virtual time a page runs after loading: Plotly has drawn and MEASURE has run
#: Results pages: each opens with the ledger's finding on its claims, before any other number.
RESULTS = {str(nb) for nb in NOTEBOOKS if claims_on(nb)}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the book, each HTML page with :data:`MEASURE` added before its </body>."""

    def log_message(self, *args: object) -> None:  # one line per request would drown the report
        pass

    def send_head(self):  # noqa: ANN201 - http.server's own signature
        path = Path(self.translate_path(self.path))
        if path.name == "favicon.ico" and not path.is_file():  # Chromium asks, the book has none: no 404 page
            self.send_response(204)
            self.end_headers()
            return None
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes().replace(b"</body>", MEASURE + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def measured(dom: str, name: str) -> str | None:
    """What :data:`MEASURE` left on <body> as ``data-NAME`` (None: the script did not run)."""
    found = re.search(rf'<body[^>]*\bdata-{name}="([^"]*)"', dom)
    return html.unescape(found[1]) if found else None


def problems(dom: str, console: list[tuple[str, str]], base: str, page: str = "") -> list[str]:
    """What is broken on one rendered page: console errors (`console`: message and source of each line),
    empty plots, images that do not load, content running past the text column, a results page (`page`
    its name) without its finding first."""
    found = []
    overflow = measured(dom, "overflow")
    if overflow is None:
        found.append("the layout check did not run (no data-overflow on <body>)")
    else:
        found += [f"runs past the text column: {o}" for o in json.loads(overflow)]
    found += [f"plot {p}" for p in json.loads(measured(dom, "plots") or "[]")]
    if page in RESULTS:
        first, claim = dom.find(FINDING), dom.find("In one sentence")
        if first < 0 or (claim >= 0 and claim < first):
            found.append("the page does not open with its finding (the ledger's verdicts on its claims)")
    for message, source in console:
        if any(word in message for word in _BAD) and "GL Driver Message" not in message:
            found.append(f"console: {message[:160]} ({source.split('/')[-1]})")
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


def visit(browser: Chromium, root: Path, base: str, page: Path, shots: Path) -> tuple[str, list[str]]:
    """Open one page of the book served at `base` from `root`: its path and what is wrong with it.
    The screenshot covers the whole page (up to Chromium's largest surface)."""
    rel = page.relative_to(root).as_posix()
    shot = shots / (rel.replace("/", "_").removesuffix(".html") + ".png")
    shots.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    seen = browser.visit(f"{base}/{rel}", WIDTH, HEIGHT, BUDGET_MS, screenshot=shot)
    found = problems(seen.dom, seen.console, base, page.stem if page.parent.name == "notebooks" else "")
    return rel, found + ([] if shot.exists() else ["no screenshot"])


def check(root: Path, shots: Path, binary: str) -> int:
    """Every page in one browser, one after another (a page costs about a second, a browser start 2.5 s),
    each page's verdict printed as it comes."""
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)
    browser, verdicts = Chromium(binary), []
    try:
        for page in pages(root):
            try:
                rel, found = visit(browser, root, base, page, shots)
            except ChromiumError as err:  # a crashed or hung browser fails this page; the next gets a new one
                rel, found = page.relative_to(root).as_posix(), [f"chromium: {err}"]
                browser.close()
                browser = Chromium(binary)
            print(f"{'FAIL' if found else 'ok  '} {rel}" + "".join(f"\n       {p}" for p in found), flush=True)
            verdicts.append(found)
    finally:
        browser.close()
        server.shutdown()
    failed = sum(bool(found) for found in verdicts)
    print(f"{len(verdicts) - failed} of {len(verdicts)} pages clean; screenshots in {shots}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the book's _build/html folder")
    ap.add_argument("--screenshots", type=Path, help="where the screenshots go (default: HTML/../screenshots)")
    args = ap.parse_args(argv)
    browser = find_binary()
    if browser is None:
        print("check_pages: no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    if not (args.html / "index.html").is_file():
        print(f"check_pages: {args.html}: no index.html (expected a built book's _build/html)", file=sys.stderr)
        return 2
    return check(args.html.resolve(), (args.screenshots or args.html.parent / "screenshots").resolve(), browser)


if __name__ == "__main__":
    sys.exit(main())
