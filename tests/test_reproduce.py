"""End to end: the CLI runs the notebooks with papermill and builds the book (tiny preset)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from drpose3d.book.ledger import ABSTRACT_LEAD
from drpose3d.book.results import (
    CIRCUMSTANCES,
    FLOOR_PAIRS,
    HOURGLASS_2D,
    HOURGLASS_2D_PER_SEED,
    SAMPLES,
    SEEDED_STAGES,
)
from drpose3d.command.cli import main
from drpose3d.pages.captions import chapter_number
from drpose3d.paper import Fig6


def _snapshot(folder):
    """Every file under `folder` with its modification time: equal snapshots mean nothing was rewritten."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "drpose3d.command.cli", *args], capture_output=True, text=True)


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
    assert {"px_error", "pck10"} <= fig5a[HOURGLASS_2D]["test"].keys()
    first, second = fig5a[HOURGLASS_2D_PER_SEED]  # each seed its own world, images and hourglass
    assert first["test"]["px_error"] != second["test"]["px_error"]
    assert res[SEEDED_STAGES] == ["world", "images", "2D pose", "PRCNN", "DPNet"]
    run = json.loads((synthetic_run / "run.json").read_text())  # the resolved run every notebook read
    assert run["preset"]["name"] == "tiny" and run["seeds"] == [0, 1] and run["data"] == "synthetic"
    fig6 = json.loads((synthetic_run / "results" / "fig6_pairwise_accuracy.json").read_text())
    assert len(fig6["matrix"]) == 16 and fig6["joints"][0] == "Hip" and "Neck/Nose" not in fig6["joints"]
    floor = fig6[FLOOR_PAIRS]  # the ground-truth 2D floor's torso and other pairs, seed by seed
    torso, other = floor[Fig6.TORSO_PAIRS_MEAN], floor[Fig6.OTHER_PAIRS_MEAN]
    assert len(torso) == len(other) == 2 and all(0 <= v <= 100 for v in torso + other)
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
    assert t2["held_out_camera"] == "60457274" and t2[SAMPLES]["test_p3"] * 4 == t2[SAMPLES]["test_p1"]
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
    assert all(r[SEEDED_STAGES] == ["world", "images", "2D pose", "PRCNN", "DPNet"] for r in ledger.values())
    assert ledger["C1"]["lifter_seeds"] == {"table1_upper_bound": 2} and not ledger["C3"]["lifter_seeds"]
    assert all(len(r["effect_rel_values"]) == 2 for r in ledger.values())
    assert all(r["preset"] == "tiny" and r["dataset"] == "synthetic" for r in ledger.values())
    page = (synthetic_run / "book" / "_build" / "html" / "notebooks" / "claims.html").read_text()
    assert page.count('href="table1_upper_bound.html"') >= 2 and "<th>verdict</th>" in page  # a real table, linked
    kinds = [f["kind"] for f in f7["frames"]]
    assert kinds.count("worst") == 2 and kinds.count("typical") == 2
    worst = [f["error_ours_mm"] for f in f7["frames"] if f["kind"] == "worst"]
    assert all(w >= f["error_ours_mm"] for w in worst for f in f7["frames"] if f["kind"] == "typical")
    # each frame names its camera as the galleries and the rig drawing do: index and Human3.6M id
    assert all(re.search(r", cam [0-3] \(\d{8}\), frame \d+$", f["title"]) for f in f7["frames"]), f7["frames"]


