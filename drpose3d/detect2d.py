"""The 2D stage: a stacked hourglass trained on rendered crops, its detections and heatmaps."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .cache import Cache, config_key
from .images import ImageSet, augment, target_heatmaps
from .models.hourglass import StackedHourglass, decode
from .render import from_crop
from .train import TrainConfig, fit, predict


@dataclass(frozen=True)
class HourglassConfig:
    stacks: int = 8
    channels: int = 256
    depth: int = 4


def _loss(model, batch):
    images, joints, _, _ = augment(batch["images"].float() / 255, batch["joints"])
    target = target_heatmaps(joints, images.shape[-1])
    return sum(F.mse_loss(h, target) for h in model(images))  # intermediate supervision


def train_hourglass(train: ImageSet, cfg: HourglassConfig, train_cfg: TrainConfig, seed: int, device: torch.device,
                    cache: Cache | None, key_parts: tuple) -> StackedHourglass:
    """Train (or load from the cache, when given) an hourglass on rendered crops and their 2D joints."""
    key = config_key("hourglass-v1", key_parts, asdict(cfg), train_cfg.key(), seed)
    torch.manual_seed(seed)
    model = StackedHourglass(cfg.stacks, cfg.channels, joints=train.joints.shape[1], depth=cfg.depth)
    state = cache.load_tensor("models", key) if cache else None
    if state is None:
        fit(model, {"images": train.images, "joints": train.joints}, _loss, train_cfg, seed, device, cache, key, desc="hourglass")
        if cache:
            cache.save_tensor("models", key, model.state_dict())
            cache.drop_tensor("checkpoints", key)
    else:
        model.load_state_dict(state)
    return model.to(device).eval()


def detect(model: StackedHourglass, images: ImageSet, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps of the last stack (N, 16, R/2, R/2) as uint8 (255 = 1) and detected joints in
    full-image pixels (N, 16, 2), both from the float heatmaps of one batch at a time (the float
    heatmaps of a cpu-preset training set alone would be 2.5 GB)."""
    def heat_and_joints(m: StackedHourglass, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        heat = m(b["images"].float() / 255)[-1]
        return (heat.clamp(0, 1) * 255).round().to(torch.uint8), decode(heat) * 2  # heatmaps: half the crop resolution

    heat, joints_crop = predict(model, heat_and_joints, {"images": images.images}, device, batch_size=256)
    return heat, from_crop(joints_crop, images.boxes, images.resolution)


def errors_2d(detected: torch.Tensor, truth: torch.Tensor, boxes: torch.Tensor) -> dict:
    """Mean pixel error (full image) and PCK: share of joints within 10 % of the person box."""
    err = (detected - truth).norm(dim=-1)
    return {"px_error": float(err.mean()), "pck10": float((err <= 0.1 * boxes[:, None, 2]).float().mean())}


def heatmap_channels(heat: torch.Tensor, resolution: int) -> torch.Tensor:
    """Hourglass heatmaps upsampled to the crop, clamped to [0, 1]: PRCNN's 16 extra channels."""
    return F.interpolate(heat, size=(resolution, resolution), mode="bilinear", align_corners=False).clamp(0, 1)
