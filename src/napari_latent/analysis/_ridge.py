"""A ridge regression with leave-one-out alpha selection that is fast for N >> D.

Imported lazily by :mod:`.probes` (scikit-learn's base classes take a second to import).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from .probes import DEFAULT_ALPHAS

__all__ = ["GramRidgeCV"]


class GramRidgeCV(RegressorMixin, BaseEstimator):
    """Ridge regression choosing ``alpha`` by exact leave-one-out error, like ``RidgeCV(cv=None)``.

    Fast when N >> D (a cohort's latents): one eigendecomposition of the D x D Gram matrix
    serves every alpha, so 40,000 x 256 fits in a fraction of a second where scikit-learn's
    SVD-based ``RidgeCV`` takes seconds. Follows the scikit-learn estimator API
    (``fit``/``predict``/``score``, ``coef_``, ``intercept_``, ``alpha_``).
    """

    def __init__(self, alphas: Iterable[float] = DEFAULT_ALPHAS):
        self.alphas = alphas

    def fit(self, x: np.ndarray, y: np.ndarray) -> GramRidgeCV:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.ndim != 2 or len(x) != len(y) or len(y) < 2:
            raise ValueError(f"x must be (N, D) and y (N,) with N >= 2, got {x.shape} and {y.shape}")
        alphas = np.asarray(list(self.alphas), dtype=np.float64)
        if (alphas <= 0).any():
            raise ValueError("alphas must be positive")
        x_mean, y_mean = x.mean(axis=0), y.mean()
        xc, yc = x - x_mean, y - y_mean
        lam, v = np.linalg.eigh(xc.T @ xc)
        lam = np.maximum(lam, 0.0)
        q = xc @ v  # (N, D): the data in the Gram eigenbasis
        b = q.T @ yc
        inv = 1.0 / (lam[:, None] + alphas[None, :])  # (D, A)
        fitted = q @ (b[:, None] * inv)  # (N, A)
        hat = 1.0 / len(y) + (q * q) @ inv  # leverage, with the unpenalised intercept
        loo = (yc[:, None] - fitted) / np.maximum(1.0 - hat, 1e-12)
        best = int(np.argmin((loo**2).mean(axis=0)))
        self.alpha_ = float(alphas[best])
        self.coef_ = v @ (b * inv[:, best])
        self.intercept_ = float(y_mean - x_mean @ self.coef_)
        self.n_features_in_ = x.shape[1]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) @ self.coef_ + self.intercept_
