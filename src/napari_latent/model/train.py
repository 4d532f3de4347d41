"""Training: stream a cohort, fit a model, report progress, stop on request, resume, run under torchrun.

``train(cohort, config, out_dir)`` is the one entry point (the CLI and the GUI call it).
Callbacks receive one plain dict per event ("start", "step", "epoch", "checkpoint",
"end") and may return False to stop; ``should_stop`` (a ``threading.Event`` or a
callable) is polled every step. Under ``torchrun`` every rank calls ``train`` with the
same arguments; rank 0 runs the callbacks and writes the checkpoint.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from ..cohort import Cohort
from .base import MultimodalModel
from .checkpoint import (
    STATE_FILE,
    CheckpointError,
    CheckpointExistsError,
    check_schema,
    load_tensors,
    read_config,
    save_checkpoint,
)
from .config import TrainConfig, resolve_config
from .data import CohortDataset, make_loader, prefetch, split_indices, to_device
from .distributed import DistContext, all_reduce_mean, any_rank, init_distributed
from .normalization import compute_statistics
from .registry import build_model

__all__ = ["train", "Trainer", "TrainResult", "Callback"]

Callback = Callable[[dict[str, Any]], bool | None]
StopFlag = Callable[[], bool] | Any  # a callable or an object with is_set()


@dataclass
class TrainResult:
    """What :func:`train` returns: the best model (eval mode) and how training went."""

    model: MultimodalModel
    status: str  # "completed", "early_stopped", "max_steps" or "cancelled"
    step: int
    epoch: int  # completed epochs
    best_val_loss: float
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    train_indices: np.ndarray | None = None
    val_indices: np.ndarray | None = None


def _stop_fn(should_stop: StopFlag | None) -> Callable[[], bool]:
    if should_stop is None:
        return lambda: False
    if hasattr(should_stop, "is_set"):
        return should_stop.is_set
    if callable(should_stop):
        return should_stop
    raise TypeError("should_stop must be a callable or have is_set() (e.g. threading.Event)")


def _tune_malloc() -> None:
    """Stop glibc from returning every large freed block to the OS (mmap/munmap per step).

    Cine batches are tens of MB; by default each one is mapped and unmapped, and the
    page faults cost a third of a CPU training step. Process-wide; a no-op off glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _pack_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    sd = opt.state_dict()
    tensors = {}
    for pid, st in sd["state"].items():
        for name, value in st.items():
            tensors[f"optimizer.{pid}.{name}"] = torch.as_tensor(value).detach().cpu().clone()
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, groups


def _unpack_optimizer(opt: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor], groups: list[dict]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": groups})


@dataclass
class _Run:
    """What the steps of one training run share: the model, its optimizer and the run's state."""

    ctx: DistContext
    tc: TrainConfig
    t0: float
    n: int
    fingerprint: str
    mods: tuple[str, ...]
    model: MultimodalModel
    state: dict[str, Any]
    history: list[dict[str, float]]
    train_idx: np.ndarray
    val_idx: np.ndarray
    best_state: dict[str, torch.Tensor] | None
    resume_tensors: dict[str, torch.Tensor]
    opt: Any = None
    net: Any = None
    train_loader: Any = None
    val_loader: Any = None
    steps_per_epoch: int = 1
    total_steps: int = 0
    autocast: Any = None
    status: str = "completed"
    checkpoint: Path | None = None
    t_loop: float = 0.0
    step0: int = 0

    def lr_at(self, step: int) -> float:
        """The learning rate at ``step``: cosine with warm-up, or the plateau-scaled base rate."""
        tc = self.tc
        base = tc.lr * self.state["lr_scale"]
        if tc.scheduler == "cosine":
            warm = min(1.0, (step + 1) / max(1, tc.warmup_steps))
            frac = min(1.0, step / max(1, self.total_steps))
            return max(tc.min_lr, tc.min_lr + (base - tc.min_lr) * 0.5 * (1 + math.cos(math.pi * frac))) * warm
        return base


