"""What names a stage's cache entry: the stage (as the paper names it), the seed it draws for a
run's seed k, and its key. The chain (:mod:`drpose3d.stages.pipeline`) derives every key here, so a
key is never typed and a stage is the same name in the cache, the results and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from drpose3d.engine.keys import code_digest, config_key
from drpose3d.run import Run


class Stage(StrEnum):
    """The pipeline's stages in order, named as the paper names them (the names the ledger shows)."""

    WORLD = "world"
    IMAGES = "images"
    POSE2D = "2D pose"
    PRCNN = "PRCNN"
    DPNET = "DPNet"

    @property
    def kind(self) -> str:
        """The stage's folder in the cache."""
        return self.name.lower()


STAGES = tuple(Stage)


def seeded_stages(run: Run) -> tuple[Stage, ...]:
    """The stages whose randomness seed k of `run` draws anew: all of them, except a world read
    from files (recorded motion is not sampled)."""
    return tuple(s for s in STAGES if not (s is Stage.WORLD and run.data.recorded))


#: Lifter seeds of replicate r of pipeline seed k: k + r * LIFTER_REPLICATE_STRIDE, far from any
#: pipeline seed a run uses, so no replicate repeats another seed's lifter.
LIFTER_REPLICATE_STRIDE = 1000


def lifter_seed(seed: int, replicate: int) -> int:
    """The DPNet seed of a lifter `replicate` on pipeline seed `seed`: replicate 0 is the pipeline's own
    (its cache key unchanged), the others train the same network on the same inputs from another
    draw of weights and batch order, which is all a lifter seed varies."""
    if replicate < 0:
        raise ValueError(f"replicate is {replicate}, expected 0 or more")
    return seed + replicate * LIFTER_REPLICATE_STRIDE


def stage_key(stage: Stage, code: Callable, *parts: object) -> str:
    """A stage entry's key: its stage, the digest of the source of the stage function `code` (and
    of the package modules it imports), and `parts`: upstream keys, configuration, seed."""
    return config_key(stage.kind, code_digest(code), parts)
