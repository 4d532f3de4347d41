"""One way to run heavy work off the Qt thread: a napari worker with cancel, progress and errors.

:func:`start_worker` wraps :func:`napari.qt.threading.create_worker`. Its callbacks
(``returned``, ``errored``, ``finished``, ``progressed``) run on the Qt thread, which is the
only thread that changes an :class:`~napari_latent.explorer.Explorer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, Signal

from .notify import notify_error

__all__ = ["start_worker"]


class _Relay(QObject):
    """Carries progress from the worker thread to the Qt thread."""

    progressed = Signal(int, int)


def start_worker(
    func: Callable[..., Any],
    *args: Any,
    returned: Callable[[Any], Any] | None = None,
    errored: Callable[[BaseException], Any] | None = None,
    finished: Callable[[], Any] | None = None,
    error_prefix: str | None = None,
    desc: str | None = None,
    total: int = 0,
    stop: threading.Event | None = None,
    progress_kw: str | None = None,
    progressed: Callable[[int, int], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``func(*args, **kwargs)`` in a napari worker and start it.

    Parameters
    ----------
    func, *args, **kwargs
        The work and its arguments.
    returned, errored, finished
        Called on the Qt thread with the result, the exception, or nothing.
    error_prefix
        Without ``errored``: errors are shown as a napari notification with this prefix
        (errors are never raised in the Qt thread).
    desc, total
        A napari progress bar with this description and total (0: busy), closed when the
        worker finishes; ``worker.pbar`` holds it (None without ``desc``).
    stop
        A stop event, cleared now; ``func`` receives ``should_stop=stop.is_set``.
    progress_kw
        Name of ``func``'s progress callback argument (e.g. ``"progress"``): it receives a
        thread-safe ``(done, total)`` callback that updates the progress bar and calls
        ``progressed`` on the Qt thread.
    progressed
        Called on the Qt thread with ``(done, total)``.

    Returns
    -------
    napari.qt.threading.FunctionWorker
        The started worker.
    """
    from napari.qt.threading import create_worker
    from napari.utils import progress

    if stop is not None:
        stop.clear()
        kwargs["should_stop"] = stop.is_set
    pbar = progress(total=total, desc=desc) if desc else None
    relay = None
    if progress_kw is not None:
        relay = _Relay()
        kwargs[progress_kw] = relay.progressed.emit
        if pbar is not None:
            relay.progressed.connect(lambda done, n: _advance(pbar, done, n))
        if progressed is not None:
            relay.progressed.connect(progressed)
    worker = create_worker(func, *args, **kwargs, _start_thread=False, _ignore_errors=True)
    worker.pbar = pbar
    worker._relay = relay  # keep the relay alive as long as the worker
    if returned is not None:
        worker.returned.connect(returned)
    if errored is not None:
        worker.errored.connect(errored)
    else:
        worker.errored.connect(lambda exc: notify_error(exc, error_prefix))
    if pbar is not None:
        worker.finished.connect(pbar.close)
    if finished is not None:
        worker.finished.connect(finished)
    worker.start()
    return worker


def _advance(pbar: Any, done: int, total: int) -> None:
    pbar.total = total
    pbar.n = done
    pbar.refresh()
