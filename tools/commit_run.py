"""Turn a finished run into a committed one: its results JSON and reader copies of its executed
notebooks (no papermill cell, no path of the machine that ran it), replacing what the committed
run held before, so that a committed run never mixes two runs.

    python tools/commit_run.py OUT runs/NAME

Then `python tools/readme_ledger.py` refreshes the README's ledger, and `drpose3d book --from
runs/NAME` renders the committed run's book.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

from drpose3d.book.notebooks import NOTEBOOKS, reader_copy


def commit_run(out: Path, target: Path) -> list[str]:
    """Copy `out`'s results and reader copies of its book's notebooks into `target`; returns the
    notebooks (a chapter such as the performance appendix has a notebook and no results JSON)."""
    results = sorted((out / "results").glob("*.json"))
    if not results:
        raise SystemExit(f"commit_run: {out}/results holds no results JSON (expected a finished run's folder)")
    missing = [r.stem for r in results if not (out / "notebooks" / f"{r.stem}.ipynb").exists()]
    if missing:
        raise SystemExit(f"commit_run: {out}/notebooks lacks {', '.join(missing)} (expected one per results JSON)")
    names = [n for n in NOTEBOOKS if (out / "notebooks" / f"{n}.ipynb").exists()]
    copies = {n: nbformat.writes(reader_copy(out / "notebooks" / f"{n}.ipynb")) for n in names}
    leaked = [n for n, text in copies.items() if str(out.resolve()) in text]
    if leaked:
        raise SystemExit(f"commit_run: {', '.join(leaked)} still show the path {out.resolve()} (expected none)")
    shutil.rmtree(target, ignore_errors=True)
    (target / "notebooks").mkdir(parents=True)
    for r in results:
        shutil.copy(r, target / r.name)
    for n, text in copies.items():
        (target / "notebooks" / f"{n}.ipynb").write_text(text, encoding="utf-8")
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the run's output folder (drpose3d reproduce --out)")
    ap.add_argument("target", type=Path, help="the committed run's folder, e.g. runs/cpu")
    args = ap.parse_args()
    names = commit_run(args.out, args.target)
    print(f"{args.target}: {len(names)} notebooks ({', '.join(names)})", file=sys.stderr)


if __name__ == "__main__":
    main()
