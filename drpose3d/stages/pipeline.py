"""The stages chained and cached: a :class:`Context` opens a run's world once, and each method
runs one stage of the paper's pipeline (images, 2D pose, PRCNN, DPNet) through
:meth:`Cache.stage`, keyed by the configuration that decides its result.

Data flows down: world -> samples -> rendered images -> 2D pose (hourglass) -> PRCNN rankings
-> DPNet; a key names everything upstream, so changing the world, a size or a seed retrains
exactly what depends on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import cache as memoise
from pathlib import Path

import torch

from drpose3d.cache import Cache
from drpose3d.images.sets import ImageSet, render_images
from drpose3d.models.dpnet import LifterConfig
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.paper import PRCNN_DESIGNS, Arm, Fig5a
from drpose3d.pose.ranking import discretise, pairwise_accuracy
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.run import Run
from drpose3d.stages.dpnet import dpnet, gt_ranking
from drpose3d.stages.pose2d import Detections, pose2d
from drpose3d.stages.prcnn import prcnn
from drpose3d.worlds.augment import (
    AugmentConfig,
    camera_prior,
    entry_accuracy,
    fit_noise_model,
    rig_cameras,
    virtual_samples,
)
from drpose3d.worlds.samples import HELD_OUT_CAMERA, Samples, concat, projected_2d, protocol_split
from drpose3d.worlds.spec import World, load_world, spec_fingerprint

_HG = list(HOURGLASS_JOINTS)

#: Lifter designs of Table 2 and Fig. 5(b): ranking input, PoseNet stages, augmentation (None: none).
ARMS: dict[Arm, tuple[str, int, AugmentConfig | None]] = {
    Arm.BASELINE: ("none", 1, None),
    Arm.OURS_NO_AUG: ("depthnet", 2, None),
    Arm.OURS: ("depthnet", 2, AugmentConfig()),
    Arm.NO_RANK: ("none", 2, AugmentConfig(flip=False)),  # DPNet without its ranking input
    Arm.NO_RANK_NO_AUG: ("none", 2, None),
    Arm.NO_DEPTHNET: ("concat", 2, AugmentConfig()),
    Arm.AUG_GT_ONLY: ("depthnet", 2, AugmentConfig(noise=False, flip=False)),
}


@dataclass
class Rankings:
    """PRCNN's output for one design and seed, discretised at `threshold` (Sec. 3.1)."""

    probabilities: dict[str, torch.Tensor]  # P (N, 16, 16) per split, Eq. (4), float16
    matrices: dict[str, torch.Tensor]  # P discretised
    threshold: float
    accuracy: float  # % of off-diagonal test entries equal to Eq. (1)
    per_pair: torch.Tensor  # (16, 16) % per pair on the test set
    key: tuple  # names the rankings in the keys of lifters trained on them


