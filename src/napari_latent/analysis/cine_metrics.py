"""Measurements on cines that have no labels (decoded ones): an image-based LV ejection fraction."""

from __future__ import annotations

import numpy as np

from ..cohort.schema import LABELS

__all__ = ["lv_region", "ef_from_cine"]

_LV = next(k for k, v in LABELS.items() if v == "LV")


def lv_region(labels: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """Pixels that are LV blood pool in at least ``fraction`` of the frames of a cohort's labels.

    ``labels``: (N, T, H, W) label cines; returns an (H, W) boolean mask to measure decoded
    cines in (they carry no labels of their own).
    """
    labels = np.asarray(labels)
    if labels.ndim != 4:
        raise ValueError(f"labels must be (N, T, H, W), got shape {labels.shape}")
    return (labels == _LV).mean(axis=(0, 1)) > fraction


def ef_from_cine(cine: np.ndarray, region: np.ndarray, *, myocardium: float = 0.35, blood: float = 0.8) -> float:
    """Ejection fraction from blood-pool signal inside ``region``: 1 - min/max over frames.

    Each pixel counts as blood in proportion to where its intensity lies between the
    myocardium and blood-pool levels, so partial volume and blurred decodes are handled
    smoothly. An image measure, not a clinical one: compare cines with it, don't report it.
    """
    cine = np.asarray(cine, dtype=np.float32)
    if cine.ndim != 3 or cine.shape[1:] != region.shape:
        raise ValueError(f"cine must be (T, {region.shape[0]}, {region.shape[1]}), got shape {cine.shape}")
    area = np.clip((cine[:, region] - myocardium) / (blood - myocardium), 0.0, 1.0).sum(axis=1)
    return float(1.0 - area.min() / area.max()) if area.max() > 0 else float("nan")
