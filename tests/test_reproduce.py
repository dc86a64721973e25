"""End to end: the CLI runs the notebooks with papermill and builds the book (tiny preset)."""

import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from drpose3d.cli import main
from drpose3d.formats.mocap import load_mocap
from drpose3d.pages.notebooks import run_notebooks


def _snapshot(folder):
    """Every file under `folder` with its modification time: equal snapshots mean nothing was rewritten."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "drpose3d.cli", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_results_json_schema_and_values(synthetic_run):
    res = json.loads((synthetic_run / "results" / "table1_upper_bound.json").read_text())
    assert res["notebook"] == "table1_upper_bound" and res["dataset"] == "synthetic" and res["preset"] == "tiny"
    assert res["seeds"] == [0, 1]
    rows = {r["name"]: r for r in res["rows"]}
    both_readings = (("gt2d_pred_rank", 41.2), ("gt2d_pred_rank_true_heatmaps", 41.2))  # Sec. 3.1: whose heatmaps
    for name, paper in (("gt2d_no_rank", 45.5), *both_readings, ("gt2d_gt_rank", 30.2)):
        r = rows[name]
        assert r["metric"] == "mpjpe_mm" and r["paper"] == paper and len(r["values"]) == 2
        assert r["ci95"][0] <= r["mean"] <= r["ci95"][1] and 0 < r["mean"] < 1000
    assert rows["gt_rank_vs_no_rank"]["paper"] == -33.6 and rows["pred_rank_vs_no_rank"]["paper"] == -9.5
    assert rows["gt2d_pred_rank_true_heatmaps"]["values"] != rows["gt2d_pred_rank"]["values"]  # two PRCNNs
    fig5a = json.loads((synthetic_run / "results" / "fig5a_prcnn_ablation.json").read_text())
    acc = {r["name"]: r for r in fig5a["rows"]}
    assert acc["prcnn_resnet34"]["paper"] == 91.22 and acc["prcnn_resnet18"]["paper"] is None  # not in the paper's text
    assert all(0 <= v <= 100 for r in fig5a["rows"] for v in r["values"])
    assert {"px_error", "pck10"} <= fig5a["hourglass_2d"]["test"].keys()
    first, second = fig5a["hourglass_2d_per_seed"]  # each seed its own world, images and hourglass
    assert first["test"]["px_error"] != second["test"]["px_error"]
    assert res["seeded_stages"] == ["world", "images", "2D pose", "PRCNN", "DPNet"]
    run = json.loads((synthetic_run / "run.json").read_text())  # the resolved run every notebook read
    assert run["preset"]["name"] == "tiny" and run["seeds"] == [0, 1] and run["data"] == "synthetic"
    fig6 = json.loads((synthetic_run / "results" / "fig6_pairwise_accuracy.json").read_text())
    assert len(fig6["matrix"]) == 16 and fig6["joints"][0] == "Hip" and "Neck/Nose" not in fig6["joints"]
    assert {"created", "package_version", "wall_s"} <= res.keys()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", res["commit"])  # the tests run from a git checkout
    assert 100 < res["peak_rss_mib"] < 8192  # a kernel holding torch and the tiny world, far below the 8 GiB bound
    world = json.loads((synthetic_run / "results" / "data_world.json").read_text())
    assert set(world["subjects"]) == {"S1", "S5", "S6", "S7", "S8", "S9", "S11"}


@pytest.mark.slow
def test_protocol_notebooks_share_their_runs(synthetic_run):
    def load(n):
        return json.loads((synthetic_run / "results" / f"{n}.json").read_text())

    t2, f5b, f4, f7 = (
        load(n) for n in ("table2_protocols", "fig5b_dpnet_ablation", "fig4_per_joint", "fig7_qualitative")
    )
    t2rows = {r["name"]: r for r in t2["rows"]}
    arms = ("baseline", "no_rank", "ours_no_aug", "ours")  # no_rank: the cascade without ranking, the control
    assert set(t2rows) == {f"{a}_p{k}" for a in arms for k in (1, 2, 3)}
    assert (t2rows["ours_p3"]["paper"], t2rows["baseline_p1"]["paper"], t2rows["ours_no_aug_p1"]["paper"]) == (
        62.8,
        62.9,
        None,
    )
    assert t2["held_out_camera"] == "60457274" and t2["samples"]["test_p3"] * 4 == t2["samples"]["test_p1"]
    for name in t2rows:  # P2 (after Procrustes) never exceeds P1 for the same models
        if name.endswith("_p2"):
            p1 = t2rows[name[:-1] + "1"]
            assert all(a <= b + 1e-6 for a, b in zip(t2rows[name]["values"], p1["values"], strict=True))
            assert set(t2rows[name]["per_action"]) == set(p1["per_action"])
    f5 = {r["name"]: r for r in f5b["rows"]}
    assert list(f5) == ["full", "no_rank", "no_depthnet", "aug_gt_only", "no_aug", "no_rank_no_aug"]
    assert (
        f5["full"]["values"] == t2rows["ours_p3"]["values"]
        and f5["no_aug"]["values"] == t2rows["ours_no_aug_p3"]["values"]
        and f5["no_rank"]["values"] == t2rows["no_rank_p3"]["values"]  # one model each, shared
    )
    assert f5["no_rank_no_aug"]["paper"] == 82.2
    f4rows = {r["name"]: r for r in f4["rows"]}
    assert len(f4["joints"]) == 16 and f4rows["gain_pct_RWrist"]["paper"] == 11.44  # from the paper's mm
    base, ours = f4rows["baseline_RWrist"]["values"], f4rows["ours_RWrist"]["values"]
    assert f4rows["gain_pct_RWrist"]["values"] == pytest.approx(
        [100 * (b - o) / b for b, o in zip(base, ours, strict=True)], abs=1e-3
    )
    r2d = {r["name"]: r for r in load("ranking_to_depth")["rows"]}
    table1 = load("table1_upper_bound")
    t1 = {r["name"]: r for r in table1["rows"]}
    assert table1["lifter_seeds"] == 2  # the tiny preset: Table 1 averages two lifter seeds a pipeline seed

    def first_lifter(name: str) -> list[float]:
        return [lifters[0] for lifters in t1[name]["lifter_mpjpe_mm"]]

    for row in (t1[n] for n in ("gt2d_no_rank", "gt2d_gt_rank", "gt2d_pred_rank")):
        assert [len(lifters) for lifters in row["lifter_mpjpe_mm"]] == [2, 2]
        assert all(a != b for a, b in row["lifter_mpjpe_mm"])  # another lifter seed: other weights, other errors
        means = [sum(lifters) / 2 for lifters in row["lifter_mpjpe_mm"]]
        assert row["values"] == pytest.approx(means, abs=1e-3)  # each kept to 4 decimals before the mean
    assert r2d["mpjpe_depthnet"]["values"] == first_lifter("gt2d_pred_rank")  # the same cached runs
    assert all(-1 <= v <= 1 for m in ("depthnet", "topological", "borda") for v in r2d[f"spearman_{m}"]["values"])
    noise = {r["name"]: r for r in load("ranking_noise")["rows"]}
    assert noise["flip_0.00"]["values"] == first_lifter("gt2d_gt_rank") == noise["eps_20mm"]["values"]
    assert noise["flip_0.00"]["ranking_accuracy"] == [100.0, 100.0]
    assert all(45 < a < 55 for a in noise["flip_0.50"]["ranking_accuracy"])
    assert noise["eps_0mm"]["tie_rate"] == 0 < noise["eps_20mm"]["tie_rate"] < noise["eps_100mm"]["tie_rate"]
    assert noise["threshold_0.02"]["values"] == first_lifter("gt2d_pred_rank")  # the preset's t: Table 1's runs
    ties = [sum(noise[f"threshold_{t:g}"]["tie_rate"]) for t in (0.0, 0.02, 0.05, 0.1, 0.2)]
    assert ties == sorted(ties) and ties[-1] > ties[0]  # a wider band only adds ties
    ledger = {r["name"]: r for r in load("claims")["rows"]}
    assert len(ledger) == 14 and all(r["verdict"] != "not run" for r in ledger.values())
    assert all(r["seeded_stages"] == ["world", "images", "2D pose", "PRCNN", "DPNet"] for r in ledger.values())
    assert ledger["C1"]["lifter_seeds"] == {"table1_upper_bound": 2} and not ledger["C3"]["lifter_seeds"]
    assert all(len(r["effect_rel_values"]) == 2 for r in ledger.values())
    assert all(r["preset"] == "tiny" and r["dataset"] == "synthetic" for r in ledger.values())
    page = (synthetic_run / "book" / "_build" / "html" / "notebooks" / "claims.html").read_text()
    assert page.count('href="table1_upper_bound.html"') >= 2 and "<th>verdict</th>" in page  # a real table, linked
    kinds = [f["kind"] for f in f7["frames"]]
    assert kinds.count("worst") == 2 and kinds.count("typical") == 2
    worst = [f["error_ours_mm"] for f in f7["frames"] if f["kind"] == "worst"]
    assert all(w >= f["error_ours_mm"] for w in worst for f in f7["frames"] if f["kind"] == "typical")


@pytest.mark.slow
def test_executed_notebooks_and_offline_book(synthetic_run):
    nb = nbformat.read(synthetic_run / "notebooks" / "table1_upper_bound.ipynb", as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    html_dir = synthetic_run / "book" / "_build" / "html"
    page = (html_dir / "notebooks" / "table1_upper_bound.html").read_text()
    assert "41.2" in page and "Plotly.newPlot" in page and "45.5" in page
    assert "cdn.plot.ly" not in page and "plotly.min.js" in page
    assert (html_dir / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    assert (html_dir / "index.html").exists()
    for chapter in (
        "fig5a_prcnn_ablation",
        "fig6_pairwise_accuracy",
        "table2_protocols",
        "fig5b_dpnet_ablation",
        "fig4_per_joint",
        "fig7_qualitative",
        "ranking_to_depth",
        "ranking_noise",
    ):
        assert "Plotly.newPlot" in (html_dir / "notebooks" / f"{chapter}.html").read_text()
    # the reader's pages and downloadable notebooks: no papermill cell, no path of this machine
    for chapter in ("table1_upper_bound", "claims", "real_motion"):
        copy = (synthetic_run / "book" / "notebooks" / f"{chapter}.ipynb").read_text()
        html = (html_dir / "notebooks" / f"{chapter}.html").read_text()
        assert "injected-parameters" not in copy and str(synthetic_run) not in copy + html, chapter
        assert "Injected parameters" not in html and "**Run:** preset" in copy, chapter
    # the downloadable copy names the project's kernel and shows the parameters the run had, not the defaults
    reader = nbformat.read(synthetic_run / "book" / "notebooks" / "table1_upper_bound.ipynb", as_version=4)
    params = next(c.source for c in reader.cells if "parameters" in c.metadata.get("tags", []))
    assert 'preset: str = "tiny"' in params and "seeds: int = 2" in params and 'device: str = "cpu"' in params
    assert reader.metadata.kernelspec["name"] == "drpose3d"
    shown = {"remove-cell", "remove-input", "hide-input"}  # every code cell folded or removed, none open
    assert all(set(c.metadata.get("tags", [])) & shown for c in reader.cells if c.cell_type == "code")
    assert "Show code cell source" in (html_dir / "notebooks" / "table1_upper_bound.html").read_text()


@pytest.mark.slow
def test_every_results_page_opens_with_the_ledgers_verdicts_on_its_claims(synthetic_run):
    """Right after the Run line, before any prose or number: the finding, from the ledger of this run."""
    from drpose3d.book.ledger import claims_on, ledger, verdict_words

    verdicts = {r["name"]: verdict_words(r) for r in ledger(synthetic_run)}
    for chapter in ("table1_upper_bound", "table2_protocols", "fig5a_prcnn_ablation", "fig5b_dpnet_ablation",
                    "fig6_pairwise_accuracy", "ranking_to_depth", "fig4_per_joint"):  # fmt: skip
        nb = nbformat.read(synthetic_run / "book" / "notebooks" / f"{chapter}.ipynb", as_version=4)
        shown = [
            o["data"]["text/markdown"]
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "text/markdown" in o.get("data", {})
        ]
        assert shown[0].startswith("**Run:**") and shown[1].startswith("**Finding:**"), chapter
        prose = [c for c in nb.cells if c.cell_type == "markdown"]
        assert prose[0].source.startswith("# ") and "\n" not in prose[0].source.strip(), chapter  # the title only
        for claim in claims_on(chapter):
            assert f"**{claim}**" in shown[1] and f"**{verdicts[claim]}**" in shown[1], (chapter, claim)


def test_a_finding_says_not_reproduced_where_the_ledger_does(tmp_path):
    from drpose3d.book.ledger import finding
    from drpose3d.book.results import make_row, write_results
    from drpose3d.run import resolve

    run = resolve("cpu", seeds=3, device="cpu", out=tmp_path)
    rows = {"gt2d_no_rank_cascade": [50.0, 52.0, 51.0], "gt2d_gt_rank": [35.0, 36.0, 34.0],
            "gt2d_pred_rank": [50.5, 52.2, 51.4]}  # fmt: skip
    write_results(run, "table1_upper_bound", "synthetic", [make_row(n, "m", v, None) for n, v in rows.items()], 0.0)
    first = finding(tmp_path, "table1_upper_bound").split("; **C2**")
    assert first[0].startswith("**Finding:** **C1**") and "**reproduced**" in first[0]
    assert "**not reproduced**" in first[1] and "against the paper's -9.4 %" in first[1]


@pytest.mark.slow
def test_the_book_builds_from_a_run_folder_without_recomputing(synthetic_run, tmp_path, capsys):
    cached = _snapshot(synthetic_run / "cache")
    assert main(["book", "--from", str(synthetic_run), "--out", str(tmp_path / "read")]) == 0
    html = tmp_path / "read" / "book" / "_build" / "html"
    page = (html / "notebooks" / "table2_protocols.html").read_text()
    assert "Plotly.newPlot" in page
    front = (html / "book" / "intro.html").read_text()  # the front page states the run's findings first
    assert front.index("What this book found") < front.index("How to read the numbers")
    assert "on <strong>synthetic</strong> data with the <strong>tiny</strong> preset (2 seeds)" in front
    assert (html / "_static" / "forest.svg").read_text().count("<tspan font-weight") == 14
    assert _snapshot(synthetic_run / "cache") == cached
    assert main(["book", "--from", str(tmp_path)]) == 2  # a folder without executed notebooks
    assert "no executed notebooks" in capsys.readouterr().err


@pytest.mark.slow
def test_second_run_reuses_the_cache(synthetic_run):
    before = json.loads((synthetic_run / "results" / "table1_upper_bound.json").read_text())
    cached = _snapshot(synthetic_run / "cache")
    proc = _cli(
        "reproduce",
        "--preset",
        "tiny",
        "--seeds",
        "2",
        "--device",
        "cpu",
        "--out",
        str(synthetic_run),
        "--only",
        "table1_upper_bound",
        "--no-book",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    after = json.loads((synthetic_run / "results" / "table1_upper_bound.json").read_text())
    assert after["rows"] == before["rows"]
    now = _snapshot(synthetic_run / "cache")
    assert now == cached  # nothing retrained or rewritten: every artefact came from the cache


@pytest.mark.slow
@pytest.mark.parametrize("source", ["mocap", "h36m", "cmu"])
def test_users_data_through_the_same_pipeline(tmp_path, h36m_dir, source, monkeypatch):
    if source == "mocap":  # typed as most users first will: a path relative to where they are
        world = tmp_path / "world.npz"
        assert main(["data", "export", "--preset", "tiny", "--out", str(world)]) == 0
        assert len(load_mocap(world)) > 0
        monkeypatch.chdir(tmp_path)
        spec, label = "mocap:world.npz", "mocap:world.npz"
    elif source == "cmu":
        spec, label = "cmu", "cmu"  # the real motion shipped with the package
    else:
        spec, label = f"h36m:{h36m_dir}", f"h36m:{h36m_dir.name}"
    out = tmp_path / "out"
    # a new user's whole book on Human3.6M-format files (its own detections take other paths); the real motion
    # through every chapter that renders, detects or lifts it (the rest reuse those runs, as on the generated
    # world); an exported generated world is the default world read back: its loader is the news
    no_book = [] if source == "h36m" else ["--no-book"]
    only = {
        "mocap": ["--only", "data_world", "table1_upper_bound"],
        "cmu": ["--only", "data_world", "real_motion", "table1_upper_bound", "table2_protocols", "fig7_qualitative"],
    }.get(source, [])
    assert (
        main(
            [
                "reproduce",
                "--preset",
                "tiny",
                "--data",
                spec,
                "--seeds",
                "1",
                "--device",
                "cpu",
                "--out",
                str(out),
                *no_book,
                *only,
            ]
        )
        == 0
    )
    if source == "mocap":  # resolved where it was typed, before the kernels (which run elsewhere) read it
        assert json.loads((out / "run.json").read_text())["data"] == f"mocap:{world}"
    for notebook in ("data_world", "table1_upper_bound"):
        res = json.loads((out / "results" / f"{notebook}.json").read_text())
        assert res["dataset"] == label and res["rows"][0]["values"]
    if not no_book:
        assert label in (out / "book" / "_build" / "html" / "notebooks" / "table1_upper_bound.html").read_text()


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
    ],
)
def test_bad_cli_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0


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


@pytest.mark.slow
def test_killed_reproduce_resumes_to_the_same_results(tmp_path):
    """Kill a real run (process group: CLI, papermill kernel) once it has cached a model, rerun,
    and compare with an uninterrupted run: identical but for the run's own time stamps and memory."""
    import os
    import signal
    import time

    args = [
        "reproduce",
        "--preset",
        "tiny",
        "--seeds",
        "1",
        "--device",
        "cpu",
        "--only",
        "table1_upper_bound",
        "--no-book",
    ]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drpose3d.cli", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((killed / "cache" / "dpnet").glob("*.sha256")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "results" / "table1_upper_bound.json").exists()  # nothing partial was written
    # a kill in the middle of a write leaves at most its hidden temp file, never a half-written entry
    assert all(t.name.startswith(".") for t in killed.rglob("*.tmp"))
    assert not list(killed.rglob("kernel-ipc*")) and not list(killed.rglob("drpose3d-kernel*"))  # sockets: in /tmp
    assert _cli(*args, "--out", str(killed)).returncode == 0
    assert not list(killed.rglob("*.tmp"))  # swept when the resumed run started
    clean = tmp_path / "clean"
    assert _cli(*args, "--out", str(clean)).returncode == 0
    a, b = (json.loads((d / "results" / "table1_upper_bound.json").read_text()) for d in (killed, clean))
    assert a["replayed_s"] > 0 and b["replayed_s"] == 0  # the resumed run is credited what the killed one trained
    assert a["untimed_cache_loads"] == b["untimed_cache_loads"] == 0
    for volatile in ("created", "wall_s", "peak_rss_mib", "replayed_s"):  # the run's own times and memory
        a.pop(volatile), b.pop(volatile)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_the_cli_log_summarises_what_the_progress_bars_ran():
    from drpose3d.pages.notebooks import progress_summary

    def bar(desc: str, n: int, total: int, elapsed: str) -> str:
        return f"\r{desc}: {100 * n // total:3d}%|##        | {n}/{total} [{elapsed}<00:10, 1.2it/s, loss=0.1]"

    hourglass = "".join(bar("hourglass", n, 3, f"00:{10 * n:02d}") for n in (0, 0, 1, 2, 3)) + "\r" + " " * 40 + "\r"
    again = "".join(bar("hourglass", n, 3, f"00:{12 * n:02d}") for n in (0, 1, 2, 3))
    lifters = (
        bar("ours P1 seed 0", 2, 2, "01:05")
        + "\n"
        + bar("ours P1 seed 1", 0, 2, "00:00")
        + bar("ours P1 seed 1", 2, 2, "01:10")
    )
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=t) for t in (hourglass, again, lifters)]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=bar("not a bar", 1, 1, "09:00")))
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert progress_summary(nb) == "ours P1 x2 (2:15), hourglass x2 (1:06)"
    assert progress_summary(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("y")])) == ""


def test_the_cli_shows_the_running_notebooks_newest_progress_bar(tmp_path):
    """A notebook that trains for hours is not a frozen line: the notebooks bar carries what the copy
    papermill saves as it runs shows last, and drops it when the notebook ends."""
    import io
    import time

    from tqdm import tqdm

    from drpose3d.pages.notebooks import latest_bar, watching

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
    assert "fig5a: PRCNN-34 seed 1 7/120" in shown.getvalue()
    assert bar.postfix in ("", None)  # the notebook ended: nothing stale stays beside the bar


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
