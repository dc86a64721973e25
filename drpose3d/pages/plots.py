"""Results as charts (this run beside the paper, intervals, per joint, per pair), and the offline
renderer every figure of the book needs. Poses, cameras and images are drawn by
:mod:`drpose3d.pages.scenes`.

Plotly's default renderer in a kernel emits only ``application/vnd.plotly.v1+json``,
which Jupyter Book cannot show, and the "connected" one loads plotly.js from a CDN. The
``drpose3d`` renderer emits both the plotly JSON (JupyterLab draws it live) and an HTML div
without the library; the book loads one local ``_static/plotly.min.js`` for all figures.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

from drpose3d.book.labels import row_label
from drpose3d.book.results import (
    CURVE_HISTORY,
    HOURGLASS_CURVE,
    JOINTS,
    MPJPE_MM,
    PAIRWISE_PCT,
    RANKING_ACCURACY,
    kept_epoch,
    seed_mean,
)
from drpose3d.engine.train import STEPS
from drpose3d.markup import text
from drpose3d.pages.headlines import figure_title
from drpose3d.paper import Arm, fig4_row
from drpose3d.stages.pose2d import PCK10, SWAP_RATE
from drpose3d.stages.prcnn import VAL_ACC

PAPER_COLOUR, OURS_COLOUR = "#9e9e9e", "#1f77b4"
#: Bar charts' legend sits above the plot: at the right it took half of the book's text column.
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}
#: Characters of category labels one line of the x axis holds across the text column (about 560 px of
#: plot at 11-px type): the labels share them, so that level labels never overlap (rotated long ones
#: shrank the plot to a third of the column).
AXIS_CHARACTERS = 84


def categories(labels: list[str]) -> list[str]:
    """Category labels broken into lines Plotly draws level under their bars, each within its share."""
    width = max(10, AXIS_CHARACTERS // max(len(labels), 1))
    lines = [textwrap.wrap(label, width, break_long_words=False, break_on_hyphens=False) for label in labels]
    return ["<br>".join(parts) or label for parts, label in zip(lines, labels, strict=True)]


def _chart_layout(fig: go.Figure, title: str, x_title: str, metric_title: str) -> None:
    """Every 2D chart's frame: both axes titled, level tick labels, and the legend above the plot (at
    the right it took half the text column from the data)."""
    fig.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=metric_title, height=460, legend=LEGEND_ABOVE, margin={"t": 110}
    )
    fig.update_xaxes(tickangle=0)


class BookRenderer(MimetypeRenderer):
    """Figures as plotly JSON plus HTML without plotly.js inline: the book serves one local copy."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(fig_dict, include_plotlyjs=False, full_html=False, validate=False)
        return {"application/vnd.plotly.v1+json": fig_dict, "text/html": html}


def use_offline_renderer() -> None:
    """Make ``fig.show()`` produce output the offline book can render."""
    pio.renderers["drpose3d"] = BookRenderer()
    pio.renderers.default = "drpose3d"


def plotly_js_path() -> Path:
    """The plotly.min.js shipped inside the installed plotly package."""
    return Path(pio.__file__).resolve().parents[1] / "package_data" / "plotly.min.js"


def ours_vs_paper(rows: list[dict], metric_title: str, *, x_title: str, title: str = "") -> go.Figure:
    """Grouped bars: this run's mean with its 95 % interval beside the paper's number; `x_title` says
    what the bars are (the page check fails an axis with tick labels and no title)."""
    x = categories([row_label(r["name"]) for r in rows])
    fig = go.Figure(
        [
            go.Bar(name="paper (Human3.6M)", x=x, y=[r["paper"] for r in rows], marker_color=PAPER_COLOUR),
            go.Bar(
                name=f"this run ({bars_note(rows)})",
                x=x,
                y=[r["mean"] for r in rows],
                marker_color=OURS_COLOUR,
                error_y=_ci_bars(rows),
            ),
        ]
    )
    _chart_layout(fig, title, x_title, metric_title)
    fig.update_layout(barmode="group")
    return fig


def pair_matrix(matrix: list[list[float]], names: list[str], title: str = "") -> go.Figure:
    """Fig. 6: per-pair ranking accuracy (%) as a heatmap with joint names."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Viridis",
            zmin=50,
            zmax=100,
            colorbar={"title": "accuracy %"},
            hovertemplate="%{y} vs %{x}: %{z:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        title=title, height=600, xaxis_title="joint", yaxis={"autorange": "reversed", "title": {"text": "joint"}}
    )
    return fig


def per_joint(result: dict) -> go.Figure:
    """Fig. 4: per-joint MPJPE of the baseline and DRPose3D with 95 % intervals."""
    by = {r["name"]: r for r in result["rows"]}
    fig = go.Figure()
    for arm, label, colour in (
        (Arm.BASELINE, "baseline (Martinez et al.)", "#d62728"),
        (Arm.OURS, "DRPose3D", OURS_COLOUR),
    ):
        rows = [by[fig4_row(arm, j)] for j in result[JOINTS]]
        fig.add_trace(
            go.Bar(
                name=f"{label} ({bars_note(rows)})",
                x=result[JOINTS],
                y=[r["mean"] for r in rows],
                marker_color=colour,
                error_y=_ci_bars(rows),
            )
        )
    _chart_layout(fig, figure_title("Per-joint error, protocol #1, detected 2D", result), "joint", MPJPE_MM)
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickangle=-45)  # 16 short joint names: level, they would overlap
    return fig


def bars_note(rows: list[dict]) -> str:
    """What a chart's bars are, for its legend: a reader must not guess."""
    seeds = max(len(r["values"]) for r in rows)
    return f"mean of {seeds} seeds, bars: 95 % t-interval" if seeds > 1 else "one seed, no interval"


