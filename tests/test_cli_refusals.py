"""The CLI refuses bad input before any work: one line naming what was wrong, exit 2, nothing written."""

import os
import shutil
import subprocess
import sys

import pytest

from drpose3d.command.cli import main


@pytest.mark.parametrize(
    "args,message",
    [
        (["reproduce", "--data", "kinect"], "data is 'kinect'"),
        (["reproduce", "--data", "synthetic?test=S99"], "unknown subject(s) ['S99']"),
        (["reproduce", "--data", "mocap:/nonexistent/x.npz"], "/nonexistent/x.npz: no such file"),
        (["reproduce", "--seeds", "0"], "--seeds is 0"),
        (["reproduce", "--nproc", "0"], "--nproc is 0, expected >= 1"),
        (["reproduce", "--data", "synthetic?train=S1,S5,S9&test=S9"], "['S9'] would be in both train and test"),
        (["data", "export", "--out", "world.csv"], "expected a path ending in .npz"),
        (["reproduce", "--carry", "/nonexistent/run"], "--carry: /nonexistent/run holds no notebooks/"),
    ],
)
def test_bad_cli_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0


@pytest.mark.parametrize(
    "args", [["reproduce", "--data", "mocap:/nonexistent/x.npz"], ["book", "--from", "/nonexistent/run"]]
)
def test_a_refusal_does_not_wait_for_the_notebook_machinery_to_import(args):
    """papermill and nbformat cost seconds to import (bench/cli.md): a refusal, in a fresh
    interpreter as a user's shell starts it, answers before loading them."""
    probe = (
        f"import sys; from drpose3d.command.cli import main; code = main({args!r}); "
        "print(code, sorted(m for m in ('drpose3d.command.reproduce', 'papermill', 'nbformat') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2", "[]"], done.stdout


def test_an_unknown_choice_is_refused_with_the_choices_by_name(capsys):
    for args, choice in (
        (["reproduce", "--only", "fig99"], "'fig5a_prcnn_ablation'"),
        (["reproduce", "--device", "tpu"], "'cuda'"),
    ):
        with pytest.raises(SystemExit) as refused:  # argparse: usage, then one line of error, exit 2
            main(args)
        assert refused.value.code == 2
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert "invalid choice" in last and choice in last and "<" not in last, last  # names, not enum reprs


def test_a_bad_out_is_refused_before_any_work_with_one_line_and_exit_2(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    (tmp_path / "adir.npz").mkdir()
    cases = [
        (["reproduce", "--out", str(afile / "run")], "is a file, not a folder"),
        (["reproduce", "--out", str(afile)], "is a file, not a folder"),
        (["data", "export", "--out", str(tmp_path / "adir.npz")], "which is a folder"),
        (["data", "export", "--out", str(afile / "w.npz")], "is a file, not a folder"),
        (["data", "import", "x.bvh", "--out", str(afile / "w.npz")], "is a file, not a folder"),
        (["book", "--from", "runs/smoke", "--out", str(afile / "book")], "is a file, not a folder"),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert message in err and err.count("\n") == 0, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.npz", "afile"]  # nothing written


def test_a_file_with_one_absurd_joint_is_refused_before_any_notebook_runs(tmp_path, capsys):
    from drpose3d.formats.mocap import save_mocap
    from drpose3d.worlds.generated import generate_world

    world = generate_world(subjects=("S1", "S5", "S9"), actions=("Walk",), repetitions=1, duration_s=0.6, fps=25)
    world.positions[4, 13, 2] = -1e9
    save_mocap(world, tmp_path / "w.npz")
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "tiny", "--data", f"mocap:{tmp_path / 'w.npz'}", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "frame 4, joint LWrist: z = -1e+09 mm" in err and err.count("\n") == 0
    assert not out.exists()


def test_an_out_that_overlaps_what_the_command_reads_is_refused_and_nothing_changes(tmp_path, capsys, monkeypatch):
    """`--out .` in the checkout would overwrite the source notebooks; `book --from D/book --out D`
    would delete the executed notebooks it reads."""
    from drpose3d.run import project_root

    root = project_root()
    monkeypatch.chdir(root)
    before = {p: p.stat().st_mtime_ns for p in (root / "notebooks").glob("*.ipynb")}
    shutil.copytree(root / "runs" / "smoke" / "notebooks", tmp_path / "D" / "book" / "notebooks")
    executed = sorted((tmp_path / "D" / "book" / "notebooks").iterdir())
    for args in (
        ["reproduce", "--preset", "tiny", "--out", "."],
        ["reproduce", "--preset", "tiny", "--out", "notebooks"],
        ["book", "--from", str(tmp_path / "D" / "book"), "--out", str(tmp_path / "D")],
        ["book", "--from", str(tmp_path / "D" / "book"), "--out", str(tmp_path / "D" / "book" / "notebooks")],
        ["book", "--from", "runs/smoke", "--out", "runs"],
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert "overlaps" in err and err.count("\n") == 0, err
    assert {p: p.stat().st_mtime_ns for p in (root / "notebooks").glob("*.ipynb")} == before
    assert sorted((tmp_path / "D" / "book" / "notebooks").iterdir()) == executed and not (root / "run.json").exists()


def test_book_from_a_folder_whose_notebook_is_not_json_names_the_file_and_writes_nothing(tmp_path, capsys):
    from drpose3d.run import project_root

    run = tmp_path / "run"
    shutil.copytree(project_root() / "runs" / "smoke" / "notebooks", run / "notebooks")
    broken = run / "notebooks" / "fig6_pairwise_accuracy.ipynb"
    broken.write_text("secret line one\nsecret line two\n")
    assert main(["book", "--from", str(run), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(broken) in err and "not valid JSON" in err and "secret" not in err and err.count("\n") == 0, err
    assert not (tmp_path / "out" / "book").exists()


@pytest.mark.slow
def test_a_second_run_into_the_same_out_is_refused_and_a_killed_runs_lock_is_taken_over(tmp_path, capsys):
    import subprocess

    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(["sleep", "30"])  # a live process holds the lock
    try:
        (out / ".drpose3d.lock").write_text(str(holder.pid))
        assert main(["reproduce", "--preset", "tiny", "--only", "data_world", "--no-book", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert f"another drpose3d run (pid {holder.pid}) writes here" in err and err.count("\n") == 0
    finally:
        holder.kill()
        holder.wait()
    # its process gone, the lock is stale: the next run takes it over and removes it when done
    assert main(["reproduce", "--preset", "tiny", "--seeds", "1", "--only", "data_world", "--no-book",
                 "--out", str(out)]) == 0  # fmt: skip
    assert not (out / ".drpose3d.lock").exists()


def test_a_write_that_fails_mid_run_is_one_line_naming_the_path(tmp_path, capsys, monkeypatch):
    """A full disk, injected where the run writes its run.json: one line, the path and the cause."""
    import errno

    import drpose3d.run

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(drpose3d.run, "write_text_atomic", full)
    out = tmp_path / "out"
    assert main(["reproduce", "--preset", "tiny", "--only", "data_world", "--no-book", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"drpose3d: error: cannot write {out / 'run.json'}: No space left on device"
    assert not (out / ".drpose3d.lock").exists()
