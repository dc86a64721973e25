"""The chapters beyond the paper's tables: the data a run used, what depth order 2D alone
carries, DepthNet against fixed orderings, ranking noise, the claims ledger, and the data the
figures of those chapters draw."""

from __future__ import annotations

import time

import torch

from drpose3d.book.findings import Findings, experiment, gt_splits
from drpose3d.book.ledger import ledger, side_by_side
from drpose3d.book.results import (
    EPS_MM,
    RANK_THRESHOLD,
    RANKING_ACCURACY,
    SAMPLES,
    TEST_SUBJECTS,
    TIE_RATE,
    TRAIN_SUBJECTS,
    Metric,
    make_row,
    write_results,
)
from drpose3d.chapters import Notebook
from drpose3d.formats.importer import MAPS
from drpose3d.formats.mocap import load_mocap
from drpose3d.markup import text
from drpose3d.paper import TABLE1, DataWorld, RankingToDepth, Table1, noise_row
from drpose3d.pose.camera import CAMERA_IDS, capture_centre
from drpose3d.pose.metrics import mpjpe
from drpose3d.pose.ranking import borda_depth, pairwise_accuracy, ranking_matrix, topological_depth
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, bone_lengths
from drpose3d.run import Run, project_root
from drpose3d.stages.designs import dpnet_config
from drpose3d.stages.dpnet import gt_ranking, rank_correlation, root_relative
from drpose3d.stages.pipeline import Context, open_context
from drpose3d.stages.prcnn import normalised_2d
from drpose3d.worlds.augment import (
    CAMERA_SAMPLING,
    camera_prior,
    rig_cameras,
    sample_virtual_cameras,
    statistical_flip,
)
from drpose3d.worlds.samples import HELD_OUT_CAMERA, place_in_rig, rig_for
from drpose3d.worlds.spec import CMU_FILE, CMU_TEST

_HG = list(HOURGLASS_JOINTS)
#: Flip rates of the ranking-noise curve and Eq. (1) tolerances of the sensitivity sweep.
FLIP_RATES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
EPS_SWEEP_MM = (0.0, 10.0, 20.0, 50.0, 100.0)
#: Sec. 3.1's discretisation threshold t (P within 0.5 +- t is a tie); the paper gives no value.
THRESHOLD_SWEEP = (0.0, 0.02, 0.05, 0.1, 0.2)


def tie_rate(ranking: torch.Tensor) -> float:
    """Share of off-diagonal entries that are ties (0.5) in (N, J, J) ranking matrices."""
    j = ranking.shape[-1]
    return float(((ranking == 0.5).float().mean() - 1 / j) * j / (j - 1))


@experiment
def data_world(contexts: list[Context]) -> Findings:
    """Describe the world: subjects, actions, sample counts, and how much depth order a 2D-only
    lookup recovers (the nearest training 2D pose's ranking matrix, Eq. (1))."""
    ctx = contexts[0]
    p, world, train, test = ctx.run.preset, ctx.world, ctx.train, ctx.test
    bones = bone_lengths(world.mocap.positions)
    subjects = {}
    for s in world.mocap.subjects:
        mask = torch.from_numpy(world.mocap.subject == s)
        subjects[s] = {
            "frames": int(mask.sum()),
            "head_median_mm": float(world.mocap.positions[mask][:, 10, 2].median()),
            "bone_cv_max": float((bones[mask].std(0) / bones[mask].mean(0)).max()),
        }
    g = torch.Generator().manual_seed(0)
    probe = test.select(torch.randperm(len(test), generator=g)[: min(2000, len(test))])
    nearest = torch.cdist(normalised_2d(probe.pose2d[:, _HG]), normalised_2d(train.pose2d[:, _HG])).argmin(1)
    train_ranking = gt_ranking(train, p.eps_mm)
    nn_acc = pairwise_accuracy(train_ranking[nearest], gt_ranking(probe, p.eps_mm))
    nn_pose_err = mpjpe(root_relative(train.pose3d[nearest]), root_relative(probe.pose3d))
    rows = [
        make_row(DataWorld.NN2D_RANKING_ACCURACY, Metric.PAIRWISE_ACCURACY, [100 * float(nn_acc.mean())], None),
        make_row(DataWorld.NN2D_POSE_MPJPE, Metric.MPJPE, [float(nn_pose_err.mean())], None),
    ]
    in_image = ((world.samples.pose2d >= 0) & (world.samples.pose2d <= 1000)).all(-1).float().mean()
    extra = {
        "subjects": subjects,
        "actions": list(world.samples.action_names),
        SAMPLES: {"train": len(train), "test": len(test)},
        TRAIN_SUBJECTS: list(world.train_subjects),
        TEST_SUBJECTS: list(world.test_subjects),
        EPS_MM: p.eps_mm,
        "off_diagonal_tie_rate": tie_rate(train_ranking),
        "stride": world.stride,
        "fps": world.mocap.fps,
        "in_image_fraction": float(in_image),
        "dropped_frames": world.samples.dropped_frames,
    }
    return Findings(rows, extra, seeds=[0])


