"""Screenshot of a cine DICOM series and a DICOM ECG opened with the napari-latent readers."""

import pathlib
import sys
import tempfile

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

from napari_latent.cohort.synthetic import generate_subject
from napari_latent.io.cine_writers import write_cine_dicom_series
from napari_latent.io.ecg_writers import write_ecg_dicom

d = pathlib.Path(tempfile.mkdtemp())
row, a = generate_subject(0, 5)
write_ecg_dicom(a["ecg_rhythm"], d / "ecg.dcm")
write_cine_dicom_series(a["mri"].astype(np.float32), d / "cine", pixel_spacing_mm=(1.8, 1.8))
v = napari.Viewer()
v.window.resize(1700, 1000)
v.open(str(d / "cine"), plugin="napari-latent")
v.open(str(d / "ecg.dcm"), plugin="napari-latent")
v.dims.set_current_step(0, 20)
for _ in range(20):
    QApplication.processEvents()
v.screenshot(sys.argv[1] if len(sys.argv) > 1 else "docs/images/file_readers.png", canvas_only=False)
print([l.name for l in v.layers], list(v.window.dock_widgets))
v.close()
