"""Streaming batches from a cohort: a Dataset over subject indices, loaders, the validation split."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from ..cohort import Cohort
from .config import ARRAY_OF

__all__ = [
    "CohortDataset",
    "split_indices",
    "make_loader",
    "collate_batch",
    "iterate_batches",
    "to_device",
    "prefetch",
]


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, validation) subject indices, each sorted; at least one of each when n >= 2."""
    if n < 1:
        raise ValueError("the cohort is empty")
    perm = np.random.default_rng(np.random.SeedSequence([int(seed), 7919])).permutation(n)
    n_val = int(round(n * float(val_fraction)))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class CohortDataset(Dataset):
    """Subjects ``indices`` of a cohort; items are read lazily, batches in one call per array.

    Batches are dicts ``{"ecg": float32 (B, 12, 600), "mri": float16 (B, 50, 96, 96),
    "index": int64 (B,)}``; cine stays float16 until it is on the training device.
    """

    def __init__(self, cohort: Cohort, indices: Sequence[int] | np.ndarray, modalities: Sequence[str] = ("ecg", "mri")):
        self.cohort = cohort
        self.indices = np.asarray(indices, dtype=np.int64)
        self.modalities = tuple(modalities)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {k: v[0] for k, v in self.__getitems__([i]).items()}

    def __getitems__(self, items: Sequence[int]) -> dict[str, torch.Tensor]:
        """A whole batch in one read per array (used by DataLoader's batched fetch)."""
        idx = self.indices[np.asarray(items, dtype=np.int64)]
        out = {m: torch.from_numpy(np.ascontiguousarray(self.cohort.read(ARRAY_OF[m], idx))) for m in self.modalities}
        out["index"] = torch.from_numpy(idx.copy())
        return out


def collate_batch(batch: Any) -> dict[str, torch.Tensor]:
    """Pass pre-batched dicts through; stack a list of per-subject dicts."""
    if isinstance(batch, dict):
        return batch
    return {k: torch.stack([b[k] for b in batch]) for k in batch[0]}


def make_loader(
    dataset: CohortDataset,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
    drop_last: bool = False,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader over a DistributedSampler (also for one process: deterministic per-epoch shuffles)."""
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        collate_fn=collate_batch,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
    )


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Move a batch; cine float16 becomes float32 on the device."""
    out = {}
    for k, v in batch.items():
        v = v.to(device, non_blocking=True)
        out[k] = v.float() if v.is_floating_point() else v
    return out


def iterate_batches(
    cohort: Cohort, indices: Sequence[int] | np.ndarray, arrays: Sequence[str], batch_size: int = 64
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """``(indices, {array name: batch})`` in order, reading one batch at a time."""
    idx = np.asarray(indices, dtype=np.int64)
    for start in range(0, len(idx), batch_size):
        block = idx[start : start + batch_size]
        yield block, {a: cohort.read(a, block) for a in arrays}


def prefetch(iterable: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``iterable`` in a background thread, ``depth`` items ahead.

    Reading and decompressing the next batch (Zarr/Blosc release the GIL) overlaps the
    current training step. Exceptions are re-raised here; leaving the loop early stops
    the thread.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((done, None))
        except BaseException as exc:  # handed to the consumer
            q.put((done, exc))

    thread = threading.Thread(target=work, name="napari-latent-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # drain so a blocked put can finish
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
