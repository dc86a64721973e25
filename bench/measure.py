"""`drpose3d bench` (or ``python bench/run.py``): every speed figure of the project measured in
one run, side by side. It lives beside the package, not in it: users of the package do not ship it.

* lifting: the project's trainer (whole tensors, index permutations, foreach Adam) against the
  way public lifting code feeds the same model (a per-frame ``Dataset.__getitem__`` and a
  shuffling ``DataLoader``, default Adam), in samples/s;
* the trainer's achieved FLOP/s (6 x multiply-adds per sample: forward + backward) as a fraction
  of this machine's fp32 matmul FLOP/s at the same layer shapes, measured in the same run;
* Eq. (1) ranking + virtual-camera augmentation (poses/s), P-MPJPE (poses/s), the renderer
  (images/s at 64/128/256 px), PRCNN and hourglass training (images/s);
* optionally (``--full``) the wall time of ``reproduce --preset smoke`` and of the test suite.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from drpose3d.fileio import write_text_atomic
from drpose3d.models.dpnet import Lifter, LifterConfig
from drpose3d.paper import Arm
from drpose3d.pose.camera import project, world_to_camera
from drpose3d.pose.metrics import p_mpjpe
from drpose3d.pose.ranking import ranking_matrix
from drpose3d.run import resolve_device
from drpose3d.stages.dpnet import batch_loss
from drpose3d.stages.pipeline import Stage
from drpose3d.train import TrainConfig, fit
from drpose3d.worlds.augment import CameraPrior, camera_prior, rig_cameras, sample_virtual_cameras


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn: Callable[[], object], device: torch.device, repeat: int = 1, warmup: bool = True) -> float:
    """Best wall time of `repeat` calls (after one warm-up call unless told not to), seconds."""
    return _timed_side_by_side([fn], device, repeat, warmup)[0]


def _timed_side_by_side(
    fns: list[Callable[[], object]], device: torch.device, repeat: int, warmup: bool = True
) -> list[float]:
    """Best wall time of each function over `repeat` rounds that call them in turn: on a shared
    machine whose speed drifts, a ratio of interleaved bests is steadier than two separate runs."""
    if warmup:
        for fn in fns:
            fn()
        _sync(device)
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            _sync(device)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _lifter_data(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Normalised-scale random inputs of the lifter's shapes: speed does not depend on values."""
    g = torch.Generator().manual_seed(seed)
    return {
        "pose2d": torch.randn(n, 32, generator=g),
        "pose3d": torch.randn(n, 48, generator=g),
        "depth": torch.randn(n, 16, generator=g),
        "ranking": torch.randint(-1, 2, (n, 120), generator=g).float(),
    }


