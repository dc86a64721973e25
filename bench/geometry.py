"""Geometry: Eq. (1) ranking with virtual-camera augmentation, and P-MPJPE, in poses/s."""

from __future__ import annotations

import torch
from timing import timed

from drpose3d.pose.camera import project, world_to_camera
from drpose3d.pose.metrics import p_mpjpe
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.worlds.augment import CameraPrior, camera_prior, rig_cameras, sample_virtual_cameras


def bench_augmentation(n: int, device: torch.device) -> dict:
    """Virtual cameras + projection + Eq. (1) ranking for `n` world poses, poses/s."""
    g = torch.Generator().manual_seed(0)
    world = (torch.randn(n, 17, 3, generator=g) * 300 + torch.tensor([0.0, 0.0, 1000.0])).to(device)
    prior = camera_prior(rig_cameras(("S1", "S5", "S6", "S7", "S8"), [0, 1, 2]))
    prior = CameraPrior(prior.centre.to(device), prior.distance_mean, prior.distance_std, prior.intrinsics)

    def run() -> torch.Tensor:
        cams = sample_virtual_cameras(prior, n, torch.Generator().manual_seed(1)).to(device)
        cam3d = world_to_camera(world, cams.rotation, cams.centre)
        project(cam3d, cams)
        return ranking_matrix(cam3d[:, 1:, 2], 20.0)

    return {"poses": n, "poses_s": n / timed(run, device, 3)}


def bench_p_mpjpe(n: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, 17, 3, generator=g).to(device) for _ in range(2))
    seconds = timed(lambda: p_mpjpe(a, b), device, 3)
    return {"poses": n, "seconds": seconds, "poses_s": n / seconds}
