"""Sec. 3.3: 3D augmentation for the lifter. Training poses are seen by virtual cameras placed
around the capture centre V_c (Eq. 7); their 2D gets noise drawn from a Gaussian mixture fitted
to the 2D estimator's errors, and their ranking matrices are flipped entry by entry as often as
PRCNN gets that entry wrong. Everything is batched: one virtual camera per augmented sample.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from drpose3d.errors import DataError
from drpose3d.pose.camera import Cameras, camera_to_world, capture_centre, project, world_to_camera
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.pose.skeleton import HOURGLASS_JOINTS
from drpose3d.worlds.samples import Samples, rig_for

_HG = list(HOURGLASS_JOINTS)
#: Closest a joint may come to a virtual camera (mm); samples with a nearer joint are dropped.
MIN_DEPTH_MM = 500.0


@dataclass(frozen=True)
class AugmentConfig:
    """What the virtual samples get: GMM noise on their 2D (`noise`, a mixture of
    `gmm_components`) and the statistical flip of their rankings (`flip`)."""

    noise: bool = True
    flip: bool = True
    gmm_components: int = 4
    cameras: str = "rig"  # "rig": elevations like the real rig's; "sphere": the whole sphere (the old draw)

    def __post_init__(self) -> None:
        if self.gmm_components < 1:
            raise ValueError(f"gmm_components is {self.gmm_components}, expected >= 1")
        if self.cameras not in CAMERA_SAMPLING:
            raise ValueError(f"cameras is {self.cameras!r}, expected one of {', '.join(CAMERA_SAMPLING)}")


@dataclass(frozen=True)
class CameraPrior:
    """What the virtual cameras are drawn from: V_c, the camera distance's normal law, and the
    training cameras whose intrinsics are reused."""

    centre: torch.Tensor  # (3,) V_c, world mm
    distance_mean: float
    distance_std: float
    intrinsics: Cameras  # the training cameras (extrinsics unused)
    elevation_deg: tuple[float, float] = (-90.0, 90.0)  # the real cameras' lowest and highest, seen from V_c


#: How far (degrees) virtual elevations may stray beyond the real rig's range, each way.
ELEVATION_MARGIN_DEG = 10.0
#: The two ways of drawing virtual cameras: like the rig (default), or anywhere on the sphere.
CAMERA_SAMPLING = ("rig", "sphere")


def camera_prior(cameras: Cameras) -> CameraPrior:
    """Fit the prior to the training cameras (all training subjects' rigs, training views)."""
    centre = capture_centre(cameras.centre.double(), cameras.optical_axis.double()).float()
    offset = cameras.centre.float() - centre
    distance = offset.norm(dim=-1)
    std = float(distance.std()) if len(distance) > 1 else 0.0
    elevation = torch.rad2deg(torch.asin(offset[:, 2] / distance))
    band = (float(elevation.min()), float(elevation.max()))
    return CameraPrior(centre, float(distance.mean()), std, cameras.to("cpu", torch.float32), band)


def look_at(position: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Rotations (V, 3, 3), camera axes -> world, of cameras at `position` (V, 3) whose optical
    axis (z) passes through `target` (3,) and whose x axis is horizontal, so y points down the
    image and a standing person stays upright. A camera straight above or below the target
    (no horizontal direction defined) takes the world x axis as its x."""
    z = target - position
    z = z / z.norm(dim=-1, keepdim=True)
    up = torch.tensor([0.0, 0.0, 1.0], dtype=z.dtype, device=z.device).expand_as(z)
    x = torch.linalg.cross(z, up)
    norm = x.norm(dim=-1, keepdim=True)
    fallback = torch.tensor([1.0, 0.0, 0.0], dtype=z.dtype, device=z.device).expand_as(x)
    x = torch.where(norm > 1e-6, x / norm.clamp_min(1e-12), fallback)
    y = torch.linalg.cross(z, x)
    return torch.stack((x, y, z), dim=-1)


def sample_virtual_cameras(
    prior: CameraPrior, count: int, generator: torch.Generator, sampling: str = "rig"
) -> Cameras:
    """`count` cameras looking at V_c: distance ~ N(mean, std), intrinsics of a randomly drawn
    training camera, and a direction that is, with `sampling`,

    * ``"rig"``: azimuth uniform around V_c, elevation uniform in the real cameras' range
      widened by :data:`ELEVATION_MARGIN_DEG` each way (so above the floor, like a real rig);
    * ``"sphere"``: uniform on the whole sphere (half of them below the floor)."""
    if sampling == "sphere":
        direction = torch.randn(count, 3, generator=generator)
        direction = direction / direction.norm(dim=-1, keepdim=True)
    elif sampling == "rig":
        lo, hi = (max(-90.0, prior.elevation_deg[0] - ELEVATION_MARGIN_DEG),
                  min(90.0, prior.elevation_deg[1] + ELEVATION_MARGIN_DEG))  # fmt: skip
        # uniform in sin(elevation): uniform over the area of the band on the sphere
        sin_lo, sin_hi = torch.sin(torch.deg2rad(torch.tensor([lo, hi])))
        z = sin_lo + (sin_hi - sin_lo) * torch.rand(count, generator=generator)
        azimuth = 2 * torch.pi * torch.rand(count, generator=generator)
        ring = (1 - z * z).clamp_min(0).sqrt()
        direction = torch.stack((ring * torch.cos(azimuth), ring * torch.sin(azimuth), z), -1)
    else:
        raise ValueError(f"sampling is {sampling!r}, expected one of {', '.join(CAMERA_SAMPLING)}")
    distance = prior.distance_mean + prior.distance_std * torch.randn(count, generator=generator)
    position = prior.centre + distance[:, None] * direction
    pick = torch.randint(len(prior.intrinsics), (count,), generator=generator)
    intr = prior.intrinsics.index(pick)
    return replace(intr, rotation=look_at(position, prior.centre), centre=position)


@dataclass(frozen=True)
class NoiseModel:
    """A Gaussian mixture over the (16 x 2)-dim 2D error vector of a whole pose, in pixels:
    joint errors of one detection are correlated (a swapped limb moves two joints), so the
    mixture is fitted jointly rather than joint by joint."""

    weights: torch.Tensor  # (K,)
    means: torch.Tensor  # (K, D)
    cholesky: torch.Tensor  # (K, D, D) lower factors of the covariances

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """(count, 16, 2) noise; components drawn independently per sample (unlike sklearn's
        `sample`, which returns them grouped by component)."""
        comp = torch.multinomial(self.weights, count, replacement=True, generator=generator)
        z = torch.randn(count, self.means.shape[1], 1, generator=generator)
        draw = self.means[comp] + (self.cholesky[comp] @ z).squeeze(-1)
        return draw.reshape(count, -1, 2)


def fit_noise_model(residuals: torch.Tensor, components: int, seed: int) -> NoiseModel:
    """Fit scikit-learn's GaussianMixture (full covariances) to detection minus truth, (N, 16, 2) px."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    if residuals.ndim != 3 or residuals.shape[-1] != 2:
        raise DataError(f"2D residuals have shape {tuple(residuals.shape)}, expected (N, joints, 2)")
    flat = residuals.reshape(len(residuals), -1).double().numpy()
    if len(flat) < components:
        raise DataError(f"{len(flat)} residual poses cannot fit a {components}-component mixture")
    # one BLAS thread: numpy's pool spinning beside torch's on a few cores slows both by orders of magnitude
    with threadpool_limits(limits=1, user_api="blas"):
        gmm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=1e-3).fit(flat)
    cov = torch.from_numpy(gmm.covariances_)
    return NoiseModel(
        torch.from_numpy(gmm.weights_).float(), torch.from_numpy(gmm.means_).float(), torch.linalg.cholesky(cov).float()
    )


def statistical_flip(ranking: torch.Tensor, accuracy: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each entry P'_ij (i < j) of (N, J, J) rankings to 1 - P'_ij with probability
    1 - accuracy_ij, and mirror it to P'_ji so the matrix stays antisymmetric (P_ij + P_ji = 1).
    A tie (0.5) flips to itself: the paper's flip has no other value to go to."""
    j = ranking.shape[-1]
    draw = torch.rand(ranking.shape, generator=generator).to(ranking.device)
    upper = torch.triu(torch.ones(j, j, dtype=torch.bool, device=ranking.device), diagonal=1)
    flip = (draw < (1 - accuracy.to(ranking.device))) & upper
    flip = flip | flip.transpose(-1, -2)
    return torch.where(flip, 1 - ranking, ranking)


def entry_accuracy(predicted: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """p_ij: the fraction of samples on which PRCNN's entry (i, j) equals Eq. (1), (J, J)."""
    return (predicted == truth).float().mean(0)


def rig_cameras(subjects: tuple[str, ...], views: list[int]) -> Cameras:
    """The cameras `views` of every subject's rig, one batch: what the training data was shot with."""
    rigs = [rig_for(s).index(views) for s in subjects]
    return Cameras(**{f.name: torch.cat([getattr(r, f.name) for r in rigs]) for f in fields(Cameras)})


def world_poses(samples: Samples) -> torch.Tensor:
    """Recover each sample's world pose (N, 17, 3) from its camera-frame pose and its camera."""
    if (samples.camera < 0).any():
        raise DataError("samples from virtual cameras have no world pose to recover; augment real samples only")
    rigs = [rig_for(s) for s in samples.subject_names]
    rotation = torch.stack([r.rotation for r in rigs]).float()[samples.subject, samples.camera]
    centre = torch.stack([r.centre for r in rigs]).float()[samples.subject, samples.camera]
    return camera_to_world(samples.pose3d, rotation, centre)


def virtual_samples(
    samples: Samples,
    prior: CameraPrior,
    cfg: AugmentConfig,
    factor: int,
    eps_mm: float,
    seed: int,
    noise: NoiseModel | None = None,
    accuracy: torch.Tensor | None = None,
) -> tuple[Samples, torch.Tensor]:
    """`factor` - 1 virtual views (the augmented set is `factor` times the original; the
    paper's protocol #3 uses 3) of every training sample: camera-frame 3D S'_3D, projected
    (and, with `cfg.noise`, noised) 2D S'_2D, and ranking matrices P' (flipped with `cfg.flip`).
    Virtual samples carry camera index -1; a view that brings a joint nearer than
    :data:`MIN_DEPTH_MM` to its camera is dropped."""
    if factor < 1:
        raise ValueError(f"augmentation factor is {factor}, expected an integer >= 1 (1 = no virtual samples)")
    if cfg.noise and noise is None:
        raise ValueError("cfg.noise is set but no noise model was given")
    if cfg.flip and accuracy is None:
        raise ValueError("cfg.flip is set but no per-entry accuracy was given")
    g = torch.Generator().manual_seed(seed)
    source = torch.arange(len(samples)).repeat(factor - 1)
    world = world_poses(samples)[source]
    cams = sample_virtual_cameras(prior, len(source), g, cfg.cameras)
    pose3d = world_to_camera(world, cams.rotation, cams.centre)
    pose2d = project(pose3d, cams)
    if cfg.noise:
        pose2d[:, _HG] += noise.sample(len(source), g)
    ranking = ranking_matrix(pose3d[:, _HG, 2], eps_mm)
    if cfg.flip:
        ranking = statistical_flip(ranking, accuracy, g)
    keep = (pose3d[..., 2] > MIN_DEPTH_MM).all(-1)
    picked = samples.select(source)
    virtual = replace(picked, pose3d=pose3d, pose2d=pose2d, camera=torch.full_like(picked.camera, -1))
    return virtual.select(keep), ranking[keep]
