"""Hostile input to the manifest, the phenotype table and the importer.

Every case ends in a CohortError naming the file (and the subject or line when known) or
in a per-subject report entry naming the file and the reason, and never in a partial
store: the output path does not exist afterwards unless at least one subject imported.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_latent.cohort import CohortError, open_cohort
from napari_latent.io import import_cohort, join_phenotypes, read_manifest, read_table
from napari_latent.io import manifest as manifest_module
from napari_latent.io.example_files import write_example_folder
from napari_latent.io.importer import staging_path

UP = "../" * 40  # enough to climb to / from any temporary folder


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """Two subjects' real files (DICOM series + DICOM ECG, multi-frame DICOM + WFDB)."""
    folder = write_example_folder(tmp_path_factory.mktemp("hostile") / "files", n=2).parent
    os.symlink("loop_b", folder / "loop_a")
    os.symlink("loop_a", folder / "loop_b")
    os.symlink("/etc", folder / "link_out")
    return folder


def good_row(example: Path, i: int = 0, sid: str = "GOOD") -> dict[str, str]:
    row = pd.read_csv(example / "manifest.csv", dtype=str).iloc[i]
    return {"subject_id": sid, "mri": str(example / row["mri"]), "ecg": str(example / row["ecg"])}


def write_manifest(folder: Path, rows: list[dict[str, str]], name: str = "manifest.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def assert_nothing_written(out: Path) -> None:
    assert not out.exists()
    assert not staging_path(out).exists()
    assert not any(p.name.startswith(f".{out.name}.tmp") for p in out.parent.iterdir())


# ----------------------------------------------------------------- per-subject path problems
PATH_CASES = [
    # (mri cell, ecg cell, extra columns, allow_outside, words the reason must contain)
    (UP + "etc/passwd", None, {}, False, "outside the manifest folder"),
    ("/etc/hostname", None, {}, False, "outside the manifest folder"),
    ("link_out/passwd", None, {}, False, "outside the manifest folder"),  # a symlink to /etc
    ("loop_a", None, {}, True, "cannot be resolved"),  # loop_a -> loop_b -> loop_a
    ("http://example.org/cine.dcm", None, {}, True, "URL"),
    ("HTTPS://example.org/cine.dcm", None, {}, True, "URL"),
    ("file:///etc/passwd", None, {}, True, "URL"),
    ("s3://bucket/key.nii", None, {}, True, "URL"),
    (None, "ftp://host/ecg.xml", {}, True, "URL"),
    ("mri/a\x00b.dcm", None, {}, True, "control characters"),
    ("\x1b[31mred.dcm", None, {}, True, "control characters"),
    (None, "ecg\tx.csv", {}, True, "control characters"),
    ("", None, {}, True, "no mri path given"),
    ("   ", None, {}, True, "no mri path given"),
    (None, "", {}, True, "no ecg path given"),
    ("does/not/exist.dcm", None, {}, True, "does not exist"),
    (None, None, {"labels": "missing_labels.nii.gz"}, True, "labels file does not exist"),
    (None, None, {"ecg_fs": "fast"}, True, "not a number"),
    (None, None, {"ecg_fs": "-500"}, True, "not a plausible ECG sampling rate"),
    (None, None, {"ecg_fs": "nan"}, True, "not a plausible ECG sampling rate"),
    (None, None, {"ecg_fs": "1e300"}, True, "not a plausible ECG sampling rate"),
    (None, None, {"ecg_lead_order": "I II XYZ"}, True, "unknown lead names"),
    (None, None, {"ecg_lead_order": "I I II"}, True, "named twice"),
    (None, None, {"ecg_unit": "furlong"}, True, "ecg_unit"),
    (None, None, {"offset_row_mm": "1e9"}, True, "plausible offset"),
    (None, None, {"offset_col_mm": "left"}, True, "not a number"),
]


@pytest.mark.parametrize(("mri", "ecg", "extra", "allow_outside", "reason"), PATH_CASES)
def test_path_problems_are_reported_per_subject(request, example, mri, ecg, extra, allow_outside, reason):
    rows = pd.read_csv(example / "manifest.csv", dtype=str)[["subject_id", "mri", "ecg"]].to_dict("records")
    good, bad = {**rows[0], "subject_id": "GOOD"}, {**rows[1], "subject_id": "BAD"}  # relative: inside the folder
    bad.update({k: v for k, v in (("mri", mri), ("ecg", ecg)) if v is not None})
    bad.update(extra)
    path = write_manifest(example, [good, bad], f"manifest-{request.node.name[-60:]}.csv".replace("/", "_"))
    man = read_manifest(path, allow_outside=allow_outside)
    assert [e.subject_id for e in man.entries] == ["GOOD"]
    assert list(man.problems) == ["BAD"]
    file, why = man.problems["BAD"]
    assert reason in why and "line 3" in why
    assert "\x00" not in file and "\x1b" not in file  # control characters are shown escaped


def test_outside_paths_are_allowed_by_default_and_reported_real(tmp_path, example):
    folder = tmp_path / "m"
    folder.mkdir()
    os.symlink(example / "mri", folder / "cines")
    row = good_row(example)
    row["mri"] = "cines/" + Path(row["mri"]).name  # through a symlink
    row2 = good_row(example, 1, "UP")
    row2["mri"] = UP + str(Path(good_row(example, 1)["mri"]).relative_to("/"))
    man = read_manifest(write_manifest(folder, [row, row2]))
    assert not man.problems
    assert man.entries[0].mri == (example / "mri" / Path(row["mri"]).name).resolve()
    assert man.entries[1].mri == Path(good_row(example, 1)["mri"]).resolve()
    assert ".." not in str(man.entries[1].mri)


def test_wfdb_record_name_without_extension(tmp_path, example):
    row = good_row(example, 1)
    assert row["ecg"].endswith(".hea")
    row["ecg"] = row["ecg"][: -len(".hea")]
    man = read_manifest(write_manifest(tmp_path, [row]))
    assert man.entries[0].ecg.name.endswith(".hea")


# ----------------------------------------------------------------- fatal manifest problems
def _rows(ids: list[str], example_path: str = "x") -> str:
    return "subject_id,mri,ecg\n" + "".join(f"{i},{example_path},{example_path}\n" for i in ids)


FATAL_CASES = [
    # (file content (str or bytes), words of the error, subject named)
    (_rows(["A", "B", "A"]), "duplicate subject_id 'A' (first on line 2)", "A"),
    (_rows(["A", "a/b"]), "path separator", "a/b"),
    (_rows(["A", "a\\b"]), "path separator", "a\\b"),
    (_rows(["A", ".."]), "path separator", ".."),
    (_rows(["A", ""]), "line 3: empty subject_id", None),
    (_rows(["A", '"x\x07y"']), "control characters", None),
    (_rows(["A", "p\x00q"]), "control characters", None),
    (_rows(["A" * 200]), "characters long", None),
    ("subject_id,mri\nA,x\n", "missing required column(s) ['ecg']", None),
    ("id,cine,ecg\nA,x,y\n", "missing required column(s) ['subject_id', 'mri']", None),
    ("", "empty", None),
    ("\n\n  \n", "empty", None),
    ("subject_id,mri,ecg\n", "lists no subjects", None),
    ('subject_id,mri,ecg\n"A,x,y\n', "cannot parse", None),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x81\x90", "cannot decode", None),
    ('{"subject_id": "A", "mri": "x"}', "missing required column", None),
]


@pytest.mark.parametrize(("content", "words", "subject"), FATAL_CASES)
def test_fatal_manifest_problems(tmp_path, content, words, subject):
    path = tmp_path / "manifest.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out.zarr"
    with pytest.raises(CohortError) as err:
        import_cohort(path, out)
    assert words in str(err.value)
    assert str(path) in str(err.value)
    if subject is not None:
        assert err.value.subject == subject
    assert_nothing_written(out)


def test_manifest_that_is_not_a_file(tmp_path):
    for path, words in [(tmp_path / "nope.csv", "no such manifest file"), (tmp_path, "not a regular file")]:
        with pytest.raises(CohortError, match=words):
            read_manifest(path)


def test_absurd_row_count_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "MAX_ROWS", 5)
    path = tmp_path / "manifest.csv"
    path.write_text(_rows([f"S{i}" for i in range(7)]))
    with pytest.raises(CohortError, match="more than 5 rows"):
        read_manifest(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_manifest_encodings(tmp_path, example, encoding):
    folder = tmp_path / "Zürich"
    folder.mkdir()
    os.symlink(example / "mri", folder / "mri")
    row = good_row(example)
    row["mri"] = "mri/" + Path(row["mri"]).name
    text = "subject_id,mri,ecg\r\n" + f"Müller,{row['mri']},{row['ecg']}\r\n"
    path = folder / "manifest.csv"
    path.write_bytes(text.encode(encoding))
    man = read_manifest(path)
    assert not man.problems and [e.subject_id for e in man.entries] == ["Müller"]
    assert man.entries[0].mri.is_relative_to(example.resolve())


# ----------------------------------------------------------------- import-level hostility
def test_hostile_rows_are_reported_and_good_ones_import(tmp_path, example):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"DICM" * 100)
    text_ecg = tmp_path / "notes.csv"
    text_ecg.write_text("this,is\nnot,an ecg\n")
    rows = [
        good_row(example),
        {**good_row(example, 1, "PASSWD"), "mri": UP + "etc/passwd"},
        {**good_row(example, 1, "JUNK"), "mri": str(junk)},
        {**good_row(example, 1, "TEXT"), "ecg": str(text_ecg)},
        {**good_row(example, 1, "URL"), "ecg": "http://example.org/e.xml"},
    ]
    out = tmp_path / "out.zarr"
    report = import_cohort(write_manifest(tmp_path / "m", rows), out, workers=1)
    assert report.imported == ["GOOD"]
    assert list(report.failed) == ["PASSWD", "JUNK", "TEXT", "URL"]
    assert report.failed["PASSWD"][0] == str(Path("/etc/passwd").resolve())
    assert report.failed["JUNK"][0] == str(junk) and report.failed["TEXT"][0] == str(text_ecg)
    assert all(reason for _, reason in report.failed.values())
    text = str(report)
    assert "imported 1 of 5" in text and all(s in text for s in report.failed)
    assert len(open_cohort(out)) == 1
    assert not staging_path(out).exists()


