"""Listen to an Explorer's events for as long as a Qt view is open, and no longer."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["ExplorerBinding"]


class ExplorerBinding:
    """``(psygnal signal, bound method)`` pairs connected and disconnected together.

    The view calls :meth:`connect` when shown and :meth:`disconnect` when closed; a
    binding made with ``owner`` also disconnects when the owner's Qt object is destroyed
    (holding the slots weakly, so the binding keeps nothing alive).
    """

    def __init__(self, pairs: Sequence[tuple[Any, Callable]], owner: Any = None):
        self._pairs = [(signal, weakref.WeakMethod(slot)) for signal, slot in pairs]
        self.connected = False
        if owner is not None:
            owner.destroyed.connect(_disconnect_all(self._pairs))

    def connect(self) -> bool:
        """Connect every pair; False when already connected."""
        if self.connected:
            return False
        for signal, ref in self._pairs:
            slot = ref()
            if slot is not None:
                signal.connect(slot)
        self.connected = True
        return True

    def disconnect(self) -> None:
        _disconnect_all(self._pairs)()
        self.connected = False


def _disconnect_all(pairs: list) -> Callable[..., None]:
    def disconnect(*_args: object) -> None:
        for signal, ref in pairs:
            slot = ref()
            if slot is not None:
                signal.disconnect(slot, missing_ok=True)

    return disconnect
