"""The "what we see" paragraphs, computed from the numbers they state, so prose and results
cannot drift apart. Differences between configurations are paired by seed."""

from __future__ import annotations

from drpose3d.book.analyses import ORDERINGS_OF_TRUTH
from drpose3d.book.claims import CLAIMS
from drpose3d.book.experiments import fig7_row
from drpose3d.book.labels import row_label
from drpose3d.book.results import (
    DETECTED_VS_GT2D,
    EPS_MM,
    ERROR_BASELINE_MM,
    ERROR_OURS_MM,
    FRAME_KIND,
    FRAMES,
    GAIN_PCT,
    GT2D_MM,
    JOINTS,
    PAPER_RATIO,
    RANK_THRESHOLD,
    RANKING_ACCURACY,
    RATIO,
    seed_mean,
)
from drpose3d.markup import text
from drpose3d.paper import (
    FIG4_GAIN_PCT,
    FIG5B,
    TABLE1,
    TABLE2,
    Arm,
    Fig4,
    Fig5b,
    RankingToDepth,
    Table1,
    fig4_row,
    noise_rows,
    parse_noise_row,
    table2_row,
)
from drpose3d.pose.metrics import mean_ci95


def paired_difference(a: dict, b: dict) -> tuple[float, tuple[float, float] | None]:
    """Mean and t-interval of the per-seed difference a - b (same seeds, paired)."""
    return mean_ci95([x - y for x, y in zip(a["values"], b["values"], strict=True)])


def _ci(row: dict) -> tuple[float, float] | None:
    return tuple(row["ci95"]) if row["ci95"] else None


def _p3_minus_p1(by: dict, arm: Arm) -> list[float]:
    """Per seed, an arm's protocol #3 error minus its protocol #1 error (the cross-view gap)."""
    return [p3 - p1 for p3, p1 in zip(by[table2_row(arm, 3)]["values"], by[table2_row(arm, 1)]["values"], strict=True)]


def interval_words(mean: float, ci: tuple[float, float] | None, unit: str) -> str:
    if ci is None:
        return f"{mean:+.2f} {unit} (one seed, no interval)"
    verdict = "excludes zero" if ci[0] > 0 or ci[1] < 0 else "includes zero"
    return f"{mean:+.2f} {unit} (95 % CI {ci[0]:+.2f} to {ci[1]:+.2f}, which {verdict})"


def bullets(items: list[str]) -> str:
    """A Markdown list read as one sentence: each item ends in a semicolon, the last in a full stop."""
    return ";\n".join(f"- {item}" for item in items) + "."


def table1_summary(result: dict) -> str:
    """The 'what we see' paragraph, computed from the numbers it states: first the paper's comparison
    (against the one-stage network), then every ranking against the control that holds the cascade
    fixed, so the cascade's own gain is never read as the ranking's (claims C1 and C2)."""
    by = {r["name"]: r for r in result["rows"]}
    drop, none = by[Table1.GT_RANK_VS_NO_RANK], by[Table1.GT2D_NO_RANK]
    cascade = by[Table1.GT2D_NO_RANK_CASCADE]
    ci = _ci(drop)
    if ci is None:
        return f"Ground-truth ranking changes MPJPE by {drop['mean']:.1f} % (one seed, no interval)."
    sign = "lowers" if drop["mean"] < 0 else "raises"
    paper_pred = TABLE1[Table1.GT2D_PRED_RANK] - TABLE1[Table1.GT2D_NO_RANK]
    against_cascade = [
        f"{label} ({by[row]['mean']:.1f} mm): {interval_words(*paired_difference(by[row], cascade), 'mm')}"
        for row, label in (
            (Table1.GT2D_GT_RANK, "the ground-truth ranking"),
            (Table1.GT2D_PRED_RANK, "PRCNN's ranking on the hourglass' heatmaps"),
            (Table1.GT2D_PRED_RANK_TRUE_HEATMAPS, "PRCNN's ranking on heatmaps of the ground-truth 2D"),
            (Table1.GT2D_CONST_RANK, "a constant ranking, all ties"),
        )
    ]
    return (
        f"On **{text(result['dataset'])}** data with the **{result['preset']}** preset ({len(result['seeds'])} "
        f"seeds), ground-truth ranking {sign} MPJPE from {none['mean']:.1f} mm (the one-stage network) to "
        f"{by[Table1.GT2D_GT_RANK]['mean']:.1f} mm, a relative change of {drop['mean']:.1f} % (95 % CI "
        f"{ci[0]:.1f} to {ci[1]:.1f} %) against the paper's {drop['paper']:.1f} % on Human3.6M: the paper's "
        f"comparison, which credits the ranking with the cascade's gain too. The two-stage PoseNet without "
        f"ranking input already reaches {cascade['mean']:.1f} mm. Against that cascade, seed for seed "
        f"(the paper has no such row; its predicted ranking is {paper_pred:+.1f} mm against its one-stage "
        f"network):\n\n" + bullets(against_cascade)
    )


