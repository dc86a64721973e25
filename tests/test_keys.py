"""Cache keys are derived from what made an entry: the content of its inputs and the source of the
code that computed it, so neither a mislabelled input nor an edited network can serve an old result."""

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from drpose3d.book.findings import gt_splits
from drpose3d.engine.keys import code_digest, module_closure, tensor_digest
from drpose3d.run import resolve
from drpose3d.stages.designs import baseline
from drpose3d.stages.dpnet import dpnet
from drpose3d.stages.identity import lifter_seed
from drpose3d.stages.pipeline import open_context
from drpose3d.stages.pose2d import pose2d
from drpose3d.stages.prcnn import prcnn

ROOT = Path(__file__).resolve().parents[1]


def test_a_tensor_is_keyed_by_its_content_dtype_and_shape():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    assert tensor_digest(t) == tensor_digest(t.clone()) == tensor_digest(t.t().contiguous().t())
    assert tensor_digest(t) != tensor_digest(t.reshape(4, 3))  # same bytes, another shape
    assert tensor_digest(t) != tensor_digest(t.double())
    moved = t.clone()
    moved[2, 3] += 1e-3
    assert tensor_digest(t) != tensor_digest(moved)
    assert tensor_digest(t, None) != tensor_digest(t) and tensor_digest(torch.ones(2, dtype=torch.bool))


def test_each_stage_is_keyed_by_the_code_it_runs_and_no_other():
    """The hourglass is code of the 2D pose stage only; the lifter's network of DPNet only."""
    assert "drpose3d.models.hourglass" in module_closure("drpose3d.stages.pose2d")
    assert "drpose3d.models.hourglass" not in module_closure("drpose3d.stages.prcnn")
    assert "drpose3d.models.dpnet" in module_closure("drpose3d.stages.dpnet")
    assert "drpose3d.models.dpnet" not in module_closure("drpose3d.stages.pose2d")
    assert "drpose3d.presets" not in module_closure("drpose3d.worlds.spec")  # imported for annotations only
    assert len({code_digest(pose2d), code_digest(prcnn), code_digest(dpnet)}) == 3
    with pytest.raises(ValueError, match="outside the drpose3d package"):
        code_digest(test_each_stage_is_keyed_by_the_code_it_runs_and_no_other)


_TABLE1 = """
from drpose3d.book.experiments import table1_upper_bound
from drpose3d.run import resolve
table1_upper_bound(resolve("tiny", "synthetic", 1, "cpu", {out!r}))
"""


def _entries(out: Path) -> set[Path]:
    return {p.relative_to(out / "cache") for p in (out / "cache").rglob("*.pt") if p.parent.name != "checkpoints"}


@pytest.mark.slow
def test_an_edited_model_file_recomputes_exactly_the_stages_that_run_it(tmp_path):
    """Table 1 on a copy of the package: a comment added to the hourglass retrains the hourglass,
    the PRCNN fed its heatmaps and the lifters fed that PRCNN's rankings (two: the tiny preset trains
    two lifter seeds a row); the world, the PRCNN fed heatmaps of the ground truth and the other
    lifters are loaded (the crops are rendered as trained on, never stored). A comment in the
    lifter's network retrains the twelve lifters (six rows, two lifter seeds) and nothing upstream."""
    shutil.copytree(ROOT / "drpose3d", tmp_path / "drpose3d", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "TQDM_DISABLE": "1"}

    def run() -> Counter:
        before = _entries(out) if out.exists() else set()
        subprocess.run([sys.executable, "-c", _TABLE1.format(out=str(out))], env=env, cwd=tmp_path, check=True)
        return Counter(p.parts[0] for p in _entries(out) - before)

    # two PRCNNs, each with its two subject halves (cross-fitted training rankings): fed the
    # hourglass' heatmaps, and fed heatmaps drawn from the ground-truth 2D
    assert run() == {"world": 1, "pose2d": 1, "prcnn": 6, "dpnet": 12}
    assert run() == {}  # nothing edited: everything loaded
    with open(tmp_path / "drpose3d" / "models" / "hourglass.py", "a") as f:
        f.write("# an edit that changes no number\n")
    assert run() == {"pose2d": 1, "prcnn": 3, "dpnet": 2}  # the ground-truth-heatmap PRCNNs do not run it
    with open(tmp_path / "drpose3d" / "models" / "dpnet.py", "a") as f:
        f.write("# another\n")
    assert run() == {"dpnet": 12}


@pytest.mark.slow
def test_a_lifter_replicate_is_a_new_entry_and_replicate_zero_is_the_pipelines_own(tmp_path):
    """Issue 30, item 5: Table 1's extra lifter seeds are new cache entries beside the pipeline seed's
    own lifter, whose key (and so every cached run) they leave unchanged."""
    ctx = open_context(resolve("tiny", "synthetic", 1, "cpu", tmp_path), 0)
    gt, cfg = gt_splits(ctx), baseline(ctx.run.preset.width)
    own = ctx.gt2d_lifter(cfg, gt, "own")
    dpnet_entries = len([p for p in _entries(tmp_path) if p.parts[0] == "dpnet"])
    assert ctx.gt2d_lifter(cfg, gt, "again", replicate=0)["mpjpe"] == own["mpjpe"]  # loaded: the same entry
    other = ctx.gt2d_lifter(cfg, gt, "replicate", replicate=1)
    assert len([p for p in _entries(tmp_path) if p.parts[0] == "dpnet"]) == dpnet_entries + 1
    assert other["mpjpe"] != own["mpjpe"]  # other initial weights and batch order
    assert lifter_seed(2, 0) == 2 and lifter_seed(2, 1) not in range(100)  # no replicate reuses a pipeline seed
    with pytest.raises(ValueError, match="replicate is -1"):
        lifter_seed(0, -1)
