"""What an experiment found and how it is recorded: :func:`experiment` gives every chapter's
experiment (:mod:`drpose3d.book.stage1`, :mod:`drpose3d.book.experiments`,
:mod:`drpose3d.book.analyses`) the same opening (one whole pipeline per seed, timed) and closing
(``OUT/results/<notebook>.json`` in the fixed schema), and registers it by its notebook for
``torchrun``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

import torch

from drpose3d.book.results import REPLAYED_S, SEEDED_STAGES, UNTIMED_CACHE_LOADS, write_results
from drpose3d.chapters import Notebook
from drpose3d.engine.cache import STAGE_TIMES, StageTimes
from drpose3d.run import Run
from drpose3d.stages.dpnet import gt_ranking
from drpose3d.stages.identity import seeded_stages
from drpose3d.stages.pipeline import Context, open_context


@dataclass
class Findings:
    """What an experiment found: rows, keys written beside them, and (not written) tensors for
    the notebook's figures."""

    rows: list[dict]
    extra: dict = field(default_factory=dict)
    seeds: list[int] | None = None  # when not the run's seeds
    figures: dict = field(default_factory=dict)


#: Each chapter's experiment by its notebook, filled as the modules defining them are imported:
#: what ``torchrun`` runs on every rank before the notebooks.
EXPERIMENTS: dict[Notebook, Callable[[Run], dict]] = {}


def experiment(fn: Callable[[list[Context]], Findings]) -> Callable[[Run], dict]:
    """Open one whole pipeline per seed of the run, time the work (with what a resumed run loaded
    back, see :class:`StageTimes`), write the results JSON under the function's name (which is the
    notebook's) with the stages the seeds vary, and return it with the figures' tensors."""

    notebook = Notebook(fn.__name__)  # an experiment is named as its chapter, or fails at import

    @wraps(fn)
    def run_experiment(run: Run) -> dict:
        started, times = time.time(), StageTimes(notebook)
        token = STAGE_TIMES.set(times)
        try:
            contexts = [open_context(run, s) for s in run.seeds]
            found = fn(contexts)
        finally:
            STAGE_TIMES.reset(token)
        result = write_results(
            run,
            notebook,
            contexts[0].world.label,
            found.rows,
            started,
            found.seeds,
            **{SEEDED_STAGES: list(seeded_stages(run))},
            data_digest=contexts[0].world.digest,
            **{REPLAYED_S: round(times.replayed_s, 1), UNTIMED_CACHE_LOADS: times.untimed_loads},
            **found.extra,
        )
        return {**result, **found.figures}

    EXPERIMENTS[notebook] = run_experiment

    return run_experiment


def gt_splits(ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (1) on the protocol #1 train and test samples."""
    eps = ctx.run.preset.eps_mm
    return gt_ranking(ctx.train, eps), gt_ranking(ctx.test, eps)


def sizes(ctx: Context) -> dict:
    """The protocol #1 sample counts a results JSON records beside its rows."""
    return {"train": len(ctx.train), "test": len(ctx.test)}
