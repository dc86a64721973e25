"""Cache blocking for long chains of elementwise tensor ops on the CPU."""

from __future__ import annotations

import torch

#: Rows per block: the intermediates of ~4k poses fit in a core's L2 cache, so a chain of
#: elementwise passes runs from cache instead of main memory (3-6x on 2 cores, bench/run.py).
CPU_BLOCK_ROWS = 4096


def row_blocks(rows: int, device: torch.device) -> list[slice]:
    """Slices covering `rows`: cache-sized blocks on the CPU, one slice on a GPU (whose kernels
    want the whole batch)."""
    step = CPU_BLOCK_ROWS if device.type == "cpu" else max(rows, 1)
    return [slice(start, min(start + step, rows)) for start in range(0, rows, step)]
