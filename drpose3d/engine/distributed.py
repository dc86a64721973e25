"""Several processes under ``torchrun``: who this process is, who writes, and what all agree on.

Every rank runs the same pipeline in the same order. Trainings are collective
(DistributedDataParallel: each batch split across the ranks, gradients averaged, so the preset's
batch size means the same on any number of processes); predictions are sharded by rank and
gathered; everything else is computed by each rank alike. Only rank 0 writes (cache entries,
checkpoints, results, the book), and every decision that could differ between ranks (is this
stage cached? has training reached its plateau?) is rank 0's, broadcast, so no rank can wait on
a collective the others skip. Without ``torchrun`` every function here is the identity.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")
#: How long a rank waits at a collective for the others: a stage-1 epoch or a cache load of rank 0.
TIMEOUT = timedelta(hours=2)


def launched() -> bool:
    """True in a process that ``torchrun`` started as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def launched_rank() -> int:
    """The rank ``torchrun`` gave this process (0 outside it), known before the group is joined."""
    return int(os.environ.get("RANK", "0")) if launched() else 0


def rank_world() -> tuple[int, int]:
    """(rank, number of ranks) of this process; (0, 1) outside an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def writer() -> bool:
    """Whether this process writes files: rank 0, or the only process."""
    return rank_world()[0] == 0


def agree(value: T) -> T:
    """Rank 0's `value` on every rank (a picklable object)."""
    if rank_world()[1] == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard(n: int) -> range:
    """This rank's contiguous share of `n` rows (the first ranks take one more when uneven)."""
    rank, world = rank_world()
    per, extra = divmod(n, world)
    start = rank * per + min(rank, extra)
    return range(start, start + per + (rank < extra))


def gather(part: object) -> list:
    """Every rank's `part`, in rank order, on every rank."""
    world = rank_world()[1]
    if world == 1:
        return [part]
    parts: list = [None] * world
    dist.all_gather_object(parts, part)
    return parts


def barrier() -> None:
    if rank_world()[1] > 1:
        dist.barrier()


@contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the process group ``torchrun`` describes in the environment (NCCL on GPUs, one per
    local rank; gloo on CPUs) for the duration; nothing outside ``torchrun``."""
    if not launched() or dist.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    try:
        yield
    finally:
        dist.destroy_process_group()
