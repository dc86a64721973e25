"""Each preset against the paper's settings (README, the book's introduction): how reduced a run is."""

from __future__ import annotations

from drpose3d import paper
from drpose3d.presets import PRESETS, Preset
from drpose3d.train import TrainConfig
from drpose3d.worlds.actions import ACTIONS


def _train_frames(p: Preset) -> int:
    """Protocol #1 training samples of the generated world at a preset: frames of the five
    training subjects' clips at the preset's stride, seen by four cameras."""
    per_clip = len(range(0, round(p.duration_s * p.fps), p.stride))
    return 5 * len(ACTIONS) * p.repetitions * per_clip * 4


def _epochs(cfg: TrainConfig) -> str:
    """A training length as the presets table shows it: a cap when a plateau decides."""
    return f"≤ {cfg.epochs}, to a plateau" if cfg.patience else str(cfg.epochs)


def presets_table() -> str:
    """Each preset against the paper's settings, as a Markdown table: how reduced each run is."""
    rows = {
        "lifter width (DPNet, baseline)": (lambda p: str(p.width), str(paper.DPNET_WIDTH)),
        "lifter epochs": (lambda p: str(p.lifter_train.epochs), str(paper.DPNET_EPOCHS)),
        "PRCNN ResNet base width": (lambda p: str(p.prcnn_width), "ResNet-34 (standard width 64)"),
        "PRCNN epochs": (lambda p: _epochs(p.prcnn_train), str(paper.PRCNN_EPOCHS)),
        "hourglass stacks x channels": (
            lambda p: f"{p.hourglass.stacks} x {p.hourglass.channels}",
            f"{paper.HOURGLASS_STACKS} x (not stated; 256 in Newell et al.)",
        ),
        "hourglass epochs": (lambda p: _epochs(p.hourglass_train), "not stated"),
        "image crop (px)": (lambda p: str(p.resolution), "not stated (256 in Newell et al.)"),
        "training samples (generated world)": (lambda p: f"{_train_frames(p):,}", "about 1.5 M (Human3.6M)"),
        "of which the CNNs learn from": (lambda p: f"1 in {p.cnn_stride}" if p.cnn_stride > 1 else "all", "all"),
        "batch size": (lambda p: str(p.lifter_train.batch_size), str(paper.BATCH_SIZE)),
        "arithmetic": (lambda p: "bf16 autocast" if p.prcnn_train.precision == "bf16" else "fp32", "not stated"),
        "seeds": (lambda p: str(p.seeds), "1 (one reported run)"),
        "Table 1's lifters per seed": (lambda p: str(p.lifter_seeds), "1"),
    }
    names = [n for n in PRESETS if n != "tiny"]
    lines = ["| | " + " | ".join(names) + " | the paper |", "|---|" + "---|" * (len(names) + 1)]
    for label, (value, paper_value) in rows.items():
        lines.append(f"| {label} | " + " | ".join(value(PRESETS[n]) for n in names) + f" | {paper_value} |")
    return "\n".join(lines)
