"""Everything this book takes from the paper: its numbers, the rows they belong to and its words,
each with where it stands (table, figure, section). Nothing else in the package or the notebooks
types a number of the paper; they import it from here (the rows' labels: :mod:`drpose3d.book.labels`).

Wang et al., "DRPose3D: Depth Ranking in 3D Human Pose Estimation", IJCAI 2018
(``shared/paper/drpose3d-ijcai2018.txt`` beside the project).

Row names are string enums: they are the ``name`` of a row in the results JSON (a fixed schema),
and every module that reads or writes a row uses these members, so a renamed row fails at import
instead of leaving a page blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from drpose3d.chapters import Notebook


@dataclass(frozen=True)
class Reported:
    """Numbers the paper reports in one place, by row; `where` says where to find them."""

    where: str
    unit: str
    values: Mapping[str, float]

    def __getitem__(self, row: str) -> float:
        return self.values[row]

    def get(self, row: str) -> float | None:
        return self.values.get(row)


def change_pct(before: float, after: float) -> float:
    """Relative change (%) from `before` to `after`, as the paper states its drops."""
    return 100 * (after - before) / before


# --- Table 1 (Sec. 4.4): protocol #1, ground-truth 2D --------------------------------------------
class Table1(StrEnum):
    GT2D_NO_RANK = "gt2d_no_rank"
    GT2D_PRED_RANK = "gt2d_pred_rank"
    # Sec. 3.1 feeds PRCNN the 2D pose as heatmaps without saying whose: the detector's (the row above)
    # or, on this table's ground-truth 2D, heatmaps drawn from that ground truth (this row)
    GT2D_PRED_RANK_TRUE_HEATMAPS = "gt2d_pred_rank_true_heatmaps"
    GT2D_GT_RANK = "gt2d_gt_rank"
    GT2D_NO_RANK_CASCADE = "gt2d_no_rank_cascade"  # this book's control: the two-stage PoseNet, no ranking
    GT2D_CONST_RANK = "gt2d_const_rank"  # this book's control: DPNet with a constant ranking (all ties)
    GT_RANK_VS_NO_RANK = "gt_rank_vs_no_rank"  # relative change (%), per seed
    PRED_RANK_VS_NO_RANK = "pred_rank_vs_no_rank"


TABLE1 = Reported(
    "Table 1 (Sec. 4.4)",
    "mm",
    {
        Table1.GT2D_NO_RANK: 45.5,
        Table1.GT2D_PRED_RANK: 41.2,
        Table1.GT2D_PRED_RANK_TRUE_HEATMAPS: 41.2,  # the paper's one predicted-ranking row, beside both readings
        Table1.GT2D_GT_RANK: 30.2,
    },
)
TABLE1_CHANGE_PCT = Reported(
    "Table 1; Sec. 4.4 states the ground-truth drop as 33.63 %",
    "%",
    {
        Table1.GT_RANK_VS_NO_RANK: round(change_pct(TABLE1[Table1.GT2D_NO_RANK], TABLE1[Table1.GT2D_GT_RANK]), 1),
        Table1.PRED_RANK_VS_NO_RANK: round(change_pct(TABLE1[Table1.GT2D_NO_RANK], TABLE1[Table1.GT2D_PRED_RANK]), 1),
    },
)


# --- Fig. 5(a) (Sec. 4.5): PRCNN's pairwise ranking accuracy, protocol #1 -------------------------
class Fig5a(StrEnum):
    PRCNN_RESNET34 = "prcnn_resnet34"
    PRCNN_RESNET34_NO_HEATMAPS = "prcnn_resnet34_no_heatmaps"
    PRCNN_RESNET18 = "prcnn_resnet18"
    PRCNN_RESNET50 = "prcnn_resnet50"
    # controls: a ranker that sees only the 2D pose, the floor that PRCNN's pixels must beat
    FLOOR_2D_ONLY = "floor_2d_only"
    FLOOR_2D_ONLY_DETECTED = "floor_2d_only_detected"


#: "ResNet-34 is at least as good as ResNet-18 and ResNet-50" is a non-inferiority claim; the paper
#: states no margin. This book's: 1 % of the accuracy (0.9 points at the paper's 91.22 %), smaller
#: than the heatmaps' gain the paper does claim (2.36 points).
RESNET34_MARGIN_PCT = 1.0
#: ResNet-18 and ResNet-50 are only drawn in the figure, never stated.
FIG5A = Reported(
    "Fig. 5(a), Sec. 4.5",
    "%",
    {Fig5a.PRCNN_RESNET34: 91.22, Fig5a.PRCNN_RESNET34_NO_HEATMAPS: 88.86},
)
#: PRCNN designs of Fig. 5(a): ResNet depth and whether the heatmaps are input channels.
PRCNN_DESIGNS: dict[Fig5a, tuple[int, bool]] = {
    Fig5a.PRCNN_RESNET34: (34, True),
    Fig5a.PRCNN_RESNET34_NO_HEATMAPS: (34, False),
    Fig5a.PRCNN_RESNET18: (18, True),
    Fig5a.PRCNN_RESNET50: (50, True),
}


# --- Fig. 6 (Sec. 4.5): per-pair accuracy ---------------------------------------------------------
class Fig6(StrEnum):
    PAIR_SHOULDERS = "pair_LShoulder_RShoulder"
    PAIR_RHIP_SPINE = "pair_RHip_Spine"
    TORSO_PAIRS_MEAN = "torso_pairs_mean"
    OTHER_PAIRS_MEAN = "other_pairs_mean"


FIG6 = Reported("Fig. 6, Sec. 4.5", "%", {Fig6.PAIR_SHOULDERS: 96.71})
#: The torso joints (hourglass-16 names) whose pairs Fig. 6 boxes as the least accurate.
TORSO_JOINTS = ("Hip", "RHip", "LHip", "Spine", "Thorax")


# --- Table 2 (Sec. 4.3): detected 2D, three protocols, "Avg." columns ------------------------------
class Arm(StrEnum):
    """A lifter design: Table 2's rows and Fig. 5(b)'s ablations."""

    BASELINE = "baseline"  # Martinez et al. through this code path
    OURS_NO_AUG = "ours_no_aug"
    OURS = "ours"
    NO_RANK = "no_rank"
    NO_RANK_NO_AUG = "no_rank_no_aug"
    NO_DEPTHNET = "no_depthnet"
    AUG_GT_ONLY = "aug_gt_only"


#: Table 2's rows; the cascade without ranking input (DPNet's two PoseNet stages and augmentation, no
#: ranking) is this book's control, not the paper's: it separates the ranking from the architecture.
TABLE2_ARMS = (Arm.BASELINE, Arm.NO_RANK, Arm.OURS_NO_AUG, Arm.OURS)


def table2_row(arm: Arm, protocol: int) -> str:
    """Table 2's row name of an arm under a protocol, e.g. ``ours_p3``."""
    return f"{arm}_p{protocol}"


