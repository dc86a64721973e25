"""PRCNN training (Sec. 4.2: SGD from lr 0.1, batch 64, rotation/scaling/flip augmentation),
ranking prediction, and a ``torchrun`` entry point that trains it with DDP."""
from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass

import torch

from .cache import Cache, config_key
from .detect2d import heatmap_channels
from .images import augment
from .models.prcnn import PRCNN, rank_probability, ranknet_loss
from .train import TrainConfig, fit, predict


@dataclass(frozen=True)
class PRCNNConfig:
    depth: int = 34
    heatmaps: bool = True
    width: int = 64


def _inputs(batch: dict[str, torch.Tensor], use_heatmaps: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images in [0, 1]; heatmaps (stored at the hourglass' half resolution) upsampled to them."""
    images = batch["images"].float() / 255
    heat = heatmap_channels(batch["heatmaps"].float() / 255, images.shape[-1]) if use_heatmaps else None
    return images, heat


def _loss(model, batch):
    use = "heatmaps" in batch
    images, heat = _inputs(batch, use)
    images, _, heat, ranking = augment(images, batch["joints"], heat, batch["ranking"])
    x = images if heat is None else torch.cat((images, heat), 1)
    return ranknet_loss(model(x), ranking)


def train_prcnn(tensors: dict[str, torch.Tensor], cfg: PRCNNConfig, train_cfg: TrainConfig, seed: int,
                device: torch.device, cache: Cache | None, key_parts: tuple) -> PRCNN:
    """`tensors`: images (N, 3, R, R) uint8, joints (N, 16, 2) crop px, ranking (N, 16, 16),
    and hourglass heatmaps (N, 16, R/2, R/2) uint8 when cfg.heatmaps. Cached by configuration and seed."""
    key = config_key("prcnn-v1", key_parts, asdict(cfg), train_cfg.key(), seed)
    torch.manual_seed(seed)
    model = PRCNN(cfg.depth, cfg.heatmaps, width=cfg.width)
    state = cache.load_tensor("models", key) if cache else None
    if state is None:
        data = {k: v for k, v in tensors.items() if k != "heatmaps" or cfg.heatmaps}
        fit(model, data, _loss, train_cfg, seed, device, cache, key, desc=f"PRCNN-{cfg.depth}{'' if cfg.heatmaps else ' no-hm'}")
        if cache:
            cache.save_tensor("models", key, model.state_dict())
            cache.drop_tensor("checkpoints", key)
    else:
        model.load_state_dict(state)
    return model.to(device).eval()


def predict_rankings(model: PRCNN, images: torch.Tensor, heatmaps: torch.Tensor | None, device: torch.device) -> torch.Tensor:
    """Ranking probabilities P (N, 16, 16), Eq. (4)."""
    data = {"images": images} | ({"heatmaps": heatmaps} if model.heatmaps else {})

    def fn(m, b):
        img, heat = _inputs(b, m.heatmaps)
        return rank_probability(m(img if heat is None else torch.cat((img, heat), 1)))

    return predict(model, fn, data, device, batch_size=256)


def _ddp_main() -> None:
    """`torchrun --nproc_per_node=K -m drpose3d.rank_cnn --out DIR`: train a small PRCNN with
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
    tensors = {"images": (torch.rand(n, 3, r, r, generator=g) * 255).to(torch.uint8),
               "heatmaps": (torch.rand(n, 16, r // 2, r // 2, generator=g) * 255).to(torch.uint8),
               "joints": torch.rand(n, 16, 2, generator=g) * r,
               "ranking": (depth[:, :, None] > depth[:, None, :]).float() + 0.5 * (depth[:, :, None] == depth[:, None, :]).float()}
    model = train_prcnn(tensors, PRCNNConfig(depth=18, width=8), TrainConfig(epochs=args.epochs, batch_size=8, lr=0.05, optimizer="sgd"),
                        seed=0, device=device, cache=None, key_parts=("ddp",))
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, os.path.join(args.out, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    _ddp_main()
