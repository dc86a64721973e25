"""The front page: its abstract (data, preset, verdict counts, three findings with numbers) and the
forest plot of every claim, from hand-made results JSON."""

import json

from ledger_runs import cpu_like_run, write

from drpose3d.book.claims import CLAIMS
from drpose3d.book.ledger import ledger


def test_the_front_page_states_data_preset_verdict_counts_and_three_findings_with_numbers(tmp_path):
    from drpose3d.book.ledger import abstract

    cpu_like_run(tmp_path)
    text = abstract(tmp_path)
    first, *findings = [line for line in text.splitlines() if line]
    assert "on **synthetic** data with the **cpu** preset (3 seeds)" in first
    rows = ledger(tmp_path)
    for verdict_name in {r["verdict"] for r in rows}:
        count = sum(r["verdict"] == verdict_name for r in rows)
        assert f"{count} {verdict_name}" in first
    assert len(findings) == 3 and all(f[0] in "123" for f in findings)
    # each effect with its "%" bound to it by a no-break space: a line of the page had ended on the number
    assert "-31.37\u00a0%" in findings[0] and "-33.6\u00a0%" in findings[0] and "**reproduced**" in findings[0]
    assert "(C2)" in findings[1] and "**not reproduced**" in findings[1] and "-9.4\u00a0%" in findings[1]
    assert "74.0 %" in findings[2] and "91.22 %" in findings[2] and "87.0 %" in findings[2]
    # PRCNN above the detected-2D floor and under the ground-truth-2D one: both gaps said, in points
    assert "add to the detected 2D pose (+3.0 points) but not yet to the true one (-13.0 points)" in findings[2]


def test_the_predicted_rankings_finding_gives_prcnn_on_true_heatmaps_beside_c2_where_it_ran(tmp_path):
    """Table 1's second reading of PRCNN (heatmaps drawn from the ground-truth 2D) is information beside
    C2, not its verdict; on the cpu run it helped where the hourglass' heatmaps did not."""
    from drpose3d.book.ledger import abstract

    cpu_like_run(tmp_path)
    assert "heatmaps drawn from the ground-truth 2D" not in abstract(tmp_path)  # not run: not said
    write(tmp_path, "table1_upper_bound", {
        "gt2d_no_rank_cascade": [50.0, 52.0, 51.0], "gt2d_gt_rank": [35.0, 36.0, 34.0],
        "gt2d_pred_rank": [50.5, 52.2, 51.4], "gt2d_pred_rank_true_heatmaps": [47.0, 49.4, 48.45],
    })  # fmt: skip
    second = abstract(tmp_path).splitlines()[3]
    _, reading = second.split("**not reproduced** (C2); fed heatmaps drawn from the ground-truth 2D")
    assert reading.startswith(" instead of the hourglass', -5.33\u00a0% [")  # -6 %, -5 %, -5 % of the cascade
    assert "against the same cascade (information beside C2" in reading


def test_the_image_halfs_finding_follows_prcnn_against_both_floors(tmp_path):
    from drpose3d.book.ledger import abstract

    nothing = "add nothing even to the detected 2D pose (-1.0 points)"
    for prcnn, said in ((90.0, "even the true 2D pose does not"), (70.0, nothing)):
        write(tmp_path / str(prcnn), "fig5a_prcnn_ablation", {
            "prcnn_resnet34": [prcnn] * 3, "floor_2d_only": [87.0] * 3, "floor_2d_only_detected": [71.0] * 3,
        })  # fmt: skip
        assert said in abstract(tmp_path / str(prcnn)).splitlines()[-1]


def test_the_front_page_says_once_that_c13_is_c11bs_smallest_share(tmp_path):
    """Where protocol #3 gives the ranking's smallest share in every seed, C11b and C13 are one
    comparison (Table 2 and Fig. 5(b) share their runs): the number is given once, with both verdicts."""
    from drpose3d.book.ledger import abstract

    cpu_like_run(tmp_path)
    ours, no_rank = [97.0, 98.0, 96.0], [100.0, 101.0, 99.5]
    write(tmp_path, "table2_protocols", {
        **{f"{arm}_p{k}": [v - 10 for v in values] for arm, values in (("ours", ours), ("no_rank", no_rank))
           for k in (1, 2)},
        "ours_p3": ours, "no_rank_p3": no_rank, "baseline_p1": [118.0] * 3, "baseline_p2": [119.0] * 3,
        "baseline_p3": [125.0] * 3,
    })  # fmt: skip
    write(tmp_path, "fig5b_dpnet_ablation", {"full": ours, "no_rank": no_rank})
    second = abstract(tmp_path).splitlines()[3]
    assert second.count("[") == 2  # C2's interval and C11b's; C13's is the same one
    assert "that share is protocol #3's in every seed, where it is Figure 5(b)'s comparison (C13)" in second


