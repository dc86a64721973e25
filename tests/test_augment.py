"""Sec. 3.3 augmentation: Eq. (7), virtual cameras, GMM noise, statistical flip."""

import pytest
import torch

from drpose3d.pose.camera import capture_centre, world_to_camera
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.worlds.augment import (
    ELEVATION_MARGIN_DEG,
    AugmentConfig,
    camera_prior,
    entry_accuracy,
    fit_noise_model,
    look_at,
    rig_cameras,
    sample_virtual_cameras,
    statistical_flip,
    virtual_samples,
    world_poses,
)
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.samples import build_samples


def test_eq7_recovers_a_known_centre_from_noisy_axes():
    g = torch.Generator().manual_seed(0)
    centre = torch.tensor([120.0, -340.0, 900.0], dtype=torch.float64)
    cams = torch.randn(6, 3, generator=g, dtype=torch.float64) * 3000
    axes = centre - cams + torch.randn(6, 3, generator=g, dtype=torch.float64) * 1e-3
    assert torch.allclose(capture_centre(cams, axes), centre, atol=1.0)
    # skew lines: the answer minimises the summed squared distances (no other point does better)
    axes = axes + torch.randn(6, 3, generator=g, dtype=torch.float64) * 200
    v = capture_centre(cams, axes)

    def cost(p: torch.Tensor) -> torch.Tensor:
        a = axes / axes.norm(dim=-1, keepdim=True)
        d = p - cams
        return (d - (d * a).sum(-1, keepdim=True) * a).pow(2).sum()

    for _ in range(20):
        assert cost(v) <= cost(v + torch.randn(3, generator=g, dtype=torch.float64) * 10)


def test_look_at_points_the_axis_through_the_target_with_a_horizontal_x_axis():
    g = torch.Generator().manual_seed(1)
    target = torch.tensor([0.0, 500.0, 1000.0])
    pos = target + torch.randn(500, 3, generator=g) * 4000
    rot = look_at(pos, target)
    eye = torch.eye(3).expand(500, 3, 3)
    assert torch.allclose(rot.transpose(-1, -2) @ rot, eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rot), torch.ones(500), atol=1e-5)  # proper rotation, right-handed
    assert rot[:, 2, 0].abs().max() < 1e-5  # x axis has no vertical component
    assert (rot[:, 2, 1] <= 1e-6).all()  # image y points down (or is horizontal)
    cam = world_to_camera(target.expand(500, 1, 3), rot, pos)[:, 0]
    assert torch.allclose(cam[:, :2], torch.zeros(500, 2), atol=1e-2) and (cam[:, 2] > 0).all()
    # a standing person (head above feet) appears upright: head has smaller image y
    body = torch.stack((target, target + torch.tensor([0.0, 0.0, 800.0])))
    y = world_to_camera(body.expand(500, 2, 3), rot, pos)
    keep = rot[:, 2, 2].abs() < 0.9  # cameras not looking nearly straight up or down
    assert (y[keep, 1, 1] / y[keep, 1, 2] < y[keep, 0, 1] / y[keep, 0, 2]).all()
    straight_down = look_at(torch.tensor([[0.0, 500.0, 6000.0]]), target)
    assert torch.isfinite(straight_down).all() and torch.allclose(
        torch.linalg.det(straight_down), torch.ones(1), atol=1e-5
    )


