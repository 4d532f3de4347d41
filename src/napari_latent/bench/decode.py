"""Decode group: one latent -> cine (50x96x96) + median beat (12x600), shipped demo model."""

from __future__ import annotations

import os

import numpy as np

from ._fixtures import demo_model
from .runner import BenchContext
from .timing import Timing, time_calls


def decode_latency(model, threads: int, repeats: int, warmup: int = 3, seed: int = 0) -> Timing:
    """Wall time of ``model.decode_numpy`` on one latent with ``threads`` torch threads."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        z = np.random.default_rng(seed).standard_normal(model.latent_dim).astype(np.float32)
        return time_calls(lambda: model.decode_numpy(z), repeats, warmup)
    finally:
        torch.set_num_threads(old)


def run(ctx: BenchContext) -> None:
    model = demo_model()
    repeats = ctx.pick(20, 100)
    cores = os.cpu_count() or 1
    one = decode_latency(model, 1, repeats)
    what = f"decode one latent (D={model.latent_dim}) -> cine + median beat"
    ctx.add(f"{what}, 1 thread, median", one.median_ms, "ms", notes=f"{one.n} calls; target <= 15 ms")
    ctx.add(f"{what}, 1 thread, p95", one.p95_ms, "ms", notes=f"{one.n} calls")
    if cores > 1:
        every = decode_latency(model, cores, repeats)
        base = "same, 1 thread"
        ctx.add(
            f"{what}, {cores} threads, median",
            every.median_ms,
            "ms",
            baseline=base,
            baseline_value=one.median_ms,
            notes=f"{every.n} calls",
        )
        ctx.add(
            f"{what}, {cores} threads, p95",
            every.p95_ms,
            "ms",
            baseline=base,
            baseline_value=one.p95_ms,
            notes=f"{every.n} calls",
        )
