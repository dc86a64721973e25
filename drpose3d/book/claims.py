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

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drpose3d.book.results import load_results
from drpose3d.paper import (
    FIG5A,
    FIG5B,
    FIG5B_TEXT_STAT_AUG_MM,
    TABLE1,
    TABLE1_CHANGE_PCT,
    TABLE2,
    Arm,
    Fig5a,
    Fig5b,
    Fig6,
    RankingToDepth,
    Table1,
    table2_row,
)
from drpose3d.pose.metrics import mean_ci95

REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN = (
    "reproduced",
    "reproduced in direction only",
    "not reproduced",
    "not run",
)


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
    return lambda r: [x - y for x, y in zip(r[nb][a]["values"], r[nb][b]["values"], strict=True)]


def _row(nb: str, name: str) -> Callable[[dict], list[float]]:
    return lambda r: list(r[nb][name]["values"])


def _gap(r: dict) -> list[float]:
    """(P3 - P1) of DRPose3D minus (P3 - P1) of the baseline, per seed."""
    t = r[T2]
    rows = [t[table2_row(arm, k)]["values"] for arm in (Arm.OURS, Arm.BASELINE) for k in (3, 1)]
    return [(o3 - o1) - (b3 - b1) for o3, o1, b3, b1 in zip(*rows, strict=True)]


def _worst_of(*parts: Callable[[dict], list[float]]) -> Callable[[dict], list[float]]:
    """A claim made of several comparisons (all must hold): per seed, the least favourable one."""
    return lambda r: [min(v) for v in zip(*(p(r) for p in parts), strict=True)]


T1, F5A, F5B, T2, F6, R2D = (
    "table1_upper_bound",
    "fig5a_prcnn_ablation",
    "fig5b_dpnet_ablation",
    "table2_protocols",
    "fig6_pairwise_accuracy",
    "ranking_to_depth",
)
_t1 = TABLE1
_gaps = {arm: TABLE2[table2_row(arm, 3)] - TABLE2[table2_row(arm, 1)] for arm in (Arm.BASELINE, Arm.OURS)}
_paper_gap = _gaps[Arm.OURS] - _gaps[Arm.BASELINE]


def _fig5b(a: Fig5b, b: Fig5b) -> float:
    return round(FIG5B[a] - FIG5B[b], 2)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1",
        f"Ground-truth ranking lowers MPJPE by about a third (Table 1: {_t1[Table1.GT2D_NO_RANK]} → "
        f"{_t1[Table1.GT2D_GT_RANK]} mm)",
        TABLE1_CHANGE_PCT[Table1.GT_RANK_VS_NO_RANK],
        -1,
        "%",
        (T1,),
        _row(T1, Table1.GT_RANK_VS_NO_RANK),
    ),
    Claim(
        "C2",
        f"PRCNN-predicted ranking lowers MPJPE (Table 1: {_t1[Table1.GT2D_NO_RANK]} → {_t1[Table1.GT2D_PRED_RANK]} mm)",
        TABLE1_CHANGE_PCT[Table1.PRED_RANK_VS_NO_RANK],
        -1,
        "%",
        (T1,),
        _row(T1, Table1.PRED_RANK_VS_NO_RANK),
    ),
    Claim(
        "C3",
        f"Heatmaps raise PRCNN's pairwise accuracy ({FIG5A.where})",
        round(FIG5A[Fig5a.PRCNN_RESNET34] - FIG5A[Fig5a.PRCNN_RESNET34_NO_HEATMAPS], 2),
        1,
        "points",
        (F5A,),
        _diff(F5A, Fig5a.PRCNN_RESNET34, Fig5a.PRCNN_RESNET34_NO_HEATMAPS),
    ),
    Claim(
        "C4",
        "ResNet-34 is at least as good as ResNet-18 and ResNet-50 (worse of the two differences)",
        None,
        1,
        "points",
        (F5A,),
        _worst_of(
            _diff(F5A, Fig5a.PRCNN_RESNET34, Fig5a.PRCNN_RESNET18),
            _diff(F5A, Fig5a.PRCNN_RESNET34, Fig5a.PRCNN_RESNET50),
        ),
    ),
    Claim(
        "C5",
        f"DepthNet beats concatenating the raw ranking matrix (protocol #3: {FIG5B[Fig5b.NO_DEPTHNET]} → "
        f"{FIG5B[Fig5b.FULL]} mm)",
        _fig5b(Fig5b.FULL, Fig5b.NO_DEPTHNET),
        -1,
        "mm",
        (F5B,),
        _diff(F5B, Fig5b.FULL, Fig5b.NO_DEPTHNET),
    ),
    Claim(
        "C6",
        f"Augmentation helps protocol #3 ({FIG5B[Fig5b.NO_AUG]} → {FIG5B[Fig5b.AUG_GT_ONLY]} mm)",
        _fig5b(Fig5b.AUG_GT_ONLY, Fig5b.NO_AUG),
        -1,
        "mm",
        (F5B,),
        _diff(F5B, Fig5b.AUG_GT_ONLY, Fig5b.NO_AUG),
    ),
    Claim(
        "C7",
        f"GMM noise and the statistical flip help further ({FIG5B[Fig5b.AUG_GT_ONLY]} → {FIG5B[Fig5b.FULL]} mm; "
        f"the text says −{FIG5B_TEXT_STAT_AUG_MM})",
        _fig5b(Fig5b.FULL, Fig5b.AUG_GT_ONLY),
        -1,
        "mm",
        (F5B,),
        _diff(F5B, Fig5b.FULL, Fig5b.AUG_GT_ONLY),
    ),
    Claim(
        "C8",
        f"The protocol #3 − #1 gap shrinks with ranking and augmentation (Table 2: {_gaps[Arm.BASELINE]:.1f} → "
        f"{_gaps[Arm.OURS]:.1f} mm)",
        round(_paper_gap, 2),
        -1,
        "mm",
        (T2,),
        _gap,
    ),
    Claim(
        "C9",
        "Torso pairs are ranked least accurately, the shoulders among the most (torso − other pairs; "
        "shoulders − other pairs; worse of the two, sign-aligned)",
        None,
        -1,
        "points",
        (F6,),
        lambda r: [
            max(t, -s)
            for t, s in zip(
                _diff(F6, Fig6.TORSO_PAIRS_MEAN, Fig6.OTHER_PAIRS_MEAN)(r),
                _diff(F6, Fig6.PAIR_SHOULDERS, Fig6.OTHER_PAIRS_MEAN)(r),
                strict=True,
            )
        ],
    ),
    Claim(
        "C10",
        "DepthNet is more robust to ranking noise than a topological sort (MPJPE, DepthNet − sort)",
        None,
        -1,
        "mm",
        (R2D,),
        _diff(R2D, RankingToDepth.MPJPE_DEPTHNET, RankingToDepth.MPJPE_TOPOLOGICAL),
    ),
)


