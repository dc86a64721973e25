"""One function per table/figure. Each trains what it needs (through the cache), writes
``<out>/results/<notebook>.json`` in the fixed schema, and returns that dict."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .cache import Cache
from .camera import CAMERA_IDS
from .dataset import protocol_split, rig_for
from .lifting import gt_ranking, root_relative, run_lifter
from .metrics import mpjpe
from .ranking import pairwise_accuracy
from .skeleton import HOURGLASS_JOINTS, bone_lengths
from .models.dpnet import LifterConfig
from .presets import get_preset
from .results import make_row, write_results
from .sources import World, load_world
from .train import resolve_device

#: Table 1 of the paper (protocol #1, ground-truth 2D), mm.
TABLE1_PAPER = {"gt2d_no_rank": 45.5, "gt2d_pred_rank": 41.2, "gt2d_gt_rank": 30.2}
TABLE1_PAPER_DROP_PCT = -33.6


def seed_list(seeds: int | list[int]) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds is {seeds}, expected a count >= 1 or a list of seeds")
        return list(range(seeds))
    return [int(s) for s in seeds]


def table1_upper_bound(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 2,
                       device: str = "auto", out: str | Path = "_out") -> dict:
    """Table 1 rows on ground-truth 2D: no ranking (Martinez baseline), ground-truth ranking
    (DPNet). An extra control, the two-stage PoseNet without ranking, separates the effect of
    ranking from that of the cascade. The predicted-ranking row needs PRCNN and is absent."""
    started = time.time()
    p, dev, seeds = get_preset(preset), resolve_device(device), seed_list(seeds)
    world = load_world(data, p)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    cache = Cache(Path(out) / "cache")
    r_train, r_test = gt_ranking(train, p.eps_mm), gt_ranking(test, p.eps_mm)
    configs = {
        "gt2d_no_rank": LifterConfig(ranking="none", stages=1, width=p.width),
        "gt2d_no_rank_cascade": LifterConfig(ranking="none", stages=2, width=p.width),
        "gt2d_gt_rank": LifterConfig(ranking="depthnet", stages=2, width=p.width),
    }
    runs = {
        name: [run_lifter(train, test, cfg, p.lifter_train, s, dev, r_train, r_test, cache,
                          (world.label, p.world, p.stride, p.eps_mm, "protocol1", "gt2d", "gt_rank"), desc=f"{name} seed {s}")
               for s in seeds]
        for name, cfg in configs.items()
    }
    rows = [
        make_row(name, "mpjpe_mm", [r["mpjpe"] for r in rs], TABLE1_PAPER.get(name),
                 per_action={a: [r["per_action"][a] for r in rs] for a in rs[0]["per_action"]},
                 p_mpjpe_mm=[r["p_mpjpe"] for r in rs])
        for name, rs in runs.items()
    ]
    drop = [100 * (g["mpjpe"] - b["mpjpe"]) / b["mpjpe"] for g, b in zip(runs["gt2d_gt_rank"], runs["gt2d_no_rank"])]
    rows.append(make_row("gt_rank_vs_no_rank", "relative_change_pct", drop, TABLE1_PAPER_DROP_PCT))
    return write_results(out, "table1_upper_bound", world.label, preset, seeds, rows, started,
                         samples={"train": len(train), "test": len(test)}, eps_mm=p.eps_mm, width=p.width,
                         epochs=p.lifter_train.epochs)


def _normalised_2d(pose2d: torch.Tensor) -> torch.Tensor:
    """Root-centred, scale-free 2D (N, 32): what a 2D-only method could match on."""
    q = pose2d[:, list(HOURGLASS_JOINTS)] - pose2d[:, :1]
    return (q / q.norm(dim=(-1, -2), keepdim=True).clamp_min(1e-6)).reshape(len(q), -1)


def data_world(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 1,
               device: str = "auto", out: str | Path = "_out") -> dict:
    """Describe the world: subjects, actions, sample counts, and how much depth order a
    2D-only lookup recovers (the nearest training 2D pose's ranking matrix, Eq. (1))."""
    started = time.time()
    p = get_preset(preset)
    world = load_world(data, p)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    bones = bone_lengths(world.mocap.positions)
    subj_ids = torch.from_numpy(np.unique(world.mocap.subject, return_inverse=True)[1])
    uniq = np.unique(world.mocap.subject).tolist()
    subjects = {
        s: {"frames": int((subj_ids == i).sum()),
            "height_mm": float((world.mocap.positions[subj_ids == i][..., 2].max(-1).values.quantile(0.95))),
            "bone_cv_max": float((bones[subj_ids == i].std(0) / bones[subj_ids == i].mean(0)).max())}
        for i, s in enumerate(uniq)
    }
    subjects = {s: subjects[s] for s in world.mocap.subjects}
    g = torch.Generator().manual_seed(0)
    probe = test.select(torch.randperm(len(test), generator=g)[: min(2000, len(test))])
    nn_idx = torch.cdist(_normalised_2d(probe.pose2d), _normalised_2d(train.pose2d)).argmin(1)
    r_probe, r_nn = gt_ranking(probe, p.eps_mm), gt_ranking(train, p.eps_mm)[nn_idx]
    nn_acc = pairwise_accuracy(r_nn, r_probe)
    nn_pose_err = mpjpe(root_relative(train.pose3d[nn_idx]), root_relative(probe.pose3d))
    tie_rate = float((gt_ranking(train, p.eps_mm) == 0.5).float().mean() - 1 / 16)
    rows = [
        make_row("nn2d_ranking_accuracy", "pairwise_acc_pct", [100 * float(nn_acc.mean())], None),
        make_row("nn2d_pose_mpjpe", "mpjpe_mm", [float(nn_pose_err.mean())], None),
    ]
    return write_results(out, "data_world", world.label, preset, [0], rows, started,
                         subjects=subjects, actions=list(world.samples.action_names),
                         samples={"train": len(train), "test": len(test)},
                         train_subjects=list(world.train_subjects), test_subjects=list(world.test_subjects),
                         eps_mm=p.eps_mm, off_diagonal_tie_rate=tie_rate, stride=p.stride, fps=world.mocap.fps,
                         in_image_fraction=float(((world.samples.pose2d >= 0) & (world.samples.pose2d <= 1000)).all(-1).float().mean()))


def table1_summary(result: dict) -> str:
    """The 'what we see' sentence, computed from the numbers it states."""
    by = {r["name"]: r for r in result["rows"]}
    drop = by["gt_rank_vs_no_rank"]
    ci = drop["ci95"]
    sign = "lowers" if drop["mean"] < 0 else "raises"
    verdict = ("the whole interval is below zero, so the direction of the paper's claim holds here"
               if ci and ci[1] < 0 else "the interval does not exclude zero, so this run does not support the claim")
    cascade = by.get("gt2d_no_rank_cascade")
    extra = (f" Control: the two-stage PoseNet without ranking reaches {cascade['mean']:.1f} mm against "
             f"{by['gt2d_no_rank']['mean']:.1f} mm for the one-stage baseline." if cascade else "")
    return (f"On **{result['dataset']}** data with the **{result['preset']}** preset ({len(result['seeds'])} seeds), "
            f"ground-truth ranking {sign} MPJPE from {by['gt2d_no_rank']['mean']:.1f} to {by['gt2d_gt_rank']['mean']:.1f} mm, "
            f"a relative change of {drop['mean']:.1f} % (95 % CI {ci[0]:.1f} to {ci[1]:.1f} %) against the paper's "
            f"{drop['paper']:.1f} % on Human3.6M; {verdict}." + extra if ci else
            f"Ground-truth ranking changes MPJPE by {drop['mean']:.1f} % (one seed, no interval).")


def example_frame(world: World, fraction: float = 0.37) -> dict:
    """One frame for figures: its world pose, its subject's rig and its four 2D views."""
    block = int(len(world.samples) // len(CAMERA_IDS) * fraction)
    views = world.samples.select(torch.arange(block * len(CAMERA_IDS), (block + 1) * len(CAMERA_IDS)))
    seq_frames = torch.nonzero(world.mocap.sequence == views.sequence[0]).squeeze(1)
    k = int(seq_frames[views.frame[0]])
    subject = str(world.mocap.subject[k])
    return {"pose_world": world.mocap.positions[k], "cameras": rig_for(subject), "pose2d": views.pose2d,
            "title": f"{subject}, {world.mocap.action[k]}, frame {int(views.frame[0])}"}
