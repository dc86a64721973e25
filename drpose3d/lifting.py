"""The second stage end to end: samples -> normalised tensors -> a trained lifter -> errors.

Joint conventions follow 3d-pose-baseline: the 2D input and the ranking matrix live on the
16 hourglass joints; the network regresses the 16 non-root joints relative to the root;
errors are averaged over all 17 joints with the root fixed at the origin.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .cache import Cache, config_key
from .dataset import Samples
from .metrics import headline, joint_errors, p_mpjpe, per_group_mean
from .models.dpnet import Lifter, LifterConfig, lifter_loss
from .ranking import borda_depth, coarse_depth, ranking_matrix, topological_depth, upper_triangle
from .skeleton import HOURGLASS_JOINTS, NON_ROOT_JOINTS
from .train import TrainConfig, fit, predict

_HG = list(HOURGLASS_JOINTS)
_NR = list(NON_ROOT_JOINTS)


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension standardisation with training-set statistics."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, x: torch.Tensor) -> "Normaliser":
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


def run_lifter(
    train: Samples,
    test: Samples,
    cfg: LifterConfig,
    train_cfg: TrainConfig,
    seed: int,
    device: torch.device,
    rank_train: torch.Tensor | None,
    rank_test: torch.Tensor | None,
    cache: Cache,
    key_parts: tuple,
    desc: str = "lifter",
) -> dict:
    """Train one lifter and return its test errors (cached by `key_parts` + configs + seed).

    Returned keys: ``mpjpe`` and ``p_mpjpe`` (mean over actions, mm), ``per_action`` and
    ``per_action_p2`` ({action: mm}), ``per_joint`` (17 values, mm), ``losses``, ``key``,
    under which :func:`load_predictions` finds the root-relative test predictions, and for
    lifters with a coarse depth ``depth_spearman``: its mean rank correlation with the truth.
    """
    key = config_key("lifter-v2", key_parts, asdict(cfg), train_cfg.key(), seed)

    def compute() -> dict:
        needs_rank = cfg.ranking != "none"
        tr = raw_tensors(train, rank_train if needs_rank else None, cfg.ranking)
        te = raw_tensors(test, rank_test if needs_rank else None, cfg.ranking)
        n2d, n3d = Normaliser.fit(tr["pose2d"]), Normaliser.fit(tr["pose3d"])
        for t in (tr, te):
            t["pose2d"], t["pose3d"] = n2d(t["pose2d"]), n3d(t["pose3d"])
        torch.manual_seed(seed)
        model = Lifter(cfg)
        losses = fit(model, tr, batch_loss, train_cfg, seed, device, cache, key, desc=desc)
        pred = n3d.invert(predict(model, _final_pose, {k: v for k, v in te.items() if k != "pose3d"}, device))
        pred17 = torch.cat((torch.zeros(len(test), 1, 3), pred.reshape(len(test), -1, 3)), dim=1)
        target17 = root_relative(test.pose3d)
        err = joint_errors(pred17, target17)
        n_act = len(test.action_names)
        per_action = per_group_mean(err.mean(-1), test.action, n_act)
        per_action_p2 = per_group_mean(p_mpjpe(pred17, target17), test.action, n_act)
        cache.drop_tensor("checkpoints", key)
        cache.save_tensor("predictions", key, pred17)
        names = test.action_names
        extra = {}
        if cfg.ranking in ("depthnet", "topological", "borda"):
            depth = (predict(model, _coarse_depth, {k: v for k, v in te.items() if k != "pose3d"}, device)
                     if cfg.ranking == "depthnet" else te["ranking"])
            extra["depth_spearman"] = float(rank_correlation(depth, te["depth"]).mean())
        return {**extra,
            "mpjpe": headline(per_action), "p_mpjpe": headline(per_action_p2),
            "per_action": {a: float(v) for a, v in zip(names, per_action) if not v.isnan()},
            "per_action_p2": {a: float(v) for a, v in zip(names, per_action_p2) if not v.isnan()},
            "per_joint": per_group_mean(err, torch.zeros(len(err), dtype=torch.long), 1)[0].tolist(),
            "losses": losses,
        }

    hit = cache.get_json("lifter", key)
    if hit is None or not cache.path("predictions", key, ".pt").exists():  # predictions lost: train again
        hit = compute()
        cache.put_json("lifter", key, hit)
    return {**hit, "key": key}


def load_predictions(cache: Cache, run: dict) -> torch.Tensor:
    """The test predictions (N, 17, 3), root at the origin, of a :func:`run_lifter` result."""
    pred = cache.load_tensor("predictions", run["key"])
    if pred is None:
        raise FileNotFoundError(f"predictions of lifter run {run['key']} are missing from {cache.root}; rerun its notebook")
    return pred
