"""The fixed results-JSON schema: one file per notebook, rows with per-seed values."""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from drpose3d.engine.distributed import writer
from drpose3d.engine.fileio import write_text_atomic
from drpose3d.pose.metrics import mean_ci95
from drpose3d.run import Run

if TYPE_CHECKING:
    import pandas as pd


# The keys an experiment writes beside its rows that pages, the ledger or more than one notebook read
# back: named once here, so that a writer and its readers cannot drift apart. A key that only its own
# chapter shows (the data world's "actions", the real motion's "clips", the crops' "titles") is read
# by that notebook alone, in the cell under the call that returned it, and stays a plain string.
#: The protocol #1 (and, for Table 2, protocol #3) sample counts.
SAMPLES = "samples"
#: The stages whose seed follows the run's seed (:func:`drpose3d.stages.identity.seeded_stages`).
SEEDED_STAGES = "seeded_stages"
#: How many lifters, differing in their seed alone, each seed's value averages
#: (:func:`drpose3d.book.experiments.mean_of_lifters`); absent: one.
LIFTER_SEEDS = "lifter_seeds"
#: Fig. 5(a): the hourglass's 2D errors on each split (seed 0), and the same for every seed.
HOURGLASS_2D, HOURGLASS_2D_PER_SEED = "hourglass_2d", "hourglass_2d_per_seed"
#: Fig. 5(a): each stage-1 network's validation history and kept epoch, seed by seed, under its row
#: name, and the hourglass' (no row of Fig. 5(a)) under its own.
TRAINING_CURVES, HOURGLASS_CURVE = "training", "hourglass"
#: One training curve: the trainer's validation rows, one per epoch, and the epoch (from 1) whose
#: weights were kept.
CURVE_HISTORY, CURVE_KEPT_EPOCH = "history", "best_epoch"
#: Fig. 5(a): PRCNN-34's accuracy in-sample, cross-fitted (what DPNet trains on) and on the test set,
#: seed by seed, under these three keys.
PRCNN34_TRAIN_ACCURACY = "prcnn34_train_accuracy"
IN_SAMPLE, CROSS_FITTED, TEST = "in_sample", "cross_fitted", "test"
#: Fig. 6's torso and other pairs as the ranker on the ground-truth 2D pose alone (Fig. 5(a)'s
#: floor) ranks them: whether torso pairs are hard in the data before any image.
FLOOR_PAIRS = "floor_2d_only_pairs"
#: Table 2: the baseline's error on detected 2D over its error on ground-truth 2D, with the paper's:
#: each error (mm) and their ratio seed by seed, and the paper's ratio, under these four keys.
DETECTED_VS_GT2D = "detected_vs_gt2d"
GT2D_MM, DETECTED_MM, RATIO, PAPER_RATIO = "gt2d_mm", "detected_mm", "ratio", "paper_ratio"
#: The run's training and test subjects (performers), as its split names them.
TRAIN_SUBJECTS, TEST_SUBJECTS = "train_subjects", "test_subjects"
#: The lifters' width and epochs, protocol #3's held-out camera (its id) and the augmentation factor.
LIFTER_WIDTH, LIFTER_EPOCHS, HELD_OUT_CAMERA_ID, AUG_FACTOR = "width", "epochs", "held_out_camera", "aug_factor"
#: The preset's ranking margin ε (mm, Eq. (1)) and discretisation threshold, beside the results
#: that depend on them.
EPS_MM, RANK_THRESHOLD = "eps_mm", "rank_threshold"
#: A ranking-noise row's accuracy of its noisy rankings (%) and share of tied pairs: seed by seed, or
#: (an ε row's ties) one value for all seeds.
RANKING_ACCURACY, TIE_RATE = "ranking_accuracy", "tie_rate"
#: A Table 2 row's error per action, seed by seed.
PER_ACTION = "per_action"
#: The joints a per-joint result lists its values in the order of (Fig. 4, Fig. 6, the crops).
JOINTS = "joints"
#: Fig. 4: each joint's error drop (%), the mean over seeds, in the order of :data:`JOINTS`; also
#: the prefix of the per-joint drop rows (``paper.fig4_row(GAIN_PCT, joint)``).
GAIN_PCT = "gain_pct"
#: Fig. 7: the frames shown, each with its kind (typical, worst), title and both lifters' errors (mm).
FRAMES = "frames"
FRAME_KIND, FRAME_TITLE, ERROR_BASELINE_MM, ERROR_OURS_MM = "kind", "title", "error_baseline_mm", "error_ours_mm"
#: What a results JSON records of the run's circumstances rather than its numbers: when and from which
#: commit it ran, its wall time and peak memory, and the compute its cache replayed (time recorded by an
#: earlier run whose entries this one loaded) or could not credit. Two runs of the same numbers differ
#: here and nowhere else (tools/diff_run.py sets these aside).
CREATED, COMMIT, WALL_S, PEAK_RSS_MIB = "created", "commit", "wall_s", "peak_rss_mib"
REPLAYED_S, UNTIMED_CACHE_LOADS = "replayed_s", "untimed_cache_loads"
CIRCUMSTANCES = (CREATED, COMMIT, WALL_S, PEAK_RSS_MIB, REPLAYED_S, UNTIMED_CACHE_LOADS)


