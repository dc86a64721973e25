"""Stage 1: the renderer (images/s at several crop sizes) and PRCNN and hourglass training (images/s)."""

from __future__ import annotations

import torch
from timing import timed

from drpose3d.engine.train import TrainConfig
from drpose3d.pose.ranking import ranking_matrix


def _image_inputs(n: int, resolution: int):
    from drpose3d.images.people import outfits
    from drpose3d.worlds.generated import generate_world
    from drpose3d.worlds.samples import build_samples

    mocap = generate_world(subjects=("S1",), actions=("Walk",), repetitions=1, duration_s=max(1.0, n / 200), fps=50)
    s = build_samples(mocap).select(torch.arange(n))
    return s, outfits(["S1"] * n, s.sequence.tolist())


def bench_renderer(n: int, resolutions: tuple[int, ...], device: torch.device) -> dict:
    from drpose3d.images.render import render
    from drpose3d.pose.camera import h36m_rig

    s, worn = _image_inputs(n, 64)
    rig = h36m_rig("S1").to(device, torch.float32).index(s.camera.to(device))
    args = (s.pose3d.to(device), s.pose2d.to(device), rig, worn.to(device), torch.arange(n, device=device))
    return {f"{r}px_images_s": n / timed(lambda r=r: render(*args, r), device) for r in resolutions}


def _blank_heatmaps(crops: object, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """PRCNN's heatmap channels without the hourglass: the PRCNN step alone is timed (the cpu preset's
    PRCNN-34 is also timed with the hourglass that gives its heatmaps, which costs as much again)."""
    return torch.zeros(len(pixels), 16, pixels.shape[-1] // 2, pixels.shape[-1] // 2, dtype=torch.uint8)


def bench_cnn_training(n: int, resolution: int, device: torch.device) -> dict:
    """One epoch of the real training functions (augmentation included) on `n` rendered crops."""
    from drpose3d.images.render import render, to_crop
    from drpose3d.images.sets import ImageSet
    from drpose3d.models.hourglass import HourglassConfig, StackedHourglass
    from drpose3d.models.prcnn import PRCNNConfig
    from drpose3d.pose.camera import h36m_rig
    from drpose3d.pose.skeleton import HOURGLASS_JOINTS
    from drpose3d.stages.pose2d import Pose2D, heatmapper, train_hourglass
    from drpose3d.stages.prcnn import train_prcnn

    s, worn = _image_inputs(n, resolution)
    rig = h36m_rig("S1").to("cpu", torch.float32).index(s.camera)
    img, box = render(s.pose3d, s.pose2d, rig, worn, torch.arange(n), resolution)
    images = (img * 255).round().to(torch.uint8)
    joints = to_crop(s.pose2d[:, list(HOURGLASS_JOINTS)], box, resolution)
    crops = ImageSet(images, box, joints)
    ranking = ranking_matrix(s.pose3d[:, list(HOURGLASS_JOINTS), 2], 20.0)
    hg = HourglassConfig(stacks=2, channels=32, depth=3)
    hourglass = StackedHourglass(hg.stacks, hg.channels, len(HOURGLASS_JOINTS), hg.depth).state_dict()
    # the cpu preset's PRCNN-34 as it trains, its heatmaps from an (untrained) cpu-preset hourglass run per batch
    cpu_heatmaps = heatmapper(Pose2D({}, hg, hourglass, [], 1), device)
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.1, optimizer="sgd")
    seconds = timed(lambda: train_prcnn(crops, ranking, cpu_heatmaps, PRCNNConfig(34, True, 16), cfg, 0, device),
                    device, warmup=False)  # fmt: skip
    out = {"prcnn_resnet34_w16_with_hourglass_images_s": n / seconds}
    for name, depth, width in (("prcnn_resnet34_w16", 34, 16), ("prcnn_resnet34_w64", 34, 64)):
        cfg = TrainConfig(epochs=1, batch_size=64, lr=0.1, optimizer="sgd")
        prcnn = PRCNNConfig(depth, True, width)
        seconds = timed(
            lambda p=prcnn, c=cfg: train_prcnn(crops, ranking, _blank_heatmaps, p, c, 0, device), device, warmup=False
        )
        out[f"{name}_images_s"] = n / seconds
    seconds = timed(
        lambda: train_hourglass(crops, hg, TrainConfig(epochs=1, batch_size=32), 0, device),
        device,
        warmup=False,
    )
    out["hourglass_2x32_images_s"] = n / seconds
    return out
