"""The generic mocap format: one `.npz` that the generator writes and users' files match.

Keys: ``positions`` float (N, 17, 3) millimetres, world coordinates, z up, H36M-17 order;
``subject`` (N,) str or int; ``action`` (N,) str; optional ``sequence`` (N,) int marking
clips; ``fps`` scalar. Extra keys are ignored. Files are opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from drpose3d.engine.fileio import atomic_path
from drpose3d.errors import DataError
from drpose3d.pose.skeleton import BONES, JOINT_NAMES, NUM_JOINTS, bone_lengths

#: Median bone length (mm) of any adult body lies well inside this range; metres or
#: centimetres fall outside it.
PLAUSIBLE_BONE_MM = (40.0, 700.0)
#: Every coordinate lies within this many mm of the origin: a capture room, not float32's limit.
ROOM_MM = 50_000.0
#: Each bone of each frame stays within this factor band of its subject's median length.
BONE_BAND = (0.5, 2.0)
#: A subject needs this many distinct poses, and at most this share of frames repeating the one before.
MIN_DISTINCT_POSES, MAX_REPEATED_SHARE = 10, 0.5


@dataclass
class Mocap:
    """Frames of world-space poses with their labels."""

    positions: torch.Tensor  # (N, 17, 3) float32 mm
    subject: np.ndarray | list[str]  # (N,) str
    action: np.ndarray | list[str]  # (N,) str
    sequence: torch.Tensor  # (N,) int64, one id per clip
    fps: float
    source: np.ndarray | None = None  # (N,) str: the file each frame was imported from, if any

    def __post_init__(self) -> None:
        self.subject = np.asarray(self.subject, dtype=str)
        self.action = np.asarray(self.action, dtype=str)
        if self.source is not None:
            self.source = np.asarray(self.source, dtype=str)

    def __len__(self) -> int:
        return self.positions.shape[0]

    @property
    def subjects(self) -> list[str]:
        return sorted(set(self.subject.tolist()), key=_subject_key)


def _subject_key(name: str) -> tuple[int, str]:
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 10**9, name)


def save_mocap(mocap: Mocap, path: str | Path) -> None:
    """Write `mocap` in the generic format (atomically)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                positions=mocap.positions.detach().cpu().numpy().astype(np.float32, copy=False),
                subject=mocap.subject,
                action=mocap.action,
                sequence=mocap.sequence.cpu().numpy().astype(np.int64),
                fps=np.float64(mocap.fps),
                **({} if mocap.source is None else {"source": mocap.source}),
            )


