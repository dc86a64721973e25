"""The 'What we see' prose of the committed smoke runs: its lists read as one sentence (the fig. 5(b)
list ended in a semicolon, Table 2's had a full stop before its last item)."""

import json
from pathlib import Path

import pytest

from drpose3d.pages import summaries

RUNS = Path(__file__).parents[1] / "runs"


@pytest.mark.parametrize("run", ["smoke", "smoke-cmu"])
@pytest.mark.parametrize("chapter", ["table2_protocols", "fig5b_dpnet_ablation"])
def test_a_summarys_list_ends_each_item_in_a_semicolon_and_the_last_in_a_full_stop(run, chapter):
    result = json.loads((RUNS / run / f"{chapter}.json").read_text())
    summary = {"table2_protocols": summaries.table2_summary, "fig5b_dpnet_ablation": summaries.fig5b_summary}[chapter]
    items = [line for line in summary(result).splitlines() if line.startswith("- ")]
    assert len(items) >= 5, items
    assert all(item.endswith(";") for item in items[:-1]) and items[-1].endswith("."), items
