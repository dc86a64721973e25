"""What a run will cost before it starts (`drpose3d reproduce --plan`): per stage, the samples, the
optimiser steps of one model, the memory the stage holds and the device it runs on; and the check
that refuses, in one line and before any work, a run whose data cannot fit this machine.

The memory is what a stage keeps whole, per sample: the samples themselves (poses, cameras, labels),
the crops' boxes and 2D, detections, rankings. Crops and heatmaps are not among them: stage 1
renders its crops and recomputes the hourglass' heatmaps batch by batch (a stored set of the paper
preset's crops would be 132 GB). Model state is weights, gradients and two optimiser moments in
float32 (4 x 4 bytes a parameter); activations scale with the batch, not the data, and are not
counted.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch

from drpose3d.errors import RunError
from drpose3d.models.dpnet import Lifter
from drpose3d.models.hourglass import StackedHourglass
from drpose3d.models.prcnn import PRCNN
from drpose3d.paper import PRCNN_DESIGNS, Fig5a
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.presets import Preset
from drpose3d.run import Run
from drpose3d.stages.designs import dpnet_config
from drpose3d.stages.identity import Stage
from drpose3d.worlds.spec import load_world

#: Seeds beyond this multiple of the preset's own need --yes: each seed retrains every network.
SEEDS_BEYOND_PRESET = 10
_STATE_BYTES = 16  # float32 weights, gradients and two Adam / momentum moments per parameter


@dataclass(frozen=True)
class StagePlan:
    """One stage of a planned run: what one of its models learns from, at most how long, what it holds."""

    stage: Stage
    model: str
    samples: int  # what one model of the stage learns from (or, for images, renders)
    steps: int  # optimiser steps of one model, at most (stage 1 stops earlier on a plateau; 0: nothing trained)
    held_bytes: int  # data the stage holds whole, on the host
    state_bytes: int  # one model's weights and optimiser state
    device: str


@dataclass(frozen=True)
class Plan:
    """A run before it starts: its samples and stages, so `--plan` can say what it costs and refuse what cannot fit."""

    run: Run
    train: int
    test: int
    stages: tuple[StagePlan, ...]
    processes: int = 1  # ranks on this machine (--nproc): each holds its own copy of a stage's data

    @property
    def peak_bytes(self) -> int:
        return max(s.held_bytes + s.state_bytes for s in self.stages)

    def table(self) -> str:
        """The plan as the lines `--plan` prints."""
        p, gb = self.run.preset, 1e9
        lines = [
            f"plan: preset {p.name}, data {self.run.data.label}, {len(self.run.seeds)} seed(s), device "
            f"{self.run.device}: {self.train:,} training and {self.test:,} test samples",
            f"{'stage':<8} {'model':<34} {'samples':>10} {'max steps':>9} {'data held':>10} {'model state':>11}"
            "  device",
        ]
        for s in self.stages:
            lines.append(
                f"{s.stage.value:<8} {s.model:<34} {s.samples:>10,} {s.steps:>9,} {s.held_bytes / gb:>8.2f} GB "
                f"{s.state_bytes / gb:>8.3f} GB  {s.device}{f' x {self.processes}' if self.processes > 1 else ''}"
            )
        lines.append(
            f"peak held: {self.peak_bytes / gb:.2f} GB"
            + (f" per process, {self.processes} processes" if self.processes > 1 else "")
            + f"; available here: {available_bytes() / gb:.2f} GB; "
            "every seed repeats each stage, and each experiment trains its own models of a stage"
        )
        return "\n".join(lines)


def _parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _steps(samples: int, batch: int, epochs: int) -> int:
    return math.ceil(samples / batch) * epochs


def make_plan(run: Run, processes: int = 1) -> Plan:
    """The plan of `run` on `processes` ranks of this machine: its world is built (seconds, nothing
    written) to count the samples."""
    p: Preset = run.preset
    world = load_world(run.data, p, 0)
    train = int(world.samples.mask_subjects(world.train_subjects).sum())
    test = int(world.samples.mask_subjects(world.test_subjects).sum())
    cnn = math.ceil(train / p.cnn_stride)
    joints, r = len(HOURGLASS_JOINTS), p.resolution
    samples = sum(t.nbytes for t in vars(world.samples).values() if isinstance(t, torch.Tensor))
    crops = samples + (train + test) * (3 + 2 * joints) * 4  # the samples, each crop's box and 2D
    detections = (train + test) * 2 * joints * 4
    rankings = train * joints * joints * 4 + (train + test) * joints * joints * 2  # targets, P in float16
    with torch.device("meta"):  # parameter counts without allocating the weights
        hourglass = _parameters(StackedHourglass(p.hourglass.stacks, p.hourglass.channels, joints, p.hourglass.depth))
        depth, _ = PRCNN_DESIGNS[Fig5a.PRCNN_RESNET34]
        prcnn = _parameters(PRCNN(depth, True, joints, p.prcnn_width))
        lifter = _parameters(Lifter(dpnet_config(p.width)))
    device = run.device
    stages = (
        StagePlan(Stage.IMAGES, f"renderer, {r} px crops on demand", train + test, 0, crops, 0, device),
        StagePlan(
            Stage.POSE2D,
            f"hourglass {p.hourglass.stacks} x {p.hourglass.channels}",
            cnn,
            _steps(cnn, p.hourglass_train.batch_size, p.hourglass_train.epochs),
            crops + detections,
            hourglass * _STATE_BYTES,
            device,
        ),
        StagePlan(
            Stage.PRCNN,
            f"PRCNN ResNet-{depth}, base width {p.prcnn_width}",
            cnn,
            _steps(cnn, p.prcnn_train.batch_size, p.prcnn_train.epochs),
            crops + detections + rankings,
            (prcnn + hourglass // 4) * _STATE_BYTES,  # and the hourglass' weights, for the heatmaps
            device,
        ),
        StagePlan(
            Stage.DPNET,
            f"DPNet width {p.width}, augmented x{p.aug_factor}",
            train * p.aug_factor,
            _steps(train * p.aug_factor, p.lifter_train.batch_size, p.lifter_train.epochs),
            samples + train * p.aug_factor * 4 * (2 * joints + 3 * joints + joints * (joints - 1) // 2),
            lifter * _STATE_BYTES,
            device,
        ),
    )
    return Plan(run, train, test, stages, processes)


def available_bytes() -> int:
    """Memory this machine can give a run now (Linux: MemAvailable), else its physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(plan: Plan) -> None:
    """Refuse a run whose largest stage holds more than this machine has (and, on a GPU, more than
    the device has: the trainer moves a stage's per-sample tensors there at once), naming the stage."""
    worst = max(plan.stages, key=lambda s: s.held_bytes + s.state_bytes)
    need = worst.held_bytes + worst.state_bytes
    places = [("this machine", available_bytes(), need * plan.processes)]  # every local rank holds a copy
    if plan.run.torch_device.type == "cuda":  # one GPU per rank
        places.append((torch.cuda.get_device_name(plan.run.torch_device), torch.cuda.mem_get_info()[1], need))
    for where, have, need in places:
        if need > have:
            raise RunError(
                f"--preset {plan.run.preset.name} cannot fit: stage {worst.stage.value} holds {need / 1e9:.1f} GB "
                f"({plan.train + plan.test:,} samples"
                + (f", {plan.processes} processes" if plan.processes > 1 else "")
                + f"), {where} has "
                f"{have / 1e9:.1f} GB; see --plan"
            )


def check_seeds(run: Run, confirmed: bool) -> None:
    """Refuse, unless confirmed, a seed count far beyond the preset's own: its cost scales with it."""
    ratio = len(run.seeds) / run.preset.seeds
    if ratio > SEEDS_BEYOND_PRESET and not confirmed:
        raise RunError(
            f"--seeds {len(run.seeds)} is {ratio:,.0f} times the {run.preset.name} preset's {run.preset.seeds} "
            f"seeds and costs {ratio:,.0f} times its compute (every seed retrains every network; see --plan); "
            "add --yes to start it anyway"
        )