def direction_words(mean: float, ci: tuple[float, float] | None, paper: float) -> str:
    """Whether a measured difference reproduces the sign of the paper's, by its interval."""
    if ci is None:
        return "one seed, no verdict"
    if ci[0] <= 0 <= ci[1]:
        return "direction not settled by these seeds"
    return "same direction as the paper" if (mean > 0) == (paper > 0) else "opposite to the paper"


def _effect(by: dict, a: str, b: str, paper: float, unit: str = "mm") -> str:
    mean, ci = paired_difference(by[a], by[b])
    return f"{interval_words(mean, ci, unit)} vs the paper's {paper:+.1f} — {direction_words(mean, ci, paper)}"


def _paper_diff(a: Arm, pa: int, b: Arm, pb: int) -> float:
    """Table 2's row a under protocol pa minus row b under protocol pb (mm)."""
    return TABLE2[table2_row(a, pa)] - TABLE2[table2_row(b, pb)]


def _table2_effect(by: dict, a: Arm, pa: int, b: Arm, pb: int) -> str:
    return _effect(by, table2_row(a, pa), table2_row(b, pb), _paper_diff(a, pa, b, pb))


def _share(by: dict, protocol: int) -> str:
    """DRPose3D minus its own cascade without ranking input under one protocol: the ranking's part."""
    ours, cascade = by[table2_row(Arm.OURS, protocol)], by[table2_row(Arm.NO_RANK, protocol)]
    return interval_words(*paired_difference(ours, cascade), "mm")


def table2_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    gap = {arm: {"values": _p3_minus_p1(by, arm)} for arm in (Arm.BASELINE, Arm.OURS)}
    gap_mean, gap_ci = paired_difference(gap[Arm.OURS], gap[Arm.BASELINE])
    paper_gap = _paper_diff(Arm.OURS, 3, Arm.OURS, 1) - _paper_diff(Arm.BASELINE, 3, Arm.BASELINE, 1)
    items = [
        f"protocol #1, DRPose3D − baseline: {_table2_effect(by, Arm.OURS, 1, Arm.BASELINE, 1)}",
        f"protocol #2, DRPose3D − baseline: {_table2_effect(by, Arm.OURS, 2, Arm.BASELINE, 2)}",
        f"protocol #3, DRPose3D − baseline: {_table2_effect(by, Arm.OURS, 3, Arm.BASELINE, 3)}",
        "the predicted ranking's share, DRPose3D − its cascade without ranking input (claim C11b; the paper has no "
        "such row): " + "; ".join(f"protocol #{k} {_share(by, k)}" for k in (1, 2, 3)),
        "protocol #3, augmentation (DRPose3D − w/o augmentation): "
        f"{_table2_effect(by, Arm.OURS, 3, Arm.OURS_NO_AUG, 3)}",
        "the cross-view gap (P3 − P1) of DRPose3D minus that of the baseline: "
        f"{interval_words(gap_mean, gap_ci, 'mm')} "
        f"vs the paper's {paper_gap:+.1f} — {direction_words(gap_mean, gap_ci, paper_gap)}",
    ]
    cost = result[DETECTED_VS_GT2D]
    items.append(
        f"what detected 2D costs: the baseline's protocol #1 error on detections is {seed_mean(cost[RATIO]):.2f} "
        f"times its error on ground-truth 2D ({seed_mean(cost[GT2D_MM]):.1f} mm, Table 1), against "
        f"{cost[PAPER_RATIO]:.2f} in the paper ({TABLE2[table2_row(Arm.BASELINE, 1)]} / "
        f"{TABLE1[Table1.GT2D_NO_RANK]} mm)"
    )
    lead = (
        f"On **{text(result['dataset'])}** ({result['preset']} preset, {len(result['seeds'])} seeds, detected 2D and "
        "PRCNN rankings), paired differences per seed:"
    )
    return lead + "\n" + bullets(items)


def _judged(a: str, b: str) -> str:
    """Where a claim's effect is the difference of rows `a` and `b`: which claim, and that its verdict (the
    page's finding) weighs the effect relative to its control against the paper's, not the sign in mm."""
    named = [c.id for c in CLAIMS if c.rows is not None and set(c.rows) == {a, b}]
    return f" (claim {named[0]}: its verdict above weighs the effect relative to its control)" if named else ""


