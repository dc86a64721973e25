"""What a rendered person is made of: capsules hung on the 17 joints, plus the head, nose, hands
and feet that the skeleton lacks, and an outfit.

A network should tell front from back, and so left from right, the way it does in photographs:
by a face with hair behind it, feet that point forward and a shirt whose front differs from its
back. Every cue is mirror-symmetric, so a flipped image shows a plausible person with left and
right swapped and flip augmentation (with swapped labels) stays valid; no colour marks a side.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

#: Palette slots of an outfit, in order; EYES and LIPS are fixed, the others drawn per person.
SKIN, HAIR, SHIRT, PRINT, TROUSERS, SHOES, EYES, LIPS = range(8)
#: Kinds of surface, each with its own texture rule in :func:`palette_index`.
TORSO, SLEEVE, FOREARM, LEG, BARE, HEAD, FOOT = range(7)

#: The capsules: (name, parent joint, child joint or a derived point, radius mm, kind). Derived
#: endpoints ("head", "nose", "hand", "foot") are placed by :func:`capsules`.
_PRIMITIVES: tuple[tuple[str, int, int, float, int], ...] = (
    ("pelvis-rhip", 0, 1, 85, LEG),
    ("rthigh", 1, 2, 72, LEG),
    ("rshin", 2, 3, 52, LEG),
    ("pelvis-lhip", 0, 4, 85, LEG),
    ("lthigh", 4, 5, 72, LEG),
    ("lshin", 5, 6, 52, LEG),
    ("belly", 0, 7, 125, TORSO),
    ("chest", 7, 8, 135, TORSO),
    ("neck", 8, -1, 50, BARE),
    ("head", -1, -1, 98, HEAD),
    ("nose", -1, -1, 20, BARE),
    ("lshoulder", 8, 11, 62, SLEEVE),
    ("lupperarm", 11, 12, 47, SLEEVE),
    ("lforearm", 12, 13, 39, FOREARM),
    ("rshoulder", 8, 14, 62, SLEEVE),
    ("rupperarm", 14, 15, 47, SLEEVE),
    ("rforearm", 15, 16, 39, FOREARM),
    ("lhand", 13, -1, 38, BARE),
    ("rhand", 16, -1, 38, BARE),
    ("lfoot", -1, -1, 42, FOOT),
    ("rfoot", -1, -1, 42, FOOT),
)
NAMES = tuple(p[0] for p in _PRIMITIVES)
KINDS = torch.tensor([p[4] for p in _PRIMITIVES])
RADII = torch.tensor([p[3] for p in _PRIMITIVES], dtype=torch.float32)
_INDEX = {name: k for k, name in enumerate(NAMES)}
#: The capsules that run from one joint to another: their indices, parent joints, child joints.
_ON_JOINTS = tuple(
    torch.tensor(c)
    for c in zip(*[(k, p[1], p[2]) for k, p in enumerate(_PRIMITIVES) if p[1] >= 0 and p[2] >= 0], strict=True)
)
#: The capsules whose radius follows a person's girth (not the head, nose or feet).
_BY_GIRTH = torch.tensor([kind not in (HEAD, FOOT) and name != "nose" for name, *_, kind in _PRIMITIVES])


@dataclass(frozen=True)
class Frames:
    """Directions that orient textures, per person (N, 3) each, camera frame."""

    forward: torch.Tensor  # the way the chest faces
    left: torch.Tensor
    head_forward: torch.Tensor  # the way the face looks
    head_up: torch.Tensor
    head_left: torch.Tensor

    def index(self, idx: torch.Tensor) -> Frames:
        return Frames(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def _unit(v: torch.Tensor) -> torch.Tensor:
    return F.normalize(v, dim=-1, eps=1e-6)


def frames(pose: torch.Tensor) -> Frames:
    """Body and head directions from the 17 joints (N, 17, 3). The face looks where the nose
    (joint 9) sits in front of the head's axis; with no such offset, where the chest faces."""
    left = (pose[:, 4] - pose[:, 1]) + (pose[:, 11] - pose[:, 14])
    up = pose[:, 8] - pose[:, 0]
    forward = _unit(torch.linalg.cross(left, up))
    head_up = _unit(pose[:, 10] - pose[:, 8])
    nose = pose[:, 9] - (pose[:, 8] + pose[:, 10]) / 2
    nose = nose - (nose * head_up).sum(-1, keepdim=True) * head_up
    body = forward - (forward * head_up).sum(-1, keepdim=True) * head_up
    head_forward = _unit(torch.where(nose.norm(dim=-1, keepdim=True) > 15, nose, body))
    head_left = torch.linalg.cross(head_up, head_forward)
    return Frames(forward, _unit(torch.linalg.cross(up, forward)), head_forward, head_up, head_left)


