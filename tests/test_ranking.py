import torch

from drpose3d.pose.ranking import coarse_depth, discretise, pairwise_accuracy, ranking_matrix, upper_triangle


def test_ranking_matrix_properties_eq1():
    z = torch.randn(50, 16) * 300
    m = ranking_matrix(z, eps=20.0)
    assert torch.equal(m + m.transpose(-1, -2), torch.ones_like(m))
    assert torch.equal(torch.diagonal(m, dim1=-2, dim2=-1), torch.full((50, 16), 0.5))
    diff = z[:, :, None] - z[:, None, :]
    assert torch.equal(m == 1, diff > 20)
    assert torch.equal(m == 0, diff < -20)
    assert torch.equal(m == 0.5, diff.abs() <= 20)


def test_eps_band_edges():
    m = ranking_matrix(torch.tensor([0.0, 20.0, 20.5]), eps=20.0)
    assert m[1, 0] == 0.5 and m[2, 0] == 1 and m[0, 2] == 0


def test_coarse_depth_is_a_standardised_permutation():
    z = torch.randn(8, 16)
    o = coarse_depth(z)
    ranks = o * ((16 * 16 - 1) / 12) ** 0.5 + 8.5
    assert torch.allclose(ranks.sort(-1).values, torch.arange(1, 17.0).expand(8, -1), atol=1e-5)
    assert torch.allclose(o.mean(-1), torch.zeros(8), atol=1e-6)
    assert torch.allclose(o.std(-1, unbiased=False), torch.ones(8), atol=1e-5)
    assert torch.equal(o.argmax(-1), z.argmax(-1))


def test_discretise_threshold_intervals():
    p = torch.tensor([0.0, 0.39, 0.41, 0.5, 0.59, 0.61, 1.0])
    assert discretise(p, 0.1).tolist() == [0, 0, 0.5, 0.5, 0.5, 1, 1]


def test_upper_triangle_and_accuracy():
    m = ranking_matrix(torch.randn(3, 16), 0.0)
    assert upper_triangle(m).shape == (3, 120)
    flipped = m.clone()
    flipped[:, 0, 1], flipped[:, 1, 0] = 1 - m[:, 0, 1], 1 - m[:, 1, 0]
    assert torch.allclose(pairwise_accuracy(flipped, m), torch.full((3,), 1 - 2 / 240))


def test_fixed_orderings_recover_a_consistent_order_and_survive_cycles():
    from drpose3d.pose.ranking import borda_depth, topological_depth

    g = torch.Generator().manual_seed(0)
    depth = torch.randn(200, 16, generator=g) * 300
    m = ranking_matrix(depth, 0.0)
    truth = coarse_depth(depth)
    assert torch.allclose(topological_depth(m), truth) and torch.allclose(borda_depth(m), truth)
    # a 3-cycle among joints 0, 1, 2 (0 behind 1, 1 behind 2, 2 behind 0), everything else consistent
    d = torch.arange(16.0) * 100
    m = ranking_matrix(d, 0.0)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        m[i, j], m[j, i] = 1.0, 0.0
    for fn in (topological_depth, borda_depth):
        o = fn(m[None])[0]
        assert torch.equal(torch.sort(o).values, torch.sort(coarse_depth(d)).values)  # still a permutation of ranks
        assert torch.equal(torch.argsort(o)[3:], torch.arange(3, 16))  # joints outside the cycle keep their order
    batch = torch.stack((m, ranking_matrix(d.flip(0), 0.0)))
    assert torch.equal(topological_depth(batch)[1], topological_depth(batch[1:])[0])  # batched = one by one


def test_ranking_matrix_in_blocks_matches_the_direct_formula():
    from drpose3d.pose.blocking import CPU_BLOCK_ROWS

    depth = torch.randn(2, CPU_BLOCK_ROWS + 7, 16, generator=torch.Generator().manual_seed(1)) * 100
    diff = depth[..., :, None] - depth[..., None, :]
    direct = torch.where(diff > 20.0, 1.0, torch.where(diff < -20.0, 0.0, 0.5))
    assert torch.equal(ranking_matrix(depth, 20.0), direct)
