"""The claims ledger judged against hand-made results JSON."""

import re

import pytest
from ledger_runs import write

from drpose3d.book.claims import CLAIMS
from drpose3d.book.ledger import ledger, ledger_columns, markdown_rows, markdown_table, side_by_side
from drpose3d.book.results import HOURGLASS_2D, SEEDED_STAGES, Metric, make_row
from drpose3d.book.verdicts import (
    DIRECTION,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    VERDICT_COLOURS,
    seeds_needed,
    verdict,
)
from drpose3d.pages.tables import ledger_html


def test_verdict_rule_on_relative_effects():
    assert verdict([-30.0, -34.0, -36.0], -1, -33.6)[0] == REPRODUCED
    assert verdict([-20.1, -22.4, -18.2], -1, -33.6)[0] == REPRODUCED  # the docstring's example: over half
    assert verdict([-10.0, -11.0, -12.0], -1, -33.6)[0] == DIRECTION  # right side of zero, under half the size
    assert verdict([-30.0, 5.0, -20.0], -1, -33.6)[0] == INCONCLUSIVE  # covers zero and the paper's -33.6
    assert verdict([-1.0, 1.0, 0.5], -1, -33.6)[0] == NOT_REPRODUCED  # covers zero, excludes the paper's effect
    assert verdict([30.0, 34.0, 36.0], -1, -33.6)[0] == NOT_REPRODUCED  # the other side
    assert verdict([-33.6], -1, -33.6)[0] == INCONCLUSIVE  # one seed: no interval, more seeds could decide
    assert verdict([1.0, 1.2, 0.9], 1, None)[0] == REPRODUCED  # no size stated: direction is the claim
    assert verdict([-0.5, 0.4, 0.1], 1, None)[0] == INCONCLUSIVE  # no size stated, interval over zero
    assert verdict([], -1, -1.0)[0] == NOT_RUN
    decision, mean, ci = verdict([1.0, 3.0], 1, 2.0)
    assert decision == INCONCLUSIVE and mean == 2.0 and ci[0] < 0 < ci[1]  # t(1) interval is wide
    # non-inferiority within 1 %: the interval against -1, not against zero
    assert verdict([-0.5, -0.3, -0.4], 1, None, margin=1.0)[0] == REPRODUCED  # worse, but within the margin
    assert verdict([-3.0, -2.5, -2.8], 1, None, margin=1.0)[0] == NOT_REPRODUCED
    assert verdict([-3.0, 0.5, -1.0], 1, None, margin=1.0)[0] == INCONCLUSIVE


def test_seeds_needed_is_the_fewest_whose_interval_cannot_cover_both_hypotheses():
    import statistics

    from scipy import stats

    values = [-3.0, 1.0, -9.0]  # covers zero and the paper's -6: inconclusive
    assert verdict(values, -1, -6.0)[0] == INCONCLUSIVE
    n, sd = seeds_needed(values, -1, -6.0), statistics.stdev(values)

    def half_width(k: int) -> float:  # the 95 % Student-t half-width of k seeds at the measured spread
        return float(stats.t.ppf(0.975, k - 1)) * sd / k**0.5

    assert half_width(n) < 3.0 <= half_width(n - 1)  # width under 6 (zero to -6) first at n seeds
    assert n == 14
    assert seeds_needed([-2.0], -1, -6.0) is None  # one seed: no spread to size it
    assert seeds_needed([-3.0, 3.0, 0.0], 1, None) is None  # mean zero: nothing to resolve


