"""Open a cine or an ECG with napari-latent's reader, whatever napari's other readers claim.

napari offers every reader that claims a file's pattern in its *Choose reader* dialog and
preselects the first by name ("napari builtins"), so a dropped ``.dcm``, ``.nii``, ``.nii.gz``
or ``.csv`` rarely reaches napari-latent. Three doors lead to it:

* *File > IO Utilities > Open cine or ECG…* and *Open DICOM cine folder…* (npe2 menu
  commands): a file dialog, then napari-latent's reader;
* *Plugins > napari-latent > Open cine or ECG*: the same two buttons, and check boxes that make
  napari-latent the preferred reader for DICOM and NIfTI files (napari's
  ``plugins.extension2reader`` setting; unticking, or *Preferences > Plugins*, undoes it);
* after a file opened through these doors, a notification offers that preference once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QCheckBox, QFileDialog, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    import napari

__all__ = [
    "FILE_DIALOG",
    "PLUGIN",
    "READER_PATTERNS",
    "OpenCineOrEcg",
    "choose_path",
    "is_preferred",
    "open_with_napari_latent",
    "set_preferred",
]

PLUGIN = "napari-latent"
#: objectName of the file dialog (tests and scripts find it by this name).
FILE_DIALOG = "napari_latent_open_file"
#: File kinds whose reader preference may be set, and the napari patterns each covers.
#: CSV is left out on purpose: napari opens points and tables from CSV files too.
READER_PATTERNS: dict[str, tuple[str, ...]] = {
    "DICOM files (.dcm, .dicom)": ("*.dcm", "*.dicom"),
    "NIfTI files (.nii, .nii.gz)": ("*.nii", "*.nii.gz"),
}
FILE_FILTER = "Cine MRI or ECG (*.dcm *.dicom *.nii *.nii.gz *.hea *.csv);;All files (*)"
_offered: set[str] = set()


# ---------------------------------------------------------------------------- reader preference
def _patterns_for(path: Path) -> tuple[str, ...] | None:
    name = path.name.lower()
    for patterns in READER_PATTERNS.values():
        if any(name.endswith(p[1:]) for p in patterns):
            return patterns
    return None


def is_preferred(patterns: tuple[str, ...]) -> bool:
    """Whether napari opens every one of ``patterns`` with napari-latent without asking."""
    from napari.settings import get_settings

    prefs = get_settings().plugins.extension2reader
    return all(prefs.get(p) == PLUGIN for p in patterns)


def set_preferred(patterns: tuple[str, ...], on: bool) -> None:
    """Make napari-latent the preferred reader of ``patterns`` (``on``), or remove that preference.

    Removing touches only preferences that name napari-latent; another plugin's stays.
    """
    from napari.settings import get_settings

    settings = get_settings().plugins
    prefs = dict(settings.extension2reader)
    for pattern in patterns:
        if on:
            prefs[pattern] = PLUGIN
        elif prefs.get(pattern) == PLUGIN:
            del prefs[pattern]
    settings.extension2reader = prefs


def _offer_preference(path: Path) -> None:
    """After a first file of a kind opened through napari-latent, offer to always use it (once a session)."""
    patterns = _patterns_for(path)
    if patterns is None or is_preferred(patterns) or patterns[0] in _offered:
        return
    _offered.add(patterns[0])
    from napari.utils.notifications import Notification, NotificationSeverity, notification_manager

    kinds = " and ".join(p[1:] for p in patterns)
    notification_manager.dispatch(
        Notification(
            f"Opened {path.name} with napari-latent. Open {kinds} files with napari-latent from now on "
            "(when dropped or opened from File > Open)? Undo it in Preferences > Plugins.",
            severity=NotificationSeverity.INFO,
            actions=[(f"Always use napari-latent for {kinds}", lambda *_: set_preferred(patterns, True))],
        )
    )


# ---------------------------------------------------------------------------- opening
def choose_path(parent: QWidget | None, *, folder: bool = False) -> Path | None:
    """Ask for a cine/ECG file (or a DICOM series folder); None when cancelled."""
    dialog = QFileDialog(parent, "Open DICOM cine folder" if folder else "Open cine or ECG")
    dialog.setObjectName(FILE_DIALOG)
    if folder:
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter(FILE_FILTER)
    accepted = dialog.exec() == QFileDialog.DialogCode.Accepted
    files = dialog.selectedFiles()
    dialog.deleteLater()
    return Path(files[0]) if accepted and files else None


def open_with_napari_latent(viewer: napari.viewer.Viewer, path: str | os.PathLike) -> list[Any] | None:
    """Open ``path`` with napari-latent's reader; a failure becomes a notification naming the file.

    Returns the layers added (an ECG or a cohort store docks a view and adds none), or None
    when the file could not be read.
    """
    from napari.utils.notifications import show_error

    p = Path(path)
    try:
        layers = viewer.open(p, plugin=PLUGIN)
    except Exception as exc:  # the reader's CohortError names the file; anything else gets the name here
        reason = getattr(exc, "reason", None) or str(exc)
        show_error(f"Could not open {p.name} ({p}): {reason}")
        return None
    _offer_preference(p)
    return layers


def open_cine_or_ecg(viewer: napari.viewer.Viewer, *, folder: bool = False) -> list[Any] | None:
    """Ask for a file (or a DICOM folder) and open it with napari-latent; None when cancelled or failed."""
    from qtpy.QtWidgets import QApplication

    path = choose_path(QApplication.activeWindow(), folder=folder)  # napari's window when its menu was used
    return None if path is None else open_with_napari_latent(viewer, path)


# ---------------------------------------------------------------------------- the widget
class OpenCineOrEcg(QWidget):
    """*Plugins > napari-latent > Open cine or ECG*: open buttons and the reader preference."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        layout = QVBoxLayout(self)
        self.open_file_button = QPushButton("Open cine or ECG file…")
        self.open_file_button.setToolTip("DICOM (.dcm), NIfTI (.nii, .nii.gz), WFDB (.hea) or CSV ECG")
        self.open_folder_button = QPushButton("Open DICOM cine folder…")
        self.open_file_button.clicked.connect(lambda: self._open(folder=False))
        self.open_folder_button.clicked.connect(lambda: self._open(folder=True))
        layout.addWidget(self.open_file_button)
        layout.addWidget(self.open_folder_button)

        box = QGroupBox("Always use napari-latent for")
        box.setToolTip("when a file is dropped on napari or opened from File > Open")
        box_layout = QVBoxLayout(box)
        self.preference_boxes: dict[str, QCheckBox] = {}
        for label, patterns in READER_PATTERNS.items():
            check = QCheckBox(label)
            check.setChecked(is_preferred(patterns))
            check.toggled.connect(lambda on, p=patterns: set_preferred(p, on))
            box_layout.addWidget(check)
            self.preference_boxes[label] = check
        note = QLabel(
            "Ticked, napari opens these files with napari-latent when you drop them or use File > Open. "
            "Unticked, napari asks which reader to use: pick napari-latent. CSV ECGs and DICOM folders: "
            "use the buttons above, or pick napari-latent in napari's Choose reader dialog. "
            "Saved choices are listed in Preferences > Plugins."
        )
        note.setWordWrap(True)
        box_layout.addWidget(note)
        layout.addWidget(box)
        layout.addStretch(1)

    def _open(self, *, folder: bool) -> None:
        path = choose_path(self, folder=folder)
        if path is not None:
            open_with_napari_latent(self.viewer, path)

    def refresh(self) -> None:
        """Tick the boxes from napari's settings (they may have changed in Preferences)."""
        for label, patterns in READER_PATTERNS.items():
            check = self.preference_boxes[label]
            check.blockSignals(True)
            check.setChecked(is_preferred(patterns))
            check.blockSignals(False)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        self.refresh()
        super().showEvent(event)
