"""Every row's human-readable label, the one mapping the tables, figures and headlines use: the
paper's rows (:mod:`drpose3d.paper`) and the ones this book adds beside them, ranking noise spelled
out from its row name; and the rig's cameras as every page names them."""

from __future__ import annotations

from drpose3d.book.results import GAIN_PCT
from drpose3d.paper import (
    Arm,
    DataWorld,
    Fig4,
    Fig5a,
    Fig5b,
    Fig6,
    RankingToDepth,
    Table1,
    fig4_row,
    parse_noise_row,
    table2_row,
)
from drpose3d.pose.camera import CAMERA_IDS

#: Human-readable labels of every fixed row, the one mapping tables and figures use.
ROW_LABELS: dict[str, str] = {
    Table1.GT2D_NO_RANK: "GT 2D, no ranking (baseline)",
    Table1.GT2D_PRED_RANK: "GT 2D, predicted ranking (PRCNN fed the detector's heatmaps)",
    Table1.GT2D_PRED_RANK_TRUE_HEATMAPS: "GT 2D, predicted ranking (PRCNN fed heatmaps of the ground-truth 2D)",
    Table1.GT2D_GT_RANK: "GT 2D, GT ranking (DPNet)",
    Table1.GT2D_NO_RANK_CASCADE: "control: GT 2D, two-stage PoseNet, no ranking",
    Table1.GT2D_CONST_RANK: "control: GT 2D, DPNet with a constant ranking (capacity-matched)",
    Table1.GT_RANK_VS_NO_RANK: "relative change, GT ranking vs the one-stage baseline (%)",
    Table1.PRED_RANK_VS_NO_RANK: "relative change, predicted ranking vs the one-stage baseline (%)",
    Fig5a.PRCNN_RESNET34: "ResNet-34, image + heatmaps",
    Fig5a.PRCNN_RESNET34_NO_HEATMAPS: "ResNet-34, image only",
    Fig5a.PRCNN_RESNET18: "ResNet-18, image + heatmaps",
    Fig5a.PRCNN_RESNET50: "ResNet-50, image + heatmaps",
    Fig5a.FLOOR_2D_ONLY: "floor: ranker on GT 2D only",
    Fig5a.FLOOR_2D_ONLY_DETECTED: "floor: ranker on detected 2D only",
    Fig6.PAIR_SHOULDERS: "LShoulder vs RShoulder",
    Fig6.PAIR_RHIP_SPINE: "RHip vs Spine",
    Fig6.TORSO_PAIRS_MEAN: "mean over torso pairs (Hip, hips, Spine, Thorax)",
    Fig6.OTHER_PAIRS_MEAN: "mean over all other pairs",
    Fig5b.FULL: "full model",
    Fig5b.NO_RANK: "w/o ranking",
    Fig5b.NO_DEPTHNET: "w/o DepthNet (concatenated ranking)",
    Fig5b.AUG_GT_ONLY: "augmentation: GT ranking and clean 2D only",
    Fig5b.NO_AUG: "w/o augmentation",
    Fig5b.NO_RANK_NO_AUG: "w/o ranking and augmentation",
    **{
        table2_row(arm, k): f"{name}, protocol #{k}"
        for arm, name in (
            (Arm.BASELINE, "baseline (Martinez et al.)"),
            (Arm.NO_RANK, "cascade without ranking (control)"),
            (Arm.OURS_NO_AUG, "DRPose3D w/o augmentation"),
            (Arm.OURS, "DRPose3D"),
        )
        for k in (1, 2, 3)
    },
    fig4_row(GAIN_PCT, "RWrist"): "right wrist, error drop (%)",
    fig4_row(GAIN_PCT, "Thorax"): "thorax, error drop (%)",
    Fig4.GAINERS_MINUS_REST: "elbows, wrists, feet minus the other joints (points)",
    Fig4.GAINERS_MINUS_TORSO: "elbows, wrists, feet minus hips, spine, thorax (points)",
    Fig4.THORAX_MINUS_REST: "thorax minus the other joints (points)",
    RankingToDepth.MPJPE_DEPTHNET: "DepthNet",
    RankingToDepth.MPJPE_TOPOLOGICAL: "topological sort",
    RankingToDepth.MPJPE_BORDA: "Borda count",
    RankingToDepth.SPEARMAN_DEPTHNET: "DepthNet (Spearman)",
    RankingToDepth.SPEARMAN_TOPOLOGICAL: "topological sort (Spearman)",
    RankingToDepth.SPEARMAN_BORDA: "Borda count (Spearman)",
    DataWorld.NN2D_RANKING_ACCURACY: "nearest-2D-neighbour ranking accuracy (%)",
    DataWorld.NN2D_POSE_MPJPE: "nearest-2D-neighbour 3D pose error (mm)",
}


def row_label(name: str) -> str:
    """A row's human-readable label: :data:`ROW_LABELS`, or the ranking-noise rows spelled out."""
    if name in ROW_LABELS:
        return ROW_LABELS[name]
    kind, value = parse_noise_row(name) or ("", 0.0)
    if kind == "flip":
        return f"GT ranking, {100 * value:g} % of pairs flipped"
    if kind == "eps":
        return f"Eq. (1) with ε = {value:g} mm"
    if kind == "threshold":
        return f"predicted ranking discretised at {value:g}"
    return name.replace("_", " ")


def camera_name(k: int) -> str:
    """A rig camera as every figure and table names it: its index, which the crops' titles use
    ("cam 2"), and its Human3.6M id, which the projections and the rig drawing showed alone."""
    return f"cam {k} ({CAMERA_IDS[k]})"
