"""Committed runs (runs/*/) are what readers and `drpose3d book --from` get: each results JSON
beside its reader copy, no papermill cell, no path of the machine that ran it."""

import json
import re
import shutil
from pathlib import Path

import audit_run
import commit_run
import nbformat
import pytest
import readme_ledger  # tools/ is on pytest's path (pyproject.toml)

from drpose3d.chapters import NOTEBOOKS, Notebook
from drpose3d.command.reproduce import reader_copy

ROOT = Path(__file__).parents[1]

_ABSOLUTE = re.compile(r"(?<![\w.])/(?:work|home|tmp|root|Users|var)/\w")


def _executed(path: Path, out: Path, done: bool = True) -> None:
    """A notebook as papermill leaves it: an injected cell holding the run's absolute path, and
    an end time once it has finished."""
    params = nbformat.v4.new_code_cell("run_file = ''", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell(f"run_file = '{out}/run.json'", metadata={"tags": ["injected-parameters"]})
    resolve = nbformat.v4.new_code_cell("run")
    resolve.outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "**Run:** preset cpu"})]
    nb = nbformat.v4.new_notebook(cells=[params, injected, resolve])
    nb.metadata["papermill"] = {
        "parameters": {"run_file": f"{out}/run.json"},
        "input_path": str(out),
        "end_time": "2026-12-01T15:52:20+00:00" if done else None,
        "exception": None,
    }
    nbformat.write(nb, path)


def test_commit_run_replaces_the_committed_run_with_reader_copies_of_finished_notebooks(tmp_path):
    out, target = tmp_path / "out", tmp_path / "runs" / "cpu"
    (out / "results").mkdir(parents=True)
    (out / "notebooks").mkdir()
    for name in ("table1_upper_bound", "table2_protocols"):
        (out / "results" / f"{name}.json").write_text(json.dumps({"rows": []}))
    _executed(out / "notebooks" / "table1_upper_bound.ipynb", out)
    _executed(out / "notebooks" / "table2_protocols.ipynb", out, done=False)  # running: its JSON is an older run's
    _executed(out / "notebooks" / "performance.ipynb", out)  # a chapter without results JSON
    (out / "notebooks" / "kernel-ipc-1").write_text("")  # litter that must not travel
    (target / "notebooks").mkdir(parents=True)
    (target / "fig6_pairwise_accuracy.json").write_text("{}")  # an older run's result: gone afterwards
    assert commit_run.commit_run(out, target) == ["table1_upper_bound", "performance"]
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "notebooks/performance.ipynb",
        "notebooks/table1_upper_bound.ipynb",
        "table1_upper_bound.json",
    ]
    text = (target / "notebooks" / "table1_upper_bound.ipynb").read_text()
    assert str(out) not in text and "injected-parameters" not in text and "**Run:** preset cpu" in text


def test_commit_run_refuses_a_folder_without_a_finished_notebook(tmp_path):
    out = tmp_path / "out"
    (out / "notebooks").mkdir(parents=True)
    _executed(out / "notebooks" / "claims.ipynb", out, done=False)
    with pytest.raises(SystemExit, match="no finished notebook"):
        commit_run.commit_run(out, tmp_path / "runs" / "x")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("run", sorted(p.name for p in (ROOT / "runs").iterdir() if (p / "notebooks").is_dir()))
