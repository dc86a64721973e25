"""Stage 1 to convergence (issue 32): train one seed's hourglass, PRCNN-34 and the 2D-only floors
of a run through the pipeline, then write their training curves to ``bench/stage1-DATA.json``:
``python bench/stage1.py OUT [PRESET] [DATA]``.

It runs inside the run's cache (``OUT/cache``), so the networks it trains are the ones
``drpose3d reproduce --out OUT`` then loads: the evidence costs no second training. The curves
are summarised in ``bench/stage1.md`` (written by hand from the JSON, with its numbers).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from drpose3d.pages.convergence import half_budget
from drpose3d.paper import Fig5a
from drpose3d.run import resolve
from drpose3d.stages.pipeline import open_context

HERE = Path(__file__).resolve().parent


def _curve(history: list[dict], best_epoch: int, metric: str, seconds: float) -> dict:
    end, half, steps = half_budget({"history": history, "best_epoch": best_epoch}, metric)
    return {"history": history, "best_epoch": best_epoch, "epochs_run": len(history), "steps_kept": steps,
            "score_kept": end, "score_at_half_steps": half, "wall_s": round(seconds, 1)}  # fmt: skip


def main(out: str, preset: str = "cpu", data: str = "synthetic") -> dict:
    ctx = open_context(resolve(preset, data, out=out), 0)
    report: dict = {"preset": preset, "data": data, "seed": 0, "train_samples": len(ctx.train),
                    "test_samples": len(ctx.test), "stride": ctx.world.stride}  # fmt: skip
    path = HERE / f"stage1-{data}.json"
    started = time.perf_counter()
    stage = ctx.pose2d_stage()
    report["hourglass"] = _curve(stage.history, stage.best_epoch, "pck10", time.perf_counter() - started)
    report["hourglass"]["test"] = stage.detections["test"].errors
    path.write_text(json.dumps(report, indent=1) + "\n")  # after every network: a stopped bench keeps its curves
    for name, make in (
        (Fig5a.PRCNN_RESNET34, lambda: ctx.rankings(Fig5a.PRCNN_RESNET34)),
        (Fig5a.FLOOR_2D_ONLY, lambda: ctx.rankings_2d_only(False)),
        (Fig5a.FLOOR_2D_ONLY_DETECTED, lambda: ctx.rankings_2d_only(True)),
    ):
        started = time.perf_counter()
        ranks = make()
        report[str(name)] = _curve(ranks.history, ranks.best_epoch, "val_acc", time.perf_counter() - started)
        report[str(name)].update(test_acc=ranks.accuracy, train_acc_in_sample=ranks.train_accuracy)
        path.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    result = main(*sys.argv[1:])
    print(json.dumps({k: {m: v for m, v in r.items() if m != "history"} if isinstance(r, dict) else r
                      for k, r in result.items()}, indent=1))  # fmt: skip
