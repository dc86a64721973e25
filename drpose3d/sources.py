"""Where the motion comes from: the generated world, or a user's generic mocap file.

A data spec is ``synthetic``, ``mocap:FILE`` or ``h36m:DIR[:KEYPOINTS]`` (VideoPose3D files;
KEYPOINTS picks ``data_2d_h36m_<KEYPOINTS>.npz``, default ``gt``). The dataset label written
beside every result names it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .dataset import PROTOCOL1_TEST, PROTOCOL1_TRAIN, Samples, build_samples
from .h36m import load_h36m
from .mocap import DataError, Mocap, load_mocap
from .motion import generate_world
from .presets import Preset


@dataclass
class World:
    label: str  # e.g. "synthetic" or "mocap:walks.npz"
    mocap: Mocap
    samples: Samples
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]


def default_split(subjects: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Protocol #1 subjects when present, else the last two subjects (natural order) for test."""
    if set(PROTOCOL1_TRAIN + PROTOCOL1_TEST) <= set(subjects):
        return PROTOCOL1_TRAIN, PROTOCOL1_TEST
    if len(subjects) < 3:
        raise DataError(f"the data has subjects {subjects}; at least 3 are needed to train and test on different people")
    return tuple(subjects[:-2]), tuple(subjects[-2:])


def load_world(spec: str, preset: Preset, seed: int = 0) -> World:
    """Parse a data spec and build per-camera samples at the preset's stride."""
    kind, _, arg = spec.partition(":")
    if kind == "synthetic" and not arg:
        mocap = generate_world(**preset.world, seed=seed)
        label, recentre = "synthetic", False
    elif kind == "mocap" and arg:
        mocap = load_mocap(arg)
        label, recentre = f"mocap:{Path(arg).name}", True
    elif kind == "h36m" and arg:
        directory, _, keypoints = arg.partition(":")
        mocap, samples = load_h36m(directory, keypoints or "gt")
        train, test = default_split(mocap.subjects)
        label = f"h36m:{Path(directory).name}" + (f":{keypoints}" if keypoints else "")
        return World(label, mocap, samples.select(samples.frame % preset.stride == 0), train, test)
    else:
        raise DataError(f"data is {spec!r}, expected 'synthetic', 'mocap:FILE' or 'h36m:DIR'")
    train, test = default_split(mocap.subjects)
    return World(label, mocap, build_samples(mocap, preset.stride, recentre=recentre), train, test)
