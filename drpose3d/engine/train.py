"""One trainer for every network: index permutations over per-sample tensors, per-epoch atomic
checkpoints that resume exactly (model, optimiser, scheduler, RNGs, early-stopping state), and
for networks with a held-out measure, training until it stops improving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from drpose3d.engine.cache import Checkpoints
from drpose3d.engine.distributed import agree, gather, rank_world, shard


@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int = 64
    lr: float = 1e-3
    lr_final_fraction: float = 0.1  # exponential decay reaches lr * this after the last epoch
    optimizer: str = "adam"  # adam (DPNet, hourglass) | sgd (PRCNN: momentum 0.9, weight decay 1e-4)
    precision: str = "fp32"  # fp32 | bf16: autocast matmuls and convolutions to bfloat16, weights stay fp32
    compile: bool = False  # torch.compile the model: the same maths, possibly faster (not on 2 CPU cores)
    # Early stopping, for training with a validation measure (stage 1): `epochs` is then the cap.
    # After `patience` epochs without a validation gain above `min_delta` the learning rate drops
    # tenfold and training goes on from the best weights; after `drops` such drops it stops.
    patience: int = 0  # 0: no early stopping, train exactly `epochs` on the exponential decay
    drops: int = 2
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or not 0 < self.lr_final_fraction <= 1:
            raise ValueError(f"invalid training config {self}")
        if self.patience < 0 or self.drops < 0 or self.min_delta < 0:
            raise ValueError(f"invalid early stopping in {self}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer is {self.optimizer!r}, expected 'adam' or 'sgd'")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision is {self.precision!r}, expected 'fp32' or 'bf16'")

    def key(self) -> dict:
        """What the trained weights depend on, for cache keys: never `compile` (same maths), and
        `precision` only when it is not fp32, so fp32 keys stayed what they were before the option."""
        fields = asdict(self)
        del fields["compile"]
        if self.precision == "fp32":
            del fields["precision"]
        if not self.patience:  # early stopping's fields decide nothing without it
            for name in ("patience", "drops", "min_delta"):
                del fields[name]
        return fields

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        """Fused kernels (one pass over all parameters): on 2 CPU cores foreach Adam took 40 %
        of a 1024-wide lifter's step, fused Adam almost nothing (bench/run.py)."""
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=1e-4, fused=True)
        return torch.optim.Adam(params, lr=self.lr, fused=True)


#: The keys of a training history row, one row per epoch, which the pages' curves and bench/ read:
#: the epoch (from 1), the optimiser steps so far, the learning rate and the mean training loss.
EPOCH, STEPS, LR, LOSS = "epoch", "steps", "lr", "loss"


