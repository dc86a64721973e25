"""Hand-made results JSON for the ledger's tests: a run folder at the cpu preset with the rows a
test names, as the notebooks would have written them."""

import time
from pathlib import Path

from drpose3d.book.results import SEEDED_STAGES, make_row, write_results
from drpose3d.run import resolve

STAGES = ("world", "images", "2D pose", "PRCNN", "DPNet")


def write(
    out: Path,
    notebook: str,
    rows: dict[str, list[float]],
    stages: tuple[str, ...] = STAGES,
    dataset: str = "synthetic",
    **extra,
) -> None:
    """One chapter's results: each named row with its per-seed values (three seeds unless fewer given)."""
    run = resolve("cpu", seeds=3, device="cpu", out=out)
    rows = [make_row(n, "m", v, None) for n, v in rows.items()]
    write_results(run, notebook, dataset, rows, time.time(), **{SEEDED_STAGES: list(stages)}, **extra)


def cpu_like_run(out: Path) -> None:
    """Results in which C1 reproduces, C2 does not, and PRCNN ranks below the ground-truth-2D floor."""
    write(out, "table1_upper_bound", {
        "gt2d_no_rank_cascade": [50.0, 52.0, 51.0], "gt2d_gt_rank": [35.0, 36.0, 34.0],
        "gt2d_pred_rank": [50.5, 52.2, 51.4],
    })  # fmt: skip
    write(out, "fig5a_prcnn_ablation", {
        "prcnn_resnet34": [74.0, 73.0, 75.0], "prcnn_resnet34_no_heatmaps": [72.0, 71.0, 72.0],
        "floor_2d_only": [87.0, 86.0, 88.0], "floor_2d_only_detected": [71.0, 70.5, 71.5],
    })  # fmt: skip