def test_ledger_reads_results_and_judges_each_claim_on_relative_effects(tmp_path):
    write(tmp_path, "table1_upper_bound", {
        "gt2d_no_rank": [100.0, 110.0, 90.0], "gt2d_gt_rank": [70.0, 75.0, 62.0],  # C1: -30, -31.8, -31.1 %
        "gt2d_const_rank": [80.0, 82.0, 78.0], "gt2d_pred_rank": [79.0, 83.0, 77.5],  # C2: crosses zero
        "gt2d_no_rank_cascade": [81.0, 84.0, 79.0],  # a weaker control than the constant ranking here
        "pred_rank_vs_no_rank": [-21.0, -24.5, -13.9],  # the plain comparison, shown, not deciding
    })  # fmt: skip
    write(tmp_path, "fig5a_prcnn_ablation", {
        "prcnn_resnet34": [80.0, 81.0, 82.0], "prcnn_resnet34_no_heatmaps": [70.0, 71.5, 71.0],
        "prcnn_resnet18": [79.0, 80.0, 81.0], "prcnn_resnet50": [82.5, 83.5, 84.6],
    })  # fmt: skip
    write(
        tmp_path,
        "fig6_pairwise_accuracy",
        {
            "torso_pairs_mean": [60.0, 61.0, 62.0],
            "other_pairs_mean": [70.0, 70.5, 71.0],
            "pair_LShoulder_RShoulder": [90.0, 91.0, 92.0],
        },
    )
    rows = {r["name"]: r for r in ledger(tmp_path)}
    assert [c.id for c in CLAIMS] == list(rows) and len(rows) == 14
    assert all(r["control"] for r in rows.values())  # every claim names its pre-registered control
    c1 = rows["C1"]  # against the cascade without ranking input (81, 84, 79), not the one-stage network
    assert c1["values"] == [-11.0, -9.0, -17.0]  # absolute (mm) beside
    assert c1["verdict"] == DIRECTION  # -15.3 % on average: below zero, short of half the paper's -33.6 %
    assert c1["effect_rel_values"] == pytest.approx([-13.5802, -10.7143, -21.5190], abs=1e-3)
    assert c1["paper_rel_pct"] == -33.63 and c1["paper"] == -15.3
    assert c1["dataset"] == "synthetic" and c1["preset"] == "cpu"
    assert c1[SEEDED_STAGES] == ["world", "images", "2D pose", "PRCNN", "DPNet"]
    c2 = rows["C2"]  # the same control as C1; the paper's comparison rides along as information
    assert c2["control"] == c1["control"] and c2["values"] == pytest.approx([-2.0, -1.0, -1.5])
    assert c2["verdict"] == DIRECTION and c2["effect_rel_ci95"][1] < 0  # -1.9 % beats the cascade, short of -9.4 / 2
    assert c2["info"]["against the one-stage baseline (%)"]["mean"] == pytest.approx(-19.8, abs=1e-3)
    c3 = rows["C3"]  # +10.2 points on ~70.8 % is +14.4 %, far over half the paper's +2.66 %
    assert c3["verdict"] == REPRODUCED and c3["values"] == pytest.approx([10.0, 9.5, 11.0])
    assert c3["paper_rel_pct"] == pytest.approx(2.66, abs=0.01)
    c4 = rows["C4"]  # ResNet-50 better by about 3 % on every seed: beyond the 1 % margin
    assert c4["verdict"] == NOT_REPRODUCED and c4["metric"] == "%" and c4["margin_pct"] == 1.0
    assert rows["C9"]["verdict"] == REPRODUCED
    for claim in ("C5", "C6", "C7", "C8", "C10", "C11a", "C11b", "C12", "C13"):  # their notebooks never ran
        r = rows[claim]
        assert r["verdict"] == NOT_RUN and r["effect_rel_pct"] is None and r["dataset"] is None


def test_c2_is_not_won_by_beating_a_control_that_trained_badly(tmp_path):
    """The cpu run on the CMU motion: PRCNN's ranking beat a DPNet given a constant ranking that
    trained badly (about 137 mm), while the network without ranking input reached about 112 mm."""
    write(tmp_path, "table1_upper_bound", {
        "gt2d_no_rank": [113.0, 114.0, 113.7], "gt2d_gt_rank": [94.0, 95.0, 95.4],
        "gt2d_const_rank": [140.0, 142.0, 130.0], "gt2d_pred_rank": [114.0, 116.0, 115.9],
        "gt2d_no_rank_cascade": [112.0, 113.0, 112.4], "pred_rank_vs_no_rank": [0.9, 1.8, 1.9],
    })  # fmt: skip
    c2 = {r["name"]: r for r in ledger(tmp_path)}["C2"]
    assert c2["values"] == pytest.approx([2.0, 3.0, 3.5]) and c2["verdict"] == NOT_REPRODUCED
    against_constant = c2["info"]["against the constant ranking (%)"]["values"]
    assert all(v < -10 for v in against_constant)  # what the old rule judged: a large, false win


