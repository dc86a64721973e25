"""One function per table/figure. Each trains what it needs (through the cache), writes
``<out>/results/<notebook>.json`` in the fixed schema, and returns that dict."""
from __future__ import annotations

import time
from pathlib import Path

from dataclasses import asdict

import numpy as np
import torch

from .cache import Cache, config_key
from .camera import CAMERA_IDS
from .dataset import protocol_split, rig_for
from .lifting import gt_ranking, root_relative, run_lifter
from .detect2d import detect, errors_2d, train_hourglass
from .images import render_set
from .metrics import mean_ci95, mpjpe
from .rank_cnn import PRCNNConfig, predict_rankings, train_prcnn
from .ranking import discretise, pairwise_accuracy
from .skeleton import HOURGLASS_JOINTS, JOINT_NAMES, bone_lengths
from .models.dpnet import LifterConfig
from .presets import get_preset
from .results import make_row, write_results
from .sources import World, load_world
from .train import resolve_device

#: Table 1 of the paper (protocol #1, ground-truth 2D), mm.
TABLE1_PAPER = {"gt2d_no_rank": 45.5, "gt2d_pred_rank": 41.2, "gt2d_gt_rank": 30.2}
TABLE1_PAPER_DROP_PCT = round(100 * (30.2 - 45.5) / 45.5, 1)  # -33.6 %, as the paper states
TABLE1_PAPER_PRED_DROP_PCT = round(100 * (41.2 - 45.5) / 45.5, 1)  # -9.5 %


def seed_list(seeds: int | list[int]) -> list[int]:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds is {seeds}, expected a count >= 1 or a list of seeds")
        return list(range(seeds))
    return [int(s) for s in seeds]