class _Frames(Dataset):
    """The per-sample pipeline of public lifting code: one frame per __getitem__."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors["pose2d"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[i] for k, v in self.tensors.items()}


def _reference_loop(model: nn.Module, data: dict[str, torch.Tensor], batch: int, device: torch.device) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for b in DataLoader(_Frames(data), batch_size=batch, shuffle=True, drop_last=True):
        b = {k: v.to(device) for k, v in b.items()}
        loss = batch_loss(model, b)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def bench_trainer_options(cfg: LifterConfig, batch: int, samples: int, device: torch.device) -> dict:
    """The trainer's samples/s in fp32, under bf16 autocast and with torch.compile (compilation
    is in the untimed warm-up epoch): whether each option pays on this device."""
    data = _lifter_data(samples)
    if cfg.ranking == "none":
        data.pop("ranking")
    runs = {}
    for name, options in (("fp32", {}), ("bf16", {"precision": "bf16"}), ("compiled", {"compile": True})):
        torch.manual_seed(0)
        model = Lifter(cfg).to(device)
        train_cfg = TrainConfig(epochs=1, batch_size=batch, **options)
        runs[name] = lambda model=model, train_cfg=train_cfg: fit(
            model, data, batch_loss, train_cfg, 0, device, desc="bench"
        )
    seconds = _timed_side_by_side(list(runs.values()), device, 2)
    return {f"{name}_samples_s": samples / s for name, s in zip(runs, seconds, strict=True)}


def multiply_adds(model: nn.Module) -> int:
    """Multiply-adds of one sample's forward pass through the Linear layers (the rest is O(width))."""
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def matmul_pass(
    model: nn.Module, batch: int, device: torch.device, passes: int = 10
) -> tuple[Callable[[], None], float]:
    """The model's own fp32 matmuls (forward, grad-input, grad-weight) `passes` times as a function,
    and the floating-point operations one call does: this machine's arithmetic limit at those shapes."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    mats = [
        (
            torch.randn(batch, m.in_features, device=device),
            torch.randn(m.in_features, m.out_features, device=device),
            torch.randn(batch, m.out_features, device=device),
        )
        for m in layers
    ]

    def run() -> None:
        for _ in range(passes):
            for x, w, gy in mats:
                x @ w
                gy @ w.T
                x.T @ gy

    return run, passes * 6 * batch * sum(m.in_features * m.out_features for m in layers)


def bench_lifting(cfg: LifterConfig, batch: int, samples: int, device: torch.device, rounds: int = 3) -> dict:
    """Trainer vs per-sample reference for one lifter, and the trainer's share of matmul FLOP/s,
    all three timed in the same interleaved rounds."""
    data = _lifter_data(samples)
    if cfg.ranking == "none":
        data.pop("ranking")
    torch.manual_seed(0)
    model = Lifter(cfg).to(device)
    train_cfg = TrainConfig(epochs=1, batch_size=batch)
    matmuls, matmul_flop = matmul_pass(model, batch, device)
    ours, ref, mm = _timed_side_by_side(
        [
            lambda: fit(model, data, batch_loss, train_cfg, 0, device, desc="bench"),
            lambda: _reference_loop(model, data, batch, device),
            matmuls,
        ],
        device,
        rounds,
    )
    ours_sps, ref_sps = samples / ours, samples / ref
    flop_per_sample = 6 * multiply_adds(model)
    peak = matmul_flop / mm
    return {
        "batch": batch,
        "width": cfg.width,
        "ranking": cfg.ranking,
        "stages": cfg.stages,
        "trainer_samples_s": ours_sps,
        "reference_samples_s": ref_sps,
        "speedup": ours_sps / ref_sps,
        "trainer_flops": ours_sps * flop_per_sample,
        "reference_flops": ref_sps * flop_per_sample,
        "matmul_flops": peak,
        "trainer_flop_fraction": ours_sps * flop_per_sample / peak,
        "reference_flop_fraction": ref_sps * flop_per_sample / peak,
    }


def bench_augmentation(n: int, device: torch.device) -> dict:
    """Virtual cameras + projection + Eq. (1) ranking for `n` world poses, poses/s."""
    g = torch.Generator().manual_seed(0)
    world = (torch.randn(n, 17, 3, generator=g) * 300 + torch.tensor([0.0, 0.0, 1000.0])).to(device)
    prior = camera_prior(rig_cameras(("S1", "S5", "S6", "S7", "S8"), [0, 1, 2]))
    prior = CameraPrior(prior.centre.to(device), prior.distance_mean, prior.distance_std, prior.intrinsics)

    def run() -> torch.Tensor:
        cams = sample_virtual_cameras(prior, n, torch.Generator().manual_seed(1)).to(device)
        cam3d = world_to_camera(world, cams.rotation, cams.centre)
        project(cam3d, cams)
        return ranking_matrix(cam3d[:, 1:, 2], 20.0)

    return {"poses": n, "poses_s": n / _timed(run, device, 3)}


def bench_p_mpjpe(n: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, 17, 3, generator=g).to(device) for _ in range(2))
    seconds = _timed(lambda: p_mpjpe(a, b), device, 3)
    return {"poses": n, "seconds": seconds, "poses_s": n / seconds}


def _image_inputs(n: int, resolution: int):
    from drpose3d.images.people import outfits
    from drpose3d.worlds.generated import generate_world
    from drpose3d.worlds.samples import build_samples

    mocap = generate_world(subjects=("S1",), actions=("Walk",), repetitions=1, duration_s=max(1.0, n / 200), fps=50)
    s = build_samples(mocap).select(torch.arange(n))
    return s, outfits(["S1"] * n, s.sequence.tolist())


def bench_renderer(n: int, resolutions: tuple[int, ...], device: torch.device) -> dict:
    from drpose3d.images.render import render
    from drpose3d.pose.camera import h36m_rig

    s, worn = _image_inputs(n, 64)
    rig = h36m_rig("S1").to(device, torch.float32).index(s.camera.to(device))
    args = (s.pose3d.to(device), s.pose2d.to(device), rig, worn.to(device), torch.arange(n, device=device))
    return {f"{r}px_images_s": n / _timed(lambda r=r: render(*args, r), device) for r in resolutions}


def bench_cnn_training(n: int, resolution: int, device: torch.device) -> dict:
    """One epoch of the real training functions (augmentation included) on `n` rendered crops."""
    from drpose3d.images.render import render, to_crop
    from drpose3d.images.sets import ImageSet
    from drpose3d.models.hourglass import HourglassConfig
    from drpose3d.models.prcnn import PRCNNConfig
    from drpose3d.pose.camera import h36m_rig
    from drpose3d.pose.skeleton import HOURGLASS_JOINTS
    from drpose3d.stages.pose2d import train_hourglass
    from drpose3d.stages.prcnn import train_prcnn

    s, worn = _image_inputs(n, resolution)
    rig = h36m_rig("S1").to("cpu", torch.float32).index(s.camera)
    img, box = render(s.pose3d, s.pose2d, rig, worn, torch.arange(n), resolution)
    images = (img * 255).round().to(torch.uint8)
    joints = to_crop(s.pose2d[:, list(HOURGLASS_JOINTS)], box, resolution)
    out = {}
    for name, depth, width in (("prcnn_resnet34_w16", 34, 16), ("prcnn_resnet34_w64", 34, 64)):
        tensors = {
            "images": images,
            "joints": joints,
            "ranking": ranking_matrix(s.pose3d[:, list(HOURGLASS_JOINTS), 2], 20.0),
            "heatmaps": torch.zeros(n, 16, resolution // 2, resolution // 2, dtype=torch.uint8),
        }
        cfg = TrainConfig(epochs=1, batch_size=64, lr=0.1, optimizer="sgd")
        prcnn = PRCNNConfig(depth, True, width)
        seconds = _timed(lambda t=tensors, p=prcnn, c=cfg: train_prcnn(t, p, c, 0, device), device, warmup=False)
        out[f"{name}_images_s"] = n / seconds
    hg = HourglassConfig(stacks=2, channels=32, depth=3)
    seconds = _timed(
        lambda: train_hourglass(ImageSet(images, box, joints), hg, TrainConfig(epochs=1, batch_size=32), 0, device),
        device,
        warmup=False,
    )
    out["hourglass_2x32_images_s"] = n / seconds
    return out


def _wall(cmd: list[str], cwd: Path) -> dict:
    """Wall time and exit code of a command; a failing run is recorded with the tail of its
    output, not hidden."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    result = {"seconds": time.perf_counter() - start, "exit_code": proc.returncode}
    if proc.returncode != 0:
        result["output_tail"] = (proc.stdout + proc.stderr)[-3000:]
    return result


