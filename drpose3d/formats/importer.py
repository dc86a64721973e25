"""`drpose3d data import`: motion capture (BVH, ASF/AMC) into the generic mocap format.

Each clip is posed on its own skeleton, mapped to the Human3.6M 17 joints, scaled to
millimetres, turned from y up to z up by a proper rotation (left stays left), split where a joint
jumps implausibly far between two frames, resampled to the target frame rate, and labelled per
frame with its performer, clip and source file. The output is checked by the mocap loader.

Joint maps say, for each of the 17 joints, which joint of the source rig it is (a name), or how
it is made from them: ``{"mid": [a, b]}`` (the midpoint, Human3.6M's mid-spine), or
``{"nose": {"base": a, "top": b, "rotation": c}}``: the nose of Human3.6M's joint 9, in front of
the head by the head's own rotation ``c`` (the rest pose faces ``forward``, +z for CMU rigs).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from drpose3d.engine.fileio import atomic_path
from drpose3d.errors import DataError
from drpose3d.formats.asfamc import AMC_FPS, read_amc, read_asf
from drpose3d.formats.bvh import read_bvh
from drpose3d.formats.capture import CHUNK_FRAMES, MAX_CAPTURE_FPS, Capture
from drpose3d.formats.mocap import Mocap, load_mocap, save_mocap
from drpose3d.pose.skeleton import JOINT_NAMES, bone_lengths

UNITS_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "inch": 25.4, "cmu": 25.4 / 0.45}
#: A capture glitch, where a clip is split: some joint moves faster than MAX_JOINT_SPEED_MM_S between
#: two frames, or faster than GLITCH_MIN_MM_S and GLITCH_RATIO times the median speed of the frames
#: around it (a marker swap jumps out of smooth motion; a backflip's 20 m/s feet are smooth).
MAX_JOINT_SPEED_MM_S = 30_000.0
GLITCH_MIN_MM_S, GLITCH_RATIO, GLITCH_WINDOW = 6_000.0, 4.0, 5
MIN_CLIP_S = 1.0
#: y up (BVH, ASF) -> z up: a rotation of +90 degrees about x, (x, y, z) -> (x, -z, y).
Y_UP_TO_Z_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], dtype=torch.float64)

_LIMBS_ASF = {
    "Hip": "root", "RHip": "rhipjoint", "RKnee": "rfemur", "RFoot": "rtibia",
    "LHip": "lhipjoint", "LKnee": "lfemur", "LFoot": "ltibia",
    "LShoulder": "lclavicle", "LElbow": "lhumerus", "LWrist": "lradius",
    "RShoulder": "rclavicle", "RElbow": "rhumerus", "RWrist": "rradius",
}  # fmt: skip
_LIMBS_BVH = {
    "Hip": "Hips", "RHip": "RightHip", "RKnee": "RightKnee", "RFoot": "RightAnkle",
    "LHip": "LeftHip", "LKnee": "LeftKnee", "LFoot": "LeftAnkle",
    "LShoulder": "LeftShoulder", "LElbow": "LeftElbow", "LWrist": "LeftWrist",
    "RShoulder": "RightShoulder", "RElbow": "RightElbow", "RWrist": "RightWrist",
}  # fmt: skip
#: The documented maps of the shipped naming conventions. ASF positions are bone ends (so the
#: knee is the femur's end); BVH positions are joint origins (the knee is LeftKnee).
MAPS: dict[str, dict] = {
    "cmu-asf": _LIMBS_ASF
    | {
        "Spine": {"mid": ["root", "thorax"]},
        "Thorax": "thorax",
        "Neck/Nose": {"nose": {"base": "upperneck", "top": "head", "rotation": "head"}},
        "Head": "head",
    },
    "cmu-bvh": _LIMBS_BVH
    | {
        "Spine": {"mid": ["Hips", "lowerneck"]},
        "Thorax": "lowerneck",
        "Neck/Nose": {"nose": {"base": "Head", "top": "Head.End", "rotation": "Head"}},
        "Head": "Head.End",
    },
}
#: Where the nose sits, as fractions of the head's length (its base to its top): this far up from
#: the base and this far in front; on the CMU rigs the nose is then 114 mm from the head top, as
#: on the Human3.6M subjects (115 mm).
NOSE_UP, NOSE_FORWARD = 0.0, 0.7


@dataclass
class ImportReport:
    """What `data import` read and kept, printed for the user and tested: files, clips, frames, cuts."""

    files: int
    clips: int
    frames: int
    performers: list[str]
    splits: int  # glitches where a clip was cut
    dropped_s: float  # seconds of pieces shorter than MIN_CLIP_S, left out


def find_files(paths: list[str | Path]) -> list[Path]:
    """BVH and AMC files among `paths` (files, or folders searched recursively), sorted."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [p for p in path.rglob("*") if p.suffix.lower() in (".bvh", ".amc")]
        elif path.is_file():
            if path.suffix.lower() not in (".bvh", ".amc"):
                raise DataError(f"{path}: not a .bvh or .amc file (an .asf is found beside its .amc files)")
            found.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    if not found:
        raise DataError(f"no .bvh or .amc files under {', '.join(str(p) for p in paths)}")
    return sorted(set(found))


