"""Explorer event connections that views undo when they are destroyed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def disconnect_all(links: Iterable[tuple[Any, Any]], *_: Any) -> None:
    """Disconnect each ``(signal, slot)`` pair; ones already gone are skipped."""
    for signal, slot in links:
        try:
            signal.disconnect(slot)
        except (RuntimeError, ValueError, TypeError):
            pass
