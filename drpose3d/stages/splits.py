"""Which training rows stage 1 fits and which it validates on, and the subject halves that
cross-fitted rankings come from. Never a test subject: everything here splits the training split.
Its code is part of every stage-1 key (:meth:`drpose3d.stages.pipeline.Context.stage1_key`)."""

from __future__ import annotations

import torch

from drpose3d.worlds.samples import Samples

#: Stage 1's validation set: every VALIDATION_EVERY-th clip of the training subjects, at most
#: VALIDATION_MAX samples of it (scored after every epoch).
VALIDATION_EVERY = 5
VALIDATION_MAX = 1024


def subject_half(train: Samples, train_subjects: tuple[str, ...], half: int) -> torch.Tensor:
    """Training samples of every other training subject, from the first (`half` 0) or the second
    (1); with a single training subject, every other clip of it."""
    names = [n for n in train_subjects if n in train.subject_names]
    if len(names) < 2:
        return torch.isin(train.sequence, train.sequence.unique()[half::2])
    return train.mask_subjects(tuple(names[half::2]))


def held_out_split(train: Samples, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(fit, validation) masks over `train` from the candidate `rows` (a mask): every
    VALIDATION_EVERY-th of their clips held out whole, at most VALIDATION_MAX of its samples scored,
    evenly spaced. Fewer than VALIDATION_EVERY clips: no validation (training runs to its cap)."""
    clips = train.sequence[rows].unique()
    held = torch.isin(train.sequence, clips[VALIDATION_EVERY - 1 :: VALIDATION_EVERY])
    scored = (rows & held).nonzero()[:, 0]
    val = torch.zeros_like(held)
    val[scored[:: -(-len(scored) // VALIDATION_MAX) or 1]] = True
    return rows & ~held, val
