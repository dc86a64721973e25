"""Chapters a new run borrows from a committed run of the same preset and data instead of
executing them again (``drpose3d reproduce --carry runs/NAME``).

Why: a converged cpu run trains for days on 2 cores, in sittings, and its cache lives on the machine
that runs it; a machine lost between sittings takes the cache with it. What survives is what was
committed, chapter by chapter. A committed chapter stands in for executing it again when the source
that computed its numbers is unchanged since the commit it ran at (its notebook, every package
module its code imports, the embedded data) and it ran with the same preset, data, seed count and
device: executing it again, in the environment the Makefile installs (torch 2.13.0; the results do
not record torch's version), would compute the same numbers, to within what another machine's
floating point moves (the second and third cpu attempts, on different machines, agreed to 0.1 mm).
So a run's chapters may come from several machines, and a network a later chapter trains again
(Table 2's protocol #1 stage 1, which Fig. 5(a) trained) is that machine's. Modules that only turn
numbers into words and pictures (:data:`PRESENTATION`) may have changed since; the page then shows
them as they were.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat

from drpose3d.book.results import COMMIT
from drpose3d.chapters import Notebook
from drpose3d.engine.fileio import atomic_path
from drpose3d.engine.keys import PACKAGE, module_closure
from drpose3d.errors import RunError
from drpose3d.run import Run

#: Chapters that read the whole run they belong to (its other chapters, its timings): always executed.
NEVER_CARRIED = (Notebook.CLAIMS, Notebook.PERFORMANCE)
#: Modules that turn a chapter's numbers into words and pictures and compute none of them.
PRESENTATION = (f"{PACKAGE}.pages", f"{PACKAGE}.markup", f"{PACKAGE}.book.ledger")
#: Data the package embeds (the CMU motion): read by the worlds, yet no module's source.
EMBEDDED = f"{PACKAGE}/data"
#: What a run is, as its notebooks' parameter cell names it: a chapter is carried only into the same.
RUN_PARAMETERS = ("preset", "data", "seeds", "device")


@dataclass(frozen=True)
class Borrowed:
    """One chapter of the committed run: carried (`why_not` empty) or why it must run again."""

    chapter: str
    commit: str = ""
    why_not: str = ""


def numbers_sources(chapter: str, root: Path) -> list[str]:
    """The files, relative to the checkout, whose change could change what `chapter` computes:
    its notebook, the package modules its code cells import (transitively) other than
    :data:`PRESENTATION`, and the embedded data."""
    nb = nbformat.read(root / "notebooks" / f"{chapter}.ipynb", as_version=4)
    code = "\n".join(
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if not line.lstrip().startswith(("%", "!"))  # IPython's magics and shell lines are not Python
    )
    modules = {m for top in _imported(code, root) for m in module_closure(top)}
    computing = sorted(m for m in modules if not any(m == p or m.startswith(f"{p}.") for p in PRESENTATION))
    return [f"notebooks/{chapter}.ipynb", *(_module_path(m, root) for m in computing), EMBEDDED]


def _imported(code: str, root: Path) -> set[str]:
    """The package modules a notebook's code names in its imports (`from drpose3d.book import
    ledger` names the package and its submodule)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {n for n in names if n.split(".")[0] == PACKAGE and _module_path(n, root) is not None}


def _module_path(module: str, root: Path) -> str | None:
    base = "/".join(module.split("."))
    return next((f for f in (f"{base}.py", f"{base}/__init__.py") if (root / f).is_file()), None)


def ran_with(notebook: Path) -> dict[str, object]:
    """The run a committed chapter executed in, from its parameter cell (a reader copy shows the
    values it ran with: preset, data label, seed count, device)."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return {}
    return {
        node.target.id: ast.literal_eval(node.value)
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None
    }


def changed_since(commit: str, paths: list[str], root: Path) -> list[str] | None:
    """Which of `paths` differ between `commit` and the working tree of the checkout at `root`;
    None when the checkout does not hold `commit` (a shallow clone, another repository)."""
    git = ["git", "-C", str(root)]
    known = subprocess.run([*git, "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False)
    if known.returncode:
        return None
    diff = subprocess.run([*git, "diff", "--name-only", commit, "--", *paths], capture_output=True, text=True)
    if diff.returncode:
        raise RunError(f"--carry: git diff against {commit[:12]} failed: {diff.stderr.strip()}")
    return diff.stdout.split()


def check_committed(committed: Path, run: Run, root: Path) -> None:
    """Refuse, before any work, a ``--carry`` that cannot lend anything: a folder that is not a
    committed run, data from a user's file (the carried numbers would name a file's content the
    check cannot compare), or a checkout git cannot compare."""
    if run.data.path is not None or run.data.options:
        raise RunError(f"--carry: the data is {run.data}; only the generated world and the embedded motion carry")
    if not (committed / "notebooks").is_dir():
        raise RunError(f"--carry: {committed} holds no notebooks/ (expected a committed run, e.g. runs/cpu)")
    if subprocess.run(["git", "-C", str(root), "rev-parse"], capture_output=True, check=False).returncode:
        raise RunError(f"--carry compares sources with git, and {root} is not a git checkout")


def examine(committed: Path, run: Run, root: Path, chapters: list[str]) -> list[Borrowed]:
    """For each chapter of `chapters` that `committed` holds, whether it can stand in for
    executing it again in `run`."""
    check_committed(committed, run, root)
    found = []
    for chapter in chapters:
        result_file, notebook = committed / f"{chapter}.json", committed / "notebooks" / f"{chapter}.ipynb"
        if chapter in NEVER_CARRIED or not (result_file.is_file() and notebook.is_file()):
            continue
        found.append(_judge(chapter, json.loads(result_file.read_text(encoding="utf-8")), notebook, run, root))
    return found


def _judge(chapter: str, result: dict, notebook: Path, run: Run, root: Path) -> Borrowed:
    commit = str(result.get(COMMIT) or "")
    given = ran_with(notebook)
    ran = tuple(given.get(k) for k in RUN_PARAMETERS)
    wanted = (run.preset.name, run.data.label, len(run.seeds), run.device)
    if ran != wanted:
        said, has = (", ".join(f"{k} {v!r}" for k, v in zip(RUN_PARAMETERS, vs, strict=True)) for vs in (ran, wanted))
        return Borrowed(chapter, commit, f"ran with {said}; this run has {has}")
    if not commit or commit.endswith("+dirty"):
        return Borrowed(chapter, commit, "ran from a checkout with uncommitted changes, so its source is unknown")
    changed = changed_since(commit, numbers_sources(chapter, root), root)
    if changed is None:
        return Borrowed(chapter, commit, f"ran at {commit[:12]}, which this checkout does not hold")
    if changed:
        return Borrowed(chapter, commit, f"{', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''} changed since")
    return Borrowed(chapter, commit)


def carry(committed: Path, run: Run, root: Path, chapters: list[str]) -> list[Borrowed]:
    """Copy into ``run.out`` each chapter of `committed` that can stand in for executing it
    (results JSON and reader copy); returns every chapter examined."""
    judged = examine(committed, run, root, chapters)
    for name in (b.chapter for b in judged if not b.why_not):
        for source, target in (
            (committed / f"{name}.json", run.out / "results" / f"{name}.json"),
            (committed / "notebooks" / f"{name}.ipynb", run.out / "notebooks" / f"{name}.ipynb"),
        ):
            with atomic_path(target) as part:  # a reader never meets half a file
                shutil.copyfile(source, part)
    return judged
