"""How the CLI runs notebooks: a failing or crashing kernel named, the cache's healing and the training bars
repeated on its stderr, and the source commit a run records."""

import subprocess

import nbformat

from drpose3d.command.reproduce import run_notebooks


def test_what_a_notebook_s_cache_healed_is_repeated_on_the_cli_s_stderr(tmp_path, capfd):
    """Kernels' stderr stays inside the executed notebook; the cache's log is how the CLI learns."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("run_file = ''")
    params.metadata["tags"] = ["parameters"]
    heal = "from pathlib import Path\nlog = Path('../cache/healed.log')\nlog.parent.mkdir(exist_ok=True)\n"
    heal += "log.open('a').write('cache entry /x/k.pt fails its checksum; removed, recomputing it\\n')"
    nb.cells = [params, nbformat.v4.new_code_cell(heal)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "healer.ipynb")
    assert run_notebooks(["healer"], tmp_path / "run.json", tmp_path / "out", root) == []
    assert "healer: cache entry /x/k.pt fails its checksum; removed, recomputing it" in capfd.readouterr().err


def test_failing_notebook_names_itself_and_its_cell(tmp_path):
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("run_file = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "broken.ipynb")
    failures = run_notebooks(["broken"], tmp_path / "run.json", tmp_path / "out", root)
    assert len(failures) == 1 and failures[0].notebook == "broken"
    assert "RuntimeError: boom" in failures[0].message and "cell" in failures[0].message
    nb.cells[2] = nbformat.v4.new_code_cell("import os\nos.abort()")  # a native crash: no Python error
    nbformat.write(nb, root / "notebooks" / "crashed.ipynb")
    failures = run_notebooks(["crashed"], tmp_path / "run.json", tmp_path / "out", root)
    assert [f.notebook for f in failures] == ["crashed"] and "the kernel died" in failures[0].message


def test_the_cli_log_summarises_what_the_progress_bars_ran():
    from drpose3d.command.progress import progress_summary

    def bar(desc: str, n: int, total: int, elapsed: str) -> str:
        return f"\r{desc}: {100 * n // total:3d}%|##        | {n}/{total} [{elapsed}<00:10, 1.2it/s, loss=0.1]"

    hourglass = "".join(bar("hourglass", n, 3, f"00:{10 * n:02d}") for n in (0, 0, 1, 2, 3)) + "\r" + " " * 40 + "\r"
    again = "".join(bar("hourglass", n, 3, f"00:{12 * n:02d}") for n in (0, 1, 2, 3))
    lifters = (
        bar("ours P1 seed 0", 2, 2, "01:05")
        + "\n"
        + bar("ours P1 seed 1", 0, 2, "00:00")
        + bar("ours P1 seed 1", 2, 2, "01:10")
        + "\n"
        + bar("ours P1 seed 1 lifter 1", 2, 2, "00:45")  # Table 1's replicate lifters count as lifters too
    )
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=t) for t in (hourglass, again, lifters)]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=bar("not a bar", 1, 1, "09:00")))
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert progress_summary(nb) == "ours P1 x3 (3:00), hourglass x2 (1:06)"
    assert progress_summary(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y")])) == ""


def test_a_reader_copy_keeps_each_progress_bar_at_its_final_state():
    """Every redraw of a bar is an output of its cell (hundreds per training notebook); a reader
    gets one line a bar where the first of them was, warnings kept, other outputs untouched."""
    from drpose3d.command.progress import final_states, fold_bars

    def bar(desc: str, n: int, total: int) -> str:
        return f"\r{desc}: {100 * n // total:3d}%|##        | {n}/{total} [00:0{n}<00:10, 1.2it/s, val_acc=8{n}.0]"

    hourglass = "".join(bar("hourglass", n, 3) for n in range(4)) + "\r" + " " * 40 + "\r"
    nested = bar("seeds", 0, 2) + bar("lifter", 0, 2) + bar("lifter", 2, 2) + "\r   \r" + bar("seeds", 1, 2)
    again = "".join(bar("lifter", n, 2) for n in range(3))  # the same description counting from 0 again
    quick = bar("render", 0, 1) + "\r   \r"  # cleared before its count was drawn
    stream = hourglass + "UserWarning: a warning\n" + nested + quick + again
    assert final_states(stream) == [
        "hourglass: 100%|##        | 3/3 [00:03<00:10, 1.2it/s, val_acc=83.0]",
        "UserWarning: a warning",
        "seeds:  50%|##        | 1/2 [00:01<00:10, 1.2it/s, val_acc=81.0]",
        "lifter: 100%|##        | 2/2 [00:02<00:10, 1.2it/s, val_acc=82.0]",
        "lifter: 100%|##        | 2/2 [00:02<00:10, 1.2it/s, val_acc=82.0]",
    ]
    cell = nbformat.v4.new_code_cell("x")
    printed = nbformat.v4.new_output("stream", name="stdout", text="printed\n")
    shown = nbformat.v4.new_output("display_data", {"text/markdown": "**Table**"})
    cut = [stream[:30], stream[30:200], stream[200:]]  # a redraw may arrive split over two outputs
    cell.outputs = [printed, *(nbformat.v4.new_output("stream", name="stderr", text=t) for t in cut), shown]
    fold_bars(cell)
    assert [o.get("name", o["output_type"]) for o in cell.outputs] == ["stdout", "stderr", "display_data"]
    assert cell.outputs[1]["text"] == "\n".join(final_states(stream)) + "\n"
    folded = [dict(o) for o in cell.outputs]
    fold_bars(cell)  # a reader copy folded again (a carried chapter): its two "lifter" bars stay two
    assert [dict(o) for o in cell.outputs] == folded
    quiet = nbformat.v4.new_code_cell("y")
    quiet.outputs = [nbformat.v4.new_output("stream", name="stderr", text=" \r")]  # nothing left to show
    fold_bars(quiet)
    assert quiet.outputs == []


def test_the_cli_shows_the_running_notebooks_newest_progress_bar(tmp_path):
    """A notebook that trains for hours is not a frozen line: the notebooks bar carries what the copy
    papermill saves as it runs shows last, and drops it when the notebook ends."""
    import io
    import time

    from tqdm import tqdm

    from drpose3d.command.progress import latest_bar
    from drpose3d.command.reproduce import watching

    def save(*bars: str) -> None:
        cell = nbformat.v4.new_code_cell("train()")
        cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="".join(bars))]
        nbformat.write(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("later()")]), executing)

    def epoch(n: int) -> str:
        return f"\rPRCNN-34 seed 1: {100 * n // 120:3d}%|#    | {n}/120 [05:00<10:00, 50.0s/it, val_acc=80.1]"

    executing, shown = tmp_path / "fig5a.ipynb", io.StringIO()
    assert latest_bar(executing) == ""  # papermill has not written it yet
    executing.write_text('{"cells": [')  # ... or is halfway through
    assert latest_bar(executing) == ""
    bar = tqdm(["fig5a"], file=shown, desc="notebooks", mininterval=0)
    with watching(bar, executing, "fig5a", every=0.02):
        save(epoch(6))
        deadline = time.time() + 10
        while "fig5a: PRCNN-34 seed 1 6/120" not in shown.getvalue() and time.time() < deadline:
            time.sleep(0.02)
        save(epoch(6), epoch(7), "\r" + " " * 60 + "\r")  # the newest bar, though a cleared line follows it
        while "fig5a: PRCNN-34 seed 1 7/120" not in shown.getvalue() and time.time() < deadline:
            time.sleep(0.02)
    assert "fig5a: PRCNN-34 seed 1 7/120 (50.0s/it, val_acc=80.1)" in shown.getvalue()  # its pace and score
    assert bar.postfix in ("", None)  # the notebook ended: nothing stale stays beside the bar


def test_the_notebooks_bar_promises_no_time_left():
    """Chapters take seconds or hours: tqdm's time left, the mean of those done so far, would be a guess."""
    import io

    from tqdm import tqdm

    from drpose3d.command.reproduce import NOTEBOOKS_BAR

    shown = io.StringIO()
    bar = tqdm(["a", "b", "c"], file=shown, desc="notebooks", bar_format=NOTEBOOKS_BAR, mininterval=0)
    for _ in bar:
        bar.set_postfix_str("a: PRCNN-34 7/120 (50.0s/it)")
    lines = [line for line in shown.getvalue().split("\r") if "notebooks" in line]
    assert lines and all("<" not in line and "nb/s" not in line and "s/it]" not in line for line in lines)
    assert "2/3 [" in shown.getvalue() and ", a: PRCNN-34 7/120 (50.0s/it)]" in shown.getvalue()


def test_source_commit_is_dirty_for_source_changes_only(tmp_path):
    """A regeneration commits one run's results (runs/) while the next run computes: that must not
    mark the next run "+dirty", while any change to the package's source must."""
    from drpose3d.run import source_commit

    assert source_commit(tmp_path) is None  # not a git checkout
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "claims.json").write_text("{}")
    (tmp_path / "README.md").write_text("the ledger\n")
    (tmp_path / "stage.py").write_text("x = 1\n")
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert source_commit(tmp_path) == head
    (tmp_path / "runs" / "claims.json").write_text('{"rows": []}')
    (tmp_path / "README.md").write_text("the ledger, rewritten\n")
    assert source_commit(tmp_path) == head
    (tmp_path / "stage.py").write_text("x = 2\n")
    assert source_commit(tmp_path) == head + "+dirty"
