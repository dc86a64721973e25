"""The benchmark runs end to end on a tiny setting (figures are not asserted: no timing tests)."""

import json
import math
import sys
import time

import pytest
import torch
from lifting import matmul_pass, multiply_adds
from measure import GOALS, against_goals, machine_words, report, run
from timing import timed_side_by_side, wall
from torch import nn

from drpose3d.command.cli import main


def test_multiply_adds_counts_linear_layers():
    assert multiply_adds(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 5))) == 3 * 4 + 4 * 5


def test_side_by_side_timing_interleaves_rounds_and_keeps_each_best():
    calls, clock = [], iter([0.3, 0.1, 0.2])  # the slow function's successive durations

    def slow():
        calls.append("slow")
        end = time.perf_counter() + next(clock, 0.0)
        while time.perf_counter() < end:
            pass

    def fast():
        return calls.append("fast")

    best_slow, best_fast = timed_side_by_side([slow, fast], torch.device("cpu"), repeat=2)
    assert calls == ["slow", "fast"] * 3  # one warm-up round, then two timed rounds in turn
    assert 0.1 <= best_slow < 0.2 and best_fast < best_slow  # the best round (0.1 s), not the first or the mean


def test_matmul_pass_counts_forward_and_both_backward_products():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 5))
    run_pass, flop = matmul_pass(model, batch=8, device=torch.device("cpu"), passes=2)
    run_pass()
    assert flop == 2 * 6 * 8 * (3 * 4 + 4 * 5)


def test_tiny_benchmark_measures_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = run("cpu", tiny=True, out=out)
    assert json.loads(out.read_text())["lifting"] == json.loads(json.dumps(result["lifting"]))
    assert [(x["batch"], x["ranking"]) for x in result["lifting"]] == [(64, "none"), (64, "depthnet"), (1024, "none")]
    numbers = [v for x in result["lifting"] for v in x.values() if isinstance(v, float)]
    numbers += [
        result["augmentation"]["poses_s"],
        result["p_mpjpe"]["poses_s"],
        *result["renderer"].values(),
        *result["cnn_training"].values(),
        *result["trainer_options"].values(),
    ]
    assert set(result["trainer_options"]) == {"fp32_samples_s", "bf16_samples_s", "compiled_samples_s"}
    assert all(math.isfinite(v) and v > 0 for v in numbers)
    assert result["machine"]["device"] == "cpu" and result["machine"]["threads"] >= 1
    text = report(result)
    batch64 = sum(x["batch"] == 64 for x in result["lifting"])
    assert text.count("goal") == batch64 + len(result["lifting"]) + 2 and ("met" in text)
    # the book's table has the same rows: a goal and its verdict on each row that has one, neither on the others
    rows = against_goals(result)
    assert len(rows) == text.count("\n") - 1 and sum(r.goal is not None for r in rows) == text.count("goal")
    assert all((r.goal is None) == (r.met is None) for r in rows)
    assert machine_words(result["machine"]).startswith("cpu, ")


def test_bench_command_prints_the_table(tmp_path, capsys):
    assert main(["bench", "--tiny", "--device", "cpu", "--out", str(tmp_path / "b.json")]) == 0
    assert "trainer / per-sample reference" in capsys.readouterr().out and (tmp_path / "b.json").exists()
    assert set(GOALS) >= {"cpu_speedup_b64", "flop_fraction_b64", "augmentation_poses_s"}


def test_a_failing_timed_command_keeps_its_exit_code_and_output(tmp_path):
    ok = wall([sys.executable, "-c", "print('fine')"], tmp_path)
    failed = wall([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], tmp_path)
    assert ok["exit_code"] == 0 and "output_tail" not in ok
    assert failed["exit_code"] == 3 and "boom" in failed["output_tail"] and failed["seconds"] > 0


