"""Closed-loop calibration of phenotype directions: decode, measure, rescale.

A direction's step is set so that the *decoded output* measures the label's change: moving
``offset(delta)`` changes the measurement of the decoded cine or ECG by ``delta`` times the
cohort's own relation between the label and that measurement on reconstructions
(``measurement per labelled unit``, from :mod:`napari_latent.analysis.reference`).
Faithfulness is the measured change per labelled unit divided by that relation, over
subjects the calibration did not use (1 = the slider's label is what the decoded heart shows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .measure import measure_cine, measure_ecg

__all__ = ["MEASURE_OF", "measure_decoded", "Relation", "fit_relation", "closed_loop_slope", "faithfulness"]

#: Phenotype column -> measurement of the decoded output that checks it.
MEASURE_OF: dict[str, str] = {
    "lvedv": "edv",
    "lvesv": "esv",
    "ef": "ef",
    "qrs_duration": "qrs_duration",
    "qt": "qt",
    "qrs_axis": "qrs_axis",
}
_MODALITY = {"edv": "mri", "esv": "mri", "ef": "mri", "ed_area": "mri", "qrs_duration": "ecg", "qt": "ecg", "qrs_axis": "ecg"}

Decode = Callable[[np.ndarray], dict[str, np.ndarray]]


def measure_decoded(decoded: dict[str, np.ndarray], key: str, territory: np.ndarray | None = None) -> np.ndarray:
    """One measurement (see :data:`MEASURE_OF`) of a batch of decoded outputs: (B,)."""
    modality = _MODALITY[key]
    arr = np.asarray(decoded[modality])
    if modality == "mri":
        batch = arr[None] if arr.ndim == 3 else arr
        return np.array([getattr(measure_cine(c, territory), key) for c in batch])
    batch = arr[None] if arr.ndim == 2 else arr
    return np.array([getattr(measure_ecg(b), key) for b in batch])


@dataclass
class Relation:
    """``measurement = intercept + slope * label`` over a cohort's reconstructions."""

    measure: str
    slope: float
    intercept: float
    r: float
    n: int

    def to_label(self, measurement: float | np.ndarray) -> float | np.ndarray:
        """A measurement in the label's units (inverse of the relation)."""
        return (np.asarray(measurement) - self.intercept) / self.slope


def fit_relation(measured: np.ndarray, labels: np.ndarray, measure: str) -> Relation:
    """Least-squares relation of a measurement on the label (finite pairs only)."""
    m, y = np.asarray(measured, float), np.asarray(labels, float)
    ok = np.isfinite(m) & np.isfinite(y)
    if ok.sum() < 3:
        raise ValueError(f"too few subjects with a {measure} measurement ({ok.sum()})")
    slope, intercept = np.polyfit(y[ok], m[ok], 1)
    return Relation(measure, float(slope), float(intercept), float(np.corrcoef(y[ok], m[ok])[0, 1]), int(ok.sum()))


def _slopes(decode: Decode, z0: np.ndarray, u: np.ndarray, steps: np.ndarray, key: str, territory) -> np.ndarray:
    """Per-subject least-squares slope of the measurement against latent distance along ``u``."""
    z0 = np.atleast_2d(np.asarray(z0, np.float32))
    zs = (z0[:, None, :] + steps[None, :, None] * u[None, None, :]).reshape(-1, z0.shape[1]).astype(np.float32)
    modality = _MODALITY[key]
    out = decode(zs)
    m = measure_decoded({modality: out[modality]}, key, territory).reshape(len(z0), len(steps))
    x = steps - steps.mean()
    return ((m - m.mean(axis=1, keepdims=True)) * x).sum(axis=1) / (x * x).sum()