def fig5b_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    paper = {r["name"]: r["paper"] for r in result["rows"]}
    labels = {
        Fig5b.NO_RANK: "without ranking",
        Fig5b.NO_DEPTHNET: "without DepthNet (ranking concatenated)",
        Fig5b.AUG_GT_ONLY: "augmentation without GMM noise and flip",
        Fig5b.NO_AUG: "without augmentation",
        Fig5b.NO_RANK_NO_AUG: "without ranking and augmentation",
    }
    lines = [
        f"On **{text(result['dataset'])}** ({result['preset']} preset, protocol #3, {len(result['seeds'])} seeds), "
        f"the full model reaches {by[Fig5b.FULL]['mean']:.1f} mm (paper {FIG5B[Fig5b.FULL]}). "
        "Each ablation minus the full model, paired by seed:"
    ]
    items = [
        f"{label}: {_effect(by, name, Fig5b.FULL, paper[name] - paper[Fig5b.FULL])}{_judged(name, Fig5b.FULL)}"
        for name, label in labels.items()
    ]
    # two comparisons between ablations: augmentation where nothing else is added (claim C6), and C13's
    # second, what the ranking does where nothing else is added
    alone = paper[Fig5b.AUG_GT_ONLY] - paper[Fig5b.NO_AUG]
    items.append(
        f"augmentation alone ({labels[Fig5b.AUG_GT_ONLY]} minus {labels[Fig5b.NO_AUG]}): "
        f"{_effect(by, Fig5b.AUG_GT_ONLY, Fig5b.NO_AUG, alone)}{_judged(Fig5b.AUG_GT_ONLY, Fig5b.NO_AUG)}"
    )
    unaugmented = paper[Fig5b.NO_RANK_NO_AUG] - paper[Fig5b.NO_AUG]
    items.append(
        "and the ranking without augmentation (without ranking and augmentation minus without augmentation, claim "
        f"C13): {_effect(by, Fig5b.NO_RANK_NO_AUG, Fig5b.NO_AUG, unaugmented)}"
    )
    return "\n".join(lines) + "\n" + bullets(items)


def fig4_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    gains = sorted(zip(result[GAIN_PCT], result[JOINTS], strict=True), reverse=True)
    g, torso, t = (by[r] for r in (Fig4.GAINERS_MINUS_REST, Fig4.GAINERS_MINUS_TORSO, Fig4.THORAX_MINUS_REST))
    w, th = by[fig4_row(GAIN_PCT, "RWrist")], by[fig4_row(GAIN_PCT, "Thorax")]
    most, least = (", ".join(f"{n} ({v:.1f} %)" for v, n in part) for part in (gains[:3], gains[-3:]))
    return (
        f"On **{text(result['dataset'])}** ({result['preset']} preset), DRPose3D's relative error drop over the "
        "baseline "
        f"is largest for {most} and smallest for {least}; right wrist {w['mean']:.1f} % (paper {w['paper']:.1f} % "
        f"from its millimetres; it prints {FIG4_GAIN_PCT['RWrist']}), thorax {th['mean']:.1f} % (paper "
        f"{th['paper']:.1f} %; it prints {FIG4_GAIN_PCT['Thorax']}). "
        f"Elbows, wrists and feet minus the other joints: {interval_words(g['mean'], _ci(g), 'points')} "
        f"({direction_words(g['mean'], _ci(g), 1.0)}: the paper says they gain most); minus the hips, spine and "
        f"thorax: {interval_words(torso['mean'], _ci(torso), 'points')} "
        f"({direction_words(torso['mean'], _ci(torso), 1.0)}; claim C12). "
        f"Thorax minus the other joints: {interval_words(t['mean'], _ci(t), 'points')} "
        f"({direction_words(t['mean'], _ci(t), -1.0)}: the paper says it gains least)."
    )


