"""The generated world: every subject (its own body, :mod:`.body`) performs every action family
(:mod:`.actions`) around the capture centre of its Human3.6M camera rig; the body is lowered
until its lower ankle sits at ankle height, so standing feet touch the floor. All sequences of
one (subject, action) are generated as one batch.
"""

from __future__ import annotations

import torch

from drpose3d.formats.mocap import Mocap
from drpose3d.pose.camera import capture_centre, h36m_rig, h36m_subjects
from drpose3d.pose.skeleton import ANKLE_HEIGHT_MM, NUM_JOINTS
from drpose3d.worlds.actions import ACTIONS, action_angles
from drpose3d.worlds.body import Body, make_body, pose_from_angles, stable_seed

SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")


def pose_sequences(body: Body, angles: dict[str, torch.Tensor], centre_xy: torch.Tensor) -> torch.Tensor:
    """World positions (n, T, 17, 3): kinematics, feet onto the floor, placed around `centre_xy`."""
    local = pose_from_angles(body, angles)
    lowest_ankle = local[..., [3, 6], 2].min(-1).values
    offset = torch.stack((angles["x"] + centre_xy[0], angles["y"] + centre_xy[1], ANKLE_HEIGHT_MM - lowest_ankle), -1)
    return local + offset.unsqueeze(-2)


def generate_world(
    subjects: tuple[str, ...] = SUBJECTS,
    actions: tuple[str, ...] = tuple(ACTIONS),
    repetitions: int = 2,
    duration_s: float = 4.0,
    fps: float = 50.0,
    seed: int = 0,
) -> Mocap:
    """Every subject performs every action `repetitions` times; returns generic mocap.

    Each subject moves around the capture centre (Eq. 7) of its Human3.6M camera rig.
    """
    t = torch.arange(int(round(duration_s * fps)), dtype=torch.float64) / fps
    chunks, subj, act, seq = [], [], [], []
    next_seq = 0
    for s in subjects:
        body = make_body(s, seed)
        rig = h36m_rig(s if s in h36m_subjects() else "S1")
        centre = capture_centre(rig.centre, rig.optical_axis)[:2]
        for a in actions:
            g = torch.Generator().manual_seed(stable_seed("motion", s, a, seed))
            poses = pose_sequences(body, action_angles(a, repetitions, t, g), centre)
            chunks.append(poses.reshape(-1, NUM_JOINTS, 3))
            frames = poses.shape[0] * poses.shape[1]
            subj += [s] * frames
            act += [a] * frames
            seq.append(torch.arange(next_seq, next_seq + repetitions).repeat_interleave(len(t)))
            next_seq += repetitions
    return Mocap(positions=torch.cat(chunks).float(), subject=subj, action=act, sequence=torch.cat(seq), fps=fps)
