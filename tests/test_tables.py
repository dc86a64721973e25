"""Table 2's per-action table: its columns in the order of Table 2, each cell the mean over the seeds of
the row it names (whether the twelve columns fit the page, the page check sees on the rendered book)."""

from drpose3d.pages.tables import SHORT_ARM, per_action_table
from drpose3d.paper import Arm, table2_row


def _row(arm: Arm, protocol: int, walk: list[float], box: list[float]) -> dict:
    return {"name": table2_row(arm, protocol), "per_action": {"Walk": walk, "Box": box}}


def test_per_action_columns_are_protocols_then_designs_and_cells_are_seed_means():
    # stored in another order than Table 2's, and without the cascade under protocol #2
    rows = [_row(arm, k, [10.0 * k, 20.0 * k], [1.0, 2.4]) for k in (3, 2, 1) for arm in reversed(list(SHORT_ARM))]
    rows = [r for r in rows if r["name"] != table2_row(Arm.NO_RANK, 2)]
    table = per_action_table({"rows": rows})
    assert list(table.columns[:5]) == [
        ("protocol #1", "Martinez et al."),
        ("protocol #1", "cascade, no ranking"),
        ("protocol #1", "DRPose3D w/o aug."),
        ("protocol #1", "DRPose3D"),
        ("protocol #2", "Martinez et al."),
    ]
    assert len(table.columns) == 11 and ("protocol #2", "cascade, no ranking") not in table.columns
    assert list(table.index) == ["Walk", "Box"]
    assert table.loc["Walk", ("protocol #3", "DRPose3D")] == 45  # mean of 30 and 60 mm
    assert table.loc["Box", ("protocol #1", "Martinez et al.")] == 2  # 1.7 mm, in whole millimetres
