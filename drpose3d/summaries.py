"""The "what we see" paragraphs, computed from the numbers they state, so prose and results
cannot drift apart. Differences between configurations are paired by seed."""
from __future__ import annotations

from .metrics import mean_ci95

def paired_difference(a: dict, b: dict) -> tuple[float, tuple[float, float] | None]:
    """Mean and t-interval of the per-seed difference a - b (same seeds, paired)."""
    return mean_ci95([x - y for x, y in zip(a["values"], b["values"])])

def interval_words(mean: float, ci: tuple[float, float] | None, unit: str) -> str:
    if ci is None:
        return f"{mean:+.2f} {unit} (one seed, no interval)"
    verdict = "excludes zero" if ci[0] > 0 or ci[1] < 0 else "includes zero"
    return f"{mean:+.2f} {unit} (95 % CI {ci[0]:+.2f} to {ci[1]:+.2f}, which {verdict})"

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
                  f"{interval_words(pred['mean'], tuple(pred['ci95']) if pred['ci95'] else None, '%')} against the paper's {pred['paper']:.1f} %.")
    return (f"On **{result['dataset']}** data with the **{result['preset']}** preset ({len(result['seeds'])} seeds), "
            f"ground-truth ranking {sign} MPJPE from {by['gt2d_no_rank']['mean']:.1f} to {by['gt2d_gt_rank']['mean']:.1f} mm, "
            f"a relative change of {drop['mean']:.1f} % (95 % CI {ci[0]:.1f} to {ci[1]:.1f} %) against the paper's "
            f"{drop['paper']:.1f} % on Human3.6M; {verdict}." + extra if ci else
            f"Ground-truth ranking changes MPJPE by {drop['mean']:.1f} % (one seed, no interval).")

def fig5a_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    heat = paired_difference(by["prcnn_resnet34"], by["prcnn_resnet34_no_heatmaps"])
    r18 = paired_difference(by["prcnn_resnet34"], by["prcnn_resnet18"])
    r50 = paired_difference(by["prcnn_resnet34"], by["prcnn_resnet50"])
    return (f"On **{result['dataset']}** ({result['preset']} preset), PRCNN with ResNet-34 and heatmaps ranks "
            f"{by['prcnn_resnet34']['mean']:.2f} % of pairs correctly (paper 91.22 % on Human3.6M). Heatmaps change accuracy by "
            f"{interval_words(*heat, 'points')} against the paper's +2.36. ResNet-34 minus ResNet-18: {interval_words(*r18, 'points')}; "
            f"ResNet-34 minus ResNet-50: {interval_words(*r50, 'points')} (the paper: ResNet-34 is at least as good as both).")

def fig6_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    mean, ci = paired_difference(by["other_pairs_mean"], by["torso_pairs_mean"])
    holds = ci is not None and ci[0] > 0
    return (f"On **{result['dataset']}** ({result['preset']} preset): the two shoulders are ranked correctly "
            f"{by['pair_LShoulder_RShoulder']['mean']:.1f} % of the time (paper 96.71 %), right hip vs spine "
            f"{by['pair_RHip_Spine']['mean']:.1f} %. Non-torso pairs minus torso pairs: {interval_words(mean, ci, 'points')}, "
            + ("so torso pairs are the hardest here, as the paper observes." if holds
               else "so this run does not show the paper's observation that torso pairs are the hardest."))


def direction_words(mean: float, ci: tuple[float, float] | None, paper: float) -> str:
    """Whether a measured difference reproduces the sign of the paper's, by its interval."""
    if ci is None:
        return "one seed, no verdict"
    if ci[0] <= 0 <= ci[1]:
        return "not shown (interval includes zero)"
    return "same direction as the paper" if (mean > 0) == (paper > 0) else "opposite to the paper"


def _effect(by: dict, a: str, b: str, paper: float, unit: str = "mm") -> str:
    mean, ci = paired_difference(by[a], by[b])
    return f"{interval_words(mean, ci, unit)} vs the paper's {paper:+.1f} — {direction_words(mean, ci, paper)}"


def table2_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    gap = {arm: {"values": [p3 - p1 for p3, p1 in zip(by[f"{arm}_p3"]["values"], by[f"{arm}_p1"]["values"])]}
           for arm in ("baseline", "ours")}
    gap_mean, gap_ci = paired_difference(gap["ours"], gap["baseline"])
    lines = [f"On **{result['dataset']}** ({result['preset']} preset, {len(result['seeds'])} seeds, detected 2D and PRCNN rankings), "
             "paired differences per seed:",
             f"- protocol #1, DRPose3D − baseline: {_effect(by, 'ours_p1', 'baseline_p1', 57.8 - 62.9)};",
             f"- protocol #2, DRPose3D − baseline: {_effect(by, 'ours_p2', 'baseline_p2', 42.9 - 47.7)};",
             f"- protocol #3, DRPose3D − baseline: {_effect(by, 'ours_p3', 'baseline_p3', 62.8 - 84.9)};",
             f"- protocol #3, augmentation (DRPose3D − w/o augmentation): {_effect(by, 'ours_p3', 'ours_no_aug_p3', 62.8 - 69.0)};",
             f"- the cross-view gap (P3 − P1) of DRPose3D minus that of the baseline: {interval_words(gap_mean, gap_ci, 'mm')} "
             f"vs the paper's {(62.8 - 57.8) - (84.9 - 62.9):+.1f} — {direction_words(gap_mean, gap_ci, -17.0)}."]
    return "\n".join(lines)