def ranking_to_depth_summary(result: dict) -> str:
    by = {r["name"]: r for r in result["rows"]}
    methods = (  # each way to depth: its MPJPE row (whose label names it) and its rank-correlation row
        (RankingToDepth.MPJPE_DEPTHNET, RankingToDepth.SPEARMAN_DEPTHNET),
        (RankingToDepth.MPJPE_TOPOLOGICAL, RankingToDepth.SPEARMAN_TOPOLOGICAL),
        (RankingToDepth.MPJPE_BORDA, RankingToDepth.SPEARMAN_BORDA),
    )
    errors = ", ".join(f"{row_label(e)} {by[e]['mean']:.1f} mm" for e, _ in methods)
    words = [
        f"On **{text(result['dataset'])}** ({result['preset']} preset, {len(result['seeds'])} seeds, ground-truth 2D, "
        f"PRCNN rankings): {errors}."
    ]
    for other, _ in methods[1:]:
        mean, ci = paired_difference(by[RankingToDepth.MPJPE_DEPTHNET], by[other])
        words.append(f"DepthNet minus {row_label(other)}: {interval_words(mean, ci, 'mm')}.")
    correlations = ", ".join(f"{row_label(e)} {by[s]['mean']:.3f}" for e, s in methods)
    truth = result[ORDERINGS_OF_TRUTH]
    fixed = " and ".join(f"{truth[s]:.3f} ({row_label(e)})" for e, s in methods[1:])
    words += [
        f"Rank correlation of the coarse depth with the truth: {correlations}.",
        f"With ground-truth rankings the two fixed orderings reach {fixed}: the gap to 1 is the ties within ε.",
    ]
    return " ".join(words)


def ranking_noise_summary(result: dict) -> str:
    flips, eps = (noise_rows(result["rows"], kind) for kind in ("flip", "eps"))
    clean, worst = flips[0], flips[-1]
    mean, ci = paired_difference(worst, clean)
    lo, hi = min(eps, key=lambda r: r["mean"]), max(eps, key=lambda r: r["mean"])
    return (
        f"On **{text(result['dataset'])}** ({result['preset']} preset): with exact ground-truth ranking DPNet reaches "
        f"{clean['mean']:.1f} mm; at {seed_mean(worst[RANKING_ACCURACY]):.0f} % ranking accuracy "
        "(half the entries flipped) "
        f"{worst['mean']:.1f} mm, a change of {interval_words(mean, ci, 'mm')}. Across ε in Eq. (1) from "
        f"{_eps(eps[0])} to {_eps(eps[-1])}, MPJPE ranges from {lo['mean']:.1f} mm ({_eps(lo)}) to "
        f"{hi['mean']:.1f} mm ({_eps(hi)}); the preset uses ε = {result[EPS_MM]:g} mm." + _threshold_words(result)
    )


def _eps(row: dict) -> str:
    return f"{parse_noise_row(row['name'])[1]:g} mm"


def _threshold_words(result: dict) -> str:
    rows = noise_rows(result["rows"], "threshold")
    if not rows:
        return ""
    best, worst = min(rows, key=lambda r: r["mean"]), max(rows, key=lambda r: r["mean"])
    t = {id(r): f"{parse_noise_row(r['name'])[1]:g}" for r in (rows[0], rows[-1], best, worst)}
    return (
        f" Discretising PRCNN's P at thresholds {t[id(rows[0])]} to {t[id(rows[-1])]} moves its pairwise "
        f"accuracy from {seed_mean(rows[0][RANKING_ACCURACY]):.1f} % to "
        f"{seed_mean(rows[-1][RANKING_ACCURACY]):.1f} % "
        f"and DPNet's MPJPE between {best['mean']:.1f} mm (t = {t[id(best)]}) and {worst['mean']:.1f} mm "
        f"(t = {t[id(worst)]}); the preset uses t = {result[RANK_THRESHOLD]:g}."
    )


def fig7_summary(result: dict) -> str:
    """Fig. 7's frames in numbers: the seed's whole test set, then each kind of frame shown."""
    seed = result["seeds"][0]
    base, ours = ({r["name"]: r for r in result["rows"]}[fig7_row(arm, seed)] for arm in (Arm.BASELINE, Arm.OURS))
    kinds: dict[str, list[dict]] = {}
    for frame in result[FRAMES]:
        kinds.setdefault(frame[FRAME_KIND], []).append(frame)

    def errors(frames: list[dict], key: str) -> str:
        return " and ".join(f"{f[key]:.0f}" for f in frames)

    shown = "; ".join(
        f"{kind}: DRPose3D {errors(frames, ERROR_OURS_MM)} mm against the baseline's "
        f"{errors(frames, ERROR_BASELINE_MM)} mm"
        for kind, frames in kinds.items()
    )
    return (
        f"**What we see.** On the protocol #1 test set of seed {seed} ({text(result['dataset'])}, "
        f"{result['preset']} preset) DRPose3D errs by {ours['mean']:.1f} mm per joint and the baseline by "
        f"{base['mean']:.1f} mm (the paper, on Human3.6M: {ours['paper']:g} and {base['paper']:g} mm). "
        f"Per frame: {shown}."
    )
