"""The image half in words (stage 1: the hourglass, PRCNN and the 2D-only floors): did each network
converge (issue 32's test: doubling the budget no longer helps), what PRCNN's designs and pixels reach
against the paper and the floors (Fig. 5(a)), and which joint pairs are hard, for PRCNN and for the
pose alone (Fig. 6). The lifting chapters' paragraphs are in :mod:`.summaries`."""

from __future__ import annotations

from statistics import fmean

from drpose3d.book.labels import row_label
from drpose3d.book.results import (
    CROSS_FITTED,
    CURVE_HISTORY,
    CURVE_KEPT_EPOCH,
    FLOOR_PAIRS,
    HOURGLASS_2D,
    HOURGLASS_CURVE,
    IN_SAMPLE,
    PRCNN34_TRAIN_ACCURACY,
    TEST,
    TRAINING_CURVES,
    kept_epoch,
)
from drpose3d.engine.train import STEPS
from drpose3d.markup import text
from drpose3d.pages.summaries import interval_words, paired_difference
from drpose3d.paper import FIG5A, FIG6, Fig5a, Fig6
from drpose3d.pose.camera import h36m_rig
from drpose3d.pose.metrics import mean_ci95
from drpose3d.stages.pose2d import PCK10, PX_ERROR, SWAP_RATE
from drpose3d.stages.prcnn import VAL_ACC

#: Issue 32's test of convergence, in points of the validation score: a network whose second half of
#: optimiser steps gained less than this would not gain more from twice its budget either.
FLAT_POINTS = 1.0


def half_budget(run: dict, metric: str) -> tuple[float, float, int]:
    """A stage-1 network's validation `metric` where it stopped (its kept epoch), the best within half
    as many optimiser steps, and those steps: within a point of each other, doubling the budget did
    not help (issue 32's test of convergence). The best, not the score of the epoch at half the
    steps: training keeps its best epoch, so that is what half the budget would have given, and the
    validation score of fresh renderings dips by tens of points between epochs at a high rate."""
    history, kept = run[CURVE_HISTORY], kept_epoch(run)
    half = max((h[metric] for h in history if h[STEPS] <= kept[STEPS] / 2), default=history[0][metric])
    return kept[metric], half, int(kept[STEPS])


def convergence(result: dict) -> str:
    """Fig. 5(a)'s networks, seed by seed: where each stopped, its validation score there and at half
    the steps, in how many seeds that half gained under :data:`FLAT_POINTS`, and PRCNN-34's training
    accuracy in-sample against cross-fitted."""
    lines = []
    for name, seeds in result[TRAINING_CURVES].items():
        metric, scale, unit = (PCK10, 100, "PCK@10") if name == HOURGLASS_CURVE else (VAL_ACC, 1, "accuracy")
        parts, flat = [], 0
        for seed, run in zip(result["seeds"], seeds, strict=True):  # training_curves lists them in the run's order
            end, half, steps = half_budget(run, metric)
            before = (
                f"best in half the steps: {scale * half:.1f} %"
                if run[CURVE_KEPT_EPOCH] > 1
                else "its first epoch, which the later ones did not beat"
            )
            parts.append(f"seed {seed}: {scale * end:.1f} % at {steps:,} steps ({before})")
            flat += scale * (end - half) < FLAT_POINTS
        label = name if name == HOURGLASS_CURVE else row_label(name)
        verdict = (
            f"flat over the second half of its steps (under {FLAT_POINTS:g} point) in **{flat} of {len(seeds)}** seeds"
        )
        lines.append(f"- **{text(label)}** validation {unit}: " + "; ".join(parts) + f"; {verdict}")
    acc = result[PRCNN34_TRAIN_ACCURACY]
    lines.append(
        f"- **PRCNN-34 on its own training frames** {fmean(acc[IN_SAMPLE]):.1f} %, on frames ranked by the model "
        f"trained on the other subject half (what DPNet trains on) {fmean(acc[CROSS_FITTED]):.1f} %, on the "
        f"test set {fmean(acc[TEST]):.1f} %."
    )
    return "\n".join(lines)


def hourglass_errors(result: dict) -> str:
    """The 2D estimator's errors on the test and training sets: the detections every later stage reads. The
    error is in the cameras' frames, whose width comes from the rig every world is seen through."""
    test, train = result[HOURGLASS_2D]["test"], result[HOURGLASS_2D]["train"]
    frame = int(h36m_rig("S1").resolution[:, 0].max())
    return (
        f"Stacked hourglass ({result['resolution']} px crops): mean 2D error **{test[PX_ERROR]:.1f} px** in "
        f"the full {frame}-px image on the test set ({train[PX_ERROR]:.1f} px on training images); "
        f"PCK (within 10 % of the person box) **{100 * test[PCK10]:.1f} %** "
        f"(train {100 * train[PCK10]:.1f} %); left and right swapped in "
        f"**{100 * test[SWAP_RATE]:.1f} %** of the left/right pairs apart in the image."
    )


