"""The PRCNN stage: training (Sec. 4.2: SGD from lr 0.1, batch 64, rotation/scaling/flip augmentation)
and ranking prediction, on crops rendered batch by batch (a fresh rendering every epoch) and, for
the designs that take them, the hourglass' heatmaps of the same batch
(:func:`drpose3d.stages.pose2d.heatmapper`). Training runs until the pairwise accuracy on held-out
training clips stops improving; Fig. 5(a)'s 2D-only floor is trained and validated the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from drpose3d.engine.cache import Checkpoints
from drpose3d.engine.train import TrainConfig, Trained, fit, predict
from drpose3d.images.render import target_heatmaps
from drpose3d.images.sets import Crops
from drpose3d.images.transform import rotate_scale_flip
from drpose3d.models.prcnn import PRCNN, PoseRanker, PRCNNConfig, rank_probability, ranknet_loss
from drpose3d.pose.ranking import discretise, pairwise_accuracy


def heatmap_channels(heat: torch.Tensor, resolution: int) -> torch.Tensor:
    """Hourglass heatmaps upsampled to the crop, clamped to [0, 1]: PRCNN's 16 extra channels."""
    return F.interpolate(heat, size=(resolution, resolution), mode="bilinear", align_corners=False).clamp(0, 1)


#: The validation scores a PRCNN's history row holds (% pairwise accuracy): on the held-out clips
#: (the one monitored; the 2D-only floor's too) and on as many of its own training rows.
VAL_ACC, TRAIN_ACC = "val_acc", "train_acc"


@dataclass
class Ranked:
    """A ranker's output: P per split (Eq. 4, float16) and how its training went."""

    probabilities: dict[str, torch.Tensor]
    history: list[dict[str, float]]  # per epoch: steps, loss, lr, validation and training accuracy (%)
    best_epoch: int


@dataclass(frozen=True)
class Validation:
    """Held-out training rows (a mask over the training split), their Eq. (1) rankings, and the
    Sec. 3.1 threshold at which accuracy is scored."""

    rows: torch.Tensor
    ranking: torch.Tensor
    threshold: float

    def accuracy(self, probabilities: torch.Tensor, ranking: torch.Tensor | None = None) -> float:
        """% of off-diagonal entries of discretised P equal to Eq. (1) (default: the held-out rows')."""
        truth = self.ranking if ranking is None else ranking
        return 100 * float(pairwise_accuracy(discretise(probabilities.float(), self.threshold), truth).mean())


#: (crops, rows, their uint8 pixels on the device) -> the rows' heatmaps (B, 16, R/2, R/2) uint8: the
#: hourglass' on the pixels (:func:`drpose3d.stages.pose2d.heatmapper`), or drawn from the crops' 2D.
Heatmaps = Callable[[Crops, torch.Tensor, torch.Tensor], torch.Tensor]