def test_no_importable_subject_leaves_nothing(tmp_path, example):
    rows = [{**good_row(example, 0, "A"), "mri": UP + "etc/passwd"}, {**good_row(example, 1, "B"), "ecg": ""}]
    out = tmp_path / "out.zarr"
    with pytest.raises(CohortError, match="no subject could be imported") as err:
        import_cohort(write_manifest(tmp_path / "m", rows), out, workers=1)
    assert "A:" in str(err.value) and "B:" in str(err.value)
    assert_nothing_written(out)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("subject_id,age\nGOOD,50\nX,1\nGOOD,60\n", "duplicate ids in 'subject_id': GOOD"),
        ("eid,age\nGOOD,50\n", "no 'subject_id' column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ('[{"subject_id": "GOOD"}]', "no 'subject_id' column"),
        ("", "empty"),
        ('subject_id,age\n"GOOD,50\n', "cannot parse"),
    ],
)
def test_bad_phenotype_tables_fail_before_any_work(tmp_path, example, content, words):
    table = tmp_path / "phenotypes.csv"
    table.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out.zarr"
    with pytest.raises(CohortError, match=words) as err:
        import_cohort(write_manifest(tmp_path / "m", [good_row(example)]), out, phenotypes=table, workers=1)
    assert str(table) in str(err.value)
    assert_nothing_written(out)


