import torch

from drpose3d.images.render import clothing, render, to_crop
from drpose3d.pose.camera import Cameras, h36m_rig, project
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.samples import build_samples

RED, BLUE = torch.tensor([1.0, 0, 0]), torch.tensor([0, 0, 1.0])


def _pinhole(n: int) -> Cameras:
    return Cameras(
        rotation=torch.eye(3).expand(n, 3, 3),
        centre=torch.zeros(n, 3),
        focal=torch.full((n, 2), 1000.0),
        principal=torch.full((n, 2), 500.0),
        radial=torch.zeros(n, 3),
        tangential=torch.zeros(n, 2),
        resolution=torch.full((n, 2), 1000.0),
    )


def _crossing(forearm_z: float, shin_z: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A forearm (bone 12->13) and a shin (bone 2->3) crossing on the optical axis; every other
    joint parked off to the side."""
    pose = torch.tensor([-1500.0, -1500.0, 2500.0]).repeat(17, 1)
    pose[12], pose[13] = torch.tensor([-300.0, 0, forearm_z]), torch.tensor([300.0, 0, forearm_z])
    pose[2], pose[3] = torch.tensor([0, -300.0, shin_z]), torch.tensor([0, 300.0, shin_z])
    colours = torch.full((16, 3), 0.5)
    colours[12], colours[2] = RED, BLUE  # bone k ends at joint k + 1
    cams = _pinhole(1)
    return pose[None], project(pose[None], cams), colours[None]


def _centre_pixel(pose, pose2d, colours, resolution=64):
    image, box = render(pose, pose2d, _pinhole(1), colours, torch.tensor([0]), resolution)
    cx, cy = to_crop(torch.tensor([[[500.0, 500.0]]]), box, resolution)[0, 0].long().tolist()
    return image[0, :, cy, cx]


def test_nearer_limb_occludes_farther_one():
    near_forearm = _centre_pixel(*_crossing(2000.0, 3000.0))
    near_shin = _centre_pixel(*_crossing(3000.0, 2000.0))
    assert near_forearm[0] > 0.2 and near_forearm[2] == 0  # red forearm in front
    assert near_shin[2] > 0.2 and near_shin[0] == 0  # blue shin in front


def test_same_pose_same_image_and_backgrounds_vary_by_id():
    mocap = generate_world(subjects=("S9",), actions=("Wave",), repetitions=1, duration_s=0.2, fps=25)
    s = build_samples(mocap, stride=1)
    cams = h36m_rig("S9").to("cpu", torch.float32).index(s.camera)
    colours = clothing("S9").expand(len(s), -1, -1)
    a, box = render(s.pose3d, s.pose2d, cams, colours, torch.arange(len(s)), 48)
    b, _ = render(s.pose3d, s.pose2d, cams, colours, torch.arange(len(s)), 48)
    c, _ = render(s.pose3d, s.pose2d, cams, colours, torch.arange(len(s)) + 1000, 48)
    assert torch.equal(a, b)
    body = (a == c).all(1)  # pixels that do not depend on the background
    assert 0.05 < body.float().mean() < 0.6
    # the 2D labels (projected with lens distortion) land on the rendered body
    joints = to_crop(s.pose2d, box, 48).round().long().clamp(0, 47)
    on_body = body[torch.arange(len(s))[:, None], joints[..., 1], joints[..., 0]]
    assert on_body.float().mean() > 0.9


def test_clothing_is_per_subject_and_left_right_shaded():
    a, b = clothing("S1"), clothing("S5")
    assert not torch.equal(a, b)
    assert torch.allclose(a[11], 0.8 * a[14])  # left upper arm (bone 11->12) vs right (14->15)
