import math

import torch
from scipy import stats

from drpose3d.camera import quaternion_to_matrix
from drpose3d.metrics import headline, mean_ci95, mpjpe, p_mpjpe, per_group_mean, procrustes_align


def _poses(n=16):
    return torch.randn(n, 17, 3, dtype=torch.float64) * 200


def test_mpjpe_zero_on_identical_and_known_offset():
    p = _poses()
    assert torch.equal(mpjpe(p, p), torch.zeros(16, dtype=torch.float64))
    assert torch.allclose(mpjpe(p + torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64), p), torch.full((16,), 5.0, dtype=torch.float64))


def test_procrustes_invariant_to_similarity_transforms():
    target = _poses()
    q = torch.randn(16, 4, dtype=torch.float64)
    rot = quaternion_to_matrix(q)
    moved = 1.7 * target @ rot + torch.randn(16, 1, 3, dtype=torch.float64) * 100
    assert p_mpjpe(moved, target).max() < 1e-6
    assert mpjpe(moved, target).min() > 1.0


def test_procrustes_never_reflects():
    target = _poses()
    mirrored = target * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    aligned = procrustes_align(mirrored, target)
    assert p_mpjpe(mirrored, target).min() > 1.0  # a reflection would fit exactly
    # the aligned pose is a proper rotation of the input: same handedness
    a, b = aligned - aligned.mean(1, keepdim=True), mirrored - mirrored.mean(1, keepdim=True)
    cross = torch.linalg.lstsq(b, a).solution
    assert (torch.linalg.det(cross) > 0).all()


def test_per_group_mean_and_headline_unweighted():
    values = torch.tensor([1.0, 3.0, 10.0, 10.0, 10.0, 10.0])
    groups = torch.tensor([0, 0, 1, 1, 1, 1])
    means = per_group_mean(values, groups, 3)
    assert means[:2].tolist() == [2.0, 10.0] and math.isnan(means[2])
    assert headline(means) == 6.0


def test_t_interval_matches_scipy():
    vals = [1.0, 2.0, 4.0]
    mean, (lo, hi) = mean_ci95(vals)
    ref = stats.t.interval(0.95, 2, loc=sum(vals) / 3, scale=stats.sem(vals))
    assert math.isclose(lo, ref[0]) and math.isclose(hi, ref[1]) and mean == 7 / 3
    assert mean_ci95([5.0]) == (5.0, None)
