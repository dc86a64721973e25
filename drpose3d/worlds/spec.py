"""Where the motion comes from: the data spec, parsed once, and the world it loads.

:data:`GRAMMAR` is the one description of a data spec; the CLI's help, the notebooks' parameter
cell and the book point here. :func:`parse_spec` is the one parser: a run holds a
:class:`DataSpec`, never the string, and a file path in it is made absolute against the folder
the user typed it in, before ``run.json`` is written (a notebook kernel runs elsewhere).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from drpose3d.engine.fileio import sha256_file
from drpose3d.errors import DataError
from drpose3d.formats.h36m import load_h36m
from drpose3d.formats.mocap import Mocap, load_mocap
from drpose3d.worlds.actions import ACTIONS
from drpose3d.worlds.generated import SUBJECTS, generate_world
from drpose3d.worlds.samples import PROTOCOL1_TEST, PROTOCOL1_TRAIN, Samples, build_samples

if TYPE_CHECKING:  # only annotations: a world does not depend on the presets' code (see drpose3d.engine.keys)
    from drpose3d.presets import Preset

#: The grammar of a data spec, in one place.
GRAMMAR = (
    "synthetic (the generated world) | cmu (the embedded CMU motion, drpose3d/data/README.md) | "
    "mocap:FILE.npz (`drpose3d data export|import` writes one) | h36m:DIR[:KEYPOINTS] (VideoPose3D's files; "
    "KEYPOINTS picks data_2d_h36m_<KEYPOINTS>.npz, default gt); any of them may end in ?train=A,B&test=C "
    "to choose the subjects"
)
KINDS = ("synthetic", "cmu", "mocap", "h36m")
SYNTHETIC = KINDS[0]


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec: which motion, from which file (absolute), and which subjects train and
    test (empty: the data's default split)."""

    kind: str
    path: Path | None = None
    keypoints: str = ""
    train: tuple[str, ...] = ()
    test: tuple[str, ...] = ()

    @property
    def options(self) -> str:
        given = (("train", self.train), ("test", self.test))
        return "&".join(f"{k}={','.join(v)}" for k, v in given if v)

    def _text(self, path: str | None) -> str:
        body = self.kind if path is None else f"{self.kind}:{path}"
        body += f":{self.keypoints}" if self.keypoints else ""
        return body + (f"?{self.options}" if self.options else "")

    def __str__(self) -> str:
        """The spec as `run.json` keeps it (absolute paths), parsed back to itself."""
        return self._text(None if self.path is None else str(self.path))

    @property
    def label(self) -> str:
        """The dataset's name beside every result: the file's or folder's name, never a path."""
        return self._text(None if self.path is None else self.path.name)

    @property
    def recorded(self) -> bool:
        """Motion read from files (not sampled, so a seed does not redraw it)."""
        return self.kind != SYNTHETIC

    def files(self) -> list[Path]:
        """The files this spec reads (none for the generated world)."""
        if self.kind == "h36m":
            return sorted(self.path.glob("data_*_h36m*.npz"))
        if self.kind == "cmu":
            return [CMU_FILE]
        return [self.path] if self.path is not None else []


def parse_spec(text: str, cwd: str | Path | None = None) -> DataSpec:
    """The one parser of a data spec (:data:`GRAMMAR`); a relative path is taken from `cwd`
    (default: the working folder). Checks the syntax only: subjects are checked against the data
    when it is loaded (:func:`choose_split`)."""
    text = str(text)
    body, sep, options = text.partition("?")
    kind, _, arg = body.partition(":")
    if kind not in KINDS or (kind in ("synthetic", "cmu")) == bool(arg):
        raise DataError(f"data is {text!r}, expected {GRAMMAR}")
    if sep and not options:
        raise DataError(f"data {text!r}: nothing after '?'; expected train=A,B and/or test=C,D")
    given: dict[str, tuple[str, ...]] = {}
    for item in options.split("&") if options else ():
        key, _, value = item.partition("=")
        names = tuple(value.split(","))
        if key not in ("train", "test") or not value or "" in names:
            raise DataError(f"data {text!r}: option {item!r} is not train=A,B or test=C,D")
        if key in given:
            raise DataError(f"data {text!r}: {key}= is given twice")
        if len(set(names)) != len(names):
            raise DataError(f"data {text!r}: {key}= names a subject twice")
        given[key] = names
    keypoints = ""
    if kind == "h36m":
        arg, _, keypoints = arg.partition(":")
    # absolute against `cwd` (joining keeps an absolute path as it is); abspath, not resolve: the
    # path the user typed, symbolic links and all
    path = Path(os.path.abspath(Path(cwd or Path.cwd()) / Path(arg).expanduser())) if arg else None
    return DataSpec(kind, path, keypoints, given.get("train", ()), given.get("test", ()))


@dataclass
class World:
    label: str  # e.g. "synthetic" or "mocap:walks.npz"
    mocap: Mocap
    samples: Samples
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]
    detected_2d: bool = False  # the samples' 2D are a file's detections (h36m:DIR:KEYPOINTS other than gt)
    digest: str = ""  # data_digest: names the data on every results page
    stride: int = 1  # every stride-th frame of each clip was kept (:func:`recorded_stride` for files)


#: The embedded CMU world's performers split for testing: a stylised walk and hop (BVH), a zombie
#: walk and a dance are held out; the walks, runs, jumps, fights, acrobatics and dances of the
#: other five performers train.
CMU_TEST: tuple[str, ...] = ("131", "lambada", "zombie")
CMU_FILE = Path(__file__).resolve().parents[1] / "data" / "cmu.npz"


