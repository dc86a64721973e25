import numpy as np
import pytest
import torch

from drpose3d.errors import DataError
from drpose3d.pose.camera import h36m_rig, project, world_to_camera
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.mocap import Mocap
from drpose3d.worlds.samples import build_samples, protocol_split


@pytest.fixture(scope="module")
def mocap():
    return generate_world(actions=("Walk", "Wave"), repetitions=1, duration_s=0.8, fps=25)


def test_sample_count_stride_and_cameras(mocap):
    s = build_samples(mocap, stride=4)
    assert len(s) == 4 * 7 * 2 * 5  # 4 cameras, 7 subjects, 2 clips, frames 0,4,...,16 of 20
    assert set(s.frame.tolist()) == {0, 4, 8, 12, 16}
    assert torch.equal(torch.bincount(s.camera), torch.full((4,), len(s) // 4))


def test_samples_match_the_rig_by_hand(mocap):
    s = build_samples(mocap, stride=1)
    k = 37
    subject = s.subject_names[int(s.subject[k])]
    rig = h36m_rig(subject)
    world = mocap.positions[torch.nonzero(mocap.sequence == s.sequence[k])[int(s.frame[k])]].double()
    cam = world_to_camera(world, rig.rotation[s.camera[k]], rig.centre[s.camera[k]])
    assert torch.allclose(s.pose3d[k].double(), cam[0], atol=0.05)
    assert torch.allclose(s.pose2d[k].double(), project(cam, rig.index(int(s.camera[k]))).squeeze(0), atol=0.05)


def test_protocol_splits(mocap):
    s = build_samples(mocap, stride=4)
    train, test = protocol_split(s, 1)
    assert {s.subject_names[i] for i in train.subject.tolist()} == {"S1", "S5", "S6", "S7", "S8"}
    assert {s.subject_names[i] for i in test.subject.tolist()} == {"S9", "S11"}
    train3, test3 = protocol_split(s, 3, test_camera=1)
    assert 1 not in train3.camera.tolist() and set(test3.camera.tolist()) == {1}
    with pytest.raises(DataError, match="protocol is 4"):
        protocol_split(s, 4)
    with pytest.raises(DataError, match="unknown subject"):
        protocol_split(s, 1, train_subjects=("S2",))


def test_recentre_brings_far_mocap_into_view(mocap):
    far = Mocap(
        mocap.positions + torch.tensor([20000.0, -15000.0, 0.0]), mocap.subject, mocap.action, mocap.sequence, mocap.fps
    )
    with pytest.raises(DataError, match="no frame is in view of all four cameras"):
        build_samples(far, stride=4)  # without placement nothing is in view: one line, not a crash
    s = build_samples(far, stride=4, recentre=True)
    assert ((s.pose2d >= 0) & (s.pose2d <= 1000)).all(-1).float().mean() > 0.99


def test_subject_split_chosen_in_the_data_spec(tmp_path):
    from drpose3d.presets import get_preset
    from drpose3d.worlds.mocap import save_mocap
    from drpose3d.worlds.spec import load_world

    m = generate_world(subjects=("S1", "S5", "S9"), actions=("Walk",), repetitions=1, duration_s=0.4, fps=25)
    m.subject = np.where(m.subject == "S1", "anna", np.where(m.subject == "S5", "ben", "cleo"))
    save_mocap(m, tmp_path / "m.npz")
    tiny = get_preset("tiny")
    default = load_world(f"mocap:{tmp_path / 'm.npz'}", tiny)
    assert default.train_subjects == ("anna",) and default.test_subjects == ("ben", "cleo")
    chosen = load_world(f"mocap:{tmp_path / 'm.npz'}?train=cleo,ben&test=anna", tiny)
    assert chosen.train_subjects == ("cleo", "ben") and chosen.test_subjects == ("anna",)
    assert chosen.label == "mocap:m.npz?train=cleo,ben&test=anna"
    for bad, message in (
        ("?train=dora", "unknown subject"),
        ("?train=anna&test=anna", "disjoint"),
        ("?split=x", "is not train="),
    ):
        with pytest.raises(DataError, match=message):
            load_world(f"mocap:{tmp_path / 'm.npz'}{bad}", tiny)


def test_spec_check_validates_the_synthetic_split_without_generating_the_world(monkeypatch):
    import drpose3d.worlds.spec as sources
    from drpose3d.presets import get_preset

    def generate(**_):
        raise AssertionError("check_spec generated the world")

    monkeypatch.setattr(sources, "generate_world", generate)
    paper = get_preset("paper")
    sources.check_spec("synthetic?train=S1,S5&test=S11", paper)
    for bad, message in (
        ("synthetic?test=S99", r"unknown subject\(s\) \['S99'\]"),
        ("synthetic?train=S1&test=S1", "disjoint"),
        ("kinect", "data is 'kinect'"),
    ):
        with pytest.raises(DataError, match=message):
            sources.check_spec(bad, paper)
