import math

import torch
from scipy import stats

from drpose3d.pose.camera import quaternion_to_matrix
from drpose3d.pose.metrics import headline, mean_ci95, mpjpe, p_mpjpe, per_group_mean, procrustes_align


def _poses(n=16):
    return torch.randn(n, 17, 3, dtype=torch.float64) * 200


def test_mpjpe_zero_on_identical_and_known_offset():
    p = _poses()
    assert torch.equal(mpjpe(p, p), torch.zeros(16, dtype=torch.float64))
    assert torch.allclose(
        mpjpe(p + torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64), p), torch.full((16,), 5.0, dtype=torch.float64)
    )


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


def _umeyama_reference(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The textbook SVD solution with Umeyama's reflection fix, as an independent reference."""
    mu_p, mu_t = pred.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    p, t = pred - mu_p, target - mu_t
    u, s, vh = torch.linalg.svd(p.transpose(-1, -2) @ t)
    signs = torch.ones_like(s)
    signs[..., -1] = torch.sign(torch.linalg.det(u @ vh))
    scale = (s * signs).sum(-1) / p.pow(2).sum((-1, -2))
    return scale[:, None, None] * p @ (u @ torch.diag_embed(signs) @ vh) + mu_t


def test_procrustes_matches_svd_reference_on_noisy_mirrored_and_random_poses():
    g = torch.Generator().manual_seed(3)
    target = torch.randn(600, 17, 3, generator=g, dtype=torch.float64) * 200
    pred = target + torch.randn(600, 17, 3, generator=g, dtype=torch.float64) * 60  # noisy estimates
    pred[:200] = (
        target[:200] * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
        + torch.randn(200, 17, 3, generator=g, dtype=torch.float64) * 10
    )
    pred[200:300] = torch.randn(100, 17, 3, generator=g, dtype=torch.float64) * 200  # unrelated poses
    assert torch.allclose(procrustes_align(pred, target), _umeyama_reference(pred, target), atol=1e-8)
    p32, t32 = pred.float(), target.float()
    assert (p_mpjpe(p32, t32).double() - p_mpjpe(pred, target)).abs().max() < 1e-3  # float32 inputs: sub-micrometre


def test_procrustes_degenerate_inputs():
    g = torch.Generator().manual_seed(5)
    target = torch.randn(64, 17, 3, generator=g, dtype=torch.float64) * 200
    collapsed = procrustes_align(torch.zeros_like(target), target)  # Horn matrix 0: the LAPACK fallback
    assert torch.allclose(collapsed, target.mean(1, keepdim=True).expand_as(target))
    direction = torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64)
    line = torch.randn(64, 17, 1, generator=g, dtype=torch.float64) * direction
    # collinear joints: a double top eigenvalue (any rotation about the line is optimal), where
    # Newton converges only linearly; the error must still match the reference to 0.1 micrometre
    assert (p_mpjpe(line, target) - mpjpe(_umeyama_reference(line, target), target)).abs().max() < 1e-4


def test_adjugate_is_determinant_times_inverse():
    from drpose3d.pose.metrics import _adjugate4

    m = torch.randn(64, 4, 4, dtype=torch.float64)
    assert torch.allclose(_adjugate4(m), torch.linalg.det(m)[:, None, None] * torch.linalg.inv(m), atol=1e-10)
