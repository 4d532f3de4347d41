"""Input normalisation: a per-element mean template and a per-channel scale, stored in the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..cohort import Cohort
from .config import ARRAY_OF

__all__ = ["Standardizer", "compute_statistics"]

#: Modality -> axes the scale is shared over (per lead for ECG, one scalar for cine).
_SCALE_AXES: dict[str, tuple[int, ...]] = {"ecg": (1,), "mri": (0, 1, 2)}


class Standardizer(nn.Module):
    """``(x - mean) / scale`` with ``mean`` of the full per-subject shape and ``scale`` per channel.

    Subtracting the cohort's mean beat / mean cine lets the decoder model deviations only;
    both tensors are buffers, so they are saved with the weights.
    """

    def __init__(self, shape: Sequence[int], scale_axes: Sequence[int]):
        super().__init__()
        scale_shape = [1 if i in scale_axes else s for i, s in enumerate(shape)]
        self.register_buffer("mean", torch.zeros(*shape))
        self.register_buffer("scale", torch.ones(*scale_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.scale

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y.float() * self.scale + self.mean

    def set(self, mean: np.ndarray | torch.Tensor, scale: np.ndarray | torch.Tensor) -> None:
        self.mean.copy_(torch.as_tensor(np.asarray(mean), dtype=torch.float32).reshape(self.mean.shape))
        self.scale.copy_(torch.as_tensor(np.asarray(scale), dtype=torch.float32).reshape(self.scale.shape))

    def summary(self) -> dict[str, list[float] | float]:
        """Small JSON-able summary (for config.json): mean over the template, the scales."""
        scale = self.scale.flatten().tolist()
        return {"mean_of_template": float(self.mean.mean()), "scale": scale[0] if len(scale) == 1 else scale}


def compute_statistics(
    cohort: Cohort,
    indices: Sequence[int] | np.ndarray,
    modalities: Sequence[str] = ("ecg", "mri"),
    *,
    batch_size: int = 64,
    max_subjects: int | None = 2000,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Mean template and residual scale per modality, streamed over (a subsample of) ``indices``.

    The scale is the root-mean-square of ``x - mean`` over subjects and the shared axes.
    Returns ``{modality: {"mean": array, "scale": array}}`` in float32.
    """
    idx = np.sort(np.asarray(indices, dtype=np.int64))
    if len(idx) == 0:
        raise ValueError("cannot compute normalisation statistics from an empty training split")
    if max_subjects is not None and len(idx) > max_subjects:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_subjects, replace=False))
    out = {}
    for mod in modalities:
        total = total_sq = None
        for start in range(0, len(idx), batch_size):
            if should_stop is not None and should_stop():
                raise InterruptedError("cancelled while computing normalisation statistics")
            block = cohort.read(ARRAY_OF[mod], idx[start : start + batch_size]).astype(np.float64)
            s, s2 = block.sum(0), np.square(block).sum(0)
            total = s if total is None else total + s
            total_sq = s2 if total_sq is None else total_sq + s2
        n = len(idx)
        mean = total / n
        resid = total_sq / n - np.square(mean)  # per-element E[(x - mean)^2]
        axes = _SCALE_AXES[mod]
        scale = np.sqrt(np.clip(resid.mean(axis=axes, keepdims=True), 0, None))
        scale = np.where(scale > 1e-6, scale, 1.0)
        out[mod] = {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}
    return out
