"""BVH and ASF/AMC import: forward kinematics on tiny files the tests write, one-line errors for
malformed files, the real CMU captures and the embedded world they make (where a world is placed in
front of the cameras: test_placement.py)."""

import json
import math
from pathlib import Path

import pytest
import torch
from import_memory import CHANNELS, hierarchy

from drpose3d.command.cli import main
from drpose3d.formats.asfamc import read_amc, read_asf
from drpose3d.formats.bvh import read_bvh
from drpose3d.formats.importer import MAPS, import_motion, resample, split_glitches
from drpose3d.formats.mocap import Mocap, load_mocap
from drpose3d.worlds.spec import CMU_FILE


def write_bvh(
    path: Path, frames: int = 40, frame_time: float = 1 / 30, names: dict | None = None, walk_cm_per_frame: float = 2.0
) -> Path:
    """The benchmark's rig (renamed by `names`) with a Head end site, walking along +z."""
    lines = [*hierarchy(names), "MOTION", f"Frames: {frames}", f"Frame Time: {frame_time}"]
    for f in range(frames):
        values = [0.0] * CHANNELS
        values[0:3] = [0.0, 95.0, walk_cm_per_frame * f]
        values[6 + 3 * 2 + 2] = 20 * math.sin(f / 5)  # LeftKnee Xrotation swings
        lines.append(" ".join(f"{v:.4f}" for v in values))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_asf_amc(folder: Path, frames: int = 130) -> tuple[Path, Path]:
    """A two-bone ASF (lengths in inches: `length 1`) and an AMC bending its second bone."""
    folder.mkdir(parents=True, exist_ok=True)
    asf = folder / "tiny.asf"
    asf.write_text(
        ":version 1.10\n:name tiny\n:units\n  mass 1.0\n  length 1.0\n  angle deg\n"
        ":root\n  order TX TY TZ RX RY RZ\n  axis XYZ\n  position 0 0 0\n  orientation 0 0 0\n"
        ":bonedata\n"
        "  begin\n    id 1\n    name upper\n    direction 0 1 0\n    length 10\n    axis 0 0 0 XYZ\n  end\n"
        "  begin\n    id 2\n    name lower\n    direction 1 0 0\n    length 5\n    axis 0 0 90 XYZ\n"
        "    dof rx\n    limits (-180 180)\n  end\n"
        ":hierarchy\n  begin\n    root upper\n    upper lower\n  end\n"
    )
    amc = folder / "tiny_01.amc"
    body = [":FULLY-SPECIFIED", ":DEGREES"]
    for f in range(1, frames + 1):
        body += [str(f), "root 0 0 0 0 0 0", "lower 90"]
    amc.write_text("\n".join(body) + "\n")
    return asf, amc


def test_bvh_forward_kinematics_follows_the_channel_order(tmp_path):
    path = tmp_path / "chain.bvh"
    path.write_text(
        "HIERARCHY\nROOT a\n{\n OFFSET 0 0 0\n CHANNELS 3 Xposition Yposition Zposition\n"
        " JOINT b\n {\n  OFFSET 0 0 0\n  CHANNELS 2 Zrotation Xrotation\n"
        "  JOINT c\n  {\n   OFFSET 1 0 0\n   CHANNELS 3 Xposition Yrotation Xrotation\n"
        "   End Site\n   {\n    OFFSET 0 1 0\n   }\n  }\n }\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.5\n"
        "1 2 3 90 0 0 0 0\n"
        "0 0 0 90 90 2 0 0\n"
    )
    cap = read_bvh(path)
    assert cap.names == ["a", "b", "c", "c.End"] and cap.fps == 2.0
    pos = cap.pose(0, len(cap))[1]
    # frame 1: Rz(90) takes c's offset (1, 0, 0) to (0, 1, 0), translated by the root
    assert torch.allclose(pos[0, 2], torch.tensor([1.0, 3.0, 3.0], dtype=torch.float64), atol=1e-9)
    assert torch.allclose(
        pos[0, 3], torch.tensor([0.0, 3.0, 3.0], dtype=torch.float64), atol=1e-9
    )  # (0,1,0) -> (-1,0,0)
    # frame 2: R = Rz(90) Rx(90) (listed first = outermost); c's position channel adds to its offset
    assert torch.allclose(pos[1, 2], torch.tensor([0.0, 3.0, 0.0], dtype=torch.float64), atol=1e-9)
    assert torch.allclose(pos[1, 3], torch.tensor([0.0, 3.0, 1.0], dtype=torch.float64), atol=1e-9)


