"""Analysis speed on this machine: projections, placing edited latents, probes, neighbours, queries.

Run (full, ~2-4 min of openTSNE on 2 cores)::

    PYTHONPATH=src python benchmarks/bench_analysis.py --json bench_analysis.json

Quick (t-SNE and its trustworthiness on 5,000 points; everything else at full size)::

    PYTHONPATH=src python benchmarks/bench_analysis.py --quick

Latents are 40,000 x 256 "random but structured": ten phenotype columns of a synthetic
subjects table linearly encoded along orthonormal directions plus isotropic noise
(``napari_latent.analysis.synthetic``). The load average is reported alongside, since
timings on a shared machine depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from napari_latent.analysis import (
    NeighbourIndex,
    group_from_query,
    probe,
    project,
    retrieval_accuracy,
    trustworthiness,
)
from napari_latent.analysis.synthetic import synthetic_latents, synthetic_table


def timed(fn: Callable[[], Any], repeats: int = 30) -> tuple[float, float]:
    """(median, min) wall time in milliseconds over ``repeats`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def once(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40_000, help="subjects (latent rows)")
    parser.add_argument("--dim", type=int, default=256, help="latent dimensions")
    parser.add_argument("--tsne-n", type=int, default=None, help="subjects for t-SNE (default: --n)")
    parser.add_argument("--quick", action="store_true", help="t-SNE on 5,000 points only")
    parser.add_argument("--skip-tsne", action="store_true", help="no t-SNE at all")
    parser.add_argument("--native", action="store_true", help="also time openTSNE's own transform")
    parser.add_argument("--rows", type=int, default=100_000, help="table rows for the group query")
    parser.add_argument("--nn-rows", type=int, default=100_000, help="latent rows for the neighbour query")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1, help="threads for openTSNE")
    parser.add_argument("--sample", type=int, default=5000, help="points for trustworthiness")
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="limit BLAS threads (threadpoolctl); helps on a loaded machine"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(args.blas_threads):
            return run(args)
    return run(args)


def run(args: argparse.Namespace) -> dict[str, Any]:
    tsne_n = args.tsne_n or (5000 if args.quick else args.n)

    res: dict[str, Any] = {
        "n": args.n,
        "dim": args.dim,
        "cpu_count": os.cpu_count(),
        "load_avg_start": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "blas_threads": args.blas_threads,
    }
    syn = synthetic_latents(args.n, args.dim, noise=0.5, seed=args.seed)
    z = syn.latents
    rng = np.random.default_rng(args.seed)
    edited = z[123] + 0.2 * syn.true_direction("age").astype(np.float32)

    # warm up imports (scikit-learn takes ~1 s to import), so timings measure the work
    warm = synthetic_latents(200, 16, seed=1)
    project(warm.latents, "pca")
    probe(warm.latents, warm.table["age"], folds=2)
    probe(warm.latents, warm.table["sex"], folds=2)
    trustworthiness(warm.latents, warm.latents[:, :2], n_neighbors=5)

    # PCA
    pca, res["pca_s"] = once(lambda: project(z, "pca", random_state=args.seed))
    res["pca_trustworthiness"] = trustworthiness(z, pca.coords, sample=args.sample, random_state=args.seed)
    res["pca_place_ms_median"], res["pca_place_ms_min"] = timed(lambda: pca.transform(edited), 200)

    # k-NN placement at full size (independent of which map it places on)
    knn_map = project(z, "pca", placement="knn")
    _, res["knn_place_first_call_ms"] = once(lambda: knn_map.transform(edited))  # builds the index
    res["knn_place_first_call_ms"] *= 1e3
    res["knn_place_ms_median"], res["knn_place_ms_min"] = timed(lambda: knn_map.transform(edited), 100)

    # t-SNE
    if not args.skip_tsne:
        zt = z[:tsne_n]
        iterations = []
        tsne, res["tsne_s"] = once(
            lambda: project(
                zt,
                "tsne",
                random_state=args.seed,
                n_jobs=args.n_jobs,
                callback=lambda i, c: iterations.append(i),
                callback_every=50,
                placement="native" if args.native else "auto",
            )
        )
        res["tsne_n"] = tsne_n
        res["tsne_n_jobs"] = args.n_jobs
        res["tsne_callbacks"] = len(iterations)
        res["tsne_kl_divergence"] = tsne.info.get("kl_divergence")
        res["tsne_trustworthiness"] = trustworthiness(zt, tsne.coords, sample=args.sample, random_state=args.seed)
        if args.native:
            res["tsne_place_native_ms_median"], _ = timed(lambda: tsne.transform(edited), 5)
        else:
            res["tsne_place_knn_ms_median"], res["tsne_place_knn_ms_min"] = timed(lambda: tsne.transform(edited), 100)

    # probe of one column
    res["probe_column"] = "age"
    result, res["probe_s"] = once(lambda: probe(z, syn.table["age"], random_state=args.seed))
    res["probe_r2"] = result.score
    hyp, res["probe_binary_s"] = once(lambda: probe(z, syn.table["hypertension"], random_state=args.seed))
    res["probe_binary_auroc"] = hyp.score

    # neighbours
    zn = z[: args.nn_rows]
    if args.nn_rows > len(z):  # more rows: jittered copies of the latents
        extra = args.nn_rows - len(z)
        jitter = 0.1 * rng.normal(size=(extra, args.dim))
        zn = np.concatenate([z, (z[rng.integers(0, len(z), extra)] + jitter).astype(np.float32)])
    res["nn_rows"] = len(zn)
    index, res["nn_build_s"] = once(lambda: NeighbourIndex(zn))
    res["nn_query_k10_ms_median"], res["nn_query_k10_ms_min"] = timed(lambda: index.query(edited, 10), 50)
    cos_index = NeighbourIndex(zn, "cosine")
    res["nn_cosine_query_k10_ms_median"], _ = timed(lambda: cos_index.query(edited, 10), 50)
    _, res["nn_batch_1000_s"] = once(lambda: index.query(zn[:1000], 10))

    # cross-modal retrieval at full size (a noisy copy stands in for the other modality)
    other = (z + 0.5 * rng.normal(size=z.shape)).astype(np.float32)
    acc, res["retrieval_s"] = once(lambda: retrieval_accuracy(z, other, ks=(1, 5)))
    res["retrieval_top1"], res["retrieval_top5"] = acc[1], acc[5]

    # group from a query over a big table, and its selection mask
    table = synthetic_table(args.rows, seed=args.seed)
    res["query_rows"] = args.rows
    res["query_mask_ms_median"], res["query_mask_ms_min"] = timed(
        lambda: group_from_query(table, "age > 60 and sex == 'F'").mask(len(table)), 20
    )
    res["load_avg_end"] = os.getloadavg()[0]

    text = json.dumps(res, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return res


if __name__ == "__main__":
    main()
