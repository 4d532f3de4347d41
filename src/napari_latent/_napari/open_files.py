"""npe2 menu commands *File > IO Utilities > Open cine or ECG…* and *Open DICOM cine folder…*.

No ``from __future__ import annotations`` here: napari injects the viewer by reading the
``Viewer`` annotation of each command at run time.
"""

try:
    from napari.viewer import Viewer
except ImportError:  # ``npe2 validate --imports`` in an environment without napari
    Viewer = "napari.viewer.Viewer"

__all__ = ["open_cine_or_ecg", "open_dicom_folder"]


def open_cine_or_ecg(viewer: Viewer) -> None:
    """Ask for a cine MRI or ECG file and open it with napari-latent's reader."""
    from ..widgets.standalone.open_files import open_cine_or_ecg as _open

    _open(viewer)


def open_dicom_folder(viewer: Viewer) -> None:
    """Ask for a DICOM cine series folder and open it with napari-latent's reader."""
    from ..widgets.standalone.open_files import open_cine_or_ecg as _open

    _open(viewer, folder=True)
