"""napari-latent: explore a multimodal generative model of the heart in napari.

    import napari_latent
    ex = napari_latent.Explorer.open(store, "demo")

Heavy modules (torch, napari, Qt) load only when first used, so napari's plugin
discovery stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as _lazy

from ._meta import package_version

__version__ = package_version()

if TYPE_CHECKING:
    import napari

    from .cohort import open_cohort
    from .cohort.synthetic import demo_cohort
    from .explorer import Explorer

__getattr__, _, _ = _lazy.attach(
    __name__,
    submod_attrs={"explorer": ["Explorer"], "cohort": ["open_cohort"], "cohort.synthetic": ["demo_cohort"]},
)
__all__ = ["__version__", "Explorer", "open_cohort", "demo_cohort", "show"]


def show(explorer: Explorer, viewer: napari.viewer.Viewer | None = None) -> napari.viewer.Viewer:
    """Dock ``explorer``'s views in ``viewer`` (a new napari viewer by default).

    Parameters
    ----------
    explorer
        The session to show.
    viewer
        A napari viewer; None opens a new one.

    Returns
    -------
    napari.viewer.Viewer
        The viewer holding the views.
    """
    from .widgets.views.layout import show_explorer

    return show_explorer(explorer, viewer)
