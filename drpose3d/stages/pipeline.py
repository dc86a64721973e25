"""The stages chained and cached: a :class:`Context` opens a run's world once, and each method
runs one stage of the paper's pipeline (images, 2D pose, PRCNN, DPNet) through
:meth:`Cache.stage`, keyed by the configuration that decides its result.

Data flows down: world -> samples -> rendered images -> 2D pose (hourglass) -> PRCNN rankings
-> DPNet. Every key is derived (:mod:`drpose3d.keys`): the upstream entries' keys, the content of
the tensors a stage consumes, the configuration, the seed, and the digest of the stage's code.
Changing the world, a size, a seed or a stage's source retrains exactly what depends on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from functools import cache as memoise
from functools import cached_property
from pathlib import Path

import torch

from drpose3d.cache import Cache, Checkpoints
from drpose3d.images.sets import RenderedCrops
from drpose3d.keys import code_digest, config_key, tensor_digest
from drpose3d.models.dpnet import LifterConfig
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.paper import DPNET_DROPOUT, MARTINEZ_DROPOUT, MARTINEZ_MAX_NORM, PRCNN_DESIGNS, Arm, Fig5a
from drpose3d.pose.ranking import discretise, pairwise_accuracy
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.run import Run
from drpose3d.stages import splits
from drpose3d.stages.dpnet import dpnet, gt_ranking
from drpose3d.stages.pose2d import Detections, Pose2D, heatmapper, pose2d
from drpose3d.stages.prcnn import Ranked, Validation, floor_2d_only, prcnn, truth_heatmaps
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
#: What a lifter trains and is tested on: train samples, test samples, (train, test) rankings.
LifterInputs = tuple[Samples, Samples, tuple[torch.Tensor | None, torch.Tensor | None]]


def baseline(width: int) -> LifterConfig:
    """Martinez et al. 2017 (the paper's baseline rows): one stage, dropout 0.5, max-norm 1."""
    return LifterConfig(ranking="none", stages=1, width=width, dropout=MARTINEZ_DROPOUT, max_norm=MARTINEZ_MAX_NORM)


def dpnet_config(width: int, ranking: str = "depthnet") -> LifterConfig:
    """DPNet (Sec. 3.2): DepthNet + the two-stage PoseNet, dropout 0.3; `ranking` varies its input."""
    return LifterConfig(ranking=ranking, stages=2, width=width, dropout=DPNET_DROPOUT)


#: Lifter designs of Table 2 and Fig. 5(b), by width: the network and its augmentation (None: none).
ARMS: dict[Arm, Callable[[int], tuple[LifterConfig, AugmentConfig | None]]] = {
    Arm.BASELINE: lambda w: (baseline(w), None),
    Arm.OURS_NO_AUG: lambda w: (dpnet_config(w), None),
    Arm.OURS: lambda w: (dpnet_config(w), AugmentConfig()),
    Arm.NO_RANK: lambda w: (dpnet_config(w, "none"), AugmentConfig(flip=False)),  # DPNet without ranking input
    Arm.NO_RANK_NO_AUG: lambda w: (dpnet_config(w, "none"), None),
    Arm.NO_DEPTHNET: lambda w: (dpnet_config(w, "concat"), AugmentConfig()),
    Arm.AUG_GT_ONLY: lambda w: (dpnet_config(w), AugmentConfig(noise=False, flip=False)),
}


@dataclass
class Rankings:
    """PRCNN's output for one design and seed, discretised at `threshold` (Sec. 3.1)."""

    probabilities: dict[str, torch.Tensor]  # P (N, 16, 16) per split, Eq. (4), float16
    matrices: dict[str, torch.Tensor]  # P discretised
    threshold: float
    accuracy: float  # % of off-diagonal test entries equal to Eq. (1)
    per_pair: torch.Tensor  # (16, 16) % per pair on the test set
    key: str  # the entries' keys and the threshold: names the rankings in the keys of lifters trained on them
    train_accuracy: float  # % on the training split: in-sample, or cross-fitted (:meth:`Context.lifter_rankings`)
    history: list[dict[str, float]]  # the training curve of the model that ranked the test set
    best_epoch: int


class Stage(StrEnum):
    """The pipeline's stages in order, named as the paper names them (the names the ledger shows)."""

    WORLD = "world"
    IMAGES = "images"
    POSE2D = "2D pose"
    PRCNN = "PRCNN"
    DPNET = "DPNet"

    @property
    def kind(self) -> str:
        """The stage's folder in the cache."""
        return self.name.lower()


STAGES = tuple(Stage)


def seeded_stages(run: Run) -> tuple[Stage, ...]:
    """The stages whose randomness seed k of `run` draws anew: all of them, except a world read
    from files (recorded motion is not sampled)."""
    return tuple(s for s in STAGES if not (s is Stage.WORLD and run.data.recorded))


#: Lifter seeds of replicate r of pipeline seed k: k + r * LIFTER_REPLICATE_STRIDE, far from any
#: pipeline seed a run uses, so no replicate repeats another seed's lifter.
LIFTER_REPLICATE_STRIDE = 1000


def lifter_seed(seed: int, replicate: int) -> int:
    """The DPNet seed of a lifter `replicate` on pipeline seed `seed`: replicate 0 is the pipeline's own
    (its cache key unchanged), the others train the same network on the same inputs from another
    draw of weights and batch order, which is all a lifter seed varies."""
    if replicate < 0:
        raise ValueError(f"replicate is {replicate}, expected 0 or more")
    return seed + replicate * LIFTER_REPLICATE_STRIDE


def stage_key(stage: Stage, code: Callable, *parts: object) -> str:
    """A stage entry's key: its stage, the digest of the source of the stage function `code` (and
    of the package modules it imports), and `parts`: upstream keys, configuration, seed."""
    return config_key(stage.kind, code_digest(code), parts)


@dataclass
class Context:
    """One seed's whole pipeline on a run: its world (protocol #1 split), cache, and the stages on
    top. Seed k of a run samples the world, renders, trains the hourglass, PRCNN and the lifters
    with k, except the stages that :func:`seeded_stages` leaves fixed (they use 0)."""

    run: Run
    seed: int
    world: World
    train: Samples
    test: Samples
    cache: Cache

    def stage_seed(self, stage: Stage) -> int:
        return self.seed if stage in seeded_stages(self.run) else 0

    @property
    def data_key(self) -> str:
        """Identifies the samples by their content (the world's digest), not by how they were made:
        a world regenerated by edited code but equal to the old one keeps every stage built on it."""
        return config_key(self.world.label, self.world.digest, "protocol1")

    @property
    def device(self) -> torch.device:
        return self.run.torch_device

    def images_key(self, split: str) -> str:
        """What a split's crops are: the samples, the crop size, the seed of their light, backdrop and
        noise, and the renderer's code (nothing is stored: the crops are rendered when trained on)."""
        return stage_key(Stage.IMAGES, RenderedCrops, self.data_key, split, self.run.preset.resolution,
                         self.stage_seed(Stage.IMAGES))  # fmt: skip

    @cached_property
    def crops(self) -> dict[str, RenderedCrops]:
        """The protocol #1 train and test samples as crops rendered on demand (batch by batch, on
        the run's device): memory set by the batch, not the world."""
        res, seed = self.run.preset.resolution, self.stage_seed(Stage.IMAGES)
        return {split: RenderedCrops(getattr(self, split), res, seed) for split in ("train", "test")}

    def stage1_views(self, protocol: int) -> torch.Tensor:
        """Which training crops the stage-1 networks (hourglass, PRCNN) may learn from: every
        `cnn_stride`-th frame of the preset, in all four views, or under protocol #3 in the
        three training views only, so that no network sees the held-out view."""
        frames = (self.train.frame // self.world.stride) % self.run.preset.cnn_stride == 0
        return frames & self.protocol_masks(3 if protocol == 3 else 1)[0]

    def subject_half(self, half: int) -> torch.Tensor:
        """Training samples of one half of the training subjects (:func:`splits.subject_half`)."""
        return splits.subject_half(self.train, self.world.train_subjects, half)

    def stage1_split(self, protocol: int, half: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(fit, validation) masks over the training split for the stage-1 networks of a protocol
        (of one subject half, if given): :meth:`stage1_views` split by :func:`splits.held_out_split`."""
        views = self.stage1_views(protocol)
        return splits.held_out_split(self.train, views & self.subject_half(half) if half is not None else views)

    def stage1_key(self, protocol: int, half: int | None = None) -> tuple:
        """What the stage-1 networks learn from: both splits' crops and :meth:`stage1_split` (its
        settings and the code of :mod:`splits`)."""
        views = HELD_OUT_CAMERA if protocol == 3 else None
        return (self.images_key("train"), self.images_key("test"), self.run.preset.cnn_stride, views, half,
                code_digest(splits.held_out_split), splits.VALIDATION_EVERY, splits.VALIDATION_MAX)  # fmt: skip

    def validation(self, rows: torch.Tensor) -> Validation | None:
        """Held-out training rows and their Eq. (1) rankings, scored at the preset's threshold
        (None without any: the network then trains to its epoch cap)."""
        p = self.run.preset
        return Validation(rows, gt_ranking(self.train.select(rows), p.eps_mm), p.rank_threshold) if rows.any() else None

    def pose2d_key(self, protocol: int = 1) -> str:
        p = self.run.preset
        return stage_key(Stage.POSE2D, pose2d, self.stage1_key(protocol), asdict(p.hourglass),
                         p.hourglass_train.key(), self.stage_seed(Stage.POSE2D))  # fmt: skip

    def pose2d_stage(self, protocol: int = 1) -> Pose2D:
        """The hourglass trained on :meth:`stage1_split` to a plateau and its detections on both splits."""
        p = self.run.preset

        def compute(checkpoints: Checkpoints | None = None) -> Pose2D:
            truth = {"train": projected_2d(self.train)[:, _HG], "test": projected_2d(self.test)[:, _HG]}
            return pose2d(self.crops, truth, p.hourglass, p.hourglass_train, self.stage_seed(Stage.POSE2D),
                          self.device, checkpoints, *self.stage1_split(protocol))  # fmt: skip

        return self.cache.stage(Stage.POSE2D.kind, self.pose2d_key(protocol), compute)

    def pose2d(self, protocol: int = 1) -> dict[str, Detections]:
        """The hourglass' detections on both splits (see :meth:`pose2d_stage`)."""
        return self.pose2d_stage(protocol).detections

    def _prcnn(self, design: Fig5a, protocol: int, true_heatmaps: bool, half: int | None = None) -> tuple[Ranked, str]:
        """One PRCNN design trained with this seed on :meth:`stage1_split` (of a subject half:
        it then ranks the training split only), and its entry's key."""
        p, seed = self.run.preset, self.stage_seed(Stage.PRCNN)
        depth, use_heat = PRCNN_DESIGNS[design]
        cfg = PRCNNConfig(depth, use_heat, p.prcnn_width)
        # the hourglass only when its heatmaps are used; the truth's heatmaps depend on the crops alone
        source = (code_digest(truth_heatmaps) if true_heatmaps else self.pose2d_key(protocol)) if use_heat else None
        key = stage_key(Stage.PRCNN, prcnn, self.stage1_key(protocol, half), source, asdict(cfg), p.prcnn_train.key(),
                        p.eps_mm, p.rank_threshold, seed)  # fmt: skip

        def compute(checkpoints: Checkpoints | None = None) -> Ranked:
            heat = None
            if use_heat:
                heat = truth_heatmaps if true_heatmaps else heatmapper(self.pose2d_stage(protocol), self.device)
            fit_rows, val_rows = self.stage1_split(protocol, half)
            splits = ("train",) if half is not None else ("train", "test")
            return prcnn(self.crops, heat, gt_ranking(self.train, p.eps_mm), cfg, p.prcnn_train, seed, self.device,
                         checkpoints, fit_rows, self.validation(val_rows), splits)  # fmt: skip

        return self.cache.stage(Stage.PRCNN.kind, key, compute), key

    def rankings(
        self, design: Fig5a, threshold: float | None = None, protocol: int = 1, true_heatmaps: bool = False
    ) -> Rankings:
        """One PRCNN design of Fig. 5(a) trained with this seed on :meth:`stage1_split`, its P on
        both splits discretised at `threshold` (default: the preset's). A design with heatmaps reads
        the hourglass' (trained for `protocol`), or with `true_heatmaps` heatmaps drawn from the
        ground-truth 2D (Table 1's second reading of Sec. 3.1). Its training-split rankings are
        in-sample: lifters train on :meth:`lifter_rankings`."""
        ranked, key = self._prcnn(design, protocol, true_heatmaps)
        return self._rankings(ranked, ranked.probabilities, threshold, key)

    def lifter_rankings(
        self, design: Fig5a = Fig5a.PRCNN_RESNET34, threshold: float | None = None, protocol: int = 1,
        true_heatmaps: bool = False,
    ) -> Rankings:  # fmt: skip
        """:meth:`rankings` with cross-fitted training rankings, for lifters to train on: each half
        of the training subjects is ranked by the PRCNN trained on the other half, so DPNet learns
        to trust rankings as good as those it meets on the test set, not in-sample ones."""
        full, full_key = self._prcnn(design, protocol, true_heatmaps)
        train = torch.empty_like(full.probabilities["train"])
        keys = [full_key]
        for half in (0, 1):
            other, key = self._prcnn(design, protocol, true_heatmaps, half=1 - half)
            rows = self.subject_half(half)
            train[rows] = other.probabilities["train"][rows]
            keys.append(key)
        return self._rankings(full, {"train": train, "test": full.probabilities["test"]}, threshold, config_key(*keys))

    def rankings_2d_only(self, detected: bool) -> Rankings:
        """Fig. 5(a)'s floor: an MLP ranker that sees only the 2D pose (ground truth, or the
        hourglass' detections), with PRCNN's pair head and loss, trained to a plateau on the same
        validation clips as PRCNN; PRCNN must beat it to show that its pixels add depth information."""
        p, seed = self.run.preset, self.stage_seed(Stage.PRCNN)
        source = self.pose2d_key() if detected else None  # None: ground-truth 2D
        key = stage_key(Stage.PRCNN, floor_2d_only, self.data_key, self.stage1_key(1), source, p.width,
                        p.floor_train.key(), p.eps_mm, p.rank_threshold, seed)  # fmt: skip

        def compute(checkpoints: Checkpoints | None = None) -> Ranked:
            joints = {s: (self.detected_2d(s) if detected else projected_2d(getattr(self, s))[:, _HG])
                      for s in ("train", "test")}  # fmt: skip
            fit_rows, val_rows = self.stage1_split(1)
            clips = self.train.sequence[self.stage1_views(1) & ~fit_rows].unique()
            held = torch.isin(self.train.sequence, clips)  # every frame of a held-out clip is kept out of its fit
            return floor_2d_only(joints, gt_ranking(self.train, p.eps_mm), p.width, p.floor_train, seed,
                                 self.device, checkpoints, self.validation(val_rows), held)  # fmt: skip

        ranked = self.cache.stage(Stage.PRCNN.kind, key, compute)
        return self._rankings(ranked, ranked.probabilities, None, key)

    def _rankings(
        self, ranked: Ranked, probabilities: dict[str, torch.Tensor], threshold: float | None, key: str
    ) -> Rankings:
        threshold = self.run.preset.rank_threshold if threshold is None else threshold
        matrices = {split: discretise(prob.float(), threshold) for split, prob in probabilities.items()}
        eps = self.run.preset.eps_mm
        test, train = gt_ranking(self.test, eps), gt_ranking(self.train, eps)
        return Rankings(
            probabilities,
            matrices,
            threshold,
            100 * float(pairwise_accuracy(matrices["test"], test).mean()),
            100 * (matrices["test"] == test).float().mean(0),
            config_key(key, threshold),
            100 * float(pairwise_accuracy(matrices["train"], train).mean()),
            ranked.history,
            ranked.best_epoch,
        )

    def lifter(
        self, cfg: LifterConfig, inputs: Callable[[], LifterInputs], inputs_key: tuple, desc: str, replicate: int = 0
    ) -> dict:
        """One DPNet-stage run. `inputs()` gives its train and test samples and rankings and is
        called only when the run is not cached (detections, virtual cameras and GMM fits are
        work); `inputs_key` derives what they are beyond the world (upstream keys, digests of the
        rankings, protocol, augmentation). `replicate` > 0 trains the same lifter on the same
        inputs with another lifter seed (:func:`lifter_seed`). `desc` labels the progress bar only."""
        p, seed = self.run.preset, lifter_seed(self.stage_seed(Stage.DPNET), replicate)
        key = stage_key(Stage.DPNET, dpnet, self.data_key, inputs_key, asdict(cfg), p.lifter_train.key(), seed)

        def compute(checkpoints: Checkpoints | None = None) -> dict:
            train, test, ranks = inputs()
            return dpnet(train, test, cfg, p.lifter_train, seed, self.device, *ranks, checkpoints,
                         desc=f"{desc} seed {self.seed}" + (f" lifter {replicate}" if replicate else ""))  # fmt: skip

        return self.cache.stage(Stage.DPNET.kind, key, compute)

    def gt2d_lifter(
        self, cfg: LifterConfig, ranks: Rankings | tuple[torch.Tensor, torch.Tensor], desc: str, replicate: int = 0
    ) -> dict:
        """A lifter on ground-truth 2D under protocol #1 (Table 1 and the analyses beside it), with
        PRCNN's rankings or (train, test) ranking tensors, keyed by what they hold; a lifter without
        ranking input does not depend on them. `replicate`: see :meth:`lifter`."""
        if isinstance(ranks, Rankings):
            source, ranks = ranks.key, (ranks.matrices["train"], ranks.matrices["test"])
        else:
            source = tensor_digest(*ranks)
        inputs_key = ("gt2d", None if cfg.ranking == "none" else source)
        return self.lifter(cfg, lambda: (self.train, self.test, ranks), inputs_key, desc, replicate)

    def detected_2d(self, split: str, protocol: int = 1) -> torch.Tensor:
        """A split's detected 16 joints (N, 16, 2): the data's own detections when it has them
        (``h36m:DIR:KEYPOINTS``), else the hourglass' (trained for `protocol`) on the crops."""
        if self.world.detected_2d:
            return getattr(self, split).pose2d[:, _HG]
        return self.pose2d(protocol)[split].joints

    def protocol_masks(self, protocol: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Which protocol #1 train/test samples a protocol uses: all (#1, #2), or the three
        training views / the held-out view (#3)."""
        if protocol in (1, 2):
            return torch.ones(len(self.train), dtype=torch.bool), torch.ones(len(self.test), dtype=torch.bool)
        if protocol == 3:
            return self.train.camera != HELD_OUT_CAMERA, self.test.camera == HELD_OUT_CAMERA
        raise ValueError(f"protocol is {protocol}, expected 1, 2 or 3")

    def virtual_training_samples(
        self, ranks: Rankings, train_mask: torch.Tensor, aug: AugmentConfig, protocol: int
    ) -> tuple[Samples, torch.Tensor]:
        """Sec. 3.3 on a protocol's training set: the camera prior from its cameras, the GMM from
        the hourglass' training residuals, the flip rates from PRCNN's training accuracy."""
        p, seed = self.run.preset, self.stage_seed(Stage.DPNET)
        train = self.train.select(train_mask)
        views = sorted(set(train.camera.tolist()))
        prior = camera_prior(rig_cameras(self.world.train_subjects, views))
        residuals = self.detected_2d("train", protocol)[train_mask] - projected_2d(train)[:, _HG]
        noise = fit_noise_model(residuals, aug.gmm_components, seed) if aug.noise else None
        accuracy = (
            entry_accuracy(ranks.matrices["train"][train_mask], gt_ranking(train, p.eps_mm)) if aug.flip else None
        )
        return virtual_samples(train, prior, aug, p.aug_factor, p.eps_mm, seed, noise, accuracy)

    def arm(self, arm: Arm, protocol: int) -> dict:
        """One lifter design of :data:`ARMS` on detected 2D + PRCNN rankings under a protocol
        (#2 is #1's model scored after Procrustes)."""
        cfg, aug = ARMS[arm](self.run.preset.width)
        p = self.run.preset
        ranks = self.lifter_rankings(protocol=protocol)
        tr, te = self.protocol_masks(protocol)

        def inputs() -> LifterInputs:
            train = with_detections(self.train, self.detected_2d("train", protocol)).select(tr)
            test = with_detections(self.test, self.detected_2d("test", protocol)).select(te)
            rank_train, rank_test = ranks.matrices["train"][tr], ranks.matrices["test"][te]
            if aug is not None and p.aug_factor > 1:
                virtual, rank_virtual = self.virtual_training_samples(ranks, tr, aug, protocol)
                train, rank_train = concat([train, virtual]), torch.cat((rank_train, rank_virtual))
            return train, test, (rank_train, rank_test)

        uses_ranks = cfg.ranking != "none" or (aug is not None and aug.flip)
        detections = None if self.world.detected_2d else self.pose2d_key(3 if protocol == 3 else 1)
        augmented = None if aug is None else (asdict(aug), p.aug_factor, code_digest(virtual_samples))
        source = (detections, ranks.key if uses_ranks else None, 1 if protocol == 2 else protocol, augmented)
        return self.lifter(cfg, inputs, source, f"{arm} P{protocol}")


def with_detections(samples: Samples, joints: torch.Tensor) -> Samples:
    """`samples` with detected 16 joints (N, 16, 2) in place of their 2D (joint 9, which the
    hourglass lacks, is never a network input)."""
    pose2d = samples.pose2d.clone()
    pose2d[:, _HG] = joints
    return replace(samples, pose2d=pose2d)


@memoise
def open_context(run: Run, seed: int) -> Context:
    """Seed `seed`'s world (cached: generating the cpu world takes minutes) and its protocol #1
    split; opened once per kernel and seed, however many experiments a notebook calls."""
    cache = Cache(Path(run.out) / "cache")
    p = run.preset
    world_seed = seed if Stage.WORLD in seeded_stages(run) else 0
    key = stage_key(Stage.WORLD, load_world, str(run.data), spec_fingerprint(run.data), p.world, p.stride, world_seed)
    world = cache.stage(Stage.WORLD.kind, key, load_world, run.data, p, world_seed)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    return Context(run, seed, world, train, test, cache)
