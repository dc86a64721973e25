"""Run by tests/test_stage1.py in a fresh process: the paper preset's stage-1 data path, the whole
paper world (672,000 samples) as 256-px crops for both splits, the paper's PRCNN-34 (width 64) trained
and predicting with the paper's hourglass (8 stacks x 256) making its heatmaps batch by batch. Prints
the sample count and the process's peak RSS in MB. Few rows, batch 4: a CPU's minutes, not the paper's
epochs; what it shows is that nothing is held per sample but its pose."""

import resource
import sys

import torch

from drpose3d.engine.train import TrainConfig
from drpose3d.images.sets import RenderedCrops
from drpose3d.models.hourglass import StackedHourglass
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.presets import get_preset
from drpose3d.stages.dpnet import gt_ranking
from drpose3d.stages.pose2d import Pose2D, heatmapper
from drpose3d.stages.prcnn import predict_rankings, train_prcnn
from drpose3d.worlds.samples import protocol_split
from drpose3d.worlds.spec import load_world


def main(rows: int, batch: int) -> None:
    paper, cpu = get_preset("paper"), torch.device("cpu")
    world = load_world("synthetic", paper)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    crops = {"train": RenderedCrops(train, paper.resolution), "test": RenderedCrops(test, paper.resolution)}
    torch.manual_seed(0)
    hg = paper.hourglass
    weights = StackedHourglass(hg.stacks, hg.channels, 16, hg.depth).state_dict()
    heat = heatmapper(Pose2D({}, hg, weights, [], 1), cpu)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:rows]  # spread over the world
    cfg = TrainConfig(epochs=1, batch_size=batch, lr=0.1, optimizer="sgd")
    model, _ = train_prcnn(crops["train"].select(pick), gt_ranking(train.select(pick), paper.eps_mm), heat,
                           PRCNNConfig(34, True, paper.prcnn_width), cfg, 0, cpu)  # fmt: skip
    p = predict_rankings(model, crops["test"].select(pick % len(test)), heat, cpu, batch)
    assert p.shape == (rows, 16, 16) and bool(p.isfinite().all())
    print(len(world.samples), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
