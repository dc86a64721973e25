"""Re-make the executed notebooks that ``make test`` re-runs with nbval (tests/nbval/).

    python tools/nbval_refresh.py

Only the chapters whose numbers involve no training (the data world, the real motion) are kept
for nbval: the generated world, its projections and the CMU import are deterministic on every
machine, while a trained network's last digits depend on the CPU's BLAS. Each notebook runs at
the tiny preset with one seed into ``_out/nbval`` (relative, so no machine path is stored);
commit the result when a change to the world is meant.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm

from drpose3d.book.notebooks import IPCKernelManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("data_world", "real_motion")
PARAMETERS = {"preset": "tiny", "seeds": 1, "device": "cpu", "out": "_out/nbval"}


def main() -> None:
    target = ROOT / "tests" / "nbval"
    target.mkdir(parents=True, exist_ok=True)
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
            if cell.cell_type == "code":  # stderr is progress bars and timing: not a result
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
