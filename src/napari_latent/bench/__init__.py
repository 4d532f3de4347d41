"""The benchmark suite behind ``napari-latent bench``: each group side by side with its baseline.

Groups (see :data:`GROUPS`): store, decode, encode, translation, analysis, projection,
training, scatter, slider. ``run_bench`` runs them, records the machine, and returns a
:class:`BenchReport` that writes ``bench-<date>.json`` and ``.md``. Importing this package
is cheap; each group imports its heavy libraries (torch, Qt, napari) only when it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BenchRow": "results",
    "BenchReport": "results",
    "machine_info": "machine",
    "GROUPS": "runner",
    "Group": "runner",
    "BenchContext": "runner",
    "run_bench": "runner",
    "main": "runner",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
