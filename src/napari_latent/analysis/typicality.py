"""Typicality of an input against the model's own held-out subjects.

Two signs that a model has not seen anything like an input: its latent lies where the
cohort's latents are sparse (Mahalanobis distance under a Gaussian fit of the training
subjects' latents of the same space), and the model cannot reconstruct it (mean squared
error in the model's normalised units). Each is standardised on the log scale against
training subjects; the larger of them is the *score* (either sign alone is enough). The *percentile* is the share of reference
subjects (held out from training, kept in ``reference.json``) whose score is lower: 50 is
an ordinary subject, 99 stranger than 99 % of the reference.

Spaces: an ECG alone is judged in the ECG latent space on its ECG reconstruction, a cine
alone in the MRI space, both together in the fused space on both reconstructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Typicality", "encode_errors", "fit_typicality", "assess_inputs", "TYPICAL_BELOW"]

TYPICAL_BELOW = 95.0  # percentile at or above which an input is called atypical


@dataclass
class Typicality:
    """How typical inputs are: ``percentile`` (0-100) and ``typical`` (percentile < threshold).

    Scalars for one input, arrays for a batch. ``parts`` holds the standardised latent
    density term and reconstruction error terms.
    """

    percentile: float | np.ndarray
    typical: bool | np.ndarray
    score: float | np.ndarray
    space: str
    threshold: float = TYPICAL_BELOW
    parts: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        if np.ndim(self.percentile) == 0:
            word = "typical" if self.typical else "ATYPICAL"
            return f"Typicality({word}, percentile={float(self.percentile):.1f}, space={self.space!r})"
        return f"Typicality({np.size(self.percentile)} inputs, {int(np.sum(~np.asarray(self.typical)))} atypical)"


def encode_errors(model: Any, batch: dict[str, np.ndarray], *, batch_size: int = 32) -> dict[str, np.ndarray]:
    """Posterior means of each space and per-input reconstruction MSE (normalised units).

    Returns ``{"<space>": (B, D), "err_<modality>_from_<space>": (B,)}`` for the spaces the
    inputs allow (each modality alone, and fused when both are given).
    """
    import torch

    keys = [k for k in ("ecg", "mri") if k in batch and batch[k] is not None]
    n = len(batch[keys[0]])
    out: dict[str, list[np.ndarray]] = {}
    with torch.inference_mode():
        for s in range(0, n, batch_size):
            part = {k: np.asarray(batch[k][s : s + batch_size], np.float32) for k in keys}
            post = model.encode(part)
            targets = {k: model.normalizers[k](torch.as_tensor(part[k])) for k in keys}
            spaces = list(keys) + (["fused"] if len(keys) > 1 else [])
            for space in spaces:
                mu = post[space].mu
                out.setdefault(space, []).append(mu.float().numpy())
                judged = keys if space == "fused" else [space]
                decoded = model.decode_normalized(mu, judged)
                for m in judged:
                    err = ((decoded[m] - targets[m]) ** 2).flatten(1).mean(1)
                    out.setdefault(f"err_{m}_from_{space}", []).append(err.float().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def _judged(space: str) -> list[str]:
    return ["ecg", "mri"] if space == "fused" else [space]


def fit_typicality(train: dict[str, np.ndarray], reference: dict[str, np.ndarray], *, shrink: float = 0.05) -> dict:
    """Reference statistics per space from :func:`encode_errors` of training and held-out subjects."""
    stats: dict[str, Any] = {}
    for space in ("ecg", "mri", "fused"):
        if space not in train or space not in reference:
            continue
        z = np.asarray(train[space], np.float64)
        mean = z.mean(axis=0)
        cov = np.cov(z, rowvar=False)
        cov = (1 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov))
        entry: dict[str, Any] = {"mean": mean.tolist(), "precision": np.linalg.inv(cov).tolist()}
        d2 = _maha(z, entry)
        entry["log_d2"] = [float(np.log(d2).mean()), float(np.log(d2).std())]
        for m in _judged(space):
            e = np.log(train[f"err_{m}_from_{space}"])
            entry[f"log_err_{m}"] = [float(e.mean()), float(e.std())]
        entry["reference_scores"] = sorted(float(v) for v in _score(reference, space, entry)[0])
        stats[space] = entry
    return stats


def _maha(z: np.ndarray, entry: dict) -> np.ndarray:
    d = np.asarray(z, np.float64) - np.asarray(entry["mean"])
    return np.einsum("ij,jk,ik->i", d, np.asarray(entry["precision"]), d)


def _score(data: dict[str, np.ndarray], space: str, entry: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    mu, sd = entry["log_d2"]
    parts = {"density": (np.log(_maha(data[space], entry)) - mu) / sd}
    for m in _judged(space):
        mu, sd = entry[f"log_err_{m}"]
        parts[f"error_{m}"] = (np.log(data[f"err_{m}_from_{space}"]) - mu) / sd
    return np.max(np.stack(list(parts.values())), axis=0), parts


def assess_inputs(
    model: Any, stats: dict, *, ecg: np.ndarray | None = None, mri: np.ndarray | None = None,
    threshold: float = TYPICAL_BELOW,
) -> Typicality:
    """Typicality of one input (ECG (12, 600) and/or cine (50, 96, 96)) or a batch of them."""
    if ecg is None and mri is None:
        raise ValueError("give ecg=, mri= or both")
    single = (ecg is not None and np.ndim(ecg) == 2) or (mri is not None and np.ndim(mri) == 3)
    batch = {}
    if ecg is not None:
        batch["ecg"] = np.asarray(ecg, np.float32)[None] if single else np.asarray(ecg, np.float32)
    if mri is not None:
        batch["mri"] = np.asarray(mri, np.float32)[None] if single else np.asarray(mri, np.float32)
    space = "fused" if len(batch) == 2 else next(iter(batch))
    if space not in stats:
        raise ValueError(f"the model's reference statistics have no {space!r} space")
    entry = stats[space]
    data = encode_errors(model, batch)
    score, parts = _score(data, space, entry)
    ref = np.asarray(entry["reference_scores"])
    pct = 100.0 * np.searchsorted(ref, score, side="left") / len(ref)
    typical = pct < threshold
    if single:
        return Typicality(float(pct[0]), bool(typical[0]), float(score[0]), space, threshold,
                          {k: float(v[0]) for k, v in parts.items()})
    return Typicality(pct, typical, score, space, threshold, parts)


def cohort_typicality(
    cohort: Any, model: Any, stats: dict, *, batch_size: int = 64, progress: Any = None, should_stop: Any = None
) -> np.ndarray:
    """Typicality percentile (fused space: ECG and cine together) of every subject of a cohort."""
    n = len(cohort)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, batch_size):
        if should_stop is not None and should_stop():
            raise InterruptedError("typicality cancelled")
        idx = np.arange(start, min(start + batch_size, n))
        t = assess_inputs(model, stats, ecg=cohort.read("ecg_median", idx), mri=cohort.read("mri", idx))
        out[idx] = t.percentile
        if progress is not None:
            progress(int(idx[-1]) + 1, n)
    return out


def add_typicality_column(cohort: Any, model: Any, **kwargs: Any) -> bool:
    """Add (or refresh) a ``typicality`` column (percentile, 0-100) to the cohort's table.

    Needs the model's reference statistics; returns False (and adds nothing) without them.
    """
    from ..cohort.cohort import ColumnInfo
    from .reference import reference_of

    ref = reference_of(model)
    if not ref or "fused" not in ref.get("typicality", {}):
        return False
    cohort.subjects["typicality"] = cohort_typicality(cohort, model, ref["typicality"], **kwargs)
    cohort.columns["typicality"] = ColumnInfo(
        "%", "Typicality percentile against the model's held-out subjects (>= 95: atypical)", "derived"
    )
    return True


# ------------------------------------------------------------------------- out-of-distribution sets
def wrong_lead_order(ecg: np.ndarray) -> np.ndarray:
    """Limb and precordial leads mixed up: I<->II swapped and V1..V6 reversed (a miswired recording)."""
    order = [1, 0, 2, 3, 4, 5, 11, 10, 9, 8, 7, 6]
    return np.asarray(ecg)[..., order, :]


def mains_hum(ecg: np.ndarray, *, hz: float = 50.0, mv: float = 0.15, fs: float = 500.0) -> np.ndarray:
    """``mv`` of ``hz`` mains interference on every lead."""
    t = np.arange(np.shape(ecg)[-1]) / fs
    return np.asarray(ecg) + mv * np.sin(2 * np.pi * hz * t).astype(np.float32)


def rotate_cine(mri: np.ndarray) -> np.ndarray:
    """The cine turned by 90 degrees."""
    return np.ascontiguousarray(np.rot90(np.asarray(mri), 1, axes=(-2, -1)))


def flip_cine(mri: np.ndarray) -> np.ndarray:
    """The cine mirrored left-right."""
    return np.ascontiguousarray(np.asarray(mri)[..., ::-1])


def non_cardiac_cine(seed: int = 0, frames: int = 50, size: int = 96) -> np.ndarray:
    """A still, non-cardiac image (a head-like phantom of nested ellipses and noise) as a cine."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    img = np.zeros((size, size), np.float32)
    for cy, cx, ay, ax, value in ((0, 0, 0.9, 0.7, 0.8), (0, 0, 0.82, 0.62, 0.35), (-0.2, 0.25, 0.18, 0.1, 0.6),
                                  (-0.2, -0.25, 0.18, 0.1, 0.6), (0.35, 0, 0.1, 0.2, 0.5)):
        img[((rows - cy) / ay) ** 2 + ((cols - cx) / ax) ** 2 <= 1] = value
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    return np.clip(np.repeat(img[None], frames, 0), 0, 1)
