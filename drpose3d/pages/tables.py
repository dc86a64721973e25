"""The book's tables: each chapter's results beside the paper's, and those that are more than that:
the presets against the paper's settings (README, the introduction), the claims ledger, Tables 1 and 2
per action, and the real motion's performers and joint maps. Each is shaped to fit the page and be
read: constant columns said once, short column names where many share a row, names in words rather
than record keys or reprs."""

from __future__ import annotations

import html

import pandas as pd

from drpose3d import paper
from drpose3d.book.labels import row_label
from drpose3d.book.ledger import VERDICT, Link, ledger_columns
from drpose3d.book.results import (
    CI_COLUMN,
    ERROR_BASELINE_MM,
    ERROR_OURS_MM,
    FRAME_TITLE,
    FRAMES,
    MPJPE_MM,
    PAIRWISE_PCT,
    PER_ACTION,
    RANKING_ACCURACY,
    SEEDS_COLUMN,
    TIE_RATE,
    interval,
    metric_label,
    one_header,
    per_seed,
    seed_mean,
)
from drpose3d.engine.train import TrainConfig
from drpose3d.paper import TABLE2_ARMS, Arm, Table1, table2_row
from drpose3d.presets import PRESETS, Preset
from drpose3d.worlds.actions import ACTIONS


def results_table(result: dict, expected: list[str] | None = None) -> pd.DataFrame:
    """A chapter's rows beside the paper's numbers, labelled by :func:`drpose3d.book.labels.row_label`;
    rows in `expected` that did not run say so."""
    by_name = {r["name"]: r for r in result["rows"]}
    records = []
    for name in expected or list(by_name):
        r = by_name.get(name)
        if r is None:
            records.append(
                {"row": row_label(name), "this run": "not yet run", CI_COLUMN: "", SEEDS_COLUMN: "", "paper": ""}
            )
            continue
        records.append(
            {
                "row": row_label(name),
                "this run": f"{r['mean']:.1f}",
                CI_COLUMN: interval(r),
                SEEDS_COLUMN: per_seed(r),
                "paper": "" if r["paper"] is None else f"{r['paper']:g}",
            }
        )
    units = {metric_label(r["metric"]) for r in result["rows"]}
    table = pd.DataFrame.from_records(records).set_index("row")
    return one_header(table, units.pop() if len(units) == 1 else "setting")


def frames_table(result: dict) -> pd.DataFrame:
    """Fig. 7's frames: each one's error under the baseline and DRPose3D, and their difference."""
    records = [
        {
            "frame": f[FRAME_TITLE],
            "baseline (mm)": round(f[ERROR_BASELINE_MM], 1),
            "DRPose3D (mm)": round(f[ERROR_OURS_MM], 1),
            "DRPose3D − baseline (mm)": round(f[ERROR_OURS_MM] - f[ERROR_BASELINE_MM], 1),
        }
        for f in result[FRAMES]
    ]
    return one_header(pd.DataFrame.from_records(records).set_index("frame"), "frame")


def _train_frames(p: Preset) -> int:
    """Protocol #1 training samples of the generated world at a preset: frames of the five
    training subjects' clips at the preset's stride, seen by four cameras."""
    per_clip = len(range(0, round(p.duration_s * p.fps), p.stride))
    return 5 * len(ACTIONS) * p.repetitions * per_clip * 4


def _epochs(cfg: TrainConfig) -> str:
    """A training length as the presets table shows it: a cap when a plateau decides."""
    return f"≤ {cfg.epochs}, to a plateau" if cfg.patience else str(cfg.epochs)


