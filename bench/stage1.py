"""Stage 1 to convergence (issue 32): train one seed's hourglass, PRCNN-34 and the 2D-only floors
of a run through the pipeline, then write their training curves to ``bench/stage1-DATA.json``:
``python bench/stage1.py OUT [PRESET] [DATA]``. With ``--double`` it trains PRCNN-34 alone again with
twice the preset's budget (twice the epoch cap and twice the patience at each learning rate) into
``bench/stage1-DATA-double-capN.json`` (N: the preset's epoch cap, so a later doubling keeps the earlier
one's curves): issue 32's test that doubling the budget no longer helps. ``--fraction OUT F`` trains
the hourglass and PRCNN-34 alone again on a fixed schedule of F times the preset's epoch caps, decaying
the rate a hundredfold (the two tenfold drops of the plateau schedule, compressed), into
``bench/stage1-DATA-fractionF.json``: what a stage 1 small enough for one sitting would give.

It runs inside the run's cache (``OUT/cache``), so the networks it trains are the ones
``drpose3d reproduce --out OUT`` then loads: the evidence costs no second training. The curves
are summarised in ``bench/stage1.md`` (written by hand from the JSON, with its numbers).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from drpose3d.engine.train import TrainConfig
from drpose3d.pages.image_half import half_budget
from drpose3d.paper import Fig5a
from drpose3d.run import Run, resolve
from drpose3d.stages.pipeline import Context, open_context
from drpose3d.stages.pose2d import PCK10
from drpose3d.stages.prcnn import VAL_ACC

HERE = Path(__file__).resolve().parent


def _curve(history: list[dict], best_epoch: int, metric: str, seconds: float) -> dict:
    end, half, steps = half_budget({"history": history, "best_epoch": best_epoch}, metric)
    return {"history": history, "best_epoch": best_epoch, "epochs_run": len(history), "steps_kept": steps,
            "score_kept": end, "best_in_half_steps": half, "wall_s": round(seconds, 1)}  # fmt: skip


def doubled(run: Run) -> Run:
    """`run` with PRCNN's training budget doubled: a new cache entry beside the preset's, on the
    same hourglass (its key does not hold PRCNN's budget)."""
    train = run.preset.prcnn_train
    prcnn_train = replace(train, epochs=2 * train.epochs, patience=2 * train.patience)
    return replace(run, preset=replace(run.preset, prcnn_train=prcnn_train))


def double(out: str, preset: str = "cpu", data: str = "synthetic") -> dict:
    """PRCNN-34 of seed 0 at twice the preset's budget, beside the preset's own (trained if absent)."""
    run = resolve(preset, data, out=out)
    report: dict = {"preset": preset, "data": data, "seed": 0}
    path = HERE / f"stage1-{data}-double-cap{run.preset.prcnn_train.epochs}.json"
    for label, ctx in (("preset budget", open_context(run, 0)), ("doubled budget", open_context(doubled(run), 0))):
        started = time.perf_counter()
        ranks = ctx.rankings(Fig5a.PRCNN_RESNET34)
        report[label] = _curve(ranks.history, ranks.best_epoch, VAL_ACC, time.perf_counter() - started)
        report[label].update(test_acc=ranks.accuracy, train=ctx.run.preset.prcnn_train.key())
        path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def compressed(run: Run, fraction: float) -> Run:
    """`run` with the hourglass' and PRCNN's budgets cut to `fraction` of their epoch caps, on a
    fixed exponential decay to a hundredth of the rate instead of early stopping: new cache
    entries beside the preset's (both trainings' keys hold their budgets)."""

    def cut(train: TrainConfig) -> TrainConfig:
        return replace(train, epochs=max(1, round(fraction * train.epochs)), patience=0, lr_final_fraction=0.01)

    p = run.preset
    return replace(run, preset=replace(p, hourglass_train=cut(p.hourglass_train), prcnn_train=cut(p.prcnn_train)))


def fraction(out: str, share: str, preset: str = "cpu", data: str = "synthetic") -> dict:
    """Seed 0's hourglass and PRCNN-34 (on that hourglass' heatmaps) at :func:`compressed` budgets."""
    part = float(share) if share.replace(".", "", 1).isdigit() else -1.0
    if not 0 < part <= 1:
        print(f"bench/stage1.py: --fraction is {share!r}, expected a number in (0, 1]", file=sys.stderr)
        sys.exit(2)  # the project's exit status for bad input
    run = compressed(resolve(preset, data, out=out), part)
    ctx, p = open_context(run, 0), run.preset
    report: dict = {"preset": preset, "data": data, "seed": 0, "fraction": part,
                    "hourglass_train": p.hourglass_train.key(), "prcnn_train": p.prcnn_train.key()}  # fmt: skip
    return _trained(ctx, report, HERE / f"stage1-{data}-fraction{share}.json", (Fig5a.PRCNN_RESNET34,))


def main(out: str, preset: str = "cpu", data: str = "synthetic") -> dict:
    ctx = open_context(resolve(preset, data, out=out), 0)
    report: dict = {"preset": preset, "data": data, "seed": 0, "train_samples": len(ctx.train),
                    "test_samples": len(ctx.test), "stride": ctx.world.stride}  # fmt: skip
    rankers = (Fig5a.PRCNN_RESNET34, Fig5a.FLOOR_2D_ONLY, Fig5a.FLOOR_2D_ONLY_DETECTED)
    return _trained(ctx, report, HERE / f"stage1-{data}.json", rankers)


def _trained(ctx: Context, report: dict, path: Path, rankers: tuple[Fig5a, ...]) -> dict:
    """Seed 0's hourglass, then each of `rankers`, with their curves added to `report` and written to
    `path` after every network: a stopped bench keeps what it measured."""
    started = time.perf_counter()
    stage = ctx.pose2d_stage()
    report["hourglass"] = _curve(stage.history, stage.best_epoch, PCK10, time.perf_counter() - started)
    report["hourglass"]["test"] = stage.detections["test"].errors
    path.write_text(json.dumps(report, indent=1) + "\n")
    make = {
        Fig5a.PRCNN_RESNET34: lambda: ctx.rankings(Fig5a.PRCNN_RESNET34),
        Fig5a.FLOOR_2D_ONLY: lambda: ctx.rankings_2d_only(False),
        Fig5a.FLOOR_2D_ONLY_DETECTED: lambda: ctx.rankings_2d_only(True),
    }
    for name in rankers:
        started = time.perf_counter()
        ranks = make[name]()
        report[str(name)] = _curve(ranks.history, ranks.best_epoch, VAL_ACC, time.perf_counter() - started)
        report[str(name)].update(test_acc=ranks.accuracy, train_acc_in_sample=ranks.train_accuracy)
        path.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--double", "--fraction")]
    result = (double if "--double" in sys.argv else fraction if "--fraction" in sys.argv else main)(*args)
    print(json.dumps({k: {m: v for m, v in r.items() if m != "history"} if isinstance(r, dict) else r
                      for k, r in result.items()}, indent=1))  # fmt: skip