def fig5a_summary(result: dict) -> str:
    """Fig. 5(a)'s "What we see": PRCNN-34 against the paper, what heatmaps and the other ResNets
    change, what its pixels add over the 2D-only floors, and how often the hourglass swaps sides."""
    by = {r["name"]: r for r in result["rows"]}
    heat = paired_difference(by[Fig5a.PRCNN_RESNET34], by[Fig5a.PRCNN_RESNET34_NO_HEATMAPS])
    r18 = paired_difference(by[Fig5a.PRCNN_RESNET34], by[Fig5a.PRCNN_RESNET18])
    r50 = paired_difference(by[Fig5a.PRCNN_RESNET34], by[Fig5a.PRCNN_RESNET50])
    gt, found = by[Fig5a.FLOOR_2D_ONLY], by[Fig5a.FLOOR_2D_ONLY_DETECTED]
    above_gt, above_found = (
        interval_words(*paired_difference(by[Fig5a.PRCNN_RESNET34], f), "points") for f in (gt, found)
    )
    floor = (
        f" A ranker that sees only the 2D pose reaches {gt['mean']:.2f} % on ground-truth 2D and "
        f"{found['mean']:.2f} % on the hourglass' detections. PRCNN works from the image and those detections' "
        f"heatmaps, so what its pixels add is PRCNN minus the detected-2D floor: {above_found}; "
        f"against the ground-truth-2D floor, a pose PRCNN never sees: {above_gt}."
    )
    swap = result[HOURGLASS_2D]["test"][SWAP_RATE]
    hourglass = f" The hourglass swaps left and right in {100 * swap:.1f} % of the pairs apart in the image."
    paper, paper_heat = (
        FIG5A[Fig5a.PRCNN_RESNET34],
        FIG5A[Fig5a.PRCNN_RESNET34] - FIG5A[Fig5a.PRCNN_RESNET34_NO_HEATMAPS],
    )
    return (
        f"On **{text(result['dataset'])}** ({result['preset']} preset), PRCNN with ResNet-34 and heatmaps ranks "
        f"{by[Fig5a.PRCNN_RESNET34]['mean']:.2f} % of pairs correctly (paper {paper} % on Human3.6M). "
        f"Heatmaps change accuracy by {interval_words(*heat, 'points')} against the paper's {paper_heat:+.2f}. "
        f"ResNet-34 minus ResNet-18: {interval_words(*r18, 'points')}; ResNet-34 minus ResNet-50: "
        f"{interval_words(*r50, 'points')} (the paper: ResNet-34 is at least as good as both)." + floor + hourglass
    )


def fig6_summary(result: dict) -> str:
    """Fig. 6's "What we see": the shoulders and a torso pair against the paper, whether torso pairs
    are the hardest for PRCNN, and whether they are for the pose alone."""
    by = {r["name"]: r for r in result["rows"]}
    mean, ci = paired_difference(by[Fig6.OTHER_PAIRS_MEAN], by[Fig6.TORSO_PAIRS_MEAN])
    holds = ci is not None and ci[0] > 0
    return (
        f"On **{text(result['dataset'])}** ({result['preset']} preset): the two shoulders are ranked correctly "
        f"{by[Fig6.PAIR_SHOULDERS]['mean']:.1f} % of the time (paper {FIG6[Fig6.PAIR_SHOULDERS]} %), "
        f"right hip vs spine {by[Fig6.PAIR_RHIP_SPINE]['mean']:.1f} %. "
        f"Non-torso pairs minus torso pairs: {interval_words(mean, ci, 'points')}, "
        + (
            "so torso pairs are the hardest here, as the paper observes."
            if holds
            else "so this run does not show the paper's observation that torso pairs are the hardest."
        )
        + _floor_pairs(result[FLOOR_PAIRS])
    )


def _floor_pairs(floor: dict) -> str:
    """Whether torso pairs are hard in the data before any image: the same difference for the
    ranker that sees only the ground-truth 2D pose (Fig. 5(a)'s floor)."""
    torso_seeds, other_seeds = floor[Fig6.TORSO_PAIRS_MEAN], floor[Fig6.OTHER_PAIRS_MEAN]
    torso, other = fmean(torso_seeds), fmean(other_seeds)
    mean, ci = mean_ci95([o - t for o, t in zip(other_seeds, torso_seeds, strict=True)])
    hard = ci is not None and ci[0] > 0
    return (
        " For a ranker that sees only the ground-truth 2D pose (Figure 5(a)'s floor) torso pairs score "
        f"{torso:.1f} % and the others {other:.1f} %, a difference of {interval_words(mean, ci, 'points')}: "
        + (
            "torso pairs are harder from the pose alone too, before any image is seen."
            if hard
            else "in these data the true 2D pose does not make torso pairs harder than the others, so the paper's "
            "pattern would have to come from the images."
        )
    )