class Trained(Protocol):
    """A trained stage-1 network as the stages hand it over: its validation history and kept epoch."""

    history: list[dict[str, float]]
    best_epoch: int


def training_curve(net: Trained) -> dict:
    """`net`'s curve as the results keep it (:data:`CURVE_HISTORY`, :data:`CURVE_KEPT_EPOCH`)."""
    return {CURVE_HISTORY: net.history, CURVE_KEPT_EPOCH: net.best_epoch}


def kept_epoch(curve: dict) -> dict:
    """The validation row of the weights a curve kept: what the network's scores are read from."""
    return curve[CURVE_HISTORY][curve[CURVE_KEPT_EPOCH] - 1]


class Metric(StrEnum):
    """What a row measures, as its results JSON records it (:data:`METRIC_LABELS`: as a page writes it)."""

    MPJPE = "mpjpe_mm"
    PAIRWISE_ACCURACY = "pairwise_acc"  # percent of joint pairs ordered right
    RELATIVE_CHANGE = "relative_change_pct"
    POINTS = "points"  # a difference of two percentages
    RANK_CORRELATION = "rank_correlation"
    COUNT = "count"


def make_row(name: str, metric: Metric, values: list[float], paper: float | None, **extra) -> dict:
    """A row with mean and t-interval over seeds; `paper` is the paper's number (or None)."""
    mean, ci = mean_ci95(values)
    return {
        "name": str(name),
        "metric": str(metric),
        "values": [round(v, 4) for v in values],
        "mean": round(mean, 4),
        "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
        "paper": paper,
        **extra,
    }


def write_results(
    run: Run, notebook: str, dataset: str, rows: list[dict], started: float, seeds: list[int] | None = None, **extra
) -> dict:
    """Write ``OUT/results/<notebook>.json`` atomically and return the dict. Besides the schema's
    keys it records the source commit and the process' peak resident memory so far."""
    result = {
        "notebook": notebook,
        "dataset": dataset,
        "preset": run.preset.name,
        "seeds": list(run.seeds) if seeds is None else seeds,
        "rows": rows,
        CREATED: datetime.now(UTC).isoformat(timespec="seconds"),
        "package_version": run.package_version,
        WALL_S: round(time.time() - started, 1),
        COMMIT: run.commit,
        PEAK_RSS_MIB: round(peak_rss_mib(), 1),
        **extra,
    }
    if writer():  # under torchrun: rank 0
        write_text_atomic(Path(run.out) / "results" / f"{notebook}.json", json.dumps(result, indent=1))
    return result


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def results_folder(run: str | Path) -> Path:
    """Where a run folder keeps its results JSON: ``results/`` of a reproduction's output, or the
    folder itself for a committed run (``runs/<name>/*.json``)."""
    run = Path(run)
    return run / "results" if (run / "results").is_dir() else run


def load_results(out: str | Path, notebook: str) -> dict:
    """Read a notebook's results JSON from the run folder `out` (see :func:`results_folder`)."""
    path = results_folder(out) / f"{notebook}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no results yet; run the {notebook} notebook first")
    return json.loads(path.read_text())


#: The two metrics' names as tables and axes write them.
MPJPE_MM, PAIRWISE_PCT = "MPJPE (mm)", "pairwise accuracy (%)"
#: How a row's metric reads on a page: one mapping for every table and sentence.
METRIC_LABELS: dict[str, str] = {
    Metric.MPJPE: MPJPE_MM,
    Metric.PAIRWISE_ACCURACY: PAIRWISE_PCT,
    Metric.RELATIVE_CHANGE: "relative change (%)",
    Metric.POINTS: "difference (points)",
    Metric.RANK_CORRELATION: "rank correlation",
    Metric.COUNT: "count",
}


def metric_label(metric: str) -> str:
    """A metric as a table header names it (Metric.MPJPE -> "MPJPE (mm)"); an unlisted one in words."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


#: The interval column of every results table, in the book's spelling of percent, and the column
#: of each seed's value beside it.
CI_COLUMN, SEEDS_COLUMN = "95 % CI", "per seed"


def interval(r: dict) -> str:
    """A result row's 95 % interval as a table cell ("(one seed)": no interval). A no-break space
    after the comma: a narrow column wrapped the interval's two ends onto two lines."""
    return f"[{r['ci95'][0]:.1f},\u00a0{r['ci95'][1]:.1f}]" if r["ci95"] else "(one seed)"


def seed_mean(value: float | list[float]) -> float:
    """A recorded value, or the mean of its seeds' values where the record keeps one per seed (the
    ranking-noise rows keep one tie rate for all seeds of an ε, one per seed of a threshold)."""
    return sum(value) / len(value) if isinstance(value, list) else value


def per_seed(r: dict) -> str:
    """A result row's value of each seed, in seed order, as a table cell."""
    return ", ".join(f"{v:.1f}" for v in r["values"])


def one_header(table: pd.DataFrame, corner: str) -> pd.DataFrame:
    """`table` with what its rows are (`corner`) in the header's first cell: pandas draws an index's
    name as a second header row of empty cells under the columns' names."""
    table.index.name, table.columns.name = None, corner
    return table
