"""ECG readers, writers and standardisation: round trips through every format, resampling, lead derivation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.signal import resample_poly

from napari_latent.cohort.schema import LEADS
from napari_latent.cohort.synthetic import generate_subject
from napari_latent.io import EcgRecord, read_ecg, standardise_ecg
from napari_latent.io.ecg_preprocess import derive_limb_leads
from napari_latent.io.ecg_readers import normalise_lead_name
from napari_latent.io.ecg_writers import write_ecg_csv, write_ecg_dicom, write_ecg_npy, write_ecg_wfdb

DICOM_STEP = 1e-3  # mV: 1 uV per int16 step


@pytest.fixture(scope="module")
def subject():
    """Demo subject 3: (rhythm (12, 5000) mV at 500 Hz, median (12, 600))."""
    _, arrays = generate_subject(0, 3)
    return arrays["ecg_rhythm"], arrays["ecg_median"]


def _in_standard_order(record: EcgRecord) -> np.ndarray:
    return record.signals[[record.leads.index(lead) for lead in LEADS]]


def _write(fmt: str, signals: np.ndarray, tmp_path, leads=LEADS, fs=500):
    if fmt == "dicom":
        return write_ecg_dicom(signals, tmp_path / "ecg.dcm", fs=fs, leads=leads)
    if fmt == "wfdb":
        return write_ecg_wfdb(signals, tmp_path / "rec01", fs=fs, leads=leads)
    if fmt == "csv":
        return write_ecg_csv(signals, tmp_path / "ecg.csv", fs=fs, leads=leads)
    return write_ecg_npy(signals, tmp_path / "ecg.npy", leads=leads)


@pytest.mark.parametrize(
    ("fmt", "tol"), [("dicom", DICOM_STEP / 2), ("wfdb", DICOM_STEP / 2), ("csv", 1e-6), ("npy", 0)]
)
def test_round_trip_restores_shuffled_leads(fmt, tol, subject, tmp_path):
    rhythm, _ = subject
    order = np.random.default_rng(1).permutation(12)
    leads = tuple(LEADS[i] for i in order)
    path = _write(fmt, rhythm[order], tmp_path, leads=leads)
    record = read_ecg(path, lead_order=leads, fs=500, subject="S3")
    assert record.fs == 500 and record.signals.dtype == np.float32
    assert set(record.leads) == set(LEADS) and record.leads == leads
    np.testing.assert_allclose(_in_standard_order(record), rhythm, atol=tol + 1e-6, rtol=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(  # no temporary files left behind
        {"dicom": ["ecg.dcm"], "wfdb": ["rec01.dat", "rec01.hea"], "csv": ["ecg.csv"], "npy": ["ecg.npy"]}[fmt]
    )


def test_dicom_is_12_lead_waveform_with_lead_codes(subject, tmp_path):
    import pydicom

    path = write_ecg_dicom(subject[0], tmp_path / "e.dcm", patient_id="P7", sensitivity_uV=2.5)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.9.1.1" and ds.PatientID == "P7"
    group = ds.WaveformSequence[0]
    assert group.MultiplexGroupLabel == "RHYTHM" and group.WaveformSampleInterpretation == "SS"
    codes = [ch.ChannelSourceSequence[0].CodeValue for ch in group.ChannelDefinitionSequence]
    assert [normalise_lead_name(c) for c in codes] == list(LEADS)
    record = read_ecg(path)
    np.testing.assert_allclose(record.signals, subject[0], atol=2.5e-3 / 2 + 1e-6)  # 2.5 uV steps


def test_dicom_outside_12_lead_limits_is_general_ecg(subject, tmp_path):
    rhythm = _resampled(subject[0], 2000)  # 2000 Hz is beyond the 12-lead IOD's 1000 Hz
    path = write_ecg_dicom(rhythm, tmp_path / "fast.dcm", fs=2000)
    record = read_ecg(path)
    assert record.meta["sop_class"] == "General ECG Waveform Storage" and record.fs == 2000
    np.testing.assert_allclose(record.signals, rhythm, atol=DICOM_STEP / 2 + 1e-6)


def test_wfdb_signal_names_in_any_case(subject, tmp_path):
    header = write_ecg_wfdb(subject[0], tmp_path / "case")
    names = {"I": "i", "aVR": "AVR", "aVL": "avl", "V1": "v1"}
    lines = header.read_text().splitlines()
    lines = [lines[0], *(" ".join([*ln.split()[:-1], names.get(ln.split()[-1], ln.split()[-1])]) for ln in lines[1:])]
    header.write_text("\n".join(lines) + "\n")
    record = read_ecg(header)
    assert record.leads == LEADS and record.meta["labels"][:5] == ["i", "II", "III", "AVR", "avl"]


def test_wfdb_record_can_be_named_by_header_data_or_stem(subject, tmp_path):
    header = write_ecg_wfdb(subject[0], tmp_path / "r7.hea")
    assert header == tmp_path / "r7.hea"
    for name in ("r7.hea", "r7.dat", "r7"):
        np.testing.assert_allclose(read_ecg(tmp_path / name).signals, subject[0], atol=DICOM_STEP / 2 + 1e-6)


@pytest.mark.parametrize(("unit", "scale"), [("uV", 1e3), ("µV", 1e3), ("V", 1e-3), ("mV", 1.0)])
def test_units_are_converted_to_millivolts(unit, scale, subject, tmp_path):
    rhythm = subject[0]
    np.save(tmp_path / "x.npy", (rhythm * scale).T)  # (samples, leads) is recognised too
    record = read_ecg(tmp_path / "x.npy", lead_order=LEADS, fs=500, unit=unit)
    np.testing.assert_allclose(record.signals, rhythm, rtol=1e-5, atol=1e-7)
    write_ecg_csv(rhythm * scale, tmp_path / "x.csv")
    np.testing.assert_allclose(read_ecg(tmp_path / "x.csv", unit=unit).signals, rhythm, rtol=1e-5, atol=1e-7)


def test_csv_without_header_and_with_millisecond_time(subject, tmp_path):
    rhythm = subject[0]
    np.savetxt(tmp_path / "plain.csv", rhythm.T, delimiter=",", fmt="%.9g")
    record = read_ecg(tmp_path / "plain.csv", lead_order=LEADS, fs=500)
    np.testing.assert_allclose(record.signals, rhythm, atol=1e-6)
    leads = ("v6", "AVR", "i", "ii", "iii", "avl", "avf", "v1", "v2", "v3", "v4", "v5")
    columns = np.column_stack([np.arange(5000) * 2.0, *(rhythm[LEADS.index(normalise_lead_name(n))] for n in leads)])
    np.savetxt(
        tmp_path / "ms.csv", columns, delimiter=";", fmt="%.9g", header=";".join(["Time (ms)", *leads]), comments=""
    )
    record = read_ecg(tmp_path / "ms.csv")  # fs inferred from the time column
    assert record.fs == 500 and record.leads[:3] == ("V6", "aVR", "I")
    np.testing.assert_allclose(_in_standard_order(record), rhythm, atol=1e-6)


def test_lead_names_from_codes_and_spellings():
    spellings = {
        "AVR": "aVR", "i": "I", "Lead V1": "V1", "MDC_ECG_LEAD_AVF": "aVF", "5.6.3-9-62": "aVR",
        "2:61": "III", "131073": "I", "aVL, augmented voltage, left": "aVL", "Lead I (Einthoven)": "I",
        "C4": "V4", "DIII": "III", "Derived Lead V5": "V5", " v2 ": "V2",
    }  # fmt: skip
    assert {s: normalise_lead_name(s) for s in spellings} == spellings
    for not_a_lead in ("2:65", "-aVR", "V7", "X", "Lead", "", "12"):  # 2:65 is -aVR, not aVR
        assert normalise_lead_name(not_a_lead) is None


def test_writers_never_overwrite(subject, tmp_path):
    rhythm = subject[0]
    for fmt in ("dicom", "csv", "npy"):
        path = _write(fmt, rhythm, tmp_path)
        before = path.read_bytes()
        with pytest.raises(FileExistsError, match=str(path.name)):
            _write(fmt, rhythm * 2, tmp_path)
        assert path.read_bytes() == before
    (tmp_path / "rec01.dat").write_bytes(b"user data")  # a .dat alone already blocks the record
    with pytest.raises(FileExistsError, match="rec01.dat"):
        write_ecg_wfdb(rhythm, tmp_path / "rec01")
    assert (tmp_path / "rec01.dat").read_bytes() == b"user data" and not (tmp_path / "rec01.hea").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _resampled(rhythm: np.ndarray, fs: int) -> np.ndarray:
    ratio = Fraction(fs, 500)
    return resample_poly(rhythm.astype(np.float64), ratio.numerator, ratio.denominator, axis=-1)


@pytest.mark.parametrize("fs", [250, 1000])
def test_standardise_resampled_rhythm_recovers_median_beat(fs, subject, tmp_path):
    rhythm, median = subject
    path = write_ecg_csv(_resampled(rhythm, fs), tmp_path / f"at{fs}.csv", fs=fs)
    prepared = standardise_ecg(read_ecg(path), subject="S3")
    assert prepared.rhythm.shape == (12, 5000) and prepared.median.shape == (12, 600)
    assert prepared.rhythm.dtype == prepared.median.dtype == np.float32
    r = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(prepared.median, median)])
    print(f"{fs} Hz, Pearson r per lead:", dict(zip(LEADS, r.round(4))))
    assert r.mean() > 0.98 and r.min() > 0.93
    assert prepared.meta["fs_original"] == fs and prepared.meta["padded_s"] == 0
    assert prepared.meta["resample"] == (Fraction(500, fs).numerator, Fraction(500, fs).denominator)


def test_eight_lead_record_gets_exact_limb_leads(subject):
    rhythm = subject[0]
    independent = ["V3", "II", "V1", "I", "V6", "V2", "V5", "V4"]
    eight = EcgRecord(rhythm[[LEADS.index(n) for n in independent]], 500.0, tuple(independent), source="eight.npy")
    full = standardise_ecg(EcgRecord(rhythm, 500.0, LEADS))
    derived = standardise_ecg(eight)
    assert derived.meta["derived_leads"] == ["III", "aVR", "aVL", "aVF"]
    np.testing.assert_allclose(derived.rhythm, full.rhythm, atol=1e-5)
    np.testing.assert_allclose(derived.median, full.median, atol=1e-5)


def test_limb_leads_from_any_two_recorded(subject):
    rhythm = subject[0].astype(np.float64)
    truth = {lead: rhythm[i] for i, lead in enumerate(LEADS[:6])}
    limb, derived = derive_limb_leads({"III": truth["III"], "aVF": truth["aVF"]})
    assert derived == ["I", "II", "aVR", "aVL"]
    for lead in LEADS[:6]:
        np.testing.assert_allclose(limb[lead], truth[lead], atol=1e-5)


def test_short_strip_is_padded_and_long_strip_cut(subject):
    rhythm = subject[0]
    short = standardise_ecg(EcgRecord(rhythm[:, :2000], 500.0, LEADS))  # 4 s
    assert short.meta["padded_s"] == pytest.approx(6.0)
    assert np.all(short.rhythm[:, 2000:] == short.rhythm[:, 1999:2000])
    long = standardise_ecg(EcgRecord(np.concatenate([rhythm, rhythm], axis=1), 500.0, LEADS))
    assert long.meta["duration_s_original"] == 20.0 and long.meta["padded_s"] == 0
    assert long.rhythm.shape == (12, 5000)
