"""One function per lifting table and figure of the paper (Table 1, Table 2, Fig. 5(b), Fig. 4,
Fig. 7; stage 1's chapters are in :mod:`drpose3d.book.stage1`). Each takes the resolved
:class:`Run`, trains what it needs through the cached stages, writes
``OUT/results/<notebook>.json`` in the fixed schema and returns that dict;
:func:`drpose3d.book.findings.experiment` is their shared opening and closing."""

from __future__ import annotations

import torch

from drpose3d.book.findings import Findings, experiment, gt_splits, sizes
from drpose3d.book.labels import camera_name
from drpose3d.book.results import (
    AUG_FACTOR,
    DETECTED_MM,
    DETECTED_VS_GT2D,
    EPS_MM,
    ERROR_BASELINE_MM,
    ERROR_OURS_MM,
    FRAME_KIND,
    FRAME_TITLE,
    FRAMES,
    GAIN_PCT,
    GT2D_MM,
    HELD_OUT_CAMERA_ID,
    JOINTS,
    LIFTER_EPOCHS,
    LIFTER_SEEDS,
    LIFTER_WIDTH,
    PAPER_RATIO,
    PER_ACTION,
    RATIO,
    SAMPLES,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    Metric,
    make_row,
)
from drpose3d.paper import (
    FIG4_EXAMPLES_MM,
    FIG4_GAINERS,
    FIG4_LEAST,
    FIG4_TORSO,
    FIG5B,
    FIG5B_ARMS,
    TABLE1,
    TABLE1_CHANGE_PCT,
    TABLE2,
    TABLE2_ARMS,
    Arm,
    Fig4,
    Table1,
    change_pct,
    fig4_row,
    table2_row,
)
from drpose3d.pose.camera import CAMERA_IDS
from drpose3d.pose.metrics import mpjpe
from drpose3d.pose.skeleton import JOINT_NAMES
from drpose3d.stages.designs import baseline, dpnet_config
from drpose3d.stages.dpnet import root_relative
from drpose3d.stages.pipeline import Context
from drpose3d.worlds.samples import HELD_OUT_CAMERA


@experiment
def table1_upper_bound(contexts: list[Context]) -> Findings:
    """Table 1 on ground-truth 2D: no ranking (Martinez's baseline), PRCNN-predicted ranking (PRCNN
    fed the detector's heatmaps, and fed heatmaps drawn from the ground-truth 2D: Sec. 3.1 does not
    say which) and ground-truth ranking (DPNet). Two controls separate the ranking from the network: the same
    DPNet with a constant ranking input (every pair a tie: the capacity-matched control of C2), and
    the two-stage PoseNet without DepthNet. Seed s's rows use seed s's PRCNN (ResNet-34 with
    heatmaps); each is the mean of the preset's `lifter_seeds` lifters on that seed's world and
    rankings, which differ in their lifter seed alone."""
    p = contexts[0].run.preset
    width = p.width
    runs: dict[Table1, list[dict]] = {name: [] for name in TABLE1_LIFTERS}
    for ctx in contexts:
        gt, predicted = gt_splits(ctx), ctx.lifter_rankings()
        from_truth = ctx.lifter_rankings(true_heatmaps=True)
        ties = tuple(torch.full_like(g, 0.5) for g in gt)
        configs = {  # row: (lifter, rankings)
            Table1.GT2D_NO_RANK: (baseline(width), gt),
            Table1.GT2D_NO_RANK_CASCADE: (dpnet_config(width, "none"), gt),
            Table1.GT2D_CONST_RANK: (dpnet_config(width), ties),
            Table1.GT2D_PRED_RANK: (dpnet_config(width), predicted),
            Table1.GT2D_PRED_RANK_TRUE_HEATMAPS: (dpnet_config(width), from_truth),
            Table1.GT2D_GT_RANK: (dpnet_config(width), gt),
        }
        for name, (cfg, ranks) in configs.items():
            runs[name].append(
                mean_of_lifters([ctx.gt2d_lifter(cfg, ranks, str(name), r) for r in range(p.lifter_seeds)])
            )
    rows = [
        make_row(
            name,
            Metric.MPJPE,
            [r["mpjpe"] for r in rs],
            TABLE1.get(name),
            p_mpjpe_mm=[r["p_mpjpe"] for r in rs],
            lifter_mpjpe_mm=[r["lifter_mpjpe"] for r in rs],
            **{PER_ACTION: {a: [r["per_action"][a] for r in rs] for a in rs[0]["per_action"]}},
        )
        for name, rs in runs.items()
    ]
    for name, ranked in (
        (Table1.GT_RANK_VS_NO_RANK, Table1.GT2D_GT_RANK),
        (Table1.PRED_RANK_VS_NO_RANK, Table1.GT2D_PRED_RANK),
    ):
        base = runs[Table1.GT2D_NO_RANK]
        change = [100 * (g["mpjpe"] - b["mpjpe"]) / b["mpjpe"] for g, b in zip(runs[ranked], base, strict=True)]
        rows.append(make_row(name, Metric.RELATIVE_CHANGE, change, TABLE1_CHANGE_PCT[name]))
    extra = {SAMPLES: sizes(contexts[0]), EPS_MM: p.eps_mm, LIFTER_WIDTH: p.width, LIFTER_EPOCHS: p.lifter_train.epochs,
             LIFTER_SEEDS: p.lifter_seeds}  # fmt: skip
    return Findings(rows, extra)


