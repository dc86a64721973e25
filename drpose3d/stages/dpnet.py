"""The DPNet stage end to end: samples -> normalised tensors -> a trained lifter -> errors.

Joint conventions follow 3d-pose-baseline: the 2D input and the ranking matrix live on the
16 hourglass joints; the network regresses the 16 non-root joints relative to the root;
errors are averaged over all 17 joints with the root fixed at the origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from drpose3d.engine.cache import Checkpoints
from drpose3d.engine.train import TrainConfig, fit, predict
from drpose3d.models.dpnet import Lifter, LifterConfig, lifter_loss
from drpose3d.pose.metrics import headline, joint_errors, p_mpjpe, per_group_mean
from drpose3d.pose.ranking import borda_depth, coarse_depth, ranking_matrix, topological_depth, upper_triangle
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, NON_ROOT_JOINTS
from drpose3d.worlds.samples import Samples

_HG = list(HOURGLASS_JOINTS)
_NR = list(NON_ROOT_JOINTS)


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension standardisation with training-set statistics."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, x: torch.Tensor) -> Normaliser:
        return cls(x.mean(0), x.std(0).clamp_min(1e-6))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


def root_relative(pose3d: torch.Tensor) -> torch.Tensor:
    return pose3d - pose3d[:, :1]


def gt_ranking(samples: Samples, eps_mm: float) -> torch.Tensor:
    """Eq. (1) on the hourglass joints' camera depth: (N, 16, 16)."""
    return ranking_matrix(samples.pose3d[:, _HG, 2], eps_mm)


def ranking_input(ranking: torch.Tensor, mode: str) -> torch.Tensor:
    """What a lifter with ``LifterConfig.ranking == mode`` gets from (N, 16, 16) matrices: the
    120 free entries in {-1, 0, 1}, or the coarse depth (N, 16) of a fixed ordering."""
    if mode == "topological":
        return topological_depth(ranking)
    if mode == "borda":
        return borda_depth(ranking)
    return 2 * upper_triangle(ranking) - 1


def raw_tensors(samples: Samples, ranking: torch.Tensor | None, mode: str = "depthnet") -> dict[str, torch.Tensor]:
    """Unnormalised network inputs/targets: 2D (N, 32), the ranking input (see
    :func:`ranking_input`), root-relative 3D (N, 48), coarse depth O (N, 16)."""
    out = {
        "pose2d": samples.pose2d[:, _HG].reshape(len(samples), -1),
        "pose3d": root_relative(samples.pose3d)[:, _NR].reshape(len(samples), -1),
        "depth": coarse_depth(samples.pose3d[:, _HG, 2]),
    }
    if ranking is not None:
        out["ranking"] = ranking_input(ranking, mode)
    return out


def batch_loss(model: Lifter, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return lifter_loss(model(batch["pose2d"], batch.get("ranking")), batch["pose3d"], batch["depth"])


def _coarse_depth(model: Lifter, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(batch["pose2d"], batch.get("ranking"))["depth"]


def rank_correlation(depth: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Spearman correlation per sample between a coarse depth (N, J), any monotone scale, and
    the true O (N, J): the mean product of the two standardised rank vectors."""
    return (coarse_depth(depth) * coarse_depth(truth)).mean(-1)


def _final_pose(model: Lifter, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return model(batch["pose2d"], batch.get("ranking"))["poses"][-1]


def train_lifter(
    train: Samples,
    cfg: LifterConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    rank_train: torch.Tensor | None,
    checkpoints: Checkpoints | None = None,
    desc: str = "lifter",
) -> tuple[Lifter, Normaliser, Normaliser, list[float]]:
    """DPNet (or the baseline, by `cfg`) trained on standardised 2D (+ ranking) -> 3D."""
    tr = raw_tensors(train, rank_train if cfg.ranking != "none" else None, cfg.ranking)
    n2d, n3d = Normaliser.fit(tr["pose2d"]), Normaliser.fit(tr["pose3d"])
    tr["pose2d"], tr["pose3d"] = n2d(tr["pose2d"]), n3d(tr["pose3d"])
    torch.manual_seed(seed)
    model = Lifter(cfg)
    losses = fit(model, tr, batch_loss, train_cfg, seed, device, checkpoints, desc=desc).losses
    return model, n2d, n3d, losses


def evaluate(pred17: torch.Tensor, test: Samples) -> dict:
    """Errors of root-relative test predictions (N, 17, 3): ``mpjpe`` and ``p_mpjpe`` (mean over
    actions, mm), ``per_action`` and ``per_action_p2`` ({action: mm}), ``per_joint`` (17 values)."""
    target17 = root_relative(test.pose3d)
    err = joint_errors(pred17, target17)
    n_act, names = len(test.action_names), test.action_names
    per_action = per_group_mean(err.mean(-1), test.action, n_act)
    per_action_p2 = per_group_mean(p_mpjpe(pred17, target17), test.action, n_act)
    return {
        "mpjpe": headline(per_action),
        "p_mpjpe": headline(per_action_p2),
        "per_action": {a: float(v) for a, v in zip(names, per_action, strict=True) if not v.isnan()},
        "per_action_p2": {a: float(v) for a, v in zip(names, per_action_p2, strict=True) if not v.isnan()},
        "per_joint": per_group_mean(err, torch.zeros(len(err), dtype=torch.long), 1)[0].tolist(),
    }


def dpnet(
    train: Samples,
    test: Samples,
    cfg: LifterConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    rank_train: torch.Tensor | None,
    rank_test: torch.Tensor | None,
    checkpoints: Checkpoints | None = None,
    desc: str = "lifter",
) -> dict:
    """The DPNet stage: train one lifter, predict the test set and score it.

    Returns :func:`evaluate`'s keys, ``losses``, ``predictions`` (N, 17, 3) root-relative, and
    for lifters with a coarse depth ``depth_spearman``: its mean rank correlation with the truth."""
    model, n2d, n3d, losses = train_lifter(train, cfg, train_cfg, seed, device, rank_train, checkpoints, desc)
    te = raw_tensors(test, rank_test if cfg.ranking != "none" else None, cfg.ranking)
    inputs = {k: v for k, v in te.items() if k != "pose3d"}
    inputs["pose2d"] = n2d(inputs["pose2d"])
    pred = n3d.invert(predict(model, _final_pose, inputs, device))
    pred17 = torch.cat((torch.zeros(len(test), 1, 3), pred.reshape(len(test), -1, 3)), dim=1)
    result = {**evaluate(pred17, test), "losses": losses, "predictions": pred17}
    if cfg.ranking in ("depthnet", "topological", "borda"):
        depth = predict(model, _coarse_depth, inputs, device) if cfg.ranking == "depthnet" else te["ranking"]
        result["depth_spearman"] = float(rank_correlation(depth, te["depth"]).mean())
    return result
