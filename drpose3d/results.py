"""The fixed results-JSON schema: one file per notebook, rows with per-seed values."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .fileio import write_text_atomic
from .metrics import mean_ci95


def make_row(name: str, metric: str, values: list[float], paper: float | None, **extra) -> dict:
    """A row with mean and t-interval over seeds; `paper` is the paper's number (or None)."""
    mean, ci = mean_ci95(values)
    return {"name": name, "metric": metric, "values": [round(v, 4) for v in values], "mean": round(mean, 4),
            "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)], "paper": paper, **extra}


def write_results(out: str | Path, notebook: str, dataset: str, preset: str, seeds: list[int], rows: list[dict],
                  started: float, **extra) -> dict:
    """Write ``out/results/<notebook>.json`` atomically and return the dict."""
    result = {"notebook": notebook, "dataset": dataset, "preset": preset, "seeds": seeds, "rows": rows,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "package_version": __version__, "wall_s": round(time.time() - started, 1), **extra}
    write_text_atomic(Path(out) / "results" / f"{notebook}.json", json.dumps(result, indent=1))
    return result
