"""BVH (Biovision hierarchy): a skeleton of offsets and channels, then one line of channel values
per frame. Any rotation-channel order, position channels on any joint, end sites as joints named
``<parent>.End``. Every malformed file gets a one-line :class:`DataError` naming the file and line.

Why not a library: bvhio 1.5.4, the maintained Python reader, was measured on the three CMU BVH
clips (``bench/bvh_library.py``, 3,343 frames): its positions agree with this parser's to 1e-5
file units, but it took 3.98 s against 0.21 s here (19x), posing one frame at a time in Python; it
drops end sites (the head top of Human3.6M is one) and reports no line numbers for a bad file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from drpose3d.errors import DataError
from drpose3d.formats.capture import (
    CHUNK_FRAMES,
    LARGEST,
    MAX_CAPTURE_FPS,
    Capture,
    axis_rotation,
    forward_kinematics,
    number,
    text_lines,
)

CHANNELS = ("xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation")


@dataclass
class _Joint:
    name: str
    parent: int
    offset: tuple[float, float, float] | None = None  # required: a joint without one would sit on its parent
    channels: list[str] = field(default_factory=list)  # lower case, as listed
    first: int = 0  # index of its first channel in a frame's values


def _hierarchy(path: Path, lines: Iterator[tuple[int, str]]) -> list[_Joint]:
    """The joints (parents first), reading `lines` up to and including the MOTION line."""
    joints: list[_Joint] = []
    stack: list[int] = []
    pending: _Joint | None = None
    seen_hierarchy = False
    channel_count = 0
    n = 0
    for n, raw in lines:
        words = raw.split()
        if not words:
            continue
        key = words[0].upper()
        if key == "HIERARCHY":
            seen_hierarchy = True
        elif key in ("ROOT", "JOINT") or (key == "END" and len(words) > 1 and words[1].upper() == "SITE"):
            if not seen_hierarchy:
                raise DataError(f"{path}:{n}: found {words[0]!r} before HIERARCHY, expected the line HIERARCHY first")
            if key == "ROOT" and (joints or stack):
                raise DataError(f"{path}:{n}: found a second ROOT, expected one skeleton per file")
            if key != "ROOT" and not stack:
                raise DataError(f"{path}:{n}: found {words[0]!r} outside a joint, expected ROOT first")
            if key == "ROOT" or key == "JOINT":
                name = " ".join(words[1:]) or f"joint{len(joints)}"
                if any(j.name == name for j in joints):
                    raise DataError(f"{path}:{n}: found joint name {name!r} twice, expected each joint named once")
            else:
                name = f"{joints[stack[-1]].name}.End"
            pending = _Joint(name, stack[-1] if stack else -1)
        elif key == "{":
            if pending is None:
                raise DataError(f"{path}:{n}: found '{{' without a joint, expected ROOT, JOINT or End Site before it")
            joints.append(pending)
            stack.append(len(joints) - 1)
            pending = None
        elif key == "}":
            if not stack:
                raise DataError(f"{path}:{n}: found an unmatched '}}'")
            if joints[stack[-1]].offset is None:
                name = joints[stack[-1]].name
                raise DataError(f"{path}:{n}: joint {name!r} ends without an OFFSET, expected 'OFFSET x y z' in it")
            stack.pop()
        elif key == "OFFSET":
            if not stack or len(words) != 4:
                raise DataError(f"{path}:{n}: found {raw.strip()!r}, expected 'OFFSET x y z' inside a joint")
            if joints[stack[-1]].offset is not None:
                raise DataError(f"{path}:{n}: a second OFFSET in joint {joints[stack[-1]].name!r}, expected one")
            joints[stack[-1]].offset = tuple(number(w, path, n, "an OFFSET coordinate") for w in words[1:])
        elif key == "CHANNELS":
            if not stack or len(words) < 2:
                raise DataError(f"{path}:{n}: found {raw.strip()!r}, expected 'CHANNELS n name...' inside a joint")
            if joints[stack[-1]].channels:  # each would claim its own columns of every frame
                raise DataError(f"{path}:{n}: a second CHANNELS in joint {joints[stack[-1]].name!r}, expected one")
            count = int(number(words[1], path, n, "the channel count"))
            names = [w.lower() for w in words[2:]]
            if count != len(names):
                raise DataError(f"{path}:{n}: CHANNELS says {count} but lists {len(names)} channel names")
            unknown = [w for w, low in zip(words[2:], names, strict=True) if low not in CHANNELS]
            if unknown:
                raise DataError(
                    f"{path}:{n}: unknown channel {unknown[0]!r}, expected X/Y/Z followed by position or rotation"
                )
            joints[stack[-1]].channels, joints[stack[-1]].first = names, channel_count
            channel_count += count
        elif key == "MOTION":
            if not joints:
                raise DataError(f"{path}:{n}: MOTION before any ROOT, expected HIERARCHY and a ROOT joint first")
            if stack:
                raise DataError(f"{path}:{n}: MOTION inside joint {joints[stack[-1]].name!r}, a '}}' is missing")
            return joints
        else:
            expected = "ROOT, JOINT, End Site, OFFSET, CHANNELS or braces"
            raise DataError(f"{path}:{n}: found {words[0]!r}, expected {expected}")
    if not seen_hierarchy:
        raise DataError(f"{path}: no HIERARCHY line, expected a BVH file starting with HIERARCHY")
    if not joints:
        raise DataError(f"{path}: no ROOT joint after HIERARCHY")
    raise DataError(f"{path}: no MOTION section after the hierarchy (the file ends at line {n})")


def _motion(path: Path, lines: Iterator[tuple[int, str]], channels: int) -> tuple[torch.Tensor, float]:
    """Channel values (F, C) and the frame time, from the lines after MOTION. The values are read
    a piece at a time into one array sized by the declared frame count, which the file's size must
    be able to hold (a false count cannot make it allocate more than the file could fill)."""
    header: dict[str, tuple[str, int]] = {}
    n = 0
    while len(header) < 2:
        n, raw = next(lines, (n, None))
        if raw is None:
            raise DataError(f"{path}:{n}: MOTION ends early, expected 'Frames: N' and 'Frame Time: t'")
        if not raw.strip():
            continue
        label, _, value = raw.partition(":")
        label = " ".join(label.split()).lower()
        if label not in ("frames", "frame time"):
            raise DataError(f"{path}:{n}: found {raw.strip()!r}, expected 'Frames: N' then 'Frame Time: t'")
        header[label] = (value.strip(), n)
    frames = number(header["frames"][0], path, header["frames"][1], "the frame count")
    frame_time = number(header["frame time"][0], path, header["frame time"][1], "the frame time in seconds")
    if frames != int(frames) or frames < 1 or frame_time <= 0:
        raise DataError(f"{path}:{header['frames'][1]}: Frames {frames:g} and Frame Time {frame_time:g} must be > 0")
    if frame_time < 1 / MAX_CAPTURE_FPS:
        raise DataError(
            f"{path}:{header['frame time'][1]}: Frame Time {frame_time:g} is below {1 / MAX_CAPTURE_FPS:g} s "
            f"({MAX_CAPTURE_FPS:g} fps), expected a capture's frame time in seconds"
        )
    declared = int(frames)
    room = path.stat().st_size // (2 * channels)  # a frame's line holds at least one digit and one space per value
    if declared > room:
        raise DataError(
            f"{path}:{header['frames'][1]}: MOTION truncated: Frames says {declared}, the file can hold at most {room}"
        )
    values = torch.empty(declared, channels, dtype=torch.float64)
    found = 0
    while piece := [(k, raw) for k, raw in islice(lines, CHUNK_FRAMES) if raw.strip()]:
        rows = _values(path, piece, channels)
        if found + len(rows) > declared:
            found += len(rows)
            break
        values[found : found + len(rows)] = torch.from_numpy(rows)
        found += len(rows)
    found += sum(1 for _, raw in lines if raw.strip())
    if found != declared:
        state = "truncated" if found < declared else "longer than declared"
        raise DataError(f"{path}:{header['frames'][1]}: MOTION {state}: Frames says {declared}, found {found}")
    return values, frame_time


def _values(path: Path, piece: list[tuple[int, str]], channels: int) -> np.ndarray:
    """One piece of frame lines as (lines, channels) float64: numpy's parser first, and where it
    balks or finds a value :func:`number` would refuse, the line-by-line check that names the line."""
    try:
        rows = np.loadtxt([raw for _, raw in piece], dtype=np.float64, comments=None, ndmin=2)
        if rows.shape == (len(piece), channels) and np.isfinite(rows).all() and np.abs(rows).max() <= LARGEST:
            return rows
    except ValueError:
        pass
    parsed = []
    for k, raw in piece:
        words = raw.split()
        if len(words) != channels:
            raise DataError(f"{path}:{k}: found {len(words)} values, expected {channels} (one per channel)")
        parsed.append([number(w, path, k, "a channel value") for w in words])
    return np.array(parsed, dtype=np.float64).reshape(len(piece), channels)


def read_bvh(path: str | Path) -> Capture:
    """A BVH file's clip, posed piece by piece (:class:`Capture`): world positions and rotations of
    every joint and end site. Only the channel values are held, 8 bytes per channel and frame."""
    path = Path(path)
    lines = text_lines(path, "BVH")
    joints = _hierarchy(path, lines)
    channels = sum(len(j.channels) for j in joints)
    if not channels:
        raise DataError(f"{path}: no CHANNELS in the hierarchy, expected at least the root's")
    values, frame_time = _motion(path, lines, channels)
    offsets = torch.tensor([j.offset for j in joints], dtype=torch.float64)
    parents = [j.parent for j in joints]

    def pose(start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        frames = stop - start
        local = torch.eye(3, dtype=torch.float64).repeat(frames, len(joints), 1, 1)
        bone = offsets.expand(frames, -1, -1).clone()
        for k, joint in enumerate(joints):
            for c, name in enumerate(joint.channels):
                column = values[start:stop, joint.first + c]
                if name.endswith("position"):
                    bone[:, k, "xyz".index(name[0])] += column
                else:  # listed first = outermost: R = R_1 R_2 R_3
                    local[:, k] = local[:, k] @ axis_rotation(column, name[0])
        return forward_kinematics(parents, local, bone, bone[:, 0])

    names = [j.name for j in joints]
    # the performer is the file's folder (CMU: 131/131_01.bvh), or its name where it has none: a bare
    # `clip.bvh` typed in its own folder has the parent '.', and an empty performer name is refused
    performer = path.resolve().parent.name or path.stem
    return Capture(path, names, parents, len(values), pose, 1 / frame_time, performer)
