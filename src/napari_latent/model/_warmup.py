"""Import ``torch._dynamo`` in the background while training prepares its data.

PyTorch's optimisers import ``torch._dynamo`` the first time one is built (their methods
are wrapped by ``torch._disable_dynamo``): 3-7 s on a laptop core, all of it before the
first training step. Starting that import on a thread when training begins lets it overlap
the split and the normalisation statistics; :func:`wait` joins it before the optimiser
is built, so the import never runs on two threads at once.
"""

from __future__ import annotations

import sys
import threading

__all__ = ["start", "wait"]

_thread: threading.Thread | None = None
_lock = threading.Lock()


def _import() -> None:
    try:
        import torch._dynamo  # noqa: F401
    except Exception:  # the optimiser imports it again on the main thread and reports a real failure
        pass


def start() -> None:
    """Begin importing ``torch._dynamo`` on a daemon thread (once per process; a no-op when imported)."""
    global _thread
    with _lock:
        if _thread is not None or "torch._dynamo" in sys.modules:
            return
        _thread = threading.Thread(target=_import, name="napari-latent-torch-warmup", daemon=True)
        _thread.start()


def wait() -> None:
    """Wait for :func:`start`'s import to finish (returns at once when none was started)."""
    thread = _thread
    if thread is not None:
        thread.join()
