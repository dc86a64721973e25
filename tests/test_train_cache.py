import json
import time
from pathlib import Path

import pytest
import torch

from drpose3d.engine.cache import HEALED_LOG, STAGE_TIMES, Cache, Checkpoints, StageTimes, from_plain, to_plain
from drpose3d.engine.fileio import sha256_file
from drpose3d.engine.keys import config_key
from drpose3d.engine.train import TrainConfig, fit
from drpose3d.formats.mocap import Mocap
from drpose3d.models.dpnet import Lifter, LifterConfig, lifter_loss
from drpose3d.run import resolve_device


def _loss(model, b):
    return lifter_loss(model(b["pose2d"], b["ranking"]), b["pose3d"], b["depth"])


def _data():
    g = torch.Generator().manual_seed(1)
    return {
        "pose2d": torch.randn(300, 32, generator=g),
        "ranking": torch.randn(300, 120, generator=g),
        "pose3d": torch.randn(300, 48, generator=g),
        "depth": torch.randn(300, 16, generator=g),
    }


def _model():
    torch.manual_seed(7)
    return Lifter(LifterConfig(width=32))


def test_killed_training_resumes_bit_identically(tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=4, batch_size=64)
    ref = _model()
    fit(ref, _data(), _loss, cfg, seed=3, device=torch.device("cpu"))

    cache = Cache(tmp_path)
    real_save, calls = Cache.save, []

    def crash_after_two(self, *a):
        real_save(self, *a)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Cache, "save", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        fit(_model(), _data(), _loss, cfg, seed=3, device=torch.device("cpu"), checkpoints=Checkpoints(cache, "k"))
    monkeypatch.setattr(Cache, "save", real_save)
    resumed = Lifter(LifterConfig(width=32))  # different init: the checkpoint must overwrite it
    handle = Checkpoints(cache, "k")
    losses = fit(resumed, _data(), _loss, cfg, seed=3, device=torch.device("cpu"), checkpoints=handle).losses
    assert len(losses) == 4
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:-3] + b"xyz"), "fails its checksum"),
        (lambda p: p.with_suffix(".sha256").write_bytes(b"\xff\xfe not utf-8"), "cannot be read"),
        (lambda p: p.with_suffix(".sha256").unlink(), "has no checksum file"),
        (lambda p: p.write_bytes(p.read_bytes()[:40]), "fails its checksum"),
    ],
)
def test_a_damaged_entry_is_reported_removed_and_recomputed(tmp_path, capsys, damage, why):
    cache = Cache(tmp_path)
    cache.save("t", "k", {"x": torch.arange(3)})
    path = cache.path("t", "k")
    damage(path)
    assert cache.load("t", "k") is None
    assert not path.exists() and not path.with_suffix(".sha256").exists()
    assert why in capsys.readouterr().err and str(path) in (tmp_path / HEALED_LOG).read_text()
    assert cache.stage("t", "k", lambda: [1, 2]) == [1, 2]  # and the next run recomputes it


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path(_Payload.target),))


def test_a_crafted_pickle_in_the_cache_runs_nothing_and_is_recomputed(tmp_path, capsys):
    """Whoever can write a cache file can write its checksum: loading must not unpickle code."""
    cache = Cache(tmp_path)
    path = cache.path("t", "k")
    path.parent.mkdir(parents=True)
    _Payload.target = str(tmp_path / "pwned")
    torch.save({"x": _Payload()}, path)
    path.with_suffix(".sha256").write_text(sha256_file(path))
    assert cache.stage("t", "k", lambda: {"x": 1}) == {"x": 1}
    assert not (tmp_path / "pwned").exists()
    assert "holds something other than tensors and records" in capsys.readouterr().err


def test_records_rebuild_the_package_dataclasses_and_nothing_else(tmp_path):
    mocap = Mocap(torch.zeros(2, 17, 3), ["S1", "S1"], ["Walk", "Walk"], torch.zeros(2, dtype=torch.long), 50.0)
    back = from_plain(to_plain({"m": mocap, "t": (1, "a")}))
    assert isinstance(back["m"], Mocap) and back["t"] == (1, "a")
    assert back["m"].subject.tolist() == ["S1", "S1"] and back["m"].subject.dtype.kind == "U"
    with pytest.raises(ValueError, match="outside the drpose3d package"):
        from_plain({"__dataclass__": "os:system", "fields": {}})
    with pytest.raises(ValueError, match="not a dataclass"):
        from_plain({"__dataclass__": "drpose3d.engine.cache:Cache", "fields": {}})


def test_entries_are_byte_reproducible_and_orphans_are_swept(tmp_path):
    a, b = Cache(tmp_path / "a"), Cache(tmp_path / "b")
    obj = {"w": torch.arange(6.0), "cfg": (1, "x"), "n": None}
    a.save("t", "k", obj)
    b.save("t", "k", obj)
    assert a.path("t", "k").read_bytes() == b.path("t", "k").read_bytes()
    (tmp_path / "a" / "t" / ".k.pt.abc123.tmp").write_bytes(b"half")
    assert a.sweep() == 1 and a.load("t", "k")["cfg"] == (1, "x")


def test_a_stage_runs_once_then_loads_and_resumes_through_its_checkpoints(tmp_path):
    """The wrapper hands a stage that takes `checkpoints` a handle, caches its result by key and
    drops the checkpoint once the result is stored."""
    cache, calls = Cache(tmp_path), []

    def stage(n: int, checkpoints: Checkpoints | None = None) -> list[int]:
        calls.append(n)
        state = checkpoints.load() or {"done": 0}
        checkpoints.save({"done": state["done"] + 1})
        if len(calls) == 1:
            raise KeyboardInterrupt  # killed after its first checkpoint
        return [n, state["done"]]

    with pytest.raises(KeyboardInterrupt):
        cache.stage("demo", "cfg1", stage, 5)
    assert cache.stage("demo", "cfg1", stage, 5) == [5, 1]  # resumed from the checkpoint
    assert cache.stage("demo", "cfg1", stage, 5) == [5, 1] and len(calls) == 2  # then loaded, not rerun
    assert not list((tmp_path / "checkpoints").glob("*.pt"))
    assert cache.stage("demo", "cfg2", lambda n: n * 2, 5) == 10  # another key, another entry; no checkpoints


def test_a_resumed_notebook_is_credited_its_own_stages_compute_time_and_no_other(tmp_path):
    """A resumed run loads in seconds what took minutes: the notebook that computed an entry gets
    its recorded compute time back when it loads it, another notebook sharing the entry does not,
    and an entry from before times were kept is counted as untimed."""
    cache = Cache(tmp_path)

    def under(notebook: str, kind: str, calls: int = 1) -> StageTimes:
        times = StageTimes(notebook)
        token = STAGE_TIMES.set(times)
        try:
            for _ in range(calls):
                cache.stage(kind, "k1", lambda: [time.sleep(0.3), 2][1])
        finally:
            STAGE_TIMES.reset(token)
        return times

    first = under("fig5a", "demo", calls=2)
    assert first.replayed_s == 0 and first.untimed_loads == 0  # computed, then loaded back: not credited
    record = json.loads(cache.path("demo", "k1").with_suffix(".time.json").read_text())
    assert record["notebook"] == "fig5a" and record["seconds"] >= 0.3
    assert under("fig5a", "demo", calls=2).replayed_s == record["seconds"]  # credited once
    assert under("table2", "demo").replayed_s == 0
    cache.save("old", "k1", 2)  # an entry written without its time
    assert under("fig5a", "old").untimed_loads == 1
    cache.drop("demo", "k1")
    assert not list((tmp_path / "demo").iterdir())


def test_config_key_is_stable_and_sensitive():
    assert config_key({"a": 1, "b": 2}) == config_key({"b": 2, "a": 1}) != config_key({"a": 1, "b": 3})


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device is"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")


def test_cache_key_fields_precision_only_when_not_fp32_and_never_compile():
    base = TrainConfig(epochs=3)
    assert base.key() == {"epochs": 3, "batch_size": 64, "lr": 1e-3, "lr_final_fraction": 0.1, "optimizer": "adam"}
    assert TrainConfig(epochs=3, compile=True).key() == base.key()  # execution only
    assert TrainConfig(epochs=3, precision="bf16").key() == base.key() | {"precision": "bf16"}
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(epochs=3, precision="fp16")


def test_bf16_autocast_runs_the_model_in_bfloat16_and_keeps_fp32_weights():
    seen = []

    def loss(model, b):
        out = model(b["pose2d"], b["ranking"])
        seen.append(out["poses"][-1].dtype)
        return lifter_loss(out, b["pose3d"], b["depth"])

    model = _model()
    losses = fit(
        model, _data(), loss, TrainConfig(epochs=6, batch_size=64, precision="bf16"), seed=0, device=torch.device("cpu")
    ).losses
    assert set(seen) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses[-1] < 0.8 * losses[0]


def test_compiled_training_matches_eager():
    cfg = LifterConfig(width=32, dropout=0.0)  # compiled graphs draw their own random numbers
    losses = []
    for compile_ in (False, True):
        torch.manual_seed(7)
        losses.append(
            fit(
                Lifter(cfg),
                _data(),
                _loss,
                TrainConfig(epochs=3, batch_size=64, compile=compile_),
                seed=0,
                device=torch.device("cpu"),
            ).losses
        )
    # Adam's first steps amplify rounding-level gradient differences to ~lr per weight, so
    # compare the training curves, not the weights
    assert torch.allclose(torch.tensor(losses[0]), torch.tensor(losses[1]), rtol=1e-3)
    assert losses[0][-1] < losses[0][0]


def test_convolutional_models_train_and_predict_channels_last():
    from drpose3d.engine.train import predict
    from drpose3d.models.hourglass import StackedHourglass

    torch.manual_seed(0)
    model = StackedHourglass(1, 8, joints=4, depth=2)
    reference = StackedHourglass(1, 8, joints=4, depth=2)
    reference.load_state_dict(model.state_dict())
    images = torch.rand(6, 3, 16, 16)
    out = predict(model, lambda m, b: m(b["x"])[-1], {"x": images}, torch.device("cpu"))
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in model.parameters() if p.dim() == 4)
    assert torch.allclose(out, reference.eval()(images)[-1], atol=1e-5)


def _scripted(scores):
    """A validation whose successive scores are `scores`, recording the weights it saw."""
    seen = []

    def validate(model):
        seen.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"val": scores[len(seen) - 1], "other": -1.0}

    return validate, seen


def test_early_stopping_drops_the_rate_on_a_plateau_stops_after_the_last_drop_and_keeps_the_best():
    # best at epoch 2; after 2 stalled epochs the rate drops (from epoch 2's weights), two more
    # stall, it drops again, two more stall and training stops: 8 of the 20 epochs run
    scores = [0.1, 0.5, 0.4, 0.3, 0.45, 0.2, 0.5, 0.49] + [0.0] * 12
    validate, seen = _scripted(scores)
    cfg = TrainConfig(epochs=20, batch_size=64, patience=2, drops=2)
    model = _model()
    trained = fit(model, _data(), _loss, cfg, seed=0, device=torch.device("cpu"), validate=validate)
    assert [h["epoch"] for h in trained.history] == list(range(1, 9))
    assert [h["lr"] for h in trained.history] == pytest.approx([1e-3] * 4 + [1e-4] * 2 + [1e-5] * 2)
    assert [h["val"] for h in trained.history] == scores[:8] and trained.history[0]["other"] == -1.0
    assert trained.best_epoch == 2
    for name, value in model.state_dict().items():
        assert torch.equal(value, seen[1][name])  # the best epoch's weights, not the last
    assert trained.history[-1]["steps"] == 8 * (300 // 64 + 1)  # 5 batches an epoch (the last of 44)


def test_without_patience_a_validation_only_selects_the_best_epoch():
    validate, seen = _scripted([0.2, 0.9, 0.1])
    trained = fit(_model(), _data(), _loss, TrainConfig(epochs=3), seed=0, device=torch.device("cpu"),
                  validate=validate)  # fmt: skip
    assert len(trained.history) == 3 and trained.best_epoch == 2
    assert TrainConfig(epochs=3).key() == {k: v for k, v in TrainConfig(epochs=3, patience=2).key().items()
                                           if k not in ("patience", "drops", "min_delta")}  # fmt: skip


def test_early_stopped_training_resumes_bit_identically(tmp_path, monkeypatch):
    scores = [0.1, 0.5, 0.4, 0.3, 0.45, 0.2, 0.5, 0.49]
    cfg = TrainConfig(epochs=20, batch_size=64, patience=2, drops=2)
    ref = _model()
    fit(ref, _data(), _loss, cfg, seed=3, device=torch.device("cpu"), validate=_scripted(scores)[0])

    cache, real_save, calls = Cache(tmp_path), Cache.save, []

    def crash_after_five(self, *a):
        real_save(self, *a)
        calls.append(1)
        if len(calls) == 5:  # after the first drop, before the second
            raise KeyboardInterrupt

    monkeypatch.setattr(Cache, "save", crash_after_five)
    with pytest.raises(KeyboardInterrupt):
        fit(_model(), _data(), _loss, cfg, seed=3, device=torch.device("cpu"), checkpoints=Checkpoints(cache, "k"),
            validate=_scripted(scores)[0])  # fmt: skip
    monkeypatch.setattr(Cache, "save", real_save)
    validate, _ = _scripted(scores[5:])  # the resumed run validates epochs 6, 7, 8 only
    resumed = Lifter(LifterConfig(width=32))
    trained = fit(resumed, _data(), _loss, cfg, seed=3, device=torch.device("cpu"),
                  checkpoints=Checkpoints(cache, "k"), validate=validate)  # fmt: skip
    assert len(trained.history) == 8 and trained.best_epoch == 2
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_on_epoch_runs_before_every_epoch_with_its_index():
    called = []
    fit(_model(), _data(), _loss, TrainConfig(epochs=3), seed=0, device=torch.device("cpu"), on_epoch=called.append)
    assert called == [0, 1, 2]


def test_without_a_validation_early_stopping_settings_fall_back_to_the_decay():
    """Data too small to hold a clip out trains to the cap on the exponential decay, not at a constant rate."""
    cfg = TrainConfig(epochs=3, patience=2, lr_final_fraction=0.1)
    trained = fit(_model(), _data(), _loss, cfg, seed=0, device=torch.device("cpu"))
    assert [h["lr"] for h in trained.history] == pytest.approx([1e-3, 1e-3 * 0.1 ** (1 / 3), 1e-3 * 0.1 ** (2 / 3)])
