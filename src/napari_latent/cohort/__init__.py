"""Cohorts: the data model, the Zarr store and the synthetic demo cohort (no torch, no Qt)."""

from .cohort import Cohort, ColumnInfo, Subject
from .errors import CohortError, StoreExistsError
from .schema import LEADS, LABELS, SCHEMA_VERSION
from .store import CohortWriter, is_cohort_store, open_cohort, write_cohort

__all__ = [
    "Cohort",
    "ColumnInfo",
    "Subject",
    "CohortError",
    "StoreExistsError",
    "CohortWriter",
    "open_cohort",
    "write_cohort",
    "is_cohort_store",
    "LEADS",
    "LABELS",
    "SCHEMA_VERSION",
]
