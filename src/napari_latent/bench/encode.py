"""Encode group: subjects/s from a store through the demo model's encoders.

Baseline: a linear encoder, the input side of the PLS translation baseline of
``model.evaluate`` (64-component PCA of each modality, fitted on the same subjects
beforehand and not timed), reading the same batches. The store read alone is the floor
no encoder can beat.
"""

from __future__ import annotations

import time

import numpy as np

from ._fixtures import demo_model, generated_store
from .runner import BenchContext

BATCH = 64
PCA_COMPONENTS = 64


def _rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def run(ctx: BenchContext) -> None:
    from ..model import embed
    from ..model.config import ARRAY_OF
    from ..model.data import iterate_batches
    from ..model.evaluate import StreamingPCA

    model = demo_model()
    if ctx.quick:
        n = 32
        cohort = generated_store(ctx.tmp / "encode.zarr", n)
        source = f"{n} demo subjects generated into a temporary store"
    else:
        from ..cohort.synthetic import demo_cohort

        n = 200
        cohort = demo_cohort(n)
        source = f"the cached {n}-subject demo cohort store"
    idx = np.arange(n)
    names = [ARRAY_OF[m] for m in model.modalities]

    def read_only() -> None:
        for _ in iterate_batches(cohort, idx, names, BATCH):
            pass

    pcas = {
        a: StreamingPCA(PCA_COMPONENTS).fit(lambda a=a: (b[a] for _, b in iterate_batches(cohort, idx, [a], BATCH)))
        for a in names
    }

    def linear() -> None:
        for _, b in iterate_batches(cohort, idx, names, BATCH):
            for a in names:
                pcas[a].transform(b[a])

    embed(cohort, model, indices=idx[:8], batch_size=8)  # warm-up
    read_only()  # warm the file cache, so all three read the same way
    read_rate = _rate(read_only, n)
    linear_rate = _rate(linear, n)
    model_rate = _rate(lambda: embed(cohort, model, batch_size=BATCH), n)
    ctx.add(
        "encode through the demo model (ECG, cine and fused posterior means)",
        model_rate,
        "subjects/s",
        baseline=f"linear encoder: {PCA_COMPONENTS}-component PCA per modality (PLS baseline input)",
        baseline_value=linear_rate,
        notes=f"{source}, batch {BATCH}; 40,000 subjects would take {40_000 / model_rate / 60:.1f} min",
    )
    ctx.add(
        "read the same batches from the store, no encoder (the floor)",
        read_rate,
        "subjects/s",
        notes=f"ECG median beats + cines, batch {BATCH}",
    )