def machine(device: torch.device) -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def run(
    device: str = "auto",
    tiny: bool = False,
    full: bool = False,
    out: str | Path | None = None,
    smoke_out: str | Path | None = None,
) -> dict:
    """Measure everything (tiny: seconds-long sizes for the tests) and write JSON to `out`;
    with `full`, the timed smoke reproduction writes to `smoke_out` (it must not hold a cache:
    every model is trained) or to a temporary folder."""
    if full and smoke_out is not None and (Path(smoke_out) / "cache").exists():
        raise FileExistsError(
            f"{Path(smoke_out) / 'cache'}: the timed smoke run needs an empty cache, so every model is trained"
        )
    dev = resolve_device(device)
    scale = 1 if not tiny else 0
    lift_samples = 64 * 100 if scale else 64 * 4
    result: dict = {"machine": machine(dev), "tiny": tiny, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    result["lifting"] = [
        bench_lifting(LifterConfig(ranking="none", stages=1, width=1024 if scale else 32), 64, lift_samples, dev),
        bench_lifting(LifterConfig(ranking="depthnet", stages=2, width=1024 if scale else 32), 64, lift_samples, dev),
        bench_lifting(
            LifterConfig(ranking="none", stages=1, width=1024 if scale else 32),
            1024,
            lift_samples * 4 if scale else 2048,
            dev,
        ),
    ]
    result["trainer_options"] = bench_trainer_options(
        LifterConfig(ranking="none", stages=1, width=1024 if scale else 32), 64, lift_samples, dev
    )
    result["augmentation"] = bench_augmentation(1_000_000 if scale else 1000, dev)
    result["p_mpjpe"] = bench_p_mpjpe(1_000_000 if scale else 1000, dev)
    result["renderer"] = bench_renderer(256 if scale else 8, (64, 128, 256) if scale else (32,), dev)
    result["cnn_training"] = bench_cnn_training(512 if scale else 64, 64 if scale else 32, dev)
    if full:
        root = Path(__file__).resolve().parents[1]
        with tempfile.TemporaryDirectory() as fresh:
            target = Path(smoke_out or fresh)
            smoke = _wall(
                [sys.executable, "-m", "drpose3d.cli", "reproduce", "--preset", "smoke", "--out", str(target)], root
            )
        result["wall_s"] = {"reproduce_smoke": smoke, "test_suite": _wall([sys.executable, "-m", "pytest", "-q"], root)}
    if out is not None:
        write_text_atomic(Path(out), json.dumps(result, indent=1))
    return result


#: Goals of issue 7, checked against the figures in :func:`report`.
GOALS = {
    "cpu_speedup_b64": 1.3,
    "gpu_speedup_b64": 5.0,
    "flop_fraction_b64": 0.6,
    "flop_fraction_b1024": 0.8,
    "augmentation_poses_s": 1e6,
    "p_mpjpe_1m_s": 2.0,
    "smoke_wall_s": 600.0,
    # issue 19: 5 x the 43 img/s of the per-pixel-per-bone capsule renderer (933ca0a) at 128 px
    "renderer_128px_images_s": 5 * 43.0,
    "tests_wall_s": 600.0,
}


def _lifter_label(lift: dict) -> str:
    """DPNet's lifter or the baseline's, by width and batch."""
    name = Stage.DPNET if lift["ranking"] == "depthnet" else Arm.BASELINE
    return f"{name} w{lift['width']} b{lift['batch']}"


def report(result: dict) -> str:
    """The figures as a plain-text table, each beside its goal with met / not met."""
    gpu = result["machine"]["device"].startswith("cuda")
    lines = [f"machine: {result['machine']}", ""]

    def row(name, value, goal, ok):
        return lines.append(f"{name:<58} {value:>16}   goal {goal:<12} {'met' if ok else 'NOT met'}")

    for lift in result["lifting"]:
        label = _lifter_label(lift)
        speed = f"{lift['speedup']:.2f}x ({lift['trainer_samples_s']:.0f}/{lift['reference_samples_s']:.0f})"
        if lift["batch"] == 64:  # the goal is set at the usual batch; at 1024 both are compute-bound
            speed_goal = GOALS["gpu_speedup_b64" if gpu else "cpu_speedup_b64"]
            row(f"{label}: trainer / per-sample reference", speed, f">= {speed_goal}x", lift["speedup"] >= speed_goal)
        else:
            lines.append(f"{label + ': trainer / per-sample reference':<58} {speed:>16}")
        goal = GOALS["flop_fraction_b1024" if lift["batch"] >= 1024 else "flop_fraction_b64"]
        row(
            f"{label}: trainer FLOP/s / matmul FLOP/s",
            f"{100 * lift['trainer_flop_fraction']:.0f} % (ref {100 * lift['reference_flop_fraction']:.0f} %)",
            f">= {100 * goal:.0f} %",
            lift["trainer_flop_fraction"] >= goal,
        )
    opts = result.get("trainer_options")  # absent from runs recorded before the options existed
    if opts:
        lines.append(
            f"{'baseline b64 trainer: fp32 / bf16 autocast / torch.compile':<58} "
            f"{opts['fp32_samples_s']:.0f} / {opts['bf16_samples_s']:.0f} / {opts['compiled_samples_s']:.0f} samples/s"
        )
    aug = result["augmentation"]
    row(
        f"ranking + virtual cameras ({aug['poses']} poses)",
        f"{aug['poses_s'] / 1e6:.2f} M/s",
        ">= 1 M/s",
        aug["poses_s"] >= GOALS["augmentation_poses_s"],
    )
    pm = result["p_mpjpe"]
    per_million = 1e6 / pm["poses_s"]
    row(
        f"P-MPJPE ({pm['poses']} poses)", f"{per_million:.2f} s per 1 M", "<= 2 s", per_million <= GOALS["p_mpjpe_1m_s"]
    )
    for k, v in result["renderer"].items():
        name = f"renderer {k.replace('_images_s', '')}"
        if k == "128px_images_s":
            goal = GOALS["renderer_128px_images_s"]
            row(name, f"{v:.0f} img/s", f">= {goal:.0f}/s", v >= goal)
        else:
            lines.append(f"{name:<58} {v:>12.0f} img/s")
    for k, v in result["cnn_training"].items():
        lines.append(f"{k.replace('_images_s', '') + ' training':<58} {v:>12.0f} img/s")
    for k, v in result.get("wall_s", {}).items():
        goal = GOALS["smoke_wall_s" if k.startswith("reproduce") else "tests_wall_s"]
        status = "" if v["exit_code"] == 0 else f" (exit {v['exit_code']})"
        row(f"wall time: {k}{status}", f"{v['seconds'] / 60:.1f} min", "<= 10 min", v["seconds"] <= goal and not status)
    return "\n".join(lines)


def recorded(root: Path | None = None) -> list[dict]:
    """The committed benchmark runs (``bench/results/*.json``, one file per recorded run), newest first."""
    folder = (root or Path(__file__).resolve().parents[1]) / "bench" / "results"
    runs = [json.loads(p.read_text()) | {"file": p.name} for p in sorted(folder.glob("*.json"))]
    return sorted(runs, key=lambda r: r["created"], reverse=True)


def figures(result: dict) -> dict[str, float]:
    """One recorded run's headline figures, flat and named for a table (rates per second unless
    the name says otherwise)."""
    out: dict[str, float] = {}
    for lift in result["lifting"]:
        label = _lifter_label(lift)
        out[f"lifting {label}: samples/s"] = lift["trainer_samples_s"]
        out[f"lifting {label}: speed-up over per-sample loading (x)"] = lift["speedup"]
    out["ranking + virtual cameras: poses/s"] = result["augmentation"]["poses_s"]
    out["P-MPJPE: poses/s"] = result["p_mpjpe"]["poses_s"]
    for k, v in result["renderer"].items():
        out[f"renderer {k.replace('_images_s', '')}: images/s"] = v
    for k, v in result["cnn_training"].items():
        out[f"{k.replace('_images_s', '')} training: images/s"] = v
    return out


def committed_memory(root: Path | None = None) -> list[dict]:
    """Peak resident memory of each notebook's kernel in the committed reproduction runs
    (``runs/<run>/*.json``), largest first; runs from before the figure was recorded are skipped."""
    folder = (root or Path(__file__).resolve().parents[1]) / "runs"
    rows = []
    for path in sorted(folder.glob("*/*.json")):
        res = json.loads(path.read_text())
        if "peak_rss_mib" in res:
            rows.append(
                {
                    "run": path.parent.name,
                    "notebook": res["notebook"],
                    "preset": res["preset"],
                    "dataset": res["dataset"],
                    "peak_rss_mib": res["peak_rss_mib"],
                    "commit": res.get("commit"),
                }
            )
    return sorted(rows, key=lambda r: -r["peak_rss_mib"])
