"""One function per table/figure. Each trains what it needs (through the cache), writes
``<out>/results/<notebook>.json`` in the fixed schema, and returns that dict."""
from __future__ import annotations

import time
from pathlib import Path

from .cache import Cache
from .dataset import protocol_split
from .lifting import gt_ranking, run_lifter
from .models.dpnet import LifterConfig
from .presets import get_preset
from .results import make_row, write_results
from .sources import load_world
from .train import resolve_device

#: Table 1 of the paper (protocol #1, ground-truth 2D), mm.
TABLE1_PAPER = {"gt2d_no_rank": 45.5, "gt2d_pred_rank": 41.2, "gt2d_gt_rank": 30.2}
TABLE1_PAPER_DROP_PCT = -33.6


def seed_list(seeds: int | list[int]) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds is {seeds}, expected a count >= 1 or a list of seeds")
        return list(range(seeds))
    return [int(s) for s in seeds]


def table1_upper_bound(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 2,
                       device: str = "auto", out: str | Path = "_out") -> dict:
    """Table 1 rows on ground-truth 2D: no ranking (Martinez baseline), ground-truth ranking
    (DPNet). An extra control, the two-stage PoseNet without ranking, separates the effect of
    ranking from that of the cascade. The predicted-ranking row needs PRCNN and is absent."""
    started = time.time()
    p, dev, seeds = get_preset(preset), resolve_device(device), seed_list(seeds)
    world = load_world(data, p)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    cache = Cache(Path(out) / "cache")
    r_train, r_test = gt_ranking(train, p.eps_mm), gt_ranking(test, p.eps_mm)
    configs = {
        "gt2d_no_rank": LifterConfig(ranking="none", stages=1, width=p.width),
        "gt2d_no_rank_cascade": LifterConfig(ranking="none", stages=2, width=p.width),
        "gt2d_gt_rank": LifterConfig(ranking="depthnet", stages=2, width=p.width),
    }
    runs = {
        name: [run_lifter(train, test, cfg, p.lifter_train, s, dev, r_train, r_test, cache,
                          (world.label, p.world, p.stride, p.eps_mm, "protocol1", "gt2d", "gt_rank"), desc=f"{name} seed {s}")
               for s in seeds]
        for name, cfg in configs.items()
    }
    rows = [
        make_row(name, "mpjpe_mm", [r["mpjpe"] for r in rs], TABLE1_PAPER.get(name),
                 per_action={a: [r["per_action"][a] for r in rs] for a in rs[0]["per_action"]},
                 p_mpjpe_mm=[r["p_mpjpe"] for r in rs])
        for name, rs in runs.items()
    ]
    drop = [100 * (g["mpjpe"] - b["mpjpe"]) / b["mpjpe"] for g, b in zip(runs["gt2d_gt_rank"], runs["gt2d_no_rank"])]
    rows.append(make_row("gt_rank_vs_no_rank", "relative_change_pct", drop, TABLE1_PAPER_DROP_PCT))
    return write_results(out, "table1_upper_bound", world.label, preset, seeds, rows, started,
                         samples={"train": len(train), "test": len(test)}, eps_mm=p.eps_mm, width=p.width,
                         epochs=p.lifter_train.epochs)
