"""The claims ledger judged against hand-made results JSON."""

import time

import pytest

from drpose3d.book.claims import (
    CLAIMS,
    DIRECTION,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    html_table,
    ledger,
    markdown_table,
    verdict,
)
from drpose3d.book.results import make_row, write_results
from drpose3d.run import resolve


def test_verdict_rule():
    assert verdict([-30.0, -34.0, -36.0], -1, -33.6)[0] == REPRODUCED
    assert verdict([-10.0, -11.0, -12.0], -1, -33.6)[0] == DIRECTION  # right side of zero, wrong size
    assert verdict([-30.0, 5.0, -20.0], -1, -33.6)[0] == NOT_REPRODUCED  # interval crosses zero
    assert verdict([30.0, 34.0, 36.0], -1, -33.6)[0] == NOT_REPRODUCED  # the other side
    assert verdict([-33.6], -1, -33.6)[0] == NOT_REPRODUCED  # one seed: no interval, never reproduced
    assert verdict([1.0, 1.2, 0.9], 1, None)[0] == REPRODUCED  # no size stated: direction is the claim
    assert verdict([], -1, -1.0)[0] == NOT_RUN
    decision, mean, ci = verdict([1.0, 3.0], 1, 2.0)
    assert decision == NOT_REPRODUCED and mean == 2.0 and ci[0] < 0 < ci[1]  # t(1) interval is wide


def _write(out, notebook, rows):
    run = resolve("cpu", seeds=3, device="cpu", out=out)
    write_results(run, notebook, "synthetic", [make_row(n, "m", v, None) for n, v in rows.items()], time.time())


def test_ledger_reads_results_and_judges_each_claim(tmp_path):
    _write(
        tmp_path,
        "table1_upper_bound",
        {
            "gt_rank_vs_no_rank": [-31.0, -34.0, -35.0],  # C1: reproduced
            "pred_rank_vs_no_rank": [-2.0, 3.0, 0.5],
        },
    )  # C2: crosses zero
    _write(
        tmp_path,
        "fig5a_prcnn_ablation",
        {
            "prcnn_resnet34": [80.0, 81.0, 82.0],
            "prcnn_resnet34_no_heatmaps": [70.0, 71.5, 71.0],
            "prcnn_resnet18": [79.0, 80.0, 81.0],
            "prcnn_resnet50": [81.0, 82.5, 83.0],
        },
    )
    _write(
        tmp_path,
        "fig6_pairwise_accuracy",
        {
            "torso_pairs_mean": [60.0, 61.0, 62.0],
            "other_pairs_mean": [70.0, 70.5, 71.0],
            "pair_LShoulder_RShoulder": [90.0, 91.0, 92.0],
        },
    )
    rows = {r["name"]: r for r in ledger(tmp_path)}
    assert [c.id for c in CLAIMS] == list(rows)
    assert rows["C1"]["verdict"] == REPRODUCED and rows["C1"]["values"] == [-31.0, -34.0, -35.0]
    assert rows["C1"]["dataset"] == "synthetic" and rows["C1"]["preset"] == "cpu"
    assert rows["C2"]["verdict"] == NOT_REPRODUCED and rows["C2"]["ci95"][0] < 0 < rows["C2"]["ci95"][1]
    assert rows["C3"]["verdict"] == DIRECTION  # +10.17 points against the paper's +2.36
    assert rows["C3"]["values"] == pytest.approx([10.0, 9.5, 11.0])
    assert (
        rows["C4"]["values"] == pytest.approx([-1.0, -1.5, -1.0]) and rows["C4"]["verdict"] == NOT_REPRODUCED
    )  # ResNet-50 better
    assert rows["C9"]["verdict"] == REPRODUCED
    for claim in ("C5", "C6", "C7", "C8", "C10"):  # their notebooks never ran
        assert rows[claim]["verdict"] == NOT_RUN and rows[claim]["mean"] is None and rows[claim]["dataset"] is None


def test_a_missing_row_means_not_run(tmp_path):
    _write(tmp_path, "fig5b_dpnet_ablation", {"full": [60.0, 61.0, 62.0], "no_aug": [70.0, 71.0, 69.0]})
    rows = {r["name"]: r for r in ledger(tmp_path)}
    assert rows["C5"]["verdict"] == NOT_RUN  # no_depthnet absent
    assert rows["C6"]["verdict"] == NOT_RUN  # aug_gt_only absent


def test_markdown_table_links_each_chapter(tmp_path):
    _write(tmp_path, "table1_upper_bound", {"gt_rank_vs_no_rank": [-31.0, -34.0, -35.0]})
    table = markdown_table(ledger(tmp_path), link=lambda nb: f"{nb}.html")
    lines = table.splitlines()
    assert len(lines) == 2 + len(CLAIMS)
    assert (
        "[table1_upper_bound](table1_upper_bound.html)" in lines[2]
        and "reproduced" in lines[2]
        and "synthetic, cpu" in lines[2]
    )
    assert "not run" in lines[3]
    html = html_table(ledger(tmp_path), link=lambda nb: f"{nb}.html")
    assert html.count("<tr") == 1 + len(CLAIMS) and '<a href="table1_upper_bound.html">' in html
