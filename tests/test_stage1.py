"""The measures that say whether pixels carry information (issue 19): the hourglass' left/right
swap rate, the 2D-only ranking floor, and protocol #3's stage-1 networks kept off the held-out view."""

import pytest
import torch

from drpose3d.engine.train import TrainConfig, Trained
from drpose3d.images.sets import ImageSet
from drpose3d.models.hourglass import HourglassConfig
from drpose3d.models.prcnn import PRCNNConfig
from drpose3d.pose.ranking import discretise, pairwise_accuracy, ranking_matrix
from drpose3d.pose.skeleton import HOURGLASS_JOINTS, flip_permutation
from drpose3d.stages import pose2d as pose2d_stage
from drpose3d.stages import prcnn as prcnn_stage
from drpose3d.stages.pose2d import lr_swap_rate
from drpose3d.worlds.generated import generate_world
from drpose3d.worlds.samples import build_samples, projected_2d, protocol_split

_HG = list(HOURGLASS_JOINTS)


def _people(n=200):
    g = torch.Generator().manual_seed(0)
    truth = torch.rand(n, 16, 2, generator=g) * 400 + 300
    boxes = torch.tensor([[200.0, 200.0, 600.0]]).expand(n, 3)
    return truth, boxes


def test_lr_swap_rate_counts_pairs_nearer_the_swapped_truth():
    truth, boxes = _people()
    assert lr_swap_rate(truth, truth, boxes) == 0.0
    mirrored = truth[:, flip_permutation(HOURGLASS_JOINTS)]
    apart = (truth[:, [4, 5, 6, 10, 11, 12]] - truth[:, [1, 2, 3, 13, 14, 15]]).norm(dim=-1) > 0.05 * boxes[:, None, 2]
    assert lr_swap_rate(mirrored, truth, boxes) == 1.0
    one_pair = truth.clone()
    wrists = [HOURGLASS_JOINTS.index(13), HOURGLASS_JOINTS.index(16)]
    one_pair[:, wrists] = truth[:, wrists[::-1]]
    expected = float(apart[:, 5].sum() / apart.sum())  # the wrists are the last pair
    assert abs(lr_swap_rate(one_pair, truth, boxes) - expected) < 1e-6
    # both predictions on one spot halfway between: neither nearer, not a swap
    both = truth.clone()
    both[:, wrists] = truth[:, wrists].mean(1, keepdim=True)
    assert lr_swap_rate(both, truth, boxes) == 0.0


def _world():
    mocap = generate_world(subjects=("S1", "S5", "S9"), actions=("Walk", "PickUp", "Wave"), repetitions=1,
                           duration_s=2.0, fps=25)  # fmt: skip
    samples = build_samples(mocap, stride=1)
    return protocol_split(samples, 1, ("S1", "S5"), ("S9",))


