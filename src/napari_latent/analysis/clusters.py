"""Automatic clusters, labelled with the phenotypes that set each apart from the rest.

:func:`find_clusters` runs HDBSCAN (scikit-learn) on a 2-D map or on latents (reduced
to a few principal components first). Beyond ``max_fit`` points it fits a random
subsample and gives every other point the cluster of its nearest fitted neighbour, so
100,000 subjects cost about as much as 20,000. :func:`describe_clusters` ranks every
table column by how strongly it differs between a cluster and everyone else: Cohen's d
for continuous columns (reported as a difference of means in the column's unit), Cohen's h
for categories (reported as the share in the cluster against the rest).

    clusters = find_clusters(explorer.projections["fused"].coords)
    found = describe_clusters(explorer.table, clusters, units={"ef": "%"})
    found[0].label          # 'ef −14 % · prior_mi 92% (rest 6%)'
    found[0].indices        # the subjects of the first cluster
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Cluster", "Trait", "find_clusters", "describe_clusters", "cluster_centres"]

NOISE = -1


@dataclass(frozen=True)
class Trait:
    """How one column differs between a cluster and the rest of the cohort."""

    column: str
    effect: float  # Cohen's d (continuous) or Cohen's h (a category's share); signed
    text: str  # e.g. "ef −14 %" or "sex F 90% (rest 45%)"
    difference: float  # cluster minus rest: mean in column units, or share (0..1)
    level: object = None  # the category, for categorical columns


@dataclass(frozen=True)
class Cluster:
    """One cluster: its subjects, where it sits on the map, and what sets it apart."""

    id: int
    indices: np.ndarray  # sorted row positions
    traits: list[Trait] = field(default_factory=list)  # strongest first
    centre: tuple[float, float] | None = None  # map position for the label

    def __len__(self) -> int:
        return int(self.indices.size)

    @property
    def label(self) -> str:
        """The top traits joined, or ``"cluster <id>"`` when nothing stands out."""
        return " · ".join(t.text for t in self.traits) or f"cluster {self.id}"

    @property
    def name(self) -> str:
        """A group name: ``"cluster <id>: <top trait>"``."""
        top = f": {self.traits[0].text}" if self.traits else ""
        return f"cluster {self.id}{top}"


def find_clusters(
    points: np.ndarray,
    *,
    min_cluster_size: int | None = None,
    min_samples: int | None = None,
    max_fit: int = 20_000,
    components: int = 10,
    seed: int = 0,
) -> np.ndarray:
    """HDBSCAN cluster labels (N,) of ``points`` ((N, 2) map or (N, D) latents); -1 = noise.

    ``min_cluster_size`` defaults to 2 % of the points fitted (at least 10). Latents with
    more than ``components`` dimensions are reduced by PCA first. Clusters are numbered by
    size, largest first.
    """
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import NearestNeighbors

    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"points must be a non-empty (N, D) array, got shape {x.shape}")
    labels = np.full(len(x), NOISE, np.int64)
    finite = np.flatnonzero(np.isfinite(x).all(axis=1))
    if len(finite) < 10:
        return labels
    x = x[finite]
    if x.shape[1] > components:
        x = _pca(x, components)
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.choice(len(x), max_fit, replace=False)) if len(x) > max_fit else np.arange(len(x))
    size = min_cluster_size or max(10, int(0.02 * len(fit)))
    model = HDBSCAN(min_cluster_size=size, min_samples=min_samples or min(size, 25), copy=True)
    fitted = model.fit_predict(x[fit])
    out = np.full(len(x), NOISE, np.int64)
    out[fit] = fitted
    rest = np.setdiff1d(np.arange(len(x)), fit, assume_unique=True)
    if len(rest):  # the rest join the cluster of their nearest fitted point
        _, nearest = NearestNeighbors(n_neighbors=1).fit(x[fit]).kneighbors(x[rest])
        out[rest] = fitted[nearest[:, 0]]
    labels[finite] = _by_size(out)
    return labels


def _pca(x: np.ndarray, k: int) -> np.ndarray:
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[:: max(1, len(x) // 20_000)], full_matrices=False)
    return centred @ vt[:k].T


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... from the largest; noise stays -1."""
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    remap = np.full(labels.max() + 2 if len(ids) else 1, NOISE, np.int64)
    for new, old in enumerate(ids[np.argsort(-counts, kind="stable")]):
        remap[old] = new
    return np.where(labels >= 0, remap[np.maximum(labels, 0)], NOISE)


