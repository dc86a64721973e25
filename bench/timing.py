"""Timing helpers shared by every benchmark: best-of wall times, interleaved side by side so a drifting
shared machine cancels out of ratios, a whole command's wall time, and what machine it ran on."""

from __future__ import annotations

import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], object], device: torch.device, repeat: int = 1, warmup: bool = True) -> float:
    """Best wall time of `repeat` calls (after one warm-up call unless told not to), seconds."""
    return timed_side_by_side([fn], device, repeat, warmup)[0]


def timed_side_by_side(
    fns: list[Callable[[], object]], device: torch.device, repeat: int, warmup: bool = True
) -> list[float]:
    """Best wall time of each function over `repeat` rounds that call them in turn: on a shared
    machine whose speed drifts, a ratio of interleaved bests is steadier than two separate runs."""
    if warmup:
        for fn in fns:
            fn()
        sync(device)
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            sync(device)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def wall(cmd: list[str], cwd: Path) -> dict:
    """Wall time and exit code of a command; a failing run is recorded with the tail of its
    output, not hidden."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    result = {"seconds": time.perf_counter() - start, "exit_code": proc.returncode}
    if proc.returncode != 0:
        result["output_tail"] = (proc.stdout + proc.stderr)[-3000:]
    return result


def machine(device: torch.device) -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
