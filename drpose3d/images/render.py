"""Images from poses: z-buffered capsule bodies, Lambertian shading, textured backgrounds,
person-centred square crops, and Gaussian joint heatmaps.

Depth reaches the pixels only through physics: which limb hides which (z-buffer),
perspective size and foreshortening, and shading from one light. Colours encode clothing
(a subject's shirt and trousers, left and right shades as clothes can differ), never depth
or joint identity. Rays go through the same camera model as the 2D joints, lens
distortion included, so the rendered body and the 2D labels agree.
"""

from __future__ import annotations

import zlib

import torch
import torch.nn.functional as F

from drpose3d.pose.camera import Cameras
from drpose3d.pose.skeleton import BONES, LEFT

#: Capsule radius (mm) of the bone ending at each child joint.
BONE_RADIUS = {
    1: 85,
    4: 85,
    2: 72,
    5: 72,
    3: 52,
    6: 52,
    7: 125,
    8: 135,
    9: 50,
    10: 95,
    11: 62,
    14: 62,
    12: 47,
    15: 47,
    13: 39,
    16: 39,
}
_PARTS = {
    1: "legs",
    2: "legs",
    3: "legs",
    4: "legs",
    5: "legs",
    6: "legs",
    7: "shirt",
    8: "shirt",
    9: "skin",
    10: "skin",
    11: "shirt",
    12: "shirt",
    13: "skin",
    14: "shirt",
    15: "shirt",
    16: "skin",
}
LIGHT_DIRECTION = (
    0.3,
    0.6,
    0.75,
)  # travel direction in the camera frame (x right, y down, z away): from upper left of the camera


def clothing(subject: str) -> torch.Tensor:
    """(16, 3) RGB per bone for a subject: its own shirt and trousers; left limbs a shade darker."""
    g = torch.Generator().manual_seed(zlib.crc32(f"clothes/{subject}".encode()))
    shirt, legs = torch.rand(3, generator=g) * 0.7 + 0.2, torch.rand(3, generator=g) * 0.5 + 0.1
    skin = torch.tensor([0.87, 0.68, 0.55]) * (0.75 + 0.25 * torch.rand(1, generator=g))
    colours = {"shirt": shirt, "legs": legs, "skin": skin}
    return torch.stack([colours[_PARTS[c]] * (0.8 if c in LEFT else 1.0) for _, c in BONES])


def crop_boxes(pose2d: torch.Tensor, margin: float = 0.2) -> torch.Tensor:
    """Square boxes (N, 3) = (x0, y0, size) px around the 2D joints, as pose estimators crop."""
    lo, hi = pose2d.min(-2).values, pose2d.max(-2).values
    size = (hi - lo).max(-1).values * (1 + 2 * margin)
    centre = (lo + hi) / 2
    return torch.cat((centre - size[:, None] / 2, size[:, None]), dim=-1)


def to_crop(points: torch.Tensor, boxes: torch.Tensor, resolution: int) -> torch.Tensor:
    """Full-image pixels (N, J, 2) -> crop pixels of a `resolution`-wide crop."""
    return (points - boxes[:, None, :2]) / boxes[:, None, 2:] * resolution


def from_crop(points: torch.Tensor, boxes: torch.Tensor, resolution: int) -> torch.Tensor:
    return points / resolution * boxes[:, None, 2:] + boxes[:, None, :2]


def _undistort(xd: torch.Tensor, cameras: Cameras, iterations: int = 8) -> torch.Tensor:
    """Invert the Brown-Conrady model by fixed-point iteration; (N, P, 2) normalised coords."""
    k = cameras.radial[:, None]
    p = cameras.tangential[:, None]
    x = xd.clone()
    for _ in range(iterations):
        u, v = x.unbind(-1)
        r2 = u * u + v * v
        radial = 1 + k[..., 0] * r2 + k[..., 1] * r2**2 + k[..., 2] * r2**3
        du = 2 * p[..., 0] * u * v + p[..., 1] * (r2 + 2 * u * u)
        dv = p[..., 0] * (r2 + 2 * v * v) + 2 * p[..., 1] * u * v
        x = torch.stack(((xd[..., 0] - du) / radial, (xd[..., 1] - dv) / radial), -1)
    return x


def _value_noise(ids: torch.Tensor, resolution: int, cells: int, device: torch.device) -> torch.Tensor:
    """Deterministic per-sample smooth noise (N, 3, R, R) in [0, 1] from a lattice hash."""
    lattice = torch.arange(cells + 1, device=device, dtype=torch.float32)
    gy, gx = torch.meshgrid(lattice, lattice, indexing="ij")
    chan = torch.arange(3, device=device, dtype=torch.float32)[:, None, None]
    seed = ids.to(torch.float32)[:, None, None, None] * 0.61803
    h = torch.sin(gx * 12.9898 + gy * 78.233 + chan * 37.719 + seed * 93.989) * 43758.5453
    grid = h - h.floor()
    return F.interpolate(grid, size=(resolution, resolution), mode="bicubic", align_corners=True).clamp(0, 1)


