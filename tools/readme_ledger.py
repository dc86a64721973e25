"""Rewrite README.md's "Claims ledger" section from the committed runs in runs/<preset>/, and the
presets-against-the-paper table in README.md and book/intro.md from drpose3d/presets.py.

Keeps the README's numbers derived from results JSON in git rather than typed by hand:
    .venv/bin/python tools/readme_ledger.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from drpose3d.book.ledger import ledger, markdown_rows, markdown_table, side_by_side
from drpose3d.book.results import COMMIT, REPLAYED_S, UNTIMED_CACHE_LOADS, WALL_S
from drpose3d.chapters import NOTEBOOKS, Notebook
from drpose3d.pages.tables import presets_table

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Claims ledger"
PRESETS_BEGIN, PRESETS_END = "<!-- presets:begin -->", "<!-- presets:end -->"
INTRO = {
    "cpu": "the reduced reproduction (`make book PRESET=cpu`) on 2 CPU cores.",
    "smoke": "the minutes-long first look (`make book` in a clean clone). With 2 seeds a Student-t interval is "
    "12.7 standard errors wide, so few claims can pass.",
    "smoke-cmu": "the minutes-long first look on the real motion (`drpose3d reproduce --preset smoke --data cmu`).",
    "cpu-cmu": "the reduced reproduction on the real motion (`drpose3d reproduce --preset cpu --data cmu`).",
}
#: Committed runs in the order the README shows them.
RUNS = ("cpu", "cpu-cmu", "smoke", "smoke-cmu")


def short(commit: str) -> str:
    """A commit as the README names it: 12 hex digits, and "+dirty" kept where the tree had edits."""
    sha, _, mark = commit.partition("+")
    return sha[:12] + (f"+{mark}" if mark else "")  # a dirty run must not read as its clean commit


def data(results: list[dict]) -> str:
    """The data the run's claims were judged on, then each chapter that read other data by name (the generated
    world's real-motion chapter reads the CMU motion): "cmu, synthetic" left a reader to guess which was which.
    A run in progress has no claims chapter yet: the data most of its chapters read stands in."""
    judged = next((r["dataset"] for r in results if r["notebook"] == Notebook.CLAIMS), None)
    judged = judged or Counter(r["dataset"] for r in results).most_common(1)[0][0]
    others = [f"{r['notebook']} on {r['dataset']}" for r in results if r["dataset"] != judged]
    return judged + (f" ({', '.join(others)})" if others else "")


def section(run: Path) -> str:
    """One run's ledger: which preset, seeds and commits produced it, then the table."""
    rows = ledger(run)
    results = [json.loads(p.read_text()) for p in sorted(run.glob("*.json"))]
    commits = sorted({r[COMMIT] for r in results if r.get(COMMIT)}) or ["not recorded"]
    seeds = max(len(r["seeds"]) for r in results)
    preset = run.name
    cost = {r["notebook"]: r[WALL_S] + r.get(REPLAYED_S, 0.0) for r in results if r.get(WALL_S)}
    if any(r.get(UNTIMED_CACHE_LOADS) for r in results):
        times = (
            "Compute times: not in its results, because it was resumed from a cache that kept none "
            "(the resume took seconds); [bench/](bench/) has what each notebook took when it was computed.\n"
        )
    else:
        ranked = ", ".join(f"{nb} {s / 60:.1f}" for nb, s in sorted(cost.items(), key=lambda c: -c[1]))
        times = (
            "Compute time of each notebook's experiment, minutes, on 2 cores unless the run says otherwise "
            f"(a resumed run is credited what it loaded back from its own earlier execution): {ranked}; "
            f"{sum(cost.values()) / 60:.0f} min in all.\n"
        )
    chapters = [nb for nb in NOTEBOOKS if nb != Notebook.PERFORMANCE]  # the appendix writes no results
    ran = {r["notebook"] for r in results}
    done = [nb for nb in chapters if nb in ran]
    progress = (
        f"**In progress**: {len(done)} of {len(chapters)} chapters finished ({', '.join(done)}); the claims "
        'whose chapters have not run read "not run". '
        if len(done) < len(chapters)
        else ""
    )
    head = (
        f"### Run {preset}\n\nFrom `runs/{preset}/`, {INTRO.get(preset, '')} {progress}Data: {data(results)}; "
        f"{seeds} seeds; source commit(s) {', '.join(f'`{short(c)}`' for c in commits)}. " + times
    )
    return head + "\n" + markdown_table(rows, link=lambda nb: f"notebooks/{nb}.ipynb") + "\n"


def side(preset: str) -> str:
    """The generated world and the real motion side by side, one row per claim."""
    ledgers = {
        f"generated world ({preset})": ledger(ROOT / "runs" / preset),
        f"real motion, CMU ({preset})": ledger(ROOT / "runs" / f"{preset}-cmu"),
    }
    rows = side_by_side(ledgers, link=lambda nb: f"notebooks/{nb}.ipynb")
    return f"### The generated world and the real motion, preset {preset}\n\n" + markdown_rows(rows) + "\n"


def write_presets(path: Path) -> None:
    """The presets-against-the-paper table between the markers of `path` (README, book intro)."""
    text = path.read_text()
    start, end = text.index(PRESETS_BEGIN) + len(PRESETS_BEGIN), text.index(PRESETS_END)
    path.write_text(text[:start] + "\n" + presets_table() + "\n" + text[end:])


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index(HEADING)
    runs = [ROOT / "runs" / p for p in RUNS if any((ROOT / "runs" / p).glob("*.json"))]
    pairs = [p for p in ("cpu", "smoke") if {p, f"{p}-cmu"} <= {r.name for r in runs}]
    body = (
        f"{HEADING} (committed runs)\n\nEach verdict judges the paired per-seed relative effects (the effect as a "
        "percentage of its control) against the paper's, by the rule stated in the `claims` chapter; the absolute "
        "effects stand beside them. A finished run becomes a committed one with `.venv/bin/python "
        "tools/commit_run.py OUT runs/NAME`; then regenerate this section with "
        "`.venv/bin/python tools/readme_ledger.py`. `tools/regenerate_runs.sh PRESET OUT_ROOT` makes a preset's two "
        "committed runs in the order their claims chapters need (each plots its run beside the other world's "
        "committed run), resuming from the caches after an interruption.\n\n"
        + "\n".join([*(side(p) for p in pairs), *(section(r) for r in runs)])
    )
    after = text.find("\n## ", start + len(HEADING))  # the sections after the ledger stay
    readme.write_text(text[:start] + body + ("" if after < 0 else "\n" + text[after + 1 :]))
    for path in (readme, ROOT / "book" / "intro.md"):
        write_presets(path)


if __name__ == "__main__":
    main()
