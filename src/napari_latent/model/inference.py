"""Using a trained model on a cohort: embed every subject, time decoding."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..cohort import Cohort
from .base import MultimodalModel
from .config import ARRAY_OF
from .data import iterate_batches

__all__ = ["embed", "benchmark_decode"]


@torch.inference_mode()
def embed(
    cohort: Cohort,
    model: MultimodalModel,
    *,
    indices: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 64,
    modalities: Sequence[str] | None = None,
    logvar: bool = False,
    progress: Callable[[int, int], Any] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, np.ndarray]:
    """Posterior means of every subject (streamed batch by batch).

    Returns ``{"ecg": (N, D), "mri": (N, D), "fused": (N, D), "index": (N,)}`` as float32
    (``"<key>_logvar"`` too with ``logvar=True``); ``"fused"`` combines the modalities
    encoded. ``progress(done, total)`` is called per batch; ``should_stop()`` returning
    True raises InterruptedError.
    """
    mods = tuple(modalities) if modalities is not None else model.modalities
    idx = np.arange(len(cohort)) if indices is None else np.asarray(indices, dtype=np.int64)
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    for block, arrays in iterate_batches(cohort, idx, [ARRAY_OF[m] for m in mods], batch_size):
        if should_stop is not None and should_stop():
            raise InterruptedError("embedding cancelled")
        for key, value in model.encode_numpy(arrays, batch_size=batch_size, logvar=logvar).items():
            parts.setdefault(key, []).append(value)
        done += len(block)
        if progress is not None:
            progress(done, len(idx))
    out = {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
    out["index"] = idx
    return out


def benchmark_decode(
    model: MultimodalModel, *, repeats: int = 50, warmup: int = 5, num_threads: int | None = None, seed: int = 0
) -> dict[str, float]:
    """Wall time of decoding ONE latent vector to every modality (what a slider drag costs).

    Returns median / p90 / min milliseconds over ``repeats`` calls of ``decode_numpy``.
    """
    old = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        z = np.random.default_rng(seed).standard_normal(model.latent_dim).astype(np.float32)
        for _ in range(warmup):
            model.decode_numpy(z)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model.decode_numpy(z)
            times.append((time.perf_counter() - t) * 1e3)
    finally:
        torch.set_num_threads(old)
    t = np.asarray(times)
    return {
        "median_ms": float(np.median(t)),
        "p90_ms": float(np.percentile(t, 90)),
        "min_ms": float(t.min()),
        "threads": int(num_threads or old),
        "repeats": int(repeats),
    }
