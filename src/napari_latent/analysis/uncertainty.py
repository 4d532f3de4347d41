"""Posterior uncertainty: decode samples of a posterior and see where they disagree.

``z_k = mu + sigma * eps_k`` for ``n`` standard-normal draws ``eps_k`` (a fixed seed, so the
same input gives the same picture); the per-pixel standard deviation of the decoded cines
and the per-sample standard deviation of the decoded ECG leads say where the model is
unsure, e.g. of an ECG -> MRI translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Uncertainty", "posterior_uncertainty", "posterior_of"]


@dataclass
class Uncertainty:
    """Mean and standard deviation over decoded posterior samples, per modality.

    ``mean["mri"]``/``std["mri"]``: (T, H, W); ``mean["ecg"]``/``std["ecg"]``: (12, S) mV.
    """

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    samples: int
    space: str


def posterior_of(model: Any, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """``(space, mu, logvar)`` of one input: an ECG alone, a cine alone, or both (fused)."""
    batch = {}
    if ecg is not None:
        batch["ecg"] = np.asarray(ecg, np.float32)[None]
    if mri is not None:
        batch["mri"] = np.asarray(mri, np.float32)[None]
    if not batch:
        raise ValueError("give ecg=, mri= or both")
    space = "fused" if len(batch) == 2 else next(iter(batch))
    out = model.encode_numpy(batch, logvar=True)
    return space, out[space][0], out[f"{space}_logvar"][0]


def posterior_uncertainty(
    model: Any,
    mu: np.ndarray,
    logvar: np.ndarray,
    *,
    samples: int = 16,
    seed: int = 0,
    modalities: tuple[str, ...] | None = None,
    space: str = "fused",
) -> Uncertainty:
    """Decode ``samples`` draws of N(mu, exp(logvar)) and return their mean and std per modality."""
    if samples < 2:
        raise ValueError("at least 2 samples are needed for a standard deviation")
    mu = np.asarray(mu, np.float32).ravel()
    sigma = np.exp(0.5 * np.asarray(logvar, np.float32).ravel())
    eps = np.random.default_rng(seed).standard_normal((samples, mu.size)).astype(np.float32)
    decoded = model.decode_numpy(mu[None] + eps * sigma[None], modalities, batch_size=samples)
    return Uncertainty(
        mean={m: v.mean(axis=0) for m, v in decoded.items()},
        std={m: v.std(axis=0) for m, v in decoded.items()},
        samples=samples,
        space=space,
    )