def cluster_centres(coords: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """Where to put each cluster's label on a map: the member nearest the members' median."""
    out = {}
    for k in np.unique(labels[labels >= 0]):
        xy = coords[labels == k]
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy):
            med = np.median(xy, axis=0)
            out[int(k)] = tuple(float(v) for v in xy[np.argmin(((xy - med) ** 2).sum(axis=1))])
    return out


def describe_clusters(
    table: pd.DataFrame,
    labels: np.ndarray,
    *,
    columns: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    coords: np.ndarray | None = None,
    top: int = 3,
    min_effect: float = 0.5,
) -> list[Cluster]:
    """Every cluster of ``labels`` with its strongest traits (``|effect| >= min_effect``, at most ``top``).

    ``columns``: the table columns to compare (default: every numeric, boolean or
    low-cardinality column but identifiers). ``units`` names each column's unit for the
    text. ``coords`` (N, 2): the map, for :attr:`Cluster.centre`.
    """
    labels = np.asarray(labels)
    if len(labels) != len(table):
        raise ValueError(f"{len(labels)} cluster labels for a table of {len(table)} rows")
    units = dict(units or {})
    columns = list(columns) if columns is not None else _describable(table)
    centres = cluster_centres(coords, labels) if coords is not None else {}
    encoded = {c: _encode(table[c]) for c in columns}
    clusters = []
    for k in np.unique(labels[labels >= 0]):
        inside = labels == k
        traits = []
        for column, enc in encoded.items():
            traits += _traits(column, enc, inside, units.get(column, ""))
        traits = [t for t in traits if np.isfinite(t.effect) and abs(t.effect) >= min_effect]
        traits.sort(key=lambda t: -abs(t.effect))
        seen, best = set(), []
        for t in traits:  # one trait per column
            if t.column not in seen:
                seen.add(t.column)
                best.append(t)
        clusters.append(Cluster(int(k), np.flatnonzero(inside), best[:top], centres.get(int(k))))
    return clusters


def _describable(table: pd.DataFrame) -> list[str]:
    out = []
    for c in table.columns:
        s = table[c]
        if c == "subject_id" or c.endswith("_id"):
            continue
        if pd.api.types.is_numeric_dtype(s) or s.dtype == bool or s.nunique(dropna=True) <= 12:
            out.append(str(c))
    return out


def _encode(series: pd.Series):
    """("continuous", float values) or ("categorical", codes, levels)."""
    if series.dtype != bool and pd.api.types.is_numeric_dtype(series) and series.nunique(dropna=True) > 2:
        return ("continuous", series.to_numpy(dtype=float, na_value=np.nan))
    codes, levels = pd.factorize(series, use_na_sentinel=True)
    return ("categorical", codes, list(levels))


def _traits(column: str, enc, inside: np.ndarray, unit: str) -> list[Trait]:
    if enc[0] == "continuous":
        x = enc[1]
        a, b = x[inside], x[~inside]
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if len(a) < 2 or len(b) < 2:
            return []
        diff = float(a.mean() - b.mean())
        pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
        d = diff / pooled if pooled > 0 else np.nan
        sign = "+" if diff >= 0 else "−"
        text = f"{column} {sign}{_fmt(abs(diff))}" + (f" {unit}" if unit and unit not in ("1", "-") else "")
        return [Trait(column, float(d), text, diff)]
    codes, levels = enc[1], enc[2]
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    if n_in == 0 or n_out == 0:
        return []
    out = []
    for j, level in enumerate(levels):
        p1 = float((codes[inside] == j).sum()) / n_in
        p2 = float((codes[~inside] == j).sum()) / n_out
        h = 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))
        if len(levels) == 2 and isinstance(level, bool | np.bool_) and not level:
            continue  # a yes/no column is described by its "yes" share
        name = column if isinstance(level, bool | np.bool_) else f"{column} {level}"
        out.append(Trait(column, float(h), f"{name} {p1:.0%} (rest {p2:.0%})", p1 - p2, level))
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"
