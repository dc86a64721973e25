"""Networks: the lifting family (DPNet, its ablations and the Martinez baseline)."""
from .dpnet import DepthNet, Lifter, LifterConfig, PoseNet

__all__ = ["DepthNet", "Lifter", "LifterConfig", "PoseNet"]
