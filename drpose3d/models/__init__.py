"""Networks: the lifting family (DPNet, its ablations and the Martinez baseline)."""

from drpose3d.models.dpnet import DepthNet, Lifter, LifterConfig, PoseNet

__all__ = ["DepthNet", "Lifter", "LifterConfig", "PoseNet"]
