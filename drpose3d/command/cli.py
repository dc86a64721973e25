"""Command line: ``drpose3d reproduce``, ``drpose3d book``, ``drpose3d data export|import`` and ``drpose3d bench``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from drpose3d import __version__
from drpose3d.engine.distributed import barrier, launched, launched_rank, process_group
from drpose3d.errors import DataError, RunError

if TYPE_CHECKING:
    from drpose3d.run import Run


def _parser() -> argparse.ArgumentParser:
    from drpose3d.chapters import NOTEBOOKS
    from drpose3d.presets import PRESETS
    from drpose3d.run import DEVICES
    from drpose3d.worlds.spec import GRAMMAR

    ap = argparse.ArgumentParser(prog="drpose3d", description="Reproduce DRPose3D (IJCAI 2018).")
    ap.add_argument("--version", action="version", version=f"drpose3d {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run the notebooks with papermill and build the book")
    rep.add_argument("--preset", default="smoke", choices=list(PRESETS))
    rep.add_argument("--data", default="synthetic", help=GRAMMAR.replace("%", "%%"))
    names = [str(n) for n in NOTEBOOKS]  # plain strings: argparse names each choice by its repr
    rep.add_argument("--only", nargs="+", choices=names, metavar="NOTEBOOK", help=f"any of {', '.join(names)}")
    rep.add_argument("--seeds", type=int, help="number of seeds (default: the preset's)")
    rep.add_argument("--out", default="_out", help="output folder (default: _out)")
    rep.add_argument("--device", default="auto", choices=DEVICES)
    rep.add_argument("--no-book", action="store_true", help="execute notebooks only")
    rep.add_argument(
        "--carry",
        metavar="RUN",
        help="copy the chapters of this committed run (e.g. runs/cpu) whose numbers the current source would "
        "compute again unchanged, instead of executing them (same preset, data, seed count and device)",
    )
    rep.add_argument(
        "--plan", action="store_true", help="print each stage's samples, steps, memory and device; train nothing"
    )
    rep.add_argument("--yes", action="store_true", help="start a run of far more seeds than the preset's")
    rep.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="K",
        help="train on K processes of this machine (torchrun --standalone: one per GPU, or gloo on the CPU)",
    )
    data = sub.add_parser("data", help="data utilities").add_subparsers(dest="data_command", required=True)
    exp = data.add_parser("export", help="write the generated world in the generic mocap format")
    exp.add_argument("--preset", default="smoke", choices=list(PRESETS))
    exp.add_argument("--out", required=True, help="FILE.npz")
    imp = data.add_parser("import", help="motion capture (BVH, ASF/AMC) into the generic mocap format")
    imp.add_argument("paths", nargs="+", metavar="PATH", help=".bvh / .amc files or folders (searched recursively)")
    imp.add_argument("--out", required=True, help="FILE.npz")
    imp.add_argument("--fps", type=float, default=30.0, help="frame rate of the output (default: 30)")
    imp.add_argument(
        "--unit",
        choices=["mm", "cm", "m", "inch", "cmu"],
        help="length unit of the files (default: the ASF's own; for BVH the one giving a plausible femur)",
    )
    imp.add_argument("--joints", metavar="MAP.json", help="the 17 Human3.6M joints in the rig (default: CMU's maps)")
    imp.add_argument("--amc-fps", type=float, default=120.0, help="frame rate of AMC files (default: CMU's 120)")
    book = sub.add_parser("book", help="build the book from a committed run, recomputing nothing")
    book.add_argument("--from", dest="source", required=True, metavar="RUN", help="a run folder, e.g. runs/cpu")
    book.add_argument("--out", help="output folder (default: _out/book-<run>)")
    bench = sub.add_parser("bench", help="measure training, augmentation, metric and rendering speed")
    bench.add_argument("--device", default="auto", choices=DEVICES)
    bench.add_argument("--tiny", action="store_true", help="seconds-long sizes (a smoke test, not figures)")
    bench.add_argument("--full", action="store_true", help="also time 'reproduce --preset smoke' and the test suite")
    bench.add_argument(
        "--out", help="write the figures as JSON to this file (on a GPU, by default bench/results/cuda-<gpu>.json)"
    )
    bench.add_argument(
        "--smoke-out", help="with --full: keep the timed smoke reproduction here (default: a temporary folder)"
    )
    return ap


def _writable_folder(path: Path, flag: str) -> None:
    """Refuse, before any work and without creating anything, an output folder that is a file,
    lies under a file or could not be made for lack of permission."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise RunError(f"{flag} is {str(path)!r}, but {p} is a file, not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise RunError(f"{flag} is {str(path)!r}, but {p} is not writable")
            return


