import numpy as np
import pytest
import torch

from drpose3d.errors import DataError
from drpose3d.formats.mocap import Mocap
from drpose3d.pose.camera import h36m_rig, project, world_to_camera
from drpose3d.worlds.generated import generate_world
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
    from drpose3d.formats.mocap import save_mocap
    from drpose3d.presets import get_preset
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
    sources.check_spec(sources.parse_spec("synthetic?train=S1,S5&test=S11"), paper)
    for bad, message in (
        ("synthetic?test=S99", r"unknown subject\(s\) \['S99'\]"),
        ("synthetic?train=S1&test=S1", "disjoint"),
        ("synthetic?train=S1,S5,S9&test=S9", r"\['S9'\] would be in both train and test"),
        ("synthetic?test=S9&train=S1,S5,S9", r"\['S9'\] would be in both train and test"),
        ("synthetic?train=S1,S5,S9", r"test takes its default \['S9', 'S11'\]"),
        ("synthetic?train=S1&train=S5", "train= is given twice"),
        ("synthetic?train=S1,S1&test=S9", "names a subject twice"),
        ("synthetic?&", "option '' is not train="),
        ("synthetic?", "nothing after '\\?'"),
        ("synthetic?train=S1,,S5", "is not train="),
        ("synthetic?seed=3", "option 'seed=3' is not train="),
        ("kinect", "data is 'kinect'"),
    ):
        with pytest.raises(DataError, match=message):
            sources.check_spec(sources.parse_spec(bad), paper)


def test_data_is_known_by_its_content_not_its_name_size_or_time(tmp_path):
    """Replacing a file by another of the same name, size and modification time changes the
    fingerprint in every cache key, and the world's digest that the results pages name."""
    import os

    from drpose3d.formats.mocap import save_mocap
    from drpose3d.presets import get_preset
    from drpose3d.worlds.spec import load_world, parse_spec, spec_fingerprint

    m = generate_world(subjects=("S1", "S5", "S9"), actions=("Walk",), repetitions=1, duration_s=0.6, fps=25)
    path = tmp_path / "w.npz"
    save_mocap(m, path)
    spec, tiny = parse_spec(f"mocap:{path}"), get_preset("tiny")
    before, world = spec_fingerprint(spec), load_world(spec, tiny)
    stat, size = path.stat(), path.stat().st_size
    m.positions[3, 5, 2] += 1.0  # one joint of one frame moved by a millimetre
    save_mocap(m, path)
    if path.stat().st_size == size:  # same size: the strongest case
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after, changed_world = spec_fingerprint(spec), load_world(spec, tiny)
    assert before != after and before[0][0] == after[0][0] == "w.npz"
    assert world.digest != changed_world.digest and len(world.digest) == 16
    assert load_world(spec, tiny).digest == changed_world.digest  # the same content, the same digest


def test_a_data_spec_is_parsed_once_into_absolute_paths_and_prints_back_to_itself(tmp_path):
    from drpose3d.worlds.spec import DataSpec, parse_spec

    spec = parse_spec("mocap:walks/w.npz?test=anna&train=ben,cleo", cwd=tmp_path)
    assert spec == DataSpec("mocap", tmp_path / "walks" / "w.npz", "", ("ben", "cleo"), ("anna",))
    assert parse_spec(str(spec)) == spec  # run.json's form reads back from any folder
    assert spec.label == "mocap:w.npz?train=ben,cleo&test=anna"  # no path on a results page
    assert parse_spec(f"h36m:{tmp_path}:cpn").keypoints == "cpn" and parse_spec("cmu").files()
    assert not parse_spec("synthetic").recorded and parse_spec("cmu").recorded
    for bad in ("mocap", "synthetic:x", "cmu:x", "h36m", "kinect:x"):
        with pytest.raises(DataError, match="expected synthetic"):
            parse_spec(bad)
