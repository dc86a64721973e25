"""The paper's chapters on stage 1, the image half (2D pose and PRCNN): Fig. 5(a), the PRCNN
designs against the rankers that see only the 2D pose, with every network's training curves; Fig. 6,
which pairs PRCNN ranks well. Like :mod:`drpose3d.book.experiments`, one function per chapter."""

from __future__ import annotations

import torch

from drpose3d.book.findings import Findings, experiment, sizes
from drpose3d.book.results import (
    CROSS_FITTED,
    EPS_MM,
    FLOOR_PAIRS,
    HOURGLASS_2D,
    HOURGLASS_2D_PER_SEED,
    HOURGLASS_CURVE,
    IN_SAMPLE,
    JOINTS,
    PRCNN34_TRAIN_ACCURACY,
    RANK_THRESHOLD,
    SAMPLES,
    TEST,
    TRAINING_CURVES,
    Metric,
    make_row,
    training_curve,
)
from drpose3d.paper import FIG5A, FIG6, PRCNN_DESIGNS, TORSO_JOINTS, Fig5a, Fig6
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, JOINT_NAMES
from drpose3d.stages.pipeline import Context


def training_curves(contexts: list[Context]) -> dict[str, list[dict]]:
    """Stage 1's training, seed by seed: every epoch's steps, loss, learning rate and validation
    scores, and the epoch whose weights were kept (the evidence that each network converged)."""
    curves: dict[str, list[dict]] = {HOURGLASS_CURVE: []}
    for ctx in contexts:
        curves[HOURGLASS_CURVE].append(training_curve(ctx.pose2d_stage()))
        for name in PRCNN_DESIGNS:
            curves.setdefault(str(name), []).append(training_curve(ctx.rankings(name)))
        for name, detected in ((Fig5a.FLOOR_2D_ONLY, False), (Fig5a.FLOOR_2D_ONLY_DETECTED, True)):
            curves.setdefault(str(name), []).append(training_curve(ctx.rankings_2d_only(detected)))
    return curves


@experiment
def fig5a_prcnn_ablation(contexts: list[Context]) -> Findings:
    """Pairwise ranking accuracy on the protocol #1 test set for the four PRCNN designs."""
    rows = [
        make_row(name, Metric.PAIRWISE_ACCURACY, [ctx.rankings(name).accuracy for ctx in contexts], FIG5A.get(name))
        for name in PRCNN_DESIGNS
    ] + [
        make_row(name, Metric.PAIRWISE_ACCURACY, [ctx.rankings_2d_only(detected).accuracy for ctx in contexts], None)
        for name, detected in ((Fig5a.FLOOR_2D_ONLY, False), (Fig5a.FLOOR_2D_ONLY_DETECTED, True))
    ]
    p = contexts[0].run.preset
    extra = {
        HOURGLASS_2D: {split: d.errors for split, d in contexts[0].pose2d().items()},
        HOURGLASS_2D_PER_SEED: [{s: d.errors for s, d in ctx.pose2d().items()} for ctx in contexts],
        TRAINING_CURVES: training_curves(contexts),
        # in-sample: the full model on the frames it trained on; cross-fitted: what lifters train on
        PRCNN34_TRAIN_ACCURACY: {
            IN_SAMPLE: [ctx.rankings(Fig5a.PRCNN_RESNET34).train_accuracy for ctx in contexts],
            CROSS_FITTED: [ctx.lifter_rankings().train_accuracy for ctx in contexts],
            TEST: [ctx.rankings(Fig5a.PRCNN_RESNET34).accuracy for ctx in contexts],
        },
        "resolution": p.resolution,
        "prcnn_width": p.prcnn_width,
        RANK_THRESHOLD: p.rank_threshold,
        EPS_MM: p.eps_mm,
        SAMPLES: sizes(contexts[0]),
    }
    return Findings(rows, extra)


@experiment
def fig6_pairwise_accuracy(contexts: list[Context]) -> Findings:
    """Per-pair accuracy of PRCNN (ResNet-34 + heatmaps), averaged over seeds."""
    per_pair = [ctx.rankings(Fig5a.PRCNN_RESNET34).per_pair for ctx in contexts]
    names = [JOINT_NAMES[j] for j in HOURGLASS_JOINTS]
    idx = {n: k for k, n in enumerate(names)}
    torso = torch.tensor([n in TORSO_JOINTS for n in names])
    off = ~torch.eye(len(names), dtype=torch.bool)
    torso_pairs = torso[:, None] & torso[None, :] & off

    groups = {Fig6.TORSO_PAIRS_MEAN: torso_pairs, Fig6.OTHER_PAIRS_MEAN: off & ~torso_pairs}

    def pair(a: str, b: str) -> list[float]:
        return [float(m[idx[a], idx[b]]) for m in per_pair]

    def means(matrices: list[torch.Tensor], group: Fig6) -> list[float]:
        return [float(m[groups[group]].mean()) for m in matrices]

    rows = [
        make_row(
            Fig6.PAIR_SHOULDERS, Metric.PAIRWISE_ACCURACY, pair("LShoulder", "RShoulder"), FIG6.get(Fig6.PAIR_SHOULDERS)
        ),
        make_row(Fig6.PAIR_RHIP_SPINE, Metric.PAIRWISE_ACCURACY, pair("RHip", "Spine"), None),
        *(make_row(group, Metric.PAIRWISE_ACCURACY, means(per_pair, group), None) for group in groups),
    ]
    matrix = torch.stack(per_pair).mean(0)
    cells = [[round(float(v), 2) if i != j else None for j, v in enumerate(row)] for i, row in enumerate(matrix)]
    floors = [ctx.rankings_2d_only(detected=False).per_pair for ctx in contexts]  # trained by Fig. 5(a)
    floor = {str(group): means(floors, group) for group in groups}  # keyed like PRCNN's rows above
    return Findings(rows, {JOINTS: names, "matrix": cells, FLOOR_PAIRS: floor})
