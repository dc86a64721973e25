"""Depth ranking maths: Eq. (1) ranking matrix, its free entries, the coarse-depth target,
the inference-time discretisation (Sec. 3.1), fixed orderings of a noisy matrix (Borda,
topological sort) and pairwise accuracy."""

from __future__ import annotations

import torch

from drpose3d.pose.blocking import row_blocks


def ranking_matrix(depth: torch.Tensor, eps: float) -> torch.Tensor:
    """Eq. (1): M_ij = 1 if z_i > z_j + eps (i behind j), 0 if z_i < z_j - eps, else 0.5.

    `depth` (..., J) camera-frame z in mm -> (..., J, J). Computed as
    0.5 + 0.5 sign(d - clamp(d, -eps, eps)) with d = z_i - z_j, in place, block by block.
    """
    j = depth.shape[-1]
    flat = depth.reshape(-1, j)
    out = torch.empty(flat.shape[0], j, j, dtype=depth.dtype, device=depth.device)
    for rows in row_blocks(flat.shape[0], depth.device):
        diff = torch.sub(flat[rows, :, None], flat[rows, None, :], out=out[rows])
        diff.sub_(diff.clamp(-eps, eps)).sign_().mul_(0.5).add_(0.5)
    return out.reshape(*depth.shape, j)


def discretise(prob: torch.Tensor, threshold: float) -> torch.Tensor:
    """Sec. 3.1: P in [0, 0.5 - t) -> 0, (0.5 + t, 1] -> 1, otherwise 0.5."""
    return 0.5 + 0.5 * ((prob > 0.5 + threshold).to(prob.dtype) - (prob < 0.5 - threshold).to(prob.dtype))


def upper_triangle(matrix: torch.Tensor) -> torch.Tensor:
    """The J(J-1)/2 entries above the diagonal (..., J, J) -> (..., J(J-1)/2).

    An Eq. (1) matrix is fixed by them (M_ji = 1 - M_ij, M_ii = 0.5), so the networks get
    only these, centred to {-1, 0, 1} by the caller.
    """
    j = matrix.shape[-1]
    rows, cols = torch.triu_indices(j, j, offset=1, device=matrix.device)
    return matrix[..., rows, cols]


def coarse_depth(depth: torch.Tensor) -> torch.Tensor:
    """DepthNet's target O: each joint's rank 1..J by depth (ties broken by index),
    standardised to zero mean and unit std (Sec. 3.2)."""
    j = depth.shape[-1]
    ranks = torch.argsort(torch.argsort(depth, dim=-1, stable=True), dim=-1).to(depth.dtype) + 1
    mean, std = (j + 1) / 2, ((j * j - 1) / 12) ** 0.5
    return (ranks - mean) / std


def borda_depth(matrix: torch.Tensor) -> torch.Tensor:
    """Coarse depth O from a (noisy) ranking matrix by row sums (a Borda count): joint i's
    score is how many joints it is behind. Cycles cost nothing: each vote counts once."""
    return coarse_depth(matrix.sum(-1))


def topological_depth(matrix: torch.Tensor) -> torch.Tensor:
    """Coarse depth O from a (noisy) ranking matrix by topological sort of the "is behind"
    graph (an edge j -> i when M_ji = 1), breaking cycles greedily: at each of the J steps the
    remaining joint with the fewest remaining joints behind it is placed next (Kahn's
    algorithm when the graph is acyclic). Batched over samples; the loop runs over joints."""
    j = matrix.shape[-1]
    behind = (matrix.transpose(-1, -2) == 1).to(matrix.dtype)  # behind[..., i, k]: joint k is behind joint i
    remaining = torch.ones(matrix.shape[:-1], dtype=torch.bool, device=matrix.device)
    position = torch.zeros(matrix.shape[:-1], dtype=matrix.dtype, device=matrix.device)
    for step in range(j):
        indegree = (behind * remaining.unsqueeze(-2).to(matrix.dtype)).sum(-1)
        indegree = indegree.masked_fill(~remaining, float("inf"))
        pick = indegree.argmin(-1, keepdim=True)  # ties -> lowest index
        position.scatter_(-1, pick, float(j - step))  # placed first = farthest
        remaining.scatter_(-1, pick, False)
    return coarse_depth(position)


def pairwise_accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of off-diagonal entries where two (..., J, J) ranking matrices agree -> (...,)."""
    j = pred.shape[-1]
    off = ~torch.eye(j, dtype=torch.bool, device=pred.device)
    return (pred == target)[..., off].to(torch.float32).mean(-1)