def render(
    pose3d: torch.Tensor,
    pose2d: torch.Tensor,
    cameras: Cameras,
    colours: torch.Tensor,
    ids: torch.Tensor,
    resolution: int,
    margin: float = 0.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Render N people: camera-frame 3D (N, 17, 3) mm, their 2D (N, 17, 2) px (for the crop),
    one camera per sample, clothing colours (N, 16, 3), sample ids (N,) for the background.

    Returns images (N, 3, R, R) in [0, 1] and the crop boxes (N, 3).
    """
    n, dev = pose3d.shape[0], pose3d.device
    boxes = crop_boxes(pose2d, margin)
    centres = (torch.arange(resolution, device=dev, dtype=torch.float32) + 0.5) / resolution
    gy, gx = torch.meshgrid(centres, centres, indexing="ij")
    pix = boxes[:, None, :2] + torch.stack((gx, gy), -1).reshape(1, -1, 2) * boxes[:, None, 2:]
    xd = (pix - cameras.principal[:, None]) / cameras.focal[:, None]
    xy = _undistort(xd, cameras)
    rays = torch.cat((xy, torch.ones_like(xy[..., :1])), -1)
    rays = rays / rays.norm(dim=-1, keepdim=True)  # (N, P, 3), origin at the camera centre

    parents = torch.tensor([p for p, _ in BONES], device=dev)
    children = torch.tensor([c for _, c in BONES], device=dev)
    radius = torch.tensor([BONE_RADIUS[c] for _, c in BONES], device=dev, dtype=torch.float32)
    a, b = pose3d[:, parents], pose3d[:, children]  # (N, K, 3)
    t = _ray_capsules(rays, a, b, radius)  # (N, P, K), inf where missed
    depth, hit = t.min(-1)
    covered = depth.isfinite()
    point = rays * depth.nan_to_num(posinf=0.0)[..., None]
    pa = a.gather(1, hit[..., None].expand(-1, -1, 3))
    ba = b.gather(1, hit[..., None].expand(-1, -1, 3)) - pa
    s = (((point - pa) * ba).sum(-1) / (ba * ba).sum(-1).clamp_min(1e-6)).clamp(0, 1)
    normal = point - (pa + s[..., None] * ba)
    normal = normal / normal.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    light = -torch.tensor(LIGHT_DIRECTION, device=dev)
    light = light / light.norm()
    lambert = (normal * light).sum(-1).clamp_min(0)
    albedo = colours.gather(1, hit[..., None].expand(-1, -1, 3))
    body = albedo * (0.3 + 0.7 * lambert[..., None])

    background = (
        0.25
        + 0.5 * _value_noise(ids, resolution, 6, dev)
        + 0.15 * (_value_noise(ids + 7919, resolution, 24, dev) - 0.5)
    )
    background = background.permute(0, 2, 3, 1).reshape(n, -1, 3)
    image = torch.where(covered[..., None], body, background)
    return image.reshape(n, resolution, resolution, 3).permute(0, 3, 1, 2).contiguous(), boxes


def _ray_capsules(rd: torch.Tensor, a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Distance along unit rays from the origin (N, P, 3) to capsules a-b (N, K, 3) of radius
    r (K,): (N, P, K), inf where a ray misses. Closed form (cylinder body, then the end
    caps); with the origin at 0 every ray-dependent term is one of two matmuls."""
    ba, oa = b - a, -a
    bard = rd @ ba.transpose(1, 2)  # (N, P, K)
    rdoa = rd @ oa.transpose(1, 2)
    baba = (ba * ba).sum(-1)[:, None]  # (N, 1, K)
    baoa = (ba * oa).sum(-1)[:, None]
    oaoa = (oa * oa).sum(-1)[:, None]
    r2 = r * r
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    h = qb * qb - qa * (baba * oaoa - baoa * baoa - r2 * baba)
    t_body = (-qb - h.clamp_min(0).sqrt()) / qa.clamp_min(1e-9)
    y = baoa + t_body * bard
    body_ok = (h >= 0) & (y > 0) & (y < baba)
    # the end cap nearest the body hit: the sphere at a (y <= 0) or at b
    at_a = y <= 0
    cb = torch.where(at_a, rdoa, rdoa - bard)
    cc = torch.where(at_a, oaoa, oaoa - 2 * baoa + baba) - r2
    hc = cb * cb - cc
    t_cap = -cb - hc.clamp_min(0).sqrt()
    inf = torch.full_like(t_body, float("inf"))
    t = torch.where(body_ok, t_body, torch.where((h >= 0) & (hc > 0), t_cap, inf))
    return torch.where(t > 0, t, inf)


def heatmaps(points: torch.Tensor, resolution: int, variance: float = 4.0) -> torch.Tensor:
    """Gaussian heatmaps (N, J, R, R) at joint positions (N, J, 2) given in heatmap pixels
    (variance in px^2; the paper uses 4)."""
    c = torch.arange(resolution, device=points.device, dtype=torch.float32) + 0.5
    dx = (c[None, None, None, :] - points[..., 0, None, None]) ** 2
    dy = (c[None, None, :, None] - points[..., 1, None, None]) ** 2
    return torch.exp(-(dx + dy) / (2 * variance))
