"""The crops the CNNs learn from: every sample as a person-centred crop, with its ground-truth 2D
in crop pixels. :class:`RenderedCrops` renders them batch by batch on the device when a trainer
asks for rows, so a run's memory is set by the batch, not by the number of samples (a stored set
of the paper preset's 672,000 crops at 256 px would be 132 GB); :class:`ImageSet` holds crops
in memory, for a figure's handful or pixels a test makes. Both answer :meth:`pixels`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from drpose3d.images.people import Outfits, outfits
from drpose3d.images.render import crop_boxes, render, to_crop
from drpose3d.pose.camera import Cameras, h36m_rig
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.worlds.samples import Samples, projected_2d


@dataclass
class ImageSet:
    """Crops held in memory."""

    images: torch.Tensor  # (N, 3, R, R) uint8
    boxes: torch.Tensor  # (N, 3) crop boxes (x0, y0, size) in full-image pixels
    joints: torch.Tensor  # (N, 16, 2) ground-truth 2D in crop pixels

    @property
    def resolution(self) -> int:
        return self.images.shape[-1]

    def __len__(self) -> int:
        return len(self.images)

    def pixels(self, rows: torch.Tensor, device: torch.device) -> torch.Tensor:
        """The crops of `rows` (B, 3, R, R) uint8 on `device`."""
        return self.images[rows.cpu()].to(device)

    def select(self, mask: torch.Tensor) -> ImageSet:
        return ImageSet(self.images[mask], self.boxes[mask], self.joints[mask])

    def drawn(self, draw: int) -> ImageSet:
        """Stored pixels have one rendering: every draw is the same set."""
        return self


#: Renderings per seed: draw d of seed s is rendered as seed s * DRAWS + d.
DRAWS = 1000


def sample_ids(samples: Samples, seed: int, draw: int = 0) -> torch.Tensor:
    """One id per sample that seeds its light, background and noise: the same sample, seed and
    draw give the same image, whatever the batch it is rendered in."""
    return samples.sequence * 100003 + samples.frame * 7 + samples.camera + (seed * DRAWS + draw) * 1_000_003


@dataclass
class RenderedCrops:
    """A split's crops, rendered when asked for: only the samples (poses, cameras, outfits, ids)
    and the small per-crop boxes and 2D are kept. Each person wears the outfit of its subject and
    sequence; the joints are the samples' projected ground truth, not their 2D, which may be a
    file's detections."""

    samples: Samples
    resolution: int
    seed: int = 0
    draw: int = 0  # which rendering of the seed: a trainer asks for a fresh one every epoch
    boxes: torch.Tensor = field(init=False)
    joints: torch.Tensor = field(init=False)
    _truth2d: torch.Tensor = field(init=False, repr=False)
    _which: torch.Tensor = field(init=False, repr=False)
    _ids: torch.Tensor = field(init=False, repr=False)
    _wardrobe: Outfits = field(init=False, repr=False)
    _placed: dict = field(init=False, repr=False, default_factory=dict)  # device -> (rig, wardrobe)

    def __post_init__(self) -> None:
        self._truth2d = projected_2d(self.samples)
        self.boxes = crop_boxes(self._truth2d)  # the box render() draws around the same 2D
        self.joints = to_crop(self._truth2d[:, list(HOURGLASS_JOINTS)], self.boxes, self.resolution)
        pairs = torch.stack((self.samples.subject, self.samples.sequence), -1)
        unique, self._which = pairs.unique(dim=0, return_inverse=True)
        names = [self.samples.subject_names[s] for s in unique[:, 0].tolist()]
        self._wardrobe = outfits(names, unique[:, 1].tolist())
        self._ids = sample_ids(self.samples, self.seed, self.draw)

    def __len__(self) -> int:
        return len(self.samples)

    def _on(self, device: torch.device) -> tuple[Cameras, Outfits]:
        if device not in self._placed:  # intrinsics are per camera, shared by subjects
            self._placed[device] = (h36m_rig("S1").to(device, torch.float32), self._wardrobe.to(device))
        return self._placed[device]

    def pixels(self, rows: torch.Tensor, device: torch.device) -> torch.Tensor:
        """The crops of `rows` rendered on `device`, (B, 3, R, R) uint8: the same pixels whatever
        the batch (every random draw of a crop is seeded by its sample id)."""
        rig, wardrobe = self._on(device)
        rows = rows.cpu()
        s = self.samples
        img, _ = render(
            s.pose3d[rows].to(device, torch.float32),
            self._truth2d[rows].to(device, torch.float32),
            rig.index(s.camera[rows].to(device)),
            wardrobe.index(self._which[rows].to(device)),
            self._ids[rows].to(device),
            self.resolution,
        )
        return (img * 255).round().to(torch.uint8)

    def select(self, mask: torch.Tensor) -> RenderedCrops:
        return RenderedCrops(self.samples.select(mask), self.resolution, self.seed, self.draw)

    def drawn(self, draw: int) -> RenderedCrops:
        """The same people, poses and cameras under another draw of light, backdrop and noise:
        fresh crops each epoch cost one render (about 1,900 crops/s at 64 px on 2 cores)."""
        other = copy.copy(self)
        other.draw, other._ids = draw, sample_ids(self.samples, self.seed, draw)
        return other

    def hold(self, rows: torch.Tensor | None = None, device: torch.device | None = None, batch: int = 256) -> ImageSet:
        """`rows` (default all) rendered into memory: for figures and small sets only."""
        rows = torch.arange(len(self)) if rows is None else rows
        device = device or torch.device("cpu")
        parts = [
            self.pixels(rows[i : i + batch], device).cpu()
            for i in tqdm(range(0, len(rows), batch), desc=f"render {self.resolution}px", leave=False)
        ]
        return ImageSet(torch.cat(parts), self.boxes[rows], self.joints[rows])


#: What the stage-1 networks take: crops in memory or rendered on demand.
Crops = ImageSet | RenderedCrops
