"""Camera model: world->camera transform, projection with lens distortion, the H36M rig.

Conventions follow the published Human3.6M calibration shipped in ``data/h36m_cameras.json``:
world z points up, millimetres; a camera's unit quaternion [w, x, y, z] rotates camera axes
into world axes, so ``X_cam = R^T (X_world - centre)``; camera z looks forward (depth).
Distortion: radial k1..k3 on r^2, r^4, r^6 and tangential p1, p2 of normalised image
coordinates, by Human3.6M's own formula unless told otherwise (:data:`LENS_MODELS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources

import torch

from drpose3d.pose.blocking import row_blocks

CAMERA_IDS: tuple[str, ...] = ("54138969", "55011271", "58860488", "60457274")


@dataclass(frozen=True)
class Cameras:
    """A batch of C cameras as tensors, so projection is one broadcast op, not a loop."""

    rotation: torch.Tensor  # (C, 3, 3) camera axes -> world axes
    centre: torch.Tensor  # (C, 3) mm, world
    focal: torch.Tensor  # (C, 2) px
    principal: torch.Tensor  # (C, 2) px
    radial: torch.Tensor  # (C, 3)
    tangential: torch.Tensor  # (C, 2)
    resolution: torch.Tensor  # (C, 2) width, height px

    def __len__(self) -> int:
        return self.rotation.shape[0]

    def index(self, idx: torch.Tensor | slice | list[int]) -> Cameras:
        """The cameras at `idx` (e.g. one per sample), still batched."""
        return Cameras(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Cameras:
        return Cameras(**{f.name: getattr(self, f.name).to(device=device, dtype=dtype) for f in fields(self)})

    @property
    def optical_axis(self) -> torch.Tensor:
        """(C, 3) unit viewing directions in world coordinates (camera z axis)."""
        return self.rotation[..., :, 2]


def quaternion_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternions [w, x, y, z] (..., 4) -> rotation matrices (..., 3, 3)."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rows = (
        1 - 2 * (y * y + z * z),
        2 * (x * y - w * z),
        2 * (x * z + w * y),
        2 * (x * y + w * z),
        1 - 2 * (x * x + z * z),
        2 * (y * z - w * x),
        2 * (x * z - w * y),
        2 * (y * z + w * x),
        1 - 2 * (x * x + y * y),
    )
    return torch.stack(rows, dim=-1).reshape(*q.shape[:-1], 3, 3)


def world_to_camera(points: torch.Tensor, rotation: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """World points (..., J, 3) -> camera frame, with `rotation` (..., 3, 3), `centre` (..., 3)."""
    return (points - centre.unsqueeze(-2)) @ rotation


def camera_to_world(points: torch.Tensor, rotation: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`world_to_camera`."""
    return points @ rotation.transpose(-1, -2) + centre.unsqueeze(-2)


#: Lens-distortion formulas. "h36m" is Human3.6M's own (the dataset's MATLAB code, and
#: 3d-pose-baseline's ``project_point_radial``): the calibration was made for it, so it is the
#: default. "opencv" is the Brown-Conrady form as OpenCV writes it, for rigs calibrated that way;
#: on the Human3.6M calibration the two differ by 0.05-0.14 px on average, up to about 1 px.
LENS_MODELS = ("h36m", "opencv")


def distort(xy: torch.Tensor, radial: torch.Tensor, tangential: torch.Tensor, model: str = "h36m") -> torch.Tensor:
    """Normalised image coordinates (..., J, 2) -> distorted ones; radial (..., 1, 3) k1..k3,
    tangential (..., 1, 2) p1, p2, broadcasting against the points."""
    x, y = xy[..., 0:1], xy[..., 1:2]
    r2 = x * x + y * y
    scale = 1 + r2 * (radial[..., 0:1] + r2 * (radial[..., 1:2] + r2 * radial[..., 2:3]))
    p1, p2 = tangential[..., 0:1], tangential[..., 1:2]
    if model == "h36m":
        tan = p1 * y + p2 * x
        return torch.cat((x * (scale + tan) + p2 * r2, y * (scale + tan) + p1 * r2), -1)
    if model == "opencv":
        return torch.cat(
            (x * scale + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * scale + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y), -1
        )
    raise ValueError(f"lens model is {model!r}, expected one of {', '.join(LENS_MODELS)}")


def project(points: torch.Tensor, cameras: Cameras, model: str = "h36m") -> torch.Tensor:
    """Camera-frame points (..., J, 3) -> distorted pixel coordinates (..., J, 2), by the lens
    formula `model` (see :data:`LENS_MODELS`).

    `cameras` broadcasts against the leading dims (one camera per sample, or one for all);
    with one camera per sample the work runs in cache-sized blocks of samples.
    """
    if points.dim() != 3 or len(cameras) != points.shape[0]:
        return _project(points, cameras, model)
    out = points.new_empty(*points.shape[:-1], 2)
    for rows in row_blocks(points.shape[0], points.device):
        out[rows] = _project(points[rows], cameras.index(rows), model)
    return out


def _project(points: torch.Tensor, cameras: Cameras, model: str) -> torch.Tensor:
    xy = points[..., :2] / points[..., 2:3]
    distorted = distort(xy, cameras.radial.unsqueeze(-2), cameras.tangential.unsqueeze(-2), model)
    return distorted * cameras.focal.unsqueeze(-2) + cameras.principal.unsqueeze(-2)


def capture_centre(centres: torch.Tensor, axes: torch.Tensor) -> torch.Tensor:
    """Eq. (7): V_c = argmin_V sum_i d(V, l_i)^2, the point nearest all optical axes.

    Each line l_i passes through `centres[i]` with direction `axes[i]`; the least-squares
    solution solves sum_i (I - a_i a_i^T) V = sum_i (I - a_i a_i^T) c_i.
    """
    a = axes / axes.norm(dim=-1, keepdim=True)
    proj = torch.eye(3, dtype=a.dtype, device=a.device) - a.unsqueeze(-1) * a.unsqueeze(-2)
    return torch.linalg.solve(proj.sum(0), (proj @ centres.unsqueeze(-1)).sum(0)).squeeze(-1)


@lru_cache(maxsize=1)
def _calibration() -> dict:
    return json.loads(resources.files("drpose3d.data").joinpath("h36m_cameras.json").read_text())


def h36m_subjects() -> tuple[str, ...]:
    """Subjects with published extrinsics (S1, S5, S6, S7, S8, S9, S11)."""
    return tuple(_calibration()["extrinsics"])


def h36m_rig(subject: str, dtype: torch.dtype = torch.float64) -> Cameras:
    """The four Human3.6M cameras as calibrated for `subject`, in :data:`CAMERA_IDS` order."""
    calib = _calibration()
    if subject not in calib["extrinsics"]:
        raise KeyError(f"no Human3.6M calibration for subject {subject!r}; known: {', '.join(h36m_subjects())}")
    intr, extr = calib["intrinsics"], calib["extrinsics"][subject]

    def t(key: str, source: list[dict]) -> torch.Tensor:
        return torch.tensor([c[key] for c in source], dtype=dtype)

    return Cameras(
        rotation=quaternion_to_matrix(t("orientation", extr)),
        centre=t("translation", extr),
        focal=t("focal_length", intr),
        principal=t("center", intr),
        radial=t("radial_distortion", intr),
        tangential=t("tangential_distortion", intr),
        resolution=torch.tensor([[c["res_w"], c["res_h"]] for c in intr], dtype=dtype),
    )
