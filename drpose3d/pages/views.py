"""What each camera sees, in its own pixels: one frame's 2D pose in every camera of the rig, and
rendered crops with their 2D joints. Scenes in 3D are :mod:`drpose3d.pages.scenes`."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from drpose3d.book.labels import camera_name
from drpose3d.pages.scenes import bone_colour
from drpose3d.pose.skeleton import BONES


def projections_2d(pose2d: torch.Tensor, resolution: torch.Tensor, title: str = "") -> go.Figure:
    """The same frame in each camera: (C, 17, 2) pixels, image y pointing down."""
    n = pose2d.shape[0]
    fig = make_subplots(rows=1, cols=n, subplot_titles=[camera_name(k) for k in range(n)])
    for k in range(n):
        q = pose2d[k].detach().cpu().double()
        for parent, child in BONES:
            seg = q[[parent, child]].numpy()
            fig.add_trace(
                go.Scatter(
                    x=seg[:, 0],
                    y=seg[:, 1],
                    mode="lines",
                    line={"color": bone_colour(child), "width": 3},
                    showlegend=False,
                ),
                row=1,
                col=k + 1,
            )
        w, h = (int(v) for v in resolution[k].tolist())
        ticks = {"nticks": 3, "tickfont": {"size": 9}}
        fig.update_xaxes(range=[0, w], row=1, col=k + 1, title_text="x (px)", **ticks)
        fig.update_yaxes(range=[h, 0], row=1, col=k + 1, scaleanchor=f"x{k + 1}" if k else "x",
                         title_text="y (px)" if k == 0 else None, showticklabels=k == 0, **ticks)  # fmt: skip
    fig.update_layout(title=title, height=360, margin={"l": 10, "r": 10, "t": 80, "b": 10})
    return fig


def gallery(
    images: torch.Tensor, joints: torch.Tensor, titles: list[str], cameras: list[int], columns: int = 4
) -> go.Figure:
    """Rendered crops (K, 3, R, R) uint8 with their 2D joints (K, 16, 2) in crop pixels, each titled
    on two lines (its subject and action, then its camera): on one line a recorded performer's
    names ran into the next crop's title."""
    k = images.shape[0]
    rows = (k + columns - 1) // columns
    named = [f"{title}<br>{camera_name(c)}" for title, c in zip(titles, cameras, strict=True)]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=named, horizontal_spacing=0.01, vertical_spacing=0.08)
    fig.update_annotations(font_size=12)
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
    fig.update_layout(height=270 * rows, margin={"l": 5, "r": 5, "t": 70, "b": 5})
    return fig
