"""PRCNN (Sec. 3.1): a ResNet gives one feature per joint (Eq. 2), pair features are their
differences (Eq. 3), a sigmoid turns them into ranking probabilities (Eq. 4), trained with
RankNet's cross-entropy summed over all pairs (Eq. 5)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from drpose3d.models.resnet import ResNet


@dataclass(frozen=True)
class PRCNNConfig:
    """ResNet depth, heatmap channels or not, base width (the paper's ResNets: 64)."""

    depth: int = 34
    heatmaps: bool = True
    width: int = 64


class PRCNN(nn.Module):
    """Image (+ heatmaps) (B, 3 [+16], R, R) -> pair logits F_ij (B, 16, 16)."""

    def __init__(self, depth: int = 34, heatmaps: bool = True, joints: int = 16, width: int = 64):
        super().__init__()
        self.heatmaps = heatmaps
        self.backbone = ResNet(depth, 3 + (joints if heatmaps else 0), joints, width)  # Eq. (2), N = 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)  # F_1..F_n
        return features[:, :, None] - features[:, None, :]  # Eq. (3): F_ij = F_i - F_j


class PoseRanker(nn.Module):
    """The floor PRCNN must beat: PRCNN's per-joint features and pair head (Eq. 2-4) computed
    from the 2D pose alone by an MLP instead of from pixels; root-centred, scale-free 2D
    (B, 32) -> pair logits (B, 16, 16). What it ranks right, the 2D pose already said."""

    def __init__(self, joints: int = 16, width: int = 512):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * joints, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, joints)
        )

    def forward(self, pose2d: torch.Tensor) -> torch.Tensor:
        features = self.net(pose2d)
        return features[:, :, None] - features[:, None, :]


def rank_probability(pair_logits: torch.Tensor) -> torch.Tensor:
    """Eq. (4): P_ij = e^F_ij / (1 + e^F_ij); P_ii = 0.5 and P_ij + P_ji = 1 by construction."""
    return torch.sigmoid(pair_logits)


def ranknet_loss(pair_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (5): C_ij = -M_ij F_ij + log(1 + e^F_ij) over the off-diagonal pairs.

    The paper sums the C_ij; this returns their mean (the sum / 240), the same objective
    scaled so that the paper's SGD learning rate of 0.1 is a stable step: with the plain
    sum, lr 0.1 diverges here and the network ends up predicting ties everywhere."""
    j = pair_logits.shape[-1]
    off = ~torch.eye(j, dtype=torch.bool, device=pair_logits.device)
    cost = F.softplus(pair_logits) - target * pair_logits
    return cost[:, off].mean()
