"""Turn a run into a committed one: reader copies of its finished notebooks (no papermill cell, no
path of the machine that ran it) and their results JSON, replacing what the committed run held
before, so that a committed run never mixes two runs.

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

from drpose3d.chapters import NOTEBOOKS
from drpose3d.command.reproduce import reader_copy


def finished(executed: Path) -> bool:
    """Whether papermill ran the notebook to its end without an error (a run in progress has
    written its first cells and nothing after)."""
    meta = nbformat.read(executed, as_version=4).metadata.get("papermill", {})
    return bool(meta.get("end_time")) and not meta.get("exception")


def commit_run(out: Path, target: Path) -> list[str]:
    """Copy the finished notebooks of `out` (reader copies) and their results JSON into `target`,
    which is replaced whole; returns the notebooks. A run still in progress can be committed: its
    unfinished notebooks are left out, as their chapters then say."""
    names = [n for n in NOTEBOOKS if (out / "notebooks" / f"{n}.ipynb").exists()]
    names = [n for n in names if finished(out / "notebooks" / f"{n}.ipynb")]
    if not names:
        raise SystemExit(f"commit_run: {out}/notebooks holds no finished notebook (expected a run's output folder)")
    copies = {n: nbformat.writes(reader_copy(out / "notebooks" / f"{n}.ipynb")) for n in names}
    leaked = [n for n, text in copies.items() if str(out.resolve()) in text]
    if leaked:
        raise SystemExit(f"commit_run: {', '.join(leaked)} still show the path {out.resolve()} (expected none)")
    shutil.rmtree(target, ignore_errors=True)
    (target / "notebooks").mkdir(parents=True)
    for n, text in copies.items():
        (target / "notebooks" / f"{n}.ipynb").write_text(text, encoding="utf-8")
        if (out / "results" / f"{n}.json").exists():  # the performance appendix writes none
            shutil.copy(out / "results" / f"{n}.json", target / f"{n}.json")
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
