"""The package's version, for modules that record it (checkpoints) without importing the package root."""

from __future__ import annotations

__all__ = ["package_version"]


def package_version() -> str:
    """The installed version of napari-latent (``"0.0.0+unknown"`` when not built)."""
    try:
        from ._version import version
    except ImportError:  # not installed from a build
        return "0.0.0+unknown"
    return str(version)
