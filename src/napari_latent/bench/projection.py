"""Projection group: PCA, openTSNE, PaCMAP and UMAP against scikit-learn's t-SNE, same data, same n.

Each method gets a time row and a trustworthiness row (how well the 2-D map keeps the
latent neighbourhoods, on a subsample), each beside scikit-learn t-SNE's.
"""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np

from .runner import BenchContext

#: method -> (label, the package it needs)
METHODS = {
    "pca": ("PCA", "sklearn"),
    "tsne": ("openTSNE (FFT gradients, PCA init)", "openTSNE"),
    "pacmap": ("PaCMAP", "pacmap"),
    "umap": ("UMAP", "umap"),
}


#: t-SNE iterations (early exaggeration, then the rest): the defaults of both libraries in a full
#: run (250 + 750); fewer in a quick one. The same for openTSNE and scikit-learn either way.
ITERATIONS = {"quick": (250, 250), "full": (250, 750)}


def sklearn_tsne(z: np.ndarray, early: int = 250, rest: int = 750, seed: int = 0) -> tuple[np.ndarray, float]:
    """scikit-learn's Barnes-Hut t-SNE (perplexity 30, PCA init, ``early + rest`` iterations): (coords, s).

    scikit-learn's early-exaggeration phase is fixed at 250 iterations.
    """
    from sklearn.manifold import TSNE

    if early != 250:
        raise ValueError("scikit-learn's t-SNE always exaggerates for 250 iterations")
    t0 = time.perf_counter()
    perplexity = min(30.0, (len(z) - 1) / 3)
    tsne = TSNE(2, perplexity=perplexity, init="pca", max_iter=early + rest, random_state=seed, n_jobs=-1)
    coords = tsne.fit_transform(z)
    return coords, time.perf_counter() - t0


def run(ctx: BenchContext) -> None:
    from ..analysis import project, trustworthiness
    from ..analysis.synthetic import synthetic_latents

    n, dim = ctx.pick(1_000, 10_000), 128
    sample = ctx.pick(1_000, 5_000)
    early, rest = ITERATIONS[ctx.pick("quick", "full")]
    z = synthetic_latents(n, dim, noise=0.5, seed=0).latents
    warm = synthetic_latents(300, 16, seed=1).latents
    trustworthiness(warm, warm[:, :2], n_neighbors=5)

    base_coords, base_s = sklearn_tsne(z, early, rest)
    base_trust = trustworthiness(z, base_coords, sample=sample)
    size = f"{n:,} x {dim}, {os.cpu_count()} cores"
    tsne_params = {"early_exaggeration_iter": early, "n_iter": rest}
    ctx.add(
        "scikit-learn t-SNE (Barnes-Hut, PCA init), the baseline",
        base_s,
        "s",
        notes=f"{size}; {early} + {rest} iterations; trustworthiness {base_trust:.3f}",
    )
    for method, (label, package) in METHODS.items():
        if importlib.util.find_spec(package) is None:
            for what in ("time", "trustworthiness"):
                ctx.add(f"{label} {what}", None, status="not installed", notes=f"needs the {package} package")
            continue
        compile_note = ""
        if method in ("umap", "pacmap"):  # numba compiles on first use in each process: keep it out
            _, first = _timed(lambda m=method: project(warm, m, random_state=0))
            compile_note = f"; first call in this process (numba compile) {first:.0f} s, not counted"
        params = tsne_params if method == "tsne" else {}
        result, s = _timed(lambda m=method, p=params: project(z, m, random_state=0, **p))
        trust = trustworthiness(z, result.coords, sample=sample)
        ctx.add(
            f"{label} time", s, "s", baseline="scikit-learn t-SNE", baseline_value=base_s, notes=f"{size}{compile_note}"
        )
        ctx.add(
            f"{label} trustworthiness",
            trust,
            "",
            baseline="scikit-learn t-SNE",
            baseline_value=base_trust,
            notes=f"10 neighbours, {min(n, sample):,}-point sample; 1 = neighbourhoods kept",
        )


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0
