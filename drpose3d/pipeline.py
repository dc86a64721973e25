"""The shared stages every table draws on, each cached by configuration: the world and its
protocol #1 split, rendered crops + the hourglass' detections, and PRCNN's rankings."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .cache import Cache, config_key
from .camera import CAMERA_IDS
from .dataset import Samples, protocol_split, rig_for
from .detect2d import detect, errors_2d, train_hourglass
from .images import ImageSet, render_set
from .lifting import gt_ranking
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
    key = config_key("detections-v1", ctx.data_key, p.resolution, asdict(p.hourglass), asdict(p.hourglass_train))
    det = ctx.cache.load_tensor("detections", key)
    if det is None:
        model = train_hourglass(images["train"], p.hourglass, p.hourglass_train, 0, ctx.device, ctx.cache, ctx.data_key)
        det = {}
        for split, imgs in images.items():
            heat, joints = detect(model, imgs, ctx.device)
            det[split] = {"heatmaps": (heat.clamp(0, 1) * 255).round().to(torch.uint8), "joints": joints,
                          "errors": errors_2d(joints, getattr(ctx, split).pose2d[:, list(HOURGLASS_JOINTS)], imgs.boxes)}
        ctx.cache.save_tensor("detections", key, det)
    return ImageStage(images, {s: d["heatmaps"] for s, d in det.items()}, {s: d["joints"] for s, d in det.items()},
                      {s: d["errors"] for s, d in det.items()}, key)


@dataclass
class RankingRun:
    rankings: dict[str, torch.Tensor]  # discretised predictions (N, 16, 16) per split
    accuracy: float  # % of off-diagonal test entries equal to Eq. (1)
    per_pair: torch.Tensor  # (16, 16) % per pair on the test set


def prcnn_run(ctx: Context, stage: ImageStage, variant: str, seed: int) -> RankingRun:
    """Train one PRCNN design and predict discretised rankings on both splits (cached)."""
    p = ctx.preset
    depth, use_heat = PRCNN_VARIANTS[variant]
    cfg = PRCNNConfig(depth, use_heat, p.prcnn_width)
    key = config_key("prcnn-run-v1", stage.key, asdict(cfg), asdict(p.prcnn_train), p.eps_mm, p.rank_threshold, seed)
    rankings = ctx.cache.load_tensor("rankings", key)
    if rankings is None:
        train = stage.images["train"]
        tensors = {"images": train.images, "joints": train.joints, "ranking": gt_ranking(ctx.train, p.eps_mm),
                   "heatmaps": stage.heatmaps["train"]}
        model = train_prcnn(tensors, cfg, p.prcnn_train, seed, ctx.device, ctx.cache, (stage.key, p.eps_mm))
        rankings = {split: discretise(predict_rankings(model, stage.images[split].images, stage.heatmaps[split], ctx.device),
                                      p.rank_threshold) for split in ("train", "test")}
        ctx.cache.save_tensor("rankings", key, rankings)
    truth = gt_ranking(ctx.test, p.eps_mm)
    return RankingRun(rankings, 100 * float(pairwise_accuracy(rankings["test"], truth).mean()),
                      100 * (rankings["test"] == truth).float().mean(0))


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
