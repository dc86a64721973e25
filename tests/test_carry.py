"""`reproduce --carry`: a committed chapter stands in for executing it again only when the source
that computed its numbers is unchanged and it ran as this run would; anything else runs again.
Each test works in a git repository of its own that holds a copy of the package and one notebook."""

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from drpose3d.book.results import COMMIT
from drpose3d.chapters import Notebook
from drpose3d.command.carry import carry, examine, numbers_sources
from drpose3d.errors import RunError
from drpose3d.run import parameters_of, project_root, resolve

CHAPTER = Notebook.DATA_WORLD


def git(repo: Path, *args: str) -> str:
    who = ["-c", "user.name=test", "-c", "user.email=test@example.org"]
    return subprocess.run(["git", "-C", str(repo), *who, *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout holding the package's source and the chapter's notebook, one commit."""
    repo, root = tmp_path / "repo", project_root()
    shutil.copytree(root / "drpose3d", repo / "drpose3d", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "notebooks").mkdir()
    shutil.copy(root / "notebooks" / f"{CHAPTER}.ipynb", repo / "notebooks")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "source")
    return repo


def committed_run(repo: Path, tmp_path: Path, ran_as, commit: str) -> Path:
    """A committed run holding the chapter as `commit_run` leaves it: the reader copy's parameter
    cell shows what it ran with, its results JSON the commit it ran at."""
    run_dir = tmp_path / "runs" / "smoke"
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(repo / "notebooks" / f"{CHAPTER}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = parameters_of(ran_as)
    nbformat.write(nb, run_dir / "notebooks" / f"{CHAPTER}.ipynb")
    (run_dir / f"{CHAPTER}.json").write_text(json.dumps({"notebook": CHAPTER, COMMIT: commit}), encoding="utf-8")
    return run_dir


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_an_unchanged_chapter_is_carried_and_copied(checkout, tmp_path):
    run = resolve("smoke", "synthetic", 0, "cpu", tmp_path / "out")
    committed = committed_run(checkout, tmp_path, run, head(checkout))
    judged = carry(committed, run, checkout, [CHAPTER, Notebook.CLAIMS])
    assert [(b.chapter, b.why_not) for b in judged] == [(CHAPTER, "")]  # claims reads the whole run: never lent
    for copied, source in (
        (run.out / "results" / f"{CHAPTER}.json", committed / f"{CHAPTER}.json"),
        (run.out / "notebooks" / f"{CHAPTER}.ipynb", committed / "notebooks" / f"{CHAPTER}.ipynb"),
    ):
        assert copied.read_bytes() == source.read_bytes()
    assert not list(run.out.rglob("*.part")) and not list(run.out.rglob("*.tmp"))


def test_a_change_to_a_module_that_computes_runs_it_again(checkout, tmp_path):
    run = resolve("smoke", "synthetic", 0, "cpu", tmp_path / "out")
    committed = committed_run(checkout, tmp_path, run, head(checkout))
    computing = "drpose3d/worlds/spec.py"
    assert computing in numbers_sources(CHAPTER, checkout)
    with open(checkout / computing, "a", encoding="utf-8") as f:
        f.write("# an edit, even a comment\n")
    (judged,) = examine(committed, run, checkout, [CHAPTER])
    assert judged.why_not == f"{computing} changed since"  # uncommitted: the working tree is what would run
    git(checkout, "commit", "-qam", "edit")
    assert examine(committed, run, checkout, [CHAPTER])[0].why_not == f"{computing} changed since"
    assert not (run.out / "results").exists()


def test_a_change_to_presentation_alone_keeps_it(checkout, tmp_path):
    run = resolve("smoke", "synthetic", 0, "cpu", tmp_path / "out")
    committed = committed_run(checkout, tmp_path, run, head(checkout))
    with open(checkout / "drpose3d" / "pages" / "tables.py", "a", encoding="utf-8") as f:
        f.write("# how a table looks\n")
    git(checkout, "commit", "-qam", "presentation")
    assert "drpose3d/pages/tables.py" not in numbers_sources(CHAPTER, checkout)
    assert examine(committed, run, checkout, [CHAPTER])[0].why_not == ""


@pytest.mark.parametrize(
    "ran,commit,why",
    [
        (("tiny", "synthetic", 0, "cpu"), "HEAD", "ran with preset 'tiny'"),
        (("smoke", "cmu", 0, "cpu"), "HEAD", "data 'cmu'"),
        (("smoke", "synthetic", 1, "cpu"), "HEAD", "seeds 1, device 'cpu'; this run has preset 'smoke'"),
        (("smoke", "synthetic", 0, "cpu"), "HEAD+dirty", "uncommitted changes"),
        (("smoke", "synthetic", 0, "cpu"), "0123456789abcdef0123456789abcdef01234567", "does not hold"),
        (("smoke", "synthetic", 0, "cpu"), "", "uncommitted changes"),
    ],
)
def test_a_chapter_that_ran_otherwise_runs_again(checkout, tmp_path, ran, commit, why):
    run = resolve("smoke", "synthetic", 0, "cpu", tmp_path / "out")
    commit = commit.replace("HEAD", head(checkout))
    committed = committed_run(checkout, tmp_path, resolve(*ran, tmp_path / "other"), commit)
    (judged,) = carry(committed, run, checkout, [CHAPTER])
    assert why in judged.why_not
    assert not (run.out / "notebooks").exists()


def test_a_users_file_or_a_folder_that_is_no_run_is_refused(checkout, tmp_path):
    run = resolve("smoke", "synthetic", 0, "cpu", tmp_path / "out")
    with pytest.raises(RunError, match="holds no notebooks/"):
        examine(tmp_path / "nothing", run, checkout, [CHAPTER])
    capture = next((project_root() / "drpose3d" / "data").glob("*.npz"))
    with pytest.raises(RunError, match="only the generated world and the embedded motion carry"):
        examine(tmp_path, resolve("smoke", f"mocap:{capture}", 0, "cpu", tmp_path / "out"), checkout, [CHAPTER])
