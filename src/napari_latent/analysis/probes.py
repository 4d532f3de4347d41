"""Linear probes: how well a latent space predicts a phenotype, overall and per subgroup.

Continuous targets: ridge regression on standardised latents, the penalty chosen by exact
leave-one-out error inside each fold as ``RidgeCV`` does (:class:`._ridge.GramRidgeCV`, which
gives RidgeCV's answer much faster for N >> D), scored by the out-of-fold R². Binary and
categorical targets: logistic regression (balanced class weights), scored by the
out-of-fold AUROC (one-vs-rest macro average for more than two classes) and accuracy.
Rows whose target is missing are dropped (and counted). Coefficients are refitted on all
rows and mapped back to latent units, so ``latents @ coef + intercept`` is the prediction
(the log-odds of the positive class for a binary target).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .groups import Group, selection_mask
from .neighbours import _as_latents

__all__ = ["ProbeResult", "probe", "probe_table", "probe_subgroup", "infer_kind", "DEFAULT_ALPHAS"]

Kind = Literal["auto", "continuous", "binary", "categorical"]

#: Ridge penalties tried (on standardised latents).
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 5, 17))
#: Categorical targets with more classes than this are refused (probably an id or free text).
_MAX_CLASSES = 20


@dataclass
class ProbeResult:
    """A fitted probe and its out-of-fold (cross-validated) performance.

    ``y_true``/``y_pred``/``proba`` hold the ``n`` rows with a target (``used`` marks them in
    the full N), ``y_pred`` and ``proba`` out-of-fold. ``coef`` (D,) — (C, D) for more than
    two classes — and ``intercept`` are in latent units, fitted on all used rows.
    """

    name: str | None
    kind: str  # "continuous" | "binary" | "categorical"
    metric: str  # "r2" | "auroc"
    score: float
    metrics: dict[str, float]
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: np.ndarray | None
    coef: np.ndarray
    intercept: float | np.ndarray
    used: np.ndarray
    n: int
    n_dropped: int
    folds: int
    alpha: float | None = None  # ridge penalty chosen on all rows (continuous)
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def positive(self) -> Any:
        """The class whose log-odds ``coef`` predicts (binary targets)."""
        return None if self.classes is None or len(self.classes) != 2 else self.classes[1]

    def decision_function(self, latents: np.ndarray) -> np.ndarray:
        """``latents @ coef.T + intercept``: predicted value, or log-odds (per class for >2)."""
        z = np.asarray(latents, dtype=np.float64)
        return z @ np.asarray(self.coef).T + self.intercept

    def predict(self, latents: np.ndarray) -> np.ndarray:
        """Predicted values (continuous) or class labels (binary/categorical)."""
        return self.model.predict(np.atleast_2d(np.asarray(latents, dtype=np.float64)))

    def predict_proba(self, latents: np.ndarray) -> np.ndarray:
        """Class probabilities (binary/categorical)."""
        if self.kind == "continuous":
            raise AttributeError("a continuous probe has no probabilities")
        return self.model.predict_proba(np.atleast_2d(np.asarray(latents, dtype=np.float64)))

    def summary(self) -> dict[str, Any]:
        """A flat, JSON-friendly summary (name, kind, metrics, n, n_dropped, folds)."""
        counts = {"n": self.n, "n_dropped": self.n_dropped, "folds": self.folds}
        return {"name": self.name, "kind": self.kind, **self.metrics, **counts}


def infer_kind(target: pd.Series | np.ndarray) -> str:
    """"binary" for two distinct values, "categorical" for more non-numeric ones, else "continuous"."""
    s = pd.Series(np.asarray(target) if not isinstance(target, pd.Series) else target)
    values = s.dropna()
    n_unique = values.nunique()
    if n_unique == 2:
        return "binary"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "categorical" if n_unique > 2 else "binary"
    return "continuous"


def _target(target: pd.Series | np.ndarray, n: int) -> tuple[pd.Series, str | None]:
    if isinstance(target, pd.Series):
        s, name = target.reset_index(drop=True), (None if target.name is None else str(target.name))
    else:
        arr = np.asarray(target)
        if arr.ndim != 1:
            raise ValueError(f"target must be one-dimensional, got shape {arr.shape}")
        s, name = pd.Series(arr), None
    if len(s) != n:
        raise ValueError(f"target has {len(s)} values but there are {n} latents")
    return s, name


def probe(
    latents: np.ndarray,
    target: pd.Series | np.ndarray,
    *,
    kind: Kind = "auto",
    folds: int = 5,
    random_state: int | None = 0,
    alphas: Iterable[float] = DEFAULT_ALPHAS,
    C: float = 1.0,
    max_iter: int = 1000,
) -> ProbeResult:
    """Probe how well latents (N, D) predict ``target`` (N,) with k-fold cross-validation.

    ``kind="auto"`` picks "binary" for two distinct values, "categorical" for more than two
    non-numeric values, else "continuous". Missing targets are dropped (``n_dropped``).
    Folds are shuffled with ``random_state`` (stratified for classes) and reduced to the
    smallest class size when a class is rarer than ``folds``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._ridge import GramRidgeCV

    z = _as_latents(latents).astype(np.float64)
    s, name = _target(target, len(z))
    used = s.notna().to_numpy()
    n_dropped = int((~used).sum())
    y = s[used].to_numpy()
    x = z[used]
    label = repr(name) if name else "(unnamed)"
    if kind == "auto":
        kind = infer_kind(s)
    if kind not in ("continuous", "binary", "categorical"):
        raise ValueError(f"kind must be 'auto', 'continuous', 'binary' or 'categorical', got {kind!r}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")

    if kind == "continuous":
        y = y.astype(np.float64)
        if len(y) < folds or np.ptp(y) == 0:
            raise ValueError(f"target {label} needs at least {folds} varying values (got {len(y)})")
        model = make_pipeline(StandardScaler(), GramRidgeCV(alphas=tuple(alphas)))
        cv = KFold(n_splits=folds, shuffle=True, random_state=random_state)
        oof = cross_val_predict(model, x, y, cv=cv)
        model.fit(x, y)
        coef, intercept = _latent_units(model)
        metrics = _continuous_metrics(y, oof)
        return ProbeResult(
            name, kind, "r2", metrics["r2"], metrics, y, oof, None, None, coef[0], float(intercept[0]),
            used, len(y), n_dropped, folds, float(model[-1].alpha_), model,
        )

    if y.dtype == object:
        y = y.astype(bool) if _all_bool(y) else y.astype(str)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"target {label} has a single class {classes.tolist()}; nothing to probe")
    if len(classes) > _MAX_CLASSES:
        raise ValueError(f"target {label} has {len(classes)} classes (more than {_MAX_CLASSES})")
    if kind == "binary" and len(classes) > 2:
        raise ValueError(f"kind='binary' but the target has {len(classes)} classes: {classes.tolist()}")
    n_splits = min(folds, int(counts.min()))
    if n_splits < 2:
        rare = classes[counts.argmin()]
        raise ValueError(f"class {rare!r} has {counts.min()} member(s); need at least 2 to cross-validate")
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter, random_state=random_state),
    )
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    proba = cross_val_predict(model, x, y, cv=cv, method="predict_proba")
    model.fit(x, y)
    classes = model[-1].classes_
    y_pred = classes[np.argmax(proba, axis=1)]
    coef, intercept = _latent_units(model)
    metrics = _class_metrics(y, proba, classes)
    if len(classes) == 2:
        coef, intercept = coef[0], float(intercept[0])
        kind = "binary"
    else:
        kind = "categorical"
    return ProbeResult(
        name, kind, "auroc", metrics["auroc"], metrics, y, y_pred, proba, classes, coef, intercept,
        used, len(y), n_dropped, n_splits, None, model,
    )