def mean_of_lifters(results: list[dict]) -> dict:
    """Lifters that differ only in their seed, as one: the mean of their MPJPE, P-MPJPE and per-action
    errors, with each one's MPJPE kept (their spread is the lifter's own noise)."""
    n = len(results)
    return {
        "mpjpe": sum(r["mpjpe"] for r in results) / n,
        "p_mpjpe": sum(r["p_mpjpe"] for r in results) / n,
        "per_action": {a: sum(r["per_action"][a] for r in results) / n for a in results[0]["per_action"]},
        "lifter_mpjpe": [round(r["mpjpe"], 4) for r in results],
    }


#: Table 1's lifters, in the order the page shows them.
TABLE1_LIFTERS = (
    Table1.GT2D_NO_RANK,
    Table1.GT2D_NO_RANK_CASCADE,
    Table1.GT2D_CONST_RANK,
    Table1.GT2D_PRED_RANK,
    Table1.GT2D_PRED_RANK_TRUE_HEATMAPS,
    Table1.GT2D_GT_RANK,
)


def by_seed(contexts: list[Context], arm: Arm, protocol: int) -> list[dict]:
    """One lifter design under one protocol, seed by seed: the per-seed values a row and its pairings need."""
    return [ctx.arm(arm, protocol) for ctx in contexts]


@experiment
def table2_protocols(contexts: list[Context]) -> Findings:
    """Table 2 on detected 2D (hourglass) and PRCNN rankings: the baseline, DRPose3D without
    and with augmentation, under protocols #1 (MPJPE), #2 (the #1 models after Procrustes)
    and #3 (three views for training, the held-out view for testing)."""
    rows = []
    protocol1: dict[Arm, list[dict]] = {}
    for arm in TABLE2_ARMS:
        p1, p3 = by_seed(contexts, arm, 1), by_seed(contexts, arm, 3)
        protocol1[arm] = p1
        for protocol, runs, metric, per in (
            (1, p1, "mpjpe", "per_action"),
            (2, p1, "p_mpjpe", "per_action_p2"),
            (3, p3, "mpjpe", "per_action"),
        ):
            name = table2_row(arm, protocol)
            per_action = {a: [r[per][a] for r in runs] for a in runs[0][per]}
            rows.append(
                make_row(name, Metric.MPJPE, [r[metric] for r in runs], TABLE2.get(name), **{PER_ACTION: per_action})
            )
    # how much detected 2D costs: the baseline on detections over the same network on ground truth
    detected = [r["mpjpe"] for r in protocol1[Arm.BASELINE]]
    truth = [
        c.gt2d_lifter(baseline(c.run.preset.width), gt_splits(c), str(Table1.GT2D_NO_RANK))["mpjpe"] for c in contexts
    ]
    ratios = [d / t for d, t in zip(detected, truth, strict=True)]
    paper_ratio = TABLE2[table2_row(Arm.BASELINE, 1)] / TABLE1[Table1.GT2D_NO_RANK]
    ctx = contexts[0]
    _, test3 = ctx.protocol_masks(3)
    p = ctx.run.preset
    extra = {
        DETECTED_VS_GT2D: {GT2D_MM: truth, DETECTED_MM: detected, RATIO: ratios, PAPER_RATIO: paper_ratio},
        HELD_OUT_CAMERA_ID: CAMERA_IDS[HELD_OUT_CAMERA],
        AUG_FACTOR: p.aug_factor,
        SAMPLES: {"train_p1": len(ctx.train), "test_p1": len(ctx.test), "test_p3": int(test3.sum())},
        TRAIN_SUBJECTS: list(ctx.world.train_subjects),
        TEST_SUBJECTS: list(ctx.world.test_subjects),
        LIFTER_WIDTH: p.width,
        LIFTER_EPOCHS: p.lifter_train.epochs,
    }
    return Findings(rows, extra)


@experiment
def fig5b_dpnet_ablation(contexts: list[Context]) -> Findings:
    """Fig. 5(b), protocol #3: DPNet without each of its parts (runs shared with Table 2)."""
    rows = [
        make_row(name, Metric.MPJPE, [r["mpjpe"] for r in by_seed(contexts, arm, 3)], FIG5B.get(name))
        for name, arm in FIG5B_ARMS.items()
    ]
    aug = contexts[0].run.preset.aug_factor
    return Findings(rows, {HELD_OUT_CAMERA_ID: CAMERA_IDS[HELD_OUT_CAMERA], AUG_FACTOR: aug})


