"""What opens a page and titles its charts: a results page's one sentence with its key number beside
the paper's, the data and preset every chart title names (captions: :mod:`.captions`), and the data
chapters' account of the data a run used, each count read from the run."""

from __future__ import annotations

from drpose3d.book.labels import row_label
from drpose3d.book.results import GAIN_PCT, SAMPLES, TEST_SUBJECTS, TRAIN_SUBJECTS, metric_label
from drpose3d.chapters import Notebook
from drpose3d.markup import listing, text
from drpose3d.paper import Arm, Fig5a, Fig5b, Fig6, RankingToDepth, Table1, fig4_row, table2_row

#: The row whose number a results page leads with.
KEY_ROWS: dict[str, str] = {
    Notebook.TABLE1_UPPER_BOUND: Table1.GT_RANK_VS_NO_RANK,
    Notebook.TABLE2_PROTOCOLS: table2_row(Arm.OURS, 1),
    Notebook.FIG5A_PRCNN_ABLATION: Fig5a.PRCNN_RESNET34,
    Notebook.FIG5B_DPNET_ABLATION: Fig5b.FULL,
    Notebook.FIG6_PAIRWISE_ACCURACY: Fig6.PAIR_SHOULDERS,
    Notebook.FIG4_PER_JOINT: fig4_row(GAIN_PCT, "RWrist"),
    Notebook.RANKING_TO_DEPTH: RankingToDepth.MPJPE_DEPTHNET,
}


#: Key rows that are the paper's own comparison rather than the claim's pre-registered control: the
#: sentence says so, so that it cannot read as the verdict given right above it.
PAPERS_COMPARISON: dict[str, str] = {
    Table1.GT_RANK_VS_NO_RANK: " This is the paper's comparison, against the one-stage baseline, which also credits"
    " the two-stage cascade's own gain to the ranking; the finding above judges the ranking against the cascade.",
}


def headline(result: dict) -> str:
    """The page's one sentence: its key number with its interval, beside the paper's."""
    by = {r["name"]: r for r in result["rows"]}
    row = by.get(KEY_ROWS.get(result["notebook"], ""), result["rows"][0])
    ci = f" (95 % CI {row['ci95'][0]:.2f} to {row['ci95'][1]:.2f})" if row["ci95"] else " (one seed)"
    label = row_label(row["name"])
    label = label if label.endswith(")") else f"{label}, {metric_label(row['metric'])}"
    paper_words = (
        f"the paper reports {row['paper']:g} on Human3.6M" if row["paper"] is not None else "the paper gives no number"
    )
    return (
        f"**In one sentence:** {label}: "
        f"**{row['mean']:.2f}**{ci} on {text(result['dataset'])} ({result['preset']} preset, "
        f"{len(result['seeds'])} seeds); "
        f"{paper_words}." + PAPERS_COMPARISON.get(row["name"], "")
    )


def figure_title(what: str, result: dict, tail: str = "") -> str:
    """A chart's title naming its data and preset, e.g. ``Table 1 — synthetic, cpu preset``."""
    return f"{what} — {text(result['dataset'])}, {result['preset']} preset{tail}"


def real_motion_data(result: dict, run_data: str) -> str:
    """The real-motion chapter's data line. The chapter describes the embedded motion whatever data
    its run names (`run_data`, the spec's label: never a path), so where the two differ the line says
    both: the page had read "data synthetic" in its run line and then "Dataset: cmu" with nothing
    between."""
    same = run_data == result["dataset"]
    other = "" if same else f", which this chapter describes whatever the run's data (this run's: {text(run_data)})"
    return (
        f"**Dataset:** {text(result['dataset'])}{other} · {int(result['rows'][0]['values'][0])} frames at "
        f"{result['fps']:g} fps in {result['clips']} clips of {len(result['performers'])} performers · held out for "
        f"testing: {listing(result[TEST_SUBJECTS])}."
    )


def world_data(result: dict) -> str:
    """The data-world chapter's paragraph on the run's data: its digest, subjects, actions, protocol #1
    split, sample counts and how much of it the cameras see, each read from the run."""
    samples, dropped = result[SAMPLES], result["dropped_frames"]
    left_out = {
        0: "every camera sees every frame",
        1: "1 frame left out because a camera could not see it",
    }.get(dropped, f"{dropped} frames left out because a camera could not see them")
    return (
        f"Dataset **{text(result['dataset'])}** (content digest `{result['data_digest']}`), preset "
        f"**{result['preset']}**: {len(result['subjects'])} subjects, {len(result['actions'])} actions "
        f"({listing(result['actions'])}); protocol #1 trains on {listing(result[TRAIN_SUBJECTS])} and tests on "
        f"{listing(result[TEST_SUBJECTS])}; {samples['train']} training and {samples['test']} test samples "
        f"(frame stride {result['stride']} at {result['fps']:g} fps, four cameras); "
        f"{100 * result['in_image_fraction']:.2f} % of joints fall inside the image; {left_out}."
    )