#: What a run reads from the checkout and must never write into: an output folder that is, holds or
#: lies inside one of them is refused (``--out .`` would overwrite the source notebooks).
SOURCES = ("drpose3d", "notebooks", "book", "tests", "runs")
LOCK = ".drpose3d.lock"


def _apart(out: Path, reads: list[Path]) -> None:
    """Refuse, before any work, an output folder that overlaps a folder the command reads."""
    for folder in reads:
        folder = folder.resolve()
        if out == folder or folder.is_relative_to(out) or out.is_relative_to(folder):
            raise RunError(f"--out is {str(out)!r}, which overlaps {folder}, which this command reads; choose another")


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One run at a time in an output folder: a second is refused with one line (its start-up sweep
    would delete the first one's temp files); a lock left by a killed run is taken over."""
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            text = lock.read_text(encoding="utf-8", errors="replace").strip()
            pid = int(text) if text.isdigit() else 0
            if pid and _alive(pid):
                message = f"{out}: another drpose3d run (pid {pid}) writes here; wait for it or choose another --out"
                raise RunError(message) from None
            lock.unlink(missing_ok=True)  # stale: its run was killed
    else:
        raise RunError(f"{out}: cannot take the lock {lock}")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writable_file(path: Path, flag: str, suffix: str) -> None:
    """Refuse an output file that is a folder, lies under a file or has the wrong suffix."""
    if path.suffix != suffix:
        raise DataError(f"{flag} is {str(path)!r}, expected a path ending in {suffix}")
    if path.is_dir():
        raise DataError(f"{flag} is {str(path)!r}, which is a folder; expected a file")
    _writable_folder(path.parent, f"the folder of {flag}")


def _reproduce(args: argparse.Namespace) -> int:
    from drpose3d.chapters import NOTEBOOKS
    from drpose3d.command.plan import check_fits, check_seeds, make_plan
    from drpose3d.engine.cache import Cache
    from drpose3d.run import project_root, resolve
    from drpose3d.worlds.spec import check_spec

    if args.seeds is not None and args.seeds < 1:
        raise RunError(f"--seeds is {args.seeds}, expected >= 1")
    if args.nproc < 1:
        raise RunError(f"--nproc is {args.nproc}, expected >= 1")
    root = project_root()
    out = Path(args.out).expanduser().resolve()
    _writable_folder(out, "--out")
    _apart(out, [root / name for name in SOURCES])
    run = resolve(args.preset, args.data, args.seeds or 0, args.device, args.out)
    check_spec(run.data, run.preset)
    if args.carry:
        from drpose3d.command.carry import check_committed

        check_committed(Path(args.carry).resolve(), run, root)
    plan = make_plan(run, args.nproc if args.nproc > 1 else int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    if args.plan:
        print(plan.table())
    check_fits(plan)
    check_seeds(run, args.yes or args.plan)
    if args.plan:
        return 0
    if args.nproc > 1:
        return _torchrun(args.nproc, args.argv)
    names = [n for n in NOTEBOOKS if not args.only or n in args.only]
    if launched_rank() != 0:  # a rank of several: its share of the training, then rank 0 writes the rest
        os.environ["TQDM_DISABLE"] = "1"  # rank 0's progress bars stand for all: one set on the terminal
        _distributed_stages(run, names)
        return 0
    # 2 s of nbformat's imports: not for --plan or a refusal
    from drpose3d.command.reproduce import build_book, run_notebooks

    with _locked(run.out):
        swept = Cache(run.out / "cache").sweep()
        if swept:
            print(f"drpose3d: removed {swept} temp file(s) that an interrupted run left in {run.out / 'cache'}")
        if args.carry:
            names = _carried(Path(args.carry).resolve(), run, root, names)
        if launched():
            _distributed_stages(run, names)
        failures = run_notebooks(names, run.save(), run.out, root)
        if not args.no_book:
            index = build_book(run.out, root)
            print(f"book: {index}")
    for f in failures:
        print(f"error: notebook {f.notebook} failed in {f.message}", file=sys.stderr)
    return 1 if failures else 0


def _carried(committed: Path, run: Run, root: Path, names: list[str]) -> list[str]:
    """``--carry``: copy what the committed run can lend (:mod:`drpose3d.command.carry`), say what and
    why not, and return the chapters left to execute."""
    from drpose3d.command.carry import carry

    judged = carry(committed, run, root, names)
    for b in judged:
        said = f"carried (ran at {b.commit[:12]})" if not b.why_not else f"runs again: {b.why_not}"
        print(f"drpose3d: {committed.name}/{b.chapter} {said}", file=sys.stderr)
    return [n for n in names if n not in {b.chapter for b in judged if not b.why_not}]


def _distributed_stages(run: Run, names: list[str]) -> None:
    """Under ``torchrun``: every rank runs the chapters' experiments together, so that each
    training is one DistributedDataParallel job and rank 0 caches every stage; rank 0's notebooks
    then find them all in the cache (a chapter without an experiment computes in its notebook)."""
    from drpose3d.book import analyses, experiments, stage1
    from drpose3d.book.findings import EXPERIMENTS
    from drpose3d.run import resolve_device

    del analyses, experiments, stage1  # imported for their experiments, which register themselves
    with process_group(resolve_device(run.device)):
        for name in names:
            if name in EXPERIMENTS:
                EXPERIMENTS[name](run)
        barrier()


def _torchrun(nproc: int, argv: list[str]) -> int:
    """``--nproc K``: this same command under ``torchrun --standalone --nproc_per_node K`` (one
    machine; several machines: run torchrun yourself with its rendezvous options, README)."""
    at = next(i for i, a in enumerate(argv) if a == "--nproc" or a.startswith("--nproc="))
    argv = argv[:at] + argv[at + (1 if "=" in argv[at] else 2) :]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    return subprocess.run([*command, "-m", "drpose3d.command.cli", *argv], check=False).returncode


def _book(args: argparse.Namespace) -> int:
    from drpose3d.run import project_root

    source = Path(args.source).resolve()
    executed = source / "notebooks"
    if not executed.is_dir() or not list(executed.glob("*.ipynb")):
        raise FileNotFoundError(f"{source}: no executed notebooks in {executed} (a run folder holds notebooks/*.ipynb)")
    root = project_root()
    out = Path(args.out or root / "_out" / f"book-{source.name}").resolve()
    _writable_folder(out, "--out")
    _apart(out, [source, *(root / name for name in SOURCES if not source.is_relative_to(root / name))])
    from drpose3d.command.reproduce import build_book  # after the checks, as in _reproduce

    with _locked(out):
        print(f"book: {build_book(out, root, source)}")
    return 0


def _data(args: argparse.Namespace) -> int:
    return {"export": _export, "import": _import}[args.data_command](args)


def _import(args: argparse.Namespace) -> int:
    from drpose3d.formats.importer import import_motion

    _writable_file(Path(args.out), "--out", ".npz")
    report = import_motion(args.paths, args.out, args.fps, args.unit, args.joints, args.amc_fps)
    print(
        f"wrote {report.frames} frames at {args.fps:g} fps, {report.clips} clips from {report.files} files, "
        f"performers {', '.join(report.performers)} to {args.out}; {report.splits} capture glitch(es) split a clip, "
        f"{report.dropped_s:g} s of pieces shorter than 1 s left out"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from drpose3d.formats.mocap import save_mocap
    from drpose3d.presets import get_preset
    from drpose3d.worlds.generated import generate_world

    _writable_file(Path(args.out), "--out", ".npz")
    mocap = generate_world(**get_preset(args.preset).world)
    save_mocap(mocap, args.out)
    print(f"wrote {len(mocap)} frames, {len(mocap.subjects)} subjects to {args.out}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    """A thin entry point: the measurements live in the checkout's bench/, not in the package."""
    import torch

    from drpose3d.run import project_root

    sys.path.insert(0, str(project_root() / "bench"))
    from measure import report, run

    out = args.out
    if out is None and not args.tiny and args.device != "cpu" and torch.cuda.is_available():
        # a GPU's figures are recorded for the performance chapter, one file per kind of GPU
        gpu = "".join(c if c.isalnum() else "-" for c in torch.cuda.get_device_name().lower()).strip("-")
        out = project_root() / "bench" / "results" / f"cuda-{gpu}.json"
    print(report(run(args.device, tiny=args.tiny, full=args.full, out=out, smoke_out=args.smoke_out)))
    if out is not None:
        print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: its exit status, 2 with one line on stderr for any input it refuses."""
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what --nproc hands to torchrun
    commands = {"reproduce": _reproduce, "data": _data, "book": _book, "bench": _bench}
    try:
        return commands[args.command](args)
    except (DataError, ValueError, FileNotFoundError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err  # KeyError's str() adds quotes
        print(f"drpose3d: error: {message}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as err:
        print(f"drpose3d: error: book build failed ({err})", file=sys.stderr)
        return 1
    except OSError as err:  # a full disk or an unwritable folder met mid-run: what, where, why
        where = f"cannot write {err.filename}" if err.filename else "input/output failed"
        print(f"drpose3d: error: {where}: {err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("drpose3d: interrupted; the same command resumes from the cache", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
