"""Content-addressed artefacts under keys derived by :mod:`drpose3d.engine.keys`, and the one wrapper that makes a stage
cached and resumable.

Stage functions (``drpose3d.stages``) never see the cache: :meth:`Cache.stage` looks their
result up by key, or calls them with a :class:`Checkpoints` handle (when they take one) so an
interrupted training resumes, stores the result and drops the checkpoint.

A cache folder gets copied between machines and shared, so loading one must never run code:
entries hold only tensors and plain containers (``torch.load(weights_only=True)``), and the
package's dataclasses are stored as named records that only this package's own dataclasses can
be rebuilt from. A crash never leaves a half-written entry (temp file + rename), orphaned temp
files are swept, and an entry that cannot be read or fails its checksum is reported, removed
and recomputed rather than trusted or fatal.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import io
import json
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from drpose3d.engine.distributed import agree, writer
from drpose3d.engine.fileio import atomic_path, sha256_file, write_text_atomic

T = TypeVar("T")
_RECORD, _ARRAY = "__dataclass__", "__ndarray__"
#: Where a cache writes what it healed, so that the CLI can repeat it (notebooks hide stderr).
HEALED_LOG = "healed.log"


@dataclass
class StageTimes:
    """What a stage's results cost the experiment that first computed them. A resumed run loads
    them back in seconds, so an experiment's wall time alone would hide its real cost; each
    entry's compute time is kept beside it and credited again when the same notebook loads it
    (a training resumed from a checkpoint counts from the resume)."""

    notebook: str
    replayed_s: float = 0.0  # compute time, recorded earlier, of this notebook's entries loaded back
    untimed_loads: int = 0  # entries loaded back that carry no time (written before times were kept)
    counted: set[str] = field(default_factory=set)  # keys computed or credited in this execution

    def computed(self, key: str) -> None:
        self.counted.add(key)

    def loaded(self, key: str, record: dict | None) -> None:
        """Credit an entry loaded back once, and only if an earlier execution of this notebook made it."""
        if key in self.counted:
            return
        self.counted.add(key)
        if record is None:
            self.untimed_loads += 1
        elif record.get("notebook") == self.notebook:
            self.replayed_s += float(record.get("seconds", 0.0))


#: The stage times of the experiment now running (set by ``book.findings.experiment``); None outside one.
STAGE_TIMES: ContextVar[StageTimes | None] = ContextVar("drpose3d_stage_times", default=None)


def to_plain(obj: Any) -> Any:
    """`obj` as tensors, numbers, strings and containers only: dataclasses become named
    records, numpy arrays tensors or lists of strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        fields = {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {_RECORD: f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(obj, np.ndarray):
        data = obj.tolist() if obj.dtype.kind in "USO" else torch.from_numpy(np.ascontiguousarray(obj))
        return {_ARRAY: obj.dtype.str if obj.dtype.kind != "O" else "O", "data": data}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Inverse of :func:`to_plain`; a record may name only a dataclass of this package."""
    if isinstance(obj, dict) and _RECORD in obj:
        module, _, name = str(obj[_RECORD]).partition(":")
        if module.split(".")[0] != "drpose3d":
            raise ValueError(f"a cache record names {obj[_RECORD]!r}, outside the drpose3d package")
        cls = importlib.import_module(module)
        for part in name.split("."):
            cls = getattr(cls, part)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise ValueError(f"a cache record names {obj[_RECORD]!r}, which is not a dataclass")
        return cls(**{k: from_plain(v) for k, v in obj["fields"].items()})
    if isinstance(obj, dict) and _ARRAY in obj:
        data = obj["data"]
        return np.asarray(data, dtype=obj[_ARRAY]) if isinstance(data, list) else data.numpy()
    if isinstance(obj, dict):
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(from_plain(v) for v in obj)
    return obj


class Cache:
    """Entries live under ``root/<kind>/<key>.pt`` beside a ``.sha256`` of their bytes and a
    ``.time.json`` of what computing them cost (see :class:`StageTimes`)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.pt"

    def save(self, kind: str, key: str, obj: Any) -> None:
        """Store `obj`; the same object gives the same bytes (no file name or time inside). Under
        ``torchrun`` only rank 0 writes (the ranks hold the same `obj`)."""
        if not writer():
            return
        buffer = io.BytesIO()
        torch.save(to_plain(obj), buffer)
        path = self.path(kind, key)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
        write_text_atomic(path.with_suffix(".sha256"), sha256_file(path))

    def load(self, kind: str, key: str) -> Any | None:
        """The entry, or None when there is none or it cannot be trusted (then it is removed)."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        check = path.with_suffix(".sha256")
        try:
            if check.read_text(encoding="utf-8").strip() != sha256_file(path):
                return self._heal(kind, key, "fails its checksum")
            return from_plain(torch.load(path, weights_only=True))
        except FileNotFoundError:
            return self._heal(kind, key, "has no checksum file")
        except (OSError, UnicodeDecodeError) as err:
            return self._heal(kind, key, f"cannot be read ({type(err).__name__})")
        except Exception as err:  # noqa: BLE001 - whatever an untrusted file makes the unpickler raise
            return self._heal(kind, key, f"holds something other than tensors and records ({type(err).__name__})")

    def _heal(self, kind: str, key: str, why: str) -> None:
        if not writer():  # rank 0 heals; another rank may be reading an entry rank 0 is writing
            return None
        message = f"cache entry {self.path(kind, key)} {why}; removed, recomputing it"
        print(f"drpose3d: {message}", file=sys.stderr)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / HEALED_LOG, "a", encoding="utf-8") as log:
            log.write(message + "\n")
        self.drop(kind, key)

    def drop(self, kind: str, key: str) -> None:
        if not writer():
            return
        path = self.path(kind, key)
        path.unlink(missing_ok=True)
        path.with_suffix(".sha256").unlink(missing_ok=True)
        path.with_suffix(".time.json").unlink(missing_ok=True)

    def sweep(self) -> int:
        """Remove the temp files that a killed run left behind; call it only when no other run
        writes to this cache. Returns how many were removed."""
        orphans = list(self.root.rglob(".*.tmp")) if self.root.exists() else []
        for tmp in orphans:
            tmp.unlink(missing_ok=True)
        return len(orphans)

    def stage(self, kind: str, key: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` cached under `kind` and `key` (a :mod:`drpose3d.engine.keys` key):
        computed once, then loaded.

        When `fn` takes a ``checkpoints`` argument it gets a handle whose per-epoch saves
        survive a crash, so calling this again continues the training where it stopped. Under
        ``torchrun`` rank 0 decides whether the entry is there, so that all ranks compute (and
        meet in the same collectives) or all load."""
        times = STAGE_TIMES.get()
        hit = self.load(kind, key) if writer() else None
        if agree(hit is not None) and hit is None:  # rank 0 loaded it: it is complete on disk
            hit = self.load(kind, key)
            if hit is None:
                raise RuntimeError(f"{self.path(kind, key)}: rank 0 read it, this rank cannot (share --out)")
        if hit is not None:
            if times is not None:
                times.loaded(key, self._time_record(kind, key))
            return hit
        if "checkpoints" in inspect.signature(fn).parameters:
            kwargs["checkpoints"] = Checkpoints(self, key)
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        if times is not None:
            times.computed(key)
        record = {"seconds": round(time.perf_counter() - started, 1), "notebook": times.notebook if times else None}
        if writer():  # first: an entry has one
            write_text_atomic(self.path(kind, key).with_suffix(".time.json"), json.dumps(record))
        self.save(kind, key, result)
        self.drop("checkpoints", key)
        return result

    def _time_record(self, kind: str, key: str) -> dict | None:
        """The entry's compute time and notebook, or None when none was kept or it is unreadable
        (a time is a statistic: a damaged one is not worth healing the entry for)."""
        try:
            record = json.loads(self.path(kind, key).with_suffix(".time.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class Checkpoints:
    """Where one training run keeps its latest resumable state (model, optimiser, RNGs)."""

    cache: Cache
    key: str

    def load(self) -> dict | None:
        return self.cache.load("checkpoints", self.key)

    def save(self, state: dict) -> None:
        self.cache.save("checkpoints", self.key, state)
