"""Inputs the groups share: a sparse 100,000-subject store, small generated stores, the demo model."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

__all__ = ["demo_model", "generated_store", "make_empty_store"]


def make_empty_store(path: Path, n: int) -> None:
    """A store with a full ``n``-row table and arrays created but never written (no chunk exists)."""
    import pandas as pd

    from ..cohort import CohortWriter
    from ..cohort.synthetic import sample_factors
    from ..cohort.synthetic.generate import _columns

    rows = [{"subject_id": "", **sample_factors(0, i).as_row()} for i in range(min(n, 2000))]
    table = pd.DataFrame(rows)
    table = pd.concat([table] * (n // len(table) + 1), ignore_index=True).iloc[:n]
    table["subject_id"] = [f"U{i:07d}" for i in range(n)]
    with CohortWriter(path, n) as writer:
        writer.commit(table, columns=_columns(), validate=False)


def generated_store(path: Path, n: int, seed: int = 0) -> Any:
    """``n`` demo subjects (seed ``seed``) generated into a new store at ``path`` by this process."""
    from ..cohort.synthetic import generate_cohort

    return generate_cohort(n, seed, path, workers=1)


@functools.cache
def demo_model() -> Any:
    """The shipped demo model (eval mode), loaded once per process."""
    from ..model import load_demo_model

    return load_demo_model().eval()
