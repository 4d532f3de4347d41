"""One way for a Qt view to listen to an Explorer (or any psygnal/napari event) while it lives.

Only the Qt thread mutates an :class:`~napari_latent.explorer.Explorer`: its events fire
synchronously in the thread that changed it, and every view slot connected through
:class:`ExplorerBinding` checks that this is the main (Qt) thread. Work done in a worker
thread hands its result back through :func:`~napari_latent.widgets._qt.worker.start_worker`,
whose callbacks run on the Qt thread, and the Explorer is changed there.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["ExplorerBinding", "WrongThreadError", "bind"]


class WrongThreadError(RuntimeError):
    """An Explorer was changed outside the Qt thread while a view was listening."""


def _check_thread(slot_name: str) -> None:
    if threading.current_thread() is not threading.main_thread():
        raise WrongThreadError(
            f"{slot_name} received an Explorer event in thread {threading.current_thread().name!r}: "
            "only the Qt (main) thread may change an Explorer; hand worker results back through "
            "napari_latent.widgets._qt.worker.start_worker"
        )


def _ref(slot: Callable) -> Callable[[], Callable | None]:
    """A weak reference for bound methods (the binding keeps no view alive), strong otherwise."""
    if hasattr(slot, "__self__") and hasattr(slot, "__func__"):
        return weakref.WeakMethod(slot)
    return lambda: slot


def _max_args(slot: Callable) -> int | None:
    """How many positional arguments ``slot`` takes (None: any), as psygnal would pass them."""
    try:
        params = inspect.signature(slot).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _guarded(ref: Callable[[], Callable | None], name: str, n: int | None) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        _check_thread(name)
        slot = ref()
        return None if slot is None else slot(*args[:n])

    call.__name__ = name
    return call


def _disconnect(signal: Any, slot: Callable) -> None:
    try:
        signal.disconnect(slot)
    except (RuntimeError, ValueError, TypeError):  # already gone, or the emitter is deleted
        pass


class ExplorerBinding:
    """``(signal, slot)`` pairs connected and disconnected together.

    Parameters
    ----------
    pairs
        ``(signal, slot)``: psygnal signal instances (``explorer.events.selection``) or napari
        event emitters (``layer.events.visible``) with the callable that handles them. Bound
        methods are held weakly, so the binding keeps nothing alive.
    owner
        A Qt object; when it is destroyed the pairs are disconnected (without touching Qt).
    main_thread_only
        Whether each slot first checks that it runs on the Qt thread (raising
        :class:`WrongThreadError` if not).
    """

    def __init__(self, pairs: Sequence[tuple[Any, Callable]] = (), owner: Any = None, *, main_thread_only: bool = True):
        self._main_thread_only = main_thread_only
        self._pairs: list[tuple[Any, Callable]] = []
        self.connected = False
        self.extend(pairs, connect=False)
        if owner is not None:
            pairs_ref = self._pairs
            owner.destroyed.connect(lambda *_: _disconnect_pairs(pairs_ref))

    def extend(self, pairs: Sequence[tuple[Any, Callable]], *, connect: bool | None = None) -> None:
        """Add pairs; they are connected now if the binding is (or ``connect`` is True)."""
        added = []
        for signal, slot in pairs:
            ref = _ref(slot)
            name = getattr(slot, "__qualname__", repr(slot))
            n = _max_args(slot)
            handler = _guarded(ref, name, n) if self._main_thread_only else _unguarded(ref, n)
            added.append((signal, handler))
        self._pairs.extend(added)
        if connect or (connect is None and self.connected):
            for signal, handler in added:
                signal.connect(handler)

    def connect(self) -> bool:
        """Connect every pair; False when already connected."""
        if self.connected:
            return False
        for signal, handler in self._pairs:
            signal.connect(handler)
        self.connected = True
        return True

    def disconnect(self) -> None:
        """Disconnect every pair (ones already gone are skipped)."""
        _disconnect_pairs(self._pairs)
        self.connected = False

    def clear(self) -> None:
        """Disconnect and forget every pair."""
        self.disconnect()
        self._pairs.clear()


def _unguarded(ref: Callable[[], Callable | None], n: int | None) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        slot = ref()
        return None if slot is None else slot(*args[:n])

    return call


def _disconnect_pairs(pairs: list[tuple[Any, Callable]]) -> None:
    for signal, handler in pairs:
        _disconnect(signal, handler)


def bind(owner: Any, pairs: Sequence[tuple[Any, Callable]], **kwargs: Any) -> ExplorerBinding:
    """Connect ``pairs`` now and disconnect them when ``owner`` (a Qt object) is destroyed.

    Parameters
    ----------
    owner
        The view whose lifetime bounds the connections.
    pairs
        ``(signal, slot)`` pairs, see :class:`ExplorerBinding`.
    **kwargs
        Passed to :class:`ExplorerBinding`.

    Returns
    -------
    ExplorerBinding
        The connected binding; call :meth:`ExplorerBinding.disconnect` to stop earlier.
    """
    binding = ExplorerBinding(pairs, owner=owner, **kwargs)
    binding.connect()
    return binding
