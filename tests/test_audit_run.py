"""tools/audit_run.py: the ledger a committed run wrote and the book it makes, checked as a referee would."""

import json
import shutil
from pathlib import Path

import audit_run
import pytest

from drpose3d.book.ledger import ABSTRACT_LEAD
from drpose3d.book.verdicts import INCONCLUSIVE
from drpose3d.chapters import Notebook
from drpose3d.command.reproduce import FOREST

ROOT = Path(__file__).parents[1]
CLAIMS_JSON, TABLE2_JSON = f"{Notebook.CLAIMS}.json", f"{Notebook.TABLE2_PROTOCOLS}.json"


def test_the_committed_smoke_ledger_passes_and_each_gap_is_named(tmp_path):
    for name in (CLAIMS_JSON, TABLE2_JSON):
        shutil.copy(ROOT / "runs" / "smoke" / name, tmp_path / name)
    assert audit_run.ledger_problems(tmp_path) == []
    claims = json.loads((tmp_path / CLAIMS_JSON).read_text())
    rows = {r["name"]: r for r in claims["rows"]}
    rows["C2"]["control"] = "the one-stage baseline"  # a control chosen apart from C1's
    rows["C4"]["margin_pct"] = None  # judged as superiority
    rows["C3"]["verdict"], rows["C3"]["seeds_needed"] = "unclear", None
    rows["C6"]["control"] = ""
    rows["C7"]["verdict"] = INCONCLUSIVE
    del rows["C7"]["seeds_needed"]
    claims["rows"] = [r for name, r in rows.items() if name != "C13"]
    (tmp_path / CLAIMS_JSON).write_text(json.dumps(claims))
    table2 = json.loads((tmp_path / TABLE2_JSON).read_text())
    table2["rows"] = [r for r in table2["rows"] if r["name"] != "no_rank_p2"]
    (tmp_path / TABLE2_JSON).write_text(json.dumps(table2))
    found = audit_run.ledger_problems(tmp_path)
    assert found[0] == "claims.json lacks C13 (the package defines 14 claims)"
    assert "C6 names no control" in found
    assert any(f.startswith("C3: verdict 'unclear' is none of reproduced") for f in found)
    assert "C7 is inconclusive without the number of seeds that would decide it" in found
    assert "C4 is not judged as non-inferiority (margin None, not 1.0 %)" in found
    assert any(f.startswith("C1 and C2 have different controls") for f in found)
    assert found[-1] == "table2_protocols.json lacks the rows no_rank_p2"
    assert len(found) == 7, found


@pytest.mark.usefixtures("chromium_binary")  # the check finds the browser itself
def test_a_book_without_its_finding_or_with_open_code_fails(tmp_path, capsys):
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "notebooks").mkdir()
    (html / "index.html").write_text("<html><body><p>Home</p></body></html>")
    folded = '<details><summary>Show code cell source</summary><div class="cell_input">x = 1</div></details>'
    (html / "notebooks" / "folded.html").write_text(f"<html><body><article>{folded}</article></body></html>")
    (html / "notebooks" / "open.html").write_text('<html><body><div class="cell_input">x = 1</div></body></html>')
    front = f"<p><strong>{ABSTRACT_LEAD}</strong> on data</p><img src='../_static/{FOREST}'>"
    (html / "book" / "intro.html").write_text(f"<html><body><article>{front}</article></body></html>")
    (html / "_static").mkdir()
    (html / "_static" / FOREST).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert audit_run.book_problems(html) == [
        "open.html: a code cell is open (the book folds every results page's code)"
    ]
    (html / "book" / "intro.html").write_text("<html><body><article><p>Intro</p></article></body></html>")
    found = audit_run.book_problems(html)
    assert found[:2] == [
        f"the front page does not state what the book found ({ABSTRACT_LEAD!r})",
        "the front page has no forest plot",
    ]


def test_a_folder_without_a_ledger_is_refused_in_one_line(tmp_path, capsys):
    assert audit_run.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no claims.json (expected a finished run: its claims chapter writes it last)" in err