def presets_table() -> str:
    """Each preset against the paper's settings, as a Markdown table: how reduced each run is."""
    rows = {
        "lifter width (DPNet, baseline)": (lambda p: str(p.width), str(paper.DPNET_WIDTH)),
        "lifter epochs": (lambda p: str(p.lifter_train.epochs), str(paper.DPNET_EPOCHS)),
        "PRCNN ResNet base width": (lambda p: str(p.prcnn_width), "ResNet-34 (standard width 64)"),
        "PRCNN epochs": (lambda p: _epochs(p.prcnn_train), str(paper.PRCNN_EPOCHS)),
        "hourglass stacks x channels": (
            lambda p: f"{p.hourglass.stacks} x {p.hourglass.channels}",
            f"{paper.HOURGLASS_STACKS} x (not stated; 256 in Newell et al.)",
        ),
        "hourglass epochs": (lambda p: _epochs(p.hourglass_train), "not stated"),
        "image crop (px)": (lambda p: str(p.resolution), "not stated (256 in Newell et al.)"),
        "training samples (generated world)": (lambda p: f"{_train_frames(p):,}", "about 1.5 M (Human3.6M)"),
        "of which the CNNs learn from": (lambda p: f"1 in {p.cnn_stride}" if p.cnn_stride > 1 else "all", "all"),
        "batch size": (lambda p: str(p.lifter_train.batch_size), str(paper.BATCH_SIZE)),
        "arithmetic": (lambda p: "bf16 autocast" if p.prcnn_train.precision == "bf16" else "fp32", "not stated"),
        "seeds": (lambda p: str(p.seeds), "1 (one reported run)"),
        "Table 1's lifters per seed": (lambda p: str(p.lifter_seeds), "1"),
    }
    names = [n for n in PRESETS if n != "tiny"]
    lines = ["| | " + " | ".join(names) + " | the paper |", "|---|" + "---|" * (len(names) + 1)]
    for label, (value, paper_value) in rows.items():
        lines.append(f"| {label} | " + " | ".join(value(PRESETS[n]) for n in names) + f" | {paper_value} |")
    return "\n".join(lines)


def ledger_html(rows: list[dict], link: Link) -> str:
    """The ledger as an HTML table for the book (myst-nb does not parse tables in Markdown outputs),
    with the columns whose every row says the same (the data, the stages the seeds vary) said once
    above it: on each row they made a row a dozen lines tall."""
    table = pd.DataFrame(ledger_columns(rows, link, html=True))
    constant = [c for c in table.columns if len(table) > 1 and table[c].nunique() == 1 and c != VERDICT]
    said = "; ".join(f"<b>{html.escape(c)}:</b> {table[c].iloc[0]}" for c in constant)
    lead = f"<p>Every row — {said}.</p>\n" if said else ""
    return lead + table.drop(columns=constant).to_html(escape=False, index=False)


#: Table 1's lifters as its per-action table's columns name them, in the table's order: every one
#: lifts ground-truth 2D, so the names say only what ranking it gets (the table above gives each in
#: full, :data:`drpose3d.book.labels.ROW_LABELS`); the long names made each header seven lines tall.
SHORT_TABLE1: dict[Table1, str] = {
    Table1.GT2D_NO_RANK: "no ranking (Martinez et al.)",
    Table1.GT2D_PRED_RANK: "PRCNN ranking, detector's heatmaps",
    Table1.GT2D_PRED_RANK_TRUE_HEATMAPS: "PRCNN ranking, GT heatmaps",
    Table1.GT2D_GT_RANK: "GT ranking (DPNet)",
    Table1.GT2D_NO_RANK_CASCADE: "control: cascade, no ranking",
    Table1.GT2D_CONST_RANK: "control: constant ranking",
}

#: Table 2's designs as its per-action table's columns name them: twelve columns (four designs under
#: three protocols) share the page's width, so each name is a word or two.
SHORT_ARM: dict[Arm, str] = {
    Arm.BASELINE: "Martinez et al.",
    Arm.NO_RANK: "cascade, no ranking",
    Arm.OURS_NO_AUG: "DRPose3D w/o aug.",
    Arm.OURS: "DRPose3D",
}


