"""napari-latent: explore a multimodal generative model of the heart in napari.

    import napari_latent
    ex = napari_latent.Explorer.open(store, "demo")

Heavy modules (torch, napari, Qt) load only when first used, so napari's plugin
discovery stays fast.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import version as __version__
except ImportError:  # not installed from a build
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "Explorer", "open_cohort", "demo_cohort"]


def __getattr__(name: str) -> Any:
    if name == "Explorer":
        from .explorer import Explorer

        return Explorer
    if name == "open_cohort":
        from .cohort import open_cohort

        return open_cohort
    if name == "demo_cohort":
        from .cohort.synthetic import demo_cohort

        return demo_cohort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
