"""Generate the synthetic demo cohort: subjects in parallel, written straight into a store."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..cohort import Cohort, ColumnInfo
from ..ecg_processing import median_beat
from ..errors import CohortError, StoreExistsError
from ..store import CohortWriter, is_cohort_store, open_cohort, write_subject_arrays
from .cine import synthesize_cine
from .ecg import synthesize_ecg
from .factors import FACTOR_INFO, sample_factors, subject_rng

__all__ = ["generate_subject", "generate_cohort", "demo_cohort", "demo_cache_dir", "GENERATOR_VERSION", "DEMO_SEED", "DEMO_SIZE"]

#: Bumped whenever the generator's output changes, so cached demo stores are rebuilt.
GENERATOR_VERSION = 2
DEMO_SEED = 0
DEMO_SIZE = 1000

Progress = Callable[[int, int], Any]  # (subjects done, total)


def subject_id(index: int) -> str:
    """The id of demo subject ``index``."""
    return f"D{index:06d}"


def generate_subject(seed: int, index: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One subject's table row and arrays, a pure function of (seed, index)."""
    f = sample_factors(seed, index)
    rhythm = synthesize_ecg(f, subject_rng(seed, index, stream=1))
    cine, labels = synthesize_cine(f, subject_rng(seed, index, stream=2))
    arrays = {
        "ecg_rhythm": rhythm,
        "ecg_median": median_beat(rhythm),
        "mri": cine,
        "labels": labels,
    }
    return {"subject_id": subject_id(index), **f.as_row()}, arrays


def _columns() -> dict[str, ColumnInfo]:
    info = {"subject_id": ColumnInfo("", "Subject identifier", "id")}
    info.update({k: ColumnInfo(unit, desc, role) for k, (unit, desc, role) in FACTOR_INFO.items()})
    return info


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    return table[[c for c in _columns() if c in table.columns]]


def _write_block(store_path: str, seed: int, indices: list[int]) -> list[dict[str, Any]]:
    rows = []
    for i in indices:
        row, arrays = generate_subject(seed, i)
        write_subject_arrays(store_path, i, arrays)
        rows.append(row)
    done = Path(store_path) / DONE_DIR
    if done.is_dir():  # a resumable store: record the finished block (arrays first, then its rows)
        tmp = done / f".{indices[0]:09d}.json.tmp"
        tmp.write_text(json.dumps(rows, default=_plain))
        os.replace(tmp, done / f"{indices[0]:09d}.json")
    return rows


DONE_DIR = "generated_blocks"  # inside a resumable partial store: one JSON of table rows per finished block


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


def _resume_state(partial: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """Rows of the blocks a previous, interrupted generation finished (checks it made the same cohort)."""
    marker = partial / DONE_DIR / "generation.json"
    want = {"n": n, "seed": seed, "version": GENERATOR_VERSION}
    if not marker.exists():
        (partial / DONE_DIR).mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(want))
        return []
    have = json.loads(marker.read_text())
    if have != want:
        raise CohortError(
            f"an interrupted generation of another cohort ({have}) is in the way of {want}; delete it to start over",
            path=partial,
        )
    return [row for f in sorted((partial / DONE_DIR).glob("*.json")) if f.name != "generation.json"
            for row in json.loads(f.read_text())]  # fmt: skip


#: Fewest subjects per worker process when ``workers`` is not given.
SUBJECTS_PER_WORKER = 64


