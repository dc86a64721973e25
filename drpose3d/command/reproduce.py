"""`drpose3d reproduce`: execute the notebooks with papermill on one resolved run, then build the
book from the executed copies (the book never executes anything itself)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from tqdm import tqdm
from traitlets import default

from drpose3d.book.ledger import FINDING, abstract, claims_on
from drpose3d.chapters import NOTEBOOKS, Notebook
from drpose3d.command.progress import fold_bars, latest_bar, progress_summary
from drpose3d.engine.cache import HEALED_LOG
from drpose3d.errors import RunError
from drpose3d.pages.captions import chapter_number
from drpose3d.pages.forest import beside_committed, drawn, forest_svg
from drpose3d.pages.plots import plotly_js_path
from drpose3d.run import load_run, parameters_of


class IPCKernelManager(AsyncKernelManager):
    """Kernels on local IPC sockets: TCP is for remote kernels, and every TCP kernel prints an
    'unencrypted transport' warning into the run's log. The sockets live in the temp folder:
    a killed run cannot clean them up, and they must not litter the run's output."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        return str(Path(tempfile.gettempdir()) / f"drpose3d-kernel-{uuid.uuid4().hex[:12]}")


@dataclass
class Failure:
    """A notebook that failed and the one-line reason (its cell and error) the CLI prints."""

    notebook: str
    message: str


#: The notebooks bar without tqdm's time left and rate: chapters take seconds or hours, so the mean
#: time of those done so far says nothing of the next (a cpu run read "<01:05" with 20 h to go).
NOTEBOOKS_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


def run_notebooks(names: list[str], run_file: Path, out: Path, root: Path) -> list[Failure]:
    """Execute each notebook into ``out/notebooks`` with the run.json it reads; a failure names
    the notebook and cell."""
    import papermill as pm

    failures = []
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    healed = out / "cache" / HEALED_LOG
    bar = tqdm(names, desc="notebooks", bar_format=NOTEBOOKS_BAR)
    for name in bar:
        target = out / "notebooks" / f"{name}.ipynb"
        started = time.time()
        seen = healed.stat().st_size if healed.exists() else 0
        try:
            with watching(bar, target, name):
                pm.execute_notebook(
                    str(root / "notebooks" / f"{name}.ipynb"),
                    str(target),
                    parameters={"run_file": str(run_file)},
                    kernel_name="python3",
                    kernel_manager_class=IPCKernelManager,
                    cwd=str(out / "notebooks"),
                    progress_bar=False,
                )
            summary = progress_summary(nbformat.read(target, as_version=4))
            tqdm.write(f"  {name}: ran in {time.time() - started:.0f} s" + (f"; {summary}" if summary else ""))
        except pm.PapermillExecutionError as err:
            failures.append(Failure(name, f"cell {err.exec_count}: {err.ename}: {err.evalue}"))
            tqdm.write(f"  {name}: FAILED in cell {err.exec_count}: {err.ename}: {err.evalue}")
        except DeadKernelError:  # a crash in native code or the memory killer: no Python error to show
            why = f"cell {_running_cell(target)}: the kernel died (a crash in native code, or out of memory)"
            failures.append(Failure(name, why))
            tqdm.write(f"  {name}: FAILED in {why}")
        if healed.exists() and healed.stat().st_size > seen:  # what the kernel's cache repaired, on our stderr
            with open(healed, encoding="utf-8") as log:
                log.seek(seen)
                for line in log.read().splitlines():
                    tqdm.write(f"  {name}: {line}", file=sys.stderr)
    return failures


def _running_cell(executed: Path) -> str:
    """The number of the cell papermill was running when the kernel died ("?" if unknown)."""
    try:
        cells = nbformat.read(executed, as_version=4).cells
    except (OSError, ValueError):
        return "?"
    running = [i for i, c in enumerate(cells) if c.metadata.get("papermill", {}).get("status") == "running"]
    return str(running[0]) if running else "?"


