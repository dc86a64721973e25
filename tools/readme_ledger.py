"""Rewrite README.md's "Claims ledger" section from the committed runs in runs/<preset>/.

Keeps the README's numbers derived from results JSON in git rather than typed by hand:
    .venv/bin/python tools/readme_ledger.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from drpose3d.book.claims import ledger, markdown_table

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Claims ledger"
INTRO = {
    "cpu": "the faithful reduced reproduction (`make book PRESET=cpu`), run notebook by notebook on 2 CPU cores; "
    'claims whose notebooks have not been run on it yet say so ("not run").',
    "smoke": "the minutes-long first look (`make book` in a clean clone). With 2 seeds a Student-t interval is "
    "12.7 standard errors wide, so few claims can pass.",
}


def section(run: Path) -> str:
    """One run's ledger: which preset, seeds and commits produced it, then the table."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "results").symlink_to(run.resolve())
        rows = ledger(tmp)
    results = [json.loads(p.read_text()) for p in sorted(run.glob("*.json"))]
    commits = sorted({r["commit"] for r in results if r.get("commit")}) or ["not recorded"]
    seeds = max(len(r["seeds"]) for r in results)
    datasets = ", ".join(sorted({r["dataset"] for r in results}))
    preset = run.name
    head = (
        f"### Preset {preset}\n\nFrom `runs/{preset}/`, {INTRO.get(preset, '')} Data: {datasets}; "
        f"{seeds} seeds; source commit(s) {', '.join(f'`{c[:12]}`' for c in commits)}.\n"
    )
    return head + "\n" + markdown_table(rows, link=lambda nb: f"notebooks/{nb}.ipynb") + "\n"


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index(HEADING)
    runs = [ROOT / "runs" / p for p in ("cpu", "smoke") if any((ROOT / "runs" / p).glob("*.json"))]
    body = (
        f"{HEADING} (committed runs)\n\nEach verdict compares the paired per-seed effects with the paper's number; "
        "the rule and the per-seed values are in the `claims` chapter. Regenerate with "
        "`.venv/bin/python tools/readme_ledger.py`.\n\n" + "\n".join(section(r) for r in runs)
    )
    after = text.find("\n## ", start + len(HEADING))  # the sections after the ledger stay
    readme.write_text(text[:start] + body + ("" if after < 0 else "\n" + text[after + 1 :]))


if __name__ == "__main__":
    main()