TABLE2 = Reported(
    "Table 2 (Sec. 4.3), column Avg.",
    "mm",
    {
        table2_row(Arm.BASELINE, 1): 62.9,
        table2_row(Arm.BASELINE, 2): 47.7,
        table2_row(Arm.BASELINE, 3): 84.9,
        table2_row(Arm.OURS_NO_AUG, 3): 69.0,
        table2_row(Arm.OURS, 1): 57.8,
        table2_row(Arm.OURS, 2): 42.9,
        table2_row(Arm.OURS, 3): 62.8,
    },
)


# --- Fig. 5(b) (Sec. 4.5): DPNet ablation, protocol #3 -----------------------------------------------
class Fig5b(StrEnum):
    FULL = "full"
    NO_RANK = "no_rank"
    NO_DEPTHNET = "no_depthnet"
    AUG_GT_ONLY = "aug_gt_only"
    NO_AUG = "no_aug"
    NO_RANK_NO_AUG = "no_rank_no_aug"


FIG5B = Reported(
    "Fig. 5(b), Sec. 4.5",
    "mm",
    {
        Fig5b.FULL: 62.8,
        Fig5b.NO_RANK: 68.1,
        Fig5b.NO_DEPTHNET: 66.0,
        Fig5b.AUG_GT_ONLY: 64.8,
        Fig5b.NO_AUG: 69.0,
        Fig5b.NO_RANK_NO_AUG: 82.2,
    },
)
#: The lifter design behind each bar of Fig. 5(b).
FIG5B_ARMS: dict[Fig5b, Arm] = {
    Fig5b.FULL: Arm.OURS,
    Fig5b.NO_RANK: Arm.NO_RANK,
    Fig5b.NO_DEPTHNET: Arm.NO_DEPTHNET,
    Fig5b.AUG_GT_ONLY: Arm.AUG_GT_ONLY,
    Fig5b.NO_AUG: Arm.OURS_NO_AUG,
    Fig5b.NO_RANK_NO_AUG: Arm.NO_RANK_NO_AUG,
}
#: Sec. 4.5: "The statistical augmentation method for ranking matrix further decreases the joint
#: error by 2.1mm" (the figure's bars differ by 2.0).
FIG5B_TEXT_STAT_AUG_MM = 2.1