def load_mocap(path: str | Path) -> Mocap:
    """Read and validate a generic-format file; every problem raises :class:`DataError`."""
    path = Path(path)
    where = f"{path}"
    if path.is_dir():
        raise DataError(f"{where}: is a folder, expected a generic mocap .npz file")
    if not path.is_file():
        raise DataError(f"{where}: no such file (expected a generic mocap .npz)")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{where}: not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {
                key: archive[key]
                for key in archive.files
                if key in ("positions", "subject", "action", "sequence", "fps", "source")
            }
    except ValueError as err:
        raise DataError(
            f"{where}: holds pickled Python objects, which are refused; store plain arrays ({err})"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataError(f"{where}: unreadable or truncated archive ({err})") from None
    for key in ("positions", "subject", "action", "fps"):
        if key not in arrays:
            raise DataError(
                f"{where}: missing key '{key}' (expected positions, subject, action, fps; optional sequence)"
            )

    pos = arrays["positions"]
    if pos.dtype.kind != "f":
        raise DataError(f"{where}: 'positions' has dtype {pos.dtype}, expected a float array")
    if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3) or pos.shape[0] == 0:
        raise DataError(f"{where}: 'positions' has shape {pos.shape}, expected (N>0, {NUM_JOINTS}, 3)")
    if not np.isfinite(pos).all():
        bad = int((~np.isfinite(pos)).any(axis=(1, 2)).sum())
        raise DataError(f"{where}: 'positions' has non-finite values in {bad} frame(s)")
    n = pos.shape[0]

    labels = {}
    for key in ("subject", "action"):
        arr = arrays[key]
        if arr.shape != (n,):
            raise DataError(f"{where}: '{key}' has shape {arr.shape}, expected ({n},) to match positions")
        if arr.dtype.kind not in "UiuS" or (key == "action" and arr.dtype.kind not in "US"):
            raise DataError(
                f"{where}: '{key}' has dtype {arr.dtype}, expected {'str or int' if key == 'subject' else 'str'}"
            )
        arr = arr.astype(str)
        if (np.char.strip(arr) == "").any():
            raise DataError(f"{where}: '{key}' has empty names in {int((np.char.strip(arr) == '').sum())} frame(s)")
        labels[key] = arr

    if "sequence" in arrays:
        seq = arrays["sequence"]
        if seq.shape != (n,) or seq.dtype.kind not in "iu":
            raise DataError(f"{where}: 'sequence' has shape {seq.shape} dtype {seq.dtype}, expected ({n},) integers")
        sequence = torch.from_numpy(seq.astype(np.int64))
    else:
        change = np.ones(n, dtype=bool)
        change[1:] = (labels["subject"][1:] != labels["subject"][:-1]) | (labels["action"][1:] != labels["action"][:-1])
        sequence = torch.from_numpy(np.cumsum(change) - 1)

    fps = arrays["fps"]
    if fps.size != 1 or fps.dtype.kind not in "fiu" or not np.isfinite(fps).all() or float(fps) <= 0:
        raise DataError(f"{where}: 'fps' is {fps!r}, expected one positive number")

    positions = torch.from_numpy(pos.astype(np.float32, copy=False))
    median_bone = float(bone_lengths(positions[:: max(1, n // 1000)]).median())
    lo, hi = PLAUSIBLE_BONE_MM
    far = positions.abs() > ROOM_MM
    if far.any():
        frame, joint, axis = (int(i) for i in far.nonzero()[0])
        value = float(positions[frame, joint, axis])
        raise DataError(
            f"{where}: frame {frame}, joint {JOINT_NAMES[joint]}: {'xyz'[axis]} = {value:.4g} mm, expected within "
            f"±{ROOM_MM:g} mm ({int(far.any(-1).any(-1).sum())} frame(s) affected)"
        )
    if not lo <= median_bone <= hi:
        hint = " (metres? multiply by 1000)" if 0 < median_bone < lo / 10 else ""
        raise DataError(f"{where}: median bone length is {median_bone:.3g}, expected {lo:g}-{hi:g} mm{hint}")
    _check_bodies(positions, labels["subject"], where)
    source = arrays.get("source")
    if source is not None and (source.shape != (n,) or source.dtype.kind not in "US"):
        raise DataError(f"{where}: 'source' has shape {source.shape} dtype {source.dtype}, expected ({n},) str")
    return Mocap(positions, labels["subject"], labels["action"], sequence, float(fps), source)


def _check_bodies(positions: torch.Tensor, subject: np.ndarray, where: str) -> None:
    """Per subject: every bone of every frame near its median length, and enough distinct
    poses (not one pose repeated) to train or test on."""
    lengths = bone_lengths(positions)
    for name in sorted(set(subject.tolist())):
        rows = torch.from_numpy(np.flatnonzero(subject == name))
        mine = lengths[rows]
        median = mine.median(0).values
        ratio = mine / median.clamp_min(1e-6)
        bad = (ratio < BONE_BAND[0]) | (ratio > BONE_BAND[1])
        if bad.any():
            k, bone = (int(i) for i in bad.nonzero()[0])
            parent, child = BONES[bone]
            raise DataError(
                f"{where}: frame {int(rows[k])}, bone {JOINT_NAMES[parent]}-{JOINT_NAMES[child]} of subject {name} "
                f"is {float(mine[k, bone]):.4g} mm, expected {BONE_BAND[0]:g}-{BONE_BAND[1]:g} times its median "
                f"{float(median[bone]):.0f} mm ({int(bad.any(-1).sum())} frame(s) affected)"
            )
        poses = positions[rows].reshape(len(rows), -1)
        distinct = len(torch.unique(poses, dim=0))
        repeated = float((poses[1:] == poses[:-1]).all(-1).float().mean()) if len(rows) > 1 else 0.0
        if distinct < MIN_DISTINCT_POSES or repeated > MAX_REPEATED_SHARE:
            raise DataError(
                f"{where}: subject {name} has {distinct} distinct pose(s) in {len(rows)} frames, "
                f"{100 * repeated:.0f} % repeating the frame before; expected at least {MIN_DISTINCT_POSES} "
                f"distinct poses and at most {100 * MAX_REPEATED_SHARE:.0f} % repeats"
            )