def test_phenotype_table_that_is_a_directory_or_fake_parquet(tmp_path, example):
    fake = tmp_path / "table.parquet"
    fake.write_text("subject_id,age\nGOOD,1\n")
    manifest = write_manifest(tmp_path / "m", [good_row(example)])
    for table, words in [
        (tmp_path / "m", "is a directory"),
        (fake, "cannot read the Parquet table"),
        (tmp_path / "missing.csv", "no such file"),
    ]:
        out = tmp_path / "out.zarr"
        with pytest.raises(CohortError, match=words):
            import_cohort(manifest, out, phenotypes=table, workers=1)
        assert_nothing_written(out)


def test_unmatched_phenotype_ids_are_reported(tmp_path, example):
    table = tmp_path / "phenotypes.csv"
    table.write_text("subject_id,age (years)\nOTHER,50\nGOOD,61\n")
    out = tmp_path / "out.zarr"
    report = import_cohort(write_manifest(tmp_path / "m", [good_row(example)]), out, phenotypes=table, workers=1)
    assert report.join.only_in_table == ["OTHER"] and report.join.n_matched == 1
    assert "OTHER" in str(report)
    cohort = open_cohort(out)
    assert cohort.subjects["age"].tolist() == [61.0] and cohort.columns["age"].unit == "years"


