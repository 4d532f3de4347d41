"""Semantics group: measuring one decoded cine / median beat; posterior uncertainty from 16 samples."""

from __future__ import annotations

import os

import numpy as np

from ._fixtures import demo_model
from .runner import BenchContext
from .timing import time_calls


def run(ctx: BenchContext) -> None:
    import torch

    from ..analysis.measure import measure_cine, measure_ecg
    from ..analysis.reference import reference_of, unpack_mask
    from ..analysis.uncertainty import posterior_uncertainty

    model = demo_model()
    ref = reference_of(model) or {}
    territory = unpack_mask(ref["lv_territory"]) if "lv_territory" in ref else None
    z = np.random.default_rng(0).standard_normal(model.latent_dim).astype(np.float32) * 0.5
    decoded = model.decode_numpy(z)
    repeats = ctx.pick(20, 100)
    t = time_calls(lambda: measure_cine(decoded["mri"], territory), repeats, 3)
    ctx.add("measure one decoded cine (LV segmentation, area-length EDV/ESV/EF)", t.median_ms, "ms",
            notes=f"median of {t.n}; p95 {t.p95_ms:.1f} ms; target <= 20 ms")
    t = time_calls(lambda: measure_ecg(decoded["ecg"]), repeats, 3)
    ctx.add("measure one decoded median beat (QRS, QT, axis, amplitudes)", t.median_ms, "ms", notes=f"median of {t.n}")
    cores = os.cpu_count() or 1
    old = torch.get_num_threads()
    logvar = np.full(model.latent_dim, -2.0, np.float32)
    try:
        for threads in sorted({1, cores}):
            torch.set_num_threads(threads)
            t = time_calls(lambda: posterior_uncertainty(model, z, logvar, samples=16), ctx.pick(10, 30), 2)
            ctx.add(f"posterior uncertainty: decode 16 samples, per-pixel and per-lead SD, {threads} thread(s)",
                    t.median_ms, "ms", notes=f"median of {t.n}; p95 {t.p95_ms:.0f} ms; target <= 150 ms")
    finally:
        torch.set_num_threads(old)
