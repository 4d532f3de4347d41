"""Timing helpers: repeated calls summarised as median / p95 / min."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Timing", "time_calls", "time_once"]


@dataclass(frozen=True)
class Timing:
    """Wall times of ``n`` calls in milliseconds."""

    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    n: int

    @classmethod
    def of(cls, ms: list[float]) -> Timing:
        a = np.asarray(ms, dtype=np.float64)
        if a.size == 0:
            raise ValueError("no timings to summarise")
        return cls(float(np.median(a)), float(np.percentile(a, 95)), float(a.min()), float(a.max()), int(a.size))


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return Timing.of(ms)


def time_once(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), seconds)``."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0