def test_virtual_cameras_follow_the_fitted_prior():
    rig = rig_cameras(("S1", "S5", "S6"), [0, 1, 2])
    prior = camera_prior(rig)
    assert len(rig) == 9
    # V_c (Eq. 7) is where the sum of squared distances to the optical axes is stationary, and
    # Human3.6M's cameras stand about 5 m from it
    a, c = rig.optical_axis.double(), rig.centre.double()
    projector = torch.eye(3, dtype=torch.float64) - a[:, :, None] * a[:, None, :]
    gradient = (projector @ (prior.centre.double() - c)[:, :, None]).sum(0)
    assert float(gradient.norm()) < 1.0  # mm, summed over 9 cameras
    assert 4500 < prior.distance_mean < 6500 and 0 < prior.distance_std < 1000
    cams = sample_virtual_cameras(prior, 20000, torch.Generator().manual_seed(0), "sphere")
    offset = cams.centre - prior.centre
    r = offset.norm(dim=-1)
    assert abs(float(r.mean()) - prior.distance_mean) < 30
    assert abs(float(r.std()) - prior.distance_std) < 30
    unit = offset / r[:, None]
    assert unit.mean(0).abs().max() < 0.03  # uniform on the sphere: no preferred direction
    assert abs(float((unit[:, 2] > 0).float().mean()) - 0.5) < 0.02
    assert torch.allclose(unit.pow(2).mean(0), torch.full((3,), 1 / 3), atol=0.02)
    axis_error = torch.linalg.cross(cams.optical_axis, -unit).norm(dim=-1)
    assert axis_error.max() < 1e-4
    known = {tuple(f.tolist()) for f in prior.intrinsics.focal}
    assert {tuple(f.tolist()) for f in cams.focal} <= known


def test_virtual_cameras_by_default_stand_where_the_rig_stands():
    """The default draw keeps the real cameras' elevations (widened by the margin), every
    azimuth alike, and so keeps every camera above the floor; the sphere puts half below V_c."""
    prior = camera_prior(rig_cameras(("S1", "S5", "S6", "S7", "S8"), [0, 1, 2]))
    lo, hi = prior.elevation_deg
    assert -5 < lo < hi < 30  # Human3.6M's cameras look slightly down on the subject
    cams = sample_virtual_cameras(prior, 20000, torch.Generator().manual_seed(1))
    offset = cams.centre - prior.centre
    unit = offset / offset.norm(dim=-1, keepdim=True)
    elevation = torch.rad2deg(torch.asin(unit[:, 2]))
    assert elevation.min() >= lo - ELEVATION_MARGIN_DEG - 1e-3 and elevation.max() <= hi + ELEVATION_MARGIN_DEG + 1e-3
    assert elevation.max() - elevation.min() > (hi - lo) + 1.8 * ELEVATION_MARGIN_DEG  # the whole band is used
    assert unit[:, :2].mean(0).abs().max() < 0.03  # no preferred azimuth
    assert (cams.centre[:, 2] > 0).all()  # above the floor
    sphere = sample_virtual_cameras(prior, 20000, torch.Generator().manual_seed(1), "sphere")
    assert float((sphere.centre[:, 2] < 0).float().mean()) > 0.3
    with pytest.raises(ValueError, match="sampling"):
        sample_virtual_cameras(prior, 10, torch.Generator(), "ring")


def test_statistical_flip_rate_and_antisymmetry():
    g = torch.Generator().manual_seed(0)
    depth = torch.randn(40000, 16, generator=g) * 300
    truth = ranking_matrix(depth, 0.0)
    accuracy = torch.rand(16, 16, generator=g) * 0.5 + 0.5
    accuracy = (accuracy + accuracy.T) / 2
    flipped = statistical_flip(truth, accuracy, g)
    assert torch.allclose(flipped + flipped.transpose(-1, -2), torch.ones_like(flipped))
    assert (flipped.diagonal(dim1=-2, dim2=-1) == 0.5).all()
    observed = (flipped == truth).float().mean(0)
    off = ~torch.eye(16, dtype=torch.bool)
    assert (observed - accuracy)[off].abs().max() < 0.015  # 3.5 binomial sigmas at n = 40000
    assert torch.equal(statistical_flip(truth, torch.ones(16, 16), g), truth)
    ties = torch.full((5, 16, 16), 0.5)
    assert torch.equal(statistical_flip(ties, torch.zeros(16, 16), g), ties)