#: The results key of the fixed orderings' rank correlation with the true depth when they order the
#: ground-truth ranking (by their Spearman row): what the ties within ε leave of a perfect ranking.
ORDERINGS_OF_TRUTH = "spearman_of_gt_ranking"


@experiment
def ranking_to_depth(contexts: list[Context]) -> Findings:
    """C10 (Sec. 3.2, asserted, never shown): turn PRCNN's noisy ranking matrices into coarse
    depth by DepthNet, by a topological sort with greedy cycle breaking, or by row sums
    (Borda), and feed each to the same two-stage PoseNet on ground-truth 2D (protocol #1).
    DepthNet's row is Table 1's predicted-ranking run."""
    p = contexts[0].run.preset
    rows = []
    methods = {
        "depthnet": (RankingToDepth.MPJPE_DEPTHNET, RankingToDepth.SPEARMAN_DEPTHNET),
        "topological": (RankingToDepth.MPJPE_TOPOLOGICAL, RankingToDepth.SPEARMAN_TOPOLOGICAL),
        "borda": (RankingToDepth.MPJPE_BORDA, RankingToDepth.SPEARMAN_BORDA),
    }
    for method, (error_row, spearman_row) in methods.items():
        runs = []
        for ctx in contexts:
            ranks = ctx.lifter_rankings()
            runs.append(ctx.gt2d_lifter(dpnet_config(p.width, method), ranks, method))
        rows.append(make_row(error_row, Metric.MPJPE, [r["mpjpe"] for r in runs], None))
        rows.append(make_row(spearman_row, Metric.RANK_CORRELATION, [r["depth_spearman"] for r in runs], None))
    test = contexts[0].test
    truth, depth = gt_ranking(test, p.eps_mm), test.pose3d[:, _HG, 2]
    orderings = {
        str(row): float(rank_correlation(fn(truth), depth).mean())
        for row, fn in (
            (RankingToDepth.SPEARMAN_TOPOLOGICAL, topological_depth),
            (RankingToDepth.SPEARMAN_BORDA, borda_depth),
        )
    }
    return Findings(rows, {ORDERINGS_OF_TRUTH: orderings})


