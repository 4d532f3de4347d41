"""The synthetic demo cohort: coupled 12-lead ECG and 4-chamber cine with known ground truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as _lazy

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

if TYPE_CHECKING:
    from .factors import FACTOR_INFO, SubjectFactors, sample_factors, subject_rng
    from .generate import (
        DEMO_SEED,
        DEMO_SIZE,
        GENERATOR_VERSION,
        demo_cache_dir,
        demo_cohort,
        generate_cohort,
        generate_subject,
    )

__getattr__, __dir__, _ = _lazy.attach(
    __name__, submod_attrs={m: [n for n, mod in _EXPORTS.items() if mod == m] for m in set(_EXPORTS.values())}
)
