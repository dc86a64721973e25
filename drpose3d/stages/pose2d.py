"""The 2D pose stage (Sec. 4.2): a stacked hourglass trained on rendered crops, then its
detections and heatmaps on every crop."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from drpose3d.cache import Checkpoints
from drpose3d.images.render import from_crop, heatmaps
from drpose3d.images.sets import ImageSet
from drpose3d.images.transform import rotate_scale_flip
from drpose3d.models.hourglass import HourglassConfig, StackedHourglass, decode
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, LEFT, RIGHT
from drpose3d.train import TrainConfig, fit, predict


@dataclass
class Detections:
    """The 2D estimator's output on one split."""

    heatmaps: torch.Tensor  # last stack (N, 16, R/2, R/2) uint8, 255 = 1
    joints: torch.Tensor  # (N, 16, 2) full-image pixels
    errors: dict[str, float]  # against the ground truth: px_error, pck10, lr_swap_rate


def target_heatmaps(joints: torch.Tensor, resolution: int, variance: float = 4.0) -> torch.Tensor:
    """Gaussian targets at the hourglass' output resolution (half the crop), variance 4 px^2."""
    return heatmaps(joints / 2, resolution // 2, variance)


def _loss(model: StackedHourglass, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    images, joints, _, _ = rotate_scale_flip(batch["images"].float() / 255, batch["joints"])
    target = target_heatmaps(joints, images.shape[-1])
    return sum(F.mse_loss(h, target) for h in model(images))  # intermediate supervision


def train_hourglass(
    train: ImageSet,
    cfg: HourglassConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
) -> StackedHourglass:
    """An hourglass trained on rendered crops and their ground-truth 2D joints."""
    torch.manual_seed(seed)
    model = StackedHourglass(cfg.stacks, cfg.channels, joints=train.joints.shape[1], depth=cfg.depth)
    data = {"images": train.images, "joints": train.joints}
    fit(model, data, _loss, train_cfg, seed, device, checkpoints, desc="hourglass")
    return model.to(device).eval()


def detect(model: StackedHourglass, images: ImageSet, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps of the last stack as uint8 and detected joints in full-image pixels, both from
    the float heatmaps of one batch at a time (the float heatmaps of a cpu-preset training set
    alone would be 2.5 GB)."""

    def heat_and_joints(m: StackedHourglass, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        heat = m(b["images"].float() / 255)[-1]
        # heatmaps are at half the crop resolution
        return (heat.clamp(0, 1) * 255).round().to(torch.uint8), decode(heat) * 2

    heat, joints_crop = predict(model, heat_and_joints, {"images": images.images}, device, batch_size=256)
    return heat, from_crop(joints_crop, images.boxes, images.resolution)


_LEFT = [HOURGLASS_JOINTS.index(j) for j in LEFT]
_RIGHT = [HOURGLASS_JOINTS.index(j) for j in RIGHT]


def lr_swap_rate(detected: torch.Tensor, truth: torch.Tensor, boxes: torch.Tensor, apart: float = 0.05) -> float:
    """Share of left/right joint pairs (hips, knees, ankles, shoulders, elbows, wrists) whose two
    detections lie nearer the swapped ground truth than the ground truth; pairs whose two true
    joints are within `apart` of the box size are left out (there, a swap cannot be told)."""
    dl, dr, tl, tr = detected[:, _LEFT], detected[:, _RIGHT], truth[:, _LEFT], truth[:, _RIGHT]
    same = (dl - tl).norm(dim=-1) + (dr - tr).norm(dim=-1)
    swapped = (dl - tr).norm(dim=-1) + (dr - tl).norm(dim=-1)
    counted = (tl - tr).norm(dim=-1) > apart * boxes[:, None, 2]
    return float((swapped < same)[counted].float().mean()) if counted.any() else 0.0


def errors_2d(detected: torch.Tensor, truth: torch.Tensor, boxes: torch.Tensor) -> dict[str, float]:
    """Mean pixel error (full image), PCK (share of joints within 10 % of the person box) and the
    left/right swap rate; detected and truth (N, 16, 2) in the detector's joint order."""
    err = (detected - truth).norm(dim=-1)
    return {
        "px_error": float(err.mean()),
        "pck10": float((err <= 0.1 * boxes[:, None, 2]).float().mean()),
        "lr_swap_rate": lr_swap_rate(detected, truth, boxes),
    }


def pose2d(
    images: dict[str, ImageSet],
    truth: dict[str, torch.Tensor],
    cfg: HourglassConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    train_on: torch.Tensor | None = None,
) -> dict[str, Detections]:
    """Train on ``images["train"]`` (only the rows of the mask `train_on`, if given), detect on
    every split; `truth` is each split's (N, 16, 2) ground-truth 2D in full-image pixels."""
    train = images["train"] if train_on is None else images["train"].select(train_on)
    model = train_hourglass(train, cfg, train_cfg, seed, device, checkpoints)
    found = {}
    for split, imgs in images.items():
        heat, joints = detect(model, imgs, device)
        found[split] = Detections(heat, joints, errors_2d(joints, truth[split], imgs.boxes))
    return found