def table1_upper_bound(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 2,
                       device: str = "auto", out: str | Path = "_out") -> dict:
    """Table 1 on ground-truth 2D: no ranking (Martinez baseline), PRCNN-predicted ranking and
    ground-truth ranking (DPNet). An extra control, the two-stage PoseNet without ranking,
    separates the effect of ranking from that of the cascade. Seed s of the predicted row
    uses the rankings of PRCNN seed s (ResNet-34 with heatmaps)."""
    started = time.time()
    ctx = _setup(preset, data, seeds, device, out)
    p, seeds = ctx["p"], ctx["seeds"]
    train, test = ctx["train"], ctx["test"]
    gt = {s: (gt_ranking(train, p.eps_mm), gt_ranking(test, p.eps_mm)) for s in seeds}
    stage = image_stage(ctx)
    pred = {}
    for s in seeds:
        run = prcnn_run(ctx, stage, "prcnn_resnet34", s)
        pred[s] = (run["rankings"]["train"], run["rankings"]["test"])
    configs = {
        "gt2d_no_rank": (LifterConfig(ranking="none", stages=1, width=p.width), gt, "gt_rank"),
        "gt2d_no_rank_cascade": (LifterConfig(ranking="none", stages=2, width=p.width), gt, "gt_rank"),
        "gt2d_pred_rank": (LifterConfig(ranking="depthnet", stages=2, width=p.width), pred, ("pred_rank", stage["key"], p.prcnn_width)),
        "gt2d_gt_rank": (LifterConfig(ranking="depthnet", stages=2, width=p.width), gt, "gt_rank"),
    }
    runs = {
        name: [run_lifter(train, test, cfg, p.lifter_train, s, ctx["dev"], *ranks[s], ctx["cache"],
                          ctx["data_key"] + (p.eps_mm, "gt2d", source), desc=f"{name} seed {s}")
               for s in seeds]
        for name, (cfg, ranks, source) in configs.items()
    }
    rows = [
        make_row(name, "mpjpe_mm", [r["mpjpe"] for r in rs], TABLE1_PAPER.get(name),
                 per_action={a: [r["per_action"][a] for r in rs] for a in rs[0]["per_action"]},
                 p_mpjpe_mm=[r["p_mpjpe"] for r in rs])
        for name, rs in runs.items()
    ]
    for name, ranked, paper in (("gt_rank_vs_no_rank", "gt2d_gt_rank", TABLE1_PAPER_DROP_PCT),
                                ("pred_rank_vs_no_rank", "gt2d_pred_rank", TABLE1_PAPER_PRED_DROP_PCT)):
        change = [100 * (g["mpjpe"] - b["mpjpe"]) / b["mpjpe"] for g, b in zip(runs[ranked], runs["gt2d_no_rank"])]
        rows.append(make_row(name, "relative_change_pct", change, paper))
    return write_results(out, "table1_upper_bound", ctx["world"].label, preset, seeds, rows, started,
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
    pred = by.get("pred_rank_vs_no_rank")
    if pred:
        extra += (f" With PRCNN-predicted ranking the error is {by['gt2d_pred_rank']['mean']:.1f} mm, a change of "
                  f"{_interval_words(pred['mean'], tuple(pred['ci95']) if pred['ci95'] else None, '%')} against the paper's {pred['paper']:.1f} %.")
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


# ---------------------------------------------------------------- images, hourglass, PRCNN
#: Fig. 5(a) of the paper: pairwise ranking accuracy (%) on protocol #1.
FIG5A_PAPER = {"prcnn_resnet34": 91.22, "prcnn_resnet34_no_heatmaps": 88.86, "prcnn_resnet18": None, "prcnn_resnet50": None}
FIG5A_VARIANTS = {"prcnn_resnet34": (34, True), "prcnn_resnet34_no_heatmaps": (34, False),
                  "prcnn_resnet18": (18, True), "prcnn_resnet50": (50, True)}


def _setup(preset: str, data: str, seeds, device: str, out) -> dict:
    p, dev = get_preset(preset), resolve_device(device)
    world = load_world(data, p)
    train, test = protocol_split(world.samples, 1, world.train_subjects, world.test_subjects)
    return {"p": p, "dev": dev, "seeds": seed_list(seeds), "world": world, "train": train, "test": test,
            "cache": Cache(Path(out) / "cache"), "data_key": (world.label, p.world, p.stride, "protocol1")}


def image_stage(ctx: dict) -> dict:
    """Render train/test crops, train the hourglass (seed 0: one 2D estimator for all runs),
    detect 2D on both; cached. Returns image sets, heatmaps (uint8) and 2D errors."""
    p, dev, cache = ctx["p"], ctx["dev"], ctx["cache"]
    sets = {split: render_set(ctx[split], p.resolution, dev, cache, ctx["data_key"] + (split,)) for split in ("train", "test")}
    key = config_key("detections-v1", ctx["data_key"], p.resolution, asdict(p.hourglass), asdict(p.hourglass_train))
    det = cache.load_tensor("detections", key)
    if det is None:
        model = train_hourglass(sets["train"], p.hourglass, p.hourglass_train, 0, dev, cache, ctx["data_key"])
        det = {}
        for split, images in sets.items():
            heat, joints = detect(model, images, dev)
            det[split] = {"heatmaps": (heat.clamp(0, 1) * 255).round().to(torch.uint8), "joints": joints,
                          "errors": errors_2d(joints, ctx[split].pose2d[:, list(HOURGLASS_JOINTS)], images.boxes)}
        cache.save_tensor("detections", key, det)
    return {"sets": sets, "det": det, "key": key}


def prcnn_run(ctx: dict, stage: dict, variant: str, seed: int) -> dict:
    """Train one PRCNN variant and predict rankings on train and test (cached): probabilities
    are kept as tensors; accuracies (overall, per pair) as JSON."""
    p, dev, cache = ctx["p"], ctx["dev"], ctx["cache"]
    depth, use_heat = FIG5A_VARIANTS[variant]
    cfg = PRCNNConfig(depth, use_heat, p.prcnn_width)
    key = config_key("prcnn-run-v1", stage["key"], asdict(cfg), asdict(p.prcnn_train), p.eps_mm, seed)
    hit = cache.load_tensor("rankings", key)
    if hit is None:
        tr = stage["sets"]["train"]
        tensors = {"images": tr.images, "joints": tr.joints, "ranking": gt_ranking(ctx["train"], p.eps_mm),
                   "heatmaps": stage["det"]["train"]["heatmaps"]}
        model = train_prcnn(tensors, cfg, p.prcnn_train, seed, dev, cache, (stage["key"], p.eps_mm))
        hit = {}
        for split in ("train", "test"):
            prob = predict_rankings(model, stage["sets"][split].images, stage["det"][split]["heatmaps"], dev)
            hit[split] = discretise(prob, p.rank_threshold)
        cache.save_tensor("rankings", key, hit)
    truth = gt_ranking(ctx["test"], p.eps_mm)
    per_pair = (hit["test"] == truth).float().mean(0)
    return {"rankings": hit, "accuracy": 100 * float(pairwise_accuracy(hit["test"], truth).mean()), "per_pair": 100 * per_pair}


def fig5a_prcnn_ablation(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 2,
                         device: str = "auto", out: str | Path = "_out") -> dict:
    """Pairwise ranking accuracy on the protocol #1 test set for the four PRCNN designs."""
    started = time.time()
    ctx = _setup(preset, data, seeds, device, out)
    stage = image_stage(ctx)
    rows = [make_row(name, "pairwise_acc", [prcnn_run(ctx, stage, name, s)["accuracy"] for s in ctx["seeds"]], FIG5A_PAPER[name])
            for name in FIG5A_VARIANTS]
    return write_results(out, "fig5a_prcnn_ablation", ctx["world"].label, preset, ctx["seeds"], rows, started,
                         hourglass_2d={split: stage["det"][split]["errors"] for split in ("train", "test")},
                         resolution=ctx["p"].resolution, prcnn_width=ctx["p"].prcnn_width, rank_threshold=ctx["p"].rank_threshold,
                         eps_mm=ctx["p"].eps_mm, samples={"train": len(ctx["train"]), "test": len(ctx["test"])})


#: Joint pairs the paper singles out in Fig. 6 (hourglass-16 names).
TORSO = ("Hip", "RHip", "LHip", "Spine", "Thorax")


def fig6_pairwise_accuracy(preset: str = "smoke", data: str = "synthetic", seeds: int | list[int] = 2,
                           device: str = "auto", out: str | Path = "_out") -> dict:
    """Per-pair accuracy of PRCNN (ResNet-34 + heatmaps), averaged over seeds."""
    started = time.time()
    ctx = _setup(preset, data, seeds, device, out)
    stage = image_stage(ctx)
    runs = [prcnn_run(ctx, stage, "prcnn_resnet34", s) for s in ctx["seeds"]]
    names = [JOINT_NAMES[j] for j in HOURGLASS_JOINTS]
    idx = {n: k for k, n in enumerate(names)}
    torso = torch.tensor([n in TORSO for n in names])
    off = ~torch.eye(len(names), dtype=torch.bool)
    torso_pairs = torso[:, None] & torso[None, :] & off
    rows = [
        make_row("pair_LShoulder_RShoulder", "pairwise_acc", [float(r["per_pair"][idx["LShoulder"], idx["RShoulder"]]) for r in runs], 96.71),
        make_row("pair_RHip_Spine", "pairwise_acc", [float(r["per_pair"][idx["RHip"], idx["Spine"]]) for r in runs], None),
        make_row("torso_pairs_mean", "pairwise_acc", [float(r["per_pair"][torso_pairs].mean()) for r in runs], None),
        make_row("other_pairs_mean", "pairwise_acc", [float(r["per_pair"][off & ~torso_pairs].mean()) for r in runs], None),
    ]
    matrix = torch.stack([r["per_pair"] for r in runs]).mean(0)
    return write_results(out, "fig6_pairwise_accuracy", ctx["world"].label, preset, ctx["seeds"], rows, started,
                         joints=names, matrix=[[round(float(v), 2) for v in row] for row in matrix])


def gallery_frames(preset: str = "smoke", data: str = "synthetic", out: str | Path = "_out", device: str = "auto",
                   count: int = 8) -> dict:
    """Rendered test crops spread over the actions, with their ground-truth 2D (from the cache)."""
    ctx = _setup(preset, data, 1, device, out)
    test = image_stage(ctx)["sets"]["test"]
    pick = torch.linspace(0, len(test.images) - 1, count).round().long()
    names = ctx["test"].action_names
    titles = [f"{ctx['test'].subject_names[int(ctx['test'].subject[i])]} {names[int(ctx['test'].action[i])]} cam {int(ctx['test'].camera[i])}"
              for i in pick]
    return {"images": test.images[pick], "joints": test.joints[pick], "titles": titles}


def _paired(a: dict, b: dict) -> tuple[float, tuple[float, float] | None]:
    """Mean and t-interval of the per-seed difference a - b (same seeds, paired)."""
    return mean_ci95([x - y for x, y in zip(a["values"], b["values"])])


def _interval_words(mean: float, ci: tuple[float, float] | None, unit: str) -> str:
    if ci is None:
        return f"{mean:+.2f} {unit} (one seed, no interval)"
    verdict = "excludes zero" if ci[0] > 0 or ci[1] < 0 else "includes zero"
    return f"{mean:+.2f} {unit} (95 % CI {ci[0]:+.2f} to {ci[1]:+.2f}, which {verdict})"


def fig5a_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    heat = _paired(by["prcnn_resnet34"], by["prcnn_resnet34_no_heatmaps"])
    r18 = _paired(by["prcnn_resnet34"], by["prcnn_resnet18"])
    r50 = _paired(by["prcnn_resnet34"], by["prcnn_resnet50"])
    return (f"On **{result['dataset']}** ({result['preset']} preset), PRCNN with ResNet-34 and heatmaps ranks "
            f"{by['prcnn_resnet34']['mean']:.2f} % of pairs correctly (paper 91.22 % on Human3.6M). Heatmaps change accuracy by "
            f"{_interval_words(*heat, 'points')} against the paper's +2.36. ResNet-34 minus ResNet-18: {_interval_words(*r18, 'points')}; "
            f"ResNet-34 minus ResNet-50: {_interval_words(*r50, 'points')} (the paper: ResNet-34 is at least as good as both).")


def fig6_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    gap = _paired(by["other_pairs_mean"], by["torso_pairs_mean"])
    return (f"On **{result['dataset']}** ({result['preset']} preset): the two shoulders are ranked correctly "
            f"{by['pair_LShoulder_RShoulder']['mean']:.1f} % of the time (paper 96.71 %), right hip vs spine "
            f"{by['pair_RHip_Spine']['mean']:.1f} %. Non-torso pairs minus torso pairs: {_interval_words(*gap, 'points')}; "
            f"the paper's observation (torso pairs hardest) holds here only if that difference is positive and its interval excludes zero.")