@experiment
def ranking_noise(contexts: list[Context]) -> Findings:
    """ "More accurate ranking estimation could further improve" (Sec. 4.4): DPNet on ground-truth
    2D with ground-truth rankings whose entries are flipped at controlled rates (train and test
    alike, antisymmetrically), with ground-truth rankings under other Eq. (1) tolerances ε, and
    with PRCNN's rankings discretised at other thresholds (Sec. 3.1). Rate 0, ε and the
    threshold of the preset are Table 1's DPNet runs (the first of its lifter seeds)."""
    p = contexts[0].run.preset
    dpnet = dpnet_config(p.width)
    rows = []
    for rate in FLIP_RATES:
        runs, acc = [], []
        for ctx in contexts:
            truth = gt_splits(ctx)
            g = torch.Generator().manual_seed(1000 + ctx.seed)
            keep = torch.full((16, 16), 1 - rate)
            ranks = truth if rate == 0 else tuple(statistical_flip(t, keep, g) for t in truth)
            runs.append(ctx.gt2d_lifter(dpnet, ranks, f"flip {rate:.2f}"))
            acc.append(100 * float(pairwise_accuracy(ranks[1], truth[1]).mean()))
        paper = TABLE1[Table1.GT2D_GT_RANK] if rate == 0 else None
        rows.append(
            make_row(
                noise_row("flip", rate), Metric.MPJPE, [r["mpjpe"] for r in runs], paper, **{RANKING_ACCURACY: acc}
            )
        )
    for eps in EPS_SWEEP_MM:
        runs, ties = [], []
        for ctx in contexts:
            ranks = tuple(ranking_matrix(s.pose3d[:, _HG, 2], eps) for s in (ctx.train, ctx.test))
            runs.append(ctx.gt2d_lifter(dpnet, ranks, f"eps {eps:g}"))
            ties.append(tie_rate(ranks[1]))
        rows.append(
            make_row(
                noise_row("eps", eps),
                Metric.MPJPE,
                [r["mpjpe"] for r in runs],
                None,
                **{TIE_RATE: sum(ties) / len(ties)},
            )
        )
    for threshold in THRESHOLD_SWEEP:
        ranked = [ctx.lifter_rankings(threshold=threshold) for ctx in contexts]
        runs = [ctx.gt2d_lifter(dpnet, r, f"threshold {threshold:g}") for ctx, r in zip(contexts, ranked, strict=True)]
        rows.append(
            make_row(
                noise_row("threshold", threshold),
                Metric.MPJPE,
                [r["mpjpe"] for r in runs],
                None,
                **{
                    RANKING_ACCURACY: [r.accuracy for r in ranked],
                    TIE_RATE: [tie_rate(r.matrices["test"]) for r in ranked],
                },
            )
        )
    extra = {
        EPS_MM: p.eps_mm,
        "flip_rates": list(FLIP_RATES),
        "eps_sweep_mm": list(EPS_SWEEP_MM),
        "threshold_sweep": list(THRESHOLD_SWEEP),
        RANK_THRESHOLD: p.rank_threshold,
    }
    return Findings(rows, extra)


def committed_side_by_side(preset: str) -> list[dict] | None:
    """The committed runs ``runs/<preset>`` (generated world) and ``runs/<preset>-cmu`` (real
    motion) judged side by side, one row per claim (HTML cells), or None if either is missing."""
    runs = project_root() / "runs"
    folders = {"generated world": runs / preset, "real motion (CMU)": runs / f"{preset}-cmu"}
    if not all(any(f.glob("*.json")) for f in folders.values()):
        return None
    ledgers = {f"{name}, {preset}": ledger(folder) for name, folder in folders.items()}
    return side_by_side(ledgers, link=lambda nb: f"{nb}.html", html=True)


def claims(run: Run) -> dict:
    """The ledger (trains nothing, opens no world): every claim of :mod:`drpose3d.book.claims`
    judged by :mod:`drpose3d.book.ledger` from the other notebooks' results in the run's folder;
    each row names the dataset and preset its numbers came from."""
    started = time.time()
    return write_results(run, Notebook.CLAIMS, run.data.label, ledger(run.out), started)