def truth_heatmaps(crops: Crops, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """Heatmaps drawn from the crops' ground-truth 2D, as the hourglass is trained to output them
    (Table 1's second reading of Sec. 3.1: PRCNN given the 2D the lifter gets)."""
    joints = crops.joints[rows.cpu()].to(pixels.device)
    return (target_heatmaps(joints, pixels.shape[-1]).clamp(0, 1) * 255).round().to(torch.uint8)


def _inputs(
    crops: Crops, rows: torch.Tensor, heatmaps: Heatmaps | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The rows' images in [0, 1]; heatmaps (at the hourglass' half resolution) upsampled to them."""
    pixels = crops.pixels(rows, device)
    images = pixels.float() / 255
    heat = None if heatmaps is None else heatmap_channels(heatmaps(crops, rows, pixels).float() / 255, images.shape[-1])
    return images, heat


def train_prcnn(
    crops: Crops,
    ranking: torch.Tensor,
    heatmaps: Heatmaps | None,
    cfg: PRCNNConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    val: tuple[Crops, Validation] | None = None,
) -> tuple[PRCNN, Trained]:
    """PRCNN trained on `crops` (drawn anew each epoch) and their Eq. (1) rankings (N, 16, 16);
    `heatmaps` (None for a design without them) gives each batch's hourglass heatmaps. With
    `val` (held-out crops and their rankings) it is scored after every epoch and kept at its best."""
    torch.manual_seed(seed)
    model = PRCNN(cfg.depth, cfg.heatmaps, width=cfg.width)
    data = {"row": torch.arange(len(crops)), "joints": crops.joints, "ranking": ranking}
    heat_of = heatmaps if cfg.heatmaps else None
    drawn = [crops]

    def loss(m: PRCNN, b: dict[str, torch.Tensor]) -> torch.Tensor:
        images, heat = _inputs(drawn[0], b["row"], heat_of, device)
        images, _, heat, rank = rotate_scale_flip(images, b["joints"], heat, b["ranking"])
        return ranknet_loss(m(images if heat is None else torch.cat((images, heat), 1)), rank)

    def redraw(epoch: int) -> None:
        drawn[0] = crops.drawn(epoch)

    def validate(m: PRCNN) -> dict[str, float]:
        held, check = val
        seen = torch.arange(len(crops))[:: max(1, len(crops) // len(held))]  # as many training rows
        return {
            VAL_ACC: check.accuracy(predict_rankings(m, held, heat_of, device, train_cfg.batch_size)),
            TRAIN_ACC: check.accuracy(predict_rankings(m, crops.select(seen), heat_of, device, train_cfg.batch_size),
                                        ranking[seen]),
        }  # fmt: skip

    desc = f"PRCNN-{cfg.depth}{'' if cfg.heatmaps else ' no-hm'}"
    trained = fit(model, data, loss, train_cfg, seed, device, checkpoints, desc=desc,
                  validate=None if val is None else validate, on_epoch=redraw)  # fmt: skip
    return model.to(device).eval(), trained


def predict_rankings(
    model: PRCNN, crops: Crops, heatmaps: Heatmaps | None, device: torch.device, batch_size: int
) -> torch.Tensor:
    """Ranking probabilities P (N, 16, 16), Eq. (4), `batch_size` crops at a time (the training
    batch: what fits in training fits here; 256 crops at 256 px through the paper's hourglass
    alone would take 4 GB a layer)."""

    def fn(m: PRCNN, b: dict[str, torch.Tensor]) -> torch.Tensor:
        img, heat = _inputs(crops, b["row"], heatmaps if m.heatmaps else None, device)
        return rank_probability(m(img if heat is None else torch.cat((img, heat), 1)))

    return predict(model, fn, {"row": torch.arange(len(crops))}, device, batch_size=batch_size)


def prcnn(
    crops: dict[str, Crops],
    heatmaps: Heatmaps | None,
    train_ranking: torch.Tensor,
    cfg: PRCNNConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    train_on: torch.Tensor | None = None,
    val: Validation | None = None,
    predict_on: tuple[str, ...] = ("train", "test"),
) -> Ranked:
    """The PRCNN stage: train on ``crops["train"]`` (the rows of the mask `train_on`, if given)
    with the hourglass' heatmaps (None for a design without them) and Eq. (1) rankings until its
    accuracy on `val`'s held-out training rows stops improving, then the ranking probabilities P
    (Eq. 4) of the splits `predict_on`, as float16."""
    train, ranking = crops["train"], train_ranking
    if train_on is not None:
        train, ranking = train.select(train_on), ranking[train_on]
    held = None if val is None else (crops["train"].select(val.rows), val)
    model, trained = train_prcnn(train, ranking, heatmaps, cfg, train_cfg, seed, device, checkpoints, held)
    batch = train_cfg.batch_size
    found = {split: predict_rankings(model, crops[split], heatmaps, device, batch).half() for split in predict_on}
    return Ranked(found, trained.history, trained.best_epoch)


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
    val: Validation | None = None,
    held_out: torch.Tensor | None = None,
) -> Ranked:
    """Fig. 5(a)'s 2D-only floor: a :class:`PoseRanker` (an MLP on normalised 2D) trained on
    ``joints["train"]`` (N, 16, 2) and Eq. (1) rankings, apart from the rows of the mask
    `held_out` (the clips `val`'s rows come from), until its accuracy on `val` stops improving;
    then its P on every split, as float16."""
    torch.manual_seed(seed)
    model = PoseRanker(width=width)
    pose2d = normalised_2d(joints["train"])
    fit_rows = torch.ones(len(pose2d), dtype=torch.bool) if held_out is None else ~held_out
    data = {"pose2d": pose2d[fit_rows], "ranking": train_ranking[fit_rows]}

    def probabilities(m: PoseRanker, inputs: torch.Tensor) -> torch.Tensor:
        return predict(m, lambda n, b: rank_probability(n(b["pose2d"])), {"pose2d": inputs}, device)

    def validate(m: PoseRanker) -> dict[str, float]:
        return {VAL_ACC: val.accuracy(probabilities(m, pose2d[val.rows]))}

    trained = fit(model, data, lambda m, b: ranknet_loss(m(b["pose2d"]), b["ranking"]), train_cfg, seed, device,
                  checkpoints, desc="2D-only ranker", validate=None if val is None else validate)  # fmt: skip
    found = {split: probabilities(model, normalised_2d(j)).half() for split, j in joints.items()}
    return Ranked(found, trained.history, trained.best_epoch)
