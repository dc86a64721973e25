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

from drpose3d.errors import DataError, RunError
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
    good = json.loads(run.save().read_text())
    for key, value, message in (
        ("seeds", [0, -1], "key 'seeds' is [0, -1], expected a non-empty list of seeds"),
        ("seeds", "3", "key 'seeds' is '3'"),
        ("device", "tpu", "key 'device' is 'tpu', expected 'cpu' or 'cuda'"),
        ("data", 7, "key 'data' is 7, expected a data spec string"),
        ("data", "kinect", "data is 'kinect', expected synthetic"),
        ("preset", {"name": "smoke", "width": "wide", "bogus": 1}, "has no field 'bogus'"),
        ("out", None, "key 'out' is None"),
    ):
        (tmp_path / "edited.json").write_text(json.dumps({**good, key: value}))
        with pytest.raises((RunError, DataError), match=re.escape(message)) as err:
            load_run(tmp_path / "edited.json")
        assert "\n" not in str(err.value)


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
            if isinstance(n, ast.ImportFrom) and n.module == "drpose3d.engine.cache"
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
    from drpose3d.pages.tables import presets_table
    from drpose3d.paper import DPNET_EPOCHS

    table = presets_table()
    epochs = next(line for line in table.splitlines() if line.startswith("| lifter epochs"))
    assert epochs.endswith(f"| {DPNET_EPOCHS} | {DPNET_EPOCHS} |")  # the paper preset is the paper's
    for path in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        text = path.read_text()
        between = text[text.index("<!-- presets:begin -->") + 22 : text.index("<!-- presets:end -->")]
        assert between.strip() == table, f"{path.name}: run tools/readme_ledger.py"
        assert "faithful" not in text


#: Names that are also ordinary words of the code, with why a literal of them is not the name:
#: `"images"` is the crops' field in batches and figure dicts; `"full"` is scikit-learn's covariance type.
_ORDINARY_WORDS = {"images", "full"}


def _code_of(path: Path) -> str:
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = nbformat.read(path, as_version=4).cells
    return "\n".join(c.source for c in cells if c.cell_type == "code")


def test_no_stage_notebook_or_row_name_is_typed_outside_its_defining_module():
    """A mistyped name silently reads seed 0, an empty page or a missing row; an enum member fails
    at import. Checked: every string literal (not f-string parts) of the package, the notebooks,
    tools/ and bench/."""
    from enum import Enum

    from drpose3d import paper
    from drpose3d.chapters import Notebook
    from drpose3d.stages.identity import Stage

    enums = [v for v in vars(paper).values() if isinstance(v, type) and issubclass(v, Enum) and v is not Enum]
    names = {str(m): f"{e.__name__}.{m.name}" for e in [*enums, Notebook, Stage] for m in e}
    assert {"2D pose", "claims", "gt2d_no_rank", "baseline"} <= names.keys()
    defining = {ROOT / "drpose3d" / "chapters.py", ROOT / "drpose3d" / "stages" / "identity.py"}  # and paper.py
    files = [*_sources(), *(ROOT / "tools").glob("*.py"), *(ROOT / "bench").glob("*.py")]  # _sources skips paper.py
    found = []
    for path in sorted(set(files) - defining):
        tree = ast.parse(_code_of(path))
        in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings:
                if node.value in names and node.value not in _ORDINARY_WORDS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}, use {names[node.value]}")
    assert not found, found
    stage = ROOT / "drpose3d" / "stages" / "identity.py"  # and the defining module types each name once
    literals = [n.value for n in ast.walk(ast.parse(stage.read_text())) if isinstance(n, ast.Constant)]
    assert all(literals.count(str(s)) == 1 for s in Stage if str(s) not in _ORDINARY_WORDS)


def _documented(obj_path: str) -> object:
    """`Context.rankings`, `identity.stage_key`, `drpose3d.run.resolve`, `keys.code_digest`: the
    object a dotted name in the architecture page names, searched in every package module."""
    import importlib
    import pkgutil

    import drpose3d

    head, *rest = obj_path.removeprefix("drpose3d.").split(".")
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(drpose3d.__path__, "drpose3d.")]
    for module in modules:
        if module.__name__.rsplit(".", 1)[-1] == head and rest:
            found = module
            for part in rest:
                found = getattr(found, part)
            return found
        if getattr(getattr(module, head, None), "__module__", None) == module.__name__:
            found = getattr(module, head)
            for part in rest:
                found = getattr(found, part)
            return found
    raise AssertionError(f"book/architecture.md names {obj_path}, which the package does not have")


def test_the_architecture_page_matches_the_code():
    """Every call written out in book/architecture.md names a function of the package with exactly
    those parameters, and every function its tables place in a file is defined there."""
    import inspect

    text = (ROOT / "book" / "architecture.md").read_text()
    calls = re.findall(r"`([A-Za-z_][\w.]*)\(([^`)]*)\)`", text)
    assert len(calls) >= 8
    for name, args in calls:
        stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
        signature = inspect.signature(_documented(name)).parameters.values()
        params = [stars.get(p.kind, "") + p.name for p in signature if p.name != "self"]
        written = [a.strip() for a in args.split(",") if a.strip()]
        assert written == params, f"architecture.md: {name}({args}), the code: {name}({', '.join(params)})"
    placed = re.findall(r"`(?:drpose3d/)?([\w/]+)\.py` \| `(\w+)`|`([\w/]+)\.py` `(\w+)`", text)
    assert len(placed) >= 15
    for file_a, name_a, file_b, name_b in placed:
        module, name = "drpose3d." + (file_a or file_b).replace("/", "."), name_a or name_b
        source = (ROOT / "drpose3d" / f"{(file_a or file_b)}.py").read_text()
        assert re.search(rf"^(def|class) {name}\b|^{name}\b.*=", source, re.M), f"{name} is not defined in {module}"


def test_the_notebooks_name_the_kernel_make_lab_registers():
    """JupyterLab opens every notebook on the project's own kernel (issue 31), the one `make lab`
    installs; papermill and nbval name theirs explicitly."""
    from drpose3d.command.reproduce import KERNELSPEC

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata
        assert meta.kernelspec == KERNELSPEC, path.name
        # JupyterLab writes language_info when the kernel starts: a notebook without it opens marked
        # modified (found by tools/check_lab.py in a real JupyterLab, which `make check-lab` runs)
        assert meta.get("language_info", {}).get("name") == "python", path.name
    lab = (ROOT / "Makefile").read_text()
    assert f'--name {KERNELSPEC["name"]} --display-name "{KERNELSPEC["display_name"]}"' in lab
