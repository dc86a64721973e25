"""Peak memory of `drpose3d data import` on a long BVH (issue 33): MB per million frames.

    python bench/import_memory.py [FRAMES]      (default 1,000,000; writes bench/import_memory.json)

The file is a CMU-named rig of 15 joints and a head end site (48 channels), 30 fps, every joint
swinging on its own phase; it is imported at 30 fps, so output frames equal input frames. The peak
is the child process's own maximum resident set size, the output the bytes of the arrays written.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# A CMU-BVH-named rig in centimetres, standing on y = 0 and facing +z (offsets from each parent).
RIG = [
    ("Hips", None, (0, 0, 0)),
    ("LeftHip", "Hips", (9, -5, 0)), ("LeftKnee", "LeftHip", (0, -43, 0)), ("LeftAnkle", "LeftKnee", (0, -42, 0)),
    ("RightHip", "Hips", (-9, -5, 0)), ("RightKnee", "RightHip", (0, -43, 0)), ("RightAnkle", "RightKnee", (0, -42, 0)),
    ("lowerneck", "Hips", (0, 50, 0)), ("Head", "lowerneck", (0, 15, 0)),
    ("LeftShoulder", "lowerneck", (17, 0, 0)), ("LeftElbow", "LeftShoulder", (0, -28, 0)),
    ("LeftWrist", "LeftElbow", (0, -25, 0)),
    ("RightShoulder", "lowerneck", (-17, 0, 0)), ("RightElbow", "RightShoulder", (0, -28, 0)),
    ("RightWrist", "RightElbow", (0, -25, 0)),
]  # fmt: skip
CHANNELS = 6 + 3 * (len(RIG) - 1)


def hierarchy(names: dict[str, str] | None = None) -> list[str]:
    """The BVH HIERARCHY of :data:`RIG` (joints renamed by `names`), a Head end site 20 cm up."""
    names = names or {}
    children: dict[str | None, list[str]] = {}
    for name, parent, _ in RIG:
        children.setdefault(parent, []).append(name)
    offsets = {name: off for name, _, off in RIG}
    lines = ["HIERARCHY"]

    def joint(name: str, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {names.get(name, name)}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(str(float(v)) for v in offsets[name])}")
        rotations = "Zrotation Yrotation Xrotation"
        lines.append(
            f"{pad}  CHANNELS {f'6 Xposition Yposition Zposition {rotations}' if depth == 0 else f'3 {rotations}'}"
        )
        for child in children.get(name, []):
            joint(child, depth + 1)
        if name == "Head":
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 20 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint("Hips", 0)
    return lines


def long_bvh(path: Path, frames: int, period: int = 100) -> Path:
    """A `frames`-long BVH at 30 fps: the hips 95 cm up, every rotation a 5-degree sine of its own
    phase with `period` frames (written as one period repeated: fast to write, no two neighbours equal)."""
    block = []
    for f in range(period):
        values = ["0", "95", "0"] + [f"{5 * math.sin(2 * math.pi * f / period + k):.1f}" for k in range(3, CHANNELS)]
        block.append(" ".join(values))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join([*hierarchy(), "MOTION", f"Frames: {frames}", f"Frame Time: {1 / 30:.7f}"]) + "\n")
        body = "\n".join(block) + "\n"
        for start in range(0, frames, period):
            fh.write(body if start + period <= frames else "\n".join(block[: frames - start]) + "\n")
    return path


def measure(frames: int, folder: Path) -> dict:
    """Import a `frames`-long BVH in a child process; its peak RSS against the output's bytes."""
    clip = long_bvh(folder / "mem" / "walk.bvh", frames)
    out = folder / "out.npz"
    probe = (
        "import resource, sys; from drpose3d.command.cli import main; code = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
    )
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", probe, "data", "import", str(clip.parent), "--out", str(out), "--fps", "30"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"import failed: {child.stderr.strip().splitlines()[-1]}")
    with np.load(out) as arrays:
        output = sum(arrays[k].nbytes for k in arrays.files)
        written = len(arrays["positions"])
    peak = int(child.stdout.split()[-1]) * 1024  # ru_maxrss is in KiB on Linux
    return {
        "frames": written,
        "file_mb": round(clip.stat().st_size / 1e6, 1),
        "output_mb": round(output / 1e6, 1),
        "peak_rss_mb": round(peak / 1e6, 1),
        "peak_mb_per_million_frames": round(peak / 1e6 / (written / 1e6), 1),
        "seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, Path(tmp))
    print(json.dumps(figures, indent=1))
    target = Path(__file__).parent / "import_memory.json"
    target.write_text(json.dumps(figures, indent=1) + "\n")
