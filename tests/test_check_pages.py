"""The real-browser check: its verdicts on pages as Chromium hands them over, then in Chromium itself."""

import shutil
import socket

import check_pages
import pytest
from chromium import Chromium, ChromiumError

from drpose3d.pages import plots

_MEASURED = '<body data-overflow="[]">'  # what the check's layout script leaves on a page with nothing too wide
_DRAWN = (
    _MEASURED + '<div class="plotly-graph-div js-plotly-plot"><div class="user-select-none svg-container"></div></div>'
)
_EMPTY = '<div class="plotly-graph-div js-plotly-plot"></div>'


def _log(message: str) -> list[tuple[str, str]]:
    return [(message, "http://127.0.0.1:1/notebooks/x.html")]


def test_a_clean_page_passes_and_each_kind_of_breakage_is_named(tmp_path):
    root = tmp_path / "html"
    (root / "_static").mkdir(parents=True)
    (root / "_static" / "fig.png").write_bytes(b"png")
    server, base = check_pages.serve(root)
    try:
        clean = _DRAWN + '<img src="/_static/fig.png"><img src="data:image/png;base64,AAAA">'
        assert check_pages.problems(clean, _log("[PST]: Changed to auto mode"), base) == []
        assert check_pages.problems(_DRAWN, _log("[.WebGL-0x1]GL Driver Message (OpenGL, Performance)"), base) == []
        found = check_pages.problems(
            _DRAWN + _EMPTY + '<img src="/_static/missing.png"><img src="https://cdn.example.org/x.png">',
            _log("Uncaught SyntaxError: Identifier 'X' has already been declared")
            + _log("Failed to load resource: the server responded with a status of 404 (File not found)"),
            base,
        )
    finally:
        server.shutdown()
    assert any("Uncaught SyntaxError" in f for f in found) and any("Failed to load resource" in f for f in found)
    assert "1 of 2 plot containers stayed empty" in found
    assert any("missing.png does not load" in f for f in found) and any("outside the book" in f for f in found)


def test_pages_are_the_index_the_prose_and_the_notebooks(tmp_path):
    for rel in ("index.html", "book/intro.html", "notebooks/fig6.html", "_static/x.html", "genindex.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>")
    names = [p.relative_to(tmp_path).as_posix() for p in check_pages.pages(tmp_path)]
    assert names == ["index.html", "book/intro.html", "notebooks/fig6.html"]


def test_the_book_build_keeps_one_thebe_config_script(tmp_path):
    from drpose3d.command.reproduce import _drop_repeated_thebe_config

    script = '<script>const THEBE_JS_URL = "https://unpkg.com/thebe"; const thebe_selector = ".cell"</script>\n'
    page = tmp_path / "p.html"
    page.write_text(f"<head>{script}<link>{script}</head><body>{_DRAWN}</body>")
    _drop_repeated_thebe_config(page)
    assert page.read_text().count("THEBE_JS_URL") == 1 and _DRAWN in page.read_text()
    _drop_repeated_thebe_config(page)  # a page with one is left alone
    assert page.read_text().count("THEBE_JS_URL") == 1


