"""ASF/AMC (Acclaim): an ASF skeleton (units, root order and axis, bones with direction, length,
axis and dof, a hierarchy) and AMC motion (per frame, each moving bone's dof values).

A bone's local rotation is C M C⁻¹, with C its ``axis`` (Euler angles in the given order) and M
its dof rotation (applied in the listed order); its end is its parent's end plus its global
rotation applied to ``direction × length``. Positions are bone ends; ``root`` is the root's
position. Malformed files raise a one-line :class:`DataError` naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from drpose3d.errors import DataError
from drpose3d.formats.capture import Capture, euler, forward_kinematics, number, posed, read_text

INCH_MM = 25.4
#: AMC files are recorded at 120 frames per second (CMU) unless the importer is told otherwise.
AMC_FPS = 120.0


@dataclass
class _Bone:
    name: str
    direction: tuple[float, float, float] = (0.0, 0.0, 0.0)
    length: float | None = None  # required in a bone block; the root has none
    axis: tuple[float, float, float] = (0.0, 0.0, 0.0)
    axis_order: str = "xyz"
    dof: list[str] = field(default_factory=list)  # rx, ry, rz, tx, ty, tz as listed
    line: int = 0


@dataclass
class Skeleton:
    """A parsed ASF: bones parents first (``root`` is bone 0), units, the root's channel order."""

    path: Path
    bones: list[_Bone]
    parents: list[int]
    length_scale: float  # file units per inch ("length 0.45": 1 unit = 1/0.45 inch)
    degrees: bool
    root_order: list[str]  # e.g. ["tx", "ty", "tz", "rx", "ry", "rz"]

    @property
    def unit_mm(self) -> float:
        return INCH_MM / self.length_scale

    def index(self, name: str) -> int | None:
        return next((k for k, b in enumerate(self.bones) if b.name == name), None)


def _vector(words: list[str], path: Path, n: int, what: str) -> tuple[float, float, float]:
    if len(words) < 3:
        raise DataError(f"{path}:{n}: found {' '.join(words)!r}, expected three numbers ({what})")
    return tuple(number(w, path, n, what) for w in words[:3])


def _axis_order(word: str, path: Path, n: int) -> str:
    """An axis' rotation order, lower case: the three axes once each."""
    if sorted(word.lower()) != ["x", "y", "z"]:
        raise DataError(f"{path}:{n}: found axis order {word!r}, expected X, Y and Z once each (such as XYZ)")
    return word.lower()


def _check_bone(bone: _Bone, path: Path, n: int) -> None:
    """A bone block ending at line `n` must say how long its bone is and where it points: without a
    length or a direction its end would sit on its parent's and pass for a real joint."""
    if bone.length is None:
        raise DataError(f"{path}:{n}: bone {bone.name!r} has no length, expected 'length L' before 'end'")
    if bone.length < 0:
        raise DataError(f"{path}:{n}: bone {bone.name!r} has length {bone.length:g}, expected 0 or more")
    if bone.length > 0 and not any(bone.direction):
        raise DataError(
            f"{path}:{n}: bone {bone.name!r} has no direction, expected 'direction x y z' (not all 0) before 'end'"
        )


def read_asf(path: str | Path) -> Skeleton:
    """Parse an ASF skeleton file."""
    path = Path(path)
    lines = read_text(path, "ASF")
    section, bones, links = "", {"root": _Bone("root")}, []
    length_scale, degrees, root_order, current = 1.0, True, ["tx", "ty", "tz", "rx", "ry", "rz"], None
    for n, raw in enumerate(lines, start=1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].startswith(":"):
            section = words[0][1:].lower()
            continue
        key = words[0].lower()
        if section == "units" and key == "length":
            length_scale = number(words[1] if len(words) > 1 else "", path, n, "the length unit")
        elif section == "units" and key == "angle":
            degrees = len(words) > 1 and words[1].lower().startswith("deg")
        elif section == "root" and key == "order":
            root_order = [w.lower() for w in words[1:]]
            bad = [w for w in root_order if w not in ("tx", "ty", "tz", "rx", "ry", "rz")]
            if bad:
                raise DataError(f"{path}:{n}: root order has {bad[0]!r}, expected TX TY TZ RX RY RZ in some order")
        elif section == "root" and key == "axis":
            bones["root"].axis_order = _axis_order(words[1] if len(words) > 1 else "XYZ", path, n)
        elif section == "root" and key == "orientation":
            bones["root"].axis = _vector(words[1:], path, n, "the root orientation")
        elif section == "bonedata":
            if key == "begin":
                current = _Bone("", line=n)
            elif key == "end":
                if current is None or not current.name:
                    raise DataError(f"{path}:{n}: a bone without a name, expected 'name <bone>' before 'end'")
                _check_bone(current, path, n)
                bones[current.name], current = current, None
            elif current is not None and key == "name":
                current.name = words[1] if len(words) > 1 else ""
            elif current is not None and key == "direction":
                current.direction = _vector(words[1:], path, n, "a bone direction")
            elif current is not None and key == "length":
                current.length = number(words[1] if len(words) > 1 else "", path, n, "a bone length")
            elif current is not None and key == "axis":
                current.axis = _vector(words[1:], path, n, "a bone axis")
                current.axis_order = _axis_order(words[4] if len(words) > 4 else "XYZ", path, n)
            elif current is not None and key == "dof":
                current.dof = [w.lower() for w in words[1:]]
                bad = [w for w in current.dof if w not in ("rx", "ry", "rz", "tx", "ty", "tz")]
                if bad:
                    raise DataError(f"{path}:{n}: dof {bad[0]!r} is not supported, expected rx ry rz (tx ty tz)")
        elif section == "hierarchy" and key not in ("begin", "end"):
            links.extend((words[0], child, n) for child in words[1:])
    if len(bones) == 1:
        raise DataError(f"{path}: no bones, expected a :bonedata section of begin ... end blocks")
    order, parents = ["root"], [-1]
    pending = list(links)
    while pending:
        placed = [(p, c, n) for p, c, n in pending if p in order]
        if not placed:
            p, c, n = pending[0]
            raise DataError(f"{path}:{n}: hierarchy names {p!r}, which is neither root nor a bone above it")
        for p, c, n in placed:
            if c not in bones:
                raise DataError(f"{path}:{n}: hierarchy names bone {c!r}, which :bonedata does not define")
            if c in order:
                raise DataError(f"{path}:{n}: hierarchy attaches bone {c!r} twice (a loop?), expected a tree")
            order.append(c)
            parents.append(order.index(p))
        pending = [link for link in pending if link not in placed]
    return Skeleton(path, [bones[b] for b in order], parents, length_scale, degrees, root_order)