def test_the_2d_only_floor_learns_what_the_2d_pose_says_about_depth():
    train, test = _world()
    joints = {"train": projected_2d(train)[:, _HG], "test": projected_2d(test)[:, _HG]}
    truth = {k: ranking_matrix(s.pose3d[:, _HG, 2], 20.0) for k, s in (("train", train), ("test", test))}
    held = train.frame % 5 == 0  # every 5th frame held out, every other one of them scored
    scored = held & (train.frame % 10 == 0)
    val = prcnn_stage.Validation(scored, truth["train"][scored], 0.02)
    cfg = TrainConfig(epochs=40, batch_size=64, lr=1e-3, patience=2, drops=1)
    ranked = prcnn_stage.floor_2d_only(joints, truth["train"], 128, cfg, 0, torch.device("cpu"), None, val, held)
    p = ranked.probabilities
    scores = [h["val_acc"] for h in ranked.history]
    assert max(scores) == scores[ranked.best_epoch - 1]  # the best epoch's weights rank the splits
    assert ranked.history[-1]["steps"] == len(scores) * -(-int((~held).sum()) // 64)  # trained on the rest only
    assert p["test"].shape == (len(test), 16, 16) and p["test"].dtype == torch.float16
    assert torch.allclose(p["test"].float() + p["test"].float().transpose(1, 2), torch.ones(1), atol=2e-3)
    accuracy = float(pairwise_accuracy(discretise(p["test"].float(), 0.02), truth["test"]).mean())
    ties = float(pairwise_accuracy(torch.full_like(truth["test"], 0.5), truth["test"]).mean())
    assert accuracy > 0.7 and accuracy > ties + 0.3


def test_stage1_networks_learn_only_from_the_rows_they_are_given(monkeypatch):
    """Protocol #3's hourglass and PRCNN see the training views only: the stages pass exactly
    the masked rows to the trainer, and still predict on every row."""
    seen = []

    def spy(model, data, loss, cfg, seed, device, checkpoints=None, desc="", validate=None, on_epoch=None):
        seen.append((desc, next(iter(data.values())).shape[0], validate(model) if validate else None))
        return Trained([], [], 1)

    monkeypatch.setattr(pose2d_stage, "fit", spy)
    monkeypatch.setattr(prcnn_stage, "fit", spy)
    n, r = 12, 16
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 255, (n, 3, r, r), dtype=torch.uint8, generator=g)
    images = ImageSet(pixels, torch.tensor([[0.0, 0.0, 100.0]]).repeat(n, 1), torch.rand(n, 16, 2, generator=g) * r)
    views = torch.arange(n) % 4 != 3
    truth = {"train": images.joints, "test": images.joints}
    held = torch.arange(n) == 3  # a held-out row, scored after every epoch
    one = TrainConfig(epochs=1, batch_size=4)
    found = pose2d_stage.pose2d({"train": images, "test": images}, truth, HourglassConfig(1, 8, 1), one, 0,
                                torch.device("cpu"), None, views, held)  # fmt: skip
    assert seen[-1][:2] == ("hourglass", int(views.sum())) and found.detections["train"].joints.shape[0] == n
    assert list(seen[-1][2]) == ["pck10", "px_error", "lr_swap_rate"]  # PCK monitored: higher is better
    heat = pose2d_stage.heatmapper(found, torch.device("cpu"))
    ranking = ranking_matrix(torch.rand(n, 16, generator=g), 0.0)
    val = prcnn_stage.Validation(held, ranking[held], 0.02)
    ranked = prcnn_stage.prcnn({"train": images, "test": images}, heat, ranking, PRCNNConfig(18, True, 4), one, 0,
                               torch.device("cpu"), None, views, val)  # fmt: skip
    assert seen[-1][:2] == ("PRCNN-18", int(views.sum())) and ranked.probabilities["train"].shape[0] == n
    assert list(seen[-1][2]) == ["val_acc", "train_acc"] and 0 <= seen[-1][2]["val_acc"] <= 100


def test_stage1_views_thin_frames_in_every_view_and_keep_protocol3_off_the_held_out_view():
    from dataclasses import replace
    from types import SimpleNamespace

    from drpose3d.presets import get_preset
    from drpose3d.stages.pipeline import Context
    from drpose3d.worlds.samples import HELD_OUT_CAMERA

    train, test = _world()
    preset = replace(get_preset("tiny"), stride=1, cnn_stride=2)
    ctx = Context(SimpleNamespace(preset=preset), 0, SimpleNamespace(stride=1), train, test, None)
    p1, p3 = ctx.stage1_views(1), ctx.stage1_views(3)
    assert torch.equal(p1, train.frame % 2 == 0) and set(train.camera[p1].tolist()) == {0, 1, 2, 3}
    assert torch.equal(p3, p1 & (train.camera != HELD_OUT_CAMERA)) and HELD_OUT_CAMERA not in train.camera[p3]
    assert 0.45 < float(p1.float().mean()) < 0.55


