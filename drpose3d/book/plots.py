"""Plotly figures for the book, and the offline renderer they need.

Plotly's default renderer in a kernel emits only ``application/vnd.plotly.v1+json``,
which Jupyter Book cannot show, and the "connected" one loads plotly.js from a CDN. The
``drpose3d`` renderer emits both the plotly JSON (JupyterLab draws it live) and an HTML div
without the library; the book loads one local ``_static/plotly.min.js`` for all figures.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import torch
from plotly.io._base_renderers import MimetypeRenderer
from plotly.subplots import make_subplots

from drpose3d.paper import ROW_LABELS
from drpose3d.pose.camera import CAMERA_IDS, Cameras
from drpose3d.pose.skeleton import BONES, LEFT, RIGHT
from drpose3d.worlds.augment import CameraPrior

PAPER_COLOUR, OURS_COLOUR = "#9e9e9e", "#1f77b4"


class BookRenderer(MimetypeRenderer):
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


def _bone_colour(child: int) -> str:
    return "#d62728" if child in RIGHT else "#2ca02c" if child in LEFT else "#444444"


def skeleton_3d(pose: torch.Tensor, cameras: Cameras | None = None, title: str = "") -> go.Figure:
    """A world-space pose (17, 3) mm as 3D bones (right red, left green), with the cameras
    as points and their optical axes."""
    fig = go.Figure()
    p = pose.detach().cpu().double()
    for parent, child in BONES:
        seg = p[[parent, child]]
        fig.add_trace(
            go.Scatter3d(
                x=seg[:, 0],
                y=seg[:, 1],
                z=seg[:, 2],
                mode="lines+markers",
                line={"color": _bone_colour(child), "width": 6},
                marker={"size": 2},
                showlegend=False,
            )
        )
    if cameras is not None:
        c, a = cameras.centre.double(), cameras.optical_axis.double()
        fig.add_trace(
            go.Scatter3d(
                x=c[:, 0],
                y=c[:, 1],
                z=c[:, 2],
                mode="markers+text",
                text=list(CAMERA_IDS),
                marker={"size": 5, "color": "black", "symbol": "diamond"},
                name="cameras",
            )
        )
        for ci, ai in zip(c, a, strict=True):
            seg = torch.stack((ci, ci + 1500 * ai))
            fig.add_trace(
                go.Scatter3d(
                    x=seg[:, 0],
                    y=seg[:, 1],
                    z=seg[:, 2],
                    mode="lines",
                    line={"color": "black", "dash": "dash"},
                    showlegend=False,
                )
            )
    fig.update_layout(
        title=title,
        scene={
            "aspectmode": "data",
            "xaxis_title": "x (mm)",
            "yaxis_title": "y (mm)",
            "zaxis_title": "z up (mm)",
            "camera": {"eye": {"x": 0.45, "y": -0.45, "z": 0.3}},
        },
        height=560,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
    )
    return fig


def projections_2d(pose2d: torch.Tensor, resolution: torch.Tensor, title: str = "") -> go.Figure:
    """The same frame in each camera: (C, 17, 2) pixels, image y pointing down."""
    n = pose2d.shape[0]
    fig = make_subplots(rows=1, cols=n, subplot_titles=[f"camera {c}" for c in CAMERA_IDS[:n]])
    for k in range(n):
        q = pose2d[k].detach().cpu().double()
        for parent, child in BONES:
            seg = q[[parent, child]]
            fig.add_trace(
                go.Scatter(
                    x=seg[:, 0],
                    y=seg[:, 1],
                    mode="lines",
                    line={"color": _bone_colour(child), "width": 3},
                    showlegend=False,
                ),
                row=1,
                col=k + 1,
            )
        w, h = resolution[k].tolist()
        fig.update_xaxes(range=[0, w], row=1, col=k + 1, showticklabels=False)
        fig.update_yaxes(range=[h, 0], row=1, col=k + 1, scaleanchor=f"x{k + 1}" if k else "x", showticklabels=False)
    fig.update_layout(title=title, height=330, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def ours_vs_paper(rows: list[dict], metric_title: str, title: str = "") -> go.Figure:
    """Grouped bars: this run's mean with its 95 % interval beside the paper's number."""
    names = [r["name"] for r in rows]
    lo = [r["mean"] - r["ci95"][0] if r["ci95"] else 0 for r in rows]
    hi = [r["ci95"][1] - r["mean"] if r["ci95"] else 0 for r in rows]
    x = [ROW_LABELS.get(n, n) for n in names]
    fig = go.Figure(
        [
            go.Bar(name="paper (Human3.6M)", x=x, y=[r["paper"] for r in rows], marker_color=PAPER_COLOUR),
            go.Bar(
                name="this run",
                x=x,
                y=[r["mean"] for r in rows],
                marker_color=OURS_COLOUR,
                error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
            ),
        ]
    )
    fig.update_layout(barmode="group", title=title, yaxis_title=metric_title, height=420)
    return fig


def gallery(images: torch.Tensor, joints: torch.Tensor, titles: list[str], columns: int = 4) -> go.Figure:
    """Rendered crops (K, 3, R, R) uint8 with their 2D joints (K, 16, 2) in crop pixels."""
    k = images.shape[0]
    rows = (k + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.06)
    for i in range(k):
        r, c = i // columns + 1, i % columns + 1
        fig.add_trace(go.Image(z=images[i].permute(1, 2, 0).numpy()), row=r, col=c)
        fig.add_trace(
            go.Scatter(
                x=joints[i, :, 0].tolist(),
                y=joints[i, :, 1].tolist(),
                mode="markers",
                marker={"size": 5, "color": "yellow", "line": {"width": 1, "color": "black"}},
                showlegend=False,
            ),
            row=r,
            col=c,
        )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=260 * rows, margin={"l": 5, "r": 5, "t": 40, "b": 5})
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
    fig.update_layout(title=title, height=600, yaxis={"autorange": "reversed"})
    return fig


def camera_sphere(prior: CameraPrior, train: Cameras, held_out: Cameras, virtual: Cameras) -> go.Figure:
    """Sec. 3.3: virtual cameras on the sphere around V_c, beside the real training and
    held-out cameras, each with a short optical-axis stub."""
    fig = go.Figure()

    def cams(c: Cameras, name: str, colour: str, size: int, axis_mm: float) -> None:
        pos, ax = c.centre.double(), c.optical_axis.double()
        fig.add_trace(
            go.Scatter3d(
                x=pos[:, 0], y=pos[:, 1], z=pos[:, 2], mode="markers", name=name, marker={"size": size, "color": colour}
            )
        )
        tips = pos + axis_mm * ax
        xs, ys, zs = (
            [v for a, b in zip(pos[:, k].tolist(), tips[:, k].tolist(), strict=True) for v in (a, b, None)]
            for k in range(3)
        )
        fig.add_trace(
            go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line={"color": colour, "width": 2}, showlegend=False)
        )

    cams(virtual, "virtual cameras", "#9ecae1", 2, 400.0)
    cams(train, "training cameras (all training subjects)", "#1f77b4", 6, 1200.0)
    cams(held_out, "held-out camera (test)", "#d62728", 6, 1200.0)
    c = prior.centre.double()
    fig.add_trace(
        go.Scatter3d(
            x=[c[0]],
            y=[c[1]],
            z=[c[2]],
            mode="markers",
            name="V_c (Eq. 7)",
            marker={"size": 6, "color": "black", "symbol": "x"},
        )
    )
    fig.update_layout(
        scene={"aspectmode": "data", "xaxis_title": "x (mm)", "yaxis_title": "y (mm)", "zaxis_title": "z up (mm)"},
        height=600,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        title=f"Virtual cameras: distance ~ N({prior.distance_mean:.0f}, {prior.distance_std:.0f}) mm around V_c",
    )
    return fig


def _display(pose: torch.Tensor) -> torch.Tensor:
    """Camera frame (x right, y down, z forward) -> a z-up view for 3D plots."""
    p = pose.detach().cpu().double()
    return torch.stack((p[:, 0], p[:, 2], -p[:, 1]), dim=-1)


def qualitative(images: torch.Tensor, poses: dict[str, torch.Tensor], titles: list[str]) -> go.Figure:
    """Fig. 7: each frame's input crop beside the truth (black), the baseline (red, dotted) and
    DRPose3D (blue) as root-relative camera-frame skeletons in one 3D view."""
    k = images.shape[0]
    fig = make_subplots(
        rows=k,
        cols=2,
        column_widths=[0.3, 0.7],
        subplot_titles=[t for title in titles for t in (title, "")],
        specs=[[{"type": "xy"}, {"type": "scene"}] for _ in range(k)],
        vertical_spacing=0.02,
    )
    style = {"truth": ("black", "solid"), "baseline": ("#d62728", "dot"), "ours": (OURS_COLOUR, "solid")}
    for i in range(k):
        fig.add_trace(go.Image(z=images[i].permute(1, 2, 0).numpy()), row=i + 1, col=1)
        for name, pose in poses.items():
            q = _display(pose[i])
            xs, ys, zs = ([v for a, b in BONES for v in (float(q[a, d]), float(q[b, d]), None)] for d in range(3))
            colour, dash = style[name]
            fig.add_trace(
                go.Scatter3d(
                    x=xs,
                    y=ys,
                    z=zs,
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    line={"color": colour, "width": 5, "dash": dash},
                ),
                row=i + 1,
                col=2,
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_scenes(aspectmode="data", xaxis_title="x", yaxis_title="depth", zaxis_title="up")
    fig.update_layout(height=380 * k, margin={"l": 5, "r": 5, "t": 40, "b": 5})
    return fig


def per_joint(result: dict) -> go.Figure:
    """Fig. 4: per-joint MPJPE of the baseline and DRPose3D with 95 % intervals."""
    by = {r["name"]: r for r in result["rows"]}
    fig = go.Figure()
    for arm, label, colour in (
        ("baseline", "baseline (Martinez et al.)", "#d62728"),
        ("ours", "DRPose3D", OURS_COLOUR),
    ):
        rows = [by[f"{arm}_{j}"] for j in result["joints"]]
        fig.add_trace(
            go.Bar(
                name=label,
                x=result["joints"],
                y=[r["mean"] for r in rows],
                marker_color=colour,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r["ci95"][1] - r["mean"] if r["ci95"] else 0 for r in rows],
                    "arrayminus": [r["mean"] - r["ci95"][0] if r["ci95"] else 0 for r in rows],
                },
            )
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="MPJPE (mm)",
        height=420,
        title=f"Per-joint error, protocol #1, detected 2D — {result['dataset']}, {result['preset']} preset",
    )
    return fig


def _ci_bars(rows: list[dict]) -> dict:
    return {
        "type": "data",
        "symmetric": False,
        "array": [r["ci95"][1] - r["mean"] if r["ci95"] else 0 for r in rows],
        "arrayminus": [r["mean"] - r["ci95"][0] if r["ci95"] else 0 for r in rows],
    }


def measured_bars(rows: list[dict], metric_title: str, title: str = "") -> go.Figure:
    """This run's means with 95 % intervals, for analyses the paper has no numbers for."""
    fig = go.Figure(
        go.Bar(
            x=[ROW_LABELS.get(r["name"], r["name"]) for r in rows],
            y=[r["mean"] for r in rows],
            marker_color=OURS_COLOUR,
            error_y=_ci_bars(rows),
        )
    )
    fig.update_layout(title=title, yaxis_title=metric_title, height=420)
    return fig


def noise_curve(rows: list[dict], prcnn: tuple[float, float] | None, title: str = "") -> go.Figure:
    """MPJPE against the ranking accuracy of flipped ground-truth rankings, with PRCNN's
    (accuracy, MPJPE) marked when known."""
    acc = [sum(r["ranking_accuracy"]) / len(r["ranking_accuracy"]) for r in rows]
    fig = go.Figure(
        go.Scatter(
            x=acc,
            y=[r["mean"] for r in rows],
            mode="lines+markers",
            name="flipped GT ranking",
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
    fig.update_layout(
        title=title, xaxis_title="pairwise ranking accuracy of the input (%)", yaxis_title="MPJPE (mm)", height=440
    )
    return fig