def test_the_front_page_says_where_the_paper_gives_no_number(tmp_path):
    """C11b (the ranking's share of DRPose3D's gain) has no number in the paper: the sentence says so
    instead of printing the table's dash ("against the paper's —")."""
    from drpose3d.book.ledger import abstract

    cpu_like_run(tmp_path)
    write(tmp_path, "table2_protocols", {
        f"{arm}_p{k}": [m + 0.5 * s for s in range(3)]
        for arm, m in (("no_rank", 100.0), ("ours", 97.0)) for k in (1, 2, 3)
    })  # fmt: skip
    second = abstract(tmp_path).splitlines()[3]
    assert second.startswith("2.") and "(C11b)" in second
    assert "(the paper gives no number): **" in second and "paper's —" not in second


def test_the_forest_plot_draws_every_claim_and_each_run(tmp_path):
    from drpose3d.pages.forest import COLOURS, forest_svg

    cpu_like_run(tmp_path / "a")
    write(tmp_path / "b", "table1_upper_bound", {"gt2d_no_rank_cascade": [50.0, 51.0], "gt2d_gt_rank": [45.0, 46.0]})
    svg = forest_svg({"generated <b>": ledger(tmp_path / "a"), "cmu": ledger(tmp_path / "b")})
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<b>" not in svg  # labels escaped
    for claim in CLAIMS:
        assert f'<tspan font-weight="bold">{claim.id}</tspan>' in svg
    assert svg.count(f'fill="{COLOURS[0]}"><title>') == 3  # C1, C2, C3 ran in the first run
    assert svg.count(f'fill="{COLOURS[1]}"><title>') == 1  # C1 only in the second (two seeds)
    assert svg.count("<path") == sum(c.paper_rel_pct is not None for c in CLAIMS) + 1  # diamonds + the legend's


def test_the_forest_caption_names_the_other_worlds_committed_run_and_each_runs_seeds(tmp_path):
    """The plot draws the same preset's committed run on the other world beside this one, so its
    caption names both runs and their seed counts, not only this page's seeds."""
    from drpose3d.book.results import results_folder
    from drpose3d.pages.forest import beside_committed, drawn

    cpu_like_run(tmp_path / "run")
    other = {"gt2d_no_rank_cascade": [50.0, 51.0], "gt2d_gt_rank": [45.0, 46.0]}
    write(tmp_path / "runs" / "cpu-cmu", "table1_upper_bound", other, dataset="cmu")
    ledgers = beside_committed(tmp_path / "run", tmp_path / "runs")
    assert list(ledgers) == ["this run (synthetic, cpu)", "committed runs/cpu-cmu"]
    assert drawn(ledgers) == "Dots and lines: this run (synthetic, cpu), 3 seeds; committed runs/cpu-cmu, 2 seeds."
    # with the folder of committed runs, the other run says where and when it ran: it may predate this one
    made = json.loads((results_folder(tmp_path / "runs" / "cpu-cmu") / "table1_upper_bound.json").read_text())
    when = f"ran at {made['commit'][:7]} on {made['created'][:10]}"
    assert drawn(ledgers, tmp_path / "runs").endswith(f"committed runs/cpu-cmu, 2 seeds ({when}).")
    assert "this run (synthetic, cpu), 3 seeds;" in drawn(ledgers, tmp_path / "runs")  # this run: its own pages say
    assert drawn(beside_committed(tmp_path / "run", tmp_path / "none")).endswith("(synthetic, cpu), 3 seeds.")


def test_the_forest_plot_cuts_an_interval_far_wider_than_every_effect(tmp_path):
    """Two seeds that disagree give a Student-t interval of hundreds of percent: the axis stays on
    the effects and the paper's values, the interval is cut at its edge with an arrow, and its
    tooltip keeps the whole interval."""
    import re

    from drpose3d.pages.forest import forest_svg

    write(tmp_path, "table1_upper_bound", {"gt2d_no_rank_cascade": [50.0, 50.0], "gt2d_gt_rank": [10.0, 60.0]})
    row = {r["name"]: r for r in ledger(tmp_path)}["C1"]
    a, b = row["effect_rel_ci95"]
    assert a < -500 and b > 500  # -30 % on average, +-12.7 standard errors
    svg = forest_svg({"cmu": ledger(tmp_path)})
    ticks = [float(t) for t in re.findall(r'text-anchor="middle">([+-]?[\d.]+)</text>', svg)]
    papers = [c.paper_rel_pct for c in CLAIMS if c.paper_rel_pct is not None]
    assert max(ticks) < b and min(ticks) > a  # the interval does not set the axis...
    assert min(ticks) <= min(papers) and max(ticks) >= 0  # ...the paper's values and zero do
    assert svg.count("<polygon") == 2  # cut at both ends
    assert f"95 % interval {a:+.1f} to {b:+.1f}" in svg
