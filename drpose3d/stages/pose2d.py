"""The 2D pose stage (Sec. 4.2): a stacked hourglass trained on rendered crops (a fresh rendering
every epoch) until its PCK on held-out training clips stops improving, then its detections on
every crop. Its heatmaps, PRCNN's extra input, are not stored (16 x R/2 x R/2
bytes a crop: 126 GB at the paper preset): :func:`heatmapper` recomputes them batch by batch
from the trained weights, which the stage keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from drpose3d.engine.cache import Checkpoints
from drpose3d.engine.train import TrainConfig, Trained, fit, place, predict
from drpose3d.images.render import from_crop, target_heatmaps
from drpose3d.images.sets import Crops
from drpose3d.images.transform import rotate_scale_flip
from drpose3d.models.hourglass import HourglassConfig, StackedHourglass, decode
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, LEFT, RIGHT


@dataclass
class Detections:
    """The 2D estimator's output on one split."""

    joints: torch.Tensor  # (N, 16, 2) full-image pixels
    errors: dict[str, float]  # against the ground truth: px_error, pck10, lr_swap_rate


@dataclass
class Pose2D:
    """The stage's result: detections per split and the hourglass that made them."""

    detections: dict[str, Detections]
    config: HourglassConfig
    weights: dict[str, torch.Tensor]  # the trained hourglass' state, on the CPU
    history: list[dict[str, float]]  # per epoch: steps, loss, lr and the validation's errors_2d
    best_epoch: int  # the epoch whose weights were kept


def _loss(model: StackedHourglass, images: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    images, joints, _, _ = rotate_scale_flip(images.float() / 255, joints)
    target = target_heatmaps(joints, images.shape[-1])
    return sum(F.mse_loss(h, target) for h in model(images))  # intermediate supervision


def train_hourglass(
    train: Crops,
    cfg: HourglassConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    val: Crops | None = None,
) -> tuple[StackedHourglass, Trained]:
    """An hourglass trained on crops (rendered batch by batch, drawn anew each epoch) and their
    ground-truth 2D joints; with `val`, scored on it after every epoch (:func:`errors_2d`, PCK@10
    monitored) and kept at its best."""
    torch.manual_seed(seed)
    model = StackedHourglass(cfg.stacks, cfg.channels, joints=train.joints.shape[1], depth=cfg.depth)
    data = {"row": torch.arange(len(train)), "joints": train.joints}
    drawn = [train]

    def loss(m: StackedHourglass, b: dict[str, torch.Tensor]) -> torch.Tensor:
        return _loss(m, drawn[0].pixels(b["row"], device), b["joints"])

    def redraw(epoch: int) -> None:
        drawn[0] = train.drawn(epoch)

    def validate(m: StackedHourglass) -> dict[str, float]:
        found = detect(m, val, device, train_cfg.batch_size)
        errors = errors_2d(found, from_crop(val.joints, val.boxes, val.resolution), val.boxes)
        return {PCK10: errors.pop(PCK10), **errors}  # the first score is the one monitored

    trained = fit(model, data, loss, train_cfg, seed, device, checkpoints, desc="hourglass",
                  validate=None if val is None else validate, on_epoch=redraw)  # fmt: skip
    return model.to(device).eval(), trained


def heat_uint8(model: StackedHourglass, pixels: torch.Tensor) -> torch.Tensor:
    """The last stack's heatmaps (B, 16, R/2, R/2) of uint8 crops, quantised to uint8 (255 = 1)
    as PRCNN has always read them."""
    return (model(pixels.float() / 255)[-1].clamp(0, 1) * 255).round().to(torch.uint8)


def heatmapper(result: Pose2D, device: torch.device) -> Callable[[Crops, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The stage's hourglass as PRCNN's heatmap source (:data:`drpose3d.stages.prcnn.Heatmaps`): the
    heatmaps of a batch of uint8 crops on `device` (which crops and rows they are does not matter)."""
    cfg = result.config
    model = StackedHourglass(cfg.stacks, cfg.channels, joints=len(HOURGLASS_JOINTS), depth=cfg.depth)
    model.load_state_dict(result.weights)
    place(model, device)  # channels-last, as in training: the forward of every PRCNN batch, twice as fast
    model.eval()

    @torch.no_grad()
    def heat(crops: Crops, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        return heat_uint8(model, pixels)

    return heat


def detect(model: StackedHourglass, crops: Crops, device: torch.device, batch_size: int) -> torch.Tensor:
    """Detected joints in full-image pixels, decoded from the float heatmaps of one batch of
    `batch_size` crops at a time (the training batch: what fits in training fits here)."""

    def joints(m: StackedHourglass, b: dict[str, torch.Tensor]) -> torch.Tensor:
        return decode(m(crops.pixels(b["row"], device).float() / 255)[-1]) * 2  # heatmaps: half the crop

    found = predict(model, joints, {"row": torch.arange(len(crops))}, device, batch_size=batch_size)
    return from_crop(found, crops.boxes, crops.resolution)


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


#: :func:`errors_2d`'s keys, in a history row and in the results: mean pixel error, PCK@10, swap rate.
PX_ERROR, PCK10, SWAP_RATE = "px_error", "pck10", "lr_swap_rate"


def errors_2d(detected: torch.Tensor, truth: torch.Tensor, boxes: torch.Tensor) -> dict[str, float]:
    """Mean pixel error (full image), PCK (share of joints within 10 % of the person box) and the
    left/right swap rate; detected and truth (N, 16, 2) in the detector's joint order."""
    err = (detected - truth).norm(dim=-1)
    return {
        PX_ERROR: float(err.mean()),
        PCK10: float((err <= 0.1 * boxes[:, None, 2]).float().mean()),
        SWAP_RATE: lr_swap_rate(detected, truth, boxes),
    }


def pose2d(
    crops: dict[str, Crops],
    truth: dict[str, torch.Tensor],
    cfg: HourglassConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    train_on: torch.Tensor | None = None,
    validate_on: torch.Tensor | None = None,
) -> Pose2D:
    """Train on ``crops["train"]`` (only the rows of the mask `train_on`, if given) until PCK on the
    training rows of the mask `validate_on` stops improving, detect on every split; `truth` is
    each split's (N, 16, 2) ground-truth 2D in full-image pixels."""
    train = crops["train"] if train_on is None else crops["train"].select(train_on)
    val = None if validate_on is None or not validate_on.any() else crops["train"].select(validate_on)
    model, trained = train_hourglass(train, cfg, train_cfg, seed, device, checkpoints, val)
    found = {}
    for split, split_crops in crops.items():
        joints = detect(model, split_crops, device, train_cfg.batch_size)
        found[split] = Detections(joints, errors_2d(joints, truth[split], split_crops.boxes))
    weights = {k: v.cpu() for k, v in model.state_dict().items()}
    return Pose2D(found, cfg, weights, trained.history, trained.best_epoch)
