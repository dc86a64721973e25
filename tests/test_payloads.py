"""Names from a user's data never become markup (issue 33): a book built from a mocap file whose
file, subject and action names are script payloads shows them as text, in the HTML and in Chromium."""

import json
import os
import re
from html.parser import HTMLParser

import check_pages
import numpy as np
import pytest
from chromium import Chromium, find_binary

from drpose3d.command.cli import main
from drpose3d.formats.mocap import load_mocap, save_mocap
from drpose3d.markup import text

# each payload logs its own number when it runs; a page that ran none logs none of them
FILE = "<img src=z onerror=console.log(73310001)>"
SUBJECTS = ["S1<script>console.log(73310002)</script>", "S5`<img src=y onerror=console.log(73310003)>`"]
ACTION = "walk<svg onload=console.log(73310004)>$x$*"
RAN = re.compile(r"7331000\d")


class _Elements(HTMLParser):
    """Every element and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.found.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _handlers(parser: _Elements) -> list[str]:
    """Elements that carry one of the payloads' event handlers (the theme's own buttons have others)."""
    return [t for t, a in parser.found if any(k.startswith("on") and RAN.search(v or "") for k, v in a.items())]


def test_text_leaves_no_markup_and_reads_back_the_same():
    import html

    for value in [FILE, *SUBJECTS, ACTION, "a\nb|c", "[x](javascript:y)"]:
        inert = text(value)
        assert not set("<>`*_[]|$\n") & set(inert), inert
        assert html.unescape(inert) == value.replace("\n", " ")


@pytest.mark.slow
def test_a_book_from_payload_names_runs_none_of_them(tmp_path, monkeypatch):
    """Also a user's own mocap file end to end: the default world exported, renamed and read back,
    typed as a path relative to where the user is (resolved before the kernels, which run elsewhere)."""
    exported = tmp_path / "w.npz"
    assert main(["data", "export", "--preset", "tiny", "--out", str(exported)]) == 0
    mocap = load_mocap(exported)
    names = {s: SUBJECTS[k % len(SUBJECTS)] + str(k) for k, s in enumerate(mocap.subjects)}
    mocap.subject = np.array([names[s] for s in mocap.subject])
    mocap.action = np.array([f"{ACTION}{a}" for a in mocap.action])
    (tmp_path / "d").mkdir()
    save_mocap(mocap, tmp_path / "d" / f"{FILE}.npz")
    out = tmp_path / "out"
    args = ["reproduce", "--preset", "tiny", "--seeds", "1", "--device", "cpu", "--out", str(out)]
    only = ["--only", "data_world", "table1_upper_bound", "claims"]
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--data", f"mocap:d/{FILE}.npz", *only]) == 0
    assert json.loads((out / "run.json").read_text())["data"] == f"mocap:{tmp_path / 'd' / FILE}.npz"
    for notebook in ("data_world", "table1_upper_bound"):
        res = json.loads((out / "results" / f"{notebook}.json").read_text())
        assert res["dataset"] == f"mocap:{FILE}.npz" and res["rows"][0]["values"]  # the file's name, not its path
    assert json.loads((out / "results" / "data_world.json").read_text())["actions"][0].startswith(ACTION)

    html_root = out / "book" / "_build" / "html"
    pages = sorted((html_root / "notebooks").glob("*.html"))
    assert {p.stem for p in pages} >= {"data_world", "table1_upper_bound", "claims"}
    for page in pages:
        source = page.read_text()
        parser = _Elements()
        parser.feed(source)
        assert not _handlers(parser), page.name
        # no script element of the payloads' own (figure data that quotes the names inertly is fine)
        assert not [s for s in parser.scripts if re.fullmatch(r"\s*console\.log\(7331000\d\)\s*", s)], page.name
    shown = (html_root / "notebooks" / "data_world.html").read_text()
    assert text(SUBJECTS[0]) in shown or "S1&lt;script&gt;" in shown  # the names are there, as text

    browser = find_binary()
    if browser is None:  # CI installs it before the tests (.ci/run); a laptop without it checks the HTML only
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH in CI: the payload check must run in a real browser")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    server, base = check_pages.serve(html_root)
    try:
        with Chromium(browser) as chromium:
            for page in pages:
                rel = page.relative_to(html_root).as_posix()
                seen = chromium.visit(f"{base}/{rel}", check_pages.WIDTH, check_pages.HEIGHT, check_pages.BUDGET_MS)
                logged = [message for message, _ in seen.console]
                assert not [m for m in logged if RAN.search(m)], (rel, logged)
                parser = _Elements()
                parser.feed(seen.dom)  # the DOM after the page's scripts ran: still no element from the names
                assert not _handlers(parser), rel
    finally:
        server.shutdown()
