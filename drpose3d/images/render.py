"""Images from poses: people made of capsules (:mod:`people`), ray-cast through the camera model
with a depth buffer, lit by one light per image over a textured background, blurred and
noised mildly like a camera; person-centred square crops, and Gaussian joint heatmaps.

Depth reaches the pixels only through physics: which part hides which (the depth buffer),
perspective size and foreshortening, and shading. Rays go through the same camera model as
the 2D joints, lens distortion included, so the rendered body and the 2D labels agree.

Speed comes from never testing a pixel against a part that cannot cover it: parts are binned
to 8x8-pixel tiles by their projected bounds, and each (image, tile, part) triple that overlaps
is ray-cast as one batched operation (no loop over images or parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from drpose3d.images.people import KINDS, Outfits, capsules, palette_index
from drpose3d.pose.camera import Cameras, distort, project

TILE = 8  # pixels per side of a rasterisation tile
_UNDISTORT_GRID = 9  # undistort on a coarse grid and interpolate: distortion is smooth


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
    """Invert the lens model of :func:`project` by fixed-point iteration; (N, P, 2) normalised coords."""
    k, p = cameras.radial[:, None], cameras.tangential[:, None]
    x = xd.clone()
    for _ in range(iterations):
        x = x - (distort(x, k, p) - xd)
    return x


def pixel_rays(boxes: torch.Tensor, cameras: Cameras, resolution: int) -> torch.Tensor:
    """Unit rays (N, R, R, 3) from the camera centre through every crop pixel's centre."""
    g = _UNDISTORT_GRID
    lo, hi = 0.5 / resolution, 1 - 0.5 / resolution
    c = torch.linspace(lo, hi, g, device=boxes.device)
    gy, gx = torch.meshgrid(c, c, indexing="ij")
    pix = boxes[:, None, :2] + torch.stack((gx, gy), -1).reshape(1, -1, 2) * boxes[:, None, 2:]
    xy = _undistort((pix - cameras.principal[:, None]) / cameras.focal[:, None], cameras)
    xy = F.interpolate(xy.reshape(-1, g, g, 2).permute(0, 3, 1, 2), size=(resolution, resolution),
                       mode="bilinear", align_corners=True).permute(0, 2, 3, 1)  # fmt: skip
    return F.normalize(torch.cat((xy, torch.ones_like(xy[..., :1])), -1), dim=-1)