def capsules(pose: torch.Tensor, girth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Frames]:
    """The body as K capsules: endpoints a, b (N, K, 3) and radii (N, K) for poses (N, 17, 3) mm
    and a per-person girth (N,) that scales the limbs and the trunk."""
    n = pose.shape[0]
    f = frames(pose)
    a = pose.new_zeros(n, len(NAMES), 3)
    b = pose.new_zeros(n, len(NAMES), 3)
    k, parent, child = _ON_JOINTS
    a[:, k], b[:, k] = pose[:, parent], pose[:, child]
    centre = pose[:, 10] - 70 * f.head_up
    a[:, _INDEX["neck"]], b[:, _INDEX["neck"]] = pose[:, 8], centre - 60 * f.head_up
    a[:, _INDEX["head"]] = b[:, _INDEX["head"]] = centre
    a[:, _INDEX["nose"]] = b[:, _INDEX["nose"]] = centre + 95 * f.head_forward - 10 * f.head_up
    for side, elbow, wrist in (("l", 12, 13), ("r", 15, 16)):
        a[:, _INDEX[f"{side}hand"]] = pose[:, wrist]
        b[:, _INDEX[f"{side}hand"]] = pose[:, wrist] + 85 * _unit(pose[:, wrist] - pose[:, elbow])
    for side, knee, ankle in (("l", 5, 6), ("r", 2, 3)):
        shin = _unit(pose[:, ankle] - pose[:, knee])
        toes = _unit(f.forward - (f.forward * shin).sum(-1, keepdim=True) * shin)
        a[:, _INDEX[f"{side}foot"]] = pose[:, ankle] + 40 * shin - 35 * toes
        b[:, _INDEX[f"{side}foot"]] = pose[:, ankle] + 55 * shin + 150 * toes
    radii = RADII.to(pose.device) * torch.where(_BY_GIRTH.to(pose.device), girth[:, None], 1.0)
    return a, b, radii, f


@dataclass(frozen=True)
class Outfits:
    """One outfit per person: palette (N, 8, 3) in the slot order above, the shirt front's
    pattern (N,) 0 chest panel / 1 stripes / 2 two-tone yoke, long sleeves (N,) bool, girth (N,)."""

    palette: torch.Tensor
    pattern: torch.Tensor
    sleeves: torch.Tensor
    girth: torch.Tensor

    def index(self, idx: torch.Tensor) -> Outfits:
        return Outfits(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def to(self, device: torch.device | str) -> Outfits:
        return Outfits(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def outfits(subjects: list[str], sequences: list[int]) -> Outfits:
    """Outfits for (subject, sequence) pairs: the body (skin, hair, girth, trousers, shoes) is
    the subject's, the shirt and its pattern change from sequence to sequence."""
    palettes, patterns, sleeves, girths = [], [], [], []
    for subject, sequence in zip(subjects, sequences, strict=True):
        g = torch.Generator().manual_seed(zlib.crc32(f"body/{subject}".encode()))
        tone = torch.rand(1, generator=g)
        skin = torch.tensor([1.0, 0.82, 0.7]) * (1 - 0.45 * tone)
        hair = torch.tensor([0.04, 0.03, 0.02]) + torch.rand(1, generator=g) ** 2 * torch.tensor([0.6, 0.45, 0.2])
        trousers = torch.rand(3, generator=g) * 0.45 + 0.08
        shoes = torch.rand(1, generator=g).expand(3) * 0.5 + 0.1
        girth = 0.88 + 0.3 * torch.rand((), generator=g)
        g = torch.Generator().manual_seed(zlib.crc32(f"shirt/{subject}/{sequence}".encode()))
        shirt, print_ = torch.rand(3, generator=g) * 0.75 + 0.15, torch.rand(3, generator=g)
        print_ = torch.where((print_ - shirt).abs().mean() < 0.25, 1 - shirt, print_)  # a print that shows
        palettes.append(torch.stack((skin, hair, shirt, print_, trousers, shoes, torch.tensor([0.05] * 3),
                                     torch.tensor([0.55, 0.2, 0.2]))))  # fmt: skip
        patterns.append(int(torch.randint(3, (), generator=g)))
        sleeves.append(bool(torch.rand((), generator=g) < 0.4))
        girths.append(girth)
    return Outfits(torch.stack(palettes), torch.tensor(patterns), torch.tensor(sleeves), torch.stack(girths))


def palette_index(
    kind: torch.Tensor,
    along: torch.Tensor,
    prim: torch.Tensor,
    normal: torch.Tensor,
    f: Frames,
    outfit: Outfits,
) -> torch.Tensor:
    """Which palette slot colours each surface point: its kind, primitive, fraction along the
    capsule (M,), unit normal (M, 3), and its person's frames and outfit (indexed per point).

    The shirt's pattern and a V-neck are on its front only; the head is hair on top and at the
    back, a face with two eyes and a mouth in front."""
    dot = lambda v: (normal * v).sum(-1)  # noqa: E731
    nf, nl = dot(f.forward), dot(f.left)
    height = torch.where(prim == _INDEX["chest"], 0.5 + 0.5 * along, 0.5 * along)  # up the trunk
    front = nf > 0.2
    pattern = outfit.pattern
    printed = front & (
        ((pattern == 0) & (nl.abs() < 0.4) & (height > 0.45) & (height < 0.8))
        | ((pattern == 1) & (torch.frac(height * 5) < 0.5))
        | ((pattern == 2) & (height > 0.6))
    )
    collar = front & (height > 0.9) & (nl.abs() < 0.3)
    torso = torch.where(collar, SKIN, torch.where(printed, PRINT, SHIRT))
    hf, hu, hl = dot(f.head_forward), dot(f.head_up), dot(f.head_left)
    eye = (hf > 0.82) & ((hu - 0.22).abs() < 0.12) & ((hl.abs() - 0.33).abs() < 0.1)
    mouth = (hf > 0.85) & ((hu + 0.38).abs() < 0.07) & (hl.abs() < 0.2)
    face = torch.where(eye, EYES, torch.where(mouth, LIPS, SKIN))
    head = torch.where((hu > 0.45) | (hf < -0.1) | ((hf < 0.35) & (hu > 0.1)), HAIR, face)
    forearm = torch.where(outfit.sleeves, SHIRT, SKIN)
    slot = torch.full_like(prim, SKIN)
    for k, value in ((TORSO, torso), (SLEEVE, SHIRT), (FOREARM, forearm), (LEG, TROUSERS), (HEAD, head), (FOOT, SHOES)):
        slot = torch.where(kind == k, value, slot)
    return slot
