"""MPJPE (protocol #1/#3), P-MPJPE (protocol #2, batched similarity Procrustes), per-joint
and per-action errors, and confidence intervals over seeds."""
from __future__ import annotations

import math

import torch
from scipy import stats


def joint_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Euclidean error per joint, (N, J, 3) x2 -> (N, J)."""
    return (pred - target).norm(dim=-1)


def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Align each `pred` (N, J, 3) to `target` by the best similarity transform
    (rotation, uniform scale, translation), never a reflection (Umeyama's sign fix)."""
    mu_p, mu_t = pred.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    p, t = pred - mu_p, target - mu_t
    cov = p.transpose(-1, -2) @ t  # (N, 3, 3)
    u, s, vh = torch.linalg.svd(cov)
    d = torch.sign(torch.linalg.det(u @ vh))
    signs = torch.ones_like(s)
    signs[..., -1] = d
    rot = u @ torch.diag_embed(signs) @ vh
    scale = (s * signs).sum(-1) / p.pow(2).sum((-1, -2)).clamp_min(1e-12)
    return scale[:, None, None] * p @ rot + mu_t


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample mean joint error (N,)."""
    return joint_errors(pred, target).mean(-1)


def p_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample error after similarity Procrustes (N,)."""
    return mpjpe(procrustes_align(pred, target), target)


def per_group_mean(values: torch.Tensor, groups: torch.Tensor, n_groups: int) -> torch.Tensor:
    """Mean of `values` (N, ...) within each group id (N,) -> (n_groups, ...); NaN for empty groups."""
    flat = values.reshape(values.shape[0], -1).double()
    sums = torch.zeros(n_groups, flat.shape[1], dtype=flat.dtype).index_add_(0, groups, flat)
    counts = torch.bincount(groups, minlength=n_groups).to(flat.dtype)
    means = sums / counts[:, None]
    means[counts == 0] = float("nan")
    return means.reshape(n_groups, *values.shape[1:])


def headline(per_action: torch.Tensor) -> float:
    """The paper's 'Avg.' column: the unweighted mean over actions (not over frames)."""
    return float(per_action[~per_action.isnan()].mean())


def mean_ci95(values: list[float]) -> tuple[float, tuple[float, float] | None]:
    """Mean and Student-t 95 % interval over seeds (None for a single seed)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, (mean - half, mean + half)
