"""2-D projections of latent spaces (PCA, t-SNE, PaCMAP, UMAP) and placing new latents on them.

``project`` returns a :class:`ProjectionResult` whose ``transform`` places new latent vectors
(an edited latent, a group mean) on the existing map:

* PCA: exact (the map is linear), and ``inverse_transform`` maps a point of the map back to
  the latent space.
* t-SNE, PaCMAP, UMAP: a distance-weighted k-nearest-neighbour regressor fitted on
  latents -> coordinates (``placement="knn"``, the default). A training latent lands exactly
  on its own point. Measured on a loaded 2-core machine, N = 40,000 x 256, one vector:
  k-NN ~2.5-3 ms (median) vs ~20 ms for openTSNE's optimisation-based
  ``TSNEEmbedding.transform``, which is available as ``placement="native"`` for t-SNE.

t-SNE is openTSNE with FFT-accelerated gradients and PCA initialisation. It streams
intermediate layouts through ``callback(iteration, coords)`` every ``callback_every``
iterations, and ``should_stop()`` (polled at the same cadence and between phases) cancels
it: :class:`Cancelled` is raised, carrying the layout reached so far in ``.partial``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .neighbours import NeighbourIndex, _as_latents

__all__ = ["Cancelled", "ProjectionResult", "project", "trustworthiness", "METHODS"]

#: Projection methods ``project`` knows, fastest first.
METHODS = ("pca", "tsne", "pacmap", "umap")

Method = Literal["pca", "tsne", "pacmap", "umap"]
Placement = Literal["auto", "linear", "knn", "native"]
ProgressCallback = Callable[[int, np.ndarray], Any]


class Cancelled(InterruptedError):
    """A projection was cancelled by ``should_stop()``.

    ``partial`` is a :class:`ProjectionResult` holding the layout reached so far (with
    ``info["cancelled"] = True`` and k-NN placement), or None when it was cancelled before
    any layout existed. A subclass of InterruptedError, like the project's other cancellations.
    """

    def __init__(self, message: str = "projection cancelled", partial: ProjectionResult | None = None):
        super().__init__(message)
        self.partial = partial


# --------------------------------------------------------------------------------------
# Placement of new latents on an existing map


class _LinearPlacer:
    """coords = (z - mean) @ components.T, exactly as PCA computes them."""

    def __init__(self, mean: np.ndarray, components: np.ndarray):
        self.mean = mean.astype(np.float64)
        self.components = components.astype(np.float64)  # (2, D)

    def transform(self, z: np.ndarray) -> np.ndarray:
        return ((z - self.mean) @ self.components.T).astype(np.float32)

    def inverse_transform(self, coords: np.ndarray) -> np.ndarray:
        return (coords @ self.components + self.mean).astype(np.float32)


class _KNNPlacer:
    """Distance-weighted k-NN regression latents -> coords; the index is built on first use."""

    def __init__(self, latents: np.ndarray, coords: np.ndarray, k: int = 10):
        self._latents = latents
        self.coords = coords
        self.k = min(k, len(coords))
        self._index: NeighbourIndex | None = None

    def transform(self, z: np.ndarray) -> np.ndarray:
        if self._index is None:
            self._index = NeighbourIndex(self._latents)
            self._latents = None
        idx, dist = self._index.query(z, self.k)  # (M, k)
        exact = dist <= 1e-6
        w = np.where(exact.any(axis=1, keepdims=True), exact.astype(np.float64), 1.0 / np.maximum(dist, 1e-12))
        w /= w.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkc->mc", w, self.coords[idx]).astype(np.float32)


class _TSNEPlacer:
    """openTSNE's own ``TSNEEmbedding.transform`` (optimises each new point against the map).

    openTSNE re-centres its reference embedding in place before placing points, so the
    placer keeps its own centred copy and shifts the results back to the map's frame.
    """

    def __init__(self, embedding: Any, **params: Any):
        import openTSNE

        coords = np.asarray(embedding, dtype=np.float64)
        self.centre = (coords.max(axis=0) + coords.min(axis=0)) / 2
        self.embedding = openTSNE.TSNEEmbedding(
            coords - self.centre,
            embedding.affinities,
            random_state=embedding.random_state,
            **embedding.gradient_descent_params,
        )
        self.params = params

    def transform(self, z: np.ndarray) -> np.ndarray:
        placed = np.asarray(self.embedding.transform(z, **self.params), dtype=np.float64)
        return (placed + self.centre).astype(np.float32)


@dataclass
class ProjectionResult:
    """A 2-D map of N latents.

    coords: (N, 2) float32; method: "pca" | "tsne" | "pacmap" | "umap"; params: the
    parameters used (JSON-friendly); info: diagnostics (elapsed_s, explained_variance_ratio,
    kl_divergence, n_iter, cancelled, placement, ...).
    """

    coords: np.ndarray
    method: str
    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    _placer: Any = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.coords)

    @property
    def placement(self) -> str:
        """How ``transform`` places new latents: "linear", "knn" or "native"."""
        return self.info.get("placement", "none")

    def transform(self, new_latents: np.ndarray) -> np.ndarray:
        """Place new latents ((D,) or (M, D)) on this map: (2,) or (M, 2) float32."""
        if self._placer is None:
            raise RuntimeError(f"this {self.method} projection cannot place new latents")
        z = np.asarray(new_latents, dtype=np.float32)
        single = z.ndim == 1
        out = self._placer.transform(np.atleast_2d(z))
        return out[0] if single else out

    def inverse_transform(self, coords: np.ndarray) -> np.ndarray:
        """Latents of map points ((2,) or (M, 2)); exact inverse within the plane, PCA only."""
        if not isinstance(self._placer, _LinearPlacer):
            raise NotImplementedError(f"inverse_transform needs a linear projection (pca), not {self.method!r}")
        c = np.asarray(coords, dtype=np.float64)
        single = c.ndim == 1
        out = self._placer.inverse_transform(np.atleast_2d(c))
        return out[0] if single else out


# --------------------------------------------------------------------------------------


def project(
    latents: np.ndarray,
    method: Method = "pca",
    *,
    random_state: int | None = 0,
    callback: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    callback_every: int = 10,
    n_jobs: int = -1,
    placement: Placement = "auto",
    n_neighbors_placement: int = 10,
    **params: Any,
) -> ProjectionResult:
    """Project latents (N, D) to 2-D.

    Parameters
    ----------
    method : "pca" (instant), "tsne" (openTSNE, FFT gradients, PCA init), "pacmap", "umap".
    random_state : seed for every random choice (PCA solver, t-SNE neighbours, UMAP, PaCMAP).
    callback : ``callback(iteration, coords)`` with a (N, 2) float32 copy of the layout every
        ``callback_every`` iterations (t-SNE only; iterations count across both phases).
    should_stop : polled before starting and, for t-SNE, between stages and at every callback;
        when it returns True, :class:`Cancelled` is raised with the partial layout in
        ``.partial``. PCA, PaCMAP and UMAP run as one uninterruptible step.
    n_jobs : threads for openTSNE / UMAP (-1: all cores).
    placement : how ``transform`` places new latents: "auto" (linear for PCA, else k-NN),
        "knn", or "native" (openTSNE's own transform, t-SNE only).
    **params : passed to the method (e.g. ``perplexity``, ``n_iter``,
        ``early_exaggeration_iter`` for openTSNE.TSNE; ``n_neighbors`` for UMAP/PaCMAP).

    Raises
    ------
    ImportError: the method's package (openTSNE, pacmap, umap-learn) is not installed.
    Cancelled: ``should_stop()`` returned True.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; choose one of {', '.join(METHODS)}")
    if placement not in ("auto", "linear", "knn", "native"):
        raise ValueError(f"placement must be 'auto', 'linear', 'knn' or 'native', got {placement!r}")
    if placement == "linear" and method != "pca":
        raise ValueError("placement='linear' needs method='pca'")
    if placement == "native" and method != "tsne":
        raise ValueError("placement='native' is available for method='tsne' only")
    x = _as_latents(latents)
    if len(x) < 3:
        raise ValueError(f"need at least 3 latents to project, got {len(x)}")
    _check_stop(should_stop, None)
    t0 = time.perf_counter()
    if method == "pca":
        result = _pca(x, random_state, **params)
    elif method == "tsne":
        result = _tsne(x, random_state, callback, should_stop, max(1, int(callback_every)), n_jobs, placement, **params)
    elif method == "pacmap":
        result = _pacmap(x, random_state, **params)
    else:
        result = _umap(x, random_state, n_jobs, **params)
    result.info["elapsed_s"] = time.perf_counter() - t0
    if placement == "knn":
        result._placer = None
    if result._placer is None:
        result._placer = _KNNPlacer(x, result.coords, n_neighbors_placement)
        result.info["placement"] = "knn"
    result.params.setdefault("random_state", random_state)
    return result


def _check_stop(
    should_stop: Callable[[], bool] | None,
    partial: ProjectionResult | Callable[[], ProjectionResult] | None,
) -> None:
    """Raise :class:`Cancelled` (with the partial result, built only then) if asked to stop."""
    if should_stop is not None and should_stop():
        if callable(partial):
            partial = partial()
        if partial is not None:
            partial.info["cancelled"] = True
        raise Cancelled(partial=partial)


def _pca(x: np.ndarray, random_state: int | None, **params: Any) -> ProjectionResult:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=random_state, **params).fit(x)
    placer = _LinearPlacer(pca.mean_, pca.components_)
    coords = placer.transform(x)
    info = {
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "placement": "linear",
    }
    return ProjectionResult(coords, "pca", dict(params), info, placer)


