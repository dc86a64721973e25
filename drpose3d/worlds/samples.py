"""Mocap + camera rig -> per-camera sample tensors, and the protocol splits.

A sample is one frame seen by one camera: camera-frame 3D (mm), distorted 2D pixels, and
its labels. Frames are subsampled by a stride within each clip (Human3.6M's 50 fps
frames are highly redundant; the presets say which stride they use).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from drpose3d.errors import DataError
from drpose3d.formats.mocap import Mocap
from drpose3d.pose.camera import CAMERA_IDS, Cameras, capture_centre, h36m_rig, h36m_subjects, project, world_to_camera
from drpose3d.pose.skeleton import ANKLE_HEIGHT_MM, LFOOT, RFOOT

PROTOCOL1_TRAIN: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
PROTOCOL1_TEST: tuple[str, ...] = ("S9", "S11")
#: Protocol #3's test view (index into CAMERA_IDS); the other three are for training.
HELD_OUT_CAMERA = 3


@dataclass
class Samples:
    """Per-(frame, camera) tensors; every field has the sample count as first dim."""

    pose3d: torch.Tensor  # (N, 17, 3) camera frame, mm (absolute, not root-relative)
    pose2d: torch.Tensor  # (N, 17, 2) pixels
    subject: torch.Tensor  # (N,) index into subject_names
    action: torch.Tensor  # (N,) index into action_names
    camera: torch.Tensor  # (N,) 0..3, CAMERA_IDS order; -1 for a virtual camera (augment.py)
    sequence: torch.Tensor  # (N,)
    frame: torch.Tensor  # (N,) frame index within its clip
    subject_names: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()
    dropped_frames: int = 0  # frames left out because a camera could not see them (see build_samples)

    def __len__(self) -> int:
        return self.pose3d.shape[0]

    def select(self, mask: torch.Tensor) -> Samples:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return Samples(**{k: (v[mask] if isinstance(v, torch.Tensor) else v) for k, v in data.items()})

    def mask_subjects(self, names: tuple[str, ...]) -> torch.Tensor:
        unknown = set(names) - set(self.subject_names)
        if unknown:
            raise DataError(f"unknown subject(s) {sorted(unknown)}; the data has {list(self.subject_names)}")
        ids = torch.tensor([self.subject_names.index(n) for n in names])
        return torch.isin(self.subject, ids)


def concat(parts: list[Samples]) -> Samples:
    """Samples of the same world (same subject and action names) one after another."""
    names = {(p.subject_names, p.action_names) for p in parts}
    if len(names) != 1:
        raise DataError("cannot concatenate samples whose subject or action names differ")
    data = {f.name: [getattr(p, f.name) for p in parts] for f in fields(Samples)}
    return Samples(**{k: (torch.cat(v) if isinstance(v[0], torch.Tensor) else v[0]) for k, v in data.items()})


def rig_for(subject: str) -> Cameras:
    """The subject's own H36M calibration, or S1's for subjects Human3.6M does not have."""
    return h36m_rig(subject if subject in h36m_subjects() else "S1")


def build_samples(mocap: Mocap, stride: int = 1, recentre: bool = False, pose2d: torch.Tensor | None = None) -> Samples:
    """Every `stride`-th frame of every clip, seen by all four cameras of the subject's rig.

    `recentre` places any trajectory like Human3.6M's capture (see :func:`place_in_rig`): users'
    mocap may be recorded anywhere, the cameras look at one spot. `pose2d` (frames, 4, 17, 2)
    replaces the projected 2D with 2D read from a file (ground truth or detections), one array
    per camera. Frames that some camera cannot see (a joint behind it or the root outside its
    image) are left out and counted in ``dropped_frames``, never an error.
    """
    if stride < 1:
        raise DataError(f"stride is {stride}, expected an integer >= 1")
    seq = mocap.sequence
    starts = torch.ones_like(seq, dtype=torch.bool)
    starts[1:] = seq[1:] != seq[:-1]
    start_idx = torch.nonzero(starts).squeeze(1)
    run = torch.cumsum(starts.long(), 0) - 1
    frame = torch.arange(len(seq)) - start_idx[run]
    keep = frame % stride == 0

    subject_names = tuple(mocap.subjects)
    action_names = tuple(sorted(set(mocap.action.tolist())))
    unique_subjects, subj_inv = np.unique(mocap.subject, return_inverse=True)
    natural = torch.tensor([subject_names.index(u) for u in unique_subjects.tolist()])
    subj = natural[torch.from_numpy(subj_inv)]
    act = torch.from_numpy(np.unique(mocap.action, return_inverse=True)[1])

    rigs = [rig_for(s) for s in subject_names]
    rotation = torch.stack([r.rotation for r in rigs]).float()  # (S, C, 3, 3)
    centre = torch.stack([r.centre for r in rigs]).float()  # (S, C, 3)
    world = mocap.positions[keep]
    subj, act, frame, seq = subj[keep], act[keep], frame[keep], seq[keep]
    if pose2d is not None and pose2d.shape[:2] != (len(mocap), len(CAMERA_IDS)):
        raise DataError(
            f"2D has shape {tuple(pose2d.shape)}, expected ({len(mocap)}, {len(CAMERA_IDS)}, 17, 2) to match the mocap"
        )
    if recentre:
        target = torch.stack([capture_centre(r.centre, r.optical_axis)[:2] for r in rigs]).float()
        world = place_in_rig(world, seq, target[subj], max(1, round(mocap.fps * PLACEMENT_WINDOW_S / stride)))

    n_cam = len(CAMERA_IDS)
    cam3d = world_to_camera(world[:, None], rotation[subj], centre[subj])  # (N, C, 17, 3)
    if pose2d is None:
        pose2d = project(
            cam3d, h36m_rig("S1").to("cpu", torch.float32)
        )  # intrinsics: per camera, same for all subjects
    else:
        pose2d = pose2d[keep]
    seen = _in_view(cam3d, pose2d, rigs[0].resolution)
    if not seen.any():
        raise DataError("no frame is in view of all four cameras; is the mocap in millimetres, z up?")
    dropped = int((~seen).sum())
    cam3d, pose2d, world = cam3d[seen], pose2d[seen], world[seen]
    subj, act, frame, seq = subj[seen], act[seen], frame[seen], seq[seen]

    def expand(x):
        return x[:, None].expand(-1, n_cam).reshape(-1)

    return Samples(
        pose3d=cam3d.reshape(-1, *cam3d.shape[2:]),
        pose2d=pose2d.reshape(-1, *pose2d.shape[2:]),
        subject=expand(subj),
        action=expand(act),
        camera=torch.arange(n_cam).repeat(len(world)),
        sequence=expand(seq),
        frame=expand(frame),
        subject_names=subject_names,
        action_names=action_names,
        dropped_frames=dropped,
    )


#: Trajectories are re-centred over windows this long: steps and sways stay, a walk across the
#: room does not carry the body out of the capture volume.
PLACEMENT_WINDOW_S = 1.0
#: A joint nearer to a camera than this (mm) is not in its view (Human3.6M's nearest is ~2.5 m).
MIN_DEPTH_MM = 500.0


def place_in_rig(world: torch.Tensor, sequence: torch.Tensor, target_xy: torch.Tensor, window: int) -> torch.Tensor:
    """Poses (N, 17, 3) placed where the Human3.6M cameras look. In the ground plane the root's
    centred moving average over `window` frames of its clip is moved onto `target_xy` (N, 2), so a
    body anywhere in the room, or 10 m away, stays in view with its steps and sways. Vertically a
    clip moves as a whole so that its lowest ankles (5th percentile) stand at ankle height: a
    performer on a 2 m platform stands on the floor, and jumps and climbs keep their real heights.
    Frames are consecutive within a clip (the stride already applied)."""
    placed = world.clone()
    for s in sequence.unique():
        rows = torch.nonzero(sequence == s).squeeze(1)
        ankles = world[rows][:, [RFOOT, LFOOT], 2].amin(-1)
        placed[rows, :, 2] += ANKLE_HEIGHT_MM - torch.quantile(ankles, 0.05)
        root = world[rows, 0, :2].T[:, None, :]  # (2, 1, n)
        half = min(window // 2, root.shape[-1] - 1)
        padded = torch.nn.functional.pad(root, (half, half), mode="replicate") if half else root
        kernel = torch.full((1, 1, 2 * half + 1), 1.0 / (2 * half + 1))
        mean = torch.nn.functional.conv1d(padded, kernel)[:, 0, :].T  # (n, 2)
        placed[rows, :, :2] += (target_xy[rows] - mean)[:, None, :]
    return placed


def _in_view(cam3d: torch.Tensor, pose2d: torch.Tensor, resolution: torch.Tensor) -> torch.Tensor:
    """Frames (N,) in front of every camera (N, C, 17, 3) with the root inside every image."""
    in_front = (cam3d[..., 2] > MIN_DEPTH_MM).all(-1).all(-1)
    root = pose2d[:, :, 0]
    inside = ((root >= 0) & (root <= resolution.to(root.dtype))).all(-1).all(-1)
    return in_front & inside


def projected_2d(samples: Samples) -> torch.Tensor:
    """Ground-truth 2D (N, 17, 2): each sample's 3D through its camera's intrinsics, whatever
    2D the samples carry (a file's detections, say)."""
    return project(samples.pose3d, h36m_rig("S1").to("cpu", torch.float32).index(samples.camera))


def protocol_split(
    samples: Samples,
    protocol: int,
    train_subjects: tuple[str, ...] = PROTOCOL1_TRAIN,
    test_subjects: tuple[str, ...] = PROTOCOL1_TEST,
    test_camera: int = HELD_OUT_CAMERA,
) -> tuple[Samples, Samples]:
    """(train, test) for protocols #1/#2 (subjects) or #3 (subjects and a held-out camera)."""
    if protocol not in (1, 2, 3):
        raise DataError(f"protocol is {protocol}, expected 1, 2 or 3")
    train, test = samples.mask_subjects(train_subjects), samples.mask_subjects(test_subjects)
    if protocol == 3:
        if not 0 <= test_camera < len(CAMERA_IDS):
            raise DataError(f"test_camera is {test_camera}, expected 0..{len(CAMERA_IDS) - 1}")
        train &= samples.camera != test_camera
        test &= samples.camera == test_camera
    return samples.select(train), samples.select(test)