def default_split(subjects: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Protocol #1 subjects when present, the CMU split on the CMU world, else the last two
    subjects (natural order) for test."""
    if set(PROTOCOL1_TRAIN + PROTOCOL1_TEST) <= set(subjects):
        return PROTOCOL1_TRAIN, PROTOCOL1_TEST
    if set(CMU_TEST) < set(subjects):
        return tuple(s for s in subjects if s not in CMU_TEST), CMU_TEST
    if len(subjects) < 3:
        raise DataError(
            f"the data has subjects {subjects}; at least 3 are needed to train and test on different people"
        )
    return tuple(subjects[:-2]), tuple(subjects[-2:])


def choose_split(subjects: list[str], spec: DataSpec) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Train/test subjects from the spec's ``train=A,B&test=C``, else the default split. A side left
    out takes its default; the two sides must not overlap, whichever was given. Nothing is
    rewritten: an unknown subject or an overlap is refused."""
    if not (spec.train or spec.test):
        return default_split(subjects)
    for names in (spec.train, spec.test):
        unknown = sorted(set(names) - set(subjects))
        if unknown:
            raise DataError(f"data {spec.label!r}: unknown subject(s) {unknown}; the data has {subjects}")
    default_train, default_test = default_split(subjects) if len(subjects) >= 3 else ((), ())
    train, test = spec.train or default_train, spec.test or default_test
    shared = sorted(set(train) & set(test))
    if shared:
        implied = [k for k, given in (("train", spec.train), ("test", spec.test)) if not given]
        why = f" ({implied[0]} takes its default {list(train if implied[0] == 'train' else test)})" if implied else ""
        raise DataError(
            f"data {spec.label!r}: {shared} would be in both train and test{why}; the sides must be disjoint"
        )
    if not train or not test:
        raise DataError(f"data {spec.label!r}: train {list(train)} and test {list(test)} must both be non-empty")
    return train, test


def recorded_stride(frames: int, preset: Preset) -> int:
    """The frame stride for recorded motion of `frames` frames: the preset's, unless that would keep
    fewer frames than the generated world keeps at this preset; then as dense as needed, down to
    every frame. Sized by the data: the embedded CMU motion (8,200 frames) is kept whole, Human3.6M
    (hundreds of thousands of frames) at the preset's stride."""
    generated = len(SUBJECTS) * len(ACTIONS) * preset.repetitions * round(preset.duration_s * preset.fps)
    return max(1, min(preset.stride, frames * preset.stride // generated))


def load_world(spec: DataSpec | str, preset: Preset, seed: int = 0) -> World:
    """Build per-camera samples of the spec's motion at the preset's stride (for recorded motion,
    :func:`recorded_stride`; a string is parsed first); without a chosen split Human3.6M's protocol
    split is used when those subjects exist, else :func:`default_split`'s."""
    spec = spec if isinstance(spec, DataSpec) else parse_spec(spec)
    if spec.kind == SYNTHETIC:
        mocap, stride = generate_world(**preset.world, seed=seed), preset.stride
        samples = build_samples(mocap, stride)
    elif spec.kind == "h36m":
        mocap, views = load_h36m(spec.path, spec.keypoints or "gt")
        stride = recorded_stride(len(mocap.positions), preset)
        samples = build_samples(mocap, stride, pose2d=views)
    else:
        mocap = load_mocap(spec.files()[0])
        stride = recorded_stride(len(mocap.positions), preset)
        samples = build_samples(mocap, stride, recentre=True)
    train, test = choose_split(mocap.subjects, spec)
    detected = spec.kind == "h36m" and (spec.keypoints or "gt") != "gt"
    return World(spec.label, mocap, samples, train, test, detected, data_digest(mocap, samples), stride)


def check_spec(spec: DataSpec, preset: Preset) -> None:
    """Fail fast on a bad data spec before any notebook starts.

    A file spec is loaded (that is the check of its format); the synthetic world is not generated,
    because that takes minutes at the larger presets, only its split is checked against its subjects.
    """
    if spec.kind == SYNTHETIC:
        choose_split(list(SUBJECTS), spec)
    else:
        load_world(spec, preset)


def spec_fingerprint(spec: DataSpec) -> list[tuple[str, str]]:
    """Name and sha256 of the content of each file a data spec reads (none for the generated
    world): cached stages are recomputed when a file changes, even under the same name and time."""
    return [(p.name, _content_digest(p.resolve(), _identity(p))) for p in spec.files() if p.exists()]


def _identity(path: Path) -> tuple[int, int, int, int]:
    """What changes whenever a file's bytes may have: inode, size, mtime and ctime (a user can
    set mtime back, not ctime; a file replaced under its name is a new inode)."""
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@lru_cache(maxsize=64)
def _content_digest(path: Path, identity: tuple[int, int, int, int]) -> str:
    """sha256 of a file, read once per version of it in a process (Human3.6M's files are large)."""
    return sha256_file(path)


def data_digest(mocap: Mocap, samples: Samples) -> str:
    """A short sha256 of the data as loaded: every frame's 3D and labels, and every sample's
    2D (a file's detections, for Human3.6M). Names the data on every results page."""
    h = hashlib.sha256()
    for t in (mocap.positions, mocap.sequence, samples.pose2d, samples.camera):
        h.update(t.contiguous().cpu().numpy().tobytes())
    for labels in (mocap.subject, mocap.action):
        h.update("\n".join(labels.tolist()).encode())
    return h.hexdigest()[:16]