def fig5b_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    paper = {r["name"]: r["paper"] for r in result["rows"]}
    labels = {"no_rank": "without ranking", "no_depthnet": "without DepthNet (ranking concatenated)",
              "aug_gt_only": "augmentation without GMM noise and flip", "no_aug": "without augmentation",
              "no_rank_no_aug": "without ranking and augmentation"}
    lines = [f"On **{result['dataset']}** ({result['preset']} preset, protocol #3, {len(result['seeds'])} seeds), "
             f"the full model reaches {by['full']['mean']:.1f} mm (paper 62.8). Each ablation minus the full model, paired by seed:"]
    lines += [f"- {label}: {_effect(by, name, 'full', paper[name] - paper['full'])};" for name, label in labels.items()]
    return "\n".join(lines)


def fig4_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    gains = sorted(zip(result["gain_pct"], result["joints"]), reverse=True)
    g, t = by["gainers_minus_rest"], by["thorax_minus_rest"]
    g_ci, t_ci = (tuple(r["ci95"]) if r["ci95"] else None for r in (g, t))
    w, th = by["gain_pct_RWrist"], by["gain_pct_Thorax"]
    return (f"On **{result['dataset']}** ({result['preset']} preset), DRPose3D's relative error drop over the baseline is largest for "
            f"{', '.join(f'{n} ({v:.1f} %)' for v, n in gains[:3])} and smallest for {', '.join(f'{n} ({v:.1f} %)' for v, n in gains[-3:])}; "
            f"right wrist {w['mean']:.1f} % (paper 12.53 %), thorax {th['mean']:.1f} % (paper 2.36 %). "
            f"Elbows, wrists and feet minus the other joints: {interval_words(g['mean'], g_ci, 'points')} "
            f"({direction_words(g['mean'], g_ci, 1.0)}: the paper says they gain most). "
            f"Thorax minus the other joints: {interval_words(t['mean'], t_ci, 'points')} "
            f"({direction_words(t['mean'], t_ci, -1.0)}: the paper says it gains least).")


def ranking_to_depth_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    words = [f"On **{result['dataset']}** ({result['preset']} preset, {len(result['seeds'])} seeds, ground-truth 2D, PRCNN rankings): "
             f"DepthNet {by['mpjpe_depthnet']['mean']:.1f} mm, topological sort {by['mpjpe_topological']['mean']:.1f} mm, "
             f"Borda {by['mpjpe_borda']['mean']:.1f} mm."]
    for other in ("topological", "borda"):
        mean, ci = paired_difference(by["mpjpe_depthnet"], by[f"mpjpe_{other}"])
        words.append(f"DepthNet minus {other}: {interval_words(mean, ci, 'mm')}.")
    if "spearman_depthnet" in by:
        words.append("Rank correlation of the coarse depth with the truth: " + ", ".join(
            f"{m} {by[f'spearman_{m}']['mean']:.3f}" for m in ("depthnet", "topological", "borda")) + ".")
    words.append(f"With ground-truth rankings the two fixed orderings reach {result['spearman_topological_gt_ranking']:.3f} "
                 f"(topological) and {result['spearman_borda_gt_ranking']:.3f} (Borda): the gap to 1 is the ties within ε.")
    return " ".join(words)


def ranking_noise_summary(result: dict) -> str:
    flips = [r for r in result["rows"] if r["name"].startswith("flip_")]
    eps = [r for r in result["rows"] if r["name"].startswith("eps_")]
    clean, worst = flips[0], flips[-1]
    mean, ci = paired_difference(worst, clean)
    acc = lambda r: sum(r["ranking_accuracy"]) / len(r["ranking_accuracy"])
    lo, hi = min(eps, key=lambda r: r["mean"]), max(eps, key=lambda r: r["mean"])
    return (f"On **{result['dataset']}** ({result['preset']} preset): with exact ground-truth ranking DPNet reaches "
            f"{clean['mean']:.1f} mm; at {acc(worst):.0f} % ranking accuracy (half the entries flipped) "
            f"{worst['mean']:.1f} mm, a change of {interval_words(mean, ci, 'mm')}. Across ε in Eq. (1) from "
            f"{eps[0]['name'][4:]} to {eps[-1]['name'][4:]}, MPJPE ranges from {lo['mean']:.1f} mm ({lo['name'][4:]}) to "
            f"{hi['mean']:.1f} mm ({hi['name'][4:]}); the preset uses ε = {result['eps_mm']:g} mm." + _threshold_words(result))


def _threshold_words(result: dict) -> str:
    rows = [r for r in result["rows"] if r["name"].startswith("threshold_")]
    if not rows:
        return ""
    mean = lambda values: sum(values) / len(values)
    best, worst = min(rows, key=lambda r: r["mean"]), max(rows, key=lambda r: r["mean"])
    return (f" Discretising PRCNN's P at thresholds {rows[0]['name'][10:]} to {rows[-1]['name'][10:]} moves its pairwise "
            f"accuracy from {mean(rows[0]['ranking_accuracy']):.1f} % to {mean(rows[-1]['ranking_accuracy']):.1f} % "
            f"and DPNet's MPJPE between {best['mean']:.1f} mm (t = {best['name'][10:]}) and {worst['mean']:.1f} mm "
            f"(t = {worst['name'][10:]}); the preset uses t = {result['rank_threshold']:g}.")
