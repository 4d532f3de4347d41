"""Latents with known structure, for tests, benchmarks and demos that run without a model.

``latents = standardised factors @ mixing + noise``: every encoded column of a generated
subjects table owns one row of ``mixing`` (orthonormal rows scaled by a gain), so a linear
probe can recover it exactly and the true direction of each phenotype is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SyntheticLatents", "synthetic_latents", "synthetic_table", "ENCODED_COLUMNS"]

#: Columns of :func:`synthetic_table` that :func:`synthetic_latents` encodes linearly.
ENCODED_COLUMNS = (
    "age",
    "sex",
    "bmi",
    "hypertension",
    "prior_mi",
    "heart_rate",
    "lvedv",
    "ef",
    "lv_mass",
    "qrs_duration",
)


@dataclass(frozen=True)
class SyntheticLatents:
    """Latents (N, D) float32, their subjects table and the ground truth they were made from."""

    latents: np.ndarray
    table: pd.DataFrame
    mixing: np.ndarray  # (len(columns), D): row i is the latent direction of columns[i]
    columns: tuple[str, ...]
    noise: float

    def true_direction(self, column: str) -> np.ndarray:
        """The unit latent direction along which ``column`` is encoded."""
        row = self.mixing[self.columns.index(column)]
        return row / np.linalg.norm(row)


def synthetic_table(n: int, seed: int = 0) -> pd.DataFrame:
    """A subjects table with demographics, conditions and phenotypes of plausible ranges.

    ``unrelated`` is a random column no latent encodes (a negative control); ``lbbb`` and
    ``qtc`` are present but not encoded by :func:`synthetic_latents`.
    """
    rng = np.random.default_rng(seed)
    age = rng.uniform(40, 80, n)
    sex = rng.choice(np.array(["F", "M"], dtype=object), n)
    male = sex == "M"
    bmi = rng.normal(27, 4, n)
    hypertension = rng.random(n) < 0.1 + 0.5 * (age - 40) / 40
    prior_mi = rng.random(n) < 0.08
    lbbb = rng.random(n) < 0.03
    heart_rate = rng.normal(68, 10, n)
    lvedv = rng.normal(np.where(male, 160, 125), 20)
    ef = np.clip(rng.normal(0.6, 0.05, n) - 0.12 * prior_mi, 0.2, 0.8)
    lv_mass = rng.normal(np.where(male, 140, 105), 15) + 15 * hypertension
    return pd.DataFrame(
        {
            "subject_id": [f"SYN{i:06d}" for i in range(n)],
            "age": age.round(1),
            "sex": sex,
            "bmi": bmi,
            "hypertension": hypertension,
            "prior_mi": prior_mi,
            "lbbb": lbbb,
            "atrial_enlargement": rng.random(n) < 0.05,
            "heart_rate": heart_rate,
            "lvedv": lvedv,
            "ef": ef,
            "lv_mass": lv_mass,
            "qrs_duration": rng.normal(95, 10, n) + 40 * lbbb,
            "qtc": rng.normal(420, 20, n),
            "unrelated": rng.normal(0, 1, n),
        }
    )


def synthetic_latents(
    n: int = 1000,
    dim: int = 32,
    *,
    noise: float = 0.3,
    gain: float = 1.0,
    seed: int = 0,
    table: pd.DataFrame | None = None,
    columns: tuple[str, ...] = ENCODED_COLUMNS,
) -> SyntheticLatents:
    """Latents linearly encoding ``columns`` of a (generated) subjects table.

    Each column is standardised (booleans and ``sex`` as 0/1 first) and multiplied by its
    own orthonormal mixing row times ``gain``; isotropic Gaussian noise of sd ``noise`` is
    added to every latent dimension. ``dim`` must be at least ``len(columns)``.
    """
    if dim < len(columns):
        raise ValueError(f"dim={dim} is smaller than the number of encoded columns ({len(columns)})")
    table = synthetic_table(n, seed) if table is None else table
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    factors = np.empty((len(table), len(columns)))
    for j, col in enumerate(columns):
        values = table[col]
        x = (values == "M").to_numpy(float) if col == "sex" else values.to_numpy(float)
        factors[:, j] = (x - x.mean()) / (x.std() or 1.0)
    q, _ = np.linalg.qr(rng.normal(size=(dim, len(columns))))
    mixing = gain * q.T  # (K, D), orthonormal rows
    latents = factors @ mixing + noise * rng.normal(size=(len(table), dim))
    return SyntheticLatents(latents.astype(np.float32), table, mixing, tuple(columns), noise)