def _tsne(
    x: np.ndarray,
    random_state: int | None,
    callback: ProgressCallback | None,
    should_stop: Callable[[], bool] | None,
    every: int,
    n_jobs: int,
    placement: Placement,
    **params: Any,
) -> ProjectionResult:
    try:
        import openTSNE
    except ImportError as exc:  # pragma: no cover - openTSNE is a test dependency
        raise ImportError("t-SNE projections need openTSNE: pip install openTSNE") from exc

    params = {"perplexity": min(30.0, (len(x) - 1) / 3.0), **params}
    params.setdefault("negative_gradient_method", "fft")
    params.setdefault("initialization", "pca")
    tsne = openTSNE.TSNE(n_components=2, n_jobs=n_jobs, random_state=random_state, **params)
    state = {"iteration": 0, "offset": 0, "stopped": False}

    def layout_so_far(embedding: np.ndarray) -> ProjectionResult:
        coords = np.array(embedding, dtype=np.float32)
        info = {"n_iter": state["iteration"], "cancelled": True, "placement": "knn"}
        return ProjectionResult(coords, "tsne", dict(params), info, _KNNPlacer(x, coords))

    def _cb(iteration: int, error: float, embedding: np.ndarray) -> bool:
        state["iteration"] = state["offset"] + iteration
        if callback is not None:
            callback(state["iteration"], np.array(embedding, dtype=np.float32))
        if should_stop is not None and should_stop():
            state["stopped"] = True
            return True
        return False

    hooks = {}
    if callback is not None or should_stop is not None:
        hooks = {"callbacks": [_cb], "callbacks_every_iters": every}
    embedding = tsne.prepare_initial(x)  # neighbours + affinities + PCA init (not interruptible)
    _check_stop(should_stop, lambda: layout_so_far(embedding))
    phases = [
        (tsne.early_exaggeration_iter, tsne.early_exaggeration, tsne.initial_momentum),
        (tsne.n_iter, tsne.exaggeration, tsne.final_momentum),
    ]
    for n_iter, exaggeration, momentum in phases:
        try:
            embedding.optimize(
                n_iter=n_iter,
                exaggeration=exaggeration,
                momentum=momentum,
                inplace=True,
                propagate_exception=True,
                **hooks,
            )
        except openTSNE.tsne.OptimizationInterrupt as interrupt:
            embedding = interrupt.final_embedding
        if state["stopped"]:
            raise Cancelled(partial=layout_so_far(embedding))
        state["offset"] += n_iter
        state["iteration"] = state["offset"]
        _check_stop(should_stop, lambda: layout_so_far(embedding))

    kl = float(getattr(embedding, "kl_divergence", np.nan))
    info: dict[str, Any] = {"n_iter": state["offset"], "kl_divergence": kl}
    coords = np.array(embedding, dtype=np.float32)
    placer = None
    if placement == "native":
        placer = _TSNEPlacer(embedding)
        info["placement"] = "native"
    return ProjectionResult(coords, "tsne", dict(params), info, placer)


