"""Run by ``torchrun --nproc_per_node=2 tests/ddp_prcnn.py --out DIR`` (tests/test_cnn.py): PRCNN's
trainer under DistributedDataParallel (gloo on CPU) on tensors made here; each rank saves its weights."""

import argparse
import os

import torch

from drpose3d.images.sets import ImageSet
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.stages.prcnn import train_prcnn
from drpose3d.train import TrainConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.distributed.init_process_group("gloo")
    g = torch.Generator().manual_seed(0)
    n, r = 64, 32
    depth = torch.rand(n, 16, generator=g)
    crops = ImageSet(
        (torch.rand(n, 3, r, r, generator=g) * 255).to(torch.uint8),
        torch.tensor([[0.0, 0.0, 100.0]]).repeat(n, 1),
        torch.rand(n, 16, 2, generator=g) * r,
    )
    ranking = (depth[:, :, None] > depth[:, None, :]).float() + 0.5 * (depth[:, :, None] == depth[:, None, :]).float()

    def heatmaps(crops: ImageSet, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:  # any fixed function
        return pixels[:, :1, ::2, ::2].repeat(1, 16, 1, 1)

    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.05, optimizer="sgd")
    model, _ = train_prcnn(crops, ranking, heatmaps, PRCNNConfig(depth=18, width=8), cfg, 0, torch.device("cpu"))
    rank = torch.distributed.get_rank()
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, os.path.join(args.out, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
