import numpy as np
import pytest
import torch

from drpose3d.errors import DataError
from drpose3d.formats.mocap import load_mocap, save_mocap
from drpose3d.worlds.generated import generate_world


@pytest.fixture(scope="module")
def small():
    return generate_world(subjects=("S1", "S9"), actions=("Walk", "Squat"), repetitions=1, duration_s=0.4, fps=25)


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def _valid(small):
    return dict(
        positions=small.positions.numpy(),
        subject=small.subject,
        action=small.action,
        sequence=small.sequence.numpy(),
        fps=np.float64(25),
    )


def test_round_trip(tmp_path, small):
    save_mocap(small, tmp_path / "w.npz")
    back = load_mocap(tmp_path / "w.npz")
    assert torch.equal(back.positions, small.positions) and np.array_equal(back.subject, small.subject)
    assert torch.equal(back.sequence, small.sequence) and back.fps == small.fps


def test_sequence_is_optional_and_integer_subjects_and_extra_keys_are_fine(tmp_path, small):
    arrays = _valid(small)
    del arrays["sequence"]
    arrays["subject"] = np.where(small.subject == "S1", 1, 9)
    arrays["comment"] = np.array("ignored")
    m = load_mocap(_write(tmp_path / "x.npz", **arrays))
    assert set(m.subject.tolist()) == {"1", "9"} and int(m.sequence.max()) == 3


BAD = {
    "missing_key": (lambda a: a.pop("action"), "missing key 'action'"),
    "wrong_rank": (lambda a: a.update(positions=a["positions"][:, :, 0]), "expected (N>0, 17, 3)"),
    "wrong_joints": (lambda a: a.update(positions=a["positions"][:, :16]), "expected (N>0, 17, 3)"),
    "int_positions": (lambda a: a.update(positions=a["positions"].astype(np.int32)), "expected a float array"),
    "nan": (lambda a: a["positions"].__setitem__((3, 2, 1), np.nan), "non-finite"),
    "inf": (lambda a: a["positions"].__setitem__((0, 0, 0), np.inf), "non-finite"),
    "metres": (lambda a: a.update(positions=a["positions"] / 1000), "metres?"),
    "label_length": (lambda a: a.update(subject=a["subject"][:-1]), "'subject' has shape"),
    "empty_action": (lambda a: a["action"].__setitem__(0, " "), "empty names"),
    "float_action": (lambda a: a.update(action=np.zeros(len(a["action"]))), "'action' has dtype"),
    "bad_sequence": (lambda a: a.update(sequence=a["sequence"].astype(np.float32)), "'sequence'"),
    "negative_fps": (lambda a: a.update(fps=np.float64(-5)), "'fps'"),
    "vector_fps": (lambda a: a.update(fps=np.array([25.0, 50.0])), "'fps'"),
    "far_joint": (lambda a: a["positions"].__setitem__((3, 10, 2), -1e9), "frame 3, joint Head: z = -1e+09 mm"),
    "far_away": (lambda a: a.update(positions=a["positions"] + 1e9), "frame 0, joint Hip: x = 1e+09 mm"),
    "stretched_bone": (
        lambda a: a["positions"].__setitem__((5, 13, 0), a["positions"][5, 13, 0] + 900),
        "frame 5, bone LElbow-LWrist of subject S1",
    ),  # fmt: skip
    "all_zero": (lambda a: a.update(positions=np.zeros_like(a["positions"])), "median bone length is 0, expected"),
    "frozen": (
        lambda a: a.update(positions=np.repeat(a["positions"][:1], len(a["positions"]), 0)),
        "subject S1 has 1 distinct pose(s) in 20 frames",
    ),
    "mostly_repeats": (  # each pose shown three times: two thirds of the frames repeat the one before
        lambda a: a.update(positions=np.repeat(a["positions"][::3], 3, 0)[: len(a["positions"])]),
        "% repeating the frame before",
    ),
    "no_frames": (
        lambda a: a.update(
            positions=a["positions"][:0], subject=a["subject"][:0], action=a["action"][:0], sequence=a["sequence"][:0]
        ),
        "expected (N>0, 17, 3)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_file_names_file_and_problem(tmp_path, small, case):
    arrays = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in _valid(small).items()}
    arrays["subject"] = arrays["subject"].astype(object).astype(str)
    arrays["action"] = np.array(arrays["action"], dtype="<U20")
    mutate, expected = BAD[case]
    mutate(arrays)
    path = _write(tmp_path / f"{case}.npz", **arrays)
    with pytest.raises(DataError) as err:
        load_mocap(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_missing_not_zip_truncated_and_pickled(tmp_path, small):
    with pytest.raises(DataError, match="no such file"):
        load_mocap(tmp_path / "absent.npz")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        load_mocap(tmp_path / "folder.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataError, match="not an .npz"):
        load_mocap(tmp_path / "text.npz")
    save_mocap(small, tmp_path / "full.npz")
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2] + data[-22:])  # keep the end record, lose members
    with pytest.raises(DataError):
        load_mocap(tmp_path / "cut.npz")
    arrays = _valid(small)
    arrays["action"] = np.array(list(small.action), dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(DataError, match="pickled"):
        load_mocap(tmp_path / "pickled.npz")