@pytest.mark.slow
def test_executed_notebooks_and_offline_book(synthetic_run):
    nb = nbformat.read(synthetic_run / "notebooks" / "table1_upper_bound.ipynb", as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    html_dir = synthetic_run / "book" / "_build" / "html"
    page = (html_dir / "notebooks" / "table1_upper_bound.html").read_text()
    assert "41.2" in page and "Plotly.newPlot" in page and "45.5" in page
    assert "cdn.plot.ly" not in page and "plotly.min.js" in page
    # the book's Sphinx extension (drpose3d.markup) binds the summaries' numbers to their units
    assert re.search(r"without ranking input already reaches \d+\.\d\u00a0mm\.", page)
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
    bars = [o["text"] for c in reader.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert bars and not any("\r" in text for text in bars)  # each progress bar once, at its final state
    shown = {"remove-cell", "remove-input", "hide-input"}  # every code cell folded or removed, none open
    assert all(set(c.metadata.get("tags", [])) & shown for c in reader.cells if c.cell_type == "code")
    assert "Show code cell source" in (html_dir / "notebooks" / "table1_upper_bound.html").read_text()
    # captions carry the chapter's number as the navigation prints it beside the page's title
    for chapter in ("fig5a_prcnn_ablation", "table1_upper_bound", "claims"):
        html = (html_dir / "notebooks" / f"{chapter}.html").read_text()
        number = chapter_number(chapter)
        assert f'<h1><span class="section-number">{number}. </span>' in html, chapter
        assert f"<strong>Figure {number}.1.</strong>" in html and f"<strong>Table {number}.1.</strong>" in html, chapter


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
    assert "**not reproduced**" in first[1] and "against the paper's -9.4\u00a0%" in first[1]  # % kept beside it


@pytest.mark.slow
def test_the_book_builds_from_a_run_folder_without_recomputing(synthetic_run, tmp_path, capsys):
    cached = _snapshot(synthetic_run / "cache")
    assert main(["book", "--from", str(synthetic_run), "--out", str(tmp_path / "read")]) == 0
    html = tmp_path / "read" / "book" / "_build" / "html"
    page = (html / "notebooks" / "table2_protocols.html").read_text()
    assert "Plotly.newPlot" in page
    front = (html / "book" / "intro.html").read_text()  # the front page states the run's findings first
    assert front.index(ABSTRACT_LEAD) < front.index("How to read the numbers")
    assert "on <strong>synthetic</strong> data with the <strong>tiny</strong> preset (2 seeds)" in front
    assert (html / "_static" / "forest.svg").read_text().count("<tspan font-weight") == 14
    # the front page's plot names its number in the claims chapter, and that chapter draws it under that number
    number = re.search(r"Figure (\d+\.1)\)", front).group(1)
    claims = (html / "notebooks" / "claims.html").read_text()
    assert re.search(rf"Figure {re.escape(number)}\.</strong> Every claim.s relative effect", claims)
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
@pytest.mark.parametrize("source", ["h36m", "cmu"])
def test_users_data_through_the_same_pipeline(tmp_path, h36m_dir, source):
    """A new user's whole book on Human3.6M-format files (its own detections take other paths); the
    real motion through every chapter that renders, detects or lifts it (the rest reuse those runs, as
    on the generated world). A user's mocap file, typed as a relative path: test_payloads.py."""
    spec, label = ("cmu", "cmu") if source == "cmu" else (f"h36m:{h36m_dir}", f"h36m:{h36m_dir.name}")
    out = tmp_path / "out"
    no_book = [] if source == "h36m" else ["--no-book"]
    only = ["--only", "data_world", "real_motion", "table1_upper_bound", "table2_protocols", "fig7_qualitative"]
    args = ["reproduce", "--preset", "tiny", "--data", spec, "--seeds", "1", "--device", "cpu", "--out", str(out)]
    assert main([*args, *no_book, *(only if source == "cmu" else [])]) == 0
    for notebook in ("data_world", "table1_upper_bound"):
        res = json.loads((out / "results" / f"{notebook}.json").read_text())
        assert res["dataset"] == label and res["rows"][0]["values"]
    if not no_book:
        assert label in (out / "book" / "_build" / "html" / "notebooks" / "table1_upper_bound.html").read_text()


@pytest.mark.slow
def test_killed_reproduce_resumes_to_the_same_results(tmp_path):
    """Kill a real run (process group: CLI, papermill kernel) once it has cached a model, rerun,
    and compare with an uninterrupted run: identical but for the run's own time stamps and memory."""
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
        [sys.executable, "-m", "drpose3d.command.cli", *args, "--out", str(killed)],
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
    for volatile in CIRCUMSTANCES:  # the run's own times and memory
        a.pop(volatile), b.pop(volatile)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_a_chapter_that_did_not_run_opens_with_the_claims_it_leaves_unjudged():
    """A book built from a run in progress (a committed one, say) still opens every results page
    with its finding: here, that the page's claims were not judged; a chapter without claims says
    only that it did not run."""
    from drpose3d.book.ledger import claims_on
    from drpose3d.chapters import Notebook
    from drpose3d.command.reproduce import not_run_copy

    notebooks = Path(__file__).parents[1] / "notebooks"
    page = not_run_copy(notebooks / "fig5b_dpnet_ablation.ipynb", Notebook.FIG5B_DPNET_ABLATION)
    ids = claims_on(Notebook.FIG5B_DPNET_ABLATION)
    assert ids and page.cells[1].source.startswith(f"**Finding:** not judged in this build: {', '.join(ids)}.")
    assert "did not run in this build" in page.cells[1].source
    assert all(c.cell_type == "markdown" for c in page.cells)
    quiet = not_run_copy(notebooks / "data_world.ipynb", Notebook.DATA_WORLD)
    assert quiet.cells[1].source.startswith("```{note}")


@pytest.mark.slow
def test_a_new_machine_carries_the_committed_chapters_instead_of_training_them(synthetic_run, tmp_path):
    """A run into a new folder (a new machine: no cache) with --carry copies the committed chapters
    its source would compute unchanged and executes only the rest; committed again, they are the same
    files. A checkout with local edits lends nothing, since what ran is then unknown."""
    import commit_run

    from drpose3d.command.carry import examine
    from drpose3d.run import project_root, resolve

    committed = tmp_path / "runs" / "tiny"
    commit_run.commit_run(synthetic_run, committed)
    lent = ["data_world", "table1_upper_bound"]
    commits = {name: json.loads((committed / f"{name}.json").read_text())["commit"] for name in lent}
    if any(c.endswith("+dirty") for c in commits.values()):  # local edits, made before the suite or during it
        run = resolve("tiny", "synthetic", 2, "cpu", tmp_path / "new")
        judged = examine(committed, run, project_root(), lent)
        assert {b.chapter for b in judged} == set(lent)
        assert all("uncommitted changes" in b.why_not for b in judged if commits[b.chapter].endswith("+dirty"))
        return
    out = tmp_path / "new"
    args = ["--preset", "tiny", "--seeds", "2", "--device", "cpu", "--out", str(out), "--no-book"]
    proc = _cli("reproduce", *args, "--carry", str(committed), "--only", *lent, "claims")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert all(f"tiny/{name} carried (ran at " in proc.stderr for name in lent)
    assert [p for p in (out / "cache").rglob("*") if p.is_file() and p.suffix != ".log"] == []  # nothing trained
    claims = json.loads((out / "results" / "claims.json").read_text())  # executed, over the carried results
    assert claims["rows"] and (out / "notebooks" / "claims.ipynb").exists()
    again = tmp_path / "runs" / "again"
    commit_run.commit_run(out, again)
    for name in lent:
        for rel in (f"{name}.json", f"notebooks/{name}.ipynb"):
            assert (again / rel).read_bytes() == (committed / rel).read_bytes(), rel
