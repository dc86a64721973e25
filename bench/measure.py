"""`drpose3d bench` (or ``python bench/run.py``): every speed figure of the project measured in
one run, side by side. It lives beside the package, not in it: users of the package do not ship it.

* lifting: the project's trainer (whole tensors, index permutations, foreach Adam) against the
  way public lifting code feeds the same model (a per-frame ``Dataset.__getitem__`` and a
  shuffling ``DataLoader``, default Adam), in samples/s;
* the trainer's achieved FLOP/s (6 x multiply-adds per sample: forward + backward) as a fraction
  of this machine's fp32 matmul FLOP/s at the same layer shapes, measured in the same run;
* Eq. (1) ranking + virtual-camera augmentation (poses/s), P-MPJPE (poses/s), the renderer
  (images/s at 64/128/256 px), PRCNN and hourglass training (images/s);
* optionally (``--full``) the wall time of ``reproduce --preset smoke`` and of the test suite.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from cnn import bench_cnn_training, bench_renderer
from geometry import bench_augmentation, bench_p_mpjpe
from lifting import bench_lifting, bench_trainer_options
from timing import machine, wall

from drpose3d.book.results import COMMIT, PEAK_RSS_MIB
from drpose3d.engine.fileio import write_text_atomic
from drpose3d.models.dpnet import LifterConfig
from drpose3d.paper import Arm
from drpose3d.run import resolve_device
from drpose3d.stages.identity import Stage


def run(
    device: str = "auto",
    tiny: bool = False,
    full: bool = False,
    out: str | Path | None = None,
    smoke_out: str | Path | None = None,
) -> dict:
    """Measure everything (tiny: seconds-long sizes for the tests) and write JSON to `out`;
    with `full`, the timed smoke reproduction writes to `smoke_out` (it must not hold a cache:
    every model is trained) or to a temporary folder."""
    if full and smoke_out is not None and (Path(smoke_out) / "cache").exists():
        raise FileExistsError(
            f"{Path(smoke_out) / 'cache'}: the timed smoke run needs an empty cache, so every model is trained"
        )
    dev = resolve_device(device)
    scale = 1 if not tiny else 0
    lift_samples = 64 * 100 if scale else 64 * 4
    result: dict = {"machine": machine(dev), "tiny": tiny, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    result["lifting"] = [
        bench_lifting(LifterConfig(ranking="none", stages=1, width=1024 if scale else 32), 64, lift_samples, dev),
        bench_lifting(LifterConfig(ranking="depthnet", stages=2, width=1024 if scale else 32), 64, lift_samples, dev),
        bench_lifting(
            LifterConfig(ranking="none", stages=1, width=1024 if scale else 32),
            1024,
            lift_samples * 4 if scale else 2048,
            dev,
        ),
    ]
    result["trainer_options"] = bench_trainer_options(
        LifterConfig(ranking="none", stages=1, width=1024 if scale else 32), 64, lift_samples, dev
    )
    result["augmentation"] = bench_augmentation(1_000_000 if scale else 1000, dev)
    result["p_mpjpe"] = bench_p_mpjpe(1_000_000 if scale else 1000, dev)
    result["renderer"] = bench_renderer(256 if scale else 8, (64, 128, 256) if scale else (32,), dev)
    result["cnn_training"] = bench_cnn_training(512 if scale else 64, 64 if scale else 32, dev)
    if full:
        root = Path(__file__).resolve().parents[1]
        with tempfile.TemporaryDirectory() as fresh:
            target = Path(smoke_out or fresh)
            smoke = wall(
                [sys.executable, "-m", "drpose3d", "reproduce", "--preset", "smoke", "--out", str(target)], root
            )
        result["wall_s"] = {"reproduce_smoke": smoke, "test_suite": wall([sys.executable, "-m", "pytest", "-q"], root)}
    if out is not None:
        write_text_atomic(Path(out), json.dumps(result, indent=1))
    return result


#: Goals of issue 7, checked against the figures in :func:`report`.
GOALS = {
    "cpu_speedup_b64": 1.3,
    "gpu_speedup_b64": 5.0,
    "flop_fraction_b64": 0.6,
    "flop_fraction_b1024": 0.8,
    "augmentation_poses_s": 1e6,
    "p_mpjpe_1m_s": 2.0,
    "smoke_wall_s": 600.0,
    # issue 19: 5 x the 43 img/s of the per-pixel-per-bone capsule renderer (933ca0a) at 128 px
    "renderer_128px_images_s": 5 * 43.0,
    "tests_wall_s": 600.0,
}


def _lifter_label(lift: dict) -> str:
    """DPNet's lifter or the baseline's, by width and batch."""
    name = Stage.DPNET if lift["ranking"] == "depthnet" else Arm.BASELINE
    return f"{name} w{lift['width']} b{lift['batch']}"


class Figure(NamedTuple):
    """One measured figure beside its goal; `goal` and `met` are None where no goal is set."""

    measure: str
    value: str
    goal: str | None = None
    met: bool | None = None


def against_goals(result: dict) -> list[Figure]:
    """A recorded run's figures, each beside its goal (issue 7's, :data:`GOALS`) where it has one:
    the rows of both the CLI's plain-text report and the book's table."""
    gpu = result["machine"]["device"].startswith("cuda")
    rows: list[Figure] = []
    for lift in result["lifting"]:
        label = _lifter_label(lift)
        speed = f"{lift['speedup']:.2f}x ({lift['trainer_samples_s']:.0f}/{lift['reference_samples_s']:.0f})"
        name = f"{label}: trainer / per-sample reference"
        if lift["batch"] == 64:  # the goal is set at the usual batch; at 1024 both are compute-bound
            speed_goal = GOALS["gpu_speedup_b64" if gpu else "cpu_speedup_b64"]
            rows.append(Figure(name, speed, f">= {speed_goal}x", lift["speedup"] >= speed_goal))
        else:
            rows.append(Figure(name, speed))
        goal = GOALS["flop_fraction_b1024" if lift["batch"] >= 1024 else "flop_fraction_b64"]
        rows.append(
            Figure(
                f"{label}: trainer FLOP/s / matmul FLOP/s",
                f"{100 * lift['trainer_flop_fraction']:.0f} % (ref {100 * lift['reference_flop_fraction']:.0f} %)",
                f">= {100 * goal:.0f} %",
                lift["trainer_flop_fraction"] >= goal,
            )
        )
    opts = result.get("trainer_options")  # absent from runs recorded before the options existed
    if opts:
        rows.append(
            Figure(
                "baseline b64 trainer: fp32 / bf16 autocast / torch.compile",
                f"{opts['fp32_samples_s']:.0f} / {opts['bf16_samples_s']:.0f} / {opts['compiled_samples_s']:.0f} "
                "samples/s",
            )
        )
    aug = result["augmentation"]
    rows.append(
        Figure(
            f"ranking + virtual cameras ({aug['poses']} poses)",
            f"{aug['poses_s'] / 1e6:.2f} M/s",
            ">= 1 M/s",
            aug["poses_s"] >= GOALS["augmentation_poses_s"],
        )
    )
    pm = result["p_mpjpe"]
    per_million = 1e6 / pm["poses_s"]
    rows.append(
        Figure(
            f"P-MPJPE ({pm['poses']} poses)",
            f"{per_million:.2f} s per 1 M",
            "<= 2 s",
            per_million <= GOALS["p_mpjpe_1m_s"],
        )
    )
    for k, v in result["renderer"].items():
        name = f"renderer {k.replace('_images_s', '')}"
        if k == "128px_images_s":
            goal = GOALS["renderer_128px_images_s"]
            rows.append(Figure(name, f"{v:.0f} img/s", f">= {goal:.0f}/s", v >= goal))
        else:
            rows.append(Figure(name, f"{v:.0f} img/s"))
    for k, v in result["cnn_training"].items():
        rows.append(Figure(k.replace("_images_s", "") + " training", f"{v:.0f} img/s"))
    for k, v in result.get("wall_s", {}).items():
        goal = GOALS["smoke_wall_s" if k.startswith("reproduce") else "tests_wall_s"]
        status = "" if v["exit_code"] == 0 else f" (exit {v['exit_code']})"
        met = v["seconds"] <= goal and not status
        rows.append(Figure(f"wall time: {k}{status}", f"{v['seconds'] / 60:.1f} min", "<= 10 min", met))
    return rows


def report(result: dict) -> str:
    """The figures as a plain-text table, each beside its goal with met / not met (the CLI's output)."""
    lines = [f"machine: {result['machine']}", ""]
    for f in against_goals(result):
        line = f"{f.measure:<58} {f.value:>16}"
        lines.append(line if f.goal is None else f"{line}   goal {f.goal:<12} {'met' if f.met else 'NOT met'}")
    return "\n".join(lines)


def machine_words(machine: dict) -> str:
    """Where a run was taken, in one line: device, threads, torch and platform."""
    return f"{machine['device']}, {machine['threads']} threads, torch {machine['torch']}, {machine['platform']}"


def recorded(root: Path | None = None) -> list[dict]:
    """The committed benchmark runs (``bench/results/*.json``, one file per recorded run), newest first."""
    folder = (root or Path(__file__).resolve().parents[1]) / "bench" / "results"
    runs = [json.loads(p.read_text()) | {"file": p.name} for p in sorted(folder.glob("*.json"))]
    return sorted(runs, key=lambda r: r["created"], reverse=True)


def figures(result: dict) -> dict[str, float]:
    """One recorded run's headline figures, flat and named for a table (rates per second unless
    the name says otherwise)."""
    out: dict[str, float] = {}
    for lift in result["lifting"]:
        label = _lifter_label(lift)
        out[f"lifting {label}: samples/s"] = lift["trainer_samples_s"]
        out[f"lifting {label}: speed-up over per-sample loading (x)"] = lift["speedup"]
    out["ranking + virtual cameras: poses/s"] = result["augmentation"]["poses_s"]
    out["P-MPJPE: poses/s"] = result["p_mpjpe"]["poses_s"]
    for k, v in result["renderer"].items():
        out[f"renderer {k.replace('_images_s', '')}: images/s"] = v
    for k, v in result["cnn_training"].items():
        out[f"{k.replace('_images_s', '')} training: images/s"] = v
    return out


def committed_memory(root: Path | None = None) -> list[dict]:
    """Peak resident memory of each notebook's kernel in the committed reproduction runs
    (``runs/<run>/*.json``), largest first; runs from before the figure was recorded are skipped."""
    folder = (root or Path(__file__).resolve().parents[1]) / "runs"
    rows = []
    for path in sorted(folder.glob("*/*.json")):
        res = json.loads(path.read_text())
        if PEAK_RSS_MIB in res:
            rows.append(
                {
                    "run": path.parent.name,
                    "notebook": res["notebook"],
                    "preset": res["preset"],
                    "dataset": res["dataset"],
                    "peak_rss_mib": res[PEAK_RSS_MIB],
                    "commit": res.get(COMMIT),
                }
            )
    return sorted(rows, key=lambda r: -r["peak_rss_mib"])
