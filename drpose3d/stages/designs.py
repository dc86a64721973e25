"""The paper's lifters as networks: Martinez et al.'s baseline, DPNet and the arms of Table 2 and
Fig. 5(b) (network and augmentation), by width. A design is configuration only: the DPNet stage
(:mod:`drpose3d.stages.dpnet`) trains it, :mod:`drpose3d.stages.pipeline` keys it by its fields."""

from __future__ import annotations

from collections.abc import Callable

from drpose3d.models.dpnet import LifterConfig
from drpose3d.paper import DPNET_DROPOUT, MARTINEZ_DROPOUT, MARTINEZ_MAX_NORM, Arm
from drpose3d.worlds.augment import AugmentConfig


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
