import pytest
import torch

from drpose3d.models.dpnet import Lifter, LifterConfig, lifter_loss


@pytest.mark.parametrize(
    "ranking,stages,params_in",
    [
        ("none", 1, 32),
        ("none", 2, 32),
        ("depthnet", 2, 48),
        ("concat", 2, 152),
        ("topological", 2, 48),
        ("borda", 2, 48),
    ],
)
def test_configs_share_one_code_path(ranking, stages, params_in):
    model = Lifter(LifterConfig(ranking=ranking, stages=stages, width=64)).eval()
    extra = 16 if ranking in ("topological", "borda") else 120  # a fixed ordering's coarse depth, or the entries
    out = model(torch.randn(5, 32), torch.randn(5, extra))
    assert len(out["poses"]) == stages and out["poses"][-1].shape == (5, 48)
    assert (out["depth"] is not None) == (ranking == "depthnet")
    assert model.posenet.stages[0][0].in_features == params_in


def test_ranking_model_needs_ranking_and_bad_config_is_refused():
    with pytest.raises(ValueError, match="needs a ranking"):
        Lifter(LifterConfig(ranking="depthnet", width=8))(torch.randn(2, 32))
    with pytest.raises(ValueError, match="ranking is"):
        LifterConfig(ranking="sort")


def test_dpnet_overfits_a_tiny_batch():
    torch.manual_seed(0)
    model = Lifter(LifterConfig(ranking="depthnet", width=128, dropout=0.0))
    x2d, rank = torch.randn(32, 32), torch.randint(-1, 2, (32, 120)).float()
    pose, depth = torch.randn(32, 48), torch.randn(32, 16)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    first = None
    for _ in range(300):
        loss = lifter_loss(model(x2d, rank), pose, depth)
        first = first or float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        assert float(lifter_loss(model(x2d, rank), pose, depth)) < 0.05 * first
