"""Did stage 1 converge? Fig. 5(a)'s networks read from their training curves: the score where each
stopped against the score after half its optimiser steps (issue 32's test: doubling the budget
no longer helps), and PRCNN-34's accuracy in-sample against cross-fitted."""

from __future__ import annotations

from statistics import mean

from drpose3d.book.labels import row_label
from drpose3d.markup import text

#: Issue 32's test of convergence, in points of the validation score: a network whose second half of
#: optimiser steps gained less than this would not gain more from twice its budget either.
FLAT_POINTS = 1.0


def half_budget(run: dict, metric: str) -> tuple[float, float, int]:
    """A stage-1 network's validation `metric` where it stopped (its kept epoch) and after half as
    many optimiser steps, and those steps: within a point of each other, doubling the budget did
    not help (issue 32's test of convergence)."""
    history = run["history"]
    kept = history[run["best_epoch"] - 1]
    half = max((h for h in history if h["steps"] <= kept["steps"] / 2), key=lambda h: h["steps"], default=history[0])
    return kept[metric], half[metric], int(kept["steps"])


def summary(result: dict) -> str:
    """Fig. 5(a)'s networks, seed by seed: where each stopped, its validation score there and at half
    the steps, in how many seeds that half gained under :data:`FLAT_POINTS`, and PRCNN-34's training
    accuracy in-sample against cross-fitted."""
    lines = []
    for name, seeds in result["training"].items():
        metric, scale, unit = ("pck10", 100, "PCK@10") if name == "hourglass" else ("val_acc", 1, "accuracy")
        parts, flat = [], 0
        for seed, run in zip(result["seeds"], seeds, strict=True):  # training_curves lists them in the run's order
            end, half, steps = half_budget(run, metric)
            before = (
                f"half the steps: {scale * half:.1f} %"
                if run["best_epoch"] > 1
                else "its first epoch, which the later ones did not beat"
            )
            parts.append(f"seed {seed}: {scale * end:.1f} % at {steps:,} steps ({before})")
            flat += scale * (end - half) < FLAT_POINTS
        label = "hourglass" if name == "hourglass" else row_label(name)
        verdict = (
            f"flat over the second half of its steps (under {FLAT_POINTS:g} point) in **{flat} of {len(seeds)}** seeds"
        )
        lines.append(f"- **{text(label)}** validation {unit}: " + "; ".join(parts) + f"; {verdict}")
    acc = result["prcnn34_train_accuracy"]
    lines.append(
        f"- **PRCNN-34 on its own training frames** {mean(acc['in_sample']):.1f} %, on frames ranked by the model "
        f"trained on the other subject half (what DPNet trains on) {mean(acc['cross_fitted']):.1f} %, on the "
        f"test set {mean(acc['test']):.1f} %."
    )
    return "\n".join(lines)