def closed_loop_slope(
    decode: Decode,
    latents: np.ndarray,
    vector: np.ndarray,
    key: str,
    *,
    distance: float,
    territory: np.ndarray | None = None,
    points: int = 3,
) -> tuple[float, np.ndarray]:
    """Measurement change per unit latent distance along ``vector``, decoded from ``latents``.

    Each subject is decoded at ``points`` distances in [-distance, +distance]; returns the
    median of the per-subject slopes and the slopes.
    """
    u = np.asarray(vector, np.float64)
    u = (u / np.linalg.norm(u)).astype(np.float32)
    steps = np.linspace(-distance, distance, points).astype(np.float32)
    slopes = _slopes(decode, latents, u, steps, key, territory)
    return float(np.nanmedian(slopes)), slopes


def faithfulness(
    decode: Decode,
    latents: np.ndarray,
    offset: Callable[[float], np.ndarray],
    relation: Relation,
    *,
    delta: float,
    territory: np.ndarray | None = None,
) -> dict[str, float]:
    """Measured change per labelled unit along ``offset`` over ``latents``, against ``relation``.

    Decodes every subject at ``-delta, 0, +delta`` labelled units. Returns ``measured_per_unit``
    (median over subjects of the measurement slope), ``expected_per_unit`` (the relation's
    slope), ``ratio`` (their quotient; 1 is faithful), and the ratio's interquartile range.
    """
    step = np.asarray(offset(1.0), np.float64)
    norm = float(np.linalg.norm(step))
    slopes = _slopes(decode, latents, (step / norm).astype(np.float32),
                     np.array([-delta, 0.0, delta], np.float32) * norm, relation.measure, territory) * norm
    ratio = slopes / relation.slope
    return {
        "measured_per_unit": float(np.nanmedian(slopes)),
        "expected_per_unit": float(relation.slope),
        "ratio": float(np.nanmedian(ratio)),
        "ratio_q25": float(np.nanpercentile(ratio, 25)),
        "ratio_q75": float(np.nanpercentile(ratio, 75)),
        "n": int(np.isfinite(slopes).sum()),
    }


def pick(indices: Sequence[int] | np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` of ``indices`` (all when fewer), chosen reproducibly, sorted."""
    idx = np.asarray(indices, dtype=np.int64)
    if len(idx) <= n:
        return np.sort(idx)
    return np.sort(np.random.default_rng(seed).choice(idx, n, replace=False))


@dataclass
class DecodedMeasurements:
    """What decoded outputs measure, in the phenotype columns' units where the model has a relation.

    ``values``: column -> value (e.g. ``lvedv`` in mL through the cohort's relation on
    reconstructions); ``raw``: the measurements themselves (area-length mL, fractions, ms);
    ``area_curve``: LV blood-pool area per frame (mm²); ``cine``/``ecg``: the full results.
    """

    values: dict[str, float]
    raw: dict[str, float]
    area_curve: np.ndarray | None
    cine: object | None
    ecg: object | None


def relations_of(reference: dict | None) -> dict[str, Relation]:
    """The :class:`Relation` of every column in a model's reference statistics."""
    out = {}
    for column, r in ((reference or {}).get("relations") or {}).items():
        out[column] = Relation(r["measure"], r["slope"], r["intercept"], r.get("r", float("nan")), r.get("n", 0))
    return out


def measure_outputs(
    decoded: dict[str, np.ndarray], relations: dict[str, Relation], territory: np.ndarray | None = None
) -> DecodedMeasurements:
    """Measure one decoded cine and/or median beat; convert to column units through ``relations``."""
    raw: dict[str, float] = {}
    cine = ecg = None
    if decoded.get("mri") is not None:
        cine = measure_cine(np.asarray(decoded["mri"], np.float32), territory)
        raw.update(cine.scalars())
    if decoded.get("ecg") is not None:
        ecg = measure_ecg(np.asarray(decoded["ecg"], np.float32))
        raw.update(ecg.scalars())
    values = {}
    for column, key in MEASURE_OF.items():
        if key in raw:
            rel = relations.get(column)
            values[column] = float(rel.to_label(raw[key])) if rel is not None else raw[key]
    return DecodedMeasurements(values, raw, None if cine is None else cine.area, cine, ecg)