def test_asf_axis_and_dof_rotate_a_bone_in_its_own_frame(tmp_path):
    asf, amc = write_asf_amc(tmp_path / "tiny")
    skeleton = read_asf(asf)
    assert [b.name for b in skeleton.bones] == ["root", "upper", "lower"] and skeleton.unit_mm == 25.4
    cap = read_amc(amc, skeleton)
    # upper ends at (0, 10, 0); lower points along +x; its axis Rz(90) makes its local x the world
    # y axis, so rx = 90 turns it about world y: +x -> -z
    assert torch.allclose(
        cap.pose(0, len(cap))[1][0, 1], torch.tensor([0.0, 10.0, 0.0], dtype=torch.float64), atol=1e-9
    )
    assert torch.allclose(
        cap.pose(0, len(cap))[1][0, 2], torch.tensor([0.0, 10.0, -5.0], dtype=torch.float64), atol=1e-9
    )


def test_a_users_rig_imports_with_a_joint_map(tmp_path):
    renamed = {"Hips": "pelvis", "LeftKnee": "knee_l", "Head": "skull"}
    clip = write_bvh(tmp_path / "mine" / "walk.bvh", names=renamed)
    assert main(["data", "import", str(clip), "--out", str(tmp_path / "x.npz")]) == 2  # no shipped map fits
    mapping = {k: (renamed.get(v, v) if isinstance(v, str) else v) for k, v in MAPS["cmu-bvh"].items()}
    mapping["Spine"] = {"mid": ["pelvis", "lowerneck"]}
    mapping["Neck/Nose"] = {"nose": {"base": "skull", "top": "skull.End", "rotation": "skull"}}
    mapping["Head"] = "skull.End"
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    out = tmp_path / "mine.npz"
    assert main(["data", "import", str(clip), "--out", str(out), "--joints", str(tmp_path / "map.json")]) == 0
    m = load_mocap(out)
    assert len(m) == 40 and m.subjects == ["mine"] and m.source.tolist() == ["walk.bvh"] * 40
    # centimetres found from the femur (43 cm), z up: the pelvis stands 95 cm high
    assert m.positions[0, 0, 2].item() == pytest.approx(950.0, abs=1e-3)
    assert (m.positions[:, 5] - m.positions[:, 4]).norm(dim=-1).mean().item() == pytest.approx(430.0, abs=1e-3)


def _bvh_text(tmp_path: Path) -> str:
    return write_bvh(tmp_path / "base.bvh").read_text()