def test_c11_splits_the_gain_into_the_cascade_and_the_ranking_and_c12_is_the_gain_pattern(tmp_path):
    t2 = {f"{arm}_p{k}": v for arm, per in {
        "baseline": {1: [100.0, 102.0, 98.0], 2: [70.0, 71.0, 69.0], 3: [150.0, 152.0, 149.0]},
        "no_rank": {1: [90.5, 91.0, 90.0], 2: [60.0, 61.5, 59.5], 3: [112.0, 110.0, 109.0]},  # the cascade: all of it
        "ours": {1: [90.0, 91.0, 89.0], 2: [60.0, 61.0, 59.0], 3: [110.0, 111.0, 108.0]},
        "ours_no_aug": {1: [95.0] * 3, 2: [65.0] * 3, 3: [120.0] * 3},
    }.items() for k, v in per.items()}  # fmt: skip
    write(tmp_path, "table2_protocols", t2)
    write(tmp_path, "fig4_per_joint", {"gainers_minus_torso": [4.0, 5.0, 6.0]})
    rows = {r["name"]: r for r in ledger(tmp_path)}
    c11 = rows["C11a"]
    worst = [
        max(100 * (o - b) / b for o, b in ((t2[f"ours_p{k}"][s], t2[f"baseline_p{k}"][s]) for k in (1, 2, 3)))
        for s in range(3)
    ]
    assert c11["effect_rel_values"] == pytest.approx(worst, abs=1e-3) and worst[0] == pytest.approx(-10.0)
    assert c11["paper_rel_pct"] == pytest.approx(-8.11, abs=0.01) and c11["verdict"] == REPRODUCED
    assert set(c11["info"]) == {"protocol #1 (%)", "protocol #2 (%)", "protocol #3 (%)"}
    share = rows["C11b"]  # DRPose3D against its cascade without ranking: the ranking adds nothing here
    assert share["control"].startswith("the cascade without ranking input") and share["paper"] is None
    assert share["verdict"] in (INCONCLUSIVE, NOT_REPRODUCED) and share["effect_rel_ci95"][1] > 0
    assert rows["C12"]["verdict"] == REPRODUCED and rows["C12"]["effect_rel_values"] == [4.0, 5.0, 6.0]
    c8 = rows["C8"]  # gaps 50/50/51 -> 20/20/19: about -60 %, short of the paper's -77 %, yet over half of it
    assert c8["effect_rel_pct"] == pytest.approx(100 * (-30 / 50 - 30 / 50 - 32 / 51) / 3, abs=1e-3)
    assert c8["verdict"] == REPRODUCED


def test_the_ledger_says_where_a_seeds_value_averages_several_lifters(tmp_path):
    """Issue 30, item 5: Table 1's rows average lifter seeds inside each pipeline seed; the claims
    read from it say so in their "seeds vary" cell, the others do not."""
    write(tmp_path, "table1_upper_bound", {
        "gt2d_no_rank": [100.0, 110.0, 90.0], "gt2d_gt_rank": [70.0, 75.0, 62.0],
        "gt2d_no_rank_cascade": [81.0, 84.0, 79.0], "gt2d_pred_rank": [79.0, 83.0, 77.5],
    }, lifter_seeds=3)  # fmt: skip
    write(tmp_path, "fig5a_prcnn_ablation", {"prcnn_resnet34": [80.0, 81.0, 82.0],
                                              "prcnn_resnet34_no_heatmaps": [70.0, 71.5, 71.0]})  # fmt: skip
    rows = ledger(tmp_path)
    cells = {r["name"]: c["seeds vary"] for r, c in zip(rows, ledger_columns(rows), strict=True)}
    stages = "world, images, 2D pose, PRCNN, DPNet"
    assert cells["C1"] == cells["C2"] == f"{stages}; table1_upper_bound: each seed the mean of 3 DPNet seeds"
    assert cells["C3"] == stages  # Fig. 5(a): one PRCNN a seed


def test_a_missing_row_means_not_run(tmp_path):
    write(tmp_path, "fig5b_dpnet_ablation", {"full": [60.0, 61.0, 62.0], "no_aug": [70.0, 71.0, 69.0]})
    rows = {r["name"]: r for r in ledger(tmp_path)}
    assert rows["C5"]["verdict"] == NOT_RUN  # no_depthnet absent
    assert rows["C6"]["verdict"] == NOT_RUN  # aug_gt_only absent


