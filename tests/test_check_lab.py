"""The JupyterLab check opens notebooks in a real lab and fails one a reader could not run as shipped."""

import json
import shutil

import check_lab
import pytest

NOTEBOOK_DIR = check_lab.ROOT / "notebooks"


@pytest.mark.usefixtures("chromium_binary")  # the check finds the browser itself
def test_a_notebook_on_a_kernel_the_lab_lacks_fails_and_a_shipped_one_passes(tmp_path, capsys):
    shipped = NOTEBOOK_DIR / "fig6_pairwise_accuracy.ipynb"
    shutil.copy(shipped, tmp_path / shipped.name)
    notebook = json.loads((NOTEBOOK_DIR / "claims.ipynb").read_text())
    notebook["metadata"]["kernelspec"] = {"name": "no-such-kernel", "display_name": "gone", "language": "python"}
    (tmp_path / "claims.ipynb").write_text(json.dumps(notebook, indent=1))
    assert check_lab.main([str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    failed = next(line for line in lines if line.startswith("FAIL claims.ipynb"))
    assert "not 'drpose3d'" in failed  # whatever else the lab does with a kernel it lacks, it runs no drpose3d
    assert f"ok   {shipped.name}" in lines
