"""How the hourglass' left/right swap rate and 2D error depend on the crop resolution, on the
rendered world: ``python bench/resolution.py RES EPOCHS STRIDE`` prints one JSON line.

A small world (every subject and action, 2 clips of 4 s, every STRIDE-th frame) is rendered at
RES px and the cpu preset's hourglass (2 stacks, 32 channels, depth 3) trained for EPOCHS on the
protocol #1 training crops; the figures are on the test subjects. Results: bench/resolution.md.
"""

from __future__ import annotations

import json
import sys
import time

import torch

from drpose3d.engine.train import TrainConfig
from drpose3d.images.sets import RenderedCrops
from drpose3d.models.hourglass import HourglassConfig
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.stages.pose2d import pose2d
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.samples import PROTOCOL1_TEST, PROTOCOL1_TRAIN, build_samples, projected_2d, protocol_split


def main(resolution: int, epochs: int, stride: int) -> dict:
    cpu = torch.device("cpu")
    samples = build_samples(generate_world(repetitions=2, duration_s=4.0, fps=50.0), stride=stride)
    train, test = protocol_split(samples, 1, PROTOCOL1_TRAIN, PROTOCOL1_TEST)
    crops = {"train": RenderedCrops(train, resolution), "test": RenderedCrops(test, resolution)}
    truth = {k: projected_2d(s)[:, list(HOURGLASS_JOINTS)] for k, s in (("train", train), ("test", test))}
    started = time.perf_counter()
    found = pose2d(crops, truth, HourglassConfig(2, 32, 3), TrainConfig(epochs=epochs, batch_size=32), 0, cpu)
    return {
        "resolution": resolution,
        "epochs": epochs,
        "train_crops": len(train),
        "hourglass_s": round(time.perf_counter() - started, 1),  # crops rendered as it trains and detects
        "test": {k: round(v, 4) for k, v in found.detections["test"].errors.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:4]))))