def verdict(
    values: list[float], sign: int, paper: float | None
) -> tuple[str, float | None, tuple[float, float] | None]:
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
        rows.append(
            {
                "name": claim.id,
                "metric": claim.unit,
                "statement": claim.statement,
                "paper": claim.paper,
                "values": [round(v, 4) for v in values],
                "mean": None if mean is None else round(mean, 4),
                "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
                "verdict": decision,
                "notebooks": list(claim.notebooks),
                "dataset": first["dataset"] if first else None,
                "preset": first["preset"] if first else None,
            }
        )
    return rows


def _measured(r: dict) -> str:
    if r["mean"] is None:
        return "—"
    ci = f" [{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}]" if r["ci95"] else " (one seed)"
    return f"{r['mean']:+.2f}{ci} {r['metric']}"


def html_table(rows: list[dict], link: Callable[[str], str]) -> str:
    """The ledger as an HTML table for the book (myst-nb does not parse tables in Markdown outputs)."""
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "claim": f"<b>{r['name']}</b> {r['statement']}",
                "paper": "—" if r["paper"] is None else f"{r['paper']:+g} {r['metric']}",
                "this run (95 % CI)": _measured(r),
                "verdict": r["verdict"],
                "data, preset": f"{r['dataset']}, {r['preset']}" if r["dataset"] else "—",
                "chapter": ", ".join(f'<a href="{link(nb)}">{nb}</a>' for nb in r["notebooks"]),
            }
            for r in rows
        ]
    )
    return frame.to_html(escape=False, index=False)


def markdown_table(rows: list[dict], link: Callable[[str], str] | None = None) -> str:
    """The ledger as a Markdown table (the README); `link(notebook)` gives each row's chapter target."""
    lines = ["| claim | paper | this run (95 % CI) | verdict | data, preset | chapter |", "|---|---|---|---|---|---|"]
    for r in rows:
        paper = "—" if r["paper"] is None else f"{r['paper']:+g} {r['metric']}"
        where = f"{r['dataset']}, {r['preset']}" if r["dataset"] else "—"
        chapters = ", ".join(f"[{nb}]({link(nb)})" if link else nb for nb in r["notebooks"])
        lines.append(
            f"| **{r['name']}** {r['statement']} | {paper} | {_measured(r)} | {r['verdict']} | {where} | {chapters} |"
        )
    return "\n".join(lines)