def example_frame(run: Run, fraction: float = 0.37) -> dict:
    """One frame for figures: its world pose, its subject's rig and its four 2D views."""
    world = open_context(run, run.seeds[0]).world
    block = int(len(world.samples) // len(CAMERA_IDS) * fraction)
    views = world.samples.select(torch.arange(block * len(CAMERA_IDS), (block + 1) * len(CAMERA_IDS)))
    seq_frames = torch.nonzero(world.mocap.sequence == views.sequence[0]).squeeze(1)
    k = int(seq_frames[views.frame[0]])
    subject = str(world.mocap.subject[k])
    return {
        "pose_world": world.mocap.positions[k],
        "cameras": rig_for(subject),
        "pose2d": views.pose2d,
        "title": f"{text(subject)}, {text(world.mocap.action[k])}, frame {int(views.frame[0])}",
    }


def gallery_frames(run: Run, count: int = 8) -> dict:
    """Rendered test crops spread over the test set, with their ground-truth 2D, each titled by its
    subject and action and the rig camera that saw it: the keyword arguments of
    :func:`drpose3d.pages.views.gallery`, which two chapters draw."""
    ctx = open_context(run, run.seeds[0])
    crops = ctx.crops["test"]
    pick = torch.linspace(0, len(crops) - 1, count).round().long()
    test = crops.hold(pick)
    s = ctx.test
    titles = [f"{text(s.subject_names[int(s.subject[i])])} · {text(s.action_names[int(s.action[i])])}" for i in pick]
    return {"images": test.images, "joints": test.joints, "titles": titles, "cameras": s.camera[pick].tolist()}


def camera_sphere(run: Run, count: int = 400, seed: int = 0) -> dict:
    """Protocol #3's camera picture: the training views, the held-out view, V_c (Eq. 7), a
    person standing there, and `count` virtual cameras drawn from the prior fitted to the
    training views, both ways (:data:`~drpose3d.worlds.augment.CAMERA_SAMPLING`)."""
    world = open_context(run, run.seeds[0]).world
    views = [c for c in range(len(CAMERA_IDS)) if c != HELD_OUT_CAMERA]
    real = rig_cameras(world.train_subjects, views)
    prior = camera_prior(real)
    person = world.mocap.positions[0].float()
    person = person - torch.cat((person[0, :2] - prior.centre[:2], person[:, 2].min(0, keepdim=True).values))
    return {
        "prior": prior,
        "train": real,
        "held_out": rig_cameras(world.test_subjects, [HELD_OUT_CAMERA]),
        "virtual": {
            way: sample_virtual_cameras(prior, count, torch.Generator().manual_seed(seed), way)
            for way in CAMERA_SAMPLING
        },
        "person": person,
    }


def real_motion(run: Run, clips: tuple[str, ...] = ("02_01", "03_01", "131_01", "lambada", "zombie")) -> dict:
    """The embedded CMU world: performers, frames, bone lengths, the joint maps, and the placement
    rule on a few whole-room clips (figures). Written under the run's results, labelled ``cmu``."""
    started = time.time()
    mocap = load_mocap(CMU_FILE)
    bones = bone_lengths(mocap.positions)
    performers = {}
    for s in mocap.subjects:
        mask = torch.from_numpy(mocap.subject == s)
        names = sorted(set(mocap.action[mask.numpy()].tolist()))
        median = bones[mask].median(0).values
        performers[s] = {
            "clips": len(names),
            "frames": int(mask.sum()),
            "seconds": round(float(mask.sum()) / mocap.fps, 1),
            "format": "BVH" if str(mocap.source[mask.numpy()][0]).endswith(".bvh") else "ASF/AMC",
            "femur_mm": round(float((median[1] + median[4]) / 2), 1),
            "shin_mm": round(float((median[2] + median[5]) / 2), 1),
            "upper_arm_mm": round(float((median[11] + median[14]) / 2), 1),
            "pelvis_height_mm": round(float(mocap.positions[mask][:, 0, 2].median()), 1),
        }
    rows = [
        make_row("frames", Metric.COUNT, [float(len(mocap))], None),
        make_row("performers", Metric.COUNT, [float(len(mocap.subjects))], None),
    ]
    result = write_results(
        run,
        Notebook.REAL_MOTION,
        "cmu",
        rows,
        started,
        seeds=[0],
        performers=performers,
        fps=mocap.fps,
        clips=len(set(mocap.sequence.tolist())),
        maps=MAPS,
        **{TEST_SUBJECTS: list(CMU_TEST)},
    )
    picks = {c: torch.from_numpy(mocap.action == c) for c in clips if (mocap.action == c).any()}
    rig = rig_for("S1")
    centre = capture_centre(rig.centre, rig.optical_axis).float()[:2]
    placed = {}
    for clip, mask in picks.items():
        seq = mocap.sequence[mask]
        world = place_in_rig(mocap.positions[mask], seq, centre.expand(len(seq), 2), round(mocap.fps))
        placed[clip] = world[:, 0, :2]
    result["figures"] = {
        "poses": {c: mocap.positions[m][len(mocap.positions[m]) // 2] for c, m in picks.items()},
        "before": {c: mocap.positions[m][:, 0, :2] for c, m in picks.items()},
        "after": placed,
        "centre": centre,
    }
    return result