def _ci_bars(rows: list[dict]) -> dict:
    """Plotly's error bars for rows' 95 % intervals (none for a row of one seed)."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [r["ci95"][1] - r["mean"] if r["ci95"] else 0 for r in rows],
        "arrayminus": [r["mean"] - r["ci95"][0] if r["ci95"] else 0 for r in rows],
    }


def measured_bars(rows: list[dict], metric_title: str, *, x_title: str, title: str = "") -> go.Figure:
    """This run's means with 95 % intervals, for analyses the paper has no numbers for."""
    fig = go.Figure(
        go.Bar(
            name=f"this run ({bars_note(rows)})",
            x=categories([row_label(r["name"]) for r in rows]),
            y=[r["mean"] for r in rows],
            marker_color=OURS_COLOUR,
            error_y=_ci_bars(rows),
        )
    )
    _chart_layout(fig, title, x_title, metric_title)
    fig.update_layout(showlegend=True)
    return fig


def noise_curve(rows: list[dict], prcnn: tuple[float, float] | None, title: str = "") -> go.Figure:
    """MPJPE against the ranking accuracy of flipped ground-truth rankings, with PRCNN's
    (accuracy, MPJPE) marked when known."""
    acc = [seed_mean(r[RANKING_ACCURACY]) for r in rows]
    fig = go.Figure(
        go.Scatter(
            x=acc,
            y=[r["mean"] for r in rows],
            mode="lines+markers",
            name=f"flipped GT ranking ({bars_note(rows)})",
            error_y=_ci_bars(rows),
            text=[r["name"] for r in rows],
            marker_color=OURS_COLOUR,
        )
    )
    if prcnn is not None:
        fig.add_trace(
            go.Scatter(
                x=[prcnn[0]],
                y=[prcnn[1]],
                mode="markers",
                name="PRCNN's rankings (Table 1)",
                marker={"size": 12, "symbol": "star", "color": "#d62728"},
            )
        )
    _chart_layout(fig, title, "pairwise ranking accuracy of the input (%)", MPJPE_MM)
    return fig


def training_curves(curves: dict[str, list[dict]], title: str = "") -> go.Figure:
    """Stage 1's validation scores against optimiser steps, one line per network and seed, a
    marker where the kept weights were (the best epoch): flat tails show convergence."""
    from plotly.subplots import make_subplots

    panels = ("PRCNN and the 2D-only floors:<br>validation accuracy (%)", "hourglass: PCK@10<br>and swaps (%)")
    fig = make_subplots(rows=1, cols=2, subplot_titles=panels)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    for i, (name, seeds) in enumerate(curves.items()):
        colour = palette[i % len(palette)]
        metrics = ((PCK10, 100, "PCK@10"), (SWAP_RATE, 100, "swap rate")) if name == HOURGLASS_CURVE else (
            (VAL_ACC, 1, "validation"),)  # fmt: skip
        for seed, run in enumerate(seeds):
            steps = [h[STEPS] for h in run[CURVE_HISTORY]]
            for metric, scale, label in metrics:
                dash = "dot" if metric == SWAP_RATE else None
                fig.add_trace(
                    go.Scatter(x=steps, y=[scale * h[metric] for h in run[CURVE_HISTORY]], mode="lines",
                               line={"color": colour, "dash": dash}, legendgroup=f"{name} {label}",
                               name=text(f"{row_label(name) if name != HOURGLASS_CURVE else name} {label}"),
                               showlegend=seed == 0),
                    row=1, col=2 if name == HOURGLASS_CURVE else 1,
                )  # fmt: skip
                best = kept_epoch(run)
                fig.add_trace(
                    go.Scatter(x=[best[STEPS]], y=[scale * best[metric]], mode="markers", showlegend=False,
                               marker={"color": colour, "symbol": "diamond", "size": 9}, legendgroup=f"{name} {label}"),
                    row=1, col=2 if name == HOURGLASS_CURVE else 1,
                )  # fmt: skip
    fig.update_xaxes(title_text="optimiser steps")
    fig.update_yaxes(title_text=PAIRWISE_PCT, row=1, col=1)
    fig.update_yaxes(title_text="% of joints / of left-right pairs", row=1, col=2)
    fig.update_layout(title=title, height=460, legend={"orientation": "h", "y": -0.25})
    return fig
