"""DPNet = DepthNet + PoseNet (Sec. 3.2, Fig. 3), with the baseline and ablations as configs.

One class covers every lifting model in the paper, so they differ only where the paper says:

* ``ranking="depthnet"`` - DRPose3D: DepthNet turns the ranking matrix into coarse depth O,
  PoseNet regresses S3D from [S2D, O] in two cascaded stages.
* ``ranking="concat"`` - "w/o DepthNet": the ranking entries go straight into PoseNet.
* ``ranking="none"`` - "w/o ranking"; with ``stages=1`` it is Martinez et al.'s baseline.
* ``ranking="topological"`` / ``"borda"`` - Sec. 3.2's alternative to DepthNet (never shown in the
  paper): a fixed ordering of the ranking matrix (``ranking.topological_depth`` /
  ``ranking.borda_depth``) gives the coarse depth that PoseNet takes in DepthNet's place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from drpose3d.paper import DPNET_DROPOUT, DPNET_WIDTH

NUM_PAIRS = 16 * 15 // 2
#: What PoseNet gets besides the 2D: nothing, DepthNet's O, the raw entries, or a fixed ordering's O.
RANKING_INPUTS = ("none", "depthnet", "concat", "topological", "borda")


@dataclass(frozen=True)
class LifterConfig:
    ranking: Literal["none", "depthnet", "concat", "topological", "borda"] = "depthnet"
    stages: int = 2
    width: int = DPNET_WIDTH
    blocks: int = 2
    dropout: float = DPNET_DROPOUT  # Sec. 4.2; the baseline takes Martinez et al.'s (paper.MARTINEZ_DROPOUT)
    max_norm: float | None = None  # Martinez et al.: each weight matrix clipped to this norm (1)
    joints_in: int = 16
    joints_out: int = 16

    def __post_init__(self) -> None:
        if self.ranking not in RANKING_INPUTS:
            raise ValueError(f"ranking is {self.ranking!r}, expected one of {', '.join(map(repr, RANKING_INPUTS))}")
        bad_norm = self.max_norm is not None and self.max_norm <= 0
        if self.stages < 1 or self.blocks < 1 or self.width < 1 or not 0 <= self.dropout < 1 or bad_norm:
            raise ValueError(f"invalid lifter config {self}")


class Dropout(nn.Module):
    """Inverted dropout whose CPU mask costs a quarter of a random draw per unit: each 64-bit
    draw gives four 15-bit uniforms. ``nn.Dropout``'s per-element ``bernoulli_`` took 16 % of a
    1024-wide lifter's training step on 2 CPU cores (torch.profiler, bench/run.py); GPUs keep
    the fused kernel."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return nn.functional.dropout(x, self.p, True)
        draws = torch.empty((x.numel() + 3) // 4, dtype=torch.int64).random_()  # 63 random bits each
        lanes = draws.view(torch.int16)[: x.numel()].view_as(x) & 0x7FFF  # four uniform 15-bit lanes
        keep = lanes < round((1 - self.p) * 0x8000)
        return x * keep * (1 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MaxNormLinear(nn.Linear):
    """A linear layer whose weight matrix is used clipped to a norm, as 3d-pose-baseline does
    (``tf.clip_by_norm(w, 1)``): the stored weights train freely, the forward pass sees
    ``W * min(1, max_norm / |W|)``."""

    def __init__(self, n_in: int, n_out: int, max_norm: float):
        super().__init__(n_in, n_out)
        self.max_norm = max_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = (self.max_norm / self.weight.norm().clamp_min(1e-12)).clamp(max=1.0)
        return nn.functional.linear(x, self.weight * scale, self.bias)


def linear(n_in: int, n_out: int, max_norm: float | None) -> nn.Linear:
    return nn.Linear(n_in, n_out) if max_norm is None else MaxNormLinear(n_in, n_out, max_norm)


class ResidualBlock(nn.Module):
    """Martinez et al.'s block: two Linear-BN-ReLU-Dropout layers and a skip."""

    def __init__(self, width: int, dropout: float, max_norm: float | None = None):
        super().__init__()

        def layer():
            return [linear(width, width, max_norm), nn.BatchNorm1d(width), nn.ReLU(inplace=True), Dropout(dropout)]

        self.body = nn.Sequential(*layer(), *layer())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Regressor(nn.Sequential):
    """Linear-BN-ReLU-Dropout in, `blocks` residual blocks, linear out."""

    def __init__(self, n_in: int, n_out: int, width: int, blocks: int, dropout: float, max_norm: float | None = None):
        super().__init__(
            linear(n_in, width, max_norm),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
            Dropout(dropout),
            *[ResidualBlock(width, dropout, max_norm) for _ in range(blocks)],
            linear(width, n_out, max_norm),
        )


class DepthNet(Regressor):
    """Ranking matrix (its upper triangle) -> coarse depth O, one value per joint."""

    def __init__(self, cfg: LifterConfig):
        super().__init__(NUM_PAIRS, cfg.joints_in, cfg.width, 1, cfg.dropout, cfg.max_norm)


class PoseNet(nn.Module):
    """Cascaded regression: stage 1 predicts S3D, each later stage its residual."""

    def __init__(self, n_in: int, cfg: LifterConfig):
        super().__init__()
        n_out = 3 * cfg.joints_out
        self.stages = nn.ModuleList(
            [
                Regressor(n_in + (n_out if k else 0), n_out, cfg.width, cfg.blocks, cfg.dropout, cfg.max_norm)
                for k in range(cfg.stages)
            ]
        )

    def forward(self, features: torch.Tensor) -> list[torch.Tensor]:
        outputs = [self.stages[0](features)]
        for stage in self.stages[1:]:
            outputs.append(outputs[-1] + stage(torch.cat((features, outputs[-1]), dim=-1)))
        return outputs


class Lifter(nn.Module):
    """S2D (B, 2*16) [+ ranking: (B, 120) entries in {-1, 0, 1}, or (B, 16) coarse depth for the
    fixed orderings] -> {'depth': O or None, 'poses': [S3D per stage]}."""

    def __init__(self, cfg: LifterConfig):
        super().__init__()
        self.cfg = cfg
        self.depthnet = DepthNet(cfg) if cfg.ranking == "depthnet" else None
        extra = {"none": 0, "concat": NUM_PAIRS}.get(cfg.ranking, cfg.joints_in)
        self.posenet = PoseNet(2 * cfg.joints_in + extra, cfg)

    def forward(
        self, pose2d: torch.Tensor, ranking: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor | list[torch.Tensor] | None]:
        depth = None
        if self.cfg.ranking == "none":
            features = pose2d
        else:
            if ranking is None:
                raise ValueError(f"a {self.cfg.ranking!r} lifter needs a ranking input")
            if self.depthnet is not None:
                depth = self.depthnet(ranking)
                features = torch.cat((pose2d, depth), dim=-1)
            else:
                features = torch.cat((pose2d, ranking), dim=-1)
        return {"depth": depth, "poses": self.posenet(features)}


def lifter_loss(out: dict, target_pose: torch.Tensor, target_depth: torch.Tensor | None) -> torch.Tensor:
    """Eq. (6): L = L_O + L_S3D + L'_S3D, MSE on normalised targets (one term per stage)."""
    loss = sum(nn.functional.mse_loss(p, target_pose) for p in out["poses"])
    if out["depth"] is not None:
        loss = loss + nn.functional.mse_loss(out["depth"], target_depth)
    return loss
