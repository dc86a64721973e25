"""The claims ledger: each claim of the paper as a paired, per-seed effect read from the other
notebooks' results JSON, with its interval and a verdict decided by one rule.

A claim has an expected sign (and, where the paper states one, a size). Verdicts:
``reproduced`` — the 95 % interval excludes zero on the expected side and contains the paper's
size (or the paper states no size); ``reproduced in direction only`` — excludes zero on the
expected side but misses the paper's size; ``not reproduced`` — the interval includes zero or lies
on the other side; ``not run`` — a result it needs is absent. With one seed there is no interval,
and a claim is never called reproduced.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .metrics import mean_ci95
from .results import load_results

REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN = "reproduced", "reproduced in direction only", "not reproduced", "not run"


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str  # the paper's words, shortened
    paper: float | None  # the paper's size of the effect, in `unit`
    sign: int  # -1: the effect should be negative (an error drops), +1: positive
    unit: str
    notebooks: tuple[str, ...]  # where its numbers come from (the chapter to link)
    effect: Callable[[dict[str, dict]], list[float]]  # per-seed effects from {notebook: {row: row dict}}


def _diff(nb: str, a: str, b: str) -> Callable[[dict], list[float]]:
    """Per-seed a - b of two rows of one notebook."""
    return lambda r: [x - y for x, y in zip(r[nb][a]["values"], r[nb][b]["values"])]


def _row(nb: str, name: str) -> Callable[[dict], list[float]]:
    return lambda r: list(r[nb][name]["values"])


def _gap(r: dict) -> list[float]:
    """(P3 - P1) of DRPose3D minus (P3 - P1) of the baseline, per seed."""
    t = r["table2_protocols"]
    return [(o3 - o1) - (b3 - b1) for o3, o1, b3, b1 in zip(t["ours_p3"]["values"], t["ours_p1"]["values"],
                                                          t["baseline_p3"]["values"], t["baseline_p1"]["values"])]


def _worst_of(*parts: Callable[[dict], list[float]]) -> Callable[[dict], list[float]]:
    """A claim made of several comparisons (all must hold): per seed, the least favourable one."""
    return lambda r: [min(v) for v in zip(*(p(r) for p in parts))]


CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "Ground-truth ranking lowers MPJPE by about a third (Table 1: 45.5 → 30.2 mm)", -33.6, -1, "%",
          ("table1_upper_bound",), _row("table1_upper_bound", "gt_rank_vs_no_rank")),
    Claim("C2", "PRCNN-predicted ranking lowers MPJPE (Table 1: 45.5 → 41.2 mm)", -9.5, -1, "%",
          ("table1_upper_bound",), _row("table1_upper_bound", "pred_rank_vs_no_rank")),
    Claim("C3", "Heatmaps raise PRCNN's pairwise accuracy (+2.36 points)", 2.36, 1, "points",
          ("fig5a_prcnn_ablation",), _diff("fig5a_prcnn_ablation", "prcnn_resnet34", "prcnn_resnet34_no_heatmaps")),
    Claim("C4", "ResNet-34 is at least as good as ResNet-18 and ResNet-50 (worse of the two differences)", None, 1, "points",
          ("fig5a_prcnn_ablation",), _worst_of(_diff("fig5a_prcnn_ablation", "prcnn_resnet34", "prcnn_resnet18"),
                                              _diff("fig5a_prcnn_ablation", "prcnn_resnet34", "prcnn_resnet50"))),
    Claim("C5", "DepthNet beats concatenating the raw ranking matrix (protocol #3: 66.0 → 62.8 mm)", -3.2, -1, "mm",
          ("fig5b_dpnet_ablation",), _diff("fig5b_dpnet_ablation", "full", "no_depthnet")),
    Claim("C6", "Augmentation helps protocol #3 (69.0 → 64.8 mm)", -4.2, -1, "mm",
          ("fig5b_dpnet_ablation",), _diff("fig5b_dpnet_ablation", "aug_gt_only", "no_aug")),
    Claim("C7", "GMM noise and the statistical flip help further (64.8 → 62.8 mm; the text says −2.1)", -2.0, -1, "mm",
          ("fig5b_dpnet_ablation",), _diff("fig5b_dpnet_ablation", "full", "aug_gt_only")),
    Claim("C8", "The protocol #3 − #1 gap shrinks with ranking and augmentation (22.0 → 5.0 mm)", -17.0, -1, "mm",
          ("table2_protocols",), _gap),
    Claim("C9", "Torso pairs are ranked least accurately, the shoulders among the most (torso − other pairs; "
          "shoulders − other pairs; worse of the two, sign-aligned)", None, -1, "points",
          ("fig6_pairwise_accuracy",), lambda r: [max(t, -s) for t, s in zip(
              _diff("fig6_pairwise_accuracy", "torso_pairs_mean", "other_pairs_mean")(r),
              _diff("fig6_pairwise_accuracy", "pair_LShoulder_RShoulder", "other_pairs_mean")(r))]),
    Claim("C10", "DepthNet is more robust to ranking noise than a topological sort (MPJPE, DepthNet − sort)", None, -1, "mm",
          ("ranking_to_depth",), _diff("ranking_to_depth", "mpjpe_depthnet", "mpjpe_topological")),
)


def verdict(values: list[float], sign: int, paper: float | None) -> tuple[str, float | None, tuple[float, float] | None]:
    """The rule of the module docstring applied to per-seed effects: (verdict, mean, interval)."""
    if not values:
        return NOT_RUN, None, None
    mean, ci = mean_ci95(values)
    if ci is None:
        return NOT_REPRODUCED, mean, None
    lo, hi = ci
    if not (hi < 0 if sign < 0 else lo > 0):
        return NOT_REPRODUCED, mean, ci
    if paper is None or lo <= paper <= hi:
        return REPRODUCED, mean, ci
    return DIRECTION, mean, ci


def ledger(out: str | Path) -> list[dict]:
    """One results-schema row per claim from ``out/results`` (name = claim id, metric = its unit):
    per-seed effects, interval, verdict, and the dataset and preset they came from."""
    rows = []
    for claim in CLAIMS:
        results = {}
        for nb in claim.notebooks:
            try:
                results[nb] = load_results(out, nb)
            except FileNotFoundError:
                pass
        tables = {nb: {r["name"]: r for r in res["rows"]} for nb, res in results.items()}
        try:
            values = claim.effect(tables) if len(tables) == len(claim.notebooks) else []
        except KeyError:  # a row the claim needs was not run
            values = []
        decision, mean, ci = verdict(values, claim.sign, claim.paper)
        first = next(iter(results.values()), None)
        rows.append({"name": claim.id, "metric": claim.unit, "statement": claim.statement, "paper": claim.paper,
                     "values": [round(v, 4) for v in values], "mean": None if mean is None else round(mean, 4),
                     "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)], "verdict": decision,
                     "notebooks": list(claim.notebooks),
                     "dataset": first["dataset"] if first else None, "preset": first["preset"] if first else None})
    return rows


def _measured(r: dict) -> str:
    if r["mean"] is None:
        return "—"
    ci = f" [{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}]" if r["ci95"] else " (one seed)"
    return f"{r['mean']:+.2f}{ci} {r['metric']}"


def html_table(rows: list[dict], link: Callable[[str], str]) -> str:
    """The ledger as an HTML table for the book (myst-nb does not parse tables in Markdown outputs)."""
    import pandas as pd

    frame = pd.DataFrame([{"claim": f"<b>{r['name']}</b> {r['statement']}",
                           "paper": "—" if r["paper"] is None else f"{r['paper']:+g} {r['metric']}",
                           "this run (95 % CI)": _measured(r), "verdict": r["verdict"],
                           "data, preset": f"{r['dataset']}, {r['preset']}" if r["dataset"] else "—",
                           "chapter": ", ".join(f'<a href="{link(nb)}">{nb}</a>' for nb in r["notebooks"])} for r in rows])
    return frame.to_html(escape=False, index=False)


def markdown_table(rows: list[dict], link: Callable[[str], str] | None = None) -> str:
    """The ledger as a Markdown table (the README); `link(notebook)` gives each row's chapter target."""
    lines = ["| claim | paper | this run (95 % CI) | verdict | data, preset | chapter |", "|---|---|---|---|---|---|"]
    for r in rows:
        paper = "—" if r["paper"] is None else f"{r['paper']:+g} {r['metric']}"
        where = f"{r['dataset']}, {r['preset']}" if r["dataset"] else "—"
        chapters = ", ".join(f"[{nb}]({link(nb)})" if link else nb for nb in r["notebooks"])
        lines.append(f"| **{r['name']}** {r['statement']} | {paper} | {_measured(r)} | "
                     f"{r['verdict']} | {where} | {chapters} |")
    return "\n".join(lines)
