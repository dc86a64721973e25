import subprocess
import sys

import pytest
import torch

from drpose3d.images.render import target_heatmaps
from drpose3d.images.transform import FLIP_16, rotate_scale_flip
from drpose3d.models.hourglass import StackedHourglass, decode
from drpose3d.models.prcnn import PRCNN, rank_probability, ranknet_loss
from drpose3d.models.resnet import ResNet
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, JOINT_NAMES


def _batch(n=32, r=32):
    g = torch.Generator().manual_seed(0)
    joints = 6 + torch.rand(n, 16, 2, generator=g) * (r - 12)
    depth = torch.rand(n, 16, generator=g) * 1000
    return torch.rand(n, 3, r, r, generator=g), joints, depth


def test_flip_swaps_left_right_in_pixels_heatmaps_and_ranking():
    torch.manual_seed(1)
    images, joints, depth = _batch()
    heat = target_heatmaps(joints, 32)
    heat_full = torch.nn.functional.interpolate(heat, size=(32, 32), mode="bilinear", align_corners=False)
    ranking = ranking_matrix(depth, 20.0)
    out, q, out_heat, out_rank = rotate_scale_flip(images, joints, heat_full, ranking, max_rotation_deg=0, scale=(1, 1))
    mirrored = torch.tensor([torch.allclose(out[i], images[i].flip(-1), atol=1e-5) for i in range(len(out))])
    kept = torch.tensor([torch.allclose(out[i], images[i], atol=1e-5) for i in range(len(out))])
    assert mirrored.any() and kept.any() and (mirrored ^ kept).all()
    perm = torch.tensor(FLIP_16)
    assert JOINT_NAMES[HOURGLASS_JOINTS[FLIP_16[HOURGLASS_JOINTS.index(13)]]] == "RWrist"
    assert torch.equal(out_rank[mirrored], ranking_matrix(depth[mirrored][:, perm], 20.0))
    assert torch.equal(out_rank[kept], ranking[kept])
    assert torch.allclose(q[mirrored][..., 0], 32 - joints[mirrored][:, perm, 0], atol=1e-4)
    assert torch.allclose(out_heat[mirrored], heat_full[mirrored][:, perm].flip(-1), atol=1e-5)


def test_rotation_and_scale_move_joints_with_the_pixels():
    torch.manual_seed(2)
    _, joints, _ = _batch(16, 64)
    heat = torch.nn.functional.interpolate(
        target_heatmaps(joints, 64), size=(64, 64), mode="bilinear", align_corners=False
    )
    images = heat[:, :3]
    _, q, out_heat, _ = rotate_scale_flip(images, joints, heat)
    inside = ((q > 4) & (q < 60)).all(-1)
    found = decode(out_heat)
    assert ((found - q).norm(dim=-1)[inside] < 1.5).float().mean() > 0.95


def test_prcnn_probabilities_are_antisymmetric_eq4():
    model = PRCNN(depth=18, heatmaps=True, width=8).eval()
    p = rank_probability(model(torch.rand(3, 19, 32, 32)))
    assert torch.allclose(p + p.transpose(1, 2), torch.ones_like(p), atol=1e-6)
    assert torch.allclose(torch.diagonal(p, dim1=1, dim2=2), torch.full((3, 16), 0.5))


def test_ranknet_loss_is_the_cross_entropy_eq5():
    logits = torch.randn(4, 16, 16)
    logits = logits - logits.transpose(1, 2)
    target = ranking_matrix(torch.randn(4, 16), 0.1)
    p = torch.sigmoid(logits)
    off = ~torch.eye(16, dtype=torch.bool)
    ce = -(target * p.log() + (1 - target) * (1 - p).log())[:, off].sum(-1).mean() / 240  # per-pair mean of Eq. (5)
    assert torch.allclose(ranknet_loss(logits, target), ce, atol=1e-4)


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_resnets_take_19_channels_and_grow_with_depth(depth):
    net = ResNet(depth, 19, 16, width=8)
    assert net(torch.rand(2, 19, 32, 32)).shape == (2, 16)
    blocks = sum(1 for m in net.modules() if type(m).__name__ in ("BasicBlock", "Bottleneck"))
    assert blocks == {18: 8, 34: 16, 50: 16}[depth]


