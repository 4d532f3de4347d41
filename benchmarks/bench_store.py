"""Store and generator speed: opening a 100,000-subject store, generating subjects.

Run: ``python benchmarks/bench_store.py [--subjects 100000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from napari_latent.cohort import CohortWriter, open_cohort
from napari_latent.cohort.synthetic import generate_cohort, generate_subject, sample_factors
from napari_latent.cohort.synthetic.generate import _columns


def make_empty_store(path: Path, n: int) -> None:
    """A store with a full n-row table and arrays created but never written."""
    rows = [{"subject_id": f"U{i:07d}", **sample_factors(0, i).as_row()} for i in range(min(n, 2000))]
    table = pd.DataFrame(rows)
    table = pd.concat([table] * (n // len(table) + 1), ignore_index=True).iloc[:n]
    table["subject_id"] = [f"U{i:07d}" for i in range(n)]
    with CohortWriter(path, n) as writer:
        writer.commit(table, columns=_columns(), validate=False)


def chunk_files(path: Path) -> int:
    return sum(1 for p in path.rglob("c/*") if p.is_file() or p.is_dir())


def bench_open(n: int, repeats: int = 5) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.zarr"
        make_empty_store(path, n)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            cohort = open_cohort(path)
            times.append(time.perf_counter() - t0)
        assert len(cohort) == n and chunk_files(path) == 0
        return {"subjects": n, "open_s_median": statistics.median(times), "open_s_max": max(times)}


def bench_generate(n_single: int = 20, n_parallel: int = 200) -> dict:
    generate_subject(0, 0)  # warm imports
    t = []
    for i in range(n_single):
        t0 = time.perf_counter()
        generate_subject(0, i)
        t.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate_cohort(n_parallel, 0, Path(tmp) / "demo.zarr")
        wall = time.perf_counter() - t0
    return {
        "subject_ms_median_one_core": 1000 * statistics.median(t),
        "parallel_subjects": n_parallel,
        "parallel_wall_s": wall,
        "parallel_ms_per_subject": 1000 * wall / n_parallel,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = {"open": bench_open(args.subjects), "generate": bench_generate()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