#: Seconds between two looks at the notebook papermill is running (it saves the copy at most every 30 s).
WATCH_S = 30.0


@contextmanager
def watching(bar: tqdm, executing: Path, name: str, every: float = WATCH_S) -> Iterator[None]:
    """While a notebook runs, show its newest progress bar beside the CLI's notebooks bar: one
    notebook of a cpu run trains for hours, and its kernel's own bars stay inside the notebook."""
    stop = threading.Event()

    def look() -> None:
        while not stop.wait(every):
            shown = latest_bar(executing)
            if shown:
                bar.set_postfix_str(f"{name}: {shown}")

    watcher = threading.Thread(target=look, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        bar.set_postfix_str("")


#: Cell tags that already decide how a code cell shows; every other code cell of a page is folded.
SHOWN_AS_IS = {"remove-cell", "remove-input", "hide-input", "hide-cell", "show-input"}
#: The kernel the notebooks name: the one ``make lab`` registers for this project's environment.
KERNELSPEC = {"display_name": "drpose3d (.venv)", "language": "python", "name": "drpose3d"}


def reader_copy(executed: Path) -> nbformat.NotebookNode:
    """An executed notebook as a reader gets it: without papermill's injected cell (it holds this
    machine's paths) and with the parameter cell hidden; the resolve cell shows the run in one line,
    and each progress bar its final state (:func:`fold_bars`). A file that is not a notebook is one
    line naming it (nbformat's error quotes the whole text)."""
    try:
        nb = nbformat.read(executed, as_version=4)
    except (ValueError, KeyError, AttributeError, UnicodeDecodeError) as err:
        kind = "not valid JSON" if isinstance(err, nbformat.reader.NotJSONError) else f"not a notebook ({err})"[:160]
        raise RunError(f"{executed}: {kind}; expected an executed notebook (rerun drpose3d reproduce)") from None
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    run_file = nb.metadata.get("papermill", {}).get("parameters", {}).get("run_file")
    ran = load_run(run_file) if run_file and Path(run_file).is_file() else None
    nb.metadata["kernelspec"] = dict(KERNELSPEC)  # the kernel `make lab` registers, not papermill's
    for k, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags:
            cell.source = parameters_of(ran) if ran else cell.source  # what it ran with, not the defaults
            cell.metadata["tags"] = [*tags, *(["remove-cell"] if "remove-cell" not in tags else [])]
            for output in nb.cells[k + 1].get("outputs", []):  # the resolve cell: the run's one readable line
                if "text/markdown" in output.get("data", {}):
                    output["data"] = {"text/markdown": output["data"]["text/markdown"]}
        elif cell.cell_type == "code" and not set(tags) & SHOWN_AS_IS:
            cell.metadata["tags"] = [*tags, "hide-input"]  # folded: the reader opens the code if they want it
        if cell.cell_type == "code":
            fold_bars(cell)
    nb.metadata.get("papermill", {}).pop("parameters", None)
    nb.metadata.get("papermill", {}).pop("input_path", None)
    nb.metadata.get("papermill", {}).pop("output_path", None)
    return nb


def not_run_copy(source: Path, name: str) -> nbformat.NotebookNode:
    """A chapter whose notebook did not run in this build: its finding (the claims it decides were
    not judged), its text, and how to run it."""
    nb = nbformat.read(source, as_version=4)
    claims = claims_on(name)
    finding = f"**{FINDING}** not judged in this build: {', '.join(claims)}.\n\n" if claims else ""
    note = nbformat.v4.new_markdown_cell(
        f"{finding}```{{note}}\nThis chapter's notebook did not run in this build, so its results are not shown. "
        f"Run it with `drpose3d reproduce --only {name}` (add the build's `--preset`, `--data` and `--out`).\n```"
    )
    nb.cells = [nb.cells[0], note] + [c for c in nb.cells[1:] if c.cell_type == "markdown"]
    return nb


#: The front page's generated part lies between these markers in book/intro.md.
FINDING_BEGIN, FINDING_END = "<!-- finding:begin -->", "<!-- finding:end -->"
FOREST = "forest.svg"


def build_book(out: Path, root: Path, source: Path | None = None) -> Path:
    """Assemble ``out/book`` (config, prose, the executed notebooks of the run folder `source`,
    default `out`, a front page that states the run's findings, and a local plotly.js) and build
    it; nothing is executed."""
    source = source or out
    executed_dir = source / "notebooks"
    book = out / "book"
    pages = {  # every page read before anything is replaced: a broken notebook leaves the old book standing
        name: reader_copy(executed_dir / f"{name}.ipynb")
        if (executed_dir / f"{name}.ipynb").exists()
        else not_run_copy(root / "notebooks" / f"{name}.ipynb", name)
        for name in NOTEBOOKS
    }
    for sub in ("book", "notebooks", "_static"):
        shutil.rmtree(book / sub, ignore_errors=True)
    shutil.copytree(root / "book", book / "book")
    (book / "notebooks").mkdir(parents=True)
    for name, page in pages.items():
        nbformat.write(page, book / "notebooks" / f"{name}.ipynb")
    for conf in ("_config.yml", "_toc.yml"):
        shutil.copy(root / conf, book / conf)
    (book / "_static").mkdir()
    shutil.copy(plotly_js_path(), book / "_static" / "plotly.min.js")
    shutil.copy(root / "book" / "style.css", book / "_static" / "drpose3d.css")
    write_front_page(book, source, root)
    exe = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(exe), "build", str(book), "--quiet"], check=True)
    for page in (book / "_build" / "html").rglob("*.html"):
        _drop_repeated_thebe_config(page)
    return book / "_build" / "html" / "index.html"


