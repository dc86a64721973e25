"""Lifting: the project's trainer against a per-frame ``DataLoader`` on the same model, the trainer's
options, and its achieved FLOP/s as a share of this machine's fp32 matmul at the same layer shapes."""

from __future__ import annotations

from collections.abc import Callable

import torch
from timing import timed_side_by_side
from torch import nn
from torch.utils.data import DataLoader, Dataset

from drpose3d.engine.train import TrainConfig, fit
from drpose3d.models.dpnet import Lifter, LifterConfig
from drpose3d.stages.dpnet import batch_loss


def _lifter_data(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Normalised-scale random inputs of the lifter's shapes: speed does not depend on values."""
    g = torch.Generator().manual_seed(seed)
    return {
        "pose2d": torch.randn(n, 32, generator=g),
        "pose3d": torch.randn(n, 48, generator=g),
        "depth": torch.randn(n, 16, generator=g),
        "ranking": torch.randint(-1, 2, (n, 120), generator=g).float(),
    }


class _Frames(Dataset):
    """The per-sample pipeline of public lifting code: one frame per __getitem__."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors["pose2d"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.tensors.items()}


def _reference_loop(model: nn.Module, data: dict[str, torch.Tensor], batch: int, device: torch.device) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for b in DataLoader(_Frames(data), batch_size=batch, shuffle=True, drop_last=True):
        b = {k: v.to(device) for k, v in b.items()}
        loss = batch_loss(model, b)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def bench_trainer_options(cfg: LifterConfig, batch: int, samples: int, device: torch.device) -> dict:
    """The trainer's samples/s in fp32, under bf16 autocast and with torch.compile (compilation
    is in the untimed warm-up epoch): whether each option pays on this device."""
    data = _lifter_data(samples)
    if cfg.ranking == "none":
        data.pop("ranking")
    runs = {}
    for name, options in (("fp32", {}), ("bf16", {"precision": "bf16"}), ("compiled", {"compile": True})):
        torch.manual_seed(0)
        model = Lifter(cfg).to(device)
        train_cfg = TrainConfig(epochs=1, batch_size=batch, **options)
        runs[name] = lambda model=model, train_cfg=train_cfg: fit(
            model, data, batch_loss, train_cfg, 0, device, desc="bench"
        )
    seconds = timed_side_by_side(list(runs.values()), device, 2)
    return {f"{name}_samples_s": samples / s for name, s in zip(runs, seconds, strict=True)}


def multiply_adds(model: nn.Module) -> int:
    """Multiply-adds of one sample's forward pass through the Linear layers (the rest is O(width))."""
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def matmul_pass(
    model: nn.Module, batch: int, device: torch.device, passes: int = 10
) -> tuple[Callable[[], None], float]:
    """The model's own fp32 matmuls (forward, grad-input, grad-weight) `passes` times as a function,
    and the floating-point operations one call does: this machine's arithmetic limit at those shapes."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    mats = [
        (
            torch.randn(batch, m.in_features, device=device),
            torch.randn(m.in_features, m.out_features, device=device),
            torch.randn(batch, m.out_features, device=device),
        )
        for m in layers
    ]

    def run() -> None:
        for _ in range(passes):
            for x, w, gy in mats:
                x @ w
                gy @ w.T
                x.T @ gy

    return run, passes * 6 * batch * sum(m.in_features * m.out_features for m in layers)


def bench_lifting(cfg: LifterConfig, batch: int, samples: int, device: torch.device, rounds: int = 3) -> dict:
    """Trainer vs per-sample reference for one lifter, and the trainer's share of matmul FLOP/s,
    all three timed in the same interleaved rounds."""
    data = _lifter_data(samples)
    if cfg.ranking == "none":
        data.pop("ranking")
    torch.manual_seed(0)
    model = Lifter(cfg).to(device)
    train_cfg = TrainConfig(epochs=1, batch_size=batch)
    matmuls, matmul_flop = matmul_pass(model, batch, device)
    ours, ref, mm = timed_side_by_side(
        [
            lambda: fit(model, data, batch_loss, train_cfg, 0, device, desc="bench"),
            lambda: _reference_loop(model, data, batch, device),
            matmuls,
        ],
        device,
        rounds,
    )
    ours_sps, ref_sps = samples / ours, samples / ref
    flop_per_sample = 6 * multiply_adds(model)
    peak = matmul_flop / mm
    return {
        "batch": batch,
        "width": cfg.width,
        "ranking": cfg.ranking,
        "stages": cfg.stages,
        "trainer_samples_s": ours_sps,
        "reference_samples_s": ref_sps,
        "speedup": ours_sps / ref_sps,
        "trainer_flops": ours_sps * flop_per_sample,
        "reference_flops": ref_sps * flop_per_sample,
        "matmul_flops": peak,
        "trainer_flop_fraction": ours_sps * flop_per_sample / peak,
        "reference_flop_fraction": ref_sps * flop_per_sample / peak,
    }
