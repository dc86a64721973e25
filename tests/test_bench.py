"""The benchmark runs end to end on a tiny setting (figures are not asserted: no timing tests)."""
import json
import math

from torch import nn

from drpose3d.bench import GOALS, multiply_adds, report, run
from drpose3d.cli import main


def test_multiply_adds_counts_linear_layers():
    assert multiply_adds(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 5))) == 3 * 4 + 4 * 5


def test_tiny_benchmark_measures_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = run("cpu", tiny=True, out=out)
    assert json.loads(out.read_text())["lifting"] == json.loads(json.dumps(result["lifting"]))
    assert [(x["batch"], x["ranking"]) for x in result["lifting"]] == [(64, "none"), (64, "depthnet"), (1024, "none")]
    numbers = [v for x in result["lifting"] for v in x.values() if isinstance(v, float)]
    numbers += [result["augmentation"]["poses_s"], result["p_mpjpe"]["poses_s"], *result["renderer"].values(),
                *result["cnn_training"].values()]
    assert all(math.isfinite(v) and v > 0 for v in numbers)
    assert result["machine"]["device"] == "cpu" and result["machine"]["threads"] >= 1
    text = report(result)
    assert text.count("goal") == 2 * len(result["lifting"]) + 2 and ("met" in text)


def test_bench_command_prints_the_table(tmp_path, capsys):
    assert main(["bench", "--tiny", "--device", "cpu", "--out", str(tmp_path / "b.json")]) == 0
    assert "trainer / per-sample reference" in capsys.readouterr().out and (tmp_path / "b.json").exists()
    assert set(GOALS) >= {"cpu_speedup_b64", "flop_fraction_b64", "augmentation_poses_s"}