def test_the_check_measures_the_laid_out_page_in_chromium(tmp_path, chromium_binary):
    """A table wider than the text column fails; the same table in a scroll box that fits passes, and one
    in a cell tagged full-width passes while it fits the window; a results page whose first number is not
    its finding fails; so does a chart with an untitled axis or a nameless legend entry, and one whose
    legend, wrapped above the plot, runs into its title (not when the margin holds both); the screenshot
    covers the whole page; a script's uncaught error and a missing image reach the verdict from the
    browser's own console."""
    wide = '<table style="width:2400px"><tr><td>a row far wider than any column</td></tr></table>'
    chart = """<div id="c" class="plotly-graph-div" style="width:500px;height:300px"></div><script>
      Plotly.newPlot("c", [{x: [1, 2], y: [3, 4], name: "seed 0"}, {x: [1, 2], y: [4, 5], name: " "}],
                     {title: {text: "Untitled y"}, xaxis: {title: {text: "epoch"}}});</script>"""
    legend = "{orientation: 'h', yanchor: 'bottom', y: 1.02, x: 0}"  # above the plot, as on the book's charts
    entries = ", ".join(f"{{x: [1], y: [{k}], name: 'a legend entry long enough to wrap {k}'}}" for k in range(4))
    crowded = f"""<div id="t" class="plotly-graph-div" style="width:500px;height:400px"></div><script>
      Plotly.newPlot("t", [{entries}], {{title: {{text: "Crowded"}}, legend: {legend}, margin: {{t: 60}},
                     xaxis: {{title: {{text: "x"}}}}, yaxis: {{title: {{text: "y"}}}}}});</script>
      <div id="u" class="plotly-graph-div" style="width:500px;height:400px"></div><script>
      Plotly.newPlot("u", [{entries}], {{title: {{text: "Roomy"}}, legend: {legend}, margin: {{t: 160}},
                     xaxis: {{title: {{text: "x"}}}}, yaxis: {{title: {{text: "y"}}}}}});</script>"""
    pages = {
        "notebooks/crowded.html": f"<article><p>Finding: x</p>{crowded}</article>",
        "notebooks/wide.html": f"<article style='width:600px'><p>Finding: x</p>{wide}</article>",
        "notebooks/held.html": f"<article style='width:600px'><div style='overflow-x:auto'>{wide}</div></article>",
        "notebooks/margin.html": "<article style='width:600px'><div class='tag_full-width'>"
        "<table style='width:900px'><tr><td>into the margin, inside the window</td></tr></table></div></article>",
        "notebooks/past.html": f"<article style='width:600px'><div class='tag_full-width'>{wide}</div></article>",
        "notebooks/table1_upper_bound.html": "<article><p>In one sentence: 3 mm</p><p>Finding: later</p></article>",
        "notebooks/chart.html": f"<article><p>Finding: x</p>{chart}<div style='height:4000px'></div></article>",
        "notebooks/broken.html": "<article><p>Finding: x</p><img src='gone.png'><script>notDefined()</script>",
    }
    for rel, body in pages.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        head = '<head><script src="../plotly.min.js"></script></head>' if "Plotly" in body else ""
        (tmp_path / rel).write_text(f"<html>{head}<body>{body}</body></html>")
    shutil.copy(plots.plotly_js_path(), tmp_path / "plotly.min.js")
    server, base = check_pages.serve(tmp_path)
    try:
        with Chromium(chromium_binary) as browser:  # one browser for every page, as the check runs it
            found = {
                rel: check_pages.visit(browser, tmp_path, base, tmp_path / rel, tmp_path / "shots")[1] for rel in pages
            }
    finally:
        server.shutdown()
    assert any(f.startswith("runs past the text column: table") for f in found["notebooks/wide.html"])
    assert found["notebooks/held.html"] == [] and found["notebooks/margin.html"] == []  # full-width: the window
    assert any(f.startswith("runs past the text column: table") for f in found["notebooks/past.html"])
    assert found["notebooks/table1_upper_bound.html"] == [
        "the page does not open with its finding (the ledger's verdicts on its claims)"
    ]
    assert found["notebooks/chart.html"] == [
        "plot Untitled y: yaxis has tick labels but no title",
        "plot Untitled y: legend entry 1 has no name",
    ]
    assert found["notebooks/crowded.html"] == ["plot Crowded: its title and its legend overlap"]  # not Roomy
    broken = found["notebooks/broken.html"]
    assert any(f.startswith("console: Uncaught ReferenceError: notDefined is not defined") for f in broken), broken
    assert any(f.startswith("console: Failed to load resource") and "gone.png" in f for f in broken), broken
    assert any(f.startswith("image gone.png does not load") for f in broken), broken
    png = (tmp_path / "shots" / "notebooks_chart.png").read_bytes()
    assert int.from_bytes(png[20:24], "big") > 4000  # the PNG header's height: the whole page, not the window


def test_a_page_that_never_answers_fails_within_the_timeout_and_the_browser_goes_on(chromium_binary):
    """A server that accepts and never replies would hold a visit forever: it ends at the timeout with
    ChromiumError naming it, and the same browser then opens a page that answers."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # the kernel accepts connections; nobody reads or writes
    with silent, Chromium(chromium_binary, timeout=3) as browser:
        with pytest.raises(ChromiumError, match="within 3 s"):
            browser.visit(f"http://127.0.0.1:{silent.getsockname()[1]}/", 800, 600, 100)
        browser.timeout = 60
        seen = browser.visit("data:text/html,<p>still here</p><script>console.log(7)</script>", 800, 600, 100)
    assert "still here" in seen.dom and "7" in [message for message, _ in seen.console]


def test_the_command_prints_each_pages_verdict_and_fails_when_one_page_does(tmp_path, capsys, chromium_binary):
    wide = "<table style='width:2400px'><tr><td>too wide</td></tr></table>"
    for rel, body in {"index.html": "<p>Home</p>", "book/wide.html": f"<article style='width:600px'>{wide}"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"<html><body>{body}</body></html>")
    assert check_pages.main([str(tmp_path), "--screenshots", str(tmp_path / "shots")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ok   index.html" and out[1] == "FAIL book/wide.html", out
    assert out[2].strip().startswith("runs past the text column: table") and out[-1].startswith("1 of 2 pages clean")
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == ["book_wide.png", "index.png"]
