"""Whether a run re-executed after a change still has the same numbers: every results JSON of a run
folder against the same files at a git revision (default HEAD) or in a second folder, with the run's
circumstances (time stamps, wall time, memory, commit: `results.CIRCUMSTANCES`) set aside.

    python tools/diff_run.py runs/smoke                  # the working tree's committed run against HEAD's
    python tools/diff_run.py runs/smoke --rev 1b2a15a    # ... against an older commit's
    python tools/diff_run.py runs/smoke /tmp/smk/smoke   # two folders (a reproduction's OUT works too)

A change to page or book code, re-executed from the cache (`drpose3d reproduce --only ... --no-book`,
then tools/commit_run.py), must bring every number back. Exit 0 when they are the same, 1 listing
each difference (file, key path, both values), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from drpose3d.book.results import CIRCUMSTANCES, results_folder

#: make_row keeps 4 decimals: a value that rounding put on the other side of a last digit differs by one
#: unit of it, the most that re-evaluating the same weights can move a rounded number (a hair more than
#: 1e-4, because 50.1235 - 50.1234 is 1.00000000003e-4 in binary).
ABS_TOL = 1.0001e-4
#: Unrounded floats (training curves, per-action errors): float32 (an ulp is 1.2e-7 of the value) summed in
#: another order by another CPU's kernels (AVX2, AVX-512): about ten ulps.
REL_TOL = 1e-6


def differences(new: object, old: object, path: str = "", skip: tuple[str, ...] = CIRCUMSTANCES) -> list[str]:
    """Every place where `new` and `old` differ beyond the tolerances, as "path: new vs old"."""
    if isinstance(new, dict) and isinstance(old, dict):
        found = []
        for key in sorted(new.keys() | old.keys()):
            if key in skip:
                continue
            if key not in new or key not in old:
                found.append(f"{path}.{key}: only in the {'new' if key in new else 'old'} run")
            else:
                found += differences(new[key], old[key], f"{path}.{key}", skip)
        return found
    if isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            return [f"{path}: {len(new)} items vs {len(old)}"]
        pairs = enumerate(zip(new, old, strict=True))
        return [d for k, (a, b) in pairs for d in differences(a, b, f"{path}[{k}]", skip)]
    if isinstance(new, float) or isinstance(old, float):
        both = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (new, old))
        same = both and (
            math.isclose(new, old, rel_tol=REL_TOL, abs_tol=ABS_TOL) or math.isnan(new) and math.isnan(old)
        )
    else:
        same = new == old
    return [] if same else [f"{path}: {str(new)[:80]} vs {str(old)[:80]}"]


class GitError(Exception):
    """A git command failed: the folder is in no repository, or not at the revision."""


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise GitError(f"diff_run: git {' '.join(args)}: {proc.stderr.strip().splitlines()[-1]}")
    return proc.stdout


def at_revision(folder: Path, rev: str) -> dict[str, dict]:
    """The results JSON of `folder` as git holds them at `rev`, by notebook."""
    folder = folder.resolve()
    top = Path(_git("rev-parse", "--show-toplevel", cwd=folder).strip())
    rel = folder.relative_to(top).as_posix()
    names = _git("ls-tree", "--name-only", f"{rev}:{rel}", cwd=top).split()
    return {Path(n).stem: json.loads(_git("show", f"{rev}:{rel}/{n}", cwd=top)) for n in names if n.endswith(".json")}


def in_folder(folder: Path) -> dict[str, dict]:
    """The results JSON of a committed run (``runs/NAME``) or a reproduction's output folder, by notebook."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(results_folder(folder).glob("*.json"))}


def report(new: dict[str, dict], old: dict[str, dict]) -> list[str]:
    """One line a notebook ("same" or its count of differences), each difference indented below it."""
    lines = []
    for name in sorted(new.keys() | old.keys()):
        if name not in old or name not in new:
            lines.append(f"{name}: only in the {'new' if name in new else 'old'} run")
            continue
        found = differences(new[name], old[name], name)
        lines.append(f"{name}: same" if not found else f"{name}: {len(found)} differ")
        lines += [f"    {d}" for d in found]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new", type=Path, help="a run folder: runs/NAME or a reproduction's OUT")
    parser.add_argument("old", type=Path, nargs="?", help="a second run folder (default: NEW at --rev)")
    parser.add_argument("--rev", default="HEAD", help="the git revision NEW is compared with (default HEAD)")
    args = parser.parse_args(argv)
    for folder in (args.new, args.old):
        if folder is not None and not list(results_folder(folder).glob("*.json")):
            expected = "runs/NAME/*.json or OUT/results/*.json"
            print(f"diff_run: {folder}: no results JSON (expected {expected})", file=sys.stderr)
            return 2
    try:
        old = in_folder(args.old) if args.old else at_revision(args.new, args.rev)
    except GitError as err:
        print(err, file=sys.stderr)
        return 2
    lines = report(in_folder(args.new), old)
    print("\n".join(lines))
    return int(any(not line.startswith(" ") and not line.endswith(": same") for line in lines))


if __name__ == "__main__":
    sys.exit(main())
