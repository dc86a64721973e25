"""Content-addressed artefacts keyed by configuration: atomic writes, checksummed reads.

A crash never leaves a half-written entry (temp file + rename), and an entry whose
checksum does not match is reported and recomputed rather than trusted.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any, Callable

import torch

from .fileio import atomic_path, sha256_file, write_text_atomic


def config_key(*parts: Any) -> str:
    """A stable 20-hex-digit key for any JSON-able description (dataclasses via __dict__)."""
    text = json.dumps(parts, sort_keys=True, default=lambda o: getattr(o, "__dict__", str(o)))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class Cache:
    """Entries live under ``root/<kind>/<key>.json`` (results) or ``.pt`` (tensors, checkpoints)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / f"{key}{suffix}"

    def get_json(self, kind: str, key: str) -> Any | None:
        path = self.path(kind, key, ".json")
        if not path.exists():
            return None
        try:
            entry = json.loads(path.read_text())
            if entry["sha256"] == _digest(entry["payload"]):
                return entry["payload"]
        except (json.JSONDecodeError, KeyError, TypeError):
            pass
        warnings.warn(f"cache entry {path} is corrupted; recomputing it", stacklevel=2)
        path.unlink()
        return None

    def put_json(self, kind: str, key: str, payload: Any) -> None:
        write_text_atomic(self.path(kind, key, ".json"), json.dumps({"sha256": _digest(payload), "payload": payload}))

    def json(self, kind: str, key: str, compute: Callable[[], Any]) -> Any:
        """The cached payload, or `compute()` stored under `key`."""
        hit = self.get_json(kind, key)
        if hit is None:
            hit = compute()
            self.put_json(kind, key, hit)
        return hit

    def save_tensor(self, kind: str, key: str, obj: Any) -> None:
        path = self.path(kind, key, ".pt")
        with atomic_path(path) as tmp:
            torch.save(obj, tmp)
        write_text_atomic(path.with_suffix(".sha256"), sha256_file(path))

    def load_tensor(self, kind: str, key: str) -> Any | None:
        path = self.path(kind, key, ".pt")
        check = path.with_suffix(".sha256")
        if not path.exists():
            return None
        if not check.exists() or check.read_text().strip() != sha256_file(path):
            warnings.warn(f"cache entry {path} fails its checksum; recomputing it", stacklevel=2)
            path.unlink()
            check.unlink(missing_ok=True)
            return None
        return torch.load(path, weights_only=False)

    def drop_tensor(self, kind: str, key: str) -> None:
        path = self.path(kind, key, ".pt")
        path.unlink(missing_ok=True)
        path.with_suffix(".sha256").unlink(missing_ok=True)