@pytest.mark.slow
def test_the_paper_preset_stage1_data_path_keeps_memory_flat_in_the_world_size():
    """Issue 29: stored, the paper world's crops alone would be 132 GB (672,000 x 3 x 256 x 256 bytes)
    and the heatmaps PRCNN reads 176 GB more; rendered and recomputed batch by batch, the whole data
    path with the paper's networks stays under 4 GB (2.2 GB measured on 2 cores, 47 s, for one batch of 4)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("stage1_memory.py")
    proc = subprocess.run([sys.executable, str(script), "4", "4"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    samples, peak_mb = (int(v) for v in proc.stdout.split()[-2:])
    assert samples >= 200_000 and peak_mb < 4000, (samples, peak_mb)


def test_prcnn_fed_heatmaps_of_the_ground_truth_reads_them_at_each_crops_joints():
    """Table 1's second reading of Sec. 3.1: the heatmaps are drawn from the crops' own 2D, row by row,
    quantised like the hourglass' (uint8, at half the crop)."""
    from drpose3d.images.sets import ImageSet as Set

    n, r = 5, 32
    joints = torch.rand(n, 16, 2, generator=torch.Generator().manual_seed(3)) * (r - 4) + 2
    crops = Set(torch.zeros(n, 3, r, r, dtype=torch.uint8), torch.tensor([[0.0, 0.0, 100.0]]).repeat(n, 1), joints)
    rows = torch.tensor([4, 1])
    heat = prcnn_stage.truth_heatmaps(crops, rows, crops.pixels(rows, torch.device("cpu")))
    assert heat.dtype == torch.uint8 and heat.shape == (2, 16, r // 2, r // 2)
    peak = heat.flatten(2).argmax(-1)  # the brightest heatmap pixel of each joint: at the joint, halved
    found = torch.stack((peak % (r // 2), peak // (r // 2)), -1).float() + 0.5
    assert (found - joints[rows] / 2).abs().max() <= 0.71  # within one heatmap pixel
    assert int(heat.amax()) >= 230  # a joint's own pixel is near 1


def _context(cnn_stride: int = 1):
    from dataclasses import replace
    from types import SimpleNamespace

    from drpose3d.presets import get_preset
    from drpose3d.stages.pipeline import Context

    train, test = _world()
    preset = replace(get_preset("tiny"), stride=1, cnn_stride=cnn_stride)
    world = SimpleNamespace(stride=1, train_subjects=("S1", "S5"))
    return Context(SimpleNamespace(preset=preset), 0, world, train, test, None)


def test_stage1_validation_holds_out_whole_training_clips_apart_from_what_the_networks_fit(monkeypatch):
    from drpose3d.stages import splits

    ctx = _context()
    fit_rows, val = ctx.stage1_split(1)
    assert not (fit_rows & val).any() and val.any()
    held_clips = set(ctx.train.sequence[val].tolist())
    assert not held_clips & set(ctx.train.sequence[fit_rows].tolist())  # no clip on both sides
    clips = set(ctx.train.sequence.tolist())
    assert len(held_clips) == len(clips) // splits.VALIDATION_EVERY  # one clip in five
    monkeypatch.setattr(splits, "VALIDATION_MAX", 7)
    _, few = ctx.stage1_split(1)
    assert 4 <= int(few.sum()) <= 7  # evenly thinned to at most the cap
    monkeypatch.setattr(splits, "VALIDATION_EVERY", 2)  # the halves have 3 clips each: hold one out
    for half in (0, 1):
        fit_half, val_half = ctx.stage1_split(1, half)
        assert val_half.any() and not (fit_half & val_half).any()
        names = {ctx.train.subject_names[i] for i in ctx.train.subject[fit_half | val_half].tolist()}
        assert names == {("S1", "S5")[half]}


def test_lifters_train_on_rankings_cross_fitted_between_the_subject_halves(monkeypatch):
    """Each training subject's rankings come from the PRCNN trained on the other half; the test set's
    from the model trained on both: a lifter never trains on rankings of frames their PRCNN saw."""
    from drpose3d.paper import Fig5a
    from drpose3d.pose.ranking import ranking_matrix as rank
    from drpose3d.stages import pipeline

    ctx = _context()
    truth = {"train": rank(ctx.train.pose3d[:, _HG, 2], 20.0), "test": rank(ctx.test.pose3d[:, _HG, 2], 20.0)}
    monkeypatch.setattr(pipeline, "gt_ranking", lambda s, eps: rank(s.pose3d[:, _HG, 2], eps))

    def fake(design, protocol, true_heatmaps, half=None):  # model "full" is right, a half model wrong everywhere
        flip = half is not None
        return prcnn_stage.Ranked({k: (1 - v if flip else v).half() for k, v in truth.items()}, [], 1), f"k{half}"

    monkeypatch.setattr(ctx, "_prcnn", fake)
    full, crossed = ctx.rankings(Fig5a.PRCNN_RESNET34), ctx.lifter_rankings()
    assert full.train_accuracy == 100 and full.accuracy == 100
    assert crossed.accuracy == 100  # the test set: the full model
    off = ~torch.eye(16, dtype=torch.bool)
    ties = float((truth["train"][:, off] == 0.5).float().mean())  # a flipped tie stays a tie
    assert 0 < ties < 0.5 and crossed.train_accuracy == pytest.approx(100 * ties, abs=1e-3)
    assert crossed.key != full.key