def skeleton_for(amc: Path) -> Path:
    """The ASF in the AMC's folder whose name is the longest prefix of the AMC's name."""
    candidates = [a for a in amc.parent.glob("*.asf") if amc.stem.lower().startswith(a.stem.lower())]
    if not candidates:
        raise DataError(f"{amc}: no .asf in {amc.parent} whose name starts the AMC's name")
    return max(candidates, key=lambda a: len(a.stem))


def read_capture(path: Path, fps: float | None = None) -> Capture:
    """A BVH file, or an AMC file with the ASF skeleton beside it, as one capture (AMC at `fps`)."""
    if path.suffix.lower() == ".bvh":
        return read_bvh(path)
    return read_amc(path, read_asf(skeleton_for(path)), fps or AMC_FPS)


def choose_map(capture: Capture, user_map: dict | None) -> dict:
    """The user's map, else the shipped one whose every source joint the rig has."""
    if user_map is not None:
        missing = sorted(set(_sources(user_map)) - set(capture.names))
        if missing:
            raise DataError(
                f"{capture.path}: the joint map names {missing[0]!r}, which this rig does not have "
                f"(it has {', '.join(capture.names[:8])}, ...)"
            )
        return user_map
    for mapping in MAPS.values():
        if set(_sources(mapping)) <= set(capture.names):
            return mapping
    raise DataError(
        f"{capture.path}: rig joints ({', '.join(capture.names[:6])}, ...) match no shipped map "
        f"({', '.join(MAPS)}); give --joints MAP.json mapping the 17 Human3.6M joints to them"
    )


def _sources(mapping: dict) -> list[str]:
    names = []
    for spec in mapping.values():
        if isinstance(spec, str):
            names.append(spec)
        elif "mid" in spec:
            names += spec["mid"]
        else:
            names += [spec["nose"][k] for k in ("base", "top", "rotation")]
    return names


def _is_rule(spec: object) -> bool:
    """A joint name, ``{"mid": [a, b]}`` or ``{"nose": {"base": a, "top": b, "rotation": c}}``, every
    name a string: a string where a list belongs would be read letter by letter."""
    if isinstance(spec, str):
        return True
    if not isinstance(spec, dict) or len(spec) != 1:
        return False
    ((rule, value),) = spec.items()
    if rule == "mid":
        return isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
    parts = ("base", "top", "rotation")
    return (
        rule == "nose"
        and isinstance(value, dict)
        and sorted(value) == sorted(parts)
        and all(isinstance(value[k], str) for k in parts)
    )


def load_joint_map(path: str | Path) -> dict:
    """A user's joint map (JSON): every one of the 17 joints, each a name or a rule."""
    path = Path(path)
    try:
        mapping = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read the joint map ({err})") from None
    if not isinstance(mapping, dict):
        raise DataError(f"{path}: expected a JSON object from Human3.6M joint names to rig joints")
    missing = [j for j in JOINT_NAMES if j not in mapping]
    unknown = sorted(set(mapping) - set(JOINT_NAMES) - {"forward"})
    if missing or unknown:
        raise DataError(f"{path}: joint map lacks {missing} / has unknown keys {unknown}; the 17 are {JOINT_NAMES}")
    for joint, spec in mapping.items():
        if joint == "forward":
            continue
        if not _is_rule(spec):
            rules = "a joint name, {'mid': [a, b]} or {'nose': {'base': a, 'top': b, 'rotation': c}}"
            raise DataError(f"{path}: {joint!r} maps to {spec!r}, expected {rules}")
    return {j: s for j, s in mapping.items() if j != "forward"}


