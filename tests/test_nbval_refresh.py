"""The nbval copies (tests/nbval/) compare a notebook's outputs exactly: only what every CPU computes
bit for bit may be compared, and rendered pixels are not (tools/nbval_refresh.py)."""

from pathlib import Path

import nbformat
import nbval_refresh  # tools/ is on pytest's path (pyproject.toml)

ROOT = Path(__file__).parents[1]


def _cell(*traces: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("fig.show()")
    figure = {"data": [{"type": t} for t in traces], "layout": {}}
    cell.outputs = [nbformat.v4.new_output("display_data", {"application/vnd.plotly.v1+json": figure})]
    return cell


def test_a_cell_drawing_rendered_crops_is_told_apart_from_one_drawing_numbers():
    assert nbval_refresh.shows_rendered_pixels(_cell("scatter", "image"))
    assert not nbval_refresh.shows_rendered_pixels(_cell("scatter", "scatter3d"))
    text = nbformat.v4.new_code_cell("1")
    text.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=1)]
    assert not nbval_refresh.shows_rendered_pixels(text)


def test_the_stored_copies_compare_every_output_but_rendered_pixels():
    tagged = untagged = 0
    for path in sorted((ROOT / "tests" / "nbval").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            ignored = nbval_refresh.IGNORE_OUTPUT in cell.metadata.get("tags", [])
            assert ignored == nbval_refresh.shows_rendered_pixels(cell), (path.name, cell.source[:80])
            tagged += ignored
            untagged += cell.cell_type == "code" and not ignored
    assert tagged >= 1 and untagged > 10  # the data world's crop gallery; everything else compared