@dataclass
class Context:
    """A run with its world opened: protocol #1 split, cache, and the stages on top."""

    run: Run
    world: World
    train: Samples
    test: Samples
    cache: Cache

    @property
    def data_key(self) -> tuple:
        """Identifies the samples: changing the data, the world or the stride invalidates the cache."""
        p = self.run.preset
        return (self.world.label, spec_fingerprint(self.run.data), p.world, p.stride, "protocol1")

    @property
    def device(self) -> torch.device:
        return self.run.torch_device

    def images(self) -> dict[str, ImageSet]:
        """Rendered crops of the protocol #1 train and test samples."""
        res = self.run.preset.resolution
        return {
            split: self.cache.stage("images", (self.data_key, split, res), render_images, samples, res, self.device)
            for split, samples in (("train", self.train), ("test", self.test))
        }

    def pose2d_key(self) -> tuple:
        p = self.run.preset
        return (self.data_key, p.resolution, asdict(p.hourglass), p.hourglass_train.key(), 0)

    def pose2d(self) -> dict[str, Detections]:
        """The hourglass' detections (seed 0: one 2D estimator for all runs, as the paper has one)."""
        p = self.run.preset
        truth = {"train": projected_2d(self.train)[:, _HG], "test": projected_2d(self.test)[:, _HG]}
        return self.cache.stage(
            "pose2d", self.pose2d_key(), pose2d, self.images(), truth, p.hourglass, p.hourglass_train, 0, self.device
        )

    def rankings(self, design: Fig5a, seed: int, threshold: float | None = None) -> Rankings:
        """One PRCNN design of Fig. 5(a) trained with `seed`, its P on both splits discretised at
        `threshold` (default: the preset's)."""
        p = self.run.preset
        threshold = p.rank_threshold if threshold is None else threshold
        depth, use_heat = PRCNN_DESIGNS[design]
        cfg = PRCNNConfig(depth, use_heat, p.prcnn_width)
        key = (self.pose2d_key(), asdict(cfg), p.prcnn_train.key(), p.eps_mm, seed)
        heat = {split: d.heatmaps for split, d in self.pose2d().items()}
        probabilities = self.cache.stage(
            "prcnn",
            key,
            prcnn,
            self.images(),
            heat,
            gt_ranking(self.train, p.eps_mm),
            cfg,
            p.prcnn_train,
            seed,
            self.device,
        )
        matrices = {split: discretise(prob.float(), threshold) for split, prob in probabilities.items()}
        truth = gt_ranking(self.test, p.eps_mm)
        return Rankings(
            probabilities,
            matrices,
            threshold,
            100 * float(pairwise_accuracy(matrices["test"], truth).mean()),
            100 * (matrices["test"] == truth).float().mean(0),
            ("pred_rank", key, threshold),
        )

    def lifter(
        self,
        train: Samples,
        test: Samples,
        cfg: LifterConfig,
        seed: int,
        ranks: tuple[torch.Tensor | None, torch.Tensor | None],
        inputs_key: tuple,
        desc: str,
    ) -> dict:
        """One DPNet-stage run; `inputs_key` names what `train`, `test` and `ranks` are beyond
        the world (2D source, ranking source, protocol, augmentation)."""
        p = self.run.preset
        key = (self.data_key, inputs_key, asdict(cfg), p.lifter_train.key(), seed)
        return self.cache.stage(
            "dpnet", key, dpnet, train, test, cfg, p.lifter_train, seed, self.device, *ranks, desc=desc
        )

    def gt2d_lifter(self, cfg: LifterConfig, seed: int, ranks: tuple, source: tuple | str, desc: str) -> dict:
        """A lifter on ground-truth 2D under protocol #1 (Table 1 and the analyses beside it)."""
        return self.lifter(self.train, self.test, cfg, seed, ranks, (self.run.preset.eps_mm, "gt2d", source), desc)

    def detected_2d(self, split: str) -> torch.Tensor:
        """A split's detected 16 joints (N, 16, 2): the data's own detections when it has them
        (``h36m:DIR:KEYPOINTS``), else the hourglass' on the rendered crops."""
        if self.world.detected_2d:
            return getattr(self, split).pose2d[:, _HG]
        return self.pose2d()[split].joints

    def protocol_masks(self, protocol: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Which protocol #1 train/test samples a protocol uses: all (#1, #2), or the three
        training views / the held-out view (#3)."""
        if protocol in (1, 2):
            return torch.ones(len(self.train), dtype=torch.bool), torch.ones(len(self.test), dtype=torch.bool)
        if protocol == 3:
            return self.train.camera != HELD_OUT_CAMERA, self.test.camera == HELD_OUT_CAMERA
        raise ValueError(f"protocol is {protocol}, expected 1, 2 or 3")

    def virtual_training_samples(
        self, ranks: Rankings, train_mask: torch.Tensor, aug: AugmentConfig, seed: int
    ) -> tuple[Samples, torch.Tensor]:
        """Sec. 3.3 on a protocol's training set: the camera prior from its cameras, the GMM from
        the hourglass' training residuals, the flip rates from PRCNN's training accuracy."""
        p = self.run.preset
        train = self.train.select(train_mask)
        views = sorted(set(train.camera.tolist()))
        prior = camera_prior(rig_cameras(self.world.train_subjects, views))
        residuals = self.detected_2d("train")[train_mask] - projected_2d(train)[:, _HG]
        noise = fit_noise_model(residuals, aug.gmm_components, seed) if aug.noise else None
        accuracy = (
            entry_accuracy(ranks.matrices["train"][train_mask], gt_ranking(train, p.eps_mm)) if aug.flip else None
        )
        return virtual_samples(train, prior, aug, p.aug_factor, p.eps_mm, seed, noise, accuracy)

    def arm(self, arm: Arm, protocol: int, seed: int) -> dict:
        """One lifter design of :data:`ARMS` on detected 2D + PRCNN rankings under a protocol
        (#2 is #1's model scored after Procrustes)."""
        ranking, stages, aug = ARMS[arm]
        p = self.run.preset
        ranks = self.rankings(Fig5a.PRCNN_RESNET34, seed)
        tr, te = self.protocol_masks(protocol)
        train = with_detections(self.train, self.detected_2d("train")).select(tr)
        test = with_detections(self.test, self.detected_2d("test")).select(te)
        rank_train, rank_test = ranks.matrices["train"][tr], ranks.matrices["test"][te]
        if aug is not None and p.aug_factor > 1:
            virtual, rank_virtual = self.virtual_training_samples(ranks, tr, aug, seed)
            train, rank_train = concat([train, virtual]), torch.cat((rank_train, rank_virtual))
        cfg = LifterConfig(ranking=ranking, stages=stages, width=p.width)
        source = (
            p.eps_mm,
            "detected",
            ranks.key,
            1 if protocol == 2 else protocol,
            None if aug is None else (asdict(aug), p.aug_factor),
        )
        return self.lifter(train, test, cfg, seed, (rank_train, rank_test), source, f"{arm} P{protocol} seed {seed}")


def with_detections(samples: Samples, joints: torch.Tensor) -> Samples:
    """`samples` with detected 16 joints (N, 16, 2) in place of their 2D (joint 9, which the
    hourglass lacks, is never a network input)."""
    pose2d = samples.pose2d.clone()
    pose2d[:, _HG] = joints
    return replace(samples, pose2d=pose2d)


@memoise
def open_context(run: Run) -> Context:
    """The run's world (cached: generating the cpu world takes minutes) and its protocol #1
    split; opened once per kernel, however many experiments a notebook calls."""
    cache = Cache(Path(run.out) / "cache")
    p = run.preset
    world = cache.stage("world", (run.data, spec_fingerprint(run.data), p.world, p.stride), load_world, run.data, p)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    return Context(run, world, train, test, cache)