def _malformed(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each case: a file and the words its one-line error must contain."""
    good = _bvh_text(tmp_path)
    lines = good.splitlines()
    motion = lines.index("MOTION")
    cases = {}

    def bvh(name: str, text: str | bytes, message: str) -> None:
        path = tmp_path / "bad" / name / f"{name}.bvh"
        path.parent.mkdir(parents=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        cases[name] = (path, message)

    bvh("truncated", "\n".join(lines[:-5]) + "\n", "MOTION truncated: Frames says 40, found 35")
    bvh("too_many_frames", good + lines[-1] + "\n", "longer than declared")
    bvh("channel_count", "\n".join(lines[:-1] + [lines[-1] + " 0.5"]) + "\n", "expected 48 (one per channel)")
    bvh(
        "unknown_channel",
        good.replace("Zrotation Yrotation Xrotation", "Zrotation Yrotation Wrotation", 1),
        "unknown channel 'Wrotation'",
    )
    bvh("no_root", good.replace("ROOT Hips", "JOINT Hips"), "expected ROOT first")
    bvh("no_hierarchy", good.replace("HIERARCHY\n", ""), "before HIERARCHY")
    bvh("not_a_number", "\n".join(lines[:-1] + [lines[-1].replace("0.0000", "abc", 1)]) + "\n", "found 'abc'")
    bvh("empty", "", "empty file")
    bvh("garbage", bytes(range(256)) * 8, "binary data")
    bvh("short_clip", write_bvh(tmp_path / "short.bvh", frames=20).read_text(), "shorter than 1 s")
    bvh(
        "frames_header",
        "\n".join(lines[: motion + 1] + ["Frames: x"] + lines[motion + 2 :]) + "\n",
        "expected a number (the frame count)",
    )
    renamed = write_bvh(tmp_path / "renamed.bvh", names={"Hips": "pelvis"}).read_text()
    bvh("unmappable", renamed, "match no shipped map")
    asf, amc = write_asf_amc(tmp_path / "bad" / "amc_bone")
    amc.write_text(amc.read_text().replace("lower 90", "elbow 90", 1))
    cases["amc_bone"] = (amc, "bone 'elbow' is not in the skeleton tiny.asf")
    asf, amc = write_asf_amc(tmp_path / "bad" / "dof_count")
    amc.write_text(amc.read_text().replace("lower 90", "lower 90 10", 1))
    cases["dof_count"] = (amc, "bone 'lower' has 2 values, its dof needs 1")
    # issue 33: each a CMU-like file with one change that used to escape as a Python exception
    frame_time = next(line for line in lines if line.startswith("Frame Time:"))
    for name, value, message in (
        ("frame_time_nan", "nan", "found 'nan', expected a finite number (the frame time"),
        ("frame_time_inf", "inf", "found 'inf', expected a finite number (the frame time"),
        ("frame_time_zero", "0", "Frame Time 0 must be > 0"),
        ("frame_time_tiny", "1e-300", "Frame Time 1e-300 is below"),
    ):
        bvh(name, good.replace(frame_time, f"Frame Time: {value}"), message)
    bvh("channel_inf", "\n".join(lines[:-1] + [lines[-1].replace("0.0000", "inf", 1)]) + "\n", "found 'inf'")
    bvh("offset_inf", good.replace("OFFSET 9.0 -5.0 0.0", "OFFSET 9.0 -5.0 inf", 1), "found 'inf'")
    bvh("offset_huge", good.replace("OFFSET 9.0 -5.0 0.0", "OFFSET 9.0 -5.0 1e308", 1), "out of range")
    bvh("duplicate_joint", good.replace("JOINT RightKnee", "JOINT LeftKnee", 1), "joint name 'LeftKnee' twice")
    bvh("no_offset", good.replace("OFFSET 9.0 -5.0 0.0", "", 1), "ends without an OFFSET")  # was a 0 mm bone

    def asf_edit(name: str, old: str, new: str, message: str) -> None:
        """The tiny skeleton with `old` replaced by `new`; its folder is imported, the ASF is at fault."""
        asf, _ = write_asf_amc(tmp_path / "bad" / name)
        asf.write_text(asf.read_text().replace(old, new, 1))
        cases[name] = (asf.parent, message)

    asf_edit("bone_nan", "length 10", "length nan", "tiny.asf:17: found 'nan'")
    # found by mutating the CMU files: a bone block without its direction made a bone of 0 mm, which
    # only the mocap loader refused, naming the hidden file the output was staged in
    asf_edit("no_direction", "    direction 0 1 0\n", "", "tiny.asf:18: bone 'upper' has no direction")
    asf_edit("negative_length", "length 10", "length -10", "bone 'upper' has length -10, expected 0 or more")
    asf_edit("no_length", "    length 10\n", "", "bone 'upper' has no length")
    asf_edit("axis_order", "axis 0 0 90 XYZ", "axis 0 0 90 :root", "found axis order ':root', expected X, Y and Z once")
    asf_edit("loop", "    upper lower\n", "    upper lower\n    lower upper\n", "attaches bone 'upper' twice")
    return cases


def test_malformed_files_get_one_line_errors_and_no_output(tmp_path, capsys):
    cases = _malformed(tmp_path)
    assert len(cases) >= 12
    for name, (path, message) in cases.items():
        out = tmp_path / f"{name}.npz"
        assert main(["data", "import", str(path), "--out", str(out)]) == 2, name
        err = capsys.readouterr().err.strip()
        assert message in err and str(path) in err and err.count("\n") == 0, (name, err)
        assert not out.exists() and not list(tmp_path.glob(f".{name}.npz.*")), name
    # where a line is at fault the message names it: file:line
    path, _ = cases["channel_count"]
    assert main(["data", "import", str(path), "--out", str(tmp_path / "x.npz")]) == 2
    assert f"{path}:{len(path.read_text().splitlines())}:" in capsys.readouterr().err


def test_a_bare_file_name_imports_under_its_folder_and_a_refused_output_is_named_as_typed(
    tmp_path, monkeypatch, capsys
):
    """`drpose3d data import clip.bvh` typed in the clip's folder: the performer is that folder (its
    parent was '.', an empty name the loader refused, in a message naming the hidden staging file)."""
    write_bvh(tmp_path / "walker" / "clip.bvh")
    monkeypatch.chdir(tmp_path / "walker")
    assert main(["data", "import", "clip.bvh", "--out", "out.npz"]) == 0
    assert load_mocap(tmp_path / "walker" / "out.npz").subjects == ["walker"]
    write_bvh(tmp_path / "walker" / " .bvh")  # a blank clip name, which the mocap loader refuses
    assert main(["data", "import", " .bvh", "--out", "blank.npz"]) == 2
    err = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "blank.npz (not written): 'action' has empty names" in err and ".tmp" not in err, err
    assert not list((tmp_path / "walker").glob("*blank*"))


def test_a_map_naming_a_missing_joint_is_refused(tmp_path, capsys):
    clip = write_bvh(tmp_path / "walk.bvh")
    mapping = dict(MAPS["cmu-bvh"], RWrist="RightPinky")
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    assert (
        main(["data", "import", str(clip), "--out", str(tmp_path / "x.npz"), "--joints", str(tmp_path / "map.json")])
        == 2
    )
    assert "the joint map names 'RightPinky', which this rig does not have" in capsys.readouterr().err


def test_resampling_and_glitch_splits():
    t = torch.arange(121, dtype=torch.float64) / 120
    line = (t[:, None, None] * torch.tensor([1000.0, 0, 0], dtype=torch.float64)).expand(-1, 17, 3).clone()
    down = resample(line, 120, 30)
    assert len(down) == 31 and torch.allclose(down[:, 0, 0], torch.arange(31.0) / 30 * 1000)  # float32 out
    glitched = line.clone()
    glitched[60, 13] += 500.0  # a wrist marker jumps half a metre for one frame
    assert [(s.start, s.stop) for s in split_glitches(glitched, 120)] == [(0, 60), (60, 61), (61, 121)]
    fast = torch.cumsum(torch.full((121, 17, 3), 100.0, dtype=torch.float64), 0)  # 21 m/s, smooth: a flip
    assert len(split_glitches(fast, 120)) == 1


@pytest.fixture(scope="module")
def cmu(tmp_path_factory, cmu_raw) -> Mocap:
    out = tmp_path_factory.mktemp("cmu") / "cmu.npz"
    report = import_motion([cmu_raw], out)
    assert report.files == 23 and report.splits >= 1
    return load_mocap(out)


def test_the_cmu_captures_import_as_real_bodies(cmu):
    assert cmu.subjects == ["02", "03", "131", "backflip", "charleston", "lambada", "pirouette", "zombie"]
    assert len(cmu) >= 6000 and cmu.fps == 30.0
    limbs = [(1, 2), (2, 3), (4, 5), (5, 6), (11, 12), (12, 13), (14, 15), (15, 16)]
    for s in cmu.sequence.unique():
        clip = cmu.positions[cmu.sequence == s]
        for a, b in limbs:
            length = (clip[:, a] - clip[:, b]).norm(dim=-1)
            assert float(length.max() - length.min()) < 2.0  # rigid limbs
    femur = (cmu.positions[:, 5] - cmu.positions[:, 4]).norm(dim=-1).median()
    assert 330 <= float(femur) <= 500
    assert float((cmu.positions[:, 10, 2] > cmu.positions[:, 0, 2]).float().mean()) > 0.97


def test_the_left_hip_is_left_of_the_walking_direction(cmu):
    walk = cmu.positions[torch.from_numpy(cmu.action == "02_01")]
    direction = walk[-1, 0] - walk[0, 0]
    direction[2] = 0
    assert float(direction.norm()) > 2000  # a real walk across the room
    left = torch.linalg.cross(torch.tensor([0.0, 0.0, 1.0]), direction / direction.norm())
    assert bool((((walk[:, 4] - walk[:, 0]) @ left) > 0).all())
    assert bool((((walk[:, 1] - walk[:, 0]) @ left) < 0).all())


def test_the_embedded_cmu_world_is_the_import_of_the_shipped_files(cmu):
    shipped = load_mocap(CMU_FILE)
    assert torch.equal(shipped.positions, cmu.positions)
    assert (shipped.subject == cmu.subject).all() and (shipped.source == cmu.source).all()
    assert shipped.source[0] == "asfamc/02/02_01.amc"


@pytest.mark.parametrize(
    "option,message",
    [
        (["--fps", "0"], "--fps is 0"),
        (["--fps", "-5"], "--fps is -5"),
        (["--fps", "nan"], "--fps is nan"),
        (["--fps", "inf"], "--fps is inf"),
        (["--fps", "1e12"], "--fps is 1e+12"),
        (["--amc-fps", "-5"], "--amc-fps is -5"),
        (["--amc-fps", "0"], "--amc-fps is 0"),
    ],
)
def test_an_option_out_of_range_is_one_line_before_any_file_is_read(tmp_path, capsys, option, message):
    clip, out = write_bvh(tmp_path / "walk.bvh"), tmp_path / "x.npz"
    assert main(["data", "import", str(clip), "--out", str(out), *option]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and not out.exists(), err


@pytest.mark.parametrize(
    "entry,message",
    [
        (None, "'RWrist' maps to None, expected a joint name"),
        ({"mid": "Hips"}, "'Spine' maps to {'mid': 'Hips'}, expected a joint name, {'mid': [a, b]}"),
    ],
)
def test_a_mistyped_joint_map_is_one_line(tmp_path, capsys, entry, message):
    clip, out = write_bvh(tmp_path / "walk.bvh"), tmp_path / "x.npz"
    key = "RWrist" if entry is None else "Spine"
    (tmp_path / "map.json").write_text(json.dumps(dict(MAPS["cmu-bvh"], **{key: entry})))
    assert main(["data", "import", str(clip), "--out", str(out), "--joints", str(tmp_path / "map.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0 and not out.exists(), err


#: What the peak may exceed ten times the output by, whatever the length: the interpreter with torch
#: and numpy (225 MB here) and one piece of CHUNK_FRAMES frames being parsed and posed (about 100 MB).
IMPORT_ALLOWANCE_MB = 600


@pytest.mark.slow
def test_a_million_frame_bvh_imports_within_ten_times_its_output(tmp_path):
    from import_memory import measure

    figures = measure(1_000_000, tmp_path)
    assert figures["frames"] >= 999_999
    assert figures["peak_rss_mb"] < 10 * figures["output_mb"] + IMPORT_ALLOWANCE_MB, figures
