"""The book's chapters, each one notebook, by the name the CLI, the results files, the paper's
claims, the summaries and the notebooks themselves share: a renamed or mistyped chapter fails at
import, not as an empty page."""

from __future__ import annotations

from enum import StrEnum


class Notebook(StrEnum):
    """Notebooks in book order: the paper's tables and figures, then what the book adds."""

    DATA_WORLD = "data_world"
    REAL_MOTION = "real_motion"
    FIG5A_PRCNN_ABLATION = "fig5a_prcnn_ablation"
    FIG6_PAIRWISE_ACCURACY = "fig6_pairwise_accuracy"
    TABLE1_UPPER_BOUND = "table1_upper_bound"
    TABLE2_PROTOCOLS = "table2_protocols"
    FIG5B_DPNET_ABLATION = "fig5b_dpnet_ablation"
    FIG4_PER_JOINT = "fig4_per_joint"
    FIG7_QUALITATIVE = "fig7_qualitative"
    RANKING_TO_DEPTH = "ranking_to_depth"
    RANKING_NOISE = "ranking_noise"
    CLAIMS = "claims"
    PERFORMANCE = "performance"


NOTEBOOKS: tuple[Notebook, ...] = tuple(Notebook)
