"""Latest-wins decoding off the Qt thread.

While a slider moves, the views ask for a decode many times a second; a decode takes
milliseconds to tens of milliseconds. :class:`LatestWinsDecoder` keeps at most ONE
request waiting: a new request replaces the waiting one (stale requests are dropped,
never queued), so the views always catch up with the newest latent and never fall
behind by a backlog.

One dedicated Python thread per decoder runs the loop (not napari's thread pool: a
long-lived loop would pin one of the pool's threads, and the pool has only as many
threads as cores). Results reach the Qt thread through a queued signal. While a decoder
works, PyTorch runs on one intra-op thread (:func:`torch_threads`), so a decode does not
fight the GUI thread for the cores: on 2 cores an all-threads decode made the GUI wait.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QObject, Qt, Signal

from .._qt.notify import notify_error
from .._qt.worker import start_worker

if TYPE_CHECKING:
    from ...explorer import Explorer

__all__ = ["BackgroundJobs", "LatestWinsDecoder", "torch_threads"]

_NOTHING = object()
_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved: int | None = None


@contextmanager
def torch_threads(n: int | None):
    """Run PyTorch with ``n`` intra-op threads inside the block (None: unchanged).

    The setting is process-wide, so overlapping blocks share it: the first one in sets it,
    the last one out restores what it was. Nothing happens when PyTorch is not imported.
    """
    global _threads_users, _threads_saved
    torch = sys.modules.get("torch")
    if n is None or torch is None:
        yield
        return
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
            if _threads_saved != n:
                torch.set_num_threads(n)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0 and _threads_saved is not None and torch.get_num_threads() != _threads_saved:
                torch.set_num_threads(_threads_saved)


class LatestWinsDecoder(QObject):
    """Decode requests on one background thread; only the newest waiting request is kept.

    ``func(request) -> dict`` does the work (default: decode with ``explorer.model``, read at
    call time so a model swap is picked up, through :func:`~napari_latent.model.traced_decode.decode_traced`
    so that a busy GUI thread does not slow the decode down), with ``threads`` PyTorch threads
    (None: leave PyTorch's setting alone). :meth:`request` is called on the
    Qt thread; :attr:`decoded` ``(result, request)`` and :attr:`failed` ``(exception,
    request)`` are emitted on the Qt thread. :meth:`stop` ends the thread and drops
    anything not yet delivered; a later :meth:`request` starts a new thread.
    """

    decoded = Signal(object, object)  # result dict, the request it answers
    failed = Signal(object, object)  # exception, the request that raised it
    _done = Signal(object, object, object, int)  # from the worker thread: result, error, request, generation

    def __init__(
        self,
        explorer: Explorer | None = None,
        func: Callable[[Any], dict[str, np.ndarray]] | None = None,
        parent: QObject | None = None,
        *,
        name: str = "decoder",
        threads: int | None = 1,
    ) -> None:
        super().__init__(parent)
        if func is None and explorer is None:
            raise ValueError("give an explorer (to decode with its model) or a func")
        self._explorer = explorer
        self._func = func
        self._name = name
        self._threads = threads
        self._cond = threading.Condition()
        self._pending: Any = _NOTHING
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False
        self._generation = 0
        self._requests = 0
        self._decodes = 0
        self._last_ms = float("nan")
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ public API
    def request(self, item: Any) -> None:
        """Ask for ``item`` (a latent (D,) or whatever ``func`` takes) to be decoded.

        Replaces any request still waiting; NumPy arrays are copied.
        """
        if isinstance(item, np.ndarray):
            item = item.copy()
        with self._cond:
            self._pending = item
            self._requests += 1
            if self._thread is None or not self._thread.is_alive():
                self._start_locked()
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> bool:
        """Drop waiting work, end the thread and wait for it; True if it has ended."""
        with self._cond:
            self._stopping = True
            self._pending = _NOTHING
            self._generation += 1  # results still in the Qt event queue are ignored
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy(self) -> bool:
        """Whether a request is being decoded or waiting."""
        with self._cond:
            return self._busy or self._pending is not _NOTHING

    @property
    def requests(self) -> int:
        """How many requests were made."""
        return self._requests

    @property
    def decodes(self) -> int:
        """How many requests were actually decoded (the rest were superseded)."""
        return self._decodes

    @property
    def last_decode_ms(self) -> float:
        """Duration of the latest decode in milliseconds (NaN before the first)."""
        return self._last_ms

    # ------------------------------------------------------------------ worker thread
    def _start_locked(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=f"napari-latent {self._name}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is _NOTHING and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item, self._pending = self._pending, _NOTHING
                self._busy = True
                generation = self._generation
            result, error = None, None
            start = time.perf_counter()
            try:
                with torch_threads(self._threads):
                    result = self._run(item)
            except Exception as exc:  # noqa: BLE001 - reported on the Qt thread
                error = exc
            with self._cond:
                self._busy = False
                self._decodes += 1
                self._last_ms = (time.perf_counter() - start) * 1e3
                if self._stopping:
                    return
            try:
                self._done.emit(result, error, item, generation)
            except RuntimeError:  # the QObject was deleted under us: nobody to deliver to
                return

    def _run(self, item: Any) -> dict[str, np.ndarray]:
        if self._func is not None:
            return self._func(item)
        model = self._explorer.model
        if model is None:
            raise RuntimeError("no model loaded: nothing to decode with")
        from ...model.traced_decode import decode_traced

        return decode_traced(model, np.asarray(item, dtype=np.float32))

    # ------------------------------------------------------------------ Qt thread
    def _deliver(self, result: Any, error: BaseException | None, item: Any, generation: int) -> None:
        if generation != self._generation:
            return
        if error is not None:
            self.failed.emit(error, item)
            return
        self.decoded.emit(result, item)


class BackgroundJobs:
    """One-off jobs (probes, directions) in napari workers with a progress bar.

    Jobs are keyed by purpose; only the newest job of a key reports back (an older one
    still running is ignored when it finishes: a function worker cannot be interrupted).
    Errors become napari notifications.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, object] = {}
        self._done: list[threading.Event] = []

    @property
    def busy(self) -> bool:
        """Whether any job is still running."""
        return any(not e.is_set() for e in self._done)

    def start(self, key: str, func: Callable[[], Any], on_result: Callable[[Any], Any], desc: str) -> None:
        """Run ``func()`` off the Qt thread; ``on_result(result)`` on the Qt thread if still wanted."""
        token, done = object(), threading.Event()
        self._tokens[key] = token
        self._done = [e for e in self._done if not e.is_set()] + [done]

        def job() -> Any:
            try:
                return func()
            finally:
                done.set()

        start_worker(
            job,
            returned=lambda result: self._tokens.get(key) is token and on_result(result),
            errored=lambda exc: self._tokens.get(key) is token and notify_error(f"{desc} failed: {exc}"),
            desc=desc,
        )

    def cancel_all(self, wait_s: float = 5.0) -> None:
        """Forget every pending result and wait (up to ``wait_s`` each) for running jobs to end."""
        self._tokens.clear()
        for done in self._done:
            done.wait(wait_s)

