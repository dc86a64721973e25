"""Worlds in front of the rig: any captured trajectory is placed where every camera sees it, the
generated world is seen where it stands, and the CMU world is split by performer."""

import pytest
import torch

from drpose3d.errors import DataError
from drpose3d.formats.mocap import Mocap
from drpose3d.pose.camera import world_to_camera
from drpose3d.presets import get_preset
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.samples import build_samples, place_in_rig, rig_for
from drpose3d.worlds.spec import load_world


def _walker() -> Mocap:
    return generate_world(subjects=("S1", "S9", "S11"), actions=("Walk",), repetitions=1, duration_s=4.0, fps=50)


@pytest.mark.parametrize("name,shift", [
    ("a 20 m straight walk", lambda t: torch.stack((t * 5000, torch.zeros_like(t), torch.zeros_like(t)), -1)),
    ("2 m above the floor", lambda t: torch.tensor([0.0, 0.0, 2000.0]).expand(len(t), 3)),
    ("starts 10 m from the origin", lambda t: torch.tensor([10000.0, 3000.0, 0.0]) + torch.stack(
        (torch.zeros_like(t), t * 1000, torch.zeros_like(t)), -1)),
])  # fmt: skip
def test_any_trajectory_is_placed_in_front_of_every_camera(name, shift):
    m = _walker()
    t = torch.arange(len(m), dtype=torch.float32) / m.fps
    moved = Mocap(m.positions + shift(t)[:, None, :], m.subject, m.action, m.sequence, m.fps)
    samples = build_samples(moved, stride=2, recentre=True)
    assert samples.dropped_frames == 0, name
    assert (samples.pose3d[..., 2] > 500).all(), name
    assert ((samples.pose2d[:, 0] >= 0) & (samples.pose2d[:, 0] <= 1000)).all(), name
    # the body's own motion is kept: root-relative poses and within-clip height changes
    placed = place_in_rig(moved.positions, moved.sequence, torch.zeros(len(m), 2), 50)
    rel = lambda p: p - p[:, :1]  # noqa: E731
    assert torch.allclose(rel(placed), rel(moved.positions), atol=1e-2)
    clip = moved.sequence == 0
    assert torch.allclose(
        placed[clip, 0, 2] - placed[clip, 0, 2][0],
        moved.positions[clip, 0, 2] - moved.positions[clip, 0, 2][0],
        atol=1e-2,
    )


def test_the_generated_world_is_seen_where_it_stands():
    """Without placement (the generated world, Human3.6M files) samples are the mocap through
    the rig, frame for frame, as before placement existed; nothing is dropped."""
    m = _walker()
    samples = build_samples(m, stride=5)
    assert samples.dropped_frames == 0 and len(samples) == 4 * len(range(0, 200, 5)) * 3
    first = samples.select(samples.subject == samples.subject_names.index("S1"))
    rig = rig_for("S1")
    expected = world_to_camera(m.positions[:200:5][:, None], rig.rotation.float(), rig.centre.float())
    assert torch.allclose(first.pose3d.reshape(-1, 4, 17, 3), expected, atol=1e-3)


def test_the_cmu_world_is_split_by_performer():
    tiny = get_preset("tiny")
    world = load_world("cmu", tiny)
    assert world.label == "cmu" and world.test_subjects == ("131", "lambada", "zombie")
    assert world.train_subjects == ("02", "03", "backflip", "charleston", "pirouette")
    assert world.samples.dropped_frames == 0
    chosen = load_world("cmu?train=02,backflip&test=03", tiny)
    assert chosen.test_subjects == ("03",) and chosen.train_subjects == ("02", "backflip")
    with pytest.raises(DataError, match="would be in both train and test"):
        load_world("cmu?test=03", tiny)  # the default train side holds 03: refused, not rewritten
    with pytest.raises(DataError, match="unknown subject"):
        load_world("cmu?test=S9", tiny)
