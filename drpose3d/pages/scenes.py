"""Scenes in 3D: a pose among the rig's cameras, the camera sphere of Sec. 3.3, Fig. 7's qualitative
panels and the real-motion chapter's clips and placement. What each camera sees in its own pixels is
:mod:`drpose3d.pages.views`; results as charts, :mod:`drpose3d.pages.plots`."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import qualitative as palettes
from plotly.subplots import make_subplots

from drpose3d.book.labels import camera_name
from drpose3d.markup import text
from drpose3d.pages.plots import LEGEND_ABOVE, OURS_COLOUR
from drpose3d.paper import Arm
from drpose3d.pose.camera import Cameras
from drpose3d.pose.skeleton import BONES, LEFT, RIGHT
from drpose3d.worlds.augment import ELEVATION_MARGIN_DEG, CameraPrior

RIGHT_COLOUR, LEFT_COLOUR, CENTRE_COLOUR = "#d62728", "#2ca02c", "#444444"


def bone_colour(child: int) -> str:
    """Right limbs red, left green, the spine and head grey: the same on every figure of a pose."""
    return RIGHT_COLOUR if child in RIGHT else LEFT_COLOUR if child in LEFT else CENTRE_COLOUR


def _side_legend(fig: go.Figure) -> None:
    """Legend entries (no data) that say which colour is which side: the bones carry none themselves."""
    for colour, side in ((RIGHT_COLOUR, "right limbs"), (LEFT_COLOUR, "left limbs")):
        fig.add_trace(go.Scatter3d(x=[None], y=[None], z=[None], mode="lines", line={"color": colour}, name=side))


def _add_bones(fig: go.Figure, pose: torch.Tensor, markers: bool = False) -> None:
    """A pose (17, 3) as one 3D line per bone, right red, left green."""
    for parent, child in BONES:
        seg = pose[[parent, child]].numpy()  # plotly takes numpy arrays, not tensors
        fig.add_trace(
            go.Scatter3d(
                x=seg[:, 0],
                y=seg[:, 1],
                z=seg[:, 2],
                mode="lines+markers" if markers else "lines",
                line={"color": bone_colour(child), "width": 6},
                marker={"size": 2},
                showlegend=False,
            )
        )


#: The rig, about 10 m across and 2 m high, seen from high enough that the four cameras and the axes'
#: tick labels stay inside a 690-px text column, with the view's centre lowered so that the flat scene
#: fills the figure: at 630 px from (2.4, -2.4, 1.7) it left 200 px empty above the rig; this eye, a
#: quarter closer, draws it as large in 500 px (a closer eye or a shorter figure cut the x axis' labels).
RIG_VIEW = {"eye": {"x": 1.85, "y": -1.85, "z": 1.3}, "center": {"x": 0, "y": 0, "z": -0.35}}
RIG_HEIGHT = 500


#: A titled 3D scene's frame: the title on its own line under the page's toolbar (at a 40-px margin the
#: toolbar covered its end) and the legend above the scene, as on every chart.
TITLED_SCENE = {"margin": {"l": 0, "r": 0, "t": 110, "b": 0}, "legend": LEGEND_ABOVE}
#: The same frame with the legend under the scene, for a legend that wraps: above the scene its second line
#: pushed the first into the title (tools/check_pages.py now fails on that).
TITLED_SCENE_LEGEND_BELOW = {
    "margin": {"l": 0, "r": 0, "t": 80, "b": 0},
    "legend": {"orientation": "h", "yanchor": "top", "y": 0, "xanchor": "left", "x": 0},
}


def skeleton_3d(pose: torch.Tensor, cameras: Cameras | None = None, title: str = "") -> go.Figure:
    """A world-space pose (17, 3) mm as 3D bones (right red, left green), with the cameras
    as points and their optical axes."""
    fig = go.Figure()
    _add_bones(fig, pose.detach().cpu().double(), markers=True)
    _side_legend(fig)
    if cameras is not None:
        c, a = cameras.centre.double().numpy(), cameras.optical_axis.double().numpy()
        fig.add_trace(
            go.Scatter3d(
                x=c[:, 0],
                y=c[:, 1],
                z=c[:, 2],
                mode="markers+text",
                text=[camera_name(k) for k in range(len(c))],
                marker={"size": 5, "color": "black", "symbol": "diamond"},
                name="cameras",
            )
        )
        for ci, ai in zip(c, a, strict=True):
            seg = np.stack((ci, ci + 1500 * ai))
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
            "zaxis_nticks": 3 if cameras is not None else 0,  # the rig's flat z axis piled up its default ticks
            "xaxis_nticks": 4 if cameras is not None else 0,  # and its x axis, seen nearly end-on, ran them together
            "camera": RIG_VIEW if cameras is not None else {"eye": {"x": 0.45, "y": -0.45, "z": 0.3}},
        },
        height=RIG_HEIGHT if cameras is not None else 630,
        **TITLED_SCENE,
    )
    return fig


def camera_sphere(
    prior: CameraPrior, train: Cameras, held_out: Cameras, virtual: dict[str, Cameras], person: torch.Tensor
) -> go.Figure:
    """Sec. 3.3: virtual cameras around V_c, drawn like the rig (shown) and over the whole
    sphere (click its legend entry), beside the real training and held-out cameras, each with
    a short optical-axis stub, and a person standing at V_c on the floor (z = 0)."""
    fig = go.Figure()

    def cams(c: Cameras, name: str, colour: str, size: int, axis_mm: float, visible: bool | str = True) -> None:
        pos, ax = c.centre.double(), c.optical_axis.double()
        fig.add_trace(
            go.Scatter3d(
                x=pos[:, 0], y=pos[:, 1], z=pos[:, 2], mode="markers", name=name,
                marker={"size": size, "color": colour}, visible=visible, legendgroup=name,
            )
        )  # fmt: skip
        tips = pos + axis_mm * ax
        xs, ys, zs = (
            [v for a, b in zip(pos[:, k].tolist(), tips[:, k].tolist(), strict=True) for v in (a, b, None)]
            for k in range(3)
        )
        fig.add_trace(
            go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line={"color": colour, "width": 2}, showlegend=False,
                         visible=visible, legendgroup=name)
        )  # fmt: skip

    cams(virtual["rig"], "virtual cameras (default: the rig's elevations)", "#9ecae1", 2, 400.0)
    cams(virtual["sphere"], "virtual cameras (whole sphere, the ablation)", "#fdae6b", 2, 400.0, "legendonly")
    xs, ys, zs = ([v for p, c in BONES for v in (float(person[p, k]), float(person[c, k]), None)] for k in range(3))
    fig.add_trace(
        go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", name="a person at V_c", line={"color": "#333", "width": 5})
    )
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
        height=670,
        **TITLED_SCENE_LEGEND_BELOW,  # six entries, two lines in the text column
        title=(
            f"Virtual cameras: distance ~ N({prior.distance_mean:.0f}, {prior.distance_std:.0f}) mm around V_c, "
            f"elevation {prior.elevation_deg[0]:.0f}° to {prior.elevation_deg[1]:.0f}° ± {ELEVATION_MARGIN_DEG:.0f}°"
        ),
    )
    return fig


def _display(pose: torch.Tensor) -> torch.Tensor:
    """Camera frame (x right, y down, z forward) -> a z-up view for 3D plots."""
    p = pose.detach().cpu().double()
    return torch.stack((p[:, 0], p[:, 2], -p[:, 1]), dim=-1)


#: Fig. 7's viewpoint, 1.8 times Plotly's default distance and lower: from there a standing body (its tallest axis)
#: and the axis titles fit the 380-px row the default viewpoint cut them in.
QUALITATIVE_EYE = {"x": 2.6, "y": 2.6, "z": 1.1}


#: How far above the first frame's title (pixels) Fig. 7's legend sits: clear of that title's line.
QUALITATIVE_LEGEND_PX = 40


def qualitative(images: torch.Tensor, poses: dict[str, torch.Tensor], titles: list[str]) -> go.Figure:
    """Fig. 7: each frame's input crop beside the truth (black), the baseline (red, dotted) and
    DRPose3D (blue) as root-relative camera-frame skeletons in one 3D view."""
    k = images.shape[0]
    fig = make_subplots(
        rows=k,
        cols=2,
        column_widths=[0.3, 0.7],
        subplot_titles=[t for title in titles for t in ("", text(title))],  # over the wide 3D view, not the crop
        specs=[[{"type": "xy"}, {"type": "scene"}] for _ in range(k)],
        vertical_spacing=0.04,
    )
    fig.update_annotations(font_size=13)
    style = {"truth": ("black", "solid"), Arm.BASELINE: ("#d62728", "dot"), Arm.OURS: (OURS_COLOUR, "solid")}
    legend = {"truth": "ground truth", Arm.BASELINE: "baseline (no ranking)", Arm.OURS: "DRPose3D"}
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
                    name=legend[name],
                    legendgroup=name,
                    showlegend=i == 0,
                    line={"color": colour, "width": 5, "dash": dash},
                ),
                row=i + 1,
                col=2,
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    axis = {"nticks": 4, "tickfont": {"size": 9}}  # at 6 ticks the labels of the short depth axis collided
    fig.update_scenes(
        aspectmode="data",
        xaxis={**axis, "title": "x (mm)"},
        yaxis={**axis, "title": "depth (mm)"},
        zaxis={**axis, "title": "up (mm)"},
        camera={"eye": QUALITATIVE_EYE},
    )
    # the legend above the first frame's title, as on every chart: at the right it took a third of the
    # column from the 3D views; its height in paper units, since the figure grows with the frames
    height, top, bottom = 380 * k, 110, 5
    legend = {**LEGEND_ABOVE, "y": 1 + QUALITATIVE_LEGEND_PX / (height - top - bottom)}
    fig.update_layout(height=height, legend=legend, margin={"l": 5, "r": 5, "t": top, "b": bottom})
    return fig


#: A row of skeletons is about four times as wide as it is high: at 510 px from (0, -2.4, 0.6) the row
#: filled the column's width and left 100 px empty above it, and the z axis' labels ran off the left
#: edge; at 400 px from this eye it is as wide and every label shows.
SKELETONS_EYE, SKELETONS_HEIGHT = {"x": 0.0, "y": -2.25, "z": 0.5}, 400


def skeletons_3d(poses: dict[str, torch.Tensor], spacing_mm: float = 1300.0, title: str = "") -> go.Figure:
    """Several world poses (17, 3) side by side along x, each centred on its root, labelled, seen
    from the front and a little above (the default oblique view cut the row's ends off)."""
    fig = go.Figure()
    for k, (label, pose) in enumerate(poses.items()):
        p = pose.detach().cpu().double()
        p = p - torch.tensor([p[0, 0] - k * spacing_mm, p[0, 1], 0.0], dtype=torch.float64)
        _add_bones(fig, p)
        top = p[:, 2].max() + 150
        fig.add_trace(
            go.Scatter3d(x=[k * spacing_mm], y=[0.0], z=[float(top)], mode="text", text=[label], showlegend=False)
        )
    _side_legend(fig)
    fig.update_layout(
        title=title,
        height=SKELETONS_HEIGHT,
        **TITLED_SCENE,
        scene={
            "aspectmode": "data",
            "xaxis_title": "x (mm)",
            # seen from the front, the depth axis points at the reader: its ticks would pile up in one spot
            "yaxis": {"showticklabels": False, "title": ""},
            "zaxis_title": "z up (mm)",
            "camera": {"eye": SKELETONS_EYE},
        },
    )
    return fig


def placement(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor], centre: torch.Tensor) -> go.Figure:
    """Top view of root paths (n, 2) per clip as captured and as placed in front of the cameras, a
    clip one colour in both panels (its legend entry toggles both)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["as captured", "as placed (cameras' capture centre: x)"])
    palette = palettes.Plotly
    for col, paths in ((1, before), (2, after)):
        for k, (label, xy) in enumerate(paths.items()):
            fig.add_trace(
                go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", name=label, legendgroup=label, showlegend=col == 1,
                           line={"color": palette[k % len(palette)]}),
                row=1, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text="x (mm)", row=1, col=col)
        fig.update_yaxes(title_text="y (mm)", scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    c = centre.double()
    fig.add_trace(
        go.Scatter(
            x=[float(c[0])],
            y=[float(c[1])],
            mode="markers",
            marker={"symbol": "x", "size": 12, "color": "black"},
            name="capture centre (Eq. 7)",
        ),
        row=1,
        col=2,
    )
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig
