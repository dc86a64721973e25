import json

import pytest
import torch

from drpose3d.cache import Cache, config_key
from drpose3d.models.dpnet import Lifter, LifterConfig, lifter_loss
from drpose3d.train import TrainConfig, fit, resolve_device


def _loss(model, b):
    return lifter_loss(model(b["pose2d"], b["ranking"]), b["pose3d"], b["depth"])


def _data():
    g = torch.Generator().manual_seed(1)
    return {"pose2d": torch.randn(300, 32, generator=g), "ranking": torch.randn(300, 120, generator=g),
            "pose3d": torch.randn(300, 48, generator=g), "depth": torch.randn(300, 16, generator=g)}


def _model():
    torch.manual_seed(7)
    return Lifter(LifterConfig(width=32))


def test_killed_training_resumes_bit_identically(tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=4, batch_size=64)
    ref = _model()
    fit(ref, _data(), _loss, cfg, seed=3, device=torch.device("cpu"))

    cache = Cache(tmp_path)
    real_save, calls = Cache.save_tensor, []

    def crash_after_two(self, *a):
        real_save(self, *a)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Cache, "save_tensor", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        fit(_model(), _data(), _loss, cfg, seed=3, device=torch.device("cpu"), cache=cache, checkpoint_key="k")
    monkeypatch.setattr(Cache, "save_tensor", real_save)
    resumed = Lifter(LifterConfig(width=32))  # different init: the checkpoint must overwrite it
    losses = fit(resumed, _data(), _loss, cfg, seed=3, device=torch.device("cpu"), cache=cache, checkpoint_key="k")
    assert len(losses) == 4
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_corrupted_entries_are_recomputed_not_trusted(tmp_path):
    cache = Cache(tmp_path)
    assert cache.json("r", "k", lambda: {"v": 1}) == {"v": 1}
    path = cache.path("r", "k", ".json")
    entry = json.loads(path.read_text())
    entry["payload"]["v"] = 2
    path.write_text(json.dumps(entry))
    with pytest.warns(UserWarning, match="corrupted"):
        assert cache.json("r", "k", lambda: {"v": 3}) == {"v": 3}
    cache.save_tensor("t", "k", {"x": torch.arange(3)})
    tensor_path = cache.path("t", "k", ".pt")
    tensor_path.write_bytes(tensor_path.read_bytes()[:-3] + b"xyz")
    with pytest.warns(UserWarning, match="checksum"):
        assert cache.load_tensor("t", "k") is None


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