def test_hourglass_stacks_and_decoding():
    model = StackedHourglass(stacks=2, channels=16, joints=16, depth=2)
    outs = model(torch.rand(2, 3, 32, 32))
    assert len(outs) == 2 and outs[-1].shape == (2, 16, 16, 16)
    points = torch.tensor([[[3.2, 7.7], [10.5, 2.5]]])
    found = decode(target_heatmaps(points * 2, 32))
    assert (found - points).abs().max() <= 0.5


def test_detection_and_heatmaps_by_batch_are_what_the_whole_float_set_gives():
    from drpose3d.images.render import from_crop
    from drpose3d.images.sets import ImageSet
    from drpose3d.models.hourglass import HourglassConfig
    from drpose3d.stages.pose2d import Pose2D, detect, heatmapper

    torch.manual_seed(0)
    model = StackedHourglass(stacks=1, channels=8, joints=16, depth=2).eval()
    g = torch.Generator().manual_seed(1)
    n = 300  # more than one batch of 256
    images = ImageSet(
        (torch.rand(n, 3, 16, 16, generator=g) * 255).to(torch.uint8),
        torch.tensor([[100.0, 50.0, 400.0]]).repeat(n, 1),
        torch.zeros(n, 16, 2),
    )
    joints = detect(model, images, torch.device("cpu"), batch_size=256)
    with torch.no_grad():
        full = model(images.images.float() / 255)[-1]
    assert torch.allclose(joints, from_crop(decode(full) * 2, images.boxes, 16))
    heat = heatmapper(Pose2D({}, HourglassConfig(1, 8, 2), model.state_dict(), [], 1), torch.device("cpu"))
    rows = torch.tensor([5, 299, 17])
    batch = heat(images, rows, images.pixels(rows, torch.device("cpu")))
    assert batch.dtype == torch.uint8 and batch.shape == (3, 16, 8, 8)
    # a batch of 3 against the whole set of 300: float rounding may move a quantisation step
    assert (batch.int() - (full[rows].clamp(0, 1) * 255).round().int()).abs().max() <= 1


def test_the_subsampled_projection_is_the_strided_1x1_convolution():
    """ResNet's stride-2 shortcut, written as subsampling then a 1x1 convolution (models/resnet.py)."""
    from torch import nn

    from drpose3d.models.resnet import _projection

    torch.manual_seed(0)
    proj = _projection(8, 16, 2).eval()
    strided = nn.Conv2d(8, 16, 1, 2, bias=False)
    strided.weight.data.copy_(proj[1].weight.data)
    x = torch.rand(5, 8, 15, 15)  # odd sizes: both keep pixels 0, 2, ..., 14
    # the same products summed in the same order by two kernels: float32 rounding only
    torch.testing.assert_close(proj[1](proj[0](x)), strided(x), rtol=1e-5, atol=1e-6)
    assert proj(x).shape == (5, 16, 8, 8)


_ODD_BATCH = """
import torch
from drpose3d.models.prcnn import PRCNN
from drpose3d.engine.train import place
for depth in (18, 34, 50):
    model = PRCNN(depth, True, width=8)
    place(model, torch.device("cpu"))  # channels-last, as the trainer places it
    for n in (3, 13):
        model(torch.rand(n, 19, 64, 64)).sum().backward()
"""


def test_channels_last_resnets_train_on_an_odd_batch_without_crashing_the_process():
    """An epoch's last batch is often odd: on AVX-512 CPUs a strided 1x1 convolution's backward pass
    corrupted the heap there and killed the notebook's kernel (a subprocess, so a crash fails the test)."""
    done = subprocess.run([sys.executable, "-c", _ODD_BATCH], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