def to_h36m(capture: Capture, mapping: dict, forward: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> torch.Tensor:
    """The 17 Human3.6M joints (F, 17, 3) in source units and axes, posed piece by piece."""
    out = torch.empty(len(capture), len(JOINT_NAMES), 3, dtype=torch.float64)
    for frames, rotations, pos in capture.pieces():
        for j, joint in enumerate(JOINT_NAMES):
            spec = mapping[joint]
            if isinstance(spec, str):
                out[frames, j] = pos[:, capture.index(spec)]
            elif "mid" in spec:
                a, b = (capture.index(n) for n in spec["mid"])
                out[frames, j] = (pos[:, a] + pos[:, b]) / 2
            else:
                nose = spec["nose"]
                base, top = pos[:, capture.index(nose["base"])], pos[:, capture.index(nose["top"])]
                length = (top - base).norm(dim=-1, keepdim=True)
                front = rotations[:, capture.index(nose["rotation"])] @ torch.tensor(forward, dtype=torch.float64)
                out[frames, j] = base + NOSE_UP * (top - base) + NOSE_FORWARD * length * front
    return out


def choose_unit(capture: Capture, joints: torch.Tensor, unit: str | None) -> float:
    """Millimetres per source unit: the one asked for, the ASF's own, or for a BVH the one unit
    that puts the median femur between 300 and 600 mm."""
    if unit is not None:
        return UNITS_MM[unit]
    if capture.unit_mm is not None:
        return capture.unit_mm
    femur = float((joints[:, 2] - joints[:, 1]).norm(dim=-1).median())
    plausible = [u for u, mm in UNITS_MM.items() if 300 <= femur * mm <= 600]
    if len(plausible) != 1:
        raise DataError(
            f"{capture.path}: cannot tell the unit (median femur {femur:.3g} file units); give --unit "
            f"({'|'.join(UNITS_MM)})"
        )
    return UNITS_MM[plausible[0]]


def split_glitches(joints: torch.Tensor, fps: float) -> list[slice]:
    """Pieces of a clip between the frames of a capture glitch (see MAX_JOINT_SPEED_MM_S)."""
    speed = (joints[1:] - joints[:-1]).norm(dim=-1).amax(-1) * fps
    w = GLITCH_WINDOW
    padded = torch.nn.functional.pad(speed[None, None], (w, w), mode="replicate")[0, 0]
    around = padded.unfold(0, 2 * w + 1, 1)
    around = torch.cat((around[:, :w], around[:, w + 1 :]), 1).median(1).values  # the neighbours, not itself
    glitch = (speed > MAX_JOINT_SPEED_MM_S) | ((speed > GLITCH_MIN_MM_S) & (speed > GLITCH_RATIO * around))
    cuts = (torch.nonzero(glitch).squeeze(1) + 1).tolist()
    edges = [0, *cuts, len(joints)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def resample(joints: torch.Tensor, fps: float, target: float) -> torch.Tensor:
    """Linear interpolation of (F, 17, 3) from `fps` to `target` frames per second, as float32 (the
    file's precision), a piece at a time so that no full-length float64 temporary is made."""
    times = torch.arange(0, (len(joints) - 1) / fps + 1e-9, 1 / target, dtype=torch.float64)
    out = torch.empty(len(times), *joints.shape[1:], dtype=torch.float32)
    for start in range(0, len(times), CHUNK_FRAMES):
        where = times[start : start + CHUNK_FRAMES] * fps
        lo = where.floor().long().clamp(max=len(joints) - 1)
        hi = (lo + 1).clamp(max=len(joints) - 1)
        w = (where - lo)[:, None, None]
        out[start : start + len(where)] = joints[lo] * (1 - w) + joints[hi] * w
    return out


def _clip_joints(
    path: Path, fps: float | None, user_map: dict | None, unit: str | None
) -> tuple[torch.Tensor, float, str]:
    """One file's Human3.6M joints (F, 17, 3) in millimetres, z up, float64, its frame rate and its
    performer. The capture (its channel values) is freed on return, before the next steps copy."""
    capture = read_capture(path, fps)
    if len(capture) < capture.fps * MIN_CLIP_S:
        raise DataError(f"{path}: {len(capture)} frames at {capture.fps:g} fps, shorter than {MIN_CLIP_S:g} s")
    joints = to_h36m(capture, choose_map(capture, user_map))
    joints.mul_(choose_unit(capture, joints, unit))
    for start in range(0, len(joints), CHUNK_FRAMES):  # in place: no second full-length copy
        piece = joints[start : start + CHUNK_FRAMES]
        piece.copy_(piece @ Y_UP_TO_Z_UP.T)
    return joints, capture.fps, capture.performer


def _clip_pieces(
    path: Path, source_fps: float | None, user_map: dict | None, unit: str | None, fps: float
) -> tuple[list[torch.Tensor], str, int, float]:
    """One file's pieces between glitches at `fps` (float32), its performer, the number of glitch
    cuts and the seconds left out as too short; the float64 joints are freed on return."""
    joints, rate, performer = _clip_joints(path, source_fps, user_map, unit)
    parts = split_glitches(joints, rate)
    kept = [resample(joints[p], rate, fps) for p in parts if (p.stop - p.start) >= rate * MIN_CLIP_S]
    short = sum(p.stop - p.start for p in parts if (p.stop - p.start) < rate * MIN_CLIP_S) / rate
    return kept, performer, len(parts) - 1, short


def import_motion(
    paths: list[str | Path],
    out: str | Path,
    fps: float = 30.0,
    unit: str | None = None,
    joint_map: str | Path | None = None,
    source_fps: float | None = None,
) -> ImportReport:
    """Import every clip under `paths` into one generic mocap file at `out` (written only if all
    of it is valid; the loader checks it before it replaces anything)."""
    out = Path(out)
    if out.suffix != ".npz":
        raise DataError(f"--out is {str(out)!r}, expected a path ending in .npz")
    if unit is not None and unit not in UNITS_MM:
        raise DataError(f"--unit is {unit!r}, expected one of {', '.join(UNITS_MM)}")
    for flag, rate in (("--fps", fps), ("--amc-fps", source_fps)):
        if rate is not None and not (math.isfinite(rate) and 0 < rate <= MAX_CAPTURE_FPS):
            raise DataError(f"{flag} is {rate:g}, expected a frame rate above 0 and at most {MAX_CAPTURE_FPS:g} fps")
    user_map = load_joint_map(joint_map) if joint_map else None
    files = find_files(paths)
    base = Path(os.path.commonpath([str(f.parent.resolve()) for f in files]))
    pieces, labels, splits, dropped = [], [], 0, 0.0
    for path in tqdm(files, desc="import", unit="clip", leave=False):
        kept, performer, cut, short_s = _clip_pieces(path, source_fps, user_map, unit, fps)
        pieces += kept
        labels += [(performer, path.stem, str(path.resolve().relative_to(base)))] * len(kept)
        splits, dropped = splits + cut, dropped + short_s
    if not pieces:
        where = str(files[0]) if len(files) == 1 else f"{len(files)} files under {', '.join(map(str, paths))}"
        raise DataError(
            f"{where}: no clip of at least {MIN_CLIP_S:g} s survived the glitch splits "
            f"({splits} glitch(es) cut it, {dropped:.1f} s of shorter pieces left out)"
        )
    sizes = [len(p) for p in pieces]
    mocap = Mocap(
        torch.cat(pieces),
        np.repeat([lab[0] for lab in labels], sizes),
        np.repeat([lab[1] for lab in labels], sizes),
        torch.repeat_interleave(torch.arange(len(pieces)), torch.tensor(sizes)),
        fps,
        source=np.repeat([lab[2] for lab in labels], sizes),
    )
    _check_anatomy(mocap)
    with atomic_path(out) as staged:  # `out` appears only once the format's own loader accepts it
        save_mocap(mocap, staged)
        try:
            load_mocap(staged)
        except DataError as err:  # named after `out`, not the hidden file it was staged in
            raise DataError(str(err).replace(str(staged), f"{out} (not written)")) from None
    return ImportReport(len(files), len(pieces), len(mocap), mocap.subjects, splits, round(dropped, 2))


def _check_anatomy(mocap: Mocap) -> None:
    """A wrong unit or map shows as bones of impossible length: refuse rather than write it."""
    median = bone_lengths(mocap.positions[::10]).median(0).values
    if not 40 <= float(median.median()) <= 700:
        raise DataError(f"median bone length {float(median.median()):.0f} mm after import; check --unit")
