"""Explorer core speed: selection updates on 100,000 subjects, and encoding the demo cohort.

Run: ``python benchmarks/bench_explorer.py [--encode 1000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_store import make_empty_store

from napari_latent.cohort import open_cohort
from napari_latent.explorer import Explorer


def _median_ms(fn, repeats: int = 30) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def bench_selection(n: int = 100_000) -> dict:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        make_empty_store(Path(tmp) / "big.zarr", n)
        ex = Explorer(open_cohort(Path(tmp) / "big.zarr"))
        received = []
        ex.events.selection.connect(lambda idx, source: received.append(len(idx)))
        lasso = [np.sort(rng.choice(n, size=rng.integers(1000, n // 2), replace=False)) for _ in range(30)]
        masks = [rng.random(n) < 0.3 for _ in range(30)]
        it_l, it_m = iter(lasso * 2), iter(masks * 2)
        return {
            "subjects": n,
            "select_indices_ms": _median_ms(lambda: ex.select(next(it_l), source="scatter:fused")),
            "select_mask_ms": _median_ms(lambda: ex.select(next(it_m), source="chart:age")),
            "select_query_ms": _median_ms(lambda: ex.select("age > 60 and sex == 'F'", mode="add"), repeats=10),
            "events": len(received),
        }


def bench_encode(n: int) -> dict:
    from napari_latent.analysis.embedding import embed_cohort
    from napari_latent.cohort.synthetic import demo_cohort
    from napari_latent.model import load_demo_model

    cohort, model = demo_cohort(n), load_demo_model()
    t0 = time.perf_counter()
    embed_cohort(cohort, model, cache=False)
    wall = time.perf_counter() - t0
    return {"subjects": n, "encode_s": wall, "subjects_per_s": n / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--encode", type=int, default=1000, help="demo subjects to encode")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = {"selection": bench_selection(), "encode": bench_encode(args.encode)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