def test_entry_accuracy_counts_agreement_per_entry():
    truth = torch.tensor([[[0.5, 1.0], [0.0, 0.5]]]).repeat(4, 1, 1)
    pred = truth.clone()
    pred[0] = torch.tensor([[0.5, 0.0], [1.0, 0.5]])
    assert torch.equal(entry_accuracy(pred, truth), torch.tensor([[1.0, 0.75], [0.75, 1.0]]))


def test_gmm_noise_reproduces_the_residual_statistics():
    g = torch.Generator().manual_seed(0)
    # two regimes, like a detector: mostly small errors, sometimes a large shifted one
    small = torch.randn(6000, 16, 2, generator=g) * 3
    large = torch.randn(1500, 16, 2, generator=g) * 12 + torch.tensor([20.0, -8.0])
    residuals = torch.cat((small, large))
    model = fit_noise_model(residuals, components=2, seed=0)
    draw = model.sample(40000, torch.Generator().manual_seed(1))
    assert draw.shape == (40000, 16, 2)
    assert torch.allclose(draw.mean(0), residuals.mean(0), atol=0.6)
    assert torch.allclose(draw.std(0), residuals.std(0), rtol=0.08)
    assert sorted(model.weights.tolist()) == pytest.approx([0.2, 0.8], abs=0.02)
    # components are interleaved, not grouped as sklearn's sample() returns them
    big = draw.norm(dim=-1).mean(-1) > 15
    assert 0.1 < float(big[:20000].float().mean()) < 0.3 and 0.1 < float(big[20000:].float().mean()) < 0.3
    with pytest.raises(ValueError, match="expected \\(N, joints, 2\\)"):
        fit_noise_model(residuals.reshape(-1, 32), 2, 0)


@pytest.fixture(scope="module")
def samples():
    mocap = generate_world(
        subjects=("S1", "S5"), actions=("Walk", "Box"), repetitions=1, duration_s=0.4, fps=50, seed=0
    )
    return build_samples(mocap, stride=2)


def test_world_poses_invert_each_camera(samples):
    world = world_poses(samples)
    by_frame = world.reshape(-1, 4, 17, 3)
    assert torch.allclose(by_frame, by_frame[:, :1].expand_as(by_frame), atol=1e-2)  # the four views agree


def test_virtual_samples_are_consistent_views(samples):
    prior = camera_prior(rig_cameras(("S1", "S5"), [0, 1, 2]))
    cfg = AugmentConfig(noise=False, flip=False)
    virtual, ranking = virtual_samples(samples, prior, cfg, factor=3, eps_mm=20.0, seed=0)
    assert 0.9 * 2 * len(samples) <= len(virtual) <= 2 * len(samples)
    assert (virtual.camera == -1).all() and (virtual.pose3d[..., 2] > 500).all()
    # each virtual pose is its source's world pose moved rigidly: all joint-to-joint distances kept
    src = {(int(q), int(f)): k for k, (q, f) in enumerate(zip(samples.sequence, samples.frame, strict=True))}
    source = torch.tensor([src[(int(q), int(f))] for q, f in zip(virtual.sequence, virtual.frame, strict=True)])
    assert torch.allclose(
        torch.cdist(virtual.pose3d, virtual.pose3d), torch.cdist(samples.pose3d, samples.pose3d)[source], atol=0.05
    )
    assert not torch.allclose(virtual.pose3d, samples.pose3d[source], atol=100)  # but seen from elsewhere
    assert torch.equal(ranking, ranking_matrix(virtual.pose3d[:, list(HOURGLASS_JOINTS), 2], 20.0))
    again, _ = virtual_samples(samples, prior, cfg, factor=3, eps_mm=20.0, seed=0)
    assert torch.equal(again.pose2d, virtual.pose2d)  # seeded
    with pytest.raises(ValueError, match="factor is 0"):
        virtual_samples(samples, prior, cfg, factor=0, eps_mm=20.0, seed=0)
    with pytest.raises(ValueError, match="no noise model"):
        virtual_samples(samples, prior, AugmentConfig(), factor=2, eps_mm=20.0, seed=0)