def _per_action(result: dict, columns: dict[str, str | tuple[str, str]]) -> pd.DataFrame:
    """Rows' error per action, mean over seeds, as columns named by `columns` (row name -> column)
    in its order, rows the run lacks left out. Whole millimetres: the seeds of one design differ by
    more than that, and a shorter cell lets more columns fit."""
    rows = {r["name"]: r for r in result["rows"]}
    means = {
        column: {a: seed_mean(v) for a, v in rows[name][PER_ACTION].items()}
        for name, column in columns.items()
        if name in rows
    }
    return pd.DataFrame(means).round().astype(int)


def table1_per_action(result: dict) -> pd.DataFrame:
    """Table 1's error per action: actions as rows, its lifters as columns in the table's order."""
    return _per_action(result, {str(name): short for name, short in SHORT_TABLE1.items()})


def table2_per_action(result: dict) -> pd.DataFrame:
    """Table 2's error per action: actions as rows (the CMU motion has 23), the designs grouped under
    their protocol as columns, in the order of Table 2."""
    return _per_action(
        result, {table2_row(arm, k): (f"protocol #{k}", SHORT_ARM[arm]) for k in (1, 2, 3) for arm in TABLE2_ARMS}
    )


def performers_table(performers: dict[str, dict]) -> pd.DataFrame:
    """The imported performers, one row each: their clips and frames, and their bones' median lengths
    in whole millimetres under readable names (the record's ``femur_mm`` is "femur (mm)")."""
    table = one_header(pd.DataFrame(performers).T, "performer")
    lengths = [c for c in table.columns if c.endswith("_mm")]
    table[lengths] = table[lengths].astype(float).round().astype(int)
    return table.rename(columns={c: f"{c.removesuffix('_mm').replace('_', ' ')} (mm)" for c in lengths})


def _joint_source(source: str | dict) -> str:
    """One Human3.6M joint's source in a rig, in words: a joint's name, the midpoint of two, or the
    nose made from the head (the forms of :mod:`drpose3d.formats.importer`'s joint maps)."""
    if isinstance(source, str):
        return source
    if "mid" in source:
        a, b = source["mid"]
        return f"midpoint of {a} and {b}"
    nose = source["nose"]
    return f"in front of {nose['base']}, facing as {nose['rotation']}"  # within pandas' 50 characters a cell


def joint_maps_table(maps: dict[str, dict]) -> pd.DataFrame:
    """Each rig's source of each Human3.6M joint, in words (a dict's repr was cut off in its cell)."""
    return pd.DataFrame({rig: {joint: _joint_source(s) for joint, s in m.items()} for rig, m in maps.items()})


#: How each ranking-noise setting is named above its column, and how its value is written.
_NOISE_SETTINGS: dict[str, tuple[str, str]] = {
    "flip": ("flip rate", ".2f"),
    "eps": ("ε (mm)", "g"),
    "threshold": ("t", "g"),
}


def noise_table(rows: list[dict], kind: str) -> pd.DataFrame:
    """The ranking-noise chapter's rows of one `kind` (:func:`drpose3d.paper.noise_rows`), one table
    layout for all three: the setting, what it did to the ranking (pairwise accuracy, ties), then
    the lifter's MPJPE with its interval and seeds."""
    setting, form = _NOISE_SETTINGS[kind]
    rows = paper.noise_rows(rows, kind)
    columns: dict[str, list] = {setting: [format(paper.parse_noise_row(r["name"])[1], form) for r in rows]}
    if all(RANKING_ACCURACY in r for r in rows):
        columns[PAIRWISE_PCT] = [seed_mean(r[RANKING_ACCURACY]) for r in rows]
    if all(TIE_RATE in r for r in rows):
        columns["ties among pairs (%)"] = [100 * seed_mean(r[TIE_RATE]) for r in rows]
    columns[MPJPE_MM] = [r["mean"] for r in rows]
    columns[CI_COLUMN] = [interval(r) for r in rows]
    columns[SEEDS_COLUMN] = [per_seed(r) for r in rows]
    return one_header(pd.DataFrame(columns).round(2).set_index(setting), setting)