def _all_bool(y: np.ndarray) -> bool:
    return all(isinstance(v, (bool, np.bool_)) for v in y)


def _latent_units(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Weights and intercepts of scaler + linear model as ``z @ w.T + b`` on raw latents."""
    scaler, est = model[0], model[-1]
    w = np.atleast_2d(est.coef_) / scaler.scale_
    b = np.atleast_1d(est.intercept_) - w @ scaler.mean_
    return w, b


def _continuous_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, r2_score

    if len(y) < 2:
        return {"r2": np.nan, "pearson_r": np.nan, "mae": float(np.abs(y - pred).mean()) if len(y) else np.nan}
    r = np.corrcoef(y, pred)[0, 1] if np.ptp(y) > 0 and np.ptp(pred) > 0 else np.nan
    r2 = float(r2_score(y, pred)) if np.ptp(y) > 0 else np.nan
    return {"r2": r2, "pearson_r": float(r), "mae": float(mean_absolute_error(y, pred))}


def _class_metrics(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    if len(y) == 0:
        return {"auroc": np.nan, "accuracy": np.nan, "balanced_accuracy": np.nan}
    pred = classes[np.argmax(proba, axis=1)]
    present = np.unique(y)
    auroc = np.nan
    if len(present) > 1:
        if len(classes) == 2:
            auroc = float(roc_auc_score(y == classes[1], proba[:, 1]))
        elif len(present) == len(classes):
            auroc = float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))
    bal = float(balanced_accuracy_score(y, pred)) if len(present) > 1 else np.nan
    return {"auroc": auroc, "accuracy": float(np.mean(pred == y)), "balanced_accuracy": bal}


def probe_subgroup(
    latents: np.ndarray,
    target: pd.Series | np.ndarray,
    mask: Group | np.ndarray | Iterable[int],
    *,
    result: ProbeResult | None = None,
    **probe_kwargs: Any,
) -> pd.DataFrame:
    """The whole-cohort probe's out-of-fold performance within a subgroup vs the rest.

    Rows "group", "rest" and "all"; columns: the probe's metrics and ``n``. Pass the
    ``result`` of an earlier :func:`probe` of the same latents and target to skip refitting
    (selections change often; the probe does not). A metric undefined on a subset (AUROC
    with a single class present) is NaN.
    """
    if result is None:
        result = probe(latents, target, **probe_kwargs)
    n_total = len(result.used)
    if len(latents) != n_total:
        raise ValueError(f"the probe was fitted on {n_total} rows but latents have {len(latents)}")
    in_group = selection_mask(mask, n_total)[result.used]
    rows = {}
    for label, sel in (("group", in_group), ("rest", ~in_group), ("all", np.ones_like(in_group))):
        if result.kind == "continuous":
            metrics = _continuous_metrics(result.y_true[sel], result.y_pred[sel])
        else:
            metrics = _class_metrics(result.y_true[sel], result.proba[sel], result.classes)
        rows[label] = {**metrics, "n": int(sel.sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def probe_table(
    latent_spaces: Mapping[str, np.ndarray],
    table: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    folds: int = 5,
    random_state: int | None = 0,
    progress: Callable[[int, int], Any] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Probe every column from every latent space: one row per (column, space).

    Columns: ``column, space, kind, metric, value, n, n_dropped, error`` (``metric`` is "r2"
    or "auroc"; a column that cannot be probed, e.g. constant, gets value NaN and the
    reason in ``error``). ``columns`` defaults to every column but ``subject_id``.
    ``progress(done, total)`` is called after each probe; ``should_stop()`` returning True
    raises InterruptedError.
    """
    if columns is None:
        columns = [c for c in table.columns if c != "subject_id"]
    columns = list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"unknown column(s) {missing}; available columns: {', '.join(map(str, table.columns))}")
    total = len(columns) * len(latent_spaces)
    rows, done = [], 0
    for col in columns:
        for space, latents in latent_spaces.items():
            if should_stop is not None and should_stop():
                raise InterruptedError("probe table cancelled")
            row: dict[str, Any] = {"column": col, "space": space}
            try:
                res = probe(latents, table[col], folds=folds, random_state=random_state)
                row.update(kind=res.kind, metric=res.metric, value=res.score, n=res.n, n_dropped=res.n_dropped)
                row["error"] = ""
            except ValueError as exc:
                row.update(kind="", metric="", value=np.nan, n=0, n_dropped=int(table[col].isna().sum()))
                row["error"] = str(exc)
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, total)
    return pd.DataFrame(rows, columns=["column", "space", "kind", "metric", "value", "n", "n_dropped", "error"])
