"""Analysis group: placing edited latents on maps, probes, neighbours, retrieval, table queries.

Latents are "random but structured" (``analysis.synthetic``: ten phenotype columns along
orthonormal directions plus noise). Projection speed has its own group (``projection``).
"""

from __future__ import annotations

import os

import numpy as np

from .runner import BenchContext
from .timing import time_calls, time_once


def run(ctx: BenchContext) -> None:
    from ..analysis import NeighbourIndex, group_from_query, probe, project, retrieval_accuracy
    from ..analysis.synthetic import synthetic_latents, synthetic_table

    n, dim = ctx.pick(2_000, 40_000), 256
    nn_rows, query_rows = ctx.pick(20_000, 100_000), 100_000
    syn = synthetic_latents(n, dim, noise=0.5, seed=0)
    z = syn.latents
    edited = z[123] + 0.2 * syn.true_direction("age").astype(np.float32)
    size = f"{n:,} x {dim}"
    warm = synthetic_latents(200, 16, seed=1)  # imports (scikit-learn takes ~1 s) out of the timings
    probe(warm.latents, warm.table["age"], folds=2)
    probe(warm.latents, warm.table["sex"], folds=2)

    pca = project(z, "pca")
    t = time_calls(lambda: pca.transform(edited), ctx.pick(50, 200))
    ctx.add("place one edited latent on the PCA map (exact, linear)", t.median_ms, "ms", notes=f"{size}, median")
    knn = project(z, "pca", placement="knn")
    _, first = time_once(lambda: knn.transform(edited))
    t = time_calls(lambda: knn.transform(edited), ctx.pick(30, 100))
    ctx.add(
        "place one edited latent on a t-SNE/UMAP map (k-NN, 10 neighbours)",
        t.median_ms,
        "ms",
        notes=f"{size}, median; first call {1e3 * first:.0f} ms builds the index",
    )

    result, s = time_once(lambda: probe(z, syn.table["age"], random_state=0))
    ctx.add("ridge probe of one column (5-fold RidgeCV)", s, "s", notes=f"{size}; R^2 {result.score:.2f}")
    result, s = time_once(lambda: probe(z, syn.table["hypertension"], random_state=0))
    ctx.add("logistic probe of a binary column (5-fold)", s, "s", notes=f"{size}; AUROC {result.score:.3f}")

    rng = np.random.default_rng(0)
    extra = nn_rows - n
    zn = z if extra <= 0 else np.concatenate([z, z[rng.integers(0, n, extra)] + 0.1 * rng.normal(size=(extra, dim))])
    zn = zn[:nn_rows].astype(np.float32)
    index, build = time_once(lambda: NeighbourIndex(zn))
    t = time_calls(lambda: index.query(edited, 10), ctx.pick(20, 50))
    ctx.add(
        f"nearest neighbours, {len(zn):,} x {dim}, one query, k = 10",
        t.median_ms,
        "ms",
        notes=f"median; index built in {build:.2f} s",
    )
    _, s = time_once(lambda: index.query(zn[:1000], 10))
    ctx.add(f"nearest neighbours, {len(zn):,} x {dim}, 1,000 queries, k = 10", s, "s")

    other = (z + 0.5 * rng.normal(size=z.shape)).astype(np.float32)
    acc, s = time_once(lambda: retrieval_accuracy(z, other, ks=(1, 5)))
    ctx.add(
        f"cross-modal retrieval top-1/top-5, {n:,} subjects",
        s,
        "s",
        notes=f"top-1 {acc[1]:.2f}, top-5 {acc[5]:.2f} (a noisy copy stands in for the other modality)",
    )

    table = synthetic_table(query_rows, seed=0)
    t = time_calls(lambda: group_from_query(table, "age > 60 and sex == 'F'").mask(len(table)), ctx.pick(5, 20))
    ctx.add(
        f"query + selection mask over {query_rows:,} rows", t.median_ms, "ms", notes=f"median; {os.cpu_count()} cores"
    )
