"""Users' files in and out: cine MRI, ECG and phenotype tables, and building a cohort store.

Cine MRI: DICOM (a series of single-frame files or one enhanced multi-frame file), NIfTI,
TIFF and NumPy. ECG: DICOM 12-lead waveforms, WFDB records, CSV and NumPy. Tables: CSV and
Parquet. :func:`import_cohort` turns a manifest (one row a subject) into a store. No Qt here;
format libraries are imported inside the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

from .records import CineSeries, EcgRecord

_LAZY = {
    "read_cine": "cine_readers",
    "preprocess_cine": "cine_preprocess",
    "read_ecg": "ecg_readers",
    "SamplingRateUnknownError": "ecg_readers",
    "standardise_ecg": "ecg_preprocess",
    "PreparedEcg": "ecg_preprocess",
    "PreparedCine": "cine_preprocess",
    "read_table": "tables",
    "join_phenotypes": "tables",
    "read_manifest": "manifest",
    "import_cohort": "importer",
    "ImportReport": "importer",
    "NoSubjectImportedError": "importer",
    "Manifest": "manifest",
    "write_example_folder": "example_files",
}

__all__ = [
    "CineSeries",
    "EcgRecord",
    "ImportReport",
    "Manifest",
    "NoSubjectImportedError",
    "PreparedCine",
    "PreparedEcg",
    "SamplingRateUnknownError",
    "import_cohort",
    "join_phenotypes",
    "preprocess_cine",
    "read_cine",
    "read_ecg",
    "read_manifest",
    "read_table",
    "standardise_ecg",
    "write_example_folder",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