def read_amc(path: str | Path, skeleton: Skeleton, fps: float = AMC_FPS) -> Capture:
    """Parse an AMC motion file on `skeleton` and pose every bone in every frame."""
    path = Path(path)
    lines = read_text(path, "AMC")
    columns = {b.name: (k, len(b.dof) if k else len(skeleton.root_order)) for k, b in enumerate(skeleton.bones)}
    frames: list[dict[str, list[float]]] = []
    for n, raw in enumerate(lines, start=1):
        words = raw.split()
        if not words or words[0].startswith(("#", ":")):
            continue
        if len(words) == 1 and words[0].isdigit():
            frames.append({})
            continue
        if not frames:
            raise DataError(f"{path}:{n}: found {words[0]!r} before the first frame number")
        bone = words[0]
        if bone not in columns:
            raise DataError(f"{path}:{n}: bone {bone!r} is not in the skeleton {skeleton.path.name}")
        if len(words) - 1 != columns[bone][1]:
            raise DataError(f"{path}:{n}: bone {bone!r} has {len(words) - 1} values, its dof needs {columns[bone][1]}")
        frames[-1][bone] = [number(w, path, n, f"a value of bone {bone!r}") for w in words[1:]]
    if not frames:
        raise DataError(f"{path}: no frames, expected frame numbers each followed by bone values")
    moving = [b.name for b in skeleton.bones[1:] if b.dof] + ["root"]
    for k, frame in enumerate(frames, start=1):
        missing = [b for b in moving if b not in frame]
        if missing:
            raise DataError(f"{path}: frame {k} lacks bone {missing[0]!r}, expected every bone with a dof")
    return _pose(path, skeleton, frames, fps)


def _dof_rotation(names: list[str], values: torch.Tensor, degrees: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotation (F, 3, 3) of the rotational dofs in listed order, and translation (F, 3)."""
    angles = values if degrees else torch.rad2deg(values)
    rot = [k for k, d in enumerate(names) if d.startswith("r")]
    rotation = euler(angles[:, rot], "".join(names[k][1] for k in rot))
    shift = torch.zeros(values.shape[0], 3, dtype=torch.float64)
    for k, d in enumerate(names):
        if d.startswith("t"):
            shift[:, "xyz".index(d[1])] = values[:, k]
    return rotation, shift


def _pose(path: Path, skeleton: Skeleton, frames: list[dict[str, list[float]]], fps: float) -> Capture:
    count, joints = len(frames), len(skeleton.bones)
    local = torch.empty(count, joints, 3, 3, dtype=torch.float64)
    bone = torch.zeros(count, joints, 3, dtype=torch.float64)
    root_position = torch.zeros(count, 3, dtype=torch.float64)
    for k, b in enumerate(skeleton.bones):
        names = skeleton.root_order if k == 0 else b.dof
        values = torch.tensor([f.get(b.name, [0.0] * len(names)) for f in frames], dtype=torch.float64)
        motion, shift = _dof_rotation(names, values.reshape(count, len(names)), skeleton.degrees)
        axis = torch.tensor(b.axis, dtype=torch.float64)
        c = euler(axis if skeleton.degrees else torch.rad2deg(axis), b.axis_order)
        local[:, k] = c @ motion @ c.T
        vector = torch.tensor(b.direction, dtype=torch.float64) * (b.length or 0.0)  # the root: none
        bone[:, k] = (local[:, k] @ vector) + shift  # parent's frame: its end moves with its own rotation
        if k == 0:
            root_position = shift
    rotations, positions = forward_kinematics(skeleton.parents, local, bone, root_position)
    names = [b.name for b in skeleton.bones]
    return Capture(
        path, names, skeleton.parents, count, posed(rotations, positions), fps, skeleton.path.stem, skeleton.unit_mm
    )
