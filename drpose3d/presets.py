"""Run sizes: smoke (CI, the whole book in minutes), cpu (reduced: a laptop in hours), paper (GPU);
tiny exists only so the tests can run every path in seconds."""

from __future__ import annotations

from dataclasses import dataclass

from drpose3d import paper
from drpose3d.engine.train import TrainConfig
from drpose3d.models.hourglass import HourglassConfig


@dataclass(frozen=True)
class Preset:
    """Every size and hyper-parameter of a run, by name, so a run is one of a few stated settings."""

    name: str
    # the generated world
    repetitions: int  # clips per (subject, action)
    duration_s: float
    fps: float
    stride: int  # keep every stride-th frame of each clip
    # ranking
    eps_mm: float  # Eq. (1) tolerance
    # lifting network
    width: int
    lifter_train: TrainConfig
    seeds: int  # default number of seeds
    # images and the CNNs
    resolution: int  # crop size in pixels
    hourglass: HourglassConfig
    hourglass_train: TrainConfig
    prcnn_width: int  # ResNet base width (the paper's ResNets: 64)
    prcnn_train: TrainConfig
    floor_train: TrainConfig  # Fig. 5(a)'s 2D-only ranker (an MLP of the lifter's width)
    rank_threshold: float = 0.02  # Sec. 3.1 discretisation of P (not given in the paper; 0.1 cost 7 points here)
    aug_factor: int = paper.AUG_FACTOR  # Sec. 4.2: the augmented training set is three times the original
    cnn_stride: int = 1  # the hourglass and PRCNN learn from every cnn_stride-th training frame (all views), for cost
    # Table 1's lifters per pipeline seed (lifter seeds alone, same world and stage 1): each row's value of a
    # seed is their mean, which takes the lifter's own noise out of C1 and C2 at the cost of lifters only
    lifter_seeds: int = 1

    @property
    def world(self) -> dict:
        return {"repetitions": self.repetitions, "duration_s": self.duration_s, "fps": self.fps}


#: The paper preset's arithmetic, for GPUs: bf16 autocast (tensor cores; weights stay fp32). The
#: CPU presets keep fp32: on this 2-core AVX512-BF16 CPU bf16 trained PRCNN-34 only 6 % faster and
#: the hourglass 28 % (bench/stage1.md), not worth numbers that differ from fp32 runs.
GPU_PRECISION = "bf16"

