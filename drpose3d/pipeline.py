"""The shared stages every table draws on, each cached by configuration: the world and its
protocol #1 split, rendered crops + the hourglass' detections, and PRCNN's rankings."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .augment import (AugmentConfig, camera_prior, entry_accuracy, fit_noise_model, rig_cameras, sample_virtual_cameras,
                      virtual_samples)
from .cache import Cache, config_key
from .camera import CAMERA_IDS
from .dataset import HELD_OUT_CAMERA, Samples, concat, projected_2d, protocol_split, rig_for
from .detect2d import detect, errors_2d, train_hourglass
from .images import ImageSet, render_set
from .lifting import gt_ranking, run_lifter
from .models.dpnet import LifterConfig
from .presets import Preset, get_preset
from .rank_cnn import PRCNNConfig, predict_rankings, train_prcnn
from .ranking import discretise, pairwise_accuracy
from .skeleton import HOURGLASS_JOINTS
from .sources import World, load_world
from .train import resolve_device

#: PRCNN designs of Fig. 5(a): ResNet depth, heatmap channels or not.
PRCNN_VARIANTS = {"prcnn_resnet34": (34, True), "prcnn_resnet34_no_heatmaps": (34, False),
                  "prcnn_resnet18": (18, True), "prcnn_resnet50": (50, True)}


def seed_list(seeds: int | list[int]) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds is {seeds}, expected a count >= 1 or a list of seeds")
        return list(range(seeds))
    return [int(s) for s in seeds]


@dataclass
class Context:
    """What every experiment starts from: preset, device, seeds, data, split and cache."""

    preset: Preset
    device: torch.device
    seeds: list[int]
    world: World
    train: Samples
    test: Samples
    cache: Cache

    @classmethod
    def create(cls, preset: str, data: str, seeds: int | list[int], device: str, out: str | Path) -> "Context":
        p = get_preset(preset)
        dev, seeds = resolve_device(device), seed_list(seeds)
        world = load_world(data, p)
        train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
        return cls(p, dev, seeds, world, train, test, Cache(Path(out) / "cache"))

    @property
    def data_key(self) -> tuple:
        """Identifies the samples: changing the data, the world or the stride invalidates the cache."""
        return (self.world.label, self.preset.world, self.preset.stride, "protocol1")


@dataclass
class ImageStage:
    images: dict[str, ImageSet]  # "train" / "test"
    heatmaps: dict[str, torch.Tensor]  # hourglass output (N, 16, R/2, R/2) uint8
    detections: dict[str, torch.Tensor]  # (N, 16, 2) full-image pixels
    errors: dict[str, dict]  # 2D error and PCK per split
    key: str


def image_stage(ctx: Context) -> ImageStage:
    """Render the crops, train the hourglass (seed 0: one 2D estimator for all runs, as the
    paper has one), detect 2D on both splits."""
    p = ctx.preset
    images = {split: render_set(getattr(ctx, split), p.resolution, ctx.device, ctx.cache, ctx.data_key + (split,))
              for split in ("train", "test")}
    key = config_key("detections-v1", ctx.data_key, p.resolution, asdict(p.hourglass), p.hourglass_train.key())
    det = ctx.cache.load_tensor("detections", key)
    if det is None:
        model = train_hourglass(images["train"], p.hourglass, p.hourglass_train, 0, ctx.device, ctx.cache, ctx.data_key)
        det = {}
        for split, imgs in images.items():
            heat, joints = detect(model, imgs, ctx.device)
            det[split] = {"heatmaps": heat, "joints": joints,
                          "errors": errors_2d(joints, projected_2d(getattr(ctx, split))[:, list(HOURGLASS_JOINTS)], imgs.boxes)}
        ctx.cache.save_tensor("detections", key, det)
    return ImageStage(images, {s: d["heatmaps"] for s, d in det.items()}, {s: d["joints"] for s, d in det.items()},
                      {s: d["errors"] for s, d in det.items()}, key)


@dataclass
class RankingRun:
    probabilities: dict[str, torch.Tensor]  # PRCNN's P (N, 16, 16) per split, Eq. (4), float16
    rankings: dict[str, torch.Tensor]  # P discretised at `threshold` (Sec. 3.1)
    threshold: float
    accuracy: float  # % of off-diagonal test entries equal to Eq. (1)
    per_pair: torch.Tensor  # (16, 16) % per pair on the test set
    key: str  # names the rankings (model, data, threshold) in the keys of lifters trained on them


def prcnn_run(ctx: Context, stage: ImageStage, variant: str, seed: int, threshold: float | None = None) -> RankingRun:
    """Train one PRCNN design, predict P on both splits (cached) and discretise it at
    `threshold` (default: the preset's)."""
    p = ctx.preset
    threshold = p.rank_threshold if threshold is None else threshold
    depth, use_heat = PRCNN_VARIANTS[variant]
    cfg = PRCNNConfig(depth, use_heat, p.prcnn_width)
    key = config_key("prcnn-probabilities-v1", stage.key, asdict(cfg), p.prcnn_train.key(), p.eps_mm, seed)
    probabilities = ctx.cache.load_tensor("rankings", key)
    if probabilities is None:
        train = stage.images["train"]
        tensors = {"images": train.images, "joints": train.joints, "ranking": gt_ranking(ctx.train, p.eps_mm),
                   "heatmaps": stage.heatmaps["train"]}
        model = train_prcnn(tensors, cfg, p.prcnn_train, seed, ctx.device, ctx.cache, (stage.key, p.eps_mm))
        probabilities = {split: predict_rankings(model, stage.images[split].images, stage.heatmaps[split], ctx.device).half()
                         for split in ("train", "test")}
        ctx.cache.save_tensor("rankings", key, probabilities)
    rankings = {split: discretise(prob.float(), threshold) for split, prob in probabilities.items()}
    truth = gt_ranking(ctx.test, p.eps_mm)
    return RankingRun(probabilities, rankings, threshold, 100 * float(pairwise_accuracy(rankings["test"], truth).mean()),
                      100 * (rankings["test"] == truth).float().mean(0), config_key(key, threshold))


#: Lifter designs of Table 2 and Fig. 5(b): ranking input, PoseNet stages, augmentation (None: none).
ARMS: dict[str, tuple[str, int, AugmentConfig | None]] = {
    "baseline": ("none", 1, None),  # Martinez et al. through this code path
    "ours_no_aug": ("depthnet", 2, None),
    "ours": ("depthnet", 2, AugmentConfig()),
    "no_rank": ("none", 2, AugmentConfig(flip=False)),  # DPNet without its ranking input
    "no_rank_no_aug": ("none", 2, None),
    "no_depthnet": ("concat", 2, AugmentConfig()),
    "aug_gt_only": ("depthnet", 2, AugmentConfig(noise=False, flip=False)),
}


def detected_2d(ctx: Context, stage: ImageStage, split: str) -> torch.Tensor:
    """A split's detected 16 joints (N, 16, 2): the data's own detections when it has them
    (``h36m:DIR:KEYPOINTS``), else the hourglass' on the rendered crops."""
    if ctx.world.detected_2d:
        return getattr(ctx, split).pose2d[:, list(HOURGLASS_JOINTS)]
    return stage.detections[split]


def with_detections(samples: Samples, joints: torch.Tensor) -> Samples:
    """`samples` with detected 16 joints (N, 16, 2) in place of their 2D (joint 9, which
    the hourglass lacks, is never a network input)."""
    pose2d = samples.pose2d.clone()
    pose2d[:, list(HOURGLASS_JOINTS)] = joints
    return replace(samples, pose2d=pose2d)


def protocol_masks(ctx: Context, protocol: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which of the protocol #1 train/test samples a protocol uses: all of them (#1, #2), or
    the three training views / the held-out view (#3)."""
    if protocol in (1, 2):
        return torch.ones(len(ctx.train), dtype=torch.bool), torch.ones(len(ctx.test), dtype=torch.bool)
    if protocol == 3:
        return ctx.train.camera != HELD_OUT_CAMERA, ctx.test.camera == HELD_OUT_CAMERA
    raise ValueError(f"protocol is {protocol}, expected 1, 2 or 3")


def virtual_training_samples(ctx: Context, stage: ImageStage, ranks: RankingRun, train_mask: torch.Tensor,
                             aug: AugmentConfig, seed: int) -> tuple[Samples, torch.Tensor]:
    """Sec. 3.3 on a protocol's training set: the camera prior from its cameras, the GMM from
    the hourglass' training residuals, the flip rates from PRCNN's training accuracy."""
    p = ctx.preset
    train = ctx.train.select(train_mask)
    views = sorted(set(train.camera.tolist()))
    prior = camera_prior(rig_cameras(ctx.world.train_subjects, views))
    residuals = detected_2d(ctx, stage, "train")[train_mask] - projected_2d(train)[:, list(HOURGLASS_JOINTS)]
    noise = fit_noise_model(residuals, aug.gmm_components, seed) if aug.noise else None
    accuracy = entry_accuracy(ranks.rankings["train"][train_mask], gt_ranking(train, p.eps_mm)) if aug.flip else None
    return virtual_samples(train, prior, aug, p.aug_factor, p.eps_mm, seed, noise, accuracy)


def arm_run(ctx: Context, stage: ImageStage, arm: str, protocol: int, seed: int) -> dict:
    """Train one lifter design of :data:`ARMS` on detected 2D + PRCNN rankings under a
    protocol (#2 is #1's model scored after Procrustes), cached like every lifter run."""
    ranking, stages, aug = ARMS[arm]
    p = ctx.preset
    ranks = prcnn_run(ctx, stage, "prcnn_resnet34", seed)
    tr, te = protocol_masks(ctx, protocol)
    train = with_detections(ctx.train, detected_2d(ctx, stage, "train")).select(tr)
    test = with_detections(ctx.test, detected_2d(ctx, stage, "test")).select(te)
    rank_train, rank_test = ranks.rankings["train"][tr], ranks.rankings["test"][te]
    if aug is not None and p.aug_factor > 1:
        virtual, rank_virtual = virtual_training_samples(ctx, stage, ranks, tr, aug, seed)
        train, rank_train = concat([train, virtual]), torch.cat((rank_train, rank_virtual))
    cfg = LifterConfig(ranking=ranking, stages=stages, width=p.width)
    key_parts = ctx.data_key + (p.eps_mm, "detected", ranks.key, 1 if protocol == 2 else protocol,
                                None if aug is None else (asdict(aug), p.aug_factor))
    return run_lifter(train, test, cfg, p.lifter_train, seed, ctx.device, rank_train, rank_test, ctx.cache, key_parts,
                      desc=f"{arm} P{protocol} seed {seed}")


def camera_sphere(ctx: Context, count: int = 400, seed: int = 0) -> dict:
    """Protocol #3's camera picture: the training views, the held-out view, V_c (Eq. 7) and
    `count` virtual cameras drawn from the prior fitted to the training views."""
    views = [c for c in range(len(CAMERA_IDS)) if c != HELD_OUT_CAMERA]
    real = rig_cameras(ctx.world.train_subjects, views)
    prior = camera_prior(real)
    return {"prior": prior, "train": real, "held_out": rig_cameras(ctx.world.test_subjects, [HELD_OUT_CAMERA]),
            "virtual": sample_virtual_cameras(prior, count, torch.Generator().manual_seed(seed))}


def example_frame(world: World, fraction: float = 0.37) -> dict:
    """One frame for figures: its world pose, its subject's rig and its four 2D views."""
    block = int(len(world.samples) // len(CAMERA_IDS) * fraction)
    views = world.samples.select(torch.arange(block * len(CAMERA_IDS), (block + 1) * len(CAMERA_IDS)))
    seq_frames = torch.nonzero(world.mocap.sequence == views.sequence[0]).squeeze(1)
    k = int(seq_frames[views.frame[0]])
    subject = str(world.mocap.subject[k])
    return {"pose_world": world.mocap.positions[k], "cameras": rig_for(subject), "pose2d": views.pose2d,
            "title": f"{subject}, {world.mocap.action[k]}, frame {int(views.frame[0])}"}


def gallery_frames(preset: str = "smoke", data: str = "synthetic", out: str | Path = "_out", device: str = "auto",
                   count: int = 8) -> dict:
    """Rendered test crops spread over the test set, with their ground-truth 2D (from the cache)."""
    ctx = Context.create(preset, data, 1, device, out)
    test = image_stage(ctx).images["test"]
    pick = torch.linspace(0, len(test.images) - 1, count).round().long()
    s = ctx.test
    titles = [f"{s.subject_names[int(s.subject[i])]} {s.action_names[int(s.action[i])]} cam {int(s.camera[i])}" for i in pick]
    return {"images": test.images[pick], "joints": test.joints[pick], "titles": titles}
