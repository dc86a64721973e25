import math

import pytest
import torch

from drpose3d.pose.camera import (
    Cameras,
    camera_to_world,
    capture_centre,
    h36m_rig,
    project,
    quaternion_to_matrix,
    world_to_camera,
)


def _camera(**kw) -> Cameras:
    base = dict(
        rotation=torch.eye(3)[None],
        centre=torch.zeros(1, 3),
        focal=torch.tensor([[1000.0, 900.0]]),
        principal=torch.tensor([[500.0, 400.0]]),
        radial=torch.zeros(1, 3),
        tangential=torch.zeros(1, 2),
        resolution=torch.tensor([[1000.0, 1000.0]]),
    )
    return Cameras(**{**base, **kw})


def test_quaternion_about_z_by_90_degrees():
    q = torch.tensor([math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)])
    expected = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    assert torch.allclose(quaternion_to_matrix(q), expected, atol=1e-6)


def test_pinhole_projection_matches_hand_computation():
    point = torch.tensor([[[100.0, -50.0, 2000.0]]])
    px = project(point, _camera())
    assert torch.allclose(px, torch.tensor([[[1000 * 0.05 + 500, 900 * -0.025 + 400]]]))


def _by_hand(x: float, y: float, k: tuple, p: tuple) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both lens formulas written out from their publications, in plain floats: Human3.6M's
    (x' = x (radial + p1 y + p2 x) + p2 r^2, y' = y (radial + p1 y + p2 x) + p1 r^2) and OpenCV's."""
    r2 = x * x + y * y
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tan = p[0] * y + p[1] * x
    h36m = (x * (radial + tan) + p[1] * r2, y * (radial + tan) + p[0] * r2)
    opencv = (
        x * radial + 2 * p[0] * x * y + p[1] * (r2 + 2 * x * x),
        y * radial + p[0] * (r2 + 2 * y * y) + 2 * p[1] * x * y,
    )
    return h36m, opencv


def test_both_lens_formulas_match_their_published_forms_by_hand():
    k, p = (0.1, 0.01, 0.001), (0.002, -0.003)
    x, y = 0.2, -0.1
    h36m, opencv = _by_hand(x, y, k, p)
    cam = _camera(radial=torch.tensor([k]), tangential=torch.tensor([p]))
    point = torch.tensor([[[x * 3000, y * 3000, 3000.0]]])
    for model, (xd, yd) in (("h36m", h36m), ("opencv", opencv)):
        px = project(point, cam, model)
        assert torch.allclose(px, torch.tensor([[[1000 * xd + 500, 900 * yd + 400]]]), atol=1e-4), model
    assert torch.equal(project(point, cam), project(point, cam, "h36m"))  # Human3.6M's is the default
    with pytest.raises(ValueError, match="lens model"):
        project(point, cam, "fisheye")


def test_the_h36m_calibration_projects_by_its_own_formula():
    """On Human3.6M's published calibration (camera 54138969 of S9) the default projection is the
    dataset's formula, and it differs from OpenCV's by a fraction of a pixel as reported."""
    rig = h36m_rig("S9")
    cam = rig.index([0])
    g = torch.Generator().manual_seed(0)
    xy = (torch.rand(2000, 2, generator=g, dtype=torch.float64) - 0.5) * torch.tensor([0.9, 0.9], dtype=torch.float64)
    points = torch.cat((xy * 4000, torch.full((2000, 1), 4000.0, dtype=torch.float64)), -1)[None]
    f, c = cam.focal[0].tolist(), cam.principal[0].tolist()
    k, p = cam.radial[0].tolist(), cam.tangential[0].tolist()
    expected = torch.tensor(
        [[f[0] * h[0] + c[0], f[1] * h[1] + c[1]] for h in (_by_hand(u, v, k, p)[0] for u, v in xy.tolist())],
        dtype=torch.float64,
    )
    assert torch.allclose(project(points, cam)[0], expected, atol=1e-6)
    gap = (project(points, cam) - project(points, cam, "opencv")).norm(dim=-1)
    assert 0.01 < float(gap.mean()) < 0.5 and float(gap.max()) < 3.0


def test_world_camera_round_trip_and_depth_positive_in_front():
    rig = h36m_rig("S9")
    pts = torch.randn(4, 17, 3, dtype=torch.float64) * 300 + torch.tensor([0, 300, 900.0], dtype=torch.float64)
    cam = world_to_camera(pts, rig.rotation, rig.centre)
    assert (cam[..., 2] > 3000).all()
    assert torch.allclose(camera_to_world(cam, rig.rotation, rig.centre), pts)


def test_capture_centre_recovers_known_point_eq7():
    target = torch.tensor([120.0, -40.0, 900.0], dtype=torch.float64)
    centres = torch.tensor(
        [[3000, 0, 1500], [0, 3500, 1600], [-2500, -2500, 1400], [100, -4000, 1550.0]], dtype=torch.float64
    )
    axes = target - centres
    assert torch.allclose(capture_centre(centres, axes), target, atol=1e-6)


def test_unknown_subject_names_the_known_ones():
    try:
        h36m_rig("S2")
    except KeyError as err:
        assert "S11" in str(err)
    else:
        raise AssertionError("S2 has no calibration")


def test_per_sample_projection_in_blocks_equals_each_camera_alone():
    from drpose3d.pose.blocking import CPU_BLOCK_ROWS

    g = torch.Generator().manual_seed(0)
    rig = h36m_rig("S9").to("cpu", torch.float32)
    n = 2 * CPU_BLOCK_ROWS + 3  # crosses two block boundaries
    pick = torch.randint(4, (n,), generator=g)
    points = torch.randn(n, 17, 3, generator=g) * 300 + torch.tensor([0.0, 0.0, 4500.0])
    blocked = project(points, rig.index(pick))
    for cam in range(4):  # one broadcast camera at a time: the unblocked path
        rows = pick == cam
        assert torch.allclose(blocked[rows], project(points[rows][:, None], rig.index([cam]))[:, 0], atol=1e-3)
