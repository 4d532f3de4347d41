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

__all__ = [
    "Direction",
    "phenotype_direction",
    "generative_direction",
    "calibrate_direction",
    "traverse",
    "order_by_variance",
    "order_by_importance",
]


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
    #: "probe" (the probe's weight vector), "generative" (mean latent shift per unit, E[z|y])
    #: or "calibrated" (generative, step set in closed loop on the decoded output).
    method: str = "probe"
    #: The measurement of the decoded output that checks the direction ("edv", "qt"...), if any.
    measure: str | None = None
    #: Measured change of the decoded output per labelled unit / the cohort's relation, on
    #: held-out subjects (1 = faithful); NaN when not measured. See ``check``.
    faithfulness: float = float("nan")
    check: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def offset(self, delta: float) -> np.ndarray:
        """The latent displacement (D,) for ``delta`` target units.

        For a calibrated direction: after which the decoded output measures ``delta`` units
        more; for a generative one: the cohort's mean latent shift for ``delta``; for a probe
        direction: the smallest move that changes the probe's prediction by ``delta``.
        """
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


def _binarised(target: pd.Series | np.ndarray, positive: Any) -> pd.Series:
    """``target == positive`` as a nullable boolean series (missing values stay missing)."""
    s = target if isinstance(target, pd.Series) else pd.Series(np.asarray(target))
    return (s == positive).where(s.notna()).rename(s.name)


def _refuse_categorical(result: ProbeResult) -> None:
    if result.kind == "categorical":
        raise ValueError(
            f"target has {len(result.classes)} classes {result.classes.tolist()}: pass positive=<class> "
            "to get the direction towards one of them"
        )


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
            target, kind = _binarised(target, positive), "binary"
        result = probe(latents, target, kind=kind, folds=folds, random_state=random_state)
    _refuse_categorical(result)
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


def generative_direction(
    latents: np.ndarray,
    target: pd.Series | np.ndarray,
    *,
    kind: Kind = "auto",
    positive: Any = None,
    unit: str | None = None,
    name: str | None = None,
    covariates: pd.DataFrame | np.ndarray | None = None,
    result: ProbeResult | None = None,
) -> Direction:
    """The mean latent shift per unit of a phenotype: the slope of E[z | y] (generative).

    Continuous target: least-squares regression of every latent dimension on the target
    (plus ``covariates`` held fixed, a conditional variant); the slope vector ``b`` is the
    direction and ``|b|`` the latent distance per unit. Binary target (``positive`` or a
    two-class column): the direction is E[z | y=1] - E[z | y=0], scaled in log-odds of a
    logistic probe (its prediction rises by one per unit along it). The probe's R²/AUROC
    is kept as ``score``.
    """
    z = np.asarray(latents, dtype=np.float64)
    s = target if isinstance(target, pd.Series) else pd.Series(np.asarray(target))
    if positive is not None:
        s, kind = _binarised(s, positive), "binary"
    if result is None:
        result = probe(z, s, kind=kind)
    _refuse_categorical(result)
    used = np.asarray(result.used, bool)
    if result.kind == "binary":
        pos = positive if positive is not None else result.positive
        y = np.asarray(s[used] == pos if positive is None else s[used].astype(bool), dtype=bool)
        if y.all() or not y.any():
            raise ValueError("both classes are needed for a binary direction")
        b = z[used][y].mean(axis=0) - z[used][~y].mean(axis=0)
        u = b / np.linalg.norm(b)
        gain = float(np.asarray(result.coef, np.float64) @ u)  # log-odds per latent unit along u
        if not np.isfinite(gain) or gain <= 0:
            raise ValueError("the probe does not rise along the class-mean difference: no direction")
        return Direction(
            name=name or result.name, vector=u, step_per_unit=1.0 / gain, kind="binary",
            unit=unit or "log-odds", metric=result.metric, score=result.score, positive=pos,
            probe=result, method="generative",
        )
    y = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)[used]
    design = [y - y.mean()]
    if covariates is not None:
        cov = np.asarray(covariates, dtype=np.float64)[used]
        cov = cov.reshape(len(cov), -1)
        design += list((cov - np.nanmean(cov, axis=0)).T)
    x = np.stack(design, 1)
    ok = np.isfinite(x).all(axis=1)
    coef = np.linalg.lstsq(x[ok], z[used][ok] - z[used][ok].mean(axis=0), rcond=None)[0]
    b = coef[0]
    norm = float(np.linalg.norm(b))
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the latents do not shift with the target: no generative direction")
    return Direction(
        name=name or result.name, vector=b / norm, step_per_unit=norm, kind=result.kind, unit=unit or "",
        metric=result.metric, score=result.score, probe=result, method="generative",
    )


def calibrate_direction(
    direction: Direction,
    decode: Any,
    latents: np.ndarray,
    relation: Any,
    *,
    calibrate_on: np.ndarray,
    check_on: np.ndarray | None = None,
    delta: float,
    territory: np.ndarray | None = None,
) -> Direction:
    """Set a direction's step in closed loop, so the decoded output measures the label's change.

    ``decode(z (B, D)) -> {"mri": ..., "ecg": ...}``; ``relation``
    (:class:`~napari_latent.analysis.calibration.Relation`) says how much the measurement
    changes per labelled unit across the cohort's reconstructions. The decoded change per
    latent distance is measured from the ``calibrate_on`` rows of ``latents`` over
    ``±delta`` labelled units; faithfulness is then checked on the ``check_on`` rows
    (subjects the calibration did not use). A decoder that does not move the measurement
    (or moves it the wrong way) keeps the generative step and reports its faithfulness.
    """
    import dataclasses

    from .calibration import closed_loop_slope, faithfulness

    z = np.asarray(latents, np.float32)
    distance = abs(delta) * direction.step_per_unit
    per_distance, slopes = closed_loop_slope(
        decode, z[calibrate_on], direction.vector, relation.measure, distance=distance, territory=territory
    )
    step = direction.step_per_unit
    method = direction.method
    usable = np.isfinite(per_distance) and per_distance * relation.slope > 0
    if usable and abs(per_distance) * distance > 0.05 * abs(relation.slope * delta):
        step = relation.slope / per_distance
        method = "calibrated"
    out = dataclasses.replace(direction, step_per_unit=float(step), method=method, measure=relation.measure)
    rows = calibrate_on if check_on is None or len(check_on) == 0 else check_on
    check = faithfulness(decode, z[rows], out.offset, relation, delta=delta, territory=territory)
    check.update(
        held_out=check_on is not None and len(check_on) > 0,
        calibration_subjects=int(len(calibrate_on)),
        generative_ratio=float(np.nanmedian(slopes) * direction.step_per_unit / relation.slope),
        relation_r=float(relation.r),
    )
    out.faithfulness = check["ratio"]
    out.check = check
    return out


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
