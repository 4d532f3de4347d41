"""Measure how responsive the Qt event loop is: the gaps between ticks of a 10 ms timer.

:class:`EventLoopMonitor`, started on the Qt thread, runs a precise ``QTimer`` every
``interval_ms`` and records when each tick arrives. While the event loop is free, ticks
come every ~10 ms; while the Qt thread is busy (a long slot, a redraw, a worker thread
holding the GIL) the next tick comes late. A *stall* is the gap between two consecutive
ticks, so a 300 ms ``time.sleep`` on the Qt thread shows as a stall of at least 300 ms.

Usage (on the Qt thread)::

    monitor = EventLoopMonitor().start()
    ...  # run heavy work, keep the event loop spinning (qtbot.waitSignal, app.exec)
    report = monitor.stop().report(skip_s=1.0)
    report.max_ms, report.p99_ms, report.count_over(50)

With ``sample_stacks=True`` a watchdog thread looks at the Qt thread's Python stack
whenever a tick is overdue, so each stall in the report says where the Qt thread was
(``StallReport.where``), which is what a failing responsiveness test needs to print.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from qtpy.QtCore import QObject, Qt, QTimer

__all__ = ["EventLoopMonitor", "StallReport", "cpu_share"]


def cpu_share(seconds: float = 0.2) -> float:
    """The share of one core the calling thread gets now: CPU time over wall time of a busy loop.

    About 1.0 on an idle machine; 0.3 means the thread runs only 30% of the time (other
    processes or threads compete for the cores), so work on it takes ~3x longer.
    """
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < seconds:
        sum(range(1000))
    return min(1.0, (time.thread_time() - cpu0) / (time.perf_counter() - wall0))


@dataclass(frozen=True)
class StallReport:
    """Gaps between event-loop ticks over a measured period.

    ``tick_times`` are the tick times in seconds since the monitor started (the first
    kept tick included), ``gaps_ms`` the gaps ending at each later tick.
    """

    interval_ms: float
    tick_times: np.ndarray
    gaps_ms: np.ndarray
    #: CPU time the Qt thread itself used during each gap (ms): a stall with little of it was
    #: spent waiting (for the GIL held by a worker, or for a core), not working
    busy_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: (stall start in s, where the Qt thread was) sampled during stalls (``sample_stacks=True``)
    samples: tuple[tuple[float, str], ...] = field(default=(), repr=False)

    def where(self, when_s: float) -> list[str]:
        """Where the Qt thread was (distinct stack summaries) during the stall that began at ``when_s``."""
        seen: dict[str, None] = {}
        for start, stack in self.samples:
            if abs(start - when_s) < 1e-9:
                seen.setdefault(stack, None)
        return list(seen)

    @property
    def n_ticks(self) -> int:
        return len(self.tick_times)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last tick."""
        return float(self.tick_times[-1] - self.tick_times[0]) if len(self.tick_times) > 1 else 0.0

    @property
    def max_ms(self) -> float:
        """The longest gap between ticks (0 when there are fewer than two ticks)."""
        return float(self.gaps_ms.max()) if len(self.gaps_ms) else 0.0

    @property
    def p99_ms(self) -> float:
        """The 99th percentile of the gaps between ticks."""
        return float(np.percentile(self.gaps_ms, 99)) if len(self.gaps_ms) else 0.0

    @property
    def median_ms(self) -> float:
        return float(np.median(self.gaps_ms)) if len(self.gaps_ms) else 0.0

    def count_over(self, threshold_ms: float) -> int:
        """How many gaps were longer than ``threshold_ms``."""
        return int(np.sum(self.gaps_ms > threshold_ms))

    def stalls(self, threshold_ms: float = 50.0) -> list[tuple[float, float]]:
        """``(when_s, gap_ms)`` for each gap longer than ``threshold_ms``, longest first;
        ``when_s`` is the time (since the monitor started) at which the stall began."""
        over = np.flatnonzero(self.gaps_ms > threshold_ms)
        found = [(float(self.tick_times[i]), float(self.gaps_ms[i])) for i in over]
        return sorted(found, key=lambda s: -s[1])

    def busy_during(self, when_s: float) -> float:
        """CPU time (ms) the Qt thread used during the gap that began at ``when_s`` (NaN if unknown)."""
        i = int(np.searchsorted(self.tick_times, when_s))
        ok = i < len(self.busy_ms) and abs(self.tick_times[i] - when_s) < 1e-9
        return float(self.busy_ms[i]) if ok else float("nan")

    def window_max_ms(self, window_s: float = 1.0) -> np.ndarray:
        """The longest gap in each consecutive window of ``window_s`` seconds (by stall start)."""
        if not len(self.gaps_ms):
            return np.zeros(0)
        starts = self.tick_times[:-1] - self.tick_times[0]
        bins = (starts // window_s).astype(int)
        out = np.zeros(bins.max() + 1)
        np.maximum.at(out, bins, self.gaps_ms)
        return out

    def summary(self, threshold_ms: float = 50.0, *, limit: int = 10) -> str:
        """One line of figures, then the longest stalls (at most ``limit``)."""
        head = (
            f"{self.n_ticks} ticks over {self.duration_s:.1f} s: max {self.max_ms:.0f} ms, "
            f"p99 {self.p99_ms:.0f} ms, median {self.median_ms:.1f} ms, "
            f"{self.count_over(threshold_ms)} stalls > {threshold_ms:.0f} ms"
        )
        worst = self.stalls(threshold_ms)[:limit]
        if worst:
            head += "; longest:"
        for when, gap in worst:
            head += f"\n  {gap:.0f} ms at t={when:.2f} s (Qt thread busy {self.busy_during(when):.0f} ms)"
            for stack in self.where(when)[:3]:
                head += f"\n      in {stack}"
        return head


class EventLoopMonitor(QObject):
    """Record the gaps between ticks of a ``interval_ms`` timer on the Qt event loop.

    ``start()`` on the Qt thread (the timer fires only while the event loop runs),
    ``stop()`` when done, then ``report(skip_s=...)`` leaves out the first ``skip_s``
    seconds (first draw, shader compilation). ``mark()`` returns the current time on the
    monitor's clock, to report a later part only (``report(since=...)``).
    """

    def __init__(
        self, interval_ms: int = 10, parent: QObject | None = None, *, sample_stacks: bool = False,
        sample_after_ms: float = 40.0,
    ):  # fmt: skip
        super().__init__(parent)
        if interval_ms < 1:
            raise ValueError(f"interval_ms must be at least 1, got {interval_ms}")
        self.interval_ms = int(interval_ms)
        self.sample_stacks = sample_stacks
        self.sample_after_ms = float(sample_after_ms)
        self._samples: list[tuple[float, str]] = []
        self._watchdog: threading.Thread | None = None
        self._qt_thread = threading.get_ident()
        self._halt = threading.Event()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.interval_ms)
        self._timer.timeout.connect(self._tick)
        self._t0 = time.perf_counter()
        self._ticks: list[float] = []
        self._cpu: list[float] = []

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> EventLoopMonitor:
        """Forget earlier ticks and start recording (call on the Qt thread)."""
        self.stop()
        self._ticks, self._samples = [0.0], []
        self._cpu = [time.thread_time()]
        self._t0 = time.perf_counter()
        self._timer.start()
        self._qt_thread = threading.get_ident()
        if self.sample_stacks:
            self._halt = threading.Event()
            self._watchdog = threading.Thread(target=self._watch, args=(self._qt_thread, self._halt), daemon=True)
            self._watchdog.start()
        return self

    def stop(self) -> EventLoopMonitor:
        """Stop recording; the ticks so far stay available to :meth:`report`."""
        self._timer.stop()
        self._halt.set()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None
        return self

    def mark(self) -> float:
        """Now, in seconds on the monitor's clock (since ``start``)."""
        return time.perf_counter() - self._t0

    def report(self, *, skip_s: float = 0.0, since: float | None = None) -> StallReport:
        """The gaps between ticks, leaving out those that began before ``skip_s`` seconds
        after ``start`` (or before ``since``, a :meth:`mark`, when that is later).

        A running monitor also counts the gap from its last tick to now, so a stall in
        progress (the Qt thread blocked right now) is not missed.
        """
        n = min(len(self._ticks), len(self._cpu))
        ticks = np.asarray(self._ticks[:n], dtype=float)
        cpu = np.asarray(self._cpu[:n], dtype=float)
        if self.running and n and threading.get_ident() == self._qt_thread:
            ticks, cpu = np.append(ticks, self.mark()), np.append(cpu, time.thread_time())
        begin = max(skip_s, since if since is not None else 0.0)
        first = int(np.searchsorted(ticks, begin, side="left"))
        ticks, cpu = ticks[first:], cpu[first:]
        samples = tuple((start, where) for start, where in self._samples if start >= begin)
        gaps, busy = np.diff(ticks) * 1e3, np.diff(cpu) * 1e3
        return StallReport(float(self.interval_ms), ticks, gaps, busy_ms=busy, samples=samples)

    def _tick(self) -> None:
        self._cpu.append(time.thread_time())
        self._ticks.append(time.perf_counter() - self._t0)

    def _watch(self, qt_thread: int, halt: threading.Event) -> None:
        """Watchdog thread: while a tick is overdue, note where the Qt thread is."""
        period = self.interval_ms / 2e3
        while not halt.wait(period):
            last = self._ticks[-1]
            if (self.mark() - last) * 1e3 < self.sample_after_ms:
                continue
            frame = sys._current_frames().get(qt_thread)
            if frame is not None:
                self._samples.append((last, _describe(traceback.extract_stack(frame))))


def _describe(stack: traceback.StackSummary, depth: int = 3) -> str:
    """The innermost frames of a stack, and the innermost napari_latent frame when not among them."""

    def short(f: traceback.FrameSummary) -> str:
        parts = f.filename.replace("\\", "/").split("/")
        return f"{'/'.join(parts[-2:])}:{f.lineno} {f.name}"

    inner = list(stack)[-depth:][::-1]
    text = " < ".join(short(f) for f in inner)
    ours = [f for f in stack if "napari_latent" in f.filename and "_stall_monitor" not in f.filename]
    if ours and ours[-1] not in inner:
        text += f" ... {short(ours[-1])}"
    return text
