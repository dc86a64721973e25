"""Cache keys derived from what made an entry: its configuration, the content of the tensors it
consumed, the keys of the entries upstream of it, and the source of the package modules whose
code computed it.

No key is a label a caller types: a mistyped label would silently reuse another model, and a key
without the code would serve an old result after a network or a loss was edited. Code enters a
key as the digest of a stage module's static import closure inside the package, so an edit to
``models/hourglass.py`` (even a comment) changes the keys of the 2D pose stage and, through the
upstream keys, of everything built on it, and leaves the lifters on ground-truth 2D alone.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import torch

PACKAGE = __name__.split(".")[0]
_ROOT = Path(__file__).resolve().parents[1]  # the package, above engine/


def config_key(*parts: Any) -> str:
    """A stable 20-hex-digit key for any JSON-able description (dataclasses via __dict__)."""
    text = json.dumps(parts, sort_keys=True, default=lambda o: getattr(o, "__dict__", str(o)))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def tensor_digest(*tensors: torch.Tensor | None) -> str:
    """A short sha256 of tensors' dtypes, shapes and bytes: keys an input by what it holds, not by
    what a caller calls it (two equal ranking tensors share one trained lifter)."""
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:20]


def _module_file(name: str) -> Path | None:
    """The source file of package module `name`, or None when it is not one (a name imported
    from a module rather than a submodule)."""
    base = _ROOT.joinpath(*name.split(".")[1:])
    return next((c for c in (base.with_suffix(".py"), base / "__init__.py") if c.is_file()), None)


def _imports(name: str) -> set[str]:
    """Package modules that module `name` imports anywhere in its source (lazy imports too)."""
    tree = ast.parse(_module_file(name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # annotations only: no code of these modules runs
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:  # `from drpose3d import paper` names a module, `from x import f` a function
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _module_file(sub) else node.module)
    return {m for m in found if _module_file(m)}


@cache
def module_closure(name: str) -> tuple[str, ...]:
    """`name` and every package module it imports, transitively, sorted."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_imports(module) - seen)
    return tuple(sorted(seen))


@cache
def _closure_digest(name: str) -> str:
    h = hashlib.sha256()
    for module in module_closure(name):
        h.update(module.encode() + b"\0" + _module_file(module).read_bytes() + b"\0")
    return h.hexdigest()[:20]


def code_digest(fn: Callable[..., Any]) -> str:
    """The digest of the source of the package module defining `fn` and of every package module
    it imports: what a cached result of `fn` must be recomputed after. Read once per process."""
    name = fn.__module__
    if name.split(".")[0] != PACKAGE or name not in sys.modules:
        raise ValueError(f"{fn.__qualname__} is defined in {name}, outside the {PACKAGE} package")
    return _closure_digest(name)
