"""The image augmentation of Sec. 4.2 (random rotation, scaling and horizontal flip), done on
whole batches on the device, moving joints, heatmap channels and ranking matrices with the pixels."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from drpose3d.pose.skeleton import HOURGLASS_JOINTS, flip_permutation

#: Channel permutation of the 16 hourglass joints under a horizontal flip.
FLIP_16 = flip_permutation(HOURGLASS_JOINTS)


def rotate_scale_flip(
    images: torch.Tensor,
    joints: torch.Tensor,
    extra: torch.Tensor | None = None,
    ranking: torch.Tensor | None = None,
    max_rotation_deg: float = 30.0,
    scale: tuple[float, float] = (0.8, 1.2),
    flip: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
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
    theta = torch.stack(
        (
            torch.stack((cos * sign, -sin, torch.zeros_like(s)), -1),
            torch.stack((sin * sign, cos, torch.zeros_like(s)), -1),
        ),
        1,
    )
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
        new_extra = out[:, images.shape[1] :]
        new_extra = torch.where(mirror[:, None, None, None], new_extra[:, perm], new_extra)
    new_ranking = None
    if ranking is not None:
        new_ranking = torch.where(mirror[:, None, None], ranking[:, perm][:, :, perm], ranking)
    return new_images, q, new_extra, new_ranking
