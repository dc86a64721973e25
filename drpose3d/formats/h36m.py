"""Human3.6M in VideoPose3D's files, read without executing pickled code.

``data_3d_h36m.npz`` holds ``positions_3d``: subject -> action -> (frames, 32, 3) world
positions in metres; ``data_2d_h36m_<name>.npz`` holds ``positions_2d``: subject -> action
-> one (frames, 17, 2) pixel array per camera (CAMERA_IDS order) and ``metadata``. Both are
pickled dicts inside .npy members, so they are read with :class:`RestrictedUnpickler`, which
admits numpy arrays and dtypes and plain containers only.
"""

from __future__ import annotations

import importlib
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from drpose3d.errors import DataError
from drpose3d.formats.mocap import PLAUSIBLE_BONE_MM, Mocap
from drpose3d.pose.camera import CAMERA_IDS, h36m_subjects
from drpose3d.pose.skeleton import H36M32_TO_17, NUM_JOINTS, bone_lengths

#: The community skips this clip: its video is damaged (VideoPose3D does the same).
DAMAGED: frozenset[tuple[str, str]] = frozenset({("S11", "Directions")})

_ALLOWED = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, dtypes, dicts, lists, tuples, strings and numbers; refuses any
    other global (so a crafted file cannot call os.system or anything else)."""

    def find_class(self, module: str, name: str):
        canonical = module.replace("numpy.core.", "numpy._core.", 1) if module.startswith("numpy.core.") else module
        if (canonical, name) not in _ALLOWED:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only numpy arrays and plain containers are allowed"
            )
        return getattr(importlib.import_module(canonical), name)


def read_npz_safely(path: str | Path) -> dict:
    """Every member of an .npz; object members are unpickled by :class:`RestrictedUnpickler`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not an .npz (zip) archive")
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                raw = io.BytesIO(archive.read(member))
                version = np.lib.format.read_magic(raw)
                shape, fortran, dtype = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )(raw)
                key = member.removesuffix(".npy")
                if dtype.hasobject:
                    value = RestrictedUnpickler(raw).load()
                    out[key] = value.item() if isinstance(value, np.ndarray) and value.shape == () else value
                else:
                    raw.seek(0)
                    out[key] = np.lib.format.read_array(raw, allow_pickle=False)
    except pickle.UnpicklingError as err:
        raise DataError(f"{path}: {err}") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as err:
        raise DataError(f"{path}: unreadable or truncated archive ({err})") from None
    return out


def _nested(path: Path, data: dict, key: str) -> dict:
    if key not in data:
        raise DataError(f"{path}: missing key '{key}' (found {sorted(data)})")
    value = data[key]
    if not isinstance(value, dict) or not value or not all(isinstance(v, dict) and v for v in value.values()):
        raise DataError(f"{path}: '{key}' must map subject -> action -> arrays, found {type(value).__name__}")
    return value


def load_h36m(directory: str | Path, keypoints: str = "gt") -> tuple[Mocap, torch.Tensor]:
    """World poses and their 2D views (frames, 4, 17, 2) from VideoPose3D-format files in
    `directory`, ready for :func:`drpose3d.dataset.build_samples` with ``pose2d=``.

    3D comes from ``data_3d_h36m.npz`` (seen through the published per-subject calibration
    by build_samples); 2D comes from ``data_2d_h36m_<keypoints>.npz`` (``gt`` or detections such as
    ``cpn_ft_h36m_dbb``), cropped to the 3D length as VideoPose3D does. Action names lose
    their take number ("Walking 1" -> "Walking") so takes are grouped as in the paper.
    """
    directory = Path(directory)
    p3, p2 = directory / "data_3d_h36m.npz", directory / f"data_2d_h36m_{keypoints}.npz"
    pos3d = _nested(p3, read_npz_safely(p3), "positions_3d")
    pos2d = _nested(p2, read_npz_safely(p2), "positions_2d")
    poses, views, labels = [], [], []
    for subject in sorted(pos3d, key=lambda s: int("".join(c for c in s if c.isdigit()) or 0)):
        if subject not in h36m_subjects():
            raise DataError(f"{p3}: unknown subject {subject!r}; calibration exists for {', '.join(h36m_subjects())}")
        if subject not in pos2d:
            raise DataError(f"{p2}: subject {subject!r} of {p3.name} is missing")
        for action, world in pos3d[subject].items():
            if (subject, action.split(" ")[0]) in DAMAGED:
                continue
            where = f"{p3}: {subject}/{action}"
            if (
                not isinstance(world, np.ndarray)
                or world.ndim != 3
                or world.shape[1:] != (32, 3)
                or world.dtype.kind != "f"
            ):
                raise DataError(
                    f"{where}: found {getattr(world, 'shape', type(world).__name__)}, expected (frames, 32, 3) floats"
                )
            if not np.isfinite(world).all():
                raise DataError(f"{where}: non-finite positions")
            cams = pos2d[subject].get(action)
            if cams is None:
                raise DataError(f"{p2}: {subject}/{action} is missing")
            if len(cams) != len(CAMERA_IDS):
                raise DataError(f"{p2}: {subject}/{action} has {len(cams)} cameras, expected {len(CAMERA_IDS)}")
            for c, kp in enumerate(cams):
                if not isinstance(kp, np.ndarray) or kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 2):
                    raise DataError(
                        f"{p2}: {subject}/{action} camera {c}: found {getattr(kp, 'shape', None)}, "
                        "expected (frames, 17, 2)"
                    )
                if kp.shape[0] < world.shape[0]:
                    raise DataError(
                        f"{p2}: {subject}/{action} camera {c} has {kp.shape[0]} frames, "
                        f"fewer than the {world.shape[0]} of 3D"
                    )
                if not np.isfinite(kp).all():
                    raise DataError(f"{p2}: {subject}/{action} camera {c}: non-finite keypoints")
            poses.append(torch.from_numpy(world[:, list(H36M32_TO_17)].astype(np.float32) * 1000))
            views.append(torch.from_numpy(np.stack([kp[: world.shape[0], :, :2] for kp in cams], 1).astype(np.float32)))
            labels.append((subject, action.split(" ")[0], world.shape[0]))
    if not poses:
        raise DataError(f"{p3}: no usable clips")
    median = float(bone_lengths(torch.cat(poses)[::50]).median())
    if not PLAUSIBLE_BONE_MM[0] <= median <= PLAUSIBLE_BONE_MM[1]:
        raise DataError(
            f"{p3}: median bone length {median / 1000:.3g} m after reading metres, "
            "expected 0.04-0.7 m (millimetres stored?)"
        )
    counts = torch.tensor([n for _, _, n in labels])
    clip = torch.arange(len(labels)).repeat_interleave(counts)
    subjects = np.array([s for s, _, _ in labels])[clip.numpy()]
    actions = np.array([a for _, a, _ in labels])[clip.numpy()]
    return Mocap(torch.cat(poses), subjects, actions, clip, 50.0), torch.cat(views)
