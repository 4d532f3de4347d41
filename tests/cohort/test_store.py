"""The cohort data model and its Zarr store: round trips, validation, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_cohort
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_latent.cohort import (
    LEADS,
    Cohort,
    CohortError,
    CohortWriter,
    StoreExistsError,
    is_cohort_store,
    open_cohort,
    write_cohort,
)


def test_round_trip_preserves_table_arrays_and_units(tmp_path, small_cohort):
    path = tmp_path / "c.zarr"
    stored = write_cohort(small_cohort, path)
    assert is_cohort_store(path)
    again = open_cohort(path)
    pd.testing.assert_frame_equal(again.subjects, small_cohort.subjects, check_dtype=False)
    for name in ("ecg_median", "ecg_rhythm", "mri", "labels"):
        np.testing.assert_array_equal(again.read(name, slice(None)), small_cohort.read(name, slice(None)))
    assert again.attrs["leads"] == list(LEADS)
    assert again.attrs["schema_version"] == 1
    assert stored.fingerprint() == again.fingerprint() == small_cohort.fingerprint()


def test_open_reads_table_only_and_arrays_lazily(tmp_path, small_cohort):
    cohort = open_cohort(write_cohort(small_cohort, tmp_path / "c.zarr").path)
    assert not isinstance(cohort.mri, np.ndarray)  # a Zarr array, not loaded
    batch = cohort.read("mri", [4, 1, 4])
    np.testing.assert_array_equal(batch, small_cohort.read("mri", [4, 1, 4]))
    s = cohort.subject("S002")
    assert s.index == 2 and s.mri.shape == (50, 96, 96) and s.row["sex"] in ("F", "M")


def test_column_metadata_survives(tmp_path):
    from napari_latent.cohort import ColumnInfo

    c = make_cohort(3)
    c.columns = {"age": ColumnInfo("years", "Age at imaging", "demographic")}
    again = open_cohort(write_cohort(c, tmp_path / "c.zarr").path)
    assert again.columns["age"].unit == "years"


def test_refuses_to_overwrite_and_keeps_the_old_store(tmp_path, small_cohort):
    path = tmp_path / "c.zarr"
    write_cohort(small_cohort, path)
    other = make_cohort(4, seed=9)
    with pytest.raises(StoreExistsError, match="already exists"):
        write_cohort(other, path)
    assert len(open_cohort(path)) == len(small_cohort)
    write_cohort(other, path, overwrite=True)
    assert len(open_cohort(path)) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["c.zarr"]  # no temporary leftovers


def test_failed_write_leaves_nothing_behind(tmp_path):
    path = tmp_path / "c.zarr"
    with pytest.raises(CohortError, match="NaN"):
        with CohortWriter(path, 2) as w:
            w.write(0, ecg_median=np.zeros((12, 600)), mri=np.zeros((50, 96, 96)))
            w.write(1, ecg_median=np.full((12, 600), np.nan), mri=np.zeros((50, 96, 96)))
    assert list(tmp_path.iterdir()) == []


def test_unwritten_subject_is_reported_at_commit(tmp_path):
    path = tmp_path / "c.zarr"
    table = pd.DataFrame({"subject_id": ["a", "b"]})
    with pytest.raises(CohortError, match=r"subject b: ecg_median contains NaN"):
        with CohortWriter(path, 2, arrays=("ecg_median", "mri")) as w:
            w.write(0, ecg_median=np.zeros((12, 600)), mri=np.zeros((50, 96, 96)))
            w.commit(table)
    assert not path.exists()


def test_wrong_shape_names_subject_and_expected_shape(tmp_path):
    with CohortWriter(tmp_path / "c.zarr", 3) as w:
        with pytest.raises(CohortError, match=r"subject 2: ecg_median has shape \(12, 500\), expected \(12, 600\)"):
            w.write(2, ecg_median=np.zeros((12, 500)))


def test_duplicate_ids_are_refused():
    c = make_cohort(3)
    table = c.subjects.assign(subject_id=["x", "y", "x"])
    with pytest.raises(CohortError, match="duplicate subject ids: x"):
        Cohort.from_arrays(table, ecg_median=c.ecg_median, mri=c.mri)


def test_lead_order_is_normalised_and_unknown_leads_refused():
    c = make_cohort(2, rhythm=False, labels=False)
    shuffled = list(reversed(LEADS))
    ecg = c.ecg_median[:, ::-1]
    again = Cohort.from_arrays(c.subjects, ecg_median=ecg, mri=c.mri, leads=shuffled)
    np.testing.assert_array_equal(again.ecg_median, c.ecg_median)
    with pytest.raises(CohortError, match=r"unknown lead order.*unknown \['V7'\].*missing \['V6'\]"):
        Cohort.from_arrays(c.subjects, ecg_median=ecg, mri=c.mri, leads=[*LEADS[:-1], "V7"])


def test_units_converted_and_microvolts_labelled_as_millivolts_caught():
    c = make_cohort(2, rhythm=False, labels=False)
    uv = Cohort.from_arrays(c.subjects, ecg_median=c.ecg_median * 1000, mri=c.mri, ecg_unit="uV")
    np.testing.assert_allclose(uv.ecg_median, c.ecg_median, rtol=1e-5)
    wrong = Cohort.from_arrays(c.subjects, ecg_median=c.ecg_median * 1000 + 100, mri=c.mri)
    with pytest.raises(CohortError, match="look like microvolts"):
        wrong.validate(deep=True)
    with pytest.raises(CohortError, match="ECG unit 'furlong'"):
        Cohort.from_arrays(c.subjects, ecg_median=c.ecg_median, mri=c.mri, ecg_unit="furlong")


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p / "subjects.parquet").write_bytes(b"not parquet"), "cannot read the subjects table"),
        (lambda p: (p / "subjects.parquet").unlink(), "not a cohort store"),
        (lambda p: (p / "zarr.json").write_text("{"), "cannot read the Zarr group"),
        (lambda p: _edit_attrs(p, schema_version=99), "schema version 99 is newer"),
        (lambda p: _edit_attrs(p, n_subjects=7), "the table has 6 rows but the store holds 7"),
    ],
)
def test_broken_store_gives_a_clear_error_naming_the_file(tmp_path, small_cohort, breakage, message):
    path = tmp_path / "c.zarr"
    write_cohort(small_cohort, path)
    breakage(path)
    with pytest.raises(CohortError, match=message) as info:
        open_cohort(path)
    assert str(path) in str(info.value)


def _edit_attrs(path, **changes):
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"]["napari_latent"].update(changes)
    (path / "zarr.json").write_text(json.dumps(meta))


def test_missing_path():
    with pytest.raises(CohortError, match="no such cohort store"):
        open_cohort("/nonexistent/c.zarr")


# ------------------------------------------------------------------ property-based validators
_shapes = st.tuples(st.integers(1, 3), st.integers(1, 14), st.sampled_from([600, 599, 5000, 1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=_shapes)
def test_any_ecg_shape_either_validates_or_names_the_expected_shape(shape):
    n = shape[0]
    table = pd.DataFrame({"subject_id": [str(i) for i in range(n)]})
    mri = np.zeros((n, 50, 96, 96), np.float16)
    ecg = np.zeros(shape, np.float32)
    if shape[1:] == (12, 600):
        assert len(Cohort.from_arrays(table, ecg_median=ecg, mri=mri)) == n
    else:
        with pytest.raises(CohortError, match=r"ecg_median has shape .* expected \(\d+, 12, 600\)"):
            Cohort.from_arrays(table, ecg_median=ecg, mri=mri)


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(st.one_of(st.text(max_size=6), st.integers(-5, 5)), min_size=1, max_size=6),
    bad=st.sampled_from([None, np.nan, np.inf, -np.inf]),
    where=st.integers(0, 5),
)
def test_ids_and_values_either_validate_or_raise_cohort_error(ids, bad, where):
    n = len(ids)
    table = pd.DataFrame({"subject_id": ids})
    ecg = np.zeros((n, 12, 600), np.float32)
    if bad is not None:
        ecg[where % n, where % 12, where] = bad
    try:
        c = Cohort.from_arrays(table, ecg_median=ecg, mri=np.zeros((n, 50, 96, 96), np.float16))
        c.validate(deep=True)
    except CohortError as exc:
        assert exc.reason
        if bad is not None and len(set(map(str, ids))) == n and pd.Series(ids).notna().all():
            assert "NaN or infinite" in str(exc) and str(table.subject_id[where % n]) in str(exc)
    else:
        assert bad is None and pd.Series(ids).map(str).is_unique