def test_tables_link_each_chapter_and_show_both_runs(tmp_path):
    cascade = {"gt2d_no_rank_cascade": [100.0, 110.0, 90.0]}
    write(tmp_path / "a", "table1_upper_bound", {**cascade, "gt2d_gt_rank": [70.0, 75.0, 62.0]})
    write(tmp_path / "b", "table1_upper_bound", {**cascade, "gt2d_gt_rank": [99.0, 111.0, 91.0]}, stages=("DPNet",))
    table = markdown_table(ledger(tmp_path / "a"), link=lambda nb: f"{nb}.html")
    lines = table.splitlines()
    assert len(lines) == 2 + len(CLAIMS)
    assert "[table1_upper_bound](table1_upper_bound.html)" in lines[2] and "reproduced" in lines[2]
    assert "synthetic, cpu" in lines[2] and "-30.0, -31.8, -31.1" in lines[2] and "world, images" in lines[2]
    assert "not run" in lines[3]
    html = ledger_html(ledger(tmp_path / "a"), link=lambda nb: f"{nb}.html")
    assert html.count("<tr") == 1 + len(CLAIMS) and '<a href="table1_upper_bound.html">' in html
    assert f'<b style="color:{VERDICT_COLOURS[REPRODUCED]}">reproduced</b>' in html  # C1's verdict, coloured
    c1 = ledger(tmp_path / "a")[0]
    ends = f"{c1['effect_rel_ci95'][0]:+.2f},\u00a0{c1['effect_rel_ci95'][1]:+.2f}"
    assert ends in html and ends.replace("\u00a0", " ") in lines[2]  # kept on one line in the book only
    unit_after_space = re.compile(r"\d (?:%|mm)(?!\w)")  # "30.2 mm": a browser may break the line there
    assert unit_after_space.search(table)  # the README's Markdown keeps the claims' plain spaces
    assert not unit_after_space.search(re.sub(r"<[^>]+>", "", html)) and "30.2\u00a0mm" in html  # the book's do not
    assert "<th>data, preset</th>" in html  # the claims not run say "—" there: the column differs, so it stays
    c1_c2 = ledger_html(ledger(tmp_path / "a")[:2], link=lambda nb: f"{nb}.html")  # both from one run's Table 1
    lead, table = c1_c2.split("<table", 1)  # their control and data are the same: said once above the table,
    assert "<b>data, preset:</b> synthetic, cpu" in lead and "<b>control:</b> the two-stage cascade" in lead
    assert "<th>data, preset</th>" not in table and "<th>verdict</th>" in table  # not as columns; verdicts stay
    both = markdown_rows(side_by_side({"generated": ledger(tmp_path / "a"), "real motion": ledger(tmp_path / "b")}))
    c1 = both.splitlines()[2]
    assert "| generated | real motion |" in both.splitlines()[0]
    assert c1.count("**reproduced**") == 1 and "**not reproduced**" in c1


def test_every_results_page_leads_with_its_key_number_beside_the_papers():
    from drpose3d.pages.headlines import headline
    from drpose3d.pages.tables import results_table
    from drpose3d.paper import Fig5a, noise_row

    rows = [
        make_row(Fig5a.PRCNN_RESNET34_NO_HEATMAPS, Metric.PAIRWISE_ACCURACY, [80.0, 82.0], 88.86),
        make_row(Fig5a.PRCNN_RESNET34, Metric.PAIRWISE_ACCURACY, [84.0, 86.0], 91.22),
    ]
    result = {
        "notebook": "fig5a_prcnn_ablation",
        "dataset": "synthetic",
        "preset": "cpu",
        "seeds": [0, 1],
        "rows": rows,
    }
    line = headline(result)
    assert "ResNet-34, image + heatmaps, pairwise accuracy (%): **85.00**" in line and "reports 91.22" in line
    assert "95 % CI" in line and "(cpu preset, 2 seeds)" in line
    table = results_table(result)
    assert table.columns.name == "pairwise accuracy (%)" and "ResNet-34, image only" in table.index
    assert "the paper's comparison" not in line  # Fig. 5(a)'s key row is its claim's own number
    table1 = {
        **result,
        "notebook": "table1_upper_bound",
        "rows": [make_row("gt_rank_vs_no_rank", Metric.RELATIVE_CHANGE, [-30.0], -33.6)],
    }
    assert "the finding above judges the ranking against the cascade" in headline(table1)
    noise = {
        **result,
        "notebook": "ranking_noise",
        "rows": [make_row(noise_row("flip", 0.05), Metric.MPJPE, [50.0], None)],
    }
    assert "GT ranking, 5 % of pairs flipped, MPJPE (mm): **50.00** (one seed)" in headline(noise)
    assert "the paper gives no number" in headline(noise)


