import math

import numpy as np
import pytest
import torch

from drpose3d.pose.skeleton import ANKLE_HEIGHT_MM, bone_lengths
from drpose3d.worlds.actions import ACTIONS, action_angles
from drpose3d.worlds.body import LIMITS, make_body
from drpose3d.worlds.generated import SUBJECTS, generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(repetitions=2, duration_s=3.0, fps=25.0, seed=0)


def test_all_subjects_and_at_least_ten_actions(world):
    assert world.subjects == list(SUBJECTS)
    assert len(set(world.action.tolist())) == len(ACTIONS) >= 10


def test_bone_lengths_constant_within_every_clip(world):
    lengths = bone_lengths(world.positions.double())
    seq = world.sequence
    n = int(seq.max()) + 1
    mean = torch.zeros(n, 16, dtype=torch.float64).index_add_(0, seq, lengths) / torch.bincount(seq)[:, None]
    assert (lengths - mean[seq]).abs().max() < 0.05  # mm, float32 storage


def test_subjects_have_different_plausible_proportions():
    heights = [make_body(s).height_mm for s in SUBJECTS]
    assert 1500 < min(heights) and max(heights) < 1950 and max(heights) - min(heights) > 120


def test_lower_ankle_on_the_floor(world):
    lowest = world.positions[:, [3, 6], 2].min(-1).values
    assert torch.allclose(lowest, torch.full_like(lowest, ANKLE_HEIGHT_MM), atol=1e-3)


def test_no_frozen_clip_every_clip_moves(world):
    seq = world.sequence
    for s in torch.unique(seq)[::7]:
        rel = world.positions[seq == s] - world.positions[seq == s][:, :1]
        assert rel.std(0).mean() > 5.0  # mm of within-clip joint motion


def test_facing_directions_cover_the_circle(world):
    hips = world.positions[:, 4, :2] - world.positions[:, 1, :2]  # right -> left hip
    facing = torch.atan2(-hips[:, 0], hips[:, 1])  # forward = left-hip direction rotated by -90 deg
    octants = torch.floor((facing + math.pi) / (math.pi / 4)).long().clamp(0, 7)
    assert torch.bincount(octants, minlength=8).min() > len(facing) / 40


def _flexion_deg(positions: torch.Tensor, a: int, b: int, c: int) -> torch.Tensor:
    """Flexion at joint b (0 = straight) from the positions of a-b-c, measured on the poses."""
    u, v = positions[:, b] - positions[:, a], positions[:, c] - positions[:, b]
    cos = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))
    return torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))


def test_generated_knees_and_elbows_bend_within_anatomical_limits(world):
    """Measured on the generated poses, not on the clamp: every knee and elbow flexion lies in
    its range, and the actions bend them (a world of straight limbs would also pass the range)."""
    for name, (a, b, c) in {"r_knee": (1, 2, 3), "l_knee": (4, 5, 6), "l_elbow": (11, 12, 13),
                            "r_elbow": (14, 15, 16)}.items():  # fmt: skip
        lo, hi = LIMITS[name]
        flexion = _flexion_deg(world.positions.double(), a, b, c)
        assert lo - 1 <= float(flexion.min()) and float(flexion.max()) <= hi + 1, name
        assert float(flexion.quantile(0.95)) > 40, name


def test_the_actions_rarely_need_the_clamp():
    """The soft clamp is a guard: the actions' own angles stay within the limits almost always."""
    g = torch.Generator().manual_seed(3)
    t = torch.arange(100, dtype=torch.float64) / 25
    outside, total = 0, 0
    for action in ACTIONS:
        angles = action_angles(action, 3, t, g)
        for name, (lo, hi) in LIMITS.items():
            outside += int(((angles[name] < lo - 5) | (angles[name] > hi + 5)).sum())
            total += angles[name].numel()
    assert outside / total < 0.01


def test_generation_is_deterministic():
    a = generate_world(subjects=("S1",), actions=("Wave",), repetitions=1, duration_s=1.0, seed=4)
    b = generate_world(subjects=("S1",), actions=("Wave",), repetitions=1, duration_s=1.0, seed=4)
    c = generate_world(subjects=("S1",), actions=("Wave",), repetitions=1, duration_s=1.0, seed=5)
    assert torch.equal(a.positions, b.positions) and not torch.equal(a.positions, c.positions)
    assert np.array_equal(a.subject, b.subject)
