"""Audit a run before its numbers stand in the README and the book: what a referee checks first.

    python tools/audit_run.py runs/cpu [runs/cpu-cmu ...]

The ledger as the run wrote it (``claims.json``): every claim the package defines is there and names its
control; C1 and C2 share one, so that only the ranking's information varies between them; a non-inferiority
claim carries its margin; every verdict is one of the ledger's words, and an inconclusive one says how many
seeds would decide it. Table 2 has every arm under protocols #1-#3, the cascade without ranking on detected 2D
among them. Then the run's book, built without recomputing: the front page states what the book found and
draws the forest plot, every results page keeps its code folded, a book of other data than the generated
world carries none of the generated world's fixed sentences, and the real-browser page check passes.

Prints one line per problem and exits 1 if there is any (2: not a run folder); the runs/cpu of before the
ledger's controls fails it, runs/smoke passes. A run folder is a committed one (``runs/<name>/``) or one
that ``drpose3d reproduce`` wrote (its results in ``results/``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from check_pages import check
from chromium import find_binary

from drpose3d.book.claims import CLAIMS
from drpose3d.book.ledger import ABSTRACT_LEAD, VERDICT
from drpose3d.book.results import load_results, results_folder
from drpose3d.book.verdicts import INCONCLUSIVE, VERDICTS
from drpose3d.chapters import Notebook
from drpose3d.command.cli import main as drpose3d
from drpose3d.command.reproduce import FOREST
from drpose3d.paper import TABLE2_ARMS, table2_row
from drpose3d.worlds.spec import KINDS

#: The claims whose controls must be one and the same (the architecture held fixed): Table 1's two rankings.
SAME_CONTROL = ("C1", "C2")
GENERATED_WORLD = KINDS[0]  # "synthetic": the data the book's fixed prose was once written for
#: Sentences written for the generated world that must not stand above another world's numbers.
GENERATED_WORLD_PHRASES = ("S1 S5", "S9", "S11", "seven subjects", "twelve action", "10 000 crops", "rigid: ~0")


def ledger_problems(run: Path) -> list[str]:
    """What the committed ledger and Table 2's results lack (see the module's docstring)."""
    rows = load_results(run, Notebook.CLAIMS)["rows"]
    judged = {r["name"]: r for r in rows}
    found = []
    missing = [c.id for c in CLAIMS if c.id not in judged]
    if missing:
        found.append(f"claims.json lacks {', '.join(missing)} (the package defines {len(CLAIMS)} claims)")
    for claim in CLAIMS:
        r = judged.get(claim.id)
        if r is None:
            continue
        if not r.get("control"):
            found.append(f"{claim.id} names no control")
        if r.get(VERDICT) not in VERDICTS:
            found.append(f"{claim.id}: verdict {r.get(VERDICT)!r} is none of {', '.join(VERDICTS)}")
        elif r[VERDICT] == INCONCLUSIVE and "seeds_needed" not in r:
            found.append(f"{claim.id} is inconclusive without the number of seeds that would decide it")
        if claim.margin is not None and r.get("margin_pct") != claim.margin:
            found.append(
                f"{claim.id} is not judged as non-inferiority (margin {r.get('margin_pct')}, not {claim.margin} %)"
            )
    controls = {judged[c].get("control") for c in SAME_CONTROL if c in judged}
    if len(controls) > 1:
        found.append(f"{' and '.join(SAME_CONTROL)} have different controls: {' / '.join(map(str, controls))}")
    table2 = results_folder(run) / f"{Notebook.TABLE2_PROTOCOLS}.json"
    names = {r["name"] for r in json.loads(table2.read_text())["rows"]} if table2.is_file() else set()
    lacking = [table2_row(arm, p) for arm in TABLE2_ARMS for p in (1, 2, 3) if table2_row(arm, p) not in names]
    if lacking:
        found.append(f"{table2.name} lacks the rows {', '.join(lacking)}")
    return found


def generated_world_prose(html: Path) -> list[str]:
    """Each results page of a built book that shows one of :data:`GENERATED_WORLD_PHRASES` as text."""
    found = []
    for page in sorted((html / "notebooks").glob("*.html")):
        visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", page.read_text(), flags=re.S)
        said = [p for p in GENERATED_WORLD_PHRASES if re.search(rf"\b{re.escape(p)}\b", visible)]
        if said:
            found.append(f"{page.name} says {', '.join(map(repr, said))}, written for the generated world")
    return found


def book_problems(html: Path, data: str = GENERATED_WORLD) -> list[str]:
    """What a built book (its ``_build/html``) of a run on `data` shows wrong."""
    front = (html / "book" / "intro.html").read_text()  # index.html sends the reader there
    found = []
    if ABSTRACT_LEAD not in front:
        found.append(f"the front page does not state what the book found ({ABSTRACT_LEAD!r})")
    if FOREST not in front:
        found.append("the front page has no forest plot")
    for page in sorted((html / "notebooks").glob("*.html")):
        text = page.read_text()
        # an open code cell is a highlighted input outside a <details> that folds it
        bare = re.sub(r"<details.*?</details>", "", text, flags=re.S)
        if re.search(r'class="[^"]*\bcell_input\b', bare):
            found.append(f"{page.name}: a code cell is open (the book folds every results page's code)")
    if data != GENERATED_WORLD:
        found += generated_world_prose(html)
    browser = find_binary()
    if browser is None:
        return [*found, "no chromium on PATH for the page check (Debian: apt-get install chromium)"]
    if check(html, html.parent / "screenshots", browser) != 0:
        found.append("the page check fails (its report is above)")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="run folders, e.g. runs/cpu runs/cpu-cmu")
    args = ap.parse_args(argv)
    for run in args.runs:
        if not (results_folder(run) / f"{Notebook.CLAIMS}.json").is_file():
            why = "expected a finished run: its claims chapter writes it last"
            print(f"audit_run: {run}: no {Notebook.CLAIMS}.json ({why})", file=sys.stderr)
            return 2
    failed = 0
    for run in args.runs:
        found = ledger_problems(run)
        data = load_results(run, Notebook.CLAIMS)["dataset"]
        with tempfile.TemporaryDirectory() as tmp:  # the book of the run, nothing recomputed
            built = drpose3d(["book", "--from", str(run), "--out", tmp]) == 0
            html = Path(tmp) / "book" / "_build" / "html"
            found += book_problems(html, data) if built else ["its book does not build"]
        for line in found:
            print(f"FAIL {run}: {line}")
        print(f"{run}: {'clean' if not found else f'{len(found)} problem(s)'}")
        failed += bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
