"""Embeddings of a whole cohort: posterior means per modality and fused, cached by model hash."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import replace_file
from ..cohort import Cohort

if TYPE_CHECKING:
    from ..model import MultimodalModel

__all__ = ["embed_cohort", "embedding_cache_path", "load_and_embed", "SPACES"]

#: Latent spaces an embedding holds, in display order.
SPACES = ("fused", "mri", "ecg")
_CACHE_DIR = "embeddings"


def embedding_cache_path(cohort: Cohort, model_fingerprint: str) -> Path:
    """Where the embedding of ``cohort`` by a model is cached.

    Inside the store (``STORE/embeddings/MODEL.npz``) when the store is writable, else in
    the per-user cache keyed by the cohort's fingerprint too.
    """
    if cohort.path is not None and os.access(cohort.path, os.W_OK):
        return Path(cohort.path) / _CACHE_DIR / f"{model_fingerprint}.npz"
    from ..cohort.synthetic import demo_cache_dir

    return demo_cache_dir() / _CACHE_DIR / f"{cohort.fingerprint()}-{model_fingerprint}.npz"


def embed_cohort(
    cohort: Cohort,
    model: MultimodalModel,
    *,
    batch_size: int = 64,
    cache: bool = True,
    progress: Callable[[int, int], Any] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, np.ndarray]:
    """Posterior means ``{"fused", "mri", "ecg"}`` -> (N, D) float32, read from the cache when present.

    The cache is an ``.npz`` (no pickle) keyed by the model's weight hash and checked
    against the cohort's subject ids; it is written atomically.
    """
    from ..model import embed

    path = embedding_cache_path(cohort, model.fingerprint()) if cache else None
    if path is not None and path.is_file():
        cached = _read(path, cohort)
        if cached is not None:
            if progress is not None:
                progress(len(cohort), len(cohort))
            return cached
    out = embed(cohort, model, batch_size=batch_size, progress=progress, should_stop=should_stop)
    result = {k: out[k] for k in SPACES if k in out}
    if path is not None:
        _write(path, result, cohort)
    return result


def load_and_embed(
    cohort: Cohort,
    model: Any,
    *,
    progress: Callable[[int, int], Any] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[MultimodalModel | None, dict[str, np.ndarray]]:
    """Resolve ``model`` for ``cohort`` and embed the cohort with it (for a worker thread).

    Parameters
    ----------
    cohort
        The cohort to embed.
    model
        A checkpoint folder, ``"demo"`` or a model, as
        :func:`~napari_latent.model.resolve_model` takes.
    progress, should_stop
        Passed to :func:`embed_cohort`.

    Returns
    -------
    tuple
        ``(model, embeddings)``, for the Qt thread to hand to
        :meth:`~napari_latent.explorer.Explorer.set_model` (one event, one redraw).
    """
    from ..model.checkpoint import resolve_model

    resolved = resolve_model(model, cohort)
    return resolved, embed_cohort(cohort, resolved, progress=progress, should_stop=should_stop)


def _ids_hash(cohort: Cohort) -> np.ndarray:
    import hashlib

    return np.frombuffer(hashlib.sha256("\n".join(cohort.ids).encode()).digest(), dtype=np.uint8)


def _read(path: Path, cohort: Cohort) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not np.array_equal(data["ids_sha256"], _ids_hash(cohort)):
                return None
            return {k: data[k] for k in SPACES if k in data.files}
    except (OSError, ValueError, KeyError):
        return None  # unreadable cache: recompute


def _write(path: Path, result: dict[str, np.ndarray], cohort: Cohort) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda tmp: np.savez(tmp, ids_sha256=_ids_hash(cohort), **result))
    except OSError:
        pass  # a cache that cannot be written is only a missed speed-up
