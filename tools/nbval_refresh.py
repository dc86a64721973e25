"""Re-make the executed notebooks that ``make test`` re-runs with nbval (tests/nbval/).

    python tools/nbval_refresh.py

Only the chapters whose numbers involve no training (the data world, the real motion) are kept
for nbval: the generated world, its projections and the CMU import are deterministic on every
machine, while a trained network's last digits depend on the CPU's BLAS. Each notebook runs at
the tiny preset with one seed into ``_out/nbval`` (relative, so no machine path is stored);
commit the result when a change to the world is meant.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import papermill as pm

from drpose3d.chapters import Notebook
from drpose3d.command.reproduce import IPCKernelManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = (Notebook.DATA_WORLD, Notebook.REAL_MOTION)
PARAMETERS = {"preset": "tiny", "seeds": 1, "device": "cpu", "out": "_out/nbval"}
#: What the sanitiser (tests/nbval/sanitize.cfg) blanks anyway, blanked in the stored copy too.
_MACHINE = re.compile(r"PosixPath\('[^']*'\)|commit='[^']*'")
#: nbval's tag for a cell that must run but whose outputs are not compared.
IGNORE_OUTPUT = "nbval-ignore-output"


def shows_rendered_pixels(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell draws rendered crops (a plotly image trace). Their pixels are float arithmetic
    whose last bits follow the CPU's code path: torch's scalar path (a CPU without AVX2,
    ``ATEN_CPU_CAPABILITY=default``) changes them where AVX2 and AVX-512 agree. nbval compares
    outputs exactly, so these cells run without their outputs compared; tests/test_render.py checks
    the renderer within a stated tolerance."""
    figures = (o.get("data", {}).get("application/vnd.plotly.v1+json") for o in cell.get("outputs", []))
    return any(t.get("type") == "image" for f in figures if f for t in f.get("data", []))


def main() -> None:
    target = ROOT / "tests" / "nbval"
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / "_out", ignore_errors=True)  # as make test runs them: nothing cached
    os.environ["TQDM_DISABLE"] = "1"  # the kernels inherit it: no progress bars in the outputs
    for name in NOTEBOOKS:
        path = target / f"{name}.ipynb"
        pm.execute_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"), str(path), parameters=PARAMETERS,
                            kernel_name="python3", kernel_manager_class=IPCKernelManager, cwd=str(target),
                            progress_bar=False)  # fmt: skip
        nb = nbformat.read(path, as_version=4)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            if shows_rendered_pixels(cell):
                cell.metadata["tags"] = [*cell.metadata.get("tags", []), IGNORE_OUTPUT]
            for output in cell.get("outputs", []):  # the run's repr names this machine's folder
                plain = output.get("data", {}).get("text/plain")
                if plain:
                    output["data"]["text/plain"] = _MACHINE.sub("PATH", plain)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