def test_committed_memory_reads_peak_rss_of_each_run(tmp_path):
    from measure import committed_memory

    (tmp_path / "runs" / "cpu").mkdir(parents=True)
    for name, peak in (("table1_upper_bound", 2100.5), ("fig5a_prcnn_ablation", 5120.0)):
        (tmp_path / "runs" / "cpu" / f"{name}.json").write_text(
            json.dumps(
                {"notebook": name, "preset": "cpu", "dataset": "synthetic", "peak_rss_mib": peak, "commit": "abc"}
            )
        )
    (tmp_path / "runs" / "cpu" / "old.json").write_text(
        json.dumps({"notebook": "old", "preset": "cpu", "dataset": "synthetic"})
    )
    rows = committed_memory(tmp_path)
    assert [(r["notebook"], r["peak_rss_mib"]) for r in rows] == [
        ("fig5a_prcnn_ablation", 5120.0),
        ("table1_upper_bound", 2100.5),
    ]


def test_full_bench_refuses_a_smoke_folder_with_a_cache_before_measuring(tmp_path):
    import pytest

    (tmp_path / "cache").mkdir()
    with pytest.raises(FileExistsError, match="empty cache"):
        run("cpu", tiny=True, full=True, smoke_out=tmp_path)


def test_the_doubled_stage1_budget_is_a_new_prcnn_on_the_same_hourglass(tmp_path):
    """bench/stage1.py --double (issue 32's convergence test): PRCNN gets twice the epoch cap and
    twice the patience and so its own cache entry; everything upstream, the hourglass first, is
    the preset's (trained once)."""
    from dataclasses import replace

    from stage1 import doubled

    from drpose3d.run import resolve
    from drpose3d.stages.pipeline import open_context

    run = resolve("tiny", device="cpu", out=tmp_path)
    twice = doubled(run).preset.prcnn_train
    once = run.preset.prcnn_train
    assert (twice.epochs, twice.patience) == (2 * once.epochs, 2 * once.patience)
    assert replace(twice, epochs=once.epochs, patience=once.patience) == once
    assert replace(doubled(run).preset, prcnn_train=once) == run.preset
    ctx, ctx2 = open_context(run, 0), open_context(doubled(run), 0)
    assert ctx.pose2d_key(1) == ctx2.pose2d_key(1)


def test_a_compressed_stage1_cuts_both_caps_to_a_fixed_decay_and_keys_new_networks(tmp_path):
    """bench/stage1.py --fraction: the hourglass and PRCNN train a fraction of their epoch caps on a
    fixed decay to a hundredth of the rate (no early stopping), so both get cache entries of their own;
    nothing else of the preset changes."""
    from dataclasses import replace

    from stage1 import compressed

    from drpose3d.run import resolve
    from drpose3d.stages.pipeline import open_context

    run = resolve("cpu", device="cpu", out=tmp_path)
    cut = compressed(run, 0.2).preset
    assert (cut.hourglass_train.epochs, cut.prcnn_train.epochs) == (12, 24)  # the caps 60 and 120
    for train in (cut.hourglass_train, cut.prcnn_train):
        assert train.patience == 0 and train.lr_final_fraction == 0.01
    assert replace(cut, hourglass_train=run.preset.hourglass_train, prcnn_train=run.preset.prcnn_train) == run.preset
    assert compressed(run, 0.001).preset.hourglass_train.epochs == 1  # never below one epoch
    tiny = resolve("tiny", device="cpu", out=tmp_path / "tiny")
    assert open_context(tiny, 0).pose2d_key(1) != open_context(compressed(tiny, 0.5), 0).pose2d_key(1)


def test_the_thread_comparison_times_every_network_and_compares_throughputs():
    from threads import NETWORKS, throughput_ratios, worker

    threads = torch.get_num_threads()
    try:
        timed_epochs = worker(1, 16)  # the real trainers on 16 crops, in this process
    finally:
        torch.set_num_threads(threads)  # as the suite had it
    assert timed_epochs["threads"] == 1 and all(timed_epochs[f"{net}_s"] > 0 for net in NETWORKS)
    one = {f"{net}_s": 2.0 for net in NETWORKS}  # 2 s an epoch alone; side by side 3 s and 4 s
    ratios = throughput_ratios(one, [{f"{net}_s": 3.0 for net in NETWORKS}, {f"{net}_s": 4.0 for net in NETWORKS}])
    assert ratios["hourglass_throughput_ratio"] == pytest.approx(2 / 3 + 2 / 4)
