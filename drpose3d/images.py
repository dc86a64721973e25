"""Rendered image sets for the CNNs: crops and heatmap targets, cached by configuration,
and the image augmentation of Sec. 4.2 (rotation, scaling, flipping) done on whole batches."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .cache import Cache, config_key
from .camera import h36m_rig
from .dataset import Samples, projected_2d
from .render import clothing, heatmaps, render, to_crop
from .skeleton import HOURGLASS_JOINTS, flip_permutation

_HG = list(HOURGLASS_JOINTS)
#: Channel permutation of the 16 hourglass joints under a horizontal flip.
FLIP_16 = flip_permutation(HOURGLASS_JOINTS)


@dataclass
class ImageSet:
    images: torch.Tensor  # (N, 3, R, R) uint8
    boxes: torch.Tensor  # (N, 3) crop boxes (x0, y0, size) in full-image pixels
    joints: torch.Tensor  # (N, 16, 2) ground-truth 2D in crop pixels

    @property
    def resolution(self) -> int:
        return self.images.shape[-1]


def render_set(samples: Samples, resolution: int, device: torch.device, cache: Cache, key_parts: tuple,
               batch: int = 256) -> ImageSet:
    """Render every sample (cached by `key_parts` + resolution); sample ids seed the backgrounds."""
    key = config_key("images-v1", key_parts, resolution, len(samples))
    hit = cache.load_tensor("images", key)
    truth2d = projected_2d(samples)  # not the samples' 2D, which may be a file's detections
    if hit is None:
        rig = h36m_rig("S1").to(device, torch.float32)  # intrinsics are per camera, shared by subjects
        colours = torch.stack([clothing(s) for s in samples.subject_names]).to(device)
        ids = samples.sequence * 100003 + samples.frame * 7 + samples.camera
        images, boxes = [], []
        for i in tqdm(range(0, len(samples), batch), desc=f"render {resolution}px", leave=False):
            sl = slice(i, i + batch)
            img, box = render(samples.pose3d[sl].to(device), truth2d[sl].to(device), rig.index(samples.camera[sl].to(device)),
                              colours[samples.subject[sl].to(device)], ids[sl].to(device), resolution)
            images.append((img * 255).round().to(torch.uint8).cpu())
            boxes.append(box.cpu())
        hit = {"images": torch.cat(images), "boxes": torch.cat(boxes)}
        cache.save_tensor("images", key, hit)
    joints = to_crop(truth2d[:, _HG], hit["boxes"], resolution)
    return ImageSet(hit["images"], hit["boxes"], joints)


def augment(images: torch.Tensor, joints: torch.Tensor, extra: torch.Tensor | None = None,
            ranking: torch.Tensor | None = None, max_rotation_deg: float = 30.0, scale: tuple[float, float] = (0.8, 1.2),
            flip: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Random rotation, scaling and horizontal flip of a batch (torch's global RNG).

    `images` (B, C, R, R) float; `joints` (B, 16, 2) crop pixels; `extra` (B, 16, R, R) joint
    channels (heatmaps) move with the image; `ranking` (B, 16, 16). A flip mirrors the pixels,
    swaps left/right joints in `joints`, `extra` and, as M'_ij = M_perm(i),perm(j), in `ranking`
    (depth order is unchanged by a mirror, joint identities are swapped).
    """
    b, _, r, _ = images.shape
    dev = images.device
    angle = (torch.rand(b, device=dev) * 2 - 1) * max_rotation_deg * math.pi / 180
    s = scale[0] + (scale[1] - scale[0]) * torch.rand(b, device=dev)
    mirror = (torch.rand(b, device=dev) < 0.5) if flip else torch.zeros(b, dtype=torch.bool, device=dev)
    sign = torch.where(mirror, -1.0, 1.0)
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    # output normalised coords -> input normalised coords: mirror, then inverse rotation-scale
    theta = torch.stack((torch.stack((cos * sign, -sin, torch.zeros_like(s)), -1),
                         torch.stack((sin * sign, cos, torch.zeros_like(s)), -1)), 1)
    stacked = images if extra is None else torch.cat((images, extra), 1)
    grid = F.affine_grid(theta, list(stacked.shape), align_corners=False)
    out = F.grid_sample(stacked, grid, align_corners=False, padding_mode="border")
    # forward map of the joints: input -> output coords
    p = joints / r * 2 - 1
    fwd = torch.linalg.inv(torch.cat((theta, torch.tensor([0, 0, 1.0], device=dev).expand(b, 1, 3)), 1))[:, :2]
    q = (p @ fwd[:, :, :2].transpose(1, 2) + fwd[:, None, :, 2] + 1) / 2 * r
    perm = torch.tensor(FLIP_16, device=dev)
    q = torch.where(mirror[:, None, None], q[:, perm], q)
    new_images, new_extra = out[:, : images.shape[1]], None
    if extra is not None:
        new_extra = out[:, images.shape[1]:]
        new_extra = torch.where(mirror[:, None, None, None], new_extra[:, perm], new_extra)
    new_ranking = None
    if ranking is not None:
        new_ranking = torch.where(mirror[:, None, None], ranking[:, perm][:, :, perm], ranking)
    return new_images, q, new_extra, new_ranking


def target_heatmaps(joints: torch.Tensor, resolution: int, variance: float = 4.0) -> torch.Tensor:
    """Gaussian targets at the hourglass' output resolution (half the crop), variance 4 px^2."""
    return heatmaps(joints / 2, resolution // 2, variance)