def test_fig5a_says_what_the_pixels_add_over_the_like_for_like_floor():
    from drpose3d.pages.image_half import fig5a_summary
    from drpose3d.paper import Fig5a

    values = {
        Fig5a.PRCNN_RESNET34: [74.0, 73.0, 75.0],
        Fig5a.PRCNN_RESNET34_NO_HEATMAPS: [72.0, 71.0, 72.0],
        Fig5a.PRCNN_RESNET18: [75.0, 74.0, 75.0],
        Fig5a.PRCNN_RESNET50: [73.0, 72.0, 73.0],
        Fig5a.FLOOR_2D_ONLY: [87.0, 86.0, 88.0],
        Fig5a.FLOOR_2D_ONLY_DETECTED: [71.0, 70.5, 71.5],
    }
    rows = [make_row(name, Metric.PAIRWISE_ACCURACY, v, None) for name, v in values.items()]
    hourglass = {"test": {"px_error": 13.1, "pck10": 0.957, "lr_swap_rate": 0.065}}
    text = fig5a_summary({"rows": rows, "dataset": "synthetic", "preset": "cpu", HOURGLASS_2D: hourglass})
    assert "what its pixels add is PRCNN minus the detected-2D floor: +3.00 points (95 % CI +1.76 to +4.24" in text
    assert "against the ground-truth-2D floor, a pose PRCNN never sees: -13.00 points" in text
    assert text.endswith("The hourglass swaps left and right in 6.5 % of the pairs apart in the image.")


def test_fig7_states_the_test_set_and_every_frame_shown_in_numbers():
    from drpose3d.book.experiments import fig7_row
    from drpose3d.book.results import ERROR_BASELINE_MM, ERROR_OURS_MM, FRAME_KIND, FRAME_TITLE, FRAMES
    from drpose3d.pages.summaries import fig7_summary
    from drpose3d.pages.tables import frames_table

    keys = (FRAME_KIND, FRAME_TITLE, ERROR_BASELINE_MM, ERROR_OURS_MM)
    frames = [
        dict(zip(keys, ("typical", "typical: S9 Walk, camera 1, frame 10", 60.0, 55.4), strict=True)),
        dict(zip(keys, ("worst", "worst: S11 Sit, camera 2, frame 40", 150.0, 170.6), strict=True)),
    ]
    rows = [
        make_row(fig7_row(arm, 3), Metric.MPJPE, [v], paper)
        for arm, v, paper in (("baseline", 70.0, 62.9), ("ours", 66.0, 57.8))
    ]
    result = {"rows": rows, FRAMES: frames, "seeds": [3], "dataset": "cmu", "preset": "cpu"}
    text = fig7_summary(result)
    assert "test set of seed 3 (cmu, cpu preset) DRPose3D errs by 66.0 mm per joint and the baseline by 70.0" in text
    assert "(the paper, on Human3.6M: 57.8 and 62.9 mm)" in text
    assert "typical: DRPose3D 55 mm against the baseline's 60 mm; worst: DRPose3D 171 mm" in text
    table = frames_table(result)
    assert table.columns.name == "frame" and list(table["DRPose3D − baseline (mm)"]) == [-4.6, 20.6]


def test_c13_is_fig5b_ranking_against_the_same_cascade_without_it(tmp_path):
    write(tmp_path, "fig5b_dpnet_ablation", {
        "full": [100.0, 104.0, 98.0], "no_rank": [108.0, 110.0, 105.0],  # every seed lower with the ranking
        "no_aug": [120.0, 119.0, 121.0], "no_rank_no_aug": [130.0, 128.0, 131.0],
    })  # fmt: skip
    c13 = {r["name"]: r for r in ledger(tmp_path)}["C13"]
    assert c13["values"] == [-8.0, -6.0, -7.0] and c13["paper"] == pytest.approx(-5.3)
    assert c13["verdict"] == REPRODUCED  # about -6.5 % against the paper's -7.8 %: over half of it
    assert c13["info"]["without augmentation (%)"]["mean"] == pytest.approx(-7.4, abs=0.1)
