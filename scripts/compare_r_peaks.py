"""Compare napari-latent's R-peak detector with wfdb's XQRS (a standard detector).

Ground truth comes from the synthetic generator, which knows every beat it drew: the R time
of each beat is its QRS onset plus the time of the noise-free beat's largest spatial
magnitude. Scored as in ANSI/AAMI EC57: a detection within 75 ms (a 150 ms window) of a
reference beat is a true positive; beats within 0.2 s of either end of the strip are left out.

Run: ``python scripts/compare_r_peaks.py [--n 100] [--examples 12]`` (about a minute on 2 cores).
It prints a Markdown table, the one in docs/data-format.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import wfdb.processing

from napari_latent.cohort.ecg_processing import detect_r_peaks
from napari_latent.cohort.schema import ECG_FS, ECG_RHYTHM_SAMPLES, LEADS
from napari_latent.cohort.synthetic.ecg import _heart_vector, beat_times, synthesize_ecg
from napari_latent.cohort.synthetic.factors import sample_factors, subject_rng

TOLERANCE_S = 0.075
EDGE_S = 0.2
LEAD_II = LEADS.index("II")


def reference_r_times(seed: int, index: int) -> tuple[np.ndarray, float]:
    """The true R times (s) of subject ``index`` and the strip's true heart rate (median RR, beats/min).

    (The table's ``heart_rate`` is the subject's nominal rate; the strip's beats vary around it.)
    """
    f = sample_factors(seed, index)
    onsets = beat_times(f, subject_rng(seed, index, stream=1))  # the generator's first draw
    single = _heart_vector(f, np.array([1.0]), np.random.default_rng(0))  # one clean beat at 1 s
    r_offset = float(np.argmax(np.linalg.norm(single, axis=0))) / ECG_FS - 1.0
    r_times = onsets + r_offset
    inside = r_times[(r_times >= 0) & (r_times < ECG_RHYTHM_SAMPLES / ECG_FS)]
    return r_times, float(60.0 / np.median(np.diff(inside)))


def ours(rhythm: np.ndarray, fs: int) -> np.ndarray:
    return detect_r_peaks(rhythm, fs)


def xqrs(rhythm: np.ndarray, fs: int) -> np.ndarray:
    """XQRS on lead II, peaks moved to the local extremum (wfdb.processing.correct_peaks)."""
    sig = np.asarray(rhythm[LEAD_II], dtype=np.float64)
    found = wfdb.processing.xqrs_detect(sig=sig, fs=fs, verbose=False)
    if len(found) == 0:
        return found
    radius = int(0.05 * fs)
    return np.unique(wfdb.processing.correct_peaks(sig, found, radius, int(0.02 * fs), peak_dir="compare"))


DETECTORS = {"napari-latent (12 leads)": ours, "wfdb XQRS (lead II)": xqrs}


def score(detected: np.ndarray, reference: np.ndarray, fs: int, n: int) -> dict[str, float]:
    """True positives, false negatives and false positives (edges excluded) and timing errors."""
    lo, hi = EDGE_S, n / fs - EDGE_S
    ref = reference[(reference >= lo) & (reference <= hi)]
    det = np.sort(np.asarray(detected, dtype=np.float64) / fs)
    det_inner = det[(det >= lo) & (det <= hi)]
    used = np.zeros(len(det), dtype=bool)
    tp, errors = 0, []
    for r in ref:
        d = np.abs(det - r)
        d[used] = np.inf
        j = int(np.argmin(d)) if len(d) else -1
        if j >= 0 and d[j] <= TOLERANCE_S:
            used[j] = True
            tp += 1
            errors.append(abs(det[j] - r))
    fp = int(np.sum(~used[(det >= lo) & (det <= hi)])) if len(det_inner) else 0
    hr = 60.0 / np.median(np.diff(det)) if len(det) >= 2 else np.nan
    return {"tp": tp, "fn": len(ref) - tp, "fp": fp, "err": errors, "hr": hr}


def evaluate(strips: list[tuple[np.ndarray, int, np.ndarray, float]]) -> dict[str, dict[str, float]]:
    out = {}
    for name, detect in DETECTORS.items():
        tp = fn = fp = 0
        errors, hr_err = [], []
        for rhythm, fs, ref, hr_true in strips:
            s = score(detect(rhythm, fs), ref, fs, rhythm.shape[1])
            tp, fn, fp = tp + s["tp"], fn + s["fn"], fp + s["fp"]
            errors += s["err"]
            hr_err.append(abs(s["hr"] - hr_true) if np.isfinite(s["hr"]) else np.inf)
        out[name] = {
            "beats": tp + fn,
            "se": tp / max(tp + fn, 1),
            "ppv": tp / max(tp + fp, 1),
            "timing_ms": 1000 * float(np.median(errors)) if errors else np.nan,
            "hr_err": float(np.median(hr_err)),
            "hr_err_max": float(np.max(hr_err)),
            "no_hr": int(np.sum(~np.isfinite(hr_err))),
        }
    return out


def demo_strips(n: int, seed: int = 0) -> list[tuple[np.ndarray, int, np.ndarray, float]]:
    strips = []
    for i in range(n):
        f = sample_factors(seed, i)
        rhythm = synthesize_ecg(f, subject_rng(seed, i, stream=1))
        ref, hr = reference_r_times(seed, i)
        strips.append((rhythm, ECG_FS, ref, hr))
    return strips


def example_strips(n: int, seed: int = 0) -> list[tuple[np.ndarray, int, np.ndarray, float]]:
    """The example folder's ECG files (CSV, WFDB at 1 kHz, DICOM, NumPy) read back and standardised."""
    import pandas as pd

    from napari_latent.io import read_ecg, standardise_ecg, write_example_folder

    strips = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_example_folder(Path(tmp) / "examples", n, seed=seed)
        rows = pd.read_csv(manifest)
        for i, rel in enumerate(rows["ecg"]):
            prepared = standardise_ecg(read_ecg(manifest.parent / rel))
            ref, hr = reference_r_times(seed, i)
            strips.append((np.asarray(prepared.rhythm), ECG_FS, ref, hr))
    return strips


def _max(r: dict[str, float]) -> str:
    if r["no_hr"]:
        return f"no rate on {r['no_hr']} strip(s)"
    return f"{r['hr_err_max']:.2f} bpm"


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| data | detector | beats | sensitivity | PPV | median timing error | median / max HR error (median RR) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for data, rows in results.items():
        for name, r in rows.items():
            lines.append(
                f"| {data} | {name} | {r['beats']} | {100 * r['se']:.2f} % | {100 * r['ppv']:.2f} % | "
                f"{r['timing_ms']:.0f} ms | {r['hr_err']:.2f} bpm / {_max(r)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="demo subjects")
    parser.add_argument("--examples", type=int, default=12, help="example-file subjects")
    args = parser.parse_args()
    results = {f"demo cohort ({args.n} subjects)": evaluate(demo_strips(args.n))}
    if args.examples:
        results[f"example files ({args.examples} subjects)"] = evaluate(example_strips(args.examples))
    print(table(results))


if __name__ == "__main__":
    main()
