"""The package's structural promises: the paper's numbers live in one module, a run is resolved
once (the same way from the CLI and by hand), every notebook opens with the same two cells, and
stage functions never touch the cache."""

import ast
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

from drpose3d.errors import RunError
from drpose3d.presets import get_preset
from drpose3d.run import PARAMETER_CELL, RESOLVE_CELL, Run, load_run, notebook_run, project_root, resolve

ROOT = Path(__file__).resolve().parents[1]
#: Every number the package takes from the paper's tables, figures and text.
PAPER_NUMBERS = (
    "45.5",
    "41.2",
    "30.2",
    "33.6",
    "33.63",
    "91.22",
    "88.86",
    "96.71",
    "62.9",
    "47.7",
    "84.9",
    "57.8",
    "42.9",
    "62.8",
    "69.0",
    "66.0",
    "68.1",
    "64.8",
    "82.2",
    "12.53",
    "2.36",
    "109.54",
    "97.01",
    "46.40",
    "45.45",
    "19.4",
)


def _sources() -> list[Path]:
    files = sorted((ROOT / "drpose3d").rglob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    return [f for f in files if f.name != "paper.py"]


def test_only_paper_py_types_the_papers_numbers():
    pattern = re.compile(r"(?<![\d.])(" + "|".join(re.escape(n) for n in PAPER_NUMBERS) + r")(?![\d])")
    found = {f"{f.relative_to(ROOT)}: {m.group(0)}" for f in _sources() for m in pattern.finditer(f.read_text())}
    assert not found, sorted(found)
    assert pattern.search((ROOT / "drpose3d" / "paper.py").read_text())  # the pattern does find them where they live


def test_every_notebook_opens_with_the_canonical_parameter_and_resolve_cells():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert nb.cells[tagged[0]].source == PARAMETER_CELL, path.name
        assert nb.cells[tagged[0] + 1].source == RESOLVE_CELL, path.name
        later = ast.parse("\n".join(c.source for c in nb.cells[tagged[0] + 2 :] if c.cell_type == "code"))
        names = {n.id for n in ast.walk(later) if isinstance(n, ast.Name)}
        assert not names & {"preset", "data", "seeds", "device", "out", "run_file"}, path.name  # only `run` is read


def test_a_hand_run_resolves_like_the_cli_and_writes_the_same_run_json(tmp_path):
    by_hand = notebook_run("tiny", "synthetic", 0, "cpu", str(tmp_path), "")
    assert by_hand.seeds == tuple(range(get_preset("tiny").seeds))  # 0: the preset's count, as `reproduce`
    assert by_hand == resolve("tiny", "synthetic", 0, "cpu", tmp_path)
    written = json.loads((tmp_path / "run.json").read_text())
    assert written["preset"]["lifter_train"]["epochs"] == get_preset("tiny").lifter_train.epochs
    assert {"preset", "data", "seeds", "device", "out", "package_version", "commit"} <= written.keys()
    handed = notebook_run("paper", "nonsense", 9, "cuda", "/elsewhere", str(tmp_path / "run.json"))
    assert handed == by_hand  # with run_file set the other parameters are not used
    assert resolve("tiny").out == project_root() / "_out"  # "" means the project's _out, wherever papermill started


def test_run_json_round_trips_and_bad_files_get_one_line_errors(tmp_path):
    run = resolve("smoke", "synthetic?test=S9", 3, "cpu", tmp_path)
    assert Run.from_json(json.loads(run.save().read_text())) == run
    (tmp_path / "broken.json").write_text("{not json")
    for path, message in (
        (tmp_path / "missing.json", "no such run file"),
        (tmp_path / "broken.json", "not a run file"),
    ):
        with pytest.raises(RunError, match=message) as err:
            load_run(path)
        assert "\n" not in str(err.value)
    with pytest.raises(RunError, match="seeds is -1"):
        resolve("tiny", seeds=-1)


def _calls_on(tree: ast.AST, name: str) -> set[str]:
    """Attributes called on a variable or attribute named `name` (``x.cache.load(...)`` -> {"load"})."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (isinstance(owner, ast.Name) and owner.id == name) or (
                isinstance(owner, ast.Attribute) and owner.attr == name
            ):
                found.add(node.func.attr)
    return found


def test_stage_functions_never_touch_the_cache_and_the_chain_uses_only_the_wrapper():
    stages = ROOT / "drpose3d" / "stages"
    for module in ("pose2d.py", "prcnn.py", "dpnet.py"):
        tree = ast.parse((stages / module).read_text())
        imported = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "drpose3d.cache"
            for a in n.names
        }
        assert imported <= {"Checkpoints"}, module  # a checkpoint handle, never the cache
        assert not _calls_on(tree, "cache"), module
    chain = ast.parse((stages / "pipeline.py").read_text())
    assert _calls_on(chain, "cache") == {"stage"}


def test_the_benchmark_is_not_shipped_in_the_package():
    assert importlib.util.find_spec("drpose3d.bench") is None
    assert (ROOT / "bench" / "measure.py").exists()


def test_the_presets_table_in_readme_and_book_is_the_presets_own():
    from drpose3d.book.summaries import presets_table
    from drpose3d.paper import DPNET_EPOCHS

    table = presets_table()
    epochs = next(line for line in table.splitlines() if line.startswith("| lifter epochs"))
    assert epochs.endswith(f"| {DPNET_EPOCHS} | {DPNET_EPOCHS} |")  # the paper preset is the paper's
    for path in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        text = path.read_text()
        between = text[text.index("<!-- presets:begin -->") + 22 : text.index("<!-- presets:end -->")]
        assert between.strip() == table, f"{path.name}: run tools/readme_ledger.py"
        assert "faithful" not in text
