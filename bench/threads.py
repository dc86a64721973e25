"""Stage 1 on a 2-core machine: one training process on both cores, or two processes on one core each?

A long run trains its networks one after another in one process whose torch uses every core. Small
convolutions (64-px crops, width 16) may not keep two threads busy, in which case the two worlds' runs
(``runs/cpu`` and ``runs/cpu-cmu``) would finish sooner side by side, one thread each. This measures it
with the real trainers: one epoch of PRCNN-34 (width 16, batch 64; the PRCNN step alone, and with the
hourglass' heatmaps recomputed per batch as a cpu-preset epoch does) and of the hourglass (2 x 32,
batch 32) on the same rendered crops, first in one process with two threads, then
in two such processes started together with one thread each.

    python bench/threads.py [N]                # N crops (default 2048); writes bench/threads.json
    python bench/threads.py --worker THREADS N  # one process's timings, as JSON on stdout
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(threads: int, n: int) -> dict:
    """Seconds per epoch of each network in this process at `threads` threads (best of two)."""
    import torch

    torch.set_num_threads(threads)
    from cnn import _blank_heatmaps, _image_inputs
    from timing import timed

    from drpose3d.engine.train import TrainConfig
    from drpose3d.images.render import render, to_crop
    from drpose3d.images.sets import ImageSet
    from drpose3d.models.hourglass import HourglassConfig, StackedHourglass
    from drpose3d.models.prcnn import PRCNNConfig
    from drpose3d.pose.camera import h36m_rig
    from drpose3d.pose.ranking import ranking_matrix
    from drpose3d.pose.skeleton import HOURGLASS_JOINTS
    from drpose3d.stages.pose2d import heat_uint8, train_hourglass
    from drpose3d.stages.prcnn import train_prcnn

    s, worn = _image_inputs(n, 64)
    rig = h36m_rig("S1").to("cpu", torch.float32).index(s.camera)
    img, box = render(s.pose3d, s.pose2d, rig, worn, torch.arange(n), 64)
    crops = ImageSet((img * 255).round().to(torch.uint8), box, to_crop(s.pose2d[:, list(HOURGLASS_JOINTS)], box, 64))
    ranking = ranking_matrix(s.pose3d[:, list(HOURGLASS_JOINTS), 2], 20.0)
    cpu = torch.device("cpu")
    sgd = TrainConfig(epochs=1, batch_size=64, lr=0.1, optimizer="sgd")
    hg = HourglassConfig(stacks=2, channels=32, depth=3)
    detector = StackedHourglass(hg.stacks, hg.channels, joints=len(HOURGLASS_JOINTS), depth=hg.depth).eval()

    @torch.no_grad()
    def heatmaps(crops: object, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        return heat_uint8(detector, pixels)  # what a cpu-preset PRCNN epoch runs per batch (untrained weights)

    def prcnn(heat: object) -> float:
        return timed(lambda: train_prcnn(crops, ranking, heat, PRCNNConfig(34, True, 16), sgd, 0, cpu), cpu, 2)

    hourglass = timed(lambda: train_hourglass(crops, hg, TrainConfig(epochs=1, batch_size=32), 0, cpu), cpu, 2)
    seconds = dict(zip(NETWORKS, (prcnn(_blank_heatmaps), prcnn(heatmaps), hourglass), strict=True))
    return {"threads": torch.get_num_threads(), **{f"{net}_s": s for net, s in seconds.items()}}


def _spawn(threads: int, n: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    cmd = [sys.executable, str(Path(__file__)), "--worker", str(threads), str(n)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"bench/threads.py: a worker failed with exit code {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])


NETWORKS = ("prcnn", "prcnn_with_heatmaps", "hourglass")


def throughput_ratios(one: dict, pair: list[dict]) -> dict[str, float]:
    """Per network: the crops per second of the processes side by side over the one process's
    (their epochs are equally long, so crops per second is 1 / seconds per epoch)."""
    return {f"{net}_throughput_ratio": sum(1 / w[f"{net}_s"] for w in pair) * one[f"{net}_s"] for net in NETWORKS}


def main(n: int) -> dict:
    one = _result(_spawn(2, n))
    pair = [_result(p) for p in [_spawn(1, n), _spawn(1, n)]]
    report = {"crops": n, "cores": os.cpu_count(), "one_process_two_threads": one, "two_processes_one_thread": pair}
    return report | throughput_ratios(one, pair)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        report = main(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
        (HERE / "threads.json").write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(report, indent=1))
