"""What every motion-capture parser returns: a rig's joints posed frame by frame, in the source's
units and axes, with each joint's global rotation (the nose of Human3.6M is made from the head's).

Forward kinematics runs over all frames at once: one pass over the joints (parents first), each
a batched matrix product over the frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from drpose3d.errors import DataError

_AXES = {"x": 0, "y": 1, "z": 2}


#: Frames posed at once: forward kinematics of a long clip runs in pieces of this many frames, so
#: that memory is bounded by the piece, not the clip (a 10^6-frame BVH, issue 33).
CHUNK_FRAMES = 16_384


@dataclass
class Capture:
    """One clip, posed on demand: ``pose(a, b)`` gives global rotations (b-a, J, 3, 3) and joint
    positions (b-a, J, 3) of frames a..b-1, in source units and axes, y up. Posing a long clip
    whole would hold 96 bytes per joint and frame; callers walk it by :meth:`pieces`."""

    path: Path
    names: list[str]
    parents: list[int]
    frames: int
    pose: Callable[[int, int], tuple[torch.Tensor, torch.Tensor]]
    fps: float
    performer: str  # the skeleton it was captured on (an ASF's name, a BVH's folder)
    unit_mm: float | None = None  # millimetres per file unit when the file says (ASF), else None

    def __len__(self) -> int:
        return self.frames

    def index(self, name: str) -> int:
        return self.names.index(name)

    def pieces(self) -> Iterator[tuple[slice, torch.Tensor, torch.Tensor]]:
        """(frames, rotations, positions) for consecutive pieces of :data:`CHUNK_FRAMES` frames."""
        for start in range(0, self.frames, CHUNK_FRAMES):
            stop = min(start + CHUNK_FRAMES, self.frames)
            yield slice(start, stop), *self.pose(start, stop)


def posed(rotations: torch.Tensor, positions: torch.Tensor) -> Callable[[int, int], tuple[torch.Tensor, torch.Tensor]]:
    """A :attr:`Capture.pose` over rotations and positions computed already (a short clip)."""
    return lambda start, stop: (rotations[start:stop], positions[start:stop])


def axis_rotation(angle_deg: torch.Tensor, axis: str) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) about x, y or z by angles in degrees (right-handed)."""
    a = torch.deg2rad(angle_deg.double())
    c, s = torch.cos(a), torch.sin(a)
    one, zero = torch.ones_like(a), torch.zeros_like(a)
    i = _AXES[axis.lower()]
    rows = {
        0: ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        1: ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        2: ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[i]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def euler(angles_deg: torch.Tensor, order: str) -> torch.Tensor:
    """Rotations (..., 3, 3) from angles (..., len(order)) applied in `order` ("xyz": x first,
    so R = Rz Ry Rx for column vectors), the convention of BVH channels and ASF axes."""
    rot = torch.eye(3, dtype=torch.float64).expand(*angles_deg.shape[:-1], 3, 3)
    for k, axis in enumerate(order):
        rot = axis_rotation(angles_deg[..., k], axis) @ rot
    return rot


def forward_kinematics(
    parents: list[int], local_rotation: torch.Tensor, bone: torch.Tensor, root_position: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global rotations (F, J, 3, 3) and positions (F, J, 3) of joints listed parents first.

    `local_rotation` (F, J, 3, 3) is each joint's rotation relative to its parent; `bone`
    (F, J, 3) is each joint's offset from its parent in the parent's rotated frame (for the
    root, ignored); `root_position` (F, 3)."""
    frames, joints = local_rotation.shape[:2]
    rotations = torch.empty(frames, joints, 3, 3, dtype=torch.float64)
    positions = torch.empty(frames, joints, 3, dtype=torch.float64)
    for j, p in enumerate(parents):
        if p < 0:
            rotations[:, j], positions[:, j] = local_rotation[:, j], root_position
            continue
        if p >= j:
            raise ValueError(f"joint {j}'s parent {p} is listed after it")
        positions[:, j] = positions[:, p] + (rotations[:, p] @ bone[:, j, :, None])[..., 0]
        rotations[:, j] = rotations[:, p] @ local_rotation[:, j]
    return rotations, positions


def read_text(path: Path, kind: str) -> list[str]:
    """A capture file's lines, or a one-line error for an empty, binary or unreadable file."""
    return [line for _, line in text_lines(path, kind)]


def _a(kind: str) -> str:
    """`kind` (an upper-case file format) with its article as it is spoken: a BVH, an ASF, an AMC."""
    return ("an " if kind[0] in "AEFHILMNORSX" else "a ") + kind


def text_lines(path: Path, kind: str) -> Iterator[tuple[int, str]]:
    """A capture file's numbered lines (from 1), read as they are consumed, so that a long file is
    never held whole; one-line errors for an empty, binary, unreadable or non-UTF-8 file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if not head.strip() and not fh.read(1):
                raise DataError(f"{path}: empty file, expected {_a(kind)} file")
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror}); expected {_a(kind)} file") from None
    if b"\0" in head:
        raise DataError(f"{path}: binary data, expected {_a(kind)} text file")
    n = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                yield n, line
    except UnicodeDecodeError:
        raise DataError(f"{path}:{n + 1}: not text (a byte is not UTF-8), expected {_a(kind)} file") from None


#: The fastest capture (or output) frame rate accepted: optical systems record at most a few kHz.
MAX_CAPTURE_FPS = 10_000.0
#: The largest magnitude a number of a motion file may have: far beyond any length (in any unit) or
#: angle a capture holds, and small enough that forward kinematics stays finite.
LARGEST = 1e9


def number(token: str, path: Path, line: int, what: str) -> float:
    """`token` as a finite float of magnitude at most :data:`LARGEST`, or a one-line error naming
    the file, line and what was expected (NaN or infinity would escape later as a Python error)."""
    try:
        value = float(token)
    except ValueError:
        raise DataError(f"{path}:{line}: found {token!r}, expected a number ({what})") from None
    if not math.isfinite(value):
        raise DataError(f"{path}:{line}: found {token!r}, expected a finite number ({what})")
    if abs(value) > LARGEST:
        raise DataError(f"{path}:{line}: found {token!r}, out of range (at most {LARGEST:g} in size) for {what}")
    return value