def ray_capsules(rd: torch.Tensor, a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Distance along unit rays from the origin (M, P, 3) to one capsule each a-b (M, 3) of
    radius r (M,): (M, P), inf where a ray misses. Closed form: the cylinder, then the end caps."""
    ba, oa = (b - a)[:, :, None], (-a)[:, :, None]
    bard, rdoa = (rd @ ba)[..., 0], (rd @ oa)[..., 0]  # (M, P)
    baba, baoa, oaoa = ((ba * ba).sum(1), (ba * oa).sum(1), (oa * oa).sum(1))  # (M, 1)
    r2 = (r * r)[:, None]
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    h = qb * qb - qa * (baba * oaoa - baoa * baoa - r2 * baba)
    t_body = (-qb - h.clamp_min(0).sqrt()) / qa.clamp_min(1e-9)
    y = baoa + t_body * bard
    body_ok = (h >= 0) & (y > 0) & (y < baba)
    at_a = y <= 0  # the end cap nearest the body hit: the sphere at a, or at b
    cb = torch.where(at_a, rdoa, rdoa - bard)
    cc = torch.where(at_a, oaoa, oaoa - 2 * baoa + baba) - r2
    hc = cb * cb - cc
    t_cap = -cb - hc.clamp_min(0).sqrt()
    inf = torch.full_like(t_body, float("inf"))
    t = torch.where(body_ok, t_body, torch.where(hc > 0, t_cap, inf))
    return torch.where(t > 0, t, inf)


def _part_bounds(
    a: torch.Tensor, b: torch.Tensor, r: torch.Tensor, cameras: Cameras, boxes: torch.Tensor, resolution: int
) -> torch.Tensor:
    """Crop-pixel bounds (N, K, 4) = x0, y0, x1, y1 that contain each capsule's image, with a
    margin for lens distortion across the radius."""
    n, k = a.shape[:2]
    ends = to_crop(project(torch.cat((a, b), 1), cameras), boxes, resolution).reshape(n, 2, k, 2)
    near = torch.minimum(a[..., 2], b[..., 2]) - r
    scale = cameras.focal.mean(-1, keepdim=True) * resolution / boxes[:, 2:]
    reach = 1.15 * r * scale / near.clamp_min(1.0) + 1.5
    return torch.cat((ends.amin(1) - reach[..., None], ends.amax(1) + reach[..., None]), -1)


def rasterise(
    rays: torch.Tensor, a: torch.Tensor, b: torch.Tensor, r: torch.Tensor, bounds: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Depth-buffered ray casting: the nearest hit (N, R, R) and which part it is (-1: none).

    Only (image, tile, part) triples whose tile meets the part's `bounds` are cast, all at once."""
    n, res = rays.shape[:2]
    t_count = res // TILE
    edges = torch.arange(t_count, device=rays.device, dtype=torch.float32) * TILE
    ox = (bounds[..., 2:3] >= edges) & (bounds[..., 0:1] <= edges + TILE)  # (N, K, T)
    oy = (bounds[..., 3:4] >= edges) & (bounds[..., 1:2] <= edges + TILE)
    img, part, ty, tx = (oy[..., :, None] & ox[..., None, :]).nonzero(as_tuple=True)
    tiles = rays.reshape(n, t_count, TILE, t_count, TILE, 3).transpose(2, 3).reshape(n, t_count, t_count, -1, 3)
    t = ray_capsules(tiles[img, ty, tx], a[img, part], b[img, part], r[img, part])  # (M, TILE^2)
    tile = (img * t_count + ty) * t_count + tx
    depth = t.new_full((n * t_count * t_count, TILE * TILE), float("inf"))
    depth.scatter_reduce_(0, tile[:, None].expand_as(t), t, "amin")
    won, pixel = ((t == depth[tile]) & t.isfinite()).nonzero(as_tuple=True)
    hit = torch.full(depth.shape, -1, dtype=torch.long, device=rays.device)
    hit[tile[won], pixel] = part[won]

    def untile(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(n, t_count, t_count, TILE, TILE).transpose(2, 3).reshape(n, res, res)

    return untile(depth), untile(hit)


def _hash(ids: torch.Tensor, salt: float) -> torch.Tensor:
    """Deterministic uniform [0, 1) numbers from integer ids (same id, same number on any device)."""
    h = torch.sin(ids.to(torch.float64) * 12.9898 + salt * 78.233) * 43758.5453
    return (h - h.floor()).to(torch.float32)


def _lattice(ids: torch.Tensor, cells: int, salt: float) -> torch.Tensor:
    """Deterministic per-sample hash values (N, 3, cells + 1, cells + 1) in [0, 1)."""
    lattice = torch.arange(cells + 1, device=ids.device, dtype=torch.float64)
    gy, gx = torch.meshgrid(lattice, lattice, indexing="ij")
    chan = torch.arange(3, device=ids.device, dtype=torch.float64)[:, None, None]
    seed = ids.to(torch.float64)[:, None, None, None] * 0.61803 + salt
    h = torch.sin(gx * 12.9898 + gy * 78.233 + chan * 37.719 + seed * 93.989) * 43758.5453
    return (h - h.floor()).to(torch.float32)


def _value_noise(ids: torch.Tensor, resolution: int, cells: int, salt: float, channels: int = 3) -> torch.Tensor:
    """Deterministic per-sample smooth noise (N, channels, R, R) in [0, 1]."""
    grid = _lattice(ids, cells, salt)[:, :channels]
    return F.interpolate(grid, size=(resolution, resolution), mode="bilinear", align_corners=True)


def _background(ids: torch.Tensor, resolution: int) -> torch.Tensor:
    """A room-like backdrop (N, 3, R, R): two colours blended by smooth noise, a fine texture,
    darker towards the floor."""
    base = torch.stack([_hash(ids, 11 + c) for c in range(6)], -1).reshape(-1, 2, 3, 1, 1) * 0.6 + 0.15
    blend = _value_noise(ids, resolution, 5, 1.0, channels=1)
    fine = _value_noise(ids, resolution // 4, 23, 2.0)
    fine = F.interpolate(fine, size=(resolution, resolution), mode="nearest") - 0.5
    rows = torch.linspace(0, 1, resolution, device=ids.device)[None, None, :, None]
    floor = 1 - 0.35 * _hash(ids, 19)[:, None, None, None] * rows
    return ((base[:, 0] * blend + base[:, 1] * (1 - blend)) * floor + 0.12 * fine).clamp(0, 1)


@dataclass(frozen=True)
class Surfaces:
    """What each pixel of N crops sees: the part hit (N, R, R), -1 for background; and, for
    the M covered pixels (image index `img`, flat pixel index `pix`), the palette slot and
    the unit surface normal (M, 3) in the camera frame."""

    hit: torch.Tensor
    img: torch.Tensor
    pix: torch.Tensor
    slot: torch.Tensor
    normal: torch.Tensor

    def slots(self) -> torch.Tensor:
        """Palette slots as an image (N, R, R), -1 for background."""
        out = torch.full_like(self.hit, -1).reshape(self.hit.shape[0], -1)
        out[self.img, self.pix] = self.slot
        return out.reshape(self.hit.shape)


def surfaces(pose3d: torch.Tensor, boxes: torch.Tensor, cameras: Cameras, outfit: Outfits, resolution: int) -> Surfaces:
    """Ray-cast N people (camera-frame 3D (N, 17, 3) mm) into their crop `boxes` (N, 3)."""
    if resolution % TILE:
        raise ValueError(f"resolution is {resolution}, expected a multiple of {TILE}")
    n = pose3d.shape[0]
    rays = pixel_rays(boxes, cameras, resolution)
    a, b, r, frames = capsules(pose3d, outfit.girth)
    depth, hit = rasterise(rays, a, b, r, _part_bounds(a, b, r, cameras, boxes, resolution))
    img, pix = (hit.reshape(n, -1) >= 0).nonzero(as_tuple=True)
    prim = hit.reshape(n, -1)[img, pix]
    point = rays.reshape(n, -1, 3)[img, pix] * depth.reshape(n, -1)[img, pix, None]
    pa = a[img, prim]
    ba = b[img, prim] - pa
    along = (((point - pa) * ba).sum(-1) / (ba * ba).sum(-1).clamp_min(1e-6)).clamp(0, 1)
    normal = F.normalize(point - (pa + along[:, None] * ba), dim=-1, eps=1e-6)
    slot = palette_index(KINDS.to(pose3d.device)[prim], along, prim, normal, frames.index(img), outfit.index(img))
    return Surfaces(hit, img, pix, slot, normal)


def render(
    pose3d: torch.Tensor,
    pose2d: torch.Tensor,
    cameras: Cameras,
    outfit: Outfits,
    ids: torch.Tensor,
    resolution: int,
    margin: float = 0.2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Render N people: camera-frame 3D (N, 17, 3) mm, their 2D (N, 17, 2) px (for the crop),
    one camera and one outfit per sample, and sample ids (N,) that seed the light, the
    background and the camera noise. `resolution` must be a multiple of :data:`TILE`.

    Returns images (N, 3, R, R) in [0, 1] and the crop boxes (N, 3).
    """
    n = pose3d.shape[0]
    boxes = crop_boxes(pose2d, margin)
    seen = surfaces(pose3d, boxes, cameras, outfit, resolution)
    img = seen.img
    albedo = outfit.palette[img, seen.slot]
    # one light per image, from above the camera's horizon; an ambient term; a tinted light
    up, side, depthwise = _hash(ids, 3), _hash(ids, 4) * 2 - 1, _hash(ids, 5) * 1.6 - 0.8
    light = F.normalize(torch.stack((side, -(0.3 + up), depthwise), -1), dim=-1)  # towards the light
    ambient = 0.35 + 0.25 * _hash(ids, 6)
    tint = 1 + 0.16 * (torch.stack([_hash(ids, 7 + c) for c in range(3)], -1) - 0.5)
    lambert = (seen.normal * light[img]).sum(-1).clamp_min(0)
    shade = ambient[img] + 0.85 * lambert

    image = _background(ids, resolution).permute(0, 2, 3, 1).reshape(n, -1, 3)
    image[img, seen.pix] = albedo * shade[:, None] * tint[img]
    image = image.reshape(n, resolution, resolution, 3).permute(0, 3, 1, 2)
    return _camera(image, ids), boxes


@lru_cache(maxsize=8)
def _noise_bank(resolution: int, device: torch.device) -> torch.Tensor:
    """A fixed bank of per-pixel noise fields (64, 3, R, R), zero mean; images pick one by id."""
    g = torch.Generator().manual_seed(resolution)
    return (torch.rand(64, 3, resolution, resolution, generator=g) - 0.5).to(device)


def _camera(image: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Mild defocus (a blend with a 3x3 blur) and sensor noise, both drawn per image."""
    kernel = torch.tensor([1.0, 2.0, 1.0], device=image.device)
    kernel = (kernel[:, None] * kernel[None]) / 16
    blurred = F.conv2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), kernel.expand(3, 1, 3, 3), groups=3)
    amount = 0.7 * _hash(ids, 23)[:, None, None, None]
    sigma = 0.1 * _hash(ids, 29)[:, None, None, None]
    grain = _noise_bank(image.shape[-1], image.device)[ids % 64]
    return (image + amount * (blurred - image) + sigma * grain).clamp(0, 1)


def heatmaps(points: torch.Tensor, resolution: int, variance: float = 4.0) -> torch.Tensor:
    """Gaussian heatmaps (N, J, R, R) at joint positions (N, J, 2) given in heatmap pixels
    (variance in px^2; the paper uses 4)."""
    c = torch.arange(resolution, device=points.device, dtype=torch.float32) + 0.5
    dx = (c[None, None, None, :] - points[..., 0, None, None]) ** 2
    dy = (c[None, None, :, None] - points[..., 1, None, None]) ** 2
    return torch.exp(-(dx + dy) / (2 * variance))


def target_heatmaps(joints: torch.Tensor, resolution: int, variance: float = 4.0) -> torch.Tensor:
    """Gaussian heatmaps of crop-pixel joints (N, J, 2) at half the crop's `resolution`, variance
    4 px^2: the hourglass' training target (Sec. 4.2), and PRCNN's heatmaps drawn from ground truth."""
    return heatmaps(joints / 2, resolution // 2, variance)
