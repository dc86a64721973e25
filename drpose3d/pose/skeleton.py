"""The Human3.6M 17-joint skeleton and the joint subsets DRPose3D uses.

The order is the community-standard one (VideoPose3D, 3d-pose-baseline). Two subsets
matter: the 16 joints a stacked-hourglass detector reports (all but Neck/Nose), on which
the 2D input and the ranking matrix live, and the 16 non-root joints that the lifting
network regresses relative to the root.
"""

from __future__ import annotations

import torch

JOINT_NAMES: tuple[str, ...] = (
    "Hip",
    "RHip",
    "RKnee",
    "RFoot",
    "LHip",
    "LKnee",
    "LFoot",
    "Spine",
    "Thorax",
    "Neck/Nose",
    "Head",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
)
NUM_JOINTS = len(JOINT_NAMES)
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
ROOT = 0
RFOOT, LFOOT = 3, 6  # Human3.6M's "foot" joints are the ankles
#: Height of the ankle joint above the floor when the foot is down (mm).
ANKLE_HEIGHT_MM = 85.0
LEFT: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT: tuple[int, ...] = (1, 2, 3, 14, 15, 16)
BONES: tuple[tuple[int, int], ...] = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)

#: The 16 joints of a stacked-hourglass detector: 2D input and ranking matrix (Eq. 1).
HOURGLASS_JOINTS: tuple[int, ...] = tuple(j for j in range(NUM_JOINTS) if j != 9)
#: The 16 joints the lifting network regresses, relative to the root.
NON_ROOT_JOINTS: tuple[int, ...] = tuple(range(1, NUM_JOINTS))

#: Human3.6M's raw 32-joint mocap order reduced to the 17 above (VideoPose3D's choice).
H36M32_TO_17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def flip_permutation(joints: tuple[int, ...] = tuple(range(NUM_JOINTS))) -> list[int]:
    """Index permutation of `joints` that swaps left and right (for mirrored images)."""
    swap = {**dict(zip(LEFT, RIGHT, strict=True)), **dict(zip(RIGHT, LEFT, strict=True))}
    position = {j: k for k, j in enumerate(joints)}
    return [position[swap.get(j, j)] for j in joints]


def bone_lengths(positions: torch.Tensor) -> torch.Tensor:
    """Lengths of the 16 bones, (..., 17, 3) -> (..., 16)."""
    parents = torch.tensor([p for p, _ in BONES], device=positions.device)
    children = torch.tensor([c for _, c in BONES], device=positions.device)
    return (positions[..., children, :] - positions[..., parents, :]).norm(dim=-1)
