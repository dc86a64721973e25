"""A generated subject's body: the Human3.6M-17 skeleton with its own proportions, posed by
named joint angles.

Limbs use a swing (a rotation vector in the plane normal to the rest bone) plus a twist about
the bone, so there is no gimbal lock; elbows and knees are hinges. Every angle passes a smooth
clamp to its anatomical range, and bones are rigid by construction.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import torch

from drpose3d.pose.skeleton import ANKLE_HEIGHT_MM, NUM_JOINTS, PARENTS

DEG = math.pi / 180.0

# Rest pose in the body frame (x forward, y left, z up): unit bone directions and the
# mean adult bone lengths (mm) of the Human3.6M subjects.
_REST_DIRECTION = torch.tensor(
    [
        [0, 0, 0],
        [0, -1, 0],
        [0, 0, -1],
        [0, 0, -1],
        [0, 1, 0],
        [0, 0, -1],
        [0, 0, -1],
        [0, 0, 1],
        [0, 0, 1],
        [0.35, 0, 0.937],
        [-0.35, 0, 0.937],
        [0, 0.995, -0.1],
        [0, 0, -1],
        [0, 0, -1],
        [0, -0.995, -0.1],
        [0, 0, -1],
        [0, 0, -1],
    ],
    dtype=torch.float64,
)
_MEAN_LENGTH = torch.tensor(
    [0, 132, 442, 454, 132, 442, 454, 233, 257, 121, 115, 151, 278, 252, 151, 278, 252], dtype=torch.float64
)

#: Anatomical ranges in degrees. Limb swings: flex forward+, abd outward+; twist: external+.
LIMITS: dict[str, tuple[float, float]] = {
    "pelvis_pitch": (-15, 75),
    "pelvis_roll": (-12, 12),
    "spine_flex": (-25, 60),
    "spine_side": (-30, 30),
    "spine_twist": (-35, 35),
    "chest_flex": (-20, 35),
    "chest_side": (-20, 20),
    "chest_twist": (-30, 30),
    "neck_flex": (-40, 50),
    "neck_twist": (-70, 70),
    **{f"{s}_hip_flex": (-30, 125) for s in "rl"},
    **{f"{s}_hip_abd": (-25, 50) for s in "rl"},
    **{f"{s}_hip_twist": (-40, 40) for s in "rl"},
    **{f"{s}_knee": (0, 150) for s in "rl"},
    **{f"{s}_sh_flex": (-60, 175) for s in "rl"},
    **{f"{s}_sh_abd": (-20, 170) for s in "rl"},
    **{f"{s}_sh_twist": (-80, 80) for s in "rl"},
    **{f"{s}_elbow": (0, 150) for s in "rl"},
}


@dataclass(frozen=True)
class Body:
    """One subject's skeleton: bone offsets in the rest pose (mm)."""

    name: str
    offsets: torch.Tensor  # (17, 3)

    @property
    def height_mm(self) -> float:
        lengths = self.offsets.norm(dim=-1)
        return float(lengths[[3, 2, 7, 8, 9, 10]].sum() + ANKLE_HEIGHT_MM)


def stable_seed(*parts: object) -> int:
    """A seed named by its parts, the same in every process (``hash`` of a str is salted per process)."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def make_body(name: str, seed: int = 0) -> Body:
    """A subject with its own proportions: a global scale (~1.55-1.90 m) and per-bone jitter.

    Left and right sides share lengths, as in Human3.6M's skeletons.
    """
    g = torch.Generator().manual_seed(stable_seed("body", name, seed))
    scale = 0.92 + 0.16 * torch.rand((), generator=g, dtype=torch.float64)
    jitter = 1 + 0.05 * (2 * torch.rand(NUM_JOINTS, generator=g, dtype=torch.float64) - 1)
    mirror = [0, 1, 2, 3, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 11, 12, 13]
    lengths = _MEAN_LENGTH * scale * jitter[mirror]
    return Body(name, _REST_DIRECTION / _REST_DIRECTION.norm(dim=-1, keepdim=True).clamp_min(1e-9) * lengths[:, None])


def _rotvec(w: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (..., 3) -> matrices (..., 3, 3) (exponential map)."""
    zero = torch.zeros_like(w[..., 0])
    x, y, z = w.unbind(-1)
    skew = torch.stack((zero, -z, y, z, zero, -x, -y, x, zero), -1).reshape(*w.shape[:-1], 3, 3)
    return torch.linalg.matrix_exp(skew)


def _axis(angle: torch.Tensor, axis: int) -> torch.Tensor:
    w = torch.zeros(*angle.shape, 3, dtype=angle.dtype)
    w[..., axis] = angle
    return _rotvec(w)


def _swing_twist(forward: torch.Tensor, side: torch.Tensor, twist: torch.Tensor) -> torch.Tensor:
    """Swing of a downward bone (rotation vector (side, -forward, 0)) after a twist about it."""
    return _rotvec(torch.stack((side, -forward, torch.zeros_like(side)), -1)) @ _axis(twist, 2)


def soft_clamp(x: torch.Tensor, lo: float, hi: float, sharpness: float = 0.25) -> torch.Tensor:
    """Smooth clamp to [lo, hi] (degrees): the identity inside, C-infinity at the limits."""
    sp = torch.nn.functional.softplus
    return lo + sp((x - lo) / sharpness) * sharpness - sp((x - hi) / sharpness) * sharpness


def pose_from_angles(body: Body, angles: dict[str, torch.Tensor]) -> torch.Tensor:
    """Joint angles (degrees, each (...,)) -> root-centred positions (..., 17, 3) mm.

    Leg flexions are given relative to the vertical; the pelvis pitch is subtracted here so
    that bending at the hips does not swing the legs.
    """
    a = {k: soft_clamp(v, *LIMITS[k]) * DEG for k, v in angles.items() if k in LIMITS}
    pitch = a["pelvis_pitch"]
    bone: dict[int, torch.Tensor] = {
        2: _swing_twist(a["r_hip_flex"] + pitch, -a["r_hip_abd"], -a["r_hip_twist"]),
        3: _axis(a["r_knee"], 1),
        5: _swing_twist(a["l_hip_flex"] + pitch, a["l_hip_abd"], a["l_hip_twist"]),
        6: _axis(a["l_knee"], 1),
        7: _rotvec(torch.stack((-a["spine_side"], a["spine_flex"], torch.zeros_like(pitch)), -1))
        @ _axis(a["spine_twist"], 2),
        8: _rotvec(torch.stack((-a["chest_side"], a["chest_flex"], torch.zeros_like(pitch)), -1))
        @ _axis(a["chest_twist"], 2),
        9: _axis(a["neck_flex"], 1) @ _axis(a["neck_twist"], 2),
        12: _swing_twist(a["l_sh_flex"], a["l_sh_abd"], a["l_sh_twist"]),
        13: _axis(-a["l_elbow"], 1),
        15: _swing_twist(a["r_sh_flex"], -a["r_sh_abd"], -a["r_sh_twist"]),
        16: _axis(-a["r_elbow"], 1),
    }
    root = _axis(angles["yaw"], 2) @ _axis(pitch, 1) @ _axis(-a["pelvis_roll"], 0)
    frames = [root]
    positions = [torch.zeros(*pitch.shape, 3, dtype=pitch.dtype)]
    for child in range(1, NUM_JOINTS):
        parent = PARENTS[child]
        frame = frames[parent] @ bone[child] if child in bone else frames[parent]
        frames.append(frame)
        positions.append(positions[parent] + frame @ body.offsets[child])
    return torch.stack(positions, dim=-2)
