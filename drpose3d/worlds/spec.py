"""Where the motion comes from: the generated world, or a user's generic mocap file.

A data spec is ``synthetic``, ``cmu`` (real motion capture shipped with the package, see
``drpose3d/data/README.md``), ``mocap:FILE`` or ``h36m:DIR[:KEYPOINTS]`` (VideoPose3D files;
KEYPOINTS picks ``data_2d_h36m_<KEYPOINTS>.npz``, default ``gt``). The dataset label written
beside every result names it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from drpose3d.errors import DataError
from drpose3d.fileio import sha256_file
from drpose3d.formats.h36m import load_h36m
from drpose3d.formats.mocap import Mocap, load_mocap
from drpose3d.presets import Preset
from drpose3d.worlds.generated import SUBJECTS, generate_world
from drpose3d.worlds.samples import PROTOCOL1_TEST, PROTOCOL1_TRAIN, Samples, build_samples


@dataclass
class World:
    label: str  # e.g. "synthetic" or "mocap:walks.npz"
    mocap: Mocap
    samples: Samples
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]
    detected_2d: bool = False  # the samples' 2D are a file's detections (h36m:DIR:KEYPOINTS other than gt)
    digest: str = ""  # data_digest: names the data on every results page


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


def choose_split(subjects: list[str], options: str, spec: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Train/test subjects from ``train=A,B&test=C``, else the default split. A side left out
    takes its default; the two sides must not overlap, whichever was given. Nothing is rewritten:
    an empty option, a repeated or unknown key, an unknown subject or an overlap is refused."""
    if "?" in spec and not options:
        raise DataError(f"data {spec!r}: nothing after '?'; expected train=A,B and/or test=C,D")
    if not options:
        return default_split(subjects)
    given: dict[str, tuple[str, ...]] = {}
    for item in options.split("&"):
        key, _, value = item.partition("=")
        names = tuple(value.split(","))
        if key not in ("train", "test") or not value or "" in names:
            raise DataError(f"data {spec!r}: option {item!r} is not train=A,B or test=C,D")
        if key in given:
            raise DataError(f"data {spec!r}: {key}= is given twice")
        if len(set(names)) != len(names):
            raise DataError(f"data {spec!r}: {key}= names a subject twice")
        unknown = sorted(set(names) - set(subjects))
        if unknown:
            raise DataError(f"data {spec!r}: unknown subject(s) {unknown}; the data has {subjects}")
        given[key] = names
    default_train, default_test = default_split(subjects) if len(subjects) >= 3 else ((), ())
    train, test = given.get("train", default_train), given.get("test", default_test)
    shared = sorted(set(train) & set(test))
    if shared:
        implied = [k for k in ("train", "test") if k not in given]
        why = f" ({implied[0]} takes its default {list(train if implied[0] == 'train' else test)})" if implied else ""
        raise DataError(f"data {spec!r}: {shared} would be in both train and test{why}; the sides must be disjoint")
    if not train or not test:
        raise DataError(f"data {spec!r}: train {list(train)} and test {list(test)} must both be non-empty")
    return train, test


def load_world(spec: str, preset: Preset, seed: int = 0) -> World:
    """Parse a data spec and build per-camera samples at the preset's stride.

    Any spec may end in ``?train=A,B&test=C`` to choose the subjects; without it Human3.6M's
    protocol split is used when those subjects exist, else the last two subjects are tested.
    """
    body, _, options = spec.partition("?")
    kind, _, arg = body.partition(":")
    if kind == "synthetic" and not arg:
        mocap = generate_world(**preset.world, seed=seed)
        label, samples = "synthetic", build_samples(mocap, preset.stride)
    elif kind == "mocap" and arg:
        mocap = load_mocap(arg)
        label, samples = f"mocap:{Path(arg).name}", build_samples(mocap, preset.stride, recentre=True)
    elif kind == "cmu" and not arg:
        mocap = load_mocap(CMU_FILE)
        label, samples = "cmu", build_samples(mocap, preset.stride, recentre=True)
    elif kind == "h36m" and arg:
        directory, _, keypoints = arg.partition(":")
        mocap, views = load_h36m(directory, keypoints or "gt")
        label, samples = (
            f"h36m:{Path(directory).name}" + (f":{keypoints}" if keypoints else ""),
            build_samples(mocap, preset.stride, pose2d=views),
        )
    else:
        raise DataError(
            f"data is {spec!r}, expected 'synthetic', 'cmu', 'mocap:FILE' or 'h36m:DIR[:KEYPOINTS]', "
            "optionally ?train=..&test=.."
        )
    train, test = choose_split(mocap.subjects, options, spec)
    detected = kind == "h36m" and (keypoints or "gt") != "gt"
    label += f"?{options}" if options else ""
    return World(label, mocap, samples, train, test, detected, data_digest(mocap, samples))


def check_spec(spec: str, preset: Preset) -> None:
    """Fail fast on a bad data spec before any notebook starts.

    A file spec is loaded (that is the check of its format); the synthetic world is not generated,
    because that takes minutes at the larger presets, only its split is checked against its subjects.
    """
    body, _, options = spec.partition("?")
    if body == "synthetic":
        choose_split(list(SUBJECTS), options, spec)
    else:
        load_world(spec, preset)


def spec_fingerprint(spec: str) -> list[tuple[str, str]]:
    """Name and sha256 of the content of each file a data spec reads (none for the generated
    world): cached stages are recomputed when a file changes, even under the same name and time."""
    body = spec.partition("?")[0]
    kind, _, arg = body.partition(":")
    if kind == "mocap":
        paths = [Path(arg)]
    elif kind == "h36m":
        paths = sorted(Path(arg.partition(":")[0]).glob("data_*_h36m*.npz"))
    elif kind == "cmu":
        paths = [CMU_FILE]
    else:
        return []
    return [(p.name, _content_digest(p.resolve(), _identity(p))) for p in paths if p.exists()]


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
