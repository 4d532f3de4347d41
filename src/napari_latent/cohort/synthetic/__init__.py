"""The synthetic demo cohort: coupled 12-lead ECG and 4-chamber cine with known ground truth."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SubjectFactors": "factors",
    "sample_factors": "factors",
    "subject_rng": "factors",
    "FACTOR_INFO": "factors",
    "generate_subject": "generate",
    "generate_cohort": "generate",
    "demo_cohort": "generate",
    "demo_cache_dir": "generate",
    "DEMO_SEED": "generate",
    "DEMO_SIZE": "generate",
    "GENERATOR_VERSION": "generate",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
