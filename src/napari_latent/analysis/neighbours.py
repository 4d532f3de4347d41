"""Nearest subjects in latent space and cross-modal retrieval accuracy.

Latent spaces are high-dimensional (D ~ 256), where space-partitioning trees are no faster
than brute force, so the index is exact brute force over a float32 copy with cached squared
norms: one matrix-vector product for a single query (the interactive case: ~2 ms for
40,000 x 256 on one core), one matrix product for a few, scikit-learn's ``NearestNeighbors``
(chunked, multi-threaded) for batches. Candidate distances are then recomputed directly,
so a query equal to an indexed point is at distance exactly 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

__all__ = ["NeighbourIndex", "nearest", "retrieval_accuracy", "retrieval_ranks"]

Metric = Literal["euclidean", "cosine"]

#: Up to this many queries are answered with one matrix product instead of scikit-learn.
_SMALL_BATCH = 32
#: Bytes of similarity matrix computed at a time.
_CHUNK_BYTES = 64 * 2**20


def _as_latents(latents: np.ndarray, name: str = "latents") -> np.ndarray:
    x = np.asarray(latents)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, D), got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    return x


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


class NeighbourIndex:
    """An exact k-nearest-neighbour index over latents (N, D), built once and queried often.

    ``metric="euclidean"`` returns Euclidean distances; ``metric="cosine"`` returns cosine
    distances ``1 - cos``. The latents are kept as a float32 array (not copied when they
    already are C-contiguous float32, so do not modify them in place afterwards).
    """

    def __init__(self, latents: np.ndarray, metric: Metric = "euclidean", *, n_jobs: int | None = None):
        if metric not in ("euclidean", "cosine"):
            raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}")
        x = _as_latents(latents)
        self.metric: Metric = metric
        self.n_jobs = n_jobs
        self._x = _unit_rows(x) if metric == "cosine" else x
        self._sqnorm = np.einsum("ij,ij->i", self._x, self._x)
        self._sk = None

    @property
    def n(self) -> int:
        return self._x.shape[0]

    @property
    def dim(self) -> int:
        return self._x.shape[1]

    def query(self, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest indexed points of each query, nearest first.

        ``query`` (D,) gives ``indices, distances`` of shape (k,); (M, D) gives (M, k).
        """
        q = np.asarray(query, dtype=np.float32)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"query must have shape ({self.dim},) or (M, {self.dim}), got {np.shape(query)}")
        k = int(k)
        if not 1 <= k <= self.n:
            raise ValueError(f"k must be between 1 and {self.n}, got {k}")
        if self.metric == "cosine":
            q = _unit_rows(q)
        idx = self._query_small(q, k) if len(q) <= _SMALL_BATCH else self._query_batch(q, k)
        idx, dist = self._exact(q, idx)
        return (idx[0], dist[0]) if single else (idx, dist)

    def neighbours_of(self, index: int | Iterable[int], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest *other* indexed points of indexed point(s) ``index``."""
        single = np.ndim(index) == 0
        rows = np.atleast_1d(np.asarray(index, dtype=np.intp))
        idx, dist = self.query(self._x[rows], min(k + 1, self.n))
        keep = idx != rows[:, None]
        # drop the point itself (or, if it is not among the results because of exact ties, the farthest)
        drop_last = keep.all(axis=1)
        keep[drop_last, -1] = False
        m = min(k, self.n - 1)
        idx = idx[keep].reshape(len(rows), m)
        dist = dist[keep].reshape(len(rows), m)
        return (idx[0], dist[0]) if single else (idx, dist)

    def _query_small(self, q: np.ndarray, k: int) -> np.ndarray:
        """Candidate neighbours (M, k) from one matrix product with the cached norms."""
        if len(q) == 1:
            # numpy's own single-threaded loop: as fast as BLAS gemv for this memory-bound
            # product, and immune to the stalls of BLAS threads on a busy machine
            prod = np.einsum("nd,d->n", self._x, q[0])[:, None]
        else:
            prod = self._x @ q.T  # (N, M)
        score = -prod if self.metric == "cosine" else self._sqnorm[:, None] - 2.0 * prod  # + |q|^2
        if k < self.n:
            return np.argpartition(score, k - 1, axis=0)[:k].T
        return np.broadcast_to(np.arange(self.n), (len(q), self.n))

    def _query_batch(self, q: np.ndarray, k: int) -> np.ndarray:
        """Candidate neighbours (M, k) from scikit-learn's chunked, threaded brute force."""
        if self._sk is None:
            from sklearn.neighbors import NearestNeighbors

            self._sk = NearestNeighbors(algorithm="brute", metric="euclidean", n_jobs=self.n_jobs).fit(self._x)
        return self._sk.kneighbors(q, n_neighbors=k, return_distance=False)

    def _exact(self, q: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances of the candidates computed directly (no |x|^2 - 2x.q + |q|^2 cancellation,
        so a query equal to an indexed point is at distance 0), sorted nearest first."""
        idx = np.asarray(idx, dtype=np.intp)
        dist = np.empty(idx.shape, dtype=np.float32)
        step = max(1, _CHUNK_BYTES // (4 * idx.shape[1] * self.dim))
        for start in range(0, len(q), step):
            sl = slice(start, start + step)
            cand = self._x[idx[sl]]  # (m, k, D)
            if self.metric == "cosine":
                dist[sl] = np.maximum(1.0 - np.einsum("mkd,md->mk", cand, q[sl]), 0.0)
            else:
                diff = cand - q[sl, None, :]
                dist[sl] = np.sqrt(np.einsum("mkd,mkd->mk", diff, diff))
        order = np.argsort(dist, axis=1, kind="stable")
        return np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)


def nearest(
    latents: np.ndarray | NeighbourIndex,
    query: np.ndarray,
    k: int = 10,
    metric: Metric = "euclidean",
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the ``k`` nearest latents to ``query`` ((D,) or (M, D)).

    Pass a :class:`NeighbourIndex` instead of the array to reuse its cached index (its own
    metric is used then).
    """
    index = latents if isinstance(latents, NeighbourIndex) else NeighbourIndex(latents, metric)
    return index.query(query, k)


def retrieval_ranks(za: np.ndarray, zb: np.ndarray, *, chunk_size: int | None = None) -> np.ndarray:
    """For each subject i, how many ``zb`` rows are more cosine-similar to ``za[i]`` than ``zb[i]``.

    Rank 0 means the subject's own partner is its nearest cross-modal neighbour. Computed
    in chunks of rows so that N = 100,000 needs only ~64 MB at a time.
    """
    a = _unit_rows(_as_latents(za, "za"))
    b = _unit_rows(_as_latents(zb, "zb"))
    if a.shape != b.shape:
        raise ValueError(f"za and zb must be paired and have the same shape, got {a.shape} and {b.shape}")
    n = len(a)
    chunk = chunk_size or max(1, _CHUNK_BYTES // (4 * max(n, 1)))
    ranks = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sims = a[start:stop] @ b.T
        own = sims[np.arange(stop - start), np.arange(start, stop)]
        ranks[start:stop] = (sims > own[:, None]).sum(axis=1)
    return ranks


def retrieval_accuracy(
    za: np.ndarray, zb: np.ndarray, ks: Iterable[int] = (1, 5), *, chunk_size: int | None = None
) -> dict[int, float]:
    """Cross-modal top-k retrieval accuracy ``{k: fraction}`` by cosine similarity.

    Subject i counts as retrieved at k when ``zb[i]`` (e.g. its MRI latent) is among the k
    ``zb`` rows most similar to ``za[i]`` (its ECG latent). Chance level is k / N.
    """
    ranks = retrieval_ranks(za, zb, chunk_size=chunk_size)
    return {int(k): float(np.mean(ranks < int(k))) for k in ks}