# --- Fig. 4 (Sec. 4.3): per-joint error --------------------------------------------------------------
class Fig4(StrEnum):
    GAINERS_MINUS_REST = "gainers_minus_rest"
    GAINERS_MINUS_TORSO = "gainers_minus_torso"
    THORAX_MINUS_REST = "thorax_minus_rest"


def fig4_row(model: str, joint: str) -> str:
    """Fig. 4's per-joint rows: ``baseline_<Joint>``, ``ours_<Joint>``, ``gain_pct_<Joint>``."""
    return f"{model}_{joint}"


#: "the joints with lager reachable workspace like wrists, elbows, and feet ... obtain larger improvements"
FIG4_GAINERS = ("LElbow", "RElbow", "LWrist", "RWrist", "LFoot", "RFoot")
FIG4_LEAST = "Thorax"
#: The torso joints Fig. 4's gainers are compared with (C12): hips, spine, thorax (the root has no error).
FIG4_TORSO = ("RHip", "LHip", "Spine", "Thorax")
#: Sec. 4.3's worked examples of Fig. 4: "the right wrist achieves 12.53% (109.54mm → 97.01mm) errors
#: drop while thorax only achieves 2.36% (46.40mm → 45.45mm)". The percentages as printed; the
#: millimetres give 11.4 % and 2.0 % (12.53 and 0.95 are the drops in mm).
FIG4_EXAMPLES_MM = {"RWrist": (109.54, 97.01), "Thorax": (46.40, 45.45)}
FIG4_GAIN_PCT = Reported("Sec. 4.3, on Fig. 4 (as printed)", "%", {"RWrist": 12.53, "Thorax": 2.36})


# --- rows this book adds beside the paper's (no paper number) ---------------------------------------
class DataWorld(StrEnum):
    NN2D_RANKING_ACCURACY = "nn2d_ranking_accuracy"  # ranking of the nearest training 2D pose
    NN2D_POSE_MPJPE = "nn2d_pose_mpjpe"


class RankingToDepth(StrEnum):
    """Sec. 3.2 asserts DepthNet turns noisy rankings into depth better than a fixed ordering."""

    MPJPE_DEPTHNET = "mpjpe_depthnet"
    MPJPE_TOPOLOGICAL = "mpjpe_topological"
    MPJPE_BORDA = "mpjpe_borda"
    SPEARMAN_DEPTHNET = "spearman_depthnet"
    SPEARMAN_TOPOLOGICAL = "spearman_topological"
    SPEARMAN_BORDA = "spearman_borda"


def noise_row(kind: str, value: float) -> str:
    """Ranking-noise rows: ``flip_0.05`` (flip rate), ``eps_20mm`` (Eq. 1's ε), ``threshold_0.02``."""
    return {"flip": f"flip_{value:.2f}", "eps": f"eps_{value:g}mm", "threshold": f"threshold_{value:g}"}[kind]


def parse_noise_row(name: str) -> tuple[str, float] | None:
    """The one decoder of :func:`noise_row`'s names: (kind, value), or None for any other row."""
    kind, _, text = name.partition("_")
    try:
        value = float(text.removesuffix("mm"))
    except ValueError:
        return None
    return (kind, value) if kind in ("flip", "eps", "threshold") and noise_row(kind, value) == name else None


def noise_rows(rows: list[dict], kind: str) -> list[dict]:
    """The ranking-noise rows of one kind ("flip", "eps", "threshold"), in the order given."""
    return [r for r in rows if (parse_noise_row(r["name"]) or ("",))[0] == kind]


# --- Sec. 4.2: training settings the presets take from the paper -----------------------------------
DPNET_EPOCHS = 400  # "We train our DPNet for 400 epochs using Adam"
DPNET_LR = 1e-3  # "the initial learning rate is 0.001 with exponential decay"
DPNET_DROPOUT = 0.3  # "the rate of dropout is set to 0.3"
#: Martinez et al. 2017 (ICCV), the baseline of Tables 1-2 (62.9 mm): dropout 0.5 and each weight
#: matrix clipped to norm 1 (their Sec. 3.1 and 3d-pose-baseline's code).
MARTINEZ_DROPOUT = 0.5
MARTINEZ_MAX_NORM = 1.0
DPNET_WIDTH = 1024  # as Martinez et al.'s linear layers
PRCNN_LR = 0.1  # "batch size 64 and the initial learning rate 0.1"
PRCNN_EPOCHS = 25  # "use Stochastic Gradient Descent (SGD) to train 25 epochs"
HOURGLASS_STACKS = 8  # Sec. 3.1: "an 8-stack hourglass network [Newell et al., 2016]"
BATCH_SIZE = 64
AUG_FACTOR = 3  # "the scale of the augmented dataset is triple as the original"


