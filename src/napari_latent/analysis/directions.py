"""Interpretable latent directions ("older", "higher LV mass") and slider orderings.

A probe's weight vector, mapped back to latent units, is the direction along which its
prediction rises fastest. Along the unit vector ``u = w / |w|`` the prediction
``z @ w + b`` changes by ``|w|`` per unit of latent distance, so one unit of the target
(one year, 0.01 of EF; one unit of log-odds for a binary condition) is
``step_per_unit = 1 / |w|`` of latent distance: that is how a slider is labelled in
phenotype units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .probes import Kind, ProbeResult, probe

__all__ = ["Direction", "phenotype_direction", "traverse", "order_by_variance", "order_by_importance"]


@dataclass
class Direction:
    """A unit latent direction with a phenotype scale.

    vector: unit (D,); step_per_unit: latent distance per +1 target unit (per +1 log-odds
    of ``positive`` for a binary target); unit: the target unit's label; score/metric: the
    probe's cross-validated R² or AUROC (how much to trust the direction).
    """

    name: str | None
    vector: np.ndarray
    step_per_unit: float
    kind: str
    unit: str = ""
    metric: str = ""
    score: float = float("nan")
    positive: Any = None
    probe: ProbeResult | None = field(default=None, repr=False, compare=False)

    def offset(self, delta: float) -> np.ndarray:
        """The latent displacement (D,) that changes the predicted target by ``delta`` units."""
        return self.vector * (float(delta) * self.step_per_unit)

    def to_latent_distance(self, delta: float | np.ndarray) -> float | np.ndarray:
        """Latent distance along the direction for ``delta`` target units."""
        return np.asarray(delta) * self.step_per_unit

    def to_target_units(self, distance: float | np.ndarray) -> float | np.ndarray:
        """Target units corresponding to a latent distance along the direction."""
        return np.asarray(distance) / self.step_per_unit

    def label(self, delta: float) -> str:
        """A slider label such as "+5 years" or "-1 log-odds prior_mi"."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{delta:+g}{unit}"


def phenotype_direction(
    latents: np.ndarray,
    target: pd.Series | np.ndarray,
    *,
    kind: Kind = "auto",
    positive: Any = None,
    unit: str | None = None,
    name: str | None = None,
    folds: int = 5,
    random_state: int | None = 0,
    result: ProbeResult | None = None,
) -> Direction:
    """The latent direction of a phenotype, from a ridge (continuous) or logistic (binary) probe.

    For a categorical target (or to choose the "up" class of a binary one) pass
    ``positive``: the target is binarised as ``target == positive``. ``unit`` labels the
    slider (default: "log-odds" for binary targets, "" otherwise). Pass the ``result`` of an
    earlier probe of the same latents and target to reuse it.
    """
    if result is None:
        if positive is not None:
            s = target if isinstance(target, pd.Series) else pd.Series(np.asarray(target))
            target = (s == positive).where(s.notna()).rename(s.name)
            kind = "binary"
        result = probe(latents, target, kind=kind, folds=folds, random_state=random_state)
    if result.kind == "categorical":
        raise ValueError(
            f"target has {len(result.classes)} classes {result.classes.tolist()}: pass positive=<class> "
            "to get the direction towards one of them"
        )
    w = np.asarray(result.coef, dtype=np.float64)
    norm = float(np.linalg.norm(w))
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the probe's weights are all zero: the target has no linear direction in this space")
    pos = None
    if result.kind == "binary":
        pos = positive if positive is not None else result.positive
        if unit is None:
            unit = "log-odds"
    return Direction(
        name=name or result.name,
        vector=w / norm,
        step_per_unit=1.0 / norm,
        kind=result.kind,
        unit=unit or "",
        metric=result.metric,
        score=result.score,
        positive=pos,
        probe=result,
    )


def traverse(
    z0: np.ndarray,
    direction: Direction | np.ndarray,
    values: Iterable[float] | np.ndarray,
    *,
    units: str = "target",
) -> np.ndarray:
    """Latent points ``z0 + v * step * u`` for each value v: (len(values), D).

    With a :class:`Direction`, ``values`` are target units (``units="target"``, e.g. years)
    or latent distances (``units="latent"``); with a plain vector they are latent distances
    along its unit normalisation.
    """
    z = np.asarray(z0, dtype=np.float64)
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64).ravel()
    if units not in ("target", "latent"):
        raise ValueError(f"units must be 'target' or 'latent', got {units!r}")
    if isinstance(direction, Direction):
        u = direction.vector
        dist = v * direction.step_per_unit if units == "target" else v
    else:
        u = np.asarray(direction, dtype=np.float64)
        norm = np.linalg.norm(u)
        if norm == 0:
            raise ValueError("direction is the zero vector")
        u = u / norm
        dist = v
    if z.shape != u.shape:
        raise ValueError(f"z0 has shape {z.shape} but the direction has {u.shape}")
    out = z[None, :] + dist[:, None] * u[None, :]
    return out.astype(np.result_type(np.asarray(z0).dtype, np.float32))


def order_by_variance(latents: np.ndarray) -> np.ndarray:
    """Latent dimensions ordered by variance across subjects, largest first (stable)."""
    var = np.asarray(latents, dtype=np.float64).var(axis=0)
    return np.argsort(-var, kind="stable")


def order_by_importance(probe_coef: ProbeResult | np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """Latent dimensions ordered by a probe's |weight|, largest first (stable).

    Raw latent-unit weights are multiplied by ``scale`` (e.g. each dimension's standard
    deviation) when given; a :class:`ProbeResult` uses its standardised weights. For several
    classes (C, D) the weight norm across classes is used.
    """
    if isinstance(probe_coef, ProbeResult):
        coef = np.atleast_2d(probe_coef.model[-1].coef_)  # on standardised latents
    else:
        coef = np.atleast_2d(np.asarray(probe_coef, dtype=np.float64))
        if scale is not None:
            coef = coef * np.asarray(scale, dtype=np.float64)[None, :]
    importance = np.linalg.norm(coef, axis=0)
    return np.argsort(-importance, kind="stable")
