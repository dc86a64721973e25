"""`drpose3d reproduce`: execute the notebooks with papermill on one resolved run, then build the
book from the executed copies (the book never executes anything itself)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from drpose3d.book.plots import plotly_js_path

#: Notebooks in book order; each is one table or figure of the paper.
NOTEBOOKS: tuple[str, ...] = (
    "data_world",
    "real_motion",
    "fig5a_prcnn_ablation",
    "fig6_pairwise_accuracy",
    "table1_upper_bound",
    "table2_protocols",
    "fig5b_dpnet_ablation",
    "fig4_per_joint",
    "fig7_qualitative",
    "ranking_to_depth",
    "ranking_noise",
    "claims",
    "performance",
)


@dataclass
class Failure:
    notebook: str
    message: str


def run_notebooks(names: list[str], run_file: Path, out: Path, root: Path) -> list[Failure]:
    """Execute each notebook into ``out/notebooks`` with the run.json it reads; a failure names
    the notebook and cell."""
    import papermill as pm

    failures = []
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    for name in tqdm(names, desc="notebooks", unit="nb"):
        target = out / "notebooks" / f"{name}.ipynb"
        started = time.time()
        try:
            pm.execute_notebook(
                str(root / "notebooks" / f"{name}.ipynb"),
                str(target),
                parameters={"run_file": str(run_file)},
                kernel_name="python3",
                cwd=str(out / "notebooks"),
                progress_bar=False,
            )
            tqdm.write(f"  {name}: ran in {time.time() - started:.0f} s")
        except pm.PapermillExecutionError as err:
            failures.append(Failure(name, f"cell {err.exec_count}: {err.ename}: {err.evalue}"))
            tqdm.write(f"  {name}: FAILED in cell {err.exec_count}: {err.ename}: {err.evalue}")
    return failures


def build_book(out: Path, root: Path) -> Path:
    """Assemble ``out/book`` (config, prose, executed notebooks, local plotly.js) and build it."""
    book = out / "book"
    for sub in ("book", "notebooks", "_static"):
        shutil.rmtree(book / sub, ignore_errors=True)
    shutil.copytree(root / "book", book / "book")
    (book / "notebooks").mkdir(parents=True)
    for name in NOTEBOOKS:
        executed = out / "notebooks" / f"{name}.ipynb"
        shutil.copy(executed if executed.exists() else root / "notebooks" / f"{name}.ipynb", book / "notebooks")
    for conf in ("_config.yml", "_toc.yml"):
        shutil.copy(root / conf, book / conf)
    (book / "_static").mkdir()
    shutil.copy(plotly_js_path(), book / "_static" / "plotly.min.js")
    exe = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(exe), "build", str(book), "--quiet"], check=True)
    return book / "_build" / "html" / "index.html"
