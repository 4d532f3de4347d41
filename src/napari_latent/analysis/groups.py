"""User-defined groups of subjects: built from selections, filters or queries; compared.

A :class:`Group` is a sorted array of row positions (0..N-1, positions in the subjects table
and in every latent array) plus how it was made, so it can be saved as JSON and rebuilt.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Group",
    "GROUP_COLOURS",
    "GroupDifference",
    "group_from_indices",
    "group_from_filter",
    "group_from_query",
    "filter_mask",
    "selection_mask",
    "summarize",
    "group_mean",
    "interpolate",
    "difference_direction",
]

#: Default group colours (colour-blind-friendly, Okabe-Ito), picked by a hash of the name.
GROUP_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")

#: Categorical columns with more distinct values than this are left out of summaries.
_MAX_LEVELS = 20
#: Columns of :func:`summarize`'s table (plus "flagged").
_SUMMARY_COLUMNS = [
    "column", "level", "kind", "group", "rest", "effect_size", "effect", "p_value", "test", "n_group", "n_rest",
]


def _default_colour(name: str) -> str:
    return GROUP_COLOURS[zlib.crc32(name.encode()) % len(GROUP_COLOURS)]


@dataclass(frozen=True)
class Group:
    """A named set of subjects.

    indices: sorted unique int64 row positions; colour: "#RRGGBB"; definition: how it was
    made, JSON-serialisable: ``{"kind": "indices"}``, ``{"kind": "filter", "filters": {...}}``
    or ``{"kind": "query", "query": "..."}``.
    """

    name: str
    indices: np.ndarray
    colour: str = ""
    definition: dict[str, Any] = field(default_factory=lambda: {"kind": "indices"})

    def __post_init__(self) -> None:
        idx = np.unique(np.asarray(self.indices, dtype=np.int64).ravel())
        if idx.size and idx[0] < 0:
            raise ValueError("group indices must be non-negative row positions")
        idx.setflags(write=False)
        object.__setattr__(self, "indices", idx)
        object.__setattr__(self, "colour", _check_colour(self.colour or _default_colour(self.name)))

    def __len__(self) -> int:
        return int(self.indices.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return (
            self.name == other.name
            and self.colour == other.colour
            and self.definition == other.definition
            and np.array_equal(self.indices, other.indices)
        )

    __hash__ = None  # type: ignore[assignment]

    def mask(self, n: int) -> np.ndarray:
        """Boolean selection mask of length ``n``."""
        if self.indices.size and self.indices[-1] >= n:
            raise ValueError(f"group {self.name!r} has row {self.indices[-1]} but the cohort has {n} rows")
        out = np.zeros(n, dtype=bool)
        out[self.indices] = True
        return out

    def complement(self, n: int, name: str | None = None) -> Group:
        """Every other row of an n-row cohort."""
        return Group(name or f"not {self.name}", np.flatnonzero(~self.mask(n)), definition={"kind": "indices"})

    def rebuild(self, table: pd.DataFrame) -> Group:
        """Re-evaluate a filter/query definition on (a new version of) the table."""
        kind = self.definition.get("kind")
        if kind == "filter":
            return group_from_filter(table, self.definition["filters"], name=self.name, colour=self.colour)
        if kind == "query":
            return group_from_query(table, self.definition["query"], name=self.name, colour=self.colour)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (indices included, so index groups round-trip)."""
        return {
            "name": self.name,
            "colour": self.colour,
            "definition": self.definition,
            "indices": self.indices.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Group:
        indices = np.asarray(data["indices"], dtype=np.int64)
        return cls(str(data["name"]), indices, data["colour"], dict(data["definition"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Group:
        return cls.from_dict(json.loads(text))


def _check_colour(colour: str) -> str:
    c = str(colour).strip()
    if not (len(c) in (7, 9) and c.startswith("#") and all(ch in "0123456789abcdefABCDEF" for ch in c[1:])):
        raise ValueError(f"colour must be a hex string like '#1f77b4', got {colour!r}")
    return c.upper()


# --------------------------------------------------------------------------------------
# Builders


def selection_mask(selection: Group | np.ndarray | Iterable[int], n: int) -> np.ndarray:
    """A boolean mask (n,) from a Group, a boolean mask or row positions."""
    if isinstance(selection, Group):
        return selection.mask(n)
    arr = np.asarray(selection)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"boolean mask has shape {arr.shape}, expected ({n},)")
        return arr
    idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"row positions out of range for {n} rows")
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


def group_from_indices(
    indices: np.ndarray | Iterable[int],
    *,
    name: str = "selection",
    colour: str | None = None,
    n: int | None = None,
) -> Group:
    """A group from row positions or a boolean mask (e.g. a lasso selection in a scatter)."""
    arr = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
    if arr.dtype == bool:
        arr = np.flatnonzero(arr)
    if n is not None:
        arr = np.flatnonzero(selection_mask(arr, n))
    return Group(name, arr, colour or "", {"kind": "indices"})


def _canonical_filters(table: pd.DataFrame, filters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Filters as JSON-friendly {"col": {"min": lo, "max": hi}} or {"col": {"in": [values]}}."""
    out: dict[str, dict[str, Any]] = {}
    for col, spec in filters.items():
        if col not in table.columns:
            raise ValueError(f"unknown column {col!r}; available columns: {', '.join(map(str, table.columns))}")
        numeric = pd.api.types.is_numeric_dtype(table[col]) and not pd.api.types.is_bool_dtype(table[col])
        if isinstance(spec, Mapping):
            if set(spec) - {"min", "max", "in"} or ("in" in spec and ({"min", "max"} & set(spec))):
                raise ValueError(f"filter for {col!r} must have keys 'min'/'max' or 'in', got {sorted(spec)}")
            rng = "in" not in spec
            lo, hi = spec.get("min"), spec.get("max")
            values = spec.get("in")
        elif isinstance(spec, tuple):
            if len(spec) != 2:
                raise ValueError(f"range filter for {col!r} must be (min, max), got {spec!r}")
            rng, (lo, hi), values = True, spec, None
        elif isinstance(spec, (str, bytes)) or not isinstance(spec, Iterable):
            rng, values = False, [spec]
        else:
            rng, values = False, list(spec)
        if rng:
            if not numeric:
                raise ValueError(f"a (min, max) range needs a numeric column; {col!r} is {table[col].dtype}")
            lo = None if lo is None or (isinstance(lo, float) and math.isnan(lo)) else float(lo)
            hi = None if hi is None or (isinstance(hi, float) and math.isnan(hi)) else float(hi)
            out[str(col)] = {"min": lo, "max": hi}
        else:
            out[str(col)] = {"in": [_json_scalar(v) for v in values]}
    return out


def _json_scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def filter_mask(table: pd.DataFrame, filters: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask (N,) of the rows that satisfy every filter (see :func:`group_from_filter`)."""
    mask = np.ones(len(table), dtype=bool)
    for col, spec in _canonical_filters(table, filters).items():
        values = table[col]
        if "in" in spec:
            allowed = spec["in"]
            keep = values.isin([v for v in allowed if not _is_missing(v)]).to_numpy(dtype=bool, na_value=False)
            if any(_is_missing(v) for v in allowed):
                keep = keep | values.isna().to_numpy()
        else:
            x = values.to_numpy(dtype=float, na_value=np.nan)
            keep = ~np.isnan(x)
            if spec["min"] is not None:
                keep &= x >= spec["min"]
            if spec["max"] is not None:
                keep &= x <= spec["max"]
        mask &= keep
    return mask


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def group_from_filter(
    table: pd.DataFrame,
    filters: Mapping[str, Any],
    *,
    name: str | None = None,
    colour: str | None = None,
) -> Group:
    """Rows satisfying every filter, e.g. ``{"age": (60, None), "sex": ["F"], "lbbb": [True]}``.

    A tuple ``(min, max)`` (either end None = open; both ends inclusive; NaN never matches)
    filters a numeric column by range; a list/set or a single value gives the allowed values
    of any column (include None to keep missing values). The canonical JSON forms
    ``{"min": lo, "max": hi}`` and ``{"in": [...]}`` are accepted too and are what the
    group's definition stores.
    """
    canonical = _canonical_filters(table, filters)
    mask = filter_mask(table, canonical)
    label = name or " & ".join(_describe(c, s) for c, s in canonical.items()) or "all"
    return Group(label, np.flatnonzero(mask), colour or "", {"kind": "filter", "filters": canonical})


def _describe(col: str, spec: dict[str, Any]) -> str:
    if "in" in spec:
        return f"{col} in {spec['in']}" if len(spec["in"]) != 1 else f"{col} = {spec['in'][0]}"
    lo, hi = spec["min"], spec["max"]
    if lo is not None and hi is not None:
        return f"{lo:g} <= {col} <= {hi:g}"
    if lo is not None:
        return f"{col} >= {lo:g}"
    if hi is not None:
        return f"{col} <= {hi:g}"
    return f"{col} any"


def group_from_query(
    table: pd.DataFrame,
    query: str,
    *,
    name: str | None = None,
    colour: str | None = None,
) -> Group:
    """Rows for which a pandas query is true, e.g. ``"age > 60 and sex == 'F'"``.

    The expression language is :meth:`pandas.DataFrame.query`'s (column names with spaces
    in backticks). Rows where it evaluates to missing are not members. An invalid query
    raises ValueError with pandas' message and the available column names.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"query must be a non-empty string; available columns: {', '.join(map(str, table.columns))}")
    try:
        result = table.eval(query)
    except Exception as exc:  # pandas raises SyntaxError, NameError, TypeError, KeyError, ...
        raise ValueError(
            f"invalid query {query!r}: {type(exc).__name__}: {exc}. "
            f"Available columns: {', '.join(map(str, table.columns))}"
        ) from exc
    if not isinstance(result, pd.Series) or len(result) != len(table) or not pd.api.types.is_bool_dtype(result):
        raise ValueError(
            f"query {query!r} must give True/False for each row (a condition such as \"age > 60\"); "
            f"available columns: {', '.join(map(str, table.columns))}"
        )
    mask = result.to_numpy(dtype=bool, na_value=False)
    return Group(name or query.strip(), np.flatnonzero(mask), colour or "", {"kind": "query", "query": query.strip()})


# --------------------------------------------------------------------------------------
# Comparing a group with the rest of the cohort


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def summarize(
    group: Group | np.ndarray | Iterable[int],
    table: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    rest: Group | np.ndarray | Iterable[int] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare a group with the rest of the cohort (or with ``rest``), column by column.

    One row per numeric column and per level of each categorical column (bool columns: the
    True level only), with: ``group`` and ``rest`` (mean, or share of the level),
    ``effect_size`` (Cohen's d with pooled SD for numeric; difference in proportions,
    group - rest, for categorical), ``p_value`` (Welch's t-test; chi-square on the column's
    contingency table, Fisher's exact test for 2x2 tables with an expected count < 5),
    ``n_group``/``n_rest`` (non-missing values) and ``flagged``: a large effect
    (|d| >= 0.8 or |difference| >= 0.2) that is significant after Bonferroni correction.
    Columns default to every column but ``subject_id`` (categoricals with > 20 levels skipped).
    """
    from scipy import stats

    n = len(table)
    in_group = selection_mask(group, n)
    in_rest = ~in_group if rest is None else selection_mask(rest, n)
    if columns is None:
        columns = [c for c in table.columns if c != "subject_id"]
    rows = []
    for col in columns:
        if col not in table.columns:
            raise ValueError(f"unknown column {col!r}; available columns: {', '.join(map(str, table.columns))}")
        s = table[col]
        if not _is_categorical(s):
            x = s.to_numpy(dtype=float, na_value=np.nan)
            a, b = x[in_group], x[in_rest]
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            d = p = np.nan
            if len(a) >= 2 and len(b) >= 2:
                pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
                d = (a.mean() - b.mean()) / pooled if pooled > 0 else np.nan
                if a.var() > 0 or b.var() > 0:
                    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
            rows.append(
                _row(col, None, "numeric", _mean(a), _mean(b), d, "cohen_d", p, "welch_t", len(a), len(b))
            )
            continue
        ok = s.notna().to_numpy()
        ga, gb = s[in_group & ok], s[in_rest & ok]
        levels = pd.unique(s[ok])
        if pd.api.types.is_bool_dtype(s) or set(levels) <= {True, False}:
            levels = [True]
        elif len(levels) > _MAX_LEVELS:
            continue
        else:
            levels = sorted(levels, key=str)
        p, test = _categorical_test(ga, gb, stats)
        for level in levels:
            share_a = float((ga == level).mean()) if len(ga) else np.nan
            share_b = float((gb == level).mean()) if len(gb) else np.nan
            diff = share_a - share_b
            rows.append(
                _row(col, level, "categorical", share_a, share_b, diff, "diff_proportion", p, test, len(ga), len(gb))
            )
    out = pd.DataFrame(rows, columns=_SUMMARY_COLUMNS)
    n_tests = max(1, out["column"].nunique())
    large = np.where(out["kind"] == "numeric", out["effect_size"].abs() >= 0.8, out["effect_size"].abs() >= 0.2)
    out["flagged"] = large & (out["p_value"] < alpha / n_tests).to_numpy()
    return out


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else np.nan


def _row(col, level, kind, ga, gb, effect, effect_name, p, test, na, nb) -> dict[str, Any]:
    return {
        "column": col,
        "level": level,
        "kind": kind,
        "group": ga,
        "rest": gb,
        "effect_size": float(effect),
        "effect": effect_name,
        "p_value": float(p),
        "test": test,
        "n_group": int(na),
        "n_rest": int(nb),
    }


def _categorical_test(ga: pd.Series, gb: pd.Series, stats: Any) -> tuple[float, str]:
    if len(ga) == 0 or len(gb) == 0:
        return np.nan, "chi2"
    labels = np.concatenate([np.zeros(len(ga), int), np.ones(len(gb), int)])
    values = pd.concat([ga, gb], ignore_index=True).astype(str)
    table = pd.crosstab(labels, values.to_numpy()).to_numpy()
    if table.shape[1] < 2:
        return 1.0, "chi2"
    if table.shape == (2, 2):
        expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
        if (expected < 5).any():
            return float(stats.fisher_exact(table).pvalue), "fisher"
    return float(stats.chi2_contingency(table).pvalue), "chi2"


# --------------------------------------------------------------------------------------
# Group latents


def group_mean(latents: np.ndarray, group: Group | np.ndarray | Iterable[int]) -> np.ndarray:
    """The mean latent vector (D,) of a group (decode it for the group's prototype)."""
    z = np.asarray(latents)
    mask = selection_mask(group, len(z))
    if not mask.any():
        raise ValueError("cannot take the mean of an empty group")
    return z[mask].mean(axis=0)


def interpolate(mean_a: np.ndarray, mean_b: np.ndarray, steps: int = 10) -> np.ndarray:
    """``steps`` latents (steps, D) on the line z(t) = (1 - t)·a + t·b, t from 0 to 1."""
    a, b = np.asarray(mean_a, dtype=float), np.asarray(mean_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"mean_a and mean_b must be vectors of the same length, got {a.shape} and {b.shape}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = np.linspace(0.0, 1.0, int(steps))[:, None]
    out = (1.0 - t) * a + t * b
    return out.astype(np.result_type(np.asarray(mean_a).dtype, np.float32))


@dataclass(frozen=True)
class GroupDifference:
    """How group B differs from group A in latent space.

    direction: unit vector (D,) from A's mean to B's; distance: |mean_b - mean_a|;
    t, p: per-dimension Welch t statistics (B vs A) and two-sided p-values.
    """

    direction: np.ndarray
    t: np.ndarray
    p: np.ndarray
    mean_a: np.ndarray
    mean_b: np.ndarray
    distance: float

    def significant_dimensions(self, alpha: float = 0.05) -> np.ndarray:
        """Dimensions with Bonferroni-corrected p < alpha, most significant first."""
        order = np.argsort(self.p, kind="stable")
        return order[self.p[order] < alpha / len(self.p)]


def difference_direction(
    latents: np.ndarray,
    group_a: Group | np.ndarray | Iterable[int],
    group_b: Group | np.ndarray | Iterable[int],
) -> GroupDifference:
    """The unit direction from group A's mean latent to group B's, with per-dimension Welch t-tests."""
    from scipy import stats

    z = np.asarray(latents, dtype=np.float64)
    a = z[selection_mask(group_a, len(z))]
    b = z[selection_mask(group_b, len(z))]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"each group needs at least 2 members (got {len(a)} and {len(b)})")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    diff = mean_b - mean_a
    distance = float(np.linalg.norm(diff))
    direction = diff / distance if distance > 0 else np.zeros_like(diff)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.ttest_ind(b, a, axis=0, equal_var=False)
    t = np.nan_to_num(np.asarray(res.statistic, dtype=float), nan=0.0)
    p = np.nan_to_num(np.asarray(res.pvalue, dtype=float), nan=1.0)
    return GroupDifference(direction, t, p, mean_a, mean_b, distance)