def test_existing_non_store_and_foreign_staging_are_never_touched(tmp_path, example):
    manifest = write_manifest(tmp_path / "m", [good_row(example)])
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(CohortError, match="not a cohort store"):
        import_cohort(manifest, precious, overwrite=True, workers=1)
    assert (precious / "thesis.tex").read_text() == "years of work"
    out = tmp_path / "out.zarr"
    foreign = staging_path(out)
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    with pytest.raises(CohortError, match="not a napari-latent import staging folder"):
        import_cohort(manifest, out, workers=1)
    assert (foreign / "mine.txt").read_text() == "keep" and not out.exists()
    (foreign / "import-state.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CohortError, match="not a napari-latent import staging folder"):
        import_cohort(manifest, out, resume=False, workers=1)
    assert (foreign / "mine.txt").exists()


# ----------------------------------------------------------------- property-based
CSV_CHARS = st.sampled_from(
    list(",;\t\n\r\"'\\/ .:-_") + list("subject_idmrecglabs") + ["\x00", "\x1b", "é", "\ufeff", "0", "1"]
)
CSVISH = st.one_of(
    st.text(),
    st.text(CSV_CHARS, max_size=200),
    st.builds(
        lambda body: "subject_id,mri,ecg,labels,ecg_fs,ecg_unit,offset_row_mm\n" + body,
        st.text(CSV_CHARS, max_size=300),
    ),
    st.builds(lambda body: "subject_id,age (years),flag\n" + body, st.text(CSV_CHARS, max_size=300)),
)


def _write_temp(folder: str, data: str | bytes, name: str) -> Path:
    path = Path(folder) / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(CSVISH, st.binary(max_size=300)))
def test_any_text_as_manifest_raises_only_cohort_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = _write_temp(folder, data, "manifest.csv")
        try:
            man = read_manifest(path, allow_outside=False)
        except CohortError as exc:
            assert str(path) in str(exc)
        else:
            for sid, (file, reason) in man.problems.items():
                assert sid in man.subject_ids and reason
            for entry in man.entries:
                assert entry.mri.is_relative_to(Path(folder).resolve())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(CSVISH, st.binary(max_size=300)), suffix=st.sampled_from([".csv", ".tsv", ".parquet"]))
def test_any_text_as_phenotype_table_raises_only_cohort_error(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = _write_temp(folder, data, "phenotypes" + suffix)
        try:
            table, columns = read_table(path)
        except CohortError as exc:
            assert str(path) in str(exc)
            return
        assert set(columns) == set(table.columns) and table["subject_id"].is_unique
        joined, report = join_phenotypes(["A", "B", "subject_id"], table)
        assert joined["subject_id"].tolist() == ["A", "B", "subject_id"]
        assert report.n_matched + len(report.without_phenotypes) == 3
        assert np.all([isinstance(s, str) for s in table["subject_id"]])