def write_front_page(book: Path, source: Path, root: Path) -> None:
    """The front page's finding: the abstract from the run's ledger and the forest plot of its
    claims, beside the committed run of the same preset on the other world when there is one."""
    runs = root / "runs"
    ledgers = beside_committed(source, runs)
    (book / "_static" / FOREST).write_text(forest_svg(ledgers), encoding="utf-8")
    claims = chapter_number(Notebook.CLAIMS, root / "_toc.yml")
    figure = (
        f"![Every claim's relative effect with its 95 % interval beside the paper's](../_static/{FOREST})\n\n"
        f"**The claims at a glance** (the claims chapter's first figure, Figure {claims}.1). "
        "*Each row a claim of the paper: the paper's relative effect (black diamond) and this book's mean and 95 % "
        "Student-t interval over seeds (dots and lines), in % of the claim's control; an interval that runs past the "
        f"axis ends in an arrow (hover for its extent); the verdicts on the right. {drawn(ledgers, runs)}*"
    )
    intro = book / "book" / "intro.md"
    head, _, rest = intro.read_text(encoding="utf-8").partition(FINDING_BEGIN)
    _, _, tail = rest.partition(FINDING_END)
    intro.write_text(f"{head}{FINDING_BEGIN}\n{abstract(source)}\n\n{figure}\n{FINDING_END}{tail}", encoding="utf-8")


def _drop_repeated_thebe_config(page: Path) -> None:
    """sphinx-thebe (as jupyter-book 1 loads it) writes its ``const THEBE_JS_URL`` script twice
    into notebook pages, and the second is a JavaScript SyntaxError in every browser; keep one.
    The book does not use thebe, and tools/check_pages.py fails on any such error."""
    html = page.read_text(encoding="utf-8")
    script = re.search(r"<script>const THEBE_JS_URL = [^<]*</script>\n?", html)
    if script and html.count(script.group(0)) > 1:
        first = html.index(script.group(0)) + len(script.group(0))
        page.write_text(html[:first] + html[first:].replace(script.group(0), ""), encoding="utf-8")