def _pacmap(x: np.ndarray, random_state: int | None, **params: Any) -> ProjectionResult:
    try:
        import pacmap
    except ImportError as exc:
        raise ImportError("PaCMAP projections need the pacmap package: pip install pacmap") from exc
    init = params.pop("init", "pca")
    reducer = pacmap.PaCMAP(n_components=2, random_state=random_state, **params)
    coords = np.asarray(reducer.fit_transform(x, init=init), dtype=np.float32)
    return ProjectionResult(coords, "pacmap", {**params, "init": init}, {})


def _umap(x: np.ndarray, random_state: int | None, n_jobs: int, **params: Any) -> ProjectionResult:
    try:
        import umap
    except ImportError as exc:
        raise ImportError("UMAP projections need the umap-learn package: pip install umap-learn") from exc
    kwargs = dict(params)
    if random_state is None:  # a seed makes UMAP single-threaded; only pass n_jobs without one
        kwargs["n_jobs"] = n_jobs
    reducer = umap.UMAP(n_components=2, random_state=random_state, **kwargs)
    coords = np.asarray(reducer.fit_transform(x), dtype=np.float32)
    return ProjectionResult(coords, "umap", dict(params), {})


def trustworthiness(
    latents: np.ndarray,
    coords: np.ndarray,
    n_neighbors: int = 10,
    sample: int | None = 5000,
    *,
    random_state: int | None = 0,
) -> float:
    """How well a map keeps latent neighbourhoods (1 = perfectly, ~0.5 = random).

    scikit-learn's ``trustworthiness`` on a random subsample of ``sample`` points (its
    cost is quadratic in N); ``sample=None`` uses every point.
    """
    from sklearn.manifold import trustworthiness as _trust

    x = np.asarray(latents)
    y = np.asarray(coords)
    if len(x) != len(y):
        raise ValueError(f"latents and coords have different lengths ({len(x)} vs {len(y)})")
    if sample is not None and len(x) > sample:
        rows = np.sort(np.random.default_rng(random_state).choice(len(x), sample, replace=False))
        x, y = x[rows], y[rows]
    n_neighbors = min(n_neighbors, (len(x) - 1) // 2)
    return float(_trust(x, y, n_neighbors=n_neighbors))