PRESETS: dict[str, Preset] = {
    # the test suite's end-to-end run: every code path, seconds not minutes, numbers meaningless
    "tiny": Preset(
        "tiny",
        repetitions=1,
        duration_s=1.0,
        fps=50.0,
        stride=20,  # 3 frames a clip, 1,008 samples: the test books in two thirds of the time stride 10 took
        eps_mm=20.0,
        width=32,
        lifter_train=TrainConfig(epochs=2, batch_size=64, lr=1e-3),
        seeds=2,
        resolution=32,
        hourglass=HourglassConfig(stacks=1, channels=16, depth=2),
        hourglass_train=TrainConfig(epochs=1, batch_size=32, patience=1, drops=0),
        prcnn_width=8,
        prcnn_train=TrainConfig(epochs=1, batch_size=32, lr=0.05, optimizer="sgd", patience=1, drops=0),
        floor_train=TrainConfig(epochs=1, batch_size=64, patience=1, drops=0),  # one epoch: CI's time
        lifter_seeds=2,  # every code path: Table 1's replicate lifters too
    ),
    "smoke": Preset(
        "smoke",
        repetitions=2,
        duration_s=4.0,
        fps=50.0,
        stride=20,
        eps_mm=20.0,
        width=256,
        lifter_train=TrainConfig(epochs=8, batch_size=64, lr=1e-3),
        seeds=2,
        resolution=64,
        hourglass=HourglassConfig(stacks=1, channels=32, depth=3),
        hourglass_train=TrainConfig(epochs=4, batch_size=32, patience=1, drops=1),
        prcnn_width=8,
        prcnn_train=TrainConfig(epochs=3, batch_size=64, lr=0.1, optimizer="sgd", patience=1, drops=1),
        floor_train=TrainConfig(epochs=20, batch_size=64, patience=2, drops=1),
        aug_factor=2,
    ),  # stride 20, 8 epochs and a doubled (not tripled) set; stage 1 capped at a few epochs (smoke
    # checks the machinery, not convergence): the whole book in about 15 min
    "cpu": Preset(
        "cpu",
        repetitions=4,
        duration_s=8.0,
        fps=50.0,
        stride=20,
        eps_mm=20.0,
        width=512,
        lifter_train=TrainConfig(epochs=8, batch_size=64, lr=1e-3),
        seeds=3,
        resolution=64,
        hourglass=HourglassConfig(stacks=2, channels=32, depth=3),
        hourglass_train=TrainConfig(epochs=60, batch_size=32, patience=6, drops=2, min_delta=0.002),
        prcnn_width=16,
        prcnn_train=TrainConfig(
            epochs=120, batch_size=64, lr=0.1, optimizer="sgd", patience=10, drops=2, min_delta=0.1
        ),
        floor_train=TrainConfig(epochs=100, batch_size=64, patience=5, drops=2, min_delta=0.1),
        cnn_stride=2,
        lifter_seeds=3,
    ),  # stage 1 trains to a plateau of its validation clips, capped at 60 epochs of fresh renderings
    # (at 40 both the hourglass and PRCNN-34 were still gaining), PRCNN at 120 with patience 10: at 60 and 5
    # the noise of its accuracy at lr 0.1 (+-1.5 points) dropped the rate at epoch 21, and doubling both
    # raised PRCNN-34's validation accuracy from 84.3 to 86.4 % (bench/stage1.md); a gain counts above 0.2
    # points of PCK or 0.1 of accuracy (at lr 1e-5 the CMU hourglass kept its patience alive with gains of 0.0002);
    # patience 5-6: at 3 the epoch-to-epoch noise of the hourglass' PCK (+-0.04 at lr 1e-3) dropped the
    # rate after 4 epochs, while a cosine schedule still gained for 26 (bench/stage1.md);
    # 64 px: at 128 px the 2-stack hourglass costs 4x (bench/resolution.md); 3 lifters a seed on Table 1:
    # a GT-2D lifter costs about 48 s, so the 12 more cost about 10 min a seed beside stage 1's 6 h 45 min
    "paper": Preset(
        "paper",
        repetitions=8,
        duration_s=10.0,
        fps=50.0,
        stride=2,
        eps_mm=20.0,
        width=paper.DPNET_WIDTH,
        lifter_train=TrainConfig(
            epochs=paper.DPNET_EPOCHS, batch_size=paper.BATCH_SIZE, lr=paper.DPNET_LR, precision=GPU_PRECISION
        ),
        seeds=3,
        resolution=256,
        hourglass=HourglassConfig(stacks=paper.HOURGLASS_STACKS, channels=256, depth=4),
        hourglass_train=TrainConfig(epochs=40, batch_size=16, lr=2.5e-4, patience=3, drops=2, precision=GPU_PRECISION),
        prcnn_width=64,
        prcnn_train=TrainConfig(
            epochs=paper.PRCNN_EPOCHS,
            batch_size=paper.BATCH_SIZE,
            lr=paper.PRCNN_LR,
            optimizer="sgd",
            patience=3,
            drops=2,
            precision=GPU_PRECISION,
        ),
        floor_train=TrainConfig(epochs=100, batch_size=paper.BATCH_SIZE, patience=4, drops=2, precision=GPU_PRECISION),
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called `name`; an unknown name is refused with the ones there are."""
    if name not in PRESETS:
        raise ValueError(f"preset is {name!r}, expected one of {', '.join(PRESETS)}")
    return PRESETS[name]
