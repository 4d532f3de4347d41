"""napari-latent: explore a multimodal generative model of the heart in napari."""

try:
    from ._version import version as __version__
except ImportError:  # not installed from a build
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
