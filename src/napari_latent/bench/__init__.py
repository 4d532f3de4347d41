"""The benchmark suite behind ``napari-latent bench``: each group side by side with its baseline.

Groups (see :data:`GROUPS`): store, decode, encode, translation, analysis, projection,
training, scatter, slider. ``run_bench`` runs them, records the machine, and returns a
:class:`BenchReport` that writes ``bench-<date>.json`` and ``.md``. Importing this package
is cheap; each group imports its heavy libraries (torch, Qt, napari) only when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as _lazy

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

if TYPE_CHECKING:
    from .results import BenchReport, BenchRow
    from .machine import machine_info
    from .runner import BenchContext, GROUPS, Group, main, run_bench

__getattr__, __dir__, _ = _lazy.attach(
    __name__, submod_attrs={m: [n for n, mod in _EXPORTS.items() if mod == m] for m in set(_EXPORTS.values())}
)
