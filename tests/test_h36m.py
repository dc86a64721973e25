import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from conftest import write_videopose3d

from drpose3d.errors import DataError
from drpose3d.formats.h36m import load_h36m, read_npz_safely
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.presets import get_preset
from drpose3d.worlds.samples import build_samples
from drpose3d.worlds.spec import load_world, recorded_stride


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _npz_with_pickle(path, member, obj):
    raw = io.BytesIO()
    np.lib.format.write_array_header_1_0(raw, {"descr": "|O", "fortran_order": False, "shape": ()})
    raw.write(pickle.dumps(obj, protocol=4))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, raw.getvalue())
    return path


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    live_marker, marker = tmp_path / "ran_with_plain_pickle", tmp_path / "ran"
    live = _npz_with_pickle(tmp_path / "live.npz", "positions_3d.npy", _Payload(live_marker))
    np.load(live, allow_pickle=True)["positions_3d"]  # the payload is real: numpy's own loader runs it
    assert live_marker.exists()
    evil = _npz_with_pickle(tmp_path / "data_3d_h36m.npz", "positions_3d.npy", _Payload(marker))
    with pytest.raises(DataError, match="refused to load"):
        read_npz_safely(evil)
    assert not marker.exists()


def test_loader_reads_videopose3d_files(h36m_dir):
    mocap, views = load_h36m(h36m_dir)
    samples = build_samples(mocap, pose2d=views)
    assert samples.subject_names == ("S1", "S5", "S6", "S7", "S8", "S9", "S11")
    assert "Directions" in samples.action_names and "Walking" in samples.action_names
    s11 = samples.subject_names.index("S11")
    assert samples.select(samples.subject == s11).action_names  # S11 kept, but not its damaged Directions clip
    directions = samples.action_names.index("Directions")
    assert not ((samples.subject == s11) & (samples.action == directions)).any()
    assert len(samples) == 4 * len(mocap)
    assert 1400 < float(mocap.positions[:, 10, 2].median()) < 2000  # head height: metres became millimetres
    assert (samples.pose3d[..., 2] > 2000).all()


def test_world_spec_uses_protocol_split_and_stride(h36m_dir):
    world = load_world(f"h36m:{h36m_dir}", get_preset("tiny"))
    assert world.label == f"h36m:{h36m_dir.name}" and world.test_subjects == ("S9", "S11")
    assert (world.samples.frame % world.stride == 0).all()
    assert world.stride == recorded_stride(len(world.mocap.positions), get_preset("tiny"))


def test_recorded_motion_is_sampled_by_its_size_not_the_generated_worlds_stride():
    """The cpu preset's generated world keeps 134,400 / 20 = 6,720 frames: a file of as many frames
    or more keeps the preset's stride of 20; the 8,200 frames of the embedded CMU motion are kept
    whole; a file between keeps at least as many frames as the generated world."""
    cpu = get_preset("cpu")
    assert recorded_stride(1_500_000, cpu) == recorded_stride(134_400, cpu) == cpu.stride
    assert recorded_stride(8_200, cpu) == recorded_stride(100, cpu) == 1
    assert recorded_stride(40_000, cpu) == 5 and 40_000 // 5 >= 6_720


def _mutate(tmp_path, which, fn):
    d = write_videopose3d(tmp_path / "d", subjects=("S1", "S9"))
    name = "data_3d_h36m.npz" if which == 3 else "data_2d_h36m_gt.npz"
    data = read_npz_safely(d / name)
    fn(data)
    np.savez_compressed(d / name, **data)
    return d


BAD = {
    "3d_wrong_joints": (
        3,
        lambda d: d["positions_3d"]["S1"].update({"Walking 1": d["positions_3d"]["S1"]["Walking 1"][:, :17]}),
        "expected (frames, 32, 3)",
    ),
    "3d_millimetres": (
        3,
        lambda d: [a.__imul__(1000) for v in d["positions_3d"].values() for a in v.values()],
        "millimetres stored?",
    ),
    "3d_nan": (3, lambda d: d["positions_3d"]["S9"]["Walking 1"].__setitem__((0, 0, 0), np.nan), "non-finite"),
    "3d_unknown_subject": (
        3,
        lambda d: d["positions_3d"].update({"S2": d["positions_3d"]["S1"]}),
        "unknown subject 'S2'",
    ),
    "3d_missing_key": (3, lambda d: d.update(positions=d.pop("positions_3d")), "missing key 'positions_3d'"),
    "2d_missing_subject": (2, lambda d: d["positions_2d"].pop("S9"), "subject 'S9'"),
    "2d_missing_action": (2, lambda d: d["positions_2d"]["S1"].pop("Walking 1"), "S1/Walking 1 is missing"),
    "2d_three_cameras": (2, lambda d: d["positions_2d"]["S1"]["Walking 1"].pop(), "has 3 cameras"),
    "2d_short": (
        2,
        lambda d: d["positions_2d"]["S1"].update({"Walking 1": [a[:10] for a in d["positions_2d"]["S1"]["Walking 1"]]}),
        "fewer than",
    ),
    "2d_wrong_joints": (
        2,
        lambda d: d["positions_2d"]["S1"].update(
            {"Walking 1": [a[:, :16] for a in d["positions_2d"]["S1"]["Walking 1"]]}
        ),
        "expected (frames, 17, 2)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_videopose3d_files(tmp_path, case):
    which, fn, expected = BAD[case]
    d = _mutate(tmp_path, which, fn)
    with pytest.raises(DataError) as err:
        load_h36m(d)
    assert expected in str(err.value) and str(d) in str(err.value)


def test_missing_detections_file_names_it(h36m_dir):
    with pytest.raises(DataError, match="data_2d_h36m_cpn_ft_h36m_dbb.npz: no such file"):
        load_world(f"h36m:{h36m_dir}:cpn_ft_h36m_dbb", get_preset("tiny"))


def test_a_detections_file_is_used_as_detected_2d(h36m_dir, tmp_path):
    import shutil
    from types import SimpleNamespace

    from drpose3d.engine.cache import Cache
    from drpose3d.stages.pipeline import Context
    from drpose3d.worlds.samples import projected_2d

    d = tmp_path / "h36m"
    shutil.copytree(h36m_dir, d)
    data = read_npz_safely(d / "data_2d_h36m_gt.npz")
    for actions in data["positions_2d"].values():
        for views in actions.values():
            for view in views:
                view += np.float32([3.0, -2.0])  # a detector's constant bias
    np.savez_compressed(d / "data_2d_h36m_det.npz", **data)
    gt, det = (load_world(f"h36m:{d}{k}", get_preset("tiny")) for k in ("", ":det"))
    assert not gt.detected_2d and det.detected_2d
    assert torch.allclose(projected_2d(gt.samples), gt.samples.pose2d, atol=1e-3)
    assert torch.allclose(det.samples.pose2d - projected_2d(det.samples), torch.tensor([3.0, -2.0]), atol=1e-3)
    hourglass = torch.zeros(len(det.samples), 16, 2)
    for world, expected in ((det, det.samples.pose2d[:, list(HOURGLASS_JOINTS)]), (gt, hourglass)):
        ctx = Context(SimpleNamespace(), 0, world, world.samples, world.samples, Cache(tmp_path / "cache"))
        ctx.pose2d = lambda protocol=1: {"train": SimpleNamespace(joints=hourglass)}  # the hourglass, stubbed
        assert torch.equal(ctx.detected_2d("train"), expected)
