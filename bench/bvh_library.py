"""Is a maintained BVH library correct and fast enough to use instead of drpose3d's own parser?

Reads the CMU BVH clips with bvhio (https://pypi.org/project/bvhio/, not a dependency of the
package: ``pip install bvhio`` into the project's environment to run this) and with
``drpose3d.formats.bvh.read_bvh``, compares every joint's world position in every frame and times
both (best of 3 in one process): ``python bench/bvh_library.py [--out FILE.json]``; the last
result is ``bench/bvh_library.json``.
"""

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from drpose3d.formats.bvh import read_bvh

CLIPS = sorted((Path(__file__).resolve().parents[2] / "shared" / "mocap" / "cmu" / "bvh").rglob("*.bvh"))


def with_bvhio(path: Path) -> tuple[list[str], np.ndarray]:
    """Every joint's world position per frame, posed one frame at a time as bvhio does it."""
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    joints = [j for j, _, _ in root.layout()]
    out = np.zeros((len(root.Keyframes), len(joints), 3))
    for f in range(len(root.Keyframes)):
        root.loadPose(f)
        out[f] = [tuple(j.PositionWorld) for j in joints]
    return [j.Name for j in joints], out


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    args = ap.parse_args()
    frames, worst = 0, 0.0
    for clip in CLIPS:
        names, theirs = with_bvhio(clip)
        ours = read_bvh(clip)
        frames += len(ours)
        worst = max(worst, float(np.abs(ours.positions[:, [ours.index(n) for n in names]].numpy() - theirs).max()))
        end_sites = [n for n in ours.names if n.endswith(".End")]
    result = {
        "clips": len(CLIPS),
        "frames": frames,
        "bvhio_version": version("bvhio"),
        "max_position_difference_file_units": worst,
        "end_sites_bvhio_lacks": end_sites,
        "bvhio_s": sum(best_of(lambda c=c: with_bvhio(c)) for c in CLIPS),
        "drpose3d_s": sum(best_of(lambda c=c: read_bvh(c)) for c in CLIPS),
    }
    result["speedup"] = result["bvhio_s"] / result["drpose3d_s"]
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
