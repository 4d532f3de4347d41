"""The fixed input schema every cohort, store and model agrees on."""

from __future__ import annotations

SCHEMA_VERSION = 1

#: Standard 12-lead order; arrays are indexed in this order.
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
ECG_FS = 500  # Hz
ECG_RHYTHM_SAMPLES = 5000  # 10 s
ECG_MEDIAN_SAMPLES = 600  # 1.2 s
ECG_MEDIAN_R_INDEX = 200  # sample of the R peak inside the median beat (0.4 s in)
ECG_UNIT = "mV"

MRI_FRAMES = 50
MRI_SIZE = 96
MRI_PIXEL_SPACING_MM = 1.8  # of the heart-centred crop

#: Label values of the cine segmentation.
LABELS: dict[int, str] = {0: "background", 1: "LV", 2: "myocardium", 3: "RV", 4: "LA", 5: "RA"}

#: Array name -> (shape of one subject, dtype, unit, description).
ARRAYS: dict[str, tuple[tuple[int, ...], str, str, str]] = {
    "ecg_rhythm": ((12, ECG_RHYTHM_SAMPLES), "float32", ECG_UNIT, "12-lead resting ECG, 10 s at 500 Hz"),
    "ecg_median": ((12, ECG_MEDIAN_SAMPLES), "float32", ECG_UNIT, "Median beat, 1.2 s at 500 Hz, R at 0.4 s"),
    "mri": ((MRI_FRAMES, MRI_SIZE, MRI_SIZE), "float16", "1", "4-chamber cine, one cycle, intensity 0..1"),
    "labels": ((MRI_FRAMES, MRI_SIZE, MRI_SIZE), "uint8", "", "Cine labels: " + ", ".join(f"{k}={v}" for k, v in LABELS.items())),
}
REQUIRED_ARRAYS = ("ecg_median", "mri")
