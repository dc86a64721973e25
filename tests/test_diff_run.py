"""tools/diff_run.py: a re-executed run's numbers against the committed ones, circumstances aside."""

import json
import subprocess
from pathlib import Path

import diff_run  # tools/ is on pytest's path (pyproject.toml)

from drpose3d.book.results import CIRCUMSTANCES, Metric, make_row


def _result(values: list[float], wall_s: float = 10.0, commit: str = "abc") -> dict:
    rows = [make_row("baseline", Metric.MPJPE, values, 60.4)]
    return {"notebook": "table1_upper_bound", "rows": rows, "wall_s": wall_s, "commit": commit, "peak_rss_mib": 900.0}


def _write(folder: Path, **results: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, result in results.items():
        (folder / f"{name}.json").write_text(json.dumps(result))
    return folder


def test_the_same_numbers_in_other_circumstances_are_the_same(tmp_path, capsys):
    assert set(CIRCUMSTANCES) >= {"wall_s", "commit", "peak_rss_mib", "created"}
    old = _write(tmp_path / "old", table1=_result([50.12345, 52.5]))
    new = _write(tmp_path / "new", table1={**_result([50.12345, 52.5], wall_s=99.0, commit="def"), "created": "x"})
    assert diff_run.main([str(new), str(old)]) == 0
    assert capsys.readouterr().out.strip() == "table1: same"


def test_the_tolerances_pass_a_rounding_flip_and_float32_noise_and_nothing_more():
    assert not diff_run.differences(50.1235, 50.1234)  # the fourth decimal make_row keeps, rounded otherwise
    assert diff_run.differences(50.1236, 50.1234) == [": 50.1236 vs 50.1234"]
    assert not diff_run.differences(123456.1, 123456.0)  # 8e-7 relative: float32 ulps through a sum
    assert diff_run.differences(123456.3, 123456.0)
    assert not diff_run.differences(float("nan"), float("nan"))
    assert diff_run.differences(1, 1.5) and diff_run.differences("a", "b") and not diff_run.differences(None, None)


def test_a_changed_number_a_lost_key_and_a_lost_notebook_are_each_named(tmp_path, capsys):
    old = _write(tmp_path / "old", table1=_result([50.0, 52.5]), fig6={"rows": []})
    changed = _result([50.0, 52.6])
    del changed["rows"][0]["paper"]
    new = _write(tmp_path / "new", table1=changed)
    assert diff_run.main([str(new), str(old)]) == 1
    out = capsys.readouterr().out
    assert "fig6: only in the old run" in out
    assert "table1: 5 differ" in out  # the value, the mean and both ends of the interval moved; no paper number
    assert "table1.rows[0].values[1]: 52.6 vs 52.5" in out
    assert "table1.rows[0].paper: only in the old run" in out


def test_a_committed_run_is_compared_with_a_git_revision(tmp_path, capsys):
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True)

    run = _write(tmp_path / "runs" / "smoke", table1=_result([50.0, 52.5]))
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "a run")
    assert diff_run.main([str(run)]) == 0
    _write(run, table1=_result([51.0, 52.5]))
    assert diff_run.main([str(run), "--rev", "HEAD"]) == 1
    assert "values[0]: 51.0 vs 50.0" in capsys.readouterr().out


def test_a_folder_without_results_is_refused_in_one_line(tmp_path, capsys):
    assert diff_run.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path) in err and "no results JSON" in err
    run = _write(tmp_path / "outside", table1=_result([1.0, 2.0]))  # in no git repository
    assert diff_run.main([str(run)]) == 2
    assert "diff_run: git" in capsys.readouterr().err
