"""The importer end to end: example files -> import_cohort -> open_cohort, failures, cancel and resume, CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from napari_latent.cli import main
from napari_latent.cohort import CohortError, StoreExistsError, open_cohort
from napari_latent.cohort.synthetic import generate_subject
from napari_latent.io import import_cohort
from napari_latent.io import importer as importer_module
from napari_latent.io.example_files import CINE_FORMATS, ECG_FORMATS, example_formats, write_example_folder
from napari_latent.io.importer import staging_path

N = 6
SEED = 0


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The manifest of 6 example subjects (every cine and ECG format at least twice)."""
    return write_example_folder(tmp_path_factory.mktemp("example") / "files", n=N, seed=SEED)


@pytest.fixture(scope="module")
def imported(example, tmp_path_factory):
    """One import of the example folder with 2 worker processes."""
    out = tmp_path_factory.mktemp("imported") / "cohort.zarr"
    calls = []
    report = import_cohort(
        example,
        out,
        phenotypes=example.parent / "phenotypes.csv",
        workers=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    return report, open_cohort(out), calls


def subset_manifest(example: Path, folder: Path, rows: list[dict] | None = None, n: int = N) -> Path:
    """A manifest in ``folder`` naming the example's first ``n`` subjects (absolute paths) plus ``rows``."""
    table = pd.read_csv(example, dtype=str).head(n)
    for col in ("mri", "ecg", "labels"):
        table[col] = [str(example.parent / p) for p in table[col]]
    table = pd.concat([table, pd.DataFrame(rows or [])], ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "manifest.csv", index=False)
    return folder / "manifest.csv"


def test_example_formats_cover_every_combination():
    assert {example_formats(i) for i in range(9)} == {(c, e) for c in CINE_FORMATS for e in ECG_FORMATS}


def test_example_folder_refuses_non_empty_directory(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(CohortError, match="not an empty directory"):
        write_example_folder(tmp_path, n=1)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_round_trip_matches_the_demo(example, imported):
    report, cohort, calls = imported
    ids = [generate_subject(SEED, i)[0]["subject_id"] for i in range(N)]
    assert report.imported == ids and not report.failed and report.skipped == 0
    assert calls[-1] == (N, N) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert set(cohort.array_names) == {"ecg_median", "mri", "ecg_rhythm", "labels"}
    assert not staging_path(report.store).exists()
    table = cohort.subjects
    for i in range(N):
        row, arrays = generate_subject(SEED, i)
        subject = cohort.subject(i)
        r = [np.corrcoef(a, b)[0, 1] for a, b in zip(arrays["ecg_median"], subject.ecg_median)]
        assert np.mean(r) > 0.95, (subject.subject_id, r)
        # The cine is re-centred on its labels (sub-pixel shift) and windowed to its 0.5-99.5th
        # intensity percentiles; measured on these subjects: correlation 0.966-0.985, mean
        # absolute difference 0.044-0.055 (intensities 0..1), labels agreeing on 97% of voxels.
        truth, got = arrays["mri"].astype(np.float32), subject.mri.astype(np.float32)
        assert np.corrcoef(truth.ravel(), got.ravel())[0, 1] > 0.95
        assert np.abs(truth - got).mean() < 0.07
        assert (arrays["labels"] == subject.labels).mean() > 0.95
        # phenotypes joined with their types, and what the import measured
        assert subject.row["age"] == pytest.approx(row["age"]) and subject.row["sex"] == row["sex"]
        assert subject.row["BMI"] == pytest.approx(row["bmi"])
        assert bool(subject.row["hypertension"]) == row["hypertension"]
        assert subject.row["ecg_heart_rate"] == pytest.approx(row["heart_rate"], abs=5)
        assert subject.row["ecg_qrs_duration"] == pytest.approx(row["qrs_duration"], abs=25)
        assert subject.row["mri_pixel_spacing_row_mm"] == pytest.approx(1.8)
        assert subject.row["ecg_fs"] == (1000.0 if example_formats(i)[1] == "wfdb" else 500.0)
    assert cohort.columns["age"].unit == "years" and cohort.columns["BMI"].unit == "kg/m^2"
    assert cohort.columns["ecg_heart_rate"].unit == "1/min" and cohort.columns["subject_id"].role == "id"
    assert pd.api.types.is_bool_dtype(table["prior_mi"]) and str(table["sex"].dtype) == "category"
    assert cohort.attrs["source"]["manifest"] == str(example)
    assert str(report.join) == f"phenotypes matched {N} of {N} subjects"


def test_per_subject_failures_are_reported(example, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    row = pd.read_csv(example, dtype=str).iloc[1]  # a multi-frame DICOM cine
    corrupt = bad / "corrupt.dcm"
    data = (example.parent / row["mri"]).read_bytes()
    corrupt.write_bytes(data[: len(data) // 2])
    six = bad / "six_leads.csv"
    t = np.arange(5000) / 500
    pd.DataFrame(
        {"time_s": t, **{lead: np.sin(2 * np.pi * t) for lead in ("I", "II", "III", "aVR", "aVL", "aVF")}}
    ).to_csv(six, index=False)
    good = {"mri": str(example.parent / row["mri"]), "ecg": str(example.parent / row["ecg"])}
    rows = [
        {"subject_id": "MISSING", **good, "mri": str(bad / "gone.dcm")},
        {"subject_id": "CORRUPT", **good, "mri": str(corrupt)},
        {"subject_id": "SIXLEAD", **good, "ecg": str(six)},
    ]
    manifest = subset_manifest(example, tmp_path / "m", rows, n=2)
    out = tmp_path / "out.zarr"
    report = import_cohort(manifest, out, workers=1)
    assert report.imported == ["D000000", "D000001"]
    assert list(report.failed) == ["MISSING", "CORRUPT", "SIXLEAD"]
    assert report.failed["MISSING"][0] == str(bad / "gone.dcm") and "does not exist" in report.failed["MISSING"][1]
    assert report.failed["CORRUPT"][0] == str(corrupt)
    assert report.failed["SIXLEAD"][0] == str(six)
    assert all(reason for _, reason in report.failed.values())
    text = str(report)
    assert "imported 2 of 5" in text and str(corrupt) in text and report.failed["SIXLEAD"][1] in text
    assert len(open_cohort(out)) == 2
    csv = report.to_csv(tmp_path / "report.csv")
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert table["status"].tolist() == ["imported"] * 2 + ["failed"] * 3
    assert table.set_index("subject_id").loc["CORRUPT", "file"] == str(corrupt)
    with pytest.raises(CohortError, match="already exists"):
        report.to_csv(csv)


def test_cancel_then_resume_equals_one_shot(example, imported, tmp_path, monkeypatch):
    out = tmp_path / "cohort.zarr"
    pheno = example.parent / "phenotypes.csv"
    done = []

    def stop() -> bool:
        return len(done) >= 3

    with pytest.raises(InterruptedError, match="rerun to resume"):
        import_cohort(example, out, phenotypes=pheno, workers=1, progress=lambda d, t: done.append(d), should_stop=stop)
    assert not out.exists()
    staged = sorted(staging_path(out).glob("*.npz"))
    assert len(staged) == 2  # progress fires once before any subject is done
    # a staged subject whose file changed is imported again
    row = pd.read_csv(example, dtype=str).iloc[0]
    ecg = example.parent / row["ecg"]
    backup = tmp_path / "backup"
    shutil.copy2(ecg, backup)
    ecg.write_bytes(ecg.read_bytes())  # same bytes, new modification time
    read = []
    original = importer_module._read_subject
    monkeypatch.setattr(importer_module, "_read_subject", lambda e: read.append(e.subject_id) or original(e))
    try:
        report = import_cohort(example, out, phenotypes=pheno, workers=1)
    finally:
        shutil.copy2(backup, ecg)
    assert report.skipped == 1 and read == ["D000000", "D000002", "D000003", "D000004", "D000005"]
    assert not staging_path(out).exists()
    one_shot, resumed = imported[1], open_cohort(out)
    pd.testing.assert_frame_equal(resumed.subjects, one_shot.subjects)
    for name in one_shot.array_names:
        np.testing.assert_array_equal(resumed.read(name, slice(None)), one_shot.read(name, slice(None)))
    assert resumed.attrs["data_hash"] == one_shot.attrs["data_hash"]


def test_existing_store_is_untouched_without_overwrite(example, imported, tmp_path):
    store = imported[0].store
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*")}
    with pytest.raises(StoreExistsError):
        import_cohort(example, store, workers=1)
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*")} == before
    assert not staging_path(store).exists()
    copy = tmp_path / "copy.zarr"
    shutil.copytree(store, copy)
    report = import_cohort(subset_manifest(example, tmp_path / "m", n=1), copy, overwrite=True, workers=1)
    assert report.imported == ["D000000"] and len(open_cohort(copy)) == 1


def test_cli_import_and_example_files(example, tmp_path, capsys):
    folder = tmp_path / "files"
    assert main(["example-files", str(folder), "-n", "1"]) == 0
    assert (folder / "manifest.csv").is_file() and "napari-latent import" in capsys.readouterr().out
    out, report = tmp_path / "out.zarr", tmp_path / "report.csv"
    args = [
        "import",
        str(folder / "manifest.csv"),
        "--out",
        str(out),
        "--phenotypes",
        str(folder / "phenotypes.csv"),
        "--workers",
        "1",
        "--report",
        str(report),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "imported 1 of 1" in printed and "phenotypes matched 1 of 1" in printed
    assert pd.read_csv(report)["status"].tolist() == ["imported"]
    assert main(args[:-2]) == 1  # the store exists
    assert "already exists" in capsys.readouterr().err
    bad = subset_manifest(example, tmp_path / "bad", [{"subject_id": "X", "mri": "nope", "ecg": "nope"}], n=0)
    assert main(["import", str(bad), "--out", str(tmp_path / "none.zarr"), "--workers", "1"]) == 1
    assert "no subject could be imported" in capsys.readouterr().err and not (tmp_path / "none.zarr").exists()
    failed_report = tmp_path / "failed.csv"
    assert main(["import", str(bad), "--out", str(tmp_path / "none.zarr"), "--workers", "1", "--report", str(failed_report)]) == 1
    assert pd.read_csv(failed_report)["status"].tolist() == ["failed"]  # every failure is still reported
