"""Rendered image sets for the CNNs: every sample as a person-centred crop, with its ground-truth
2D in crop pixels."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm import tqdm

from drpose3d.images.people import outfits
from drpose3d.images.render import render, to_crop
from drpose3d.pose.camera import h36m_rig
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.worlds.samples import Samples, projected_2d


@dataclass
class ImageSet:
    images: torch.Tensor  # (N, 3, R, R) uint8
    boxes: torch.Tensor  # (N, 3) crop boxes (x0, y0, size) in full-image pixels
    joints: torch.Tensor  # (N, 16, 2) ground-truth 2D in crop pixels

    @property
    def resolution(self) -> int:
        return self.images.shape[-1]

    def select(self, mask: torch.Tensor) -> ImageSet:
        return ImageSet(self.images[mask], self.boxes[mask], self.joints[mask])


def sample_ids(samples: Samples, seed: int) -> torch.Tensor:
    """One id per sample that seeds its light, background and noise: the same sample and seed
    give the same image, whatever the batch it is rendered in."""
    return samples.sequence * 100003 + samples.frame * 7 + samples.camera + seed * 1_000_003


def render_images(samples: Samples, resolution: int, device: torch.device, seed: int = 0, batch: int = 256) -> ImageSet:
    """Render every sample, each person in the outfit of its subject and sequence.

    The joints are the samples' projected ground truth, not their 2D, which may be a file's detections."""
    truth2d = projected_2d(samples)
    rig = h36m_rig("S1").to(device, torch.float32)  # intrinsics are per camera, shared by subjects
    pairs = torch.stack((samples.subject, samples.sequence), -1)
    unique, which = pairs.unique(dim=0, return_inverse=True)
    wardrobe = outfits([samples.subject_names[s] for s in unique[:, 0].tolist()], unique[:, 1].tolist()).to(device)
    ids = sample_ids(samples, seed)
    images, boxes = [], []
    for i in tqdm(range(0, len(samples), batch), desc=f"render {resolution}px", leave=False):
        sl = slice(i, i + batch)
        img, box = render(
            samples.pose3d[sl].to(device, torch.float32),
            truth2d[sl].to(device, torch.float32),
            rig.index(samples.camera[sl].to(device)),
            wardrobe.index(which[sl].to(device)),
            ids[sl].to(device),
            resolution,
        )
        images.append((img * 255).round().to(torch.uint8).cpu())
        boxes.append(box.cpu())
    boxes_all = torch.cat(boxes)
    return ImageSet(torch.cat(images), boxes_all, to_crop(truth2d[:, list(HOURGLASS_JOINTS)], boxes_all, resolution))
