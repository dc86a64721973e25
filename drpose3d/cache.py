"""Content-addressed artefacts keyed by configuration, and the one wrapper that makes a stage
cached and resumable.

Stage functions (``drpose3d.stages``) never see the cache: :meth:`Cache.stage` looks their
result up by key, or calls them with a :class:`Checkpoints` handle (when they take one) so an
interrupted training resumes, stores the result and drops the checkpoint. A crash never leaves
a half-written entry (temp file + rename), and an entry whose checksum fails is reported and
recomputed rather than trusted.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from drpose3d.fileio import atomic_path, sha256_file, write_text_atomic

T = TypeVar("T")


def config_key(*parts: Any) -> str:
    """A stable 20-hex-digit key for any JSON-able description (dataclasses via __dict__)."""
    text = json.dumps(parts, sort_keys=True, default=lambda o: getattr(o, "__dict__", str(o)))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class Cache:
    """Entries live under ``root/<kind>/<key>.pt`` beside a ``.sha256`` of their bytes."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.pt"

    def save(self, kind: str, key: str, obj: Any) -> None:
        path = self.path(kind, key)
        with atomic_path(path) as tmp:
            torch.save(obj, tmp)
        write_text_atomic(path.with_suffix(".sha256"), sha256_file(path))

    def load(self, kind: str, key: str) -> Any | None:
        path = self.path(kind, key)
        check = path.with_suffix(".sha256")
        if not path.exists():
            return None
        if not check.exists() or check.read_text().strip() != sha256_file(path):
            warnings.warn(f"cache entry {path} fails its checksum; recomputing it", stacklevel=2)
            self.drop(kind, key)
            return None
        return torch.load(path, weights_only=False)

    def drop(self, kind: str, key: str) -> None:
        path = self.path(kind, key)
        path.unlink(missing_ok=True)
        path.with_suffix(".sha256").unlink(missing_ok=True)

    def stage(self, kind: str, key_parts: tuple, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` cached under `kind` by `key_parts`: computed once, then loaded.

        When `fn` takes a ``checkpoints`` argument it gets a handle whose per-epoch saves
        survive a crash, so calling this again continues the training where it stopped."""
        key = config_key(kind, key_parts)
        hit = self.load(kind, key)
        if hit is not None:
            return hit
        if "checkpoints" in inspect.signature(fn).parameters:
            kwargs["checkpoints"] = Checkpoints(self, key)
        result = fn(*args, **kwargs)
        self.save(kind, key, result)
        self.drop("checkpoints", key)
        return result


@dataclass(frozen=True)
class Checkpoints:
    """Where one training run keeps its latest resumable state (model, optimiser, RNGs)."""

    cache: Cache
    key: str

    def load(self) -> dict | None:
        return self.cache.load("checkpoints", self.key)

    def save(self, state: dict) -> None:
        self.cache.save("checkpoints", self.key, state)
