"""A UK-Biobank-sized session without rendering 100,000 hearts: the scale sample.

:func:`scale_explorer` builds an :class:`~napari_latent.explorer.Explorer` over ``n``
subjects with a generated table (:func:`~napari_latent.analysis.synthetic.synthetic_table`)
and structured synthetic latents per space (fused, MRI, ECG), as the benchmarks use: each
encoded phenotype owns a latent direction, so maps, probes, clusters and brushing behave
as they would on a trained model's latents. Subjects carry no rendered cine or ECG (every
subject's arrays are one shared zero array, no memory per subject); with a model, slider
edits and reconstructions are decoded by it. ``napari-latent demo --scale 100000`` opens one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .explorer import Explorer

__all__ = ["scale_explorer", "SPACES"]

SPACES = ("fused", "mri", "ecg")


def scale_explorer(n: int, *, dim: int | None = None, model: Any = None, seed: int = 0) -> Explorer:
    """An Explorer over ``n`` synthetic subjects with latents for every space, projected by PCA.

    ``dim``: latent size (default: the model's, else 256). ``model``: a model, a checkpoint
    path or ``"demo"`` (not used to embed: the latents are synthetic).
    """
    from .analysis.projection import project
    from .analysis.synthetic import synthetic_latents, synthetic_table
    from .cohort import Cohort
    from .cohort.schema import ECG_MEDIAN_SAMPLES, LEADS, MRI_FRAMES, MRI_SIZE
    from .explorer import Explorer
    from .model.checkpoint import resolve_model

    if n < 10:
        raise ValueError(f"a scale sample needs at least 10 subjects, not {n}")
    table = synthetic_table(n, seed)
    cohort = Cohort(
        table,
        ecg_median=np.broadcast_to(np.zeros((1, len(LEADS), ECG_MEDIAN_SAMPLES), np.float32), (n, len(LEADS), ECG_MEDIAN_SAMPLES)),
        mri=np.broadcast_to(np.zeros((1, MRI_FRAMES, MRI_SIZE, MRI_SIZE), np.float16), (n, MRI_FRAMES, MRI_SIZE, MRI_SIZE)),
    )
    resolved = resolve_model(model, cohort)
    dim = dim or (resolved.latent_dim if resolved is not None else 256)
    ex = Explorer(cohort, resolved)
    noise = {"fused": 0.3, "mri": 0.45, "ecg": 0.6}  # each modality sees the factors less clearly
    ex.set_embeddings(
        {space: synthetic_latents(n, dim, noise=noise[space], seed=seed + k, table=table).latents for k, space in enumerate(SPACES)}
    )
    for space in SPACES:
        ex.set_projection(space, project(ex.embeddings[space], "pca"))
    return ex
