"""Stacked hourglass 2D estimator (Newell et al. 2016) with intermediate supervision."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class HourglassConfig:
    """The paper's 2D estimator: 8 stacks of 256 channels (Newell et al.); presets shrink it."""

    stacks: int = 8
    channels: int = 256
    depth: int = 4


class Residual(nn.Module):
    """Pre-activation bottleneck (BN-ReLU-conv x3) with a 1x1 skip when channels change."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        mid = c_out // 2
        self.body = nn.Sequential(
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_in, mid, 1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, padding=1),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, c_out, 1),
        )
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        return self.body(x) + self.skip(x)


class Hourglass(nn.Module):
    """Recursive encoder-decoder: pool, recurse, upsample, add the skip branch."""

    def __init__(self, depth: int, channels: int):
        super().__init__()
        self.skip = Residual(channels, channels)
        self.down = Residual(channels, channels)
        self.inner = Hourglass(depth - 1, channels) if depth > 1 else Residual(channels, channels)
        self.up = Residual(channels, channels)

    def forward(self, x):
        low = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.skip(x) + F.interpolate(low, size=x.shape[-2:], mode="nearest")


class StackedHourglass(nn.Module):
    """Image (B, 3, R, R) -> one heatmap set (B, J, R/2, R/2) per stack."""

    def __init__(self, stacks: int = 8, channels: int = 256, joints: int = 16, depth: int = 4):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels // 2, 7, 2, 3),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(inplace=True),
            Residual(channels // 2, channels),
        )
        self.stacks = nn.ModuleList(
            [
                nn.Sequential(
                    Hourglass(depth, channels),
                    Residual(channels, channels),
                    nn.Conv2d(channels, channels, 1),
                    nn.BatchNorm2d(channels),
                    nn.ReLU(inplace=True),
                )
                for _ in range(stacks)
            ]
        )
        self.heads = nn.ModuleList([nn.Conv2d(channels, joints, 1) for _ in range(stacks)])
        self.merge_features = nn.ModuleList([nn.Conv2d(channels, channels, 1) for _ in range(stacks - 1)])
        self.merge_heatmaps = nn.ModuleList([nn.Conv2d(joints, channels, 1) for _ in range(stacks - 1)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x.contiguous(memory_format=torch.channels_last))  # the layout of its placed weights
        outputs = []
        for k, (stack, head) in enumerate(zip(self.stacks, self.heads, strict=True)):
            features = stack(x)
            outputs.append(head(features))
            if k < len(self.heads) - 1:
                x = x + self.merge_features[k](features) + self.merge_heatmaps[k](outputs[-1])
        return outputs


def decode(heatmaps: torch.Tensor) -> torch.Tensor:
    """Heatmaps (B, J, H, W) -> joint positions (B, J, 2) in heatmap pixels (x, y): the arg-max
    moved a quarter pixel towards the higher neighbour, as in Newell et al."""
    b, j, h, w = heatmaps.shape
    flat = heatmaps.reshape(b, j, -1).argmax(-1)
    y, x = flat // w, flat % w
    hm = F.pad(heatmaps, (1, 1, 1, 1))
    bi, ji = torch.meshgrid(torch.arange(b), torch.arange(j), indexing="ij")
    dx = torch.sign(hm[bi, ji, y + 1, x + 2] - hm[bi, ji, y + 1, x])
    dy = torch.sign(hm[bi, ji, y + 2, x + 1] - hm[bi, ji, y, x + 1])
    return torch.stack((x + 0.5 + 0.25 * dx, y + 0.5 + 0.25 * dy), -1).float()