# --- the paper's claims, in its words (the notebooks show these above their tables) ---------------
def chapter_claim(notebook: str) -> str:
    """The paragraph "The paper's claim" of a chapter, with the paper's numbers filled in here."""
    t1, t2, f5b = TABLE1, TABLE2, FIG5B
    wrist, thorax = FIG4_EXAMPLES_MM["RWrist"], FIG4_EXAMPLES_MM["Thorax"]
    texts = {
        Notebook.TABLE1_UPPER_BOUND: (
            f"**The paper's claim ({t1.where}).** With ground-truth 2D poses under protocol #1, DPNet reaches "
            f"{t1[Table1.GT2D_NO_RANK]} mm MPJPE without ranking, {t1[Table1.GT2D_PRED_RANK]} mm with PRCNN-predicted "
            f"ranking and {t1[Table1.GT2D_GT_RANK]} mm with ground-truth ranking: exact depth order cuts the error by "
            f"{-TABLE1_CHANGE_PCT[Table1.GT_RANK_VS_NO_RANK]} %."
        ),
        Notebook.FIG5A_PRCNN_ABLATION: (
            f"**The paper's claim ({FIG5A.where}).** PRCNN with a ResNet-34 backbone on image + 16 hourglass heatmaps "
            f"reaches {FIG5A[Fig5a.PRCNN_RESNET34]} % pairwise ranking accuracy under protocol #1; without heatmaps "
            f"(image only) {FIG5A[Fig5a.PRCNN_RESNET34_NO_HEATMAPS]} %, i.e. the heatmaps add "
            f"{FIG5A[Fig5a.PRCNN_RESNET34] - FIG5A[Fig5a.PRCNN_RESNET34_NO_HEATMAPS]:.2f} points; ResNet-18 and "
            "ResNet-50 do not beat ResNet-34 (their numbers are only drawn in the figure, so no paper value stands "
            "beside them here)."
        ),
        Notebook.FIG6_PAIRWISE_ACCURACY: (
            f"**The paper's claim ({FIG6.where}).** Pairs inside the torso (e.g. right hip vs spine) are the least "
            f"accurate, because their depths are too close to tell; pairs like the two shoulders "
            f"({FIG6[Fig6.PAIR_SHOULDERS]} %) are easy and reveal which way the person faces."
        ),
        Notebook.TABLE2_PROTOCOLS: (
            f"**The paper's claim ({t2.where}).** On Human3.6M, with stacked-hourglass 2D detections and PRCNN "
            "rankings, DRPose3D beats Martinez et al.'s baseline under every protocol: "
            + "; ".join(
                f"{t2[table2_row(Arm.OURS, k)]} vs {t2[table2_row(Arm.BASELINE, k)]} mm (protocol #{k})"
                for k in (1, 2, 3)
            )
            + f"; without augmentation DRPose3D reaches {t2[table2_row(Arm.OURS_NO_AUG, 3)]} mm on protocol #3, so "
            "depth ranking alone already makes the lifter less camera-specific."
        ),
        Notebook.FIG5B_DPNET_ABLATION: (
            f"**The paper's claim ({f5b.where}).** Under protocol #3 the full model reaches {f5b[Fig5b.FULL]} mm; "
            f"without depth ranking {f5b[Fig5b.NO_RANK]}; without DepthNet (the raw ranking matrix concatenated to "
            f"the 2D input) {f5b[Fig5b.NO_DEPTHNET]}; with augmentation from ground-truth rankings and clean 2D only "
            f"(no GMM noise, no statistical flip) {f5b[Fig5b.AUG_GT_ONLY]}; without augmentation {f5b[Fig5b.NO_AUG]}; "
            f"without ranking and augmentation {f5b[Fig5b.NO_RANK_NO_AUG]}."
        ),
        Notebook.FIG4_PER_JOINT: (
            f"**The paper's claim (Sec. 4.3, Fig. 4).** Joints with a large reachable workspace (wrists, elbows and "
            f'feet) gain most from depth ranking; "the right wrist achieves {FIG4_GAIN_PCT["RWrist"]}% '
            f"({wrist[0]:.2f}mm → {wrist[1]:.2f}mm) errors drop while thorax only achieves "
            f'{FIG4_GAIN_PCT["Thorax"]}% ({thorax[0]:.2f}mm → {thorax[1]:.2f}mm)". From the millimetres the drops '
            f"are {-change_pct(*wrist):.1f} % and {-change_pct(*thorax):.1f} %: the printed percentages are the "
            "right wrist's drop in millimetres and a slip for the thorax."
        ),
    }
    return texts[notebook]
