"""The per-action tables: columns in the order of their paper table, each cell the mean over the
seeds of the row it names, in whole millimetres (whether they fit the page, the page check sees on
the rendered book)."""

from drpose3d.book.results import RANKING_ACCURACY, TIE_RATE
from drpose3d.pages.tables import (
    SHORT_ARM,
    SHORT_TABLE1,
    joint_maps_table,
    noise_table,
    performers_table,
    table1_per_action,
    table2_per_action,
)
from drpose3d.paper import Arm, Table1, noise_row, table2_row


def _row(name: str, walk: list[float], box: list[float]) -> dict:
    return {"name": name, "per_action": {"Walk": walk, "Box": box}}


def test_table2_columns_are_protocols_then_designs_and_cells_are_seed_means():
    # stored in another order than Table 2's, and without the cascade under protocol #2
    rows = [
        _row(table2_row(arm, k), [10.0 * k, 20.0 * k], [1.0, 2.4]) for k in (3, 2, 1) for arm in reversed(SHORT_ARM)
    ]
    rows = [r for r in rows if r["name"] != table2_row(Arm.NO_RANK, 2)]
    table = table2_per_action({"rows": rows})
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


def test_table1_columns_follow_the_table_and_leave_out_rows_without_actions():
    # the relative-change rows carry no per-action errors and are not lifters: they are no column
    rows = [_row(str(name), [50.0, 51.2], [40.0, 40.0]) for name in reversed(SHORT_TABLE1)]
    rows.append({"name": Table1.GT_RANK_VS_NO_RANK, "values": [-30.0]})
    table = table1_per_action({"rows": rows})
    assert list(table.columns) == list(SHORT_TABLE1.values())
    assert table.loc["Walk", "GT ranking (DPNet)"] == 51  # 50.6 mm


def test_performers_name_their_bone_columns_in_words_and_whole_millimetres():
    performers = {"02": {"clips": 10, "frames": 3208, "format": "ASF/AMC", "femur_mm": 428.4, "upper_arm_mm": 279.6}}
    table = performers_table(performers)
    assert list(table.columns) == ["clips", "frames", "format", "femur (mm)", "upper arm (mm)"]
    assert table.columns.name == "performer" and table.loc["02", "upper arm (mm)"] == 280


def test_joint_maps_say_each_made_joint_in_words():
    maps = {
        "cmu-asf": {
            "Hip": "root",
            "Spine": {"mid": ["root", "thorax"]},
            "Neck/Nose": {"nose": {"base": "upperneck", "top": "head", "rotation": "head"}},
        }
    }
    table = joint_maps_table(maps)
    assert table.loc["Hip", "cmu-asf"] == "root"
    assert table.loc["Spine", "cmu-asf"] == "midpoint of root and thorax"
    assert table.loc["Neck/Nose", "cmu-asf"] == "in front of upperneck, facing as head"


def test_the_three_ranking_noise_tables_share_one_layout():
    flip = {"name": noise_row("flip", 0.1), "values": [70.0, 60.0], "mean": 65.0, "ci95": [1.5, 128.5]}
    eps = {"name": noise_row("eps", 20.0), "values": [64.0], "mean": 64.0, "ci95": None, TIE_RATE: 0.0587}
    threshold = {**flip, "name": noise_row("threshold", 0.02), TIE_RATE: [0.02, 0.04]}
    rows = [{**flip, RANKING_ACCURACY: [90.0, 91.0]}, eps, {**threshold, RANKING_ACCURACY: [70.0, 72.0]}]
    by_flip, by_eps, by_t = (noise_table(rows, kind) for kind in ("flip", "eps", "threshold"))
    tail = ["MPJPE (mm)", "95 % CI", "per seed"]
    assert list(by_flip.columns) == ["pairwise accuracy (%)", *tail] and list(by_flip.index) == ["0.10"]
    assert list(by_eps.columns) == ["ties among pairs (%)", *tail] and list(by_eps.index) == ["20"]
    assert list(by_t.columns) == ["pairwise accuracy (%)", "ties among pairs (%)", *tail]
    assert by_flip.iloc[0].tolist() == [90.5, 65.0, "[1.5,\u00a0128.5]", "70.0, 60.0"]  # an interval never wraps
    assert by_eps.iloc[0, 0] == 5.87 and by_eps.iloc[0, 2] == "(one seed)"
    assert by_t.iloc[0, 1] == 3.0  # the seeds' mean tie rate, in %


def test_tables_have_one_header_row_with_what_their_rows_are_in_its_first_cell():
    # pandas draws an index's name as a second header row of empty cells under the columns' names
    performers = {"02": {"clips": 10, "frames": 3208, "format": "ASF/AMC", "femur_mm": 428.4}}
    flip = {"name": noise_row("flip", 0.1), "values": [70.0, 60.0], "mean": 65.0, "ci95": [1.5, 128.5]}
    for table in (performers_table(performers), noise_table([flip], "flip")):
        head = table.to_html().split("<tbody>")[0]
        assert head.count("<tr") == 1, head
        assert f"<th>{table.columns.name}</th>" in head