@experiment
def fig4_per_joint(contexts: list[Context]) -> Findings:
    """Per-joint MPJPE under protocol #1 (detected 2D), baseline vs DRPose3D (Table 2's runs):
    one row per joint and model, the relative gain of the paper's two examples (its millimetres,
    not its printed percentages), and its observations as paired differences of the gain."""
    base, ours = by_seed(contexts, Arm.BASELINE, 1), by_seed(contexts, Arm.OURS, 1)
    names = JOINT_NAMES[1:]  # the root is fixed at the origin: zero error by construction
    rows = []
    for j, name in enumerate(names, start=1):
        rows.append(make_row(fig4_row(Arm.BASELINE, name), Metric.MPJPE, [r["per_joint"][j] for r in base], None))
        rows.append(make_row(fig4_row(Arm.OURS, name), Metric.MPJPE, [r["per_joint"][j] for r in ours], None))
    # relative gain (%), as the paper states it: errors differ fourfold between joints
    gain = torch.tensor(
        [
            [100 * (b["per_joint"][j] - o["per_joint"][j]) / b["per_joint"][j] for j in range(1, len(JOINT_NAMES))]
            for b, o in zip(base, ours, strict=True)
        ]
    )
    for joint, (before, after) in FIG4_EXAMPLES_MM.items():
        paper = round(-change_pct(before, after), 2)
        rows.append(
            make_row(fig4_row(GAIN_PCT, joint), Metric.RELATIVE_CHANGE, gain[:, names.index(joint)].tolist(), paper)
        )
    gainers = torch.tensor([n in FIG4_GAINERS for n in names])
    torso = torch.tensor([n in FIG4_TORSO for n in names])
    least = names.index(FIG4_LEAST)
    others = [k for k in range(len(names)) if k != least]
    rows.append(
        make_row(
            Fig4.GAINERS_MINUS_REST,
            Metric.POINTS,
            (gain[:, gainers].mean(1) - gain[:, ~gainers].mean(1)).tolist(),
            None,
        )
    )
    rows.append(
        make_row(
            Fig4.GAINERS_MINUS_TORSO, Metric.POINTS, (gain[:, gainers].mean(1) - gain[:, torso].mean(1)).tolist(), None
        )
    )
    rows.append(
        make_row(Fig4.THORAX_MINUS_REST, Metric.POINTS, (gain[:, least] - gain[:, others].mean(1)).tolist(), None)
    )
    extra = {
        JOINTS: list(names),
        GAIN_PCT: gain.mean(0).tolist(),
        "gainers": list(FIG4_GAINERS),
        "torso": list(FIG4_TORSO),
        "least": FIG4_LEAST,
    }
    return Findings(rows, extra)


def fig7_row(arm: Arm, seed: int) -> str:
    """Fig. 7's row of one lifter's protocol #1 error on the whole test set of the seed it shows."""
    return f"{arm}_p1_seed{seed}"


@experiment
def fig7_qualitative(contexts: list[Context], per_kind: int = 2) -> Findings:
    """Test frames (protocol #1, first seed) to look at: typical (median DRPose3D error), where
    ranking helped most, and the worst DRPose3D frames; with the input crop and the three
    root-relative camera-frame poses (truth, baseline, DRPose3D)."""
    ctx = contexts[0]
    runs = {arm: ctx.arm(arm, 1) for arm in (Arm.BASELINE, Arm.OURS)}
    truth = root_relative(ctx.test.pose3d)
    err = {arm: mpjpe(r["predictions"], truth) for arm, r in runs.items()}
    order = torch.argsort(err[Arm.OURS])
    picks = {
        "typical": order[len(order) // 2 - per_kind // 2 :][:per_kind],
        "ranking helped most": torch.argsort(err[Arm.BASELINE] - err[Arm.OURS], descending=True)[:per_kind],
        "worst": order.flip(0)[:per_kind],
    }
    s = ctx.test
    frames = [
        {
            FRAME_KIND: kind,
            "index": int(i),
            FRAME_TITLE: f"{kind}: {s.subject_names[int(s.subject[i])]} {s.action_names[int(s.action[i])]}, "
            f"{camera_name(int(s.camera[i]))}, frame {int(s.frame[i])}",
            ERROR_BASELINE_MM: float(err[Arm.BASELINE][i]),
            ERROR_OURS_MM: float(err[Arm.OURS][i]),
        }
        for kind, idx in picks.items()
        for i in idx
    ]
    rows = [
        make_row(fig7_row(arm, ctx.seed), Metric.MPJPE, [runs[arm]["mpjpe"]], TABLE2.get(table2_row(arm, 1)))
        for arm in runs
    ]
    idx = torch.tensor([f["index"] for f in frames])
    figures = {
        "poses": {
            "truth": truth[idx],
            Arm.BASELINE: runs[Arm.BASELINE]["predictions"][idx],
            Arm.OURS: runs[Arm.OURS]["predictions"][idx],
        },
        "images": ctx.crops["test"].hold(idx).images,
    }
    return Findings(rows, {FRAMES: frames}, seeds=[ctx.seed], figures=figures)
