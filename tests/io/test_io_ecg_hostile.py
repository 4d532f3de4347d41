"""Hostile ECG input: every bad file gives a CohortError that names the file and the subject."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from napari_latent.cohort.errors import CohortError
from napari_latent.cohort.schema import LEADS
from napari_latent.cohort.synthetic import generate_subject
from napari_latent.io import EcgRecord, SamplingRateUnknownError, read_ecg, standardise_ecg
from napari_latent.io.ecg_writers import write_ecg_csv, write_ecg_dicom, write_ecg_wfdb

SUBJECT = "S-017"
EIGHT = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def rhythm() -> np.ndarray:
    return generate_subject(0, 5)[1]["ecg_rhythm"]


def expect_error(path, match: str, **kwargs) -> CohortError:
    """read_ecg(path) must raise a CohortError matching ``match`` that names the file and the subject."""
    with pytest.raises(CohortError) as info:
        read_ecg(path, subject=SUBJECT, **kwargs)
    return check_message(info.value, path, match)


def check_message(error: CohortError, path, match: str | None = None) -> CohortError:
    message = str(error)
    assert f"subject {SUBJECT}" in message, message
    assert (
        str(path) in message or str(path.with_suffix(".hea")) in message or str(path.with_suffix(".dat")) in message
    ), message
    if match is not None:
        assert re.search(match, message), message
    return error


# --- DICOM -------------------------------------------------------------------------------------


def test_truncated_dicom(rhythm, tmp_path):
    path = write_ecg_dicom(rhythm, tmp_path / "t.dcm")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    expect_error(path, "truncated|not a readable DICOM")


def test_mr_image_dicom_is_not_an_ecg(tmp_path):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = MRImageStorage, generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = MRImageStorage, ds.file_meta.MediaStorageSOPInstanceUID, "MR"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation, ds.SamplesPerPixel = 16, 16, 15, 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.arange(64, dtype="<u2").tobytes()
    ds.save_as(tmp_path / "mr.dcm", enforce_file_format=True)
    expect_error(tmp_path / "mr.dcm", "not a DICOM ECG waveform.*MR Image Storage")


def _relabel(path, index: int, value: str, meaning: str):
    import pydicom

    ds = pydicom.dcmread(path)
    channel = ds.WaveformSequence[0].ChannelDefinitionSequence[index]
    channel.ChannelSourceSequence[0].CodeValue, channel.ChannelSourceSequence[0].CodeMeaning = value, meaning
    channel.ChannelLabel = meaning
    out = path.with_name(f"relabelled{index}.dcm")
    ds.save_as(out)
    return out


def test_dicom_with_unknown_channel_label(rhythm, tmp_path):
    path = _relabel(write_ecg_dicom(rhythm, tmp_path / "u.dcm"), 4, "2:999", "Oesophageal lead")
    expect_error(path, r"unknown lead name\(s\) '2:999'")


def test_dicom_with_duplicate_leads(rhythm, tmp_path):
    path = _relabel(write_ecg_dicom(rhythm, tmp_path / "d.dcm"), 7, "5.6.3-9-1", "Lead I")  # V2 slot says Lead I
    expect_error(path, r"duplicate lead\(s\): I \('2:1', '5.6.3-9-1'\)")


def test_dicom_channel_without_units(rhythm, tmp_path):
    import pydicom

    ds = pydicom.dcmread(write_ecg_dicom(rhythm, tmp_path / "n.dcm"))
    del ds.WaveformSequence[0].ChannelDefinitionSequence[2].ChannelSensitivityUnitsSequence
    ds.save_as(tmp_path / "nounits.dcm")
    expect_error(tmp_path / "nounits.dcm", "channel III has no ChannelSensitivity and units")


def test_dicom_declaring_more_samples_than_it_holds(rhythm, tmp_path):
    import pydicom

    ds = pydicom.dcmread(write_ecg_dicom(rhythm, tmp_path / "m.dcm"))
    ds.WaveformSequence[0].NumberOfWaveformSamples = 6000
    ds.save_as(tmp_path / "more.dcm")
    expect_error(tmp_path / "more.dcm", "truncated: 120000 bytes of waveform data, 144000 declared")
    ds.WaveformSequence[0].NumberOfWaveformSamples = 10**9
    ds.save_as(tmp_path / "huge.dcm")
    expect_error(tmp_path / "huge.dcm", "longer than the 600 s limit")


# --- CSV ---------------------------------------------------------------------------------------


def _csv(path, table: np.ndarray, header: list[str] | None) -> object:
    np.savetxt(path, table, delimiter=",", fmt="%.6g", header=",".join(header) if header else "", comments="")
    return path


def test_csv_without_header_needs_lead_order(rhythm, tmp_path):
    path = _csv(tmp_path / "nohead.csv", rhythm.T, None)
    expect_error(path, "no header row of lead names: add one .*ecg_lead_order column", fs=500)
    expect_error(path, "has 12 columns but lead_order names 8", fs=500, lead_order=EIGHT)


def test_csv_with_text_in_numbers(rhythm, tmp_path):
    path = write_ecg_csv(rhythm, tmp_path / "text.csv")
    lines = path.read_text().splitlines()
    cells = lines[7].split(",")
    cells[9] = "abc"  # column 9 is V3 (time_s comes first)
    lines[7] = ",".join(cells)
    bad = tmp_path / "text2.csv"
    bad.write_text("\n".join(lines))
    expect_error(bad, r"column 'V3' holds text 'abc' in data row 7")


def test_csv_duplicate_and_unknown_leads(rhythm, tmp_path):
    expect_error(
        _csv(tmp_path / "dup.csv", rhythm.T, [*LEADS[:11], "i"]), r"duplicate lead\(s\): I \('I', 'i'\)", fs=500
    )
    expect_error(_csv(tmp_path / "unk.csv", rhythm.T, [*LEADS[:11], "V7"]), r"unknown lead name\(s\) 'V7'", fs=500)


def test_eight_lead_csv_works_six_lead_csv_fails(rhythm, tmp_path):
    rows = [LEADS.index(n) for n in EIGHT]
    record = read_ecg(_csv(tmp_path / "eight.csv", rhythm[rows].T, list(EIGHT)), fs=500, subject=SUBJECT)
    assert record.leads == EIGHT
    prepared = standardise_ecg(record, subject=SUBJECT)
    assert prepared.rhythm.shape == (12, 5000) and prepared.meta["derived_leads"] == ["III", "aVR", "aVL", "aVF"]
    six = _csv(tmp_path / "six.csv", rhythm[:6].T, list(LEADS[:6]))
    expect_error(six, "fewer than 8 independent leads.*missing V1, V2, V3, V4, V5, V6", fs=500)
    limb_one = _csv(tmp_path / "one.csv", rhythm[[0, *range(6, 12)]].T, ["I", *LEADS[6:]])
    expect_error(limb_one, "fewer than 8 independent leads.*1 more limb lead", fs=500)


def test_nan_and_inf(rhythm, tmp_path):
    x = rhythm.copy()
    x[3, 100] = np.nan
    expect_error(_csv(tmp_path / "nan.csv", x.T, list(LEADS)), r"NaN or infinite sample\(s\) in lead\(s\) aVR", fs=500)
    x[3, 100], x[9, 7] = 0.0, -np.inf
    np.save(tmp_path / "inf.npy", x)
    expect_error(tmp_path / "inf.npy", "first at sample 7", fs=500, lead_order=LEADS)


@pytest.mark.parametrize("fs", [0, -5, 1e6, float("nan"), 99.0])
def test_wrong_sampling_rates(fs, rhythm, tmp_path):
    np.save(tmp_path / "x.npy", rhythm)
    expect_error(tmp_path / "x.npy", "sampling rate .* out of range", fs=fs, lead_order=LEADS)
    expect_error(_csv(tmp_path / "x.csv", rhythm.T, list(LEADS)), "sampling rate .* out of range", fs=fs)


def test_missing_fs_and_mismatched_fs(rhythm, tmp_path):
    error = expect_error(_csv(tmp_path / "nofs.csv", rhythm.T, list(LEADS)), "no time column, so its sampling rate")
    assert isinstance(error, SamplingRateUnknownError) and "fs=" in str(error) and "ecg_fs" in str(error)
    no_leads = np.column_stack([np.arange(5000), np.arange(5000) / 500])
    expect_error(_csv(tmp_path / "noleads.csv", no_leads, ["sample", "time"]), "no lead columns found \\(expected I, II")
    np.save(tmp_path / "x.npy", rhythm)
    expect_error(tmp_path / "x.npy", "needs lead_order=.*and fs=", lead_order=LEADS)
    expect_error(write_ecg_wfdb(rhythm, tmp_path / "r"), "fs=250 Hz was given but the file records 500 Hz", fs=250)


def test_too_short_strip_and_flat_line(rhythm, tmp_path):
    expect_error(_csv(tmp_path / "short.csv", rhythm[:, :1000].T, list(LEADS)), r"too short; at least 2.5 s", fs=500)
    expect_error(_csv(tmp_path / "flat.csv", np.zeros((5000, 12)), list(LEADS)), "flat line", fs=500)
    x = rhythm.copy()
    x[8] = 0.25
    expect_error(_csv(tmp_path / "off.csv", x.T, list(LEADS)), r"lead\(s\) V3 are flat", fs=500)


def test_microvolts_labelled_as_millivolts(rhythm, tmp_path):
    path = write_ecg_csv(rhythm * 1000, tmp_path / "uv.csv")
    assert np.abs(rhythm).max() * 1000 > 1000  # peaks beyond the spike limit still get the unit hint
    expect_error(path, r"microvolts labelled as mV.*unit='uV'")
    assert read_ecg(path, unit="uV").signals.shape == (12, 5000)
    expect_error(path, "unknown ECG unit 'furlong'", unit="furlong")


def test_impossible_spike(rhythm, tmp_path):
    x = rhythm.copy()
    x[10, 1234] = 5000.0
    np.save(tmp_path / "spike.npy", x)
    expect_error(tmp_path / "spike.npy", "lead V5 has a sample of 5000 mV at sample 1234", fs=500, lead_order=LEADS)


def test_npy_wrong_shape_dtype_and_pickles(rhythm, tmp_path):
    np.save(tmp_path / "3d.npy", rhythm[None])
    expect_error(tmp_path / "3d.npy", "expected a 2-D", fs=500, lead_order=LEADS)
    np.save(tmp_path / "eight.npy", rhythm)
    expect_error(tmp_path / "eight.npy", "does not have one axis of 8 leads", fs=500, lead_order=EIGHT)
    np.save(tmp_path / "obj.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    expect_error(tmp_path / "obj.npy", "not a readable .npy", fs=500, lead_order=LEADS)
    np.save(tmp_path / "str.npy", np.full((12, 5000), "x"))
    expect_error(tmp_path / "str.npy", "expected a numeric array", fs=500, lead_order=LEADS)


def test_missing_empty_and_unknown_files(tmp_path):
    expect_error(tmp_path / "absent.dcm", "file not found")
    (tmp_path / "empty.csv").write_bytes(b"")
    expect_error(tmp_path / "empty.csv", "file is empty")
    (tmp_path / "ecg.xlsx").write_bytes(b"PK\x03\x04 not really")
    expect_error(tmp_path / "ecg.xlsx", "unrecognised ECG file type")


# --- WFDB --------------------------------------------------------------------------------------


def test_wfdb_header_pointing_at_missing_dat(rhythm, tmp_path):
    header = write_ecg_wfdb(rhythm, tmp_path / "rec")
    (tmp_path / "rec.dat").unlink()
    expect_error(header, "signal file rec.dat named in the header is missing")


def test_wfdb_header_declaring_a_billion_samples(rhythm, tmp_path):
    header = write_ecg_wfdb(rhythm, tmp_path / "rec")
    text = header.read_text().splitlines()
    text[0] = "rec 12 500 1000000000"
    header.write_text("\n".join(text) + "\n")
    expect_error(header, r"1000000000 samples at 500 Hz .* longer than the 600 s limit; refusing")


def test_wfdb_truncated_dat_and_bad_units(rhythm, tmp_path):
    write_ecg_wfdb(rhythm, tmp_path / "rec")
    dat = tmp_path / "rec.dat"
    dat.write_bytes(dat.read_bytes()[:1000])
    expect_error(tmp_path / "rec", "truncated: holds 41 samples, header declares 5000")
    header2 = write_ecg_wfdb(rhythm, tmp_path / "rec2")
    header2.write_text(header2.read_text().replace("/mV", "/mmHg", 1))
    expect_error(header2, "unknown ECG unit of signal I 'mmHg'")


# --- Hypothesis --------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".dcm", ".csv", ".hea", ".npy"]), preamble=st.booleans())
def test_arbitrary_bytes_only_raise_cohort_error(data, suffix, preamble, tmp_path):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes((b"\0" * 128 + b"DICM" if preamble and suffix == ".dcm" else b"") + data)
    try:
        read_ecg(path, subject=SUBJECT, fs=500 if suffix == ".csv" else None)
    except CohortError as error:
        check_message(error, path)
    finally:
        path.unlink()


@pytest.fixture(scope="module")
def valid_files(rhythm, tmp_path_factory):
    """Small valid files (3 s at 200 Hz) of every text/binary format, to be corrupted."""
    short = resample_poly(rhythm[:, :1500].astype(np.float64), 2, 5, axis=-1)
    folder = tmp_path_factory.mktemp("valid")
    return {
        ".dcm": write_ecg_dicom(short, folder / "v.dcm", fs=200).read_bytes(),
        ".csv": write_ecg_csv(short, folder / "v.csv", fs=200).read_bytes(),
        ".hea": write_ecg_wfdb(short, folder / "v", fs=200).read_bytes(),
        ".dat": (folder / "v.dat").read_bytes(),
    }


@FUZZ
@given(
    suffix=st.sampled_from([".dcm", ".csv", ".hea"]),
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)), min_size=1, max_size=6
    ),
    cut=st.none() | st.floats(0, 1),
)
def test_corrupted_valid_files_only_raise_cohort_error(suffix, edits, cut, valid_files, tmp_path):
    raw = bytearray(valid_files[suffix])
    for where, patch in edits:
        at = int(where * len(raw))
        raw[at : at + len(patch)] = patch
    if cut is not None:
        raw = raw[: int(cut * len(raw))]
    path = tmp_path / f"v{suffix}"
    path.write_bytes(bytes(raw))
    if suffix == ".hea":
        (tmp_path / "v.dat").write_bytes(valid_files[".dat"])
    try:
        record = read_ecg(path, subject=SUBJECT)
    except CohortError as error:
        event("CohortError")
        check_message(error, path)
    else:
        event("read")
        assert np.all(np.isfinite(record.signals)) and record.signals.shape[0] == len(record.leads) >= 8
    finally:
        for p in tmp_path.iterdir():
            p.unlink()


@FUZZ
@given(
    n_leads=st.sampled_from([8, 12]),
    n_samples=st.integers(1, 3000),
    transpose=st.booleans(),
    fs=st.floats(50, 3000),
    seed=st.integers(0, 2**32 - 1),
    n_bad=st.integers(1, 5),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_npy_with_nan_is_refused(n_leads, n_samples, transpose, fs, seed, n_bad, bad, tmp_path):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n_leads, n_samples)).astype(rng.choice([np.float32, np.float64]))
    x.flat[rng.integers(0, x.size, n_bad)] = bad
    path = tmp_path / "nan.npy"
    np.save(path, x.T if transpose else x)
    leads = EIGHT if n_leads == 8 else LEADS
    with pytest.raises(CohortError) as info:
        read_ecg(path, lead_order=leads, fs=fs, subject=SUBJECT)
    check_message(info.value, path)
    path.unlink()


@FUZZ
@given(
    fs=st.integers(100, 2000) | st.floats(100, 2000),
    seconds=st.floats(2.0, 14.0),
    start=st.floats(0, 0.5),
    leads=st.sampled_from([LEADS, EIGHT, ("aVL", "aVF", *LEADS[6:]), ("III", "aVR", "I", *LEADS[6:])]),
    scale=st.floats(0.2, 4.0),
    noise=st.floats(0, 0.3),
    seed=st.integers(0, 2**32 - 1),
)
def test_standardise_random_records(fs, seconds, start, leads, scale, noise, seed, rhythm):
    """Any record at 100-2000 Hz becomes a finite (12, 5000)/(12, 600) pair or a CohortError."""
    rng = np.random.default_rng(seed)
    tiled = np.tile(rhythm.astype(np.float64), 2)[:, int(start * 10000) :]
    ratio = Fraction(fs / 500).limit_denominator(200)
    x = resample_poly(tiled, ratio.numerator, ratio.denominator, axis=-1)[:, : int(seconds * fs)]
    x = scale * x[[LEADS.index(lead) for lead in leads]] + rng.normal(
        0, noise, (len(leads), x.shape[1] if x.size else 0)
    )
    record = EcgRecord(x.astype(np.float32), float(fs), tuple(leads), source="random.npy")
    try:
        prepared = standardise_ecg(record, subject=SUBJECT)
    except CohortError as error:
        event("CohortError")
        assert f"subject {SUBJECT}" in str(error) and "random.npy" in str(error)
        assert seconds * 1.0 < 2.6 or "median beat" in str(error), str(error)
    else:
        event("prepared")
        assert prepared.rhythm.shape == (12, 5000) and prepared.median.shape == (12, 600)
        assert np.all(np.isfinite(prepared.rhythm)) and np.all(np.isfinite(prepared.median))
