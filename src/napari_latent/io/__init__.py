"""Users' files in and out: cine MRI, ECG and phenotype tables, and building a cohort store.

Cine MRI: DICOM (a series of single-frame files or one enhanced multi-frame file), NIfTI,
TIFF and NumPy. ECG: DICOM 12-lead waveforms, WFDB records, CSV and NumPy. Tables: CSV and
Parquet. :func:`import_cohort` turns a manifest (one row a subject) into a store. No Qt here;
format libraries are imported inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader as _lazy

from .records import CineSeries, EcgRecord

_LAZY = {
    "read_cine": "cine_readers",
    "preprocess_cine": "cine_preprocess",
    "read_ecg": "ecg_readers",
    "standardise_ecg": "ecg_preprocess",
    "PreparedEcg": "ecg_preprocess",
    "PreparedCine": "cine_preprocess",
    "read_table": "tables",
    "join_phenotypes": "tables",
    "read_manifest": "manifest",
    "import_cohort": "importer",
    "ImportReport": "importer",
    "Manifest": "manifest",
    "write_example_folder": "example_files",
}

__all__ = [
    "CineSeries",
    "EcgRecord",
    "ImportReport",
    "Manifest",
    "PreparedCine",
    "PreparedEcg",
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

if TYPE_CHECKING:
    from .cine_readers import read_cine
    from .cine_preprocess import PreparedCine, preprocess_cine
    from .ecg_readers import read_ecg
    from .ecg_preprocess import PreparedEcg, standardise_ecg
    from .tables import join_phenotypes, read_table
    from .manifest import Manifest, read_manifest
    from .importer import ImportReport, import_cohort
    from .example_files import write_example_folder

__getattr__, _, _ = _lazy.attach(
    __name__, submod_attrs={m: [n for n, mod in _LAZY.items() if mod == m] for m in set(_LAZY.values())}
)
