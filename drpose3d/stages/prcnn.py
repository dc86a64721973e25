"""The PRCNN stage: training (Sec. 4.2: SGD from lr 0.1, batch 64, rotation/scaling/flip augmentation),
ranking prediction, and a ``torchrun`` entry point that trains it with DDP."""

from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F

from drpose3d.cache import Checkpoints
from drpose3d.images.sets import ImageSet
from drpose3d.images.transform import rotate_scale_flip
from drpose3d.models.prcnn import PRCNN, PoseRanker, PRCNNConfig, rank_probability, ranknet_loss
from drpose3d.train import TrainConfig, fit, predict


def heatmap_channels(heat: torch.Tensor, resolution: int) -> torch.Tensor:
    """Hourglass heatmaps upsampled to the crop, clamped to [0, 1]: PRCNN's 16 extra channels."""
    return F.interpolate(heat, size=(resolution, resolution), mode="bilinear", align_corners=False).clamp(0, 1)


def _inputs(batch: dict[str, torch.Tensor], use_heatmaps: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images in [0, 1]; heatmaps (stored at the hourglass' half resolution) upsampled to them."""
    images = batch["images"].float() / 255
    heat = heatmap_channels(batch["heatmaps"].float() / 255, images.shape[-1]) if use_heatmaps else None
    return images, heat


def _loss(model, batch):
    use = "heatmaps" in batch
    images, heat = _inputs(batch, use)
    images, _, heat, ranking = rotate_scale_flip(images, batch["joints"], heat, batch["ranking"])
    x = images if heat is None else torch.cat((images, heat), 1)
    return ranknet_loss(model(x), ranking)


def train_prcnn(
    tensors: dict[str, torch.Tensor],
    cfg: PRCNNConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
) -> PRCNN:
    """`tensors`: images (N, 3, R, R) uint8, joints (N, 16, 2) crop px, ranking (N, 16, 16),
    and hourglass heatmaps (N, 16, R/2, R/2) uint8 when cfg.heatmaps."""
    torch.manual_seed(seed)
    model = PRCNN(cfg.depth, cfg.heatmaps, width=cfg.width)
    data = {k: v for k, v in tensors.items() if k != "heatmaps" or cfg.heatmaps}
    desc = f"PRCNN-{cfg.depth}{'' if cfg.heatmaps else ' no-hm'}"
    fit(model, data, _loss, train_cfg, seed, device, checkpoints, desc=desc)
    return model.to(device).eval()


def predict_rankings(
    model: PRCNN, images: torch.Tensor, heatmaps: torch.Tensor | None, device: torch.device
) -> torch.Tensor:
    """Ranking probabilities P (N, 16, 16), Eq. (4)."""
    data = {"images": images} | ({"heatmaps": heatmaps} if model.heatmaps else {})

    def fn(m, b):
        img, heat = _inputs(b, m.heatmaps)
        return rank_probability(m(img if heat is None else torch.cat((img, heat), 1)))

    return predict(model, fn, data, device, batch_size=256)


def prcnn(
    images: dict[str, ImageSet],
    heatmaps: dict[str, torch.Tensor] | None,
    train_ranking: torch.Tensor,
    cfg: PRCNNConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    train_on: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The PRCNN stage: train on ``images["train"]`` (the rows of the mask `train_on`, if given)
    with its hourglass heatmaps (None for a design without them) and Eq. (1) rankings, then the
    ranking probabilities P (Eq. 4) of every split, as float16."""
    rows = slice(None) if train_on is None else train_on
    train = images["train"]
    tensors = {"images": train.images[rows], "joints": train.joints[rows], "ranking": train_ranking[rows]}
    if heatmaps is not None:
        tensors["heatmaps"] = heatmaps["train"][rows]
    model = train_prcnn(tensors, cfg, train_cfg, seed, device, checkpoints)
    return {
        split: predict_rankings(model, imgs.images, None if heatmaps is None else heatmaps[split], device).half()
        for split, imgs in images.items()
    }


def normalised_2d(joints: torch.Tensor) -> torch.Tensor:
    """The 16 detector joints (N, 16, 2) root-centred and scale-free, flattened (N, 32): what a
    2D-only method can use (the root is the first of them, the hip)."""
    q = joints - joints[:, :1]
    return (q / q.norm(dim=(-1, -2), keepdim=True).clamp_min(1e-6)).reshape(len(q), -1)


def floor_2d_only(
    joints: dict[str, torch.Tensor],
    train_ranking: torch.Tensor,
    width: int,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
) -> dict[str, torch.Tensor]:
    """A :class:`PoseRanker` trained on ``joints["train"]`` (N, 16, 2) and Eq. (1) rankings, then
    its ranking probabilities P on every split, as float16: Fig. 5(a)'s 2D-only floor."""
    torch.manual_seed(seed)
    model = PoseRanker(width=width)
    data = {"pose2d": normalised_2d(joints["train"]), "ranking": train_ranking}
    fit(model, data, lambda m, b: ranknet_loss(m(b["pose2d"]), b["ranking"]), train_cfg, seed, device, checkpoints,
        desc="2D-only ranker")  # fmt: skip
    return {
        split: predict(
            model, lambda m, b: rank_probability(m(b["pose2d"])), {"pose2d": normalised_2d(j)}, device
        ).half()
        for split, j in joints.items()
    }


def _ddp_main() -> None:
    """`torchrun --nproc_per_node=K -m drpose3d.stages.prcnn --out DIR`: train a small PRCNN with
    DDP (gloo on CPU, nccl on GPU) on synthetic tensors; each rank saves its final weights."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if backend == "nccl" else "cpu")
    g = torch.Generator().manual_seed(0)
    n, r = 64, 32
    depth = torch.rand(n, 16, generator=g)
    tensors = {
        "images": (torch.rand(n, 3, r, r, generator=g) * 255).to(torch.uint8),
        "heatmaps": (torch.rand(n, 16, r // 2, r // 2, generator=g) * 255).to(torch.uint8),
        "joints": torch.rand(n, 16, 2, generator=g) * r,
        "ranking": (depth[:, :, None] > depth[:, None, :]).float()
        + 0.5 * (depth[:, :, None] == depth[:, None, :]).float(),
    }
    model = train_prcnn(
        tensors,
        PRCNNConfig(depth=18, width=8),
        TrainConfig(epochs=args.epochs, batch_size=8, lr=0.05, optimizer="sgd"),
        seed=0,
        device=device,
    )
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, os.path.join(args.out, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    _ddp_main()
