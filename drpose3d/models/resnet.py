"""ResNet-18/34/50 (He et al.), written here because there is no torchvision for the CPU.

`width` is the first stage's channels (64 in the paper's ResNets); smaller presets shrink
it while keeping each network's depth, which is what Fig. 5(a) compares.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, c: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c),
        )
        self.skip = _projection(c_in, c, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.skip(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, c: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, 4 * c, 1, bias=False),
            nn.BatchNorm2d(4 * c),
        )
        self.skip = _projection(c_in, 4 * c, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.skip(x))


class Subsample(nn.Module):
    """Every `stride`-th pixel in each direction. Followed by a 1x1 convolution it computes exactly
    the strided 1x1 projection of the paper's ResNets, without oneDNN's backward pass of a strided
    1x1 convolution on channels-last tensors, which corrupts the heap on AVX-512 CPUs whenever the
    batch size is odd (torch 2.13, oneDNN 3.12: the last batch of an epoch crashed `make book`;
    tests/test_cnn.py runs that case in a subprocess)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, :: self.stride, :: self.stride]


def _projection(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    conv = nn.Conv2d(c_in, c_out, 1, bias=False)
    return nn.Sequential(*([Subsample(stride)] if stride > 1 else []), conv, nn.BatchNorm2d(c_out))


ARCHITECTURES = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)), 50: (Bottleneck, (3, 4, 6, 3))}


class ResNet(nn.Module):
    """Stem (7x7/2 conv + 3x3/2 pool), four stages, global pool, a linear layer of `outputs`."""

    def __init__(self, depth: int, in_channels: int, outputs: int, width: int = 64):
        super().__init__()
        if depth not in ARCHITECTURES:
            raise ValueError(f"ResNet depth is {depth}, expected one of {sorted(ARCHITECTURES)}")
        block, counts = ARCHITECTURES[depth]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        ]
        c_in = width
        for stage, count in enumerate(counts):
            c = width * 2**stage
            for k in range(count):
                layers.append(block(c_in, c, 2 if k == 0 and stage > 0 else 1))
                c_in = c * block.expansion
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(c_in, outputs)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.fc(self.features(x.contiguous(memory_format=torch.channels_last)))  # as its placed weights
