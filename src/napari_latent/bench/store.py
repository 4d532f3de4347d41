"""Store group: open a 100,000-subject store, generate demo subjects, Explorer selection at 100,000."""

from __future__ import annotations

import time

import numpy as np

from ._fixtures import make_empty_store
from .runner import BenchContext
from .timing import time_calls

N_BIG = 100_000


def run(ctx: BenchContext) -> None:
    from ..cohort import open_cohort
    from ..cohort.synthetic import generate_cohort, generate_subject
    from ..explorer import Explorer

    # open: the table is read, the arrays are not (the store holds no chunk at all)
    path = ctx.tmp / "big.zarr"
    t0 = time.perf_counter()
    make_empty_store(path, N_BIG)
    ctx.log(f"made a sparse {N_BIG:,}-subject store in {time.perf_counter() - t0:.1f} s")
    repeats = ctx.pick(3, 5)
    opened = []
    timing = time_calls(lambda: opened.append(open_cohort(path)), repeats, warmup=0)
    chunks = sum(1 for p in path.rglob("c/*"))
    if len(opened[-1]) != N_BIG or chunks:
        raise RuntimeError(f"the sparse store has {len(opened[-1])} subjects and {chunks} chunks")
    ctx.add(
        f"open a {N_BIG:,}-subject store (table only, no array chunk exists)",
        timing.median_ms / 1e3,
        "s",
        notes=f"median of {timing.n}, max {timing.max_ms / 1e3:.3f} s; target < 2 s",
    )

    # generating demo subjects
    generate_subject(0, 0)
    index = iter(range(1, 1000))
    t = time_calls(lambda: generate_subject(0, next(index)), ctx.pick(5, 20), warmup=0)
    ctx.add(
        "generate one demo subject (ECG, median beat, cine, labels), one core",
        t.median_ms,
        "ms",
        notes=f"median of {t.n}; p95 {t.p95_ms:.1f} ms",
    )
    n_par = ctx.pick(0, 200)
    if n_par:
        workers = 2
        t0 = time.perf_counter()
        generate_cohort(n_par, 0, ctx.tmp / "gen.zarr", workers=workers)
        wall = time.perf_counter() - t0
        ctx.add(
            f"generate {n_par} subjects into a store, {workers} processes",
            wall,
            "s",
            notes=f"{1e3 * wall / n_par:.0f} ms a subject (spawn, write, validate, hash)",
        )

    # Explorer selection on the 100,000-subject store
    ex = Explorer(opened[-1])
    rng = np.random.default_rng(0)
    reps = ctx.pick(10, 30)
    lassos = iter([np.sort(rng.choice(N_BIG, rng.integers(1000, N_BIG // 2), replace=False)) for _ in range(reps + 1)])
    masks = iter([rng.random(N_BIG) < 0.3 for _ in range(reps + 1)])
    t = time_calls(lambda: ex.select(next(lassos), source="scatter:fused"), reps)
    ctx.add(
        f"Explorer.select(indices), {N_BIG:,} subjects",
        t.median_ms,
        "ms",
        notes=f"median of {t.n} (mask, indices, event); target <= 5 ms",
    )
    t = time_calls(lambda: ex.select(next(masks), source="chart:age"), reps)
    ctx.add(f"Explorer.select(mask), {N_BIG:,} subjects", t.median_ms, "ms", notes=f"median of {t.n}")
    t = time_calls(lambda: ex.select("age > 60 and sex == 'F'"), ctx.pick(5, 10))
    ctx.add(
        f"Explorer.select(\"age > 60 and sex == 'F'\"), {N_BIG:,} rows",
        t.median_ms,
        "ms",
        notes=f"median of {t.n} (pandas query)",
    )