def _to(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor onto `device`; onto a GPU from pinned memory and asynchronously, so the copy of
    the next batch overlaps the current one's compute. The one place the CUDA path differs, with
    :func:`place` (channels-last) and ``TrainConfig.precision`` (bf16 autocast, the paper preset's)."""
    if device.type == "cuda" and t.device.type == "cpu":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def place(model: nn.Module, device: torch.device) -> None:
    """Move to `device`; convolutional models go channels-last (NHWC), which PyTorch then keeps
    for their activations: 1.6-1.7x faster PRCNN and hourglass steps on 2 CPU cores, and the
    layout tensor cores want on GPUs."""
    model.to(device)
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model.to(memory_format=torch.channels_last)


def _batches(n: int, batch_size: int, perm: torch.Tensor, ranks: int = 1) -> list[torch.Tensor]:
    """Permutation split into batches; a trailing batch that would leave a rank one row or none
    (BatchNorm cannot) is dropped."""
    chunks = list(perm.split(batch_size))
    return chunks if chunks[-1].numel() >= 2 * ranks else chunks[:-1]


#: A held-out measure of a model (called in eval mode): named scores, the first one monitored,
#: higher is better (accuracy, PCK, a negated error).
Validation = Callable[[nn.Module], dict[str, float]]


@dataclass
class Trained:
    """What training left besides the weights."""

    losses: list[float]  # mean training loss of each epoch
    history: list[dict[str, float]]  # per epoch: epoch, steps, loss, lr and the validation's scores
    best_epoch: int  # the epoch whose weights the model keeps (the last, without a validation)


def fit(
    model: nn.Module,
    tensors: dict[str, torch.Tensor],
    loss_fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    cfg: TrainConfig,
    seed: int,
    device: torch.device,
    checkpoints: Checkpoints | None = None,
    desc: str = "train",
    validate: Validation | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> Trained:
    """Train `model` in place.

    With `validate` the model is scored after every epoch and keeps its best weights; with
    ``cfg.patience`` as well, training stops once the score has stalled through ``cfg.drops``
    tenfold learning-rate drops (a plateau, not a guessed epoch count). `on_epoch(k)` runs before
    epoch k (a stage draws fresh renderings there). With `checkpoints`, the state is saved after
    every epoch and a later call with the same handle continues from it, bit-identically on the
    CPU. Under ``torchrun`` (an initialised process group) the model is wrapped in
    DistributedDataParallel and every batch of the shared permutation is split across the ranks
    (the same steps and gradients as one process, up to rounding and BatchNorm's per-rank
    statistics); rank 0's validation scores decide for all, so all stop together; only rank 0
    writes checkpoints.
    """
    place(model, device)
    data = {k: _to(v, device) for k, v in tensors.items()}
    n = next(iter(data.values())).shape[0]
    rank, world = rank_world()
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    net = torch.compile(net) if cfg.compile else net
    optimiser = cfg.make_optimizer(model.parameters())
    plateaus = cfg.patience > 0 and validate is not None  # then plateaus decide the drops, not a decay
    decay = 1.0 if plateaus else cfg.lr_final_fraction ** (1 / cfg.epochs)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=decay)
    order = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    losses: list[float] = []
    # early stopping: best score, its epoch and weights, epochs since, drops made, stopped
    stop = {"best": None, "best_epoch": 0, "best_state": None, "bad": 0, "drops": 0, "stopped": False, "history": []}
    state = checkpoints.load() if checkpoints else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        order.set_state(state["order_rng"])
        torch.set_rng_state(state["torch_rng"])
        if torch.cuda.is_available() and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        losses = state["losses"]
        stop = state.get("stop", stop)

    steps = int(stop["history"][-1][STEPS]) if stop["history"] else 0
    bar = tqdm(range(len(losses), cfg.epochs), desc=desc, initial=len(losses), total=cfg.epochs, leave=False)
    for epoch in bar:
        if stop["stopped"]:
            break
        if on_epoch is not None:
            on_epoch(epoch)
        model.train()
        total = torch.zeros((), device=device)
        batches = _batches(n, cfg.batch_size, torch.randperm(n, generator=order).to(device), world)
        for batch in batches:
            idx = batch[rank::world]  # this rank's share of the batch; DDP averages the gradients
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                loss = loss_fn(net, {k: v[idx] for k, v in data.items()})
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.detach()
        row = {EPOCH: epoch + 1, STEPS: steps + len(batches), LR: optimiser.param_groups[0]["lr"]}
        steps = row[STEPS]
        scheduler.step()
        if world > 1:
            dist.all_reduce(total)
            total /= world
        losses.append(float(total) / len(batches))  # one host sync per epoch
        row[LOSS] = losses[-1]
        if validate is not None:
            _early_stopping(model, optimiser, validate, cfg, stop, row)
        stop["history"].append(row)
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k not in (EPOCH, STEPS)})
        if checkpoints and rank == 0:
            checkpoints.save(
                {
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "order_rng": order.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "losses": losses,
                    "stop": stop,
                    "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                }
            )
    if stop["best_state"] is not None:
        model.load_state_dict(stop["best_state"])
    model.eval()
    return Trained(losses, stop["history"], stop["best_epoch"] or len(losses))


def _early_stopping(
    model: nn.Module, optimiser: torch.optim.Optimizer, validate: Validation, cfg: TrainConfig, stop: dict, row: dict
) -> None:
    """Score the epoch's weights into `row`, keep them when best; on a plateau of ``cfg.patience``
    epochs drop the learning rate tenfold from the best weights, or stop after ``cfg.drops`` drops."""
    model.eval()
    scores = agree(validate(model))  # rank 0's: a rounding difference must not split the ranks' decisions
    model.train()
    row.update(scores)
    score = next(iter(scores.values()))
    if stop["best"] is None or score > stop["best"] + cfg.min_delta:
        stop.update(best=score, best_epoch=row[EPOCH], bad=0)
        stop["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return
    stop["bad"] += 1
    if not cfg.patience or stop["bad"] < cfg.patience:
        return
    if stop["drops"] == cfg.drops:
        stop["stopped"] = True
        return
    stop.update(bad=0, drops=stop["drops"] + 1)
    model.load_state_dict(stop["best_state"])
    for group in optimiser.param_groups:
        group["lr"] *= 0.1


@torch.no_grad()
def predict(
    model: nn.Module,
    fn: Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor | tuple[torch.Tensor, ...]],
    tensors: dict[str, torch.Tensor],
    device: torch.device,
    batch_size: int = 4096,
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """`fn(model, batch)` over all rows in eval mode, large batches, results on the CPU. `fn` may
    return a tuple (concatenated field by field): reducing each batch inside `fn` (quantising,
    decoding) keeps the full-precision outputs of the whole set from ever being in memory at once."""
    place(model, device)
    model.eval()
    rows = shard(next(iter(tensors.values())).shape[0])  # all rows outside torchrun
    outs = []
    for i in range(rows.start, rows.stop, batch_size):
        out = fn(model, {k: _to(v[i : min(i + batch_size, rows.stop)], device) for k, v in tensors.items()})
        outs.append(tuple(t.cpu() for t in out) if isinstance(out, tuple) else out.cpu())
    outs = [out for part in gather(outs) for out in part]  # every rank's rows, in order
    return tuple(map(torch.cat, zip(*outs, strict=True))) if isinstance(outs[0], tuple) else torch.cat(outs)