def test_every_committed_run_is_clean(run):
    folder = ROOT / "runs" / run
    results = {p.stem for p in folder.glob("*.json")}
    notebooks = {p.stem for p in (folder / "notebooks").glob("*.ipynb")}
    assert results and results <= notebooks, f"runs/{run}: results without a notebook: {results - notebooks}"
    for name in notebooks:
        text = (folder / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "injected-parameters" not in text, f"runs/{run}/notebooks/{name}.ipynb: papermill's cell"
        found = _ABSOLUTE.search(text)
        assert not found, f"runs/{run}/notebooks/{name}.ipynb: a machine path at {text[found.start() :][:60]!r}"
        streams = [o for c in nbformat.reads(text, as_version=4).cells for o in c.get("outputs", [])]
        redrawn = [o for o in streams if o.get("name") == "stderr" and "\r" in o["text"]]
        assert not redrawn, f"runs/{run}/notebooks/{name}.ipynb: progress bars not folded to their final state"
        again = nbformat.writes(reader_copy(folder / "notebooks" / f"{name}.ipynb"))
        assert again == text, f"runs/{run}/notebooks/{name}.ipynb: a reader copy differs (carried, it would change)"


def test_the_claims_chapter_sets_the_committed_cpu_runs_side_by_side():
    """Issue 18's side-by-side ledger as the claims chapter draws it: every claim, both worlds, a
    verdict in each cell; a preset without a real-motion run gets None (the chapter says so)."""
    from drpose3d.book.analyses import committed_side_by_side
    from drpose3d.book.claims import CLAIMS
    from drpose3d.book.verdicts import VERDICT_COLOURS

    rows = committed_side_by_side("cpu")
    assert [r["claim"].split("</b>")[0].removeprefix("<b>") for r in rows] == [c.id for c in CLAIMS]
    for row in rows:
        for world in ("generated world, cpu", "real motion (CMU), cpu"):
            cell = row[world]
            found = re.search(r'<b style="color:([^"]+)">(reproduced in direction only|reproduced|inconclusive|not '
                              r"reproduced)[^<]*</b>", cell)  # fmt: skip
            assert found or cell == "not run", cell
            assert not found or VERDICT_COLOURS[found[2]] == found[1]  # each verdict in its own colour
    assert committed_side_by_side("tiny") is None


@pytest.mark.slow
def test_a_book_of_real_motion_carries_none_of_the_generated_worlds_fixed_prose(tmp_path):
    """Issue 31: every count, subject list and split on a page comes from the run. The committed
    smoke run on the CMU motion, built into a book, names no generated-world subject or count; a
    page that does is named."""
    from drpose3d.command.cli import main

    assert main(["book", "--from", str(ROOT / "runs" / "smoke-cmu"), "--out", str(tmp_path)]) == 0
    html = tmp_path / "book" / "_build" / "html"
    assert len(list((html / "notebooks").glob("*.html"))) == 13
    assert audit_run.generated_world_prose(html) == []
    (html / "notebooks" / "data_world.html").write_text("<p>The data: seven subjects, S9 and S11 tested</p>")
    assert audit_run.generated_world_prose(html) == [
        "data_world.html says 'S9', 'S11', 'seven subjects', written for the generated world"
    ]


def test_the_readme_ledger_of_a_run_in_progress_says_so(tmp_path):
    """commit_run commits a run whose later chapters have not run yet: its README section says how far
    it got, names the data its chapters read (no claims chapter yet) and lists the other claims as not run."""
    run = tmp_path / "smoke"
    run.mkdir()
    for name in (Notebook.DATA_WORLD, Notebook.TABLE1_UPPER_BOUND):
        shutil.copy(ROOT / "runs" / "smoke" / f"{name}.json", run / f"{name}.json")
    text = readme_ledger.section(run)
    assert "**In progress**: 2 of 12 chapters finished (data_world, table1_upper_bound)" in text
    assert "Data: synthetic;" in text
    rows = {line.split("**")[1]: line for line in text.splitlines() if line.startswith("| **C")}
    assert "| not run |" not in rows["C1"] and "| not run |" in rows["C5"]


def test_the_readme_names_a_run_from_an_edited_tree_as_dirty():
    sha = "0069f7989e0a6b0a4ee2f3958693f5bd847398d0"
    assert readme_ledger.short(sha) == "0069f7989e0a"
    assert readme_ledger.short(sha + "+dirty") == "0069f7989e0a+dirty"  # was cut to the clean commit's name


def test_the_readme_names_the_data_the_claims_were_judged_on_first():
    results = [{"notebook": nb, "dataset": "cmu" if nb == Notebook.REAL_MOTION else "synthetic"} for nb in NOTEBOOKS]
    assert readme_ledger.data(results) == "synthetic (real_motion on cmu)"  # not "cmu, synthetic"
    assert readme_ledger.data([dict(r, dataset="cmu") for r in results]) == "cmu"
