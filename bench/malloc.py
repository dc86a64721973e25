"""Does glibc's allocator slow stage 1 down? Each way - glibc as it comes (`default`), or told by
`mallopt` to keep what it frees (`kept`: the mmap threshold fixed at its 32 MiB ceiling, 1 GiB kept
before trimming) - it runs one of two workloads (bench/malloc.md):

- `render`: 768 crops of the cpu preset's world rendered at once, four times (large temporaries);
- `train`: one epoch of the cpu preset's hourglass and of its PRCNN-34 with heatmaps on 1,024 crops
  rendered batch by batch, as the long run renders them.

Timed whole under farm-bench, for example (in .venv):

    farm-bench -n 5 --timeout 900 --vs 'python bench/malloc.py default train' -- python bench/malloc.py kept train

It prints the pixels' sum or the trained networks' fingerprints: the allocator changes no arithmetic,
so both ways print the same."""

from __future__ import annotations

import ctypes
import sys

import torch

from drpose3d.engine.train import TrainConfig
from drpose3d.images.sets import RenderedCrops
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.presets import get_preset
from drpose3d.stages.pose2d import Pose2D, heatmapper, train_hourglass
from drpose3d.stages.prcnn import train_prcnn
from drpose3d.worlds.spec import load_world

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
ROWS = {"render": 768, "train": 1024}  # of the cpu preset's training crops


def keep_freed_memory() -> None:
    mallopt = ctypes.CDLL(None).mallopt
    if mallopt(M_MMAP_THRESHOLD, 32 << 20) != 1 or mallopt(M_TRIM_THRESHOLD, 1 << 30) != 1:
        raise SystemExit("glibc refused the setting")


def main(how: str, workload: str) -> None:
    if how == "kept":
        keep_freed_memory()
    torch.set_num_threads(2)
    cpu, preset = torch.device("cpu"), get_preset("cpu")
    samples = load_world("synthetic", preset).samples.select(torch.arange(ROWS[workload]))
    crops = RenderedCrops(samples, preset.resolution)
    if workload == "render":
        print(how, sum(int(crops.pixels(torch.arange(len(crops)), cpu).sum()) for _ in range(4)))
        return
    hourglass, _ = train_hourglass(crops, preset.hourglass, TrainConfig(epochs=1, batch_size=32), 0, cpu)
    heat = heatmapper(Pose2D({}, preset.hourglass, hourglass.state_dict(), [], 1), cpu)
    ranking = ranking_matrix(samples.pose3d[:, list(HOURGLASS_JOINTS), 2], preset.eps_mm)
    sgd = TrainConfig(epochs=1, batch_size=64, lr=0.1, optimizer="sgd")
    prcnn, _ = train_prcnn(crops, ranking, heat, PRCNNConfig(34, True, preset.prcnn_width), sgd, 0, cpu)
    print(how, *(sum(float(p.double().sum()) for p in m.parameters()) for m in (hourglass, prcnn)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