def generate_cohort(
    n: int,
    seed: int = DEMO_SEED,
    path: str | os.PathLike | None = None,
    *,
    workers: int | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = False,
) -> Cohort:
    """Generate ``n`` subjects; in memory when ``path`` is None, else into a new store.

    Writing uses ``workers`` processes (default: all cores, at most one per 64 subjects), each writing its subjects'
    chunks directly; the store only appears at ``path`` once every subject is written.
    ``should_stop`` returning True cancels and leaves nothing behind, unless ``resume``:
    then what was written is kept beside ``path`` (``.NAME.partial``) and the next call
    with ``resume=True`` generates only the subjects still missing.
    """
    if path is None:
        rows, blocks = [], {k: [] for k in ("ecg_rhythm", "ecg_median", "mri", "labels")}
        for i in range(n):
            if should_stop is not None and should_stop():
                raise InterruptedError("generation cancelled")
            row, arrays = generate_subject(seed, i)
            rows.append(row)
            for k, a in arrays.items():
                blocks[k].append(a)
            if progress is not None:
                progress(i + 1, n)
        return Cohort.from_arrays(
            _table(rows),
            **{k: np.stack(v) for k, v in blocks.items()},
            columns=_columns(),
            attrs=_attrs(seed),
        )

    if workers is None:
        # a worker process costs seconds to start (imports): worth it only for larger cohorts
        workers = max(1, min(os.cpu_count() or 1, n // SUBJECTS_PER_WORKER))
    block = max(1, min(32, n // (4 * workers) or 1))
    chunks = [list(range(s, min(s + block, n))) for s in range(0, n, block)]
    rows: list[dict[str, Any]] = []
    partial = Path(path).expanduser().absolute()
    partial = partial.parent / f".{partial.name}.partial" if resume else None
    with CohortWriter(path, n, overwrite=overwrite, partial_path=partial) as writer:
        done: set[int] = set()
        if resume:
            rows = _resume_state(writer.temp_path, n, seed)
            finished = {int(r["subject_id"][1:]) for r in rows}
            done = {k for k, c in enumerate(chunks) if c[0] in finished}
            if progress is not None and rows:
                progress(len(rows), n)
        if workers > 1:
            try:
                _write_in_pool(str(writer.temp_path), seed, chunks, workers, rows, done, progress, should_stop, n)
            except BrokenProcessPool:
                # Typically a script without ``if __name__ == "__main__":``: spawned workers
                # re-run it and die. Finish in this process instead of failing.
                warnings.warn(
                    "worker processes could not run (a script calling this needs an "
                    "'if __name__ == \"__main__\":' guard); generating in this process instead",
                    RuntimeWarning,
                    stacklevel=2,
                )
        for k, chunk in enumerate(chunks):
            if k in done:
                continue
            _check_stop(should_stop)
            rows += _write_block(str(writer.temp_path), seed, chunk)
            if progress is not None:
                progress(len(rows), n)
        rows.sort(key=lambda r: r["subject_id"])
        if resume:
            shutil.rmtree(writer.temp_path / DONE_DIR, ignore_errors=True)
        return writer.commit(_table(rows), columns=_columns(), attrs=_attrs(seed), overwrite=overwrite)


def _write_in_pool(
    temp_path: str,
    seed: int,
    chunks: list[list[int]],
    workers: int,
    rows: list[dict[str, Any]],
    done: set[int],
    progress: Progress | None,
    should_stop: Callable[[], bool] | None,
    n: int,
) -> None:
    """Write the ``chunks`` not in ``done`` in spawned worker processes, adding their table rows
    to ``rows`` and the indices of the chunks finished to ``done`` as they complete."""
    import multiprocessing as mp

    todo = [k for k in range(len(chunks)) if k not in done]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        futures = {k: pool.submit(_write_block, temp_path, seed, chunks[k]) for k in todo}
        try:
            for k, fut in futures.items():
                _check_stop(should_stop)
                rows += fut.result()
                done.add(k)
                if progress is not None:
                    progress(len(rows), n)
        except BaseException:
            for fut in futures.values():
                fut.cancel()
            raise


def _check_stop(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise InterruptedError("generation cancelled")


def _attrs(seed: int) -> dict[str, Any]:
    return {"source": {"generator": "napari_latent.cohort.synthetic", "version": GENERATOR_VERSION, "seed": seed}}


def demo_cache_dir() -> Path:
    """Where generated demo cohorts are cached (``$NAPARI_LATENT_CACHE`` overrides)."""
    env = os.environ.get("NAPARI_LATENT_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("napari-latent"))


def demo_cohort(
    n: int = DEMO_SIZE,
    seed: int = DEMO_SEED,
    *,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Cohort:
    """The demo cohort of ``n`` subjects, generated once (resumably) and then opened from the cache.

    ``should_stop()`` returning True stops the generation after the blocks in hand
    (InterruptedError); what was written is kept and the next call resumes it.
    """
    root = Path(cache_dir) if cache_dir is not None else demo_cache_dir()
    path = root / f"demo-v{GENERATOR_VERSION}-seed{seed}-n{n}.zarr"
    if is_cohort_store(path):
        return open_cohort(path)
    try:  # an interrupted generation (Ctrl+C, a crash) resumes where it stopped
        return generate_cohort(n, seed, path, progress=progress, workers=workers, resume=True, should_stop=should_stop)
    except StoreExistsError:  # another process generated it meanwhile
        return open_cohort(path)
