"""The "Import cohort" dialog driven through its widgets: example folder, import, failures, cancel."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog

from napari_latent.cohort import is_cohort_store, open_cohort
from napari_latent.widgets.standalone.import_dialog import ImportCohortWidget

TIMEOUT_MS = 30_000


@pytest.fixture
def dialog(make_napari_viewer_proxy, qtbot):
    viewer = make_napari_viewer_proxy()
    widget = ImportCohortWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Import cohort")
    return widget


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr("napari.utils.notifications.show_error", shown.append)
    return shown


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """A 4-subject example folder (manifest path), written once for the tests that do not test the button."""
    from napari_latent.io.example_files import write_example_folder

    return write_example_folder(tmp_path_factory.mktemp("example") / "files", n=4)


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _run_import(qtbot, widget: ImportCohortWidget, out: Path, *, manifest: Path | None = None) -> str:
    if manifest is not None:
        widget.form.manifest.value = manifest
    widget.form.out.value = out
    widget.form.workers.value = 1
    with qtbot.waitSignal(widget.import_finished, timeout=TIMEOUT_MS) as blocker:
        _click(qtbot, widget.import_button)
    return blocker.args[0]


def test_make_example_folder_then_import_it(dialog, qtbot, tmp_path, monkeypatch, errors):
    folder = tmp_path / "example"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    dialog.example_size.setValue(4)
    with qtbot.waitSignal(dialog.example_made):
        _click(qtbot, dialog.example_button)
    manifest = Path(dialog.form.manifest.value)
    assert manifest == folder / "manifest.csv" and len(pd.read_csv(manifest)) == 4
    assert Path(dialog.form.phenotypes.value) == folder / "phenotypes.csv"
    assert not dialog.save_report_button.isEnabled() and not dialog.open_button.isEnabled()

    out = tmp_path / "cohort.zarr"
    assert _run_import(qtbot, dialog, out) == "completed"
    assert errors == []
    assert is_cohort_store(out) and len(open_cohort(out)) == 4
    assert "age (years)" in open_cohort(out).subjects.columns or "age" in open_cohort(out).subjects.columns
    assert dialog.failures_table.rowCount() == 0 and dialog.failures == []
    assert dialog.status.text().startswith("Imported 4 subjects")
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()

    report = tmp_path / "report.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(report), ""))
    _click(qtbot, dialog.save_report_button)
    rows = list(csv.DictReader(report.open()))
    assert [r["status"] for r in rows] == ["imported"] * 4
    _click(qtbot, dialog.save_report_button)  # a second save never replaces the first report
    assert len(list(csv.DictReader(report.open()))) == 4 and "already exists" in errors[-1]


def test_a_missing_file_is_listed_in_the_failures_table(dialog, qtbot, example, tmp_path, errors):
    table = pd.read_csv(example)
    table["mri"] = [str(example.parent / p) for p in table["mri"]]
    table["ecg"] = [str(example.parent / p) for p in table["ecg"]]
    table["labels"] = [str(example.parent / p) for p in table["labels"]]
    table.loc[2, "ecg"] = str(tmp_path / "gone" / "ecg.csv")
    manifest = tmp_path / "manifest.csv"
    table.to_csv(manifest, index=False)

    out = tmp_path / "cohort.zarr"
    assert _run_import(qtbot, dialog, out, manifest=manifest) == "completed"
    assert len(open_cohort(out)) == 3
    assert dialog.failures_table.rowCount() == 1
    subject, file, reason = (dialog.failures_table.item(0, c).text() for c in range(3))
    assert subject == table.loc[2, "subject_id"] and file == "ecg.csv"
    assert "gone" in dialog.failures_table.item(0, 1).toolTip() and reason
    assert "1 failed" in dialog.status.text()
    assert errors == []
    explorer = dialog.open_in_explorer()
    assert explorer is not None and explorer.cohort.path == out
    assert "Fused latent space" in dialog.viewer.window.dock_widgets
    qtbot.waitUntil(lambda: bool(explorer.embeddings) and explorer.focused == 0, timeout=TIMEOUT_MS)
    assert explorer.embeddings["fused"].shape[0] == 3


def test_when_every_subject_fails_the_table_and_report_say_why(dialog, qtbot, example, tmp_path, errors, monkeypatch):
    table = pd.read_csv(example)
    table["mri"] = [str(tmp_path / "gone" / f"{s}.nii.gz") for s in table["subject_id"]]
    table["ecg"] = [str(example.parent / p) for p in table["ecg"]]
    table = table.drop(columns=["labels"])
    manifest = tmp_path / "manifest.csv"
    table.to_csv(manifest, index=False)

    out = tmp_path / "cohort.zarr"
    assert _run_import(qtbot, dialog, out, manifest=manifest) == "failed"
    assert not out.exists()
    n = len(table)
    assert dialog.failures_table.rowCount() == n and dialog.failures_label.text() == f"Failed subjects ({n})"
    assert [dialog.failures_table.item(r, 0).text() for r in range(n)] == list(table["subject_id"])
    assert all(dialog.failures_table.item(r, 1).text().endswith(".nii.gz") for r in range(n))
    assert f"all {n} failed" in dialog.status.text() and "manifest.csv" in errors[-1]
    assert dialog.save_report_button.isEnabled() and not dialog.open_button.isEnabled()

    report = tmp_path / "report.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(report), ""))
    _click(qtbot, dialog.save_report_button)
    rows = list(csv.DictReader(report.open()))
    assert [r["status"] for r in rows] == ["failed"] * n and all(r["reason"] for r in rows)


def test_cancel_stops_and_leaves_no_store(dialog, qtbot, example, tmp_path):
    out = tmp_path / "cancelled.zarr"
    dialog.form.manifest.value = example
    dialog.form.out.value = out
    dialog.form.workers.value = 1
    with qtbot.waitSignal(dialog.import_finished, timeout=TIMEOUT_MS) as blocker:
        _click(qtbot, dialog.import_button)
        assert dialog.is_running and dialog.cancel_button.isEnabled()
        _click(qtbot, dialog.cancel_button)
    assert blocker.args == ["cancelled"]
    assert not out.exists()
    assert dialog.import_button.isEnabled() and not dialog.save_report_button.isEnabled()
    assert "no store" in dialog.status.text()


# ---------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        (b"", "manifest"),
        (b"\x00\xff\xfe garbage \x00" * 50, "manifest"),
        (b"subject_id,mri\nA,a.nii\n", "ecg"),
        (b"subject_id,mri,ecg\nA,a.nii,a.csv\nA,b.nii,b.csv\n", "A"),
    ],
    ids=["missing", "empty", "binary", "no-ecg-column", "duplicate-id"],
)
def test_a_bad_manifest_becomes_a_notification_naming_it(dialog, qtbot, tmp_path, errors, content, expected):
    manifest = tmp_path / "manifest.csv"
    if content is not None:
        manifest.write_bytes(content)
    dialog.form.manifest.value = manifest
    dialog.form.out.value = tmp_path / "out.zarr"
    if content is None:
        assert dialog.start() is False
    else:
        with qtbot.waitSignal(dialog.import_finished, timeout=TIMEOUT_MS) as blocker:
            assert dialog.start() is True
        assert blocker.args == ["failed"]
    assert len(errors) == 1 and str(manifest) in errors[0] and expected in errors[0]
    assert not (tmp_path / "out.zarr").exists()


def test_an_existing_store_is_never_replaced(dialog, tmp_path, example, errors):
    out = tmp_path / "exists.zarr"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    dialog.form.manifest.value = example
    dialog.form.out.value = out
    assert dialog.start() is False
    assert "already exists" in errors[0] and (out / "keep.txt").read_text() == "mine"
