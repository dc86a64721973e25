"""The CUDA path against the CPU's: run where torch sees a GPU, skipped elsewhere (issue 29)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from torch import nn

from drpose3d.book.results import Metric
from drpose3d.engine.train import TrainConfig, fit, predict

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CPU, GPU = torch.device("cpu"), torch.device("cuda")


def _convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 1),
    )  # fmt: skip


def _data() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(512, 3, 16, 16, generator=g)
    return {"x": x, "y": x.mean(dim=(1, 2, 3), keepdim=False)[:, None] * 4}


def _loss(net: nn.Module, b: dict[str, torch.Tensor]) -> torch.Tensor:
    return nn.functional.mse_loss(net(b["x"]), b["y"])


def test_training_and_prediction_on_the_gpu_agree_with_the_cpu():
    """fp32: the same steps on both devices, so the losses agree to the rounding of cuDNN's other
    summation order (2 %); bf16 autocast (the paper preset's) keeps 8 bits of mantissa: 10 %."""
    cfg = TrainConfig(epochs=3, batch_size=64)
    runs = {}
    for name, device, precision in (("cpu", CPU, "fp32"), ("gpu", GPU, "fp32"), ("bf16", GPU, "bf16")):
        model = _convnet()
        trained = fit(model, _data(), _loss, replace(cfg, precision=precision), 0, device)
        runs[name] = (trained.losses, predict(model, lambda m, b: m(b["x"]), {"x": _data()["x"]}, device))
    assert runs["gpu"][0] == pytest.approx(runs["cpu"][0], rel=0.02)
    assert runs["bf16"][0] == pytest.approx(runs["cpu"][0], rel=0.10)
    assert runs["gpu"][1].device == CPU and torch.allclose(runs["gpu"][1], runs["cpu"][1], rtol=0.02, atol=1e-3)


def test_the_renderer_draws_the_same_crops_on_the_gpu():
    """The same people, cameras and draws: pixels agree but where float rounding moves a capsule's
    edge by a pixel (at most 1 pixel in 1,000 beyond 2/255)."""
    from drpose3d.images.people import outfits
    from drpose3d.images.render import render
    from drpose3d.pose.camera import h36m_rig
    from drpose3d.worlds.generated import generate_world
    from drpose3d.worlds.samples import build_samples

    s = build_samples(generate_world(subjects=("S1",), actions=("Walk",), repetitions=1, duration_s=1.0, fps=50))
    s = s.select(torch.arange(32))
    worn = outfits(["S1"] * 32, s.sequence.tolist())
    images = []
    for device in (CPU, GPU):
        rig = h36m_rig("S1").to(device, torch.float32).index(s.camera.to(device))
        ids = torch.arange(32, device=device)
        img, _ = render(s.pose3d.to(device), s.pose2d.to(device), rig, worn.to(device), ids, 64)
        images.append(img.cpu())
    off = (images[0] - images[1]).abs() > 2 / 255
    assert off.float().mean() < 1e-3


def test_reproduce_runs_on_the_gpu(tmp_path):
    args = ["reproduce", "--preset", "tiny", "--seeds", "1", "--device", "cuda", "--no-book"]
    proc = subprocess.run(
        [sys.executable, "-m", "drpose3d", *args, "--only", "table1_upper_bound", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["device"] == "cuda"
    rows = json.loads((tmp_path / "results" / "table1_upper_bound.json").read_text())["rows"]
    assert all(0 < r["mean"] < 1000 for r in rows if r["metric"] == Metric.MPJPE)
