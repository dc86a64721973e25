"""MPJPE (protocol #1/#3), P-MPJPE (protocol #2, batched similarity Procrustes), per-joint
and per-action errors, and confidence intervals over seeds."""

from __future__ import annotations

import math

import torch
from scipy import stats

from drpose3d.pose.camera import quaternion_to_matrix


def joint_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Euclidean error per joint, (N, J, 3) x2 -> (N, J)."""
    return (pred - target).norm(dim=-1)


def _adjugate4(m: torch.Tensor) -> torch.Tensor:
    """Adjugate of each 4x4 matrix (N, 4, 4) from its 2x2 minors: plain elementwise arithmetic,
    where a batched LAPACK call costs a library call per matrix."""
    a = [[m[:, i, j] for j in range(4)] for i in range(4)]
    s0, s1, s2 = (
        a[0][0] * a[1][1] - a[1][0] * a[0][1],
        a[0][0] * a[1][2] - a[1][0] * a[0][2],
        a[0][0] * a[1][3] - a[1][0] * a[0][3],
    )
    s3, s4, s5 = (
        a[0][1] * a[1][2] - a[1][1] * a[0][2],
        a[0][1] * a[1][3] - a[1][1] * a[0][3],
        a[0][2] * a[1][3] - a[1][2] * a[0][3],
    )
    c5, c4, c3 = (
        a[2][2] * a[3][3] - a[3][2] * a[2][3],
        a[2][1] * a[3][3] - a[3][1] * a[2][3],
        a[2][1] * a[3][2] - a[3][1] * a[2][2],
    )
    c2, c1, c0 = (
        a[2][0] * a[3][3] - a[3][0] * a[2][3],
        a[2][0] * a[3][2] - a[3][0] * a[2][2],
        a[2][0] * a[3][1] - a[3][0] * a[2][1],
    )
    rows = [
        [
            a[1][1] * c5 - a[1][2] * c4 + a[1][3] * c3,
            -a[0][1] * c5 + a[0][2] * c4 - a[0][3] * c3,
            a[3][1] * s5 - a[3][2] * s4 + a[3][3] * s3,
            -a[2][1] * s5 + a[2][2] * s4 - a[2][3] * s3,
        ],
        [
            -a[1][0] * c5 + a[1][2] * c2 - a[1][3] * c1,
            a[0][0] * c5 - a[0][2] * c2 + a[0][3] * c1,
            -a[3][0] * s5 + a[3][2] * s2 - a[3][3] * s1,
            a[2][0] * s5 - a[2][2] * s2 + a[2][3] * s1,
        ],
        [
            a[1][0] * c4 - a[1][1] * c2 + a[1][3] * c0,
            -a[0][0] * c4 + a[0][1] * c2 - a[0][3] * c0,
            a[3][0] * s4 - a[3][1] * s2 + a[3][3] * s0,
            -a[2][0] * s4 + a[2][1] * s2 - a[2][3] * s0,
        ],
        [
            -a[1][0] * c3 + a[1][1] * c1 - a[1][2] * c0,
            a[0][0] * c3 - a[0][1] * c1 + a[0][2] * c0,
            -a[3][0] * s3 + a[3][1] * s1 - a[3][2] * s0,
            a[2][0] * s3 - a[2][1] * s1 + a[2][2] * s0,
        ],
    ]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def _horn_basis(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(9, 16) linear map from a flattened cross-covariance to Horn's 4x4 matrix, whose top
    eigenvector is the quaternion of the best rotation and whose top eigenvalue is the sum of
    the sign-fixed singular values."""
    # entry (row, col) of Horn's matrix = sum of sign * cov[i, j] over its terms
    terms = {
        (0, 0): "+xx+yy+zz",
        (0, 1): "+yz-zy",
        (0, 2): "+zx-xz",
        (0, 3): "+xy-yx",
        (1, 1): "+xx-yy-zz",
        (1, 2): "+xy+yx",
        (1, 3): "+zx+xz",
        (2, 2): "-xx+yy-zz",
        (2, 3): "+yz+zy",
        (3, 3): "-xx-yy+zz",
    }
    basis = torch.zeros(3, 3, 4, 4, dtype=dtype, device=device)
    for (r, c), expr in terms.items():
        for k in range(0, len(expr), 3):
            sign, i, j = (1.0 if expr[k] == "+" else -1.0), "xyz".index(expr[k + 1]), "xyz".index(expr[k + 2])
            basis[i, j, r, c] += sign
            if r != c:
                basis[i, j, c, r] += sign
    return basis.reshape(9, 16)


def _top_eigenpair(
    horn: torch.Tensor, cov: torch.Tensor, bound: torch.Tensor, iterations: int = 60
) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest eigenvalue and unit eigenvector of Horn's matrix (Theobald's QCP): Newton on the
    characteristic quartic from an upper bound converges monotonically (all roots are real);
    the eigenvector is the largest column of adj(horn - lambda I). The rare matrices whose top
    eigenvalue is (nearly) repeated fall back to LAPACK."""
    frob2 = cov.pow(2).sum((-1, -2))
    c2, c1, c0 = -2 * frob2, -8 * torch.linalg.det(cov), torch.linalg.det(horn)
    lam = torch.minimum((3 * frob2).sqrt(), bound)  # each >= the top eigenvalue
    for _ in range(iterations):
        f = ((lam * lam + c2) * lam + c1) * lam + c0
        df = (4 * lam * lam + 2 * c2) * lam + c1
        step = torch.where(df > 0, f / df, torch.zeros_like(f))
        lam = lam - step
        if bool((step.abs() <= 1e-13 * lam.abs().clamp_min(1e-300)).all()):
            break
    adj = _adjugate4(horn - lam[:, None, None] * torch.eye(4, dtype=horn.dtype, device=horn.device))
    diag = adj.diagonal(dim1=-2, dim2=-1).abs()
    best = diag.argmax(-1)
    vec = adj.gather(-1, best[:, None, None].expand(-1, 4, 1))[..., 0]
    vec = vec / vec.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    scale = lam.abs().clamp_min(1e-12) ** 3
    weak = diag.amax(-1) <= 1e-9 * scale
    if bool(weak.any()):
        values, vectors = torch.linalg.eigh(horn[weak])
        lam, vec = lam.clone(), vec.clone()
        lam[weak], vec[weak] = values[:, -1], vectors[..., -1]
    return lam, vec


def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Align each `pred` (N, J, 3) to `target` by the best similarity transform (rotation,
    uniform scale, translation), never a reflection: Horn's quaternion method, whose rotation
    is proper by construction, solved in closed form in float64 (no per-matrix SVD)."""
    mu_p, mu_t = pred.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    p, t = pred - mu_p, target - mu_t
    cov = torch.einsum("nji,njk->nik", p, t).double()
    horn = (cov.reshape(-1, 9) @ _horn_basis(cov.dtype, cov.device)).reshape(-1, 4, 4)
    norm_p, norm_t = (x.pow(2).sum((-1, -2)).double() for x in (p, t))
    bound = (norm_p * norm_t).sqrt()  # Cauchy-Schwarz
    lam, q = _top_eigenpair(horn, cov, bound)
    scale = lam / norm_p.clamp_min(1e-12)
    rot = quaternion_to_matrix(q).transpose(-1, -2) * scale[:, None, None]  # acting on row vectors
    return p @ rot.to(p.dtype) + mu_t


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