class Trainer:
    """Fits one model on one cohort; see :func:`train` for the arguments."""

    def __init__(
        self,
        cohort: Cohort,
        config: dict[str, Any] | None = None,
        out_dir: str | os.PathLike | None = None,
        *,
        callbacks: Callback | Iterable[Callback] | None = None,
        should_stop: StopFlag | None = None,
        resume: bool = False,
        overwrite: bool = False,
    ):
        self.cohort = cohort
        self.out_dir = None if out_dir is None else Path(out_dir).expanduser().absolute()
        self.callbacks = [callbacks] if callable(callbacks) else list(callbacks or [])
        self.should_stop = _stop_fn(should_stop)
        self.resume = resume
        self._stop_requested = False
        self._resume_config = None
        if resume:
            if self.out_dir is None:
                raise ValueError("resume=True needs out_dir, the checkpoint to resume")
            self._resume_config = read_config(self.out_dir)
            if not (self.out_dir / STATE_FILE).is_file():
                raise CheckpointError(f"{STATE_FILE} is missing: this checkpoint cannot be resumed", path=self.out_dir)
            check_schema(self._resume_config, cohort, self.out_dir)
            self.model_config, self.config = self._merge_resume_config(config)
        else:
            if self.out_dir is not None and self.out_dir.exists() and not overwrite:
                raise CheckpointExistsError(
                    "a checkpoint already exists here; pass overwrite=True to replace it or resume=True to continue it",
                    path=self.out_dir,
                )
            self.model_config, self.config = resolve_config(config)

    def _merge_resume_config(self, config: dict[str, Any] | None) -> tuple[dict[str, Any], TrainConfig]:
        saved = self._resume_config
        model_cfg, _ = resolve_config({"model": saved["model"]})
        train_dict = dict(saved["training"]["config"])
        if config:
            new_model, new_train = resolve_config({"model": saved["model"], **config})
            if new_model != model_cfg:
                diff = sorted(k for k in new_model if new_model[k] != model_cfg.get(k))
                raise CheckpointError(f"cannot resume with a different model config ({diff})", path=self.out_dir)
            explicit = config.get("train", {}) or {k: v for k, v in config.items() if k != "model"}
            explicit = explicit.to_dict() if isinstance(explicit, TrainConfig) else explicit
            train_dict.update({k: v for k, v in explicit.items() if k in new_train.to_dict()})
        return model_cfg, TrainConfig.from_dict(train_dict)

    # ------------------------------------------------------------------ events
    def _emit(self, ctx: DistContext, event: dict[str, Any]) -> None:
        if not ctx.is_main:
            return
        for cb in self.callbacks:
            if cb(event) is False:
                self._stop_requested = True

    # ------------------------------------------------------------------ the loop
    def fit(self) -> TrainResult:
        tc = self.config
        ctx = init_distributed(tc.device)
        cuda = [ctx.device.index or 0] if ctx.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=cuda):  # seeding here leaves the caller's RNG alone
                return self._fit(ctx, tc)
        finally:
            ctx.close()

    def _fit(self, ctx: DistContext, tc: TrainConfig) -> TrainResult:
        """The training run: set up, then epochs of training, validation and checkpointing."""
        t0 = time.perf_counter()
        if tc.num_threads and ctx.device.type == "cpu":
            torch.set_num_threads(int(tc.num_threads))
        if tc.cpu_malloc_tuning and ctx.device.type == "cpu":
            _tune_malloc()
        run = self._prepare(ctx, tc, t0)
        self._build_optimizer(run)
        self._build_loaders(run)
        self._emit_start(run)
        run.t_loop = time.perf_counter()
        run.step0 = run.state["step"]
        while run.state["epoch"] < tc.epochs:
            epoch = run.state["epoch"]
            running, count = self._train_epoch(run, epoch)
            if run.status == "cancelled":
                run.checkpoint = self._save(run, "cancelled")
                break
            if self._end_epoch(run, epoch, running, count):
                break
        return self._finish(run)

    # ------------------------------------------------------------------ set-up steps
    def _prepare(self, ctx: DistContext, tc: TrainConfig, t0: float) -> _Run:
        """The model, the split and the normalisation (fresh, or read back to resume)."""
        n = len(self.cohort)
        fingerprint = self.cohort.fingerprint()
        mods = tuple(self.model_config["modalities"])
        torch.manual_seed(tc.seed)
        model = build_model(self.model_config)
        state: dict[str, Any] = {
            "step": 0,
            "epoch": 0,
            "best_val_loss": math.inf,
            "best_epoch": -1,
            "bad_epochs": 0,
            "lr_scale": 1.0,
        }
        history: list[dict[str, float]] = []
        resume_tensors: dict[str, torch.Tensor] = {}
        if self._resume_config is not None:
            saved = self._resume_config
            if saved["data"]["cohort_fingerprint"] != fingerprint:
                raise CheckpointError(
                    f"was trained on cohort {saved['data']['cohort_fingerprint']}, this cohort is {fingerprint}; "
                    "resuming needs the same cohort",
                    path=self.out_dir,
                )
            train_idx = np.asarray(saved["data"]["train_indices"], dtype=np.int64)
            val_idx = np.asarray(saved["data"]["val_indices"], dtype=np.int64)
            best = load_tensors(self.out_dir)
            resume_tensors = load_tensors(self.out_dir, STATE_FILE)
            model.load_state_dict({k[6:]: v for k, v in resume_tensors.items() if k.startswith("model.")})
            best_state = {k: v.float() if v.is_floating_point() else v for k, v in best.items()}
            state.update(saved["training"]["state"])
            history = list(saved["training"].get("history", []))
        else:
            if tc.train_indices is not None:
                train_idx = np.sort(np.asarray(tc.train_indices, dtype=np.int64))
                val_idx = np.sort(np.asarray(tc.val_indices if tc.val_indices is not None else [], dtype=np.int64))
            else:
                train_idx, val_idx = split_indices(n, tc.val_fraction, tc.seed)
            stats = compute_statistics(
                self.cohort,
                train_idx,
                mods,
                max_subjects=tc.norm_max_subjects,
                seed=tc.seed,
                should_stop=self.should_stop,
            )
            model.set_normalization(stats)
            best_state = None
        model.to(ctx.device)
        torch.manual_seed(tc.seed + 1 + 1000 * ctx.rank + state["step"])  # training randomness differs per rank
        return _Run(
            ctx=ctx, tc=tc, t0=t0, n=n, fingerprint=fingerprint, mods=mods, model=model, state=state,
            history=history, train_idx=train_idx, val_idx=val_idx, best_state=best_state,
            resume_tensors=resume_tensors,
        )  # fmt: skip

    def _build_optimizer(self, run: _Run) -> None:
        """AdamW (no weight decay on biases and norms), restored when resuming; DDP when distributed."""
        tc, model, dev = run.tc, run.model, run.ctx.device
        decay = [p for name, p in model.named_parameters() if p.ndim >= 2]
        no_decay = [p for name, p in model.named_parameters() if p.ndim < 2]
        run.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": tc.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=tc.lr
        )
        if self._resume_config is not None and any(k.startswith("optimizer.") for k in run.resume_tensors):
            _unpack_optimizer(run.opt, run.resume_tensors, self._resume_config["training"]["optimizer_groups"])
        run.net = model
        if run.ctx.distributed:
            run.net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)

    def _build_loaders(self, run: _Run) -> None:
        """Training and validation loaders (one shard per rank), step counts and autocast."""
        tc, ctx, dev = run.tc, run.ctx, run.ctx.device
        bs = tc.batch_size
        train_ds = CohortDataset(self.cohort, run.train_idx, run.mods)
        val_ds = CohortDataset(self.cohort, run.val_idx, run.mods)
        per_rank = math.ceil(len(run.train_idx) / ctx.world_size)
        loader_kw = {
            "rank": ctx.rank,
            "world_size": ctx.world_size,
            "num_workers": tc.num_workers,
            "pin_memory": dev.type == "cuda",
        }
        run.train_loader = make_loader(
            train_ds, bs, shuffle=True, seed=tc.seed, drop_last=per_rank >= 2 * bs, **loader_kw
        )
        run.val_loader = make_loader(val_ds, bs, shuffle=False, **loader_kw) if len(run.val_idx) else None
        run.steps_per_epoch = max(1, len(run.train_loader))
        run.total_steps = tc.epochs * run.steps_per_epoch
        if tc.max_steps is not None:
            run.total_steps = min(run.total_steps, int(tc.max_steps))
        run.autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" and tc.amp else contextlib.nullcontext()
        )

    def _emit_start(self, run: _Run) -> None:
        self._emit(
            run.ctx,
            {
                "event": "start",
                "step": run.state["step"],
                "epoch": run.state["epoch"],
                "epochs": run.tc.epochs,
                "steps_per_epoch": run.steps_per_epoch,
                "total_steps": run.total_steps,
                "n_train": len(run.train_idx),
                "n_val": len(run.val_idx),
                "device": str(run.ctx.device),
                "world_size": run.ctx.world_size,
                "architecture": run.model.architecture,
                "resumed": self._resume_config is not None,
            },
        )

    # ------------------------------------------------------------------ epoch step
    def _train_epoch(self, run: _Run, epoch: int) -> tuple[dict[str, float], int]:
        """One pass over the training loader; sets ``run.status`` when cancelled or at ``max_steps``.

        Returns the summed losses and the number of steps, for the epoch's record.
        """
        tc, ctx, state, model, opt = run.tc, run.ctx, run.state, run.model, run.opt
        run.train_loader.sampler.set_epoch(epoch)
        model.train()
        running: dict[str, float] = {}
        count = 0
        batches = prefetch(run.train_loader) if tc.num_workers == 0 else run.train_loader
        for batch in batches:
            if any_rank(self._stop_requested or bool(self.should_stop()), ctx):
                run.status = "cancelled"
                break
            step = state["step"]
            lr = run.lr_at(step)
            for g in opt.param_groups:
                g["lr"] = lr
            warm = tc.kl_warmup_epochs * run.steps_per_epoch
            model.kl_scale = min(1.0, (step + 1) / warm) if warm > 0 else 1.0
            batch = to_device(batch, ctx.device)
            with run.autocast:
                out = run.net(batch)
            loss = out["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {loss.item()} at step {step}; lower the learning rate "
                    f"(lr={tc.lr}) or beta (={self.model_config['beta']})"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if tc.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            opt.step()
            state["step"] = step + 1
            count += 1
            for k, v in out.items():
                running[k] = running.get(k, 0.0) + float(v.detach())
            if state["step"] % max(1, tc.log_every) == 0 or state["step"] == run.total_steps:
                self._emit_step(run, epoch, lr, out)
            if state["step"] >= run.total_steps and tc.max_steps is not None:
                run.status = "max_steps"
                break
        if hasattr(batches, "close"):
            batches.close()  # stop the prefetch thread when the loop ended early
        return running, count

    def _emit_step(self, run: _Run, epoch: int, lr: float, out: Mapping[str, torch.Tensor]) -> None:
        state = run.state
        elapsed = time.perf_counter() - run.t_loop
        rate = (state["step"] - run.step0) / max(elapsed, 1e-9)
        self._emit(
            run.ctx,
            {
                "event": "step",
                "step": state["step"],
                "epoch": epoch,
                "lr": lr,
                **{k: float(v.detach()) for k, v in out.items()},
                "steps_per_s": rate,
                "elapsed_s": elapsed,
                "eta_s": (run.total_steps - state["step"]) / max(rate, 1e-9),
                "progress": state["step"] / max(1, run.total_steps),
            },
        )

    # ------------------------------------------------------------------ validation and checkpoint steps
    def _end_epoch(self, run: _Run, epoch: int, running: Mapping[str, float], count: int) -> bool:
        """Validate, record the epoch, track the best weights, save; True when training is done."""
        tc, state = run.tc, run.state
        model = run.model
        val = self._validate(model, run.val_loader, run.ctx, run.autocast) if run.val_loader is not None else {}
        state["epoch"] = epoch + 1
        record = {"epoch": epoch + 1, "step": state["step"], "lr": run.lr_at(state["step"] - 1)}
        record.update({f"train_{k}": v / max(count, 1) for k, v in running.items()})
        record.update({f"val_{k}": v for k, v in val.items()})
        record["elapsed_s"] = round(time.perf_counter() - run.t0, 2)
        run.history.append(record)
        monitored = val.get("loss", record.get("train_loss", math.inf))
        improved = monitored < state["best_val_loss"] - tc.min_delta
        if improved:
            state.update(best_val_loss=float(monitored), best_epoch=epoch + 1, bad_epochs=0)
            run.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            state["bad_epochs"] += 1
            if tc.scheduler == "plateau" and state["bad_epochs"] % max(1, tc.plateau_patience) == 0:
                state["lr_scale"] = max(tc.min_lr / tc.lr, state["lr_scale"] * tc.plateau_factor)
        early = tc.patience > 0 and state["bad_epochs"] >= tc.patience
        done = early or run.status == "max_steps" or state["epoch"] >= tc.epochs
        final_status = "early_stopped" if early else run.status
        run.checkpoint = self._save(run, final_status if done else "running") or run.checkpoint
        self._emit(
            run.ctx,
            {
                "event": "epoch",
                **record,
                "improved": improved,
                "best_val_loss": state["best_val_loss"],
                "best_epoch": state["best_epoch"],
                "epochs": tc.epochs,
            },
        )
        if early:
            run.status = "early_stopped"
        return done

    def _metadata(self, run: _Run, status: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """config.json's training and data sections, and the optimizer's tensors."""
        opt_tensors, groups = _pack_optimizer(run.opt)
        return {
            "training": {
                "status": status,
                "config": run.tc.to_dict(),
                "state": dict(run.state),
                "history": run.history,
                "final": run.history[-1] if run.history else {},
                "optimizer_groups": groups,
                "elapsed_s": round(time.perf_counter() - run.t0, 2),
                "device": str(run.ctx.device),
                "world_size": run.ctx.world_size,
            },
            "data": {
                "cohort_fingerprint": run.fingerprint,
                "cohort_path": None if self.cohort.path is None else str(self.cohort.path),
                "cohort_source": self.cohort.attrs.get("source"),
                "n_subjects": run.n,
                "n_train": len(run.train_idx),
                "n_val": len(run.val_idx),
                "split_seed": run.tc.seed,
                "val_fraction": run.tc.val_fraction,
                "train_indices": run.train_idx.tolist(),
                "val_indices": run.val_idx.tolist(),
            },
        }, opt_tensors

    def _save(self, run: _Run, status: str) -> Path | None:
        """Write the checkpoint (best weights + the last state for resuming) on the main rank."""
        if self.out_dir is None or not run.ctx.is_main:
            return None
        model = run.model
        meta, opt_tensors = self._metadata(run, status)
        live = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        last = {f"model.{k}": v for k, v in live.items()}
        if run.best_state is not None:
            model.load_state_dict(run.best_state)
        try:
            path = save_checkpoint(model, self.out_dir, metadata=meta, state={**last, **opt_tensors}, overwrite=True)
        finally:
            model.load_state_dict(live)
        self._emit(
            run.ctx,
            {"event": "checkpoint", "path": str(path), "status": status, "step": run.state["step"],
             "epoch": run.state["epoch"]},
        )  # fmt: skip
        return path

    # ------------------------------------------------------------------ callback step: the end
    def _finish(self, run: _Run) -> TrainResult:
        """Load the best weights, tell the callbacks, and build the result."""
        model, state = run.model, run.state
        if run.best_state is not None:
            model.load_state_dict(run.best_state)
        model.eval()
        model.kl_scale = 1.0
        run.ctx.barrier()
        self._emit(
            run.ctx,
            {
                "event": "end",
                "status": run.status,
                "step": state["step"],
                "epoch": state["epoch"],
                "best_val_loss": state["best_val_loss"],
                "checkpoint": None if run.checkpoint is None else str(run.checkpoint),
                "elapsed_s": time.perf_counter() - run.t0,
            },
        )
        model.info = {
            "training": {"status": run.status, "history": run.history, "state": dict(state)},
            "data": {
                "cohort_fingerprint": run.fingerprint,
                "train_indices": run.train_idx.tolist(),
                "val_indices": run.val_idx.tolist(),
            },
        }
        return TrainResult(
            model=model,
            status=run.status,
            step=state["step"],
            epoch=state["epoch"],
            best_val_loss=state["best_val_loss"],
            history=run.history,
            checkpoint=run.checkpoint,
            train_indices=run.train_idx,
            val_indices=run.val_idx,
        )

    @torch.no_grad()
    def _validate(self, model: MultimodalModel, loader, ctx: DistContext, autocast) -> dict[str, float]:
        model.eval()
        sums: dict[str, float] = {}
        total = 0
        for batch in prefetch(loader):
            batch = to_device(batch, ctx.device)
            with autocast:
                out = model(batch)
            b = len(batch["index"])
            total += b
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v) * b
        keys = sorted(sums)
        vec = torch.tensor([sums[k] for k in keys] + [float(total)], dtype=torch.float64, device=ctx.device)
        vec = all_reduce_mean(vec, ctx)
        return {k: float(vec[i] / vec[-1]) for i, k in enumerate(keys)}


def train(
    cohort: Cohort,
    config: dict[str, Any] | None = None,
    out_dir: str | os.PathLike | None = None,
    *,
    callbacks: Callback | Iterable[Callback] | None = None,
    should_stop: StopFlag | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> TrainResult:
    """Train a model on ``cohort``; write the checkpoint to ``out_dir`` after every epoch.

    ``config``: ``{"model": {...}, "train": {...}}`` or a flat dict of model and training
    keys (see :data:`~napari_latent.model.config.DEFAULT_MODEL_CONFIG` and
    :class:`~napari_latent.model.config.TrainConfig`). The checkpoint holds the best
    weights by validation loss plus the last state for ``resume=True``, which continues
    the step count (given training keys, e.g. more ``epochs``, override the saved ones).
    ``should_stop`` / a callback returning False cancel at the next step; the checkpoint
    is then saved with status "cancelled". An existing ``out_dir`` is refused unless
    ``overwrite`` or ``resume``.
    """
    return Trainer(
        cohort, config, out_dir, callbacks=callbacks, should_stop=should_stop, resume=resume, overwrite=overwrite
    ).fit()
