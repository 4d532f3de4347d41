"""Measurements of cines and median beats that need no labels: what a decoded heart measures.

These are the independent measurement models that calibrate and check the phenotype
directions (:mod:`napari_latent.analysis.directions`): plain image processing and ECG
delineation, sharing nothing with the latent space.

Cine (one cycle, (T, H, W), intensity 0..1): in each frame the bright blood pool is
thresholded and split into connected components; the component under the LV territory
(where the cohort's labels put the LV, :func:`lv_territory`) is the LV, joined to the LA
through the open mitral valve. It is cut at the mitral valve: along its principal (long)
axis, the first narrowing past the widest part. Area is the pixel count, length the
extent along the axis, volume the single-plane area-length ``8 A^2 / (3 pi L)`` in mL;
EDV / ESV are the largest / smallest volume of the cycle, EF = 1 - ESV / EDV.

Median beat ((12, 600) mV at 500 Hz, R near sample 200): the global QRS onset and offset
from the spatial velocity (the root-sum-square of the 12 leads' first differences) against
a threshold relative to its QRS peak, the end of T by the tangent method on the spatial
magnitude, QT = T end - QRS onset, amplitudes per lead in the QRS window, and the frontal
QRS axis from the net QRS areas of leads I and aVF.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..cohort.schema import ECG_FS, ECG_MEDIAN_R_INDEX, LABELS, LEADS, MRI_PIXEL_SPACING_MM

__all__ = [
    "CineMeasurement",
    "EcgMeasurement",
    "lv_territory",
    "segment_lv",
    "measure_cine",
    "measure_ecg",
    "MEASURES",
]

_LV = next(k for k, v in LABELS.items() if v == "LV")
BLOOD_THRESHOLD = 0.6  # between myocardium (~0.3) and blood pool (~0.86) of a 0..1 cine

#: Measurement name -> (modality, unit, description).
MEASURES: dict[str, tuple[str, str, str]] = {
    "edv": ("mri", "mL", "LV end-diastolic volume (area-length, decoded cine)"),
    "esv": ("mri", "mL", "LV end-systolic volume (area-length, decoded cine)"),
    "ef": ("mri", "1", "LV ejection fraction 1 - ESV/EDV (decoded cine)"),
    "ed_area": ("mri", "mm^2", "LV blood-pool area at end-diastole"),
    "es_area": ("mri", "mm^2", "LV blood-pool area at end-systole"),
    "qrs_duration": ("ecg", "ms", "QRS duration (spatial velocity, 12 leads)"),
    "qt": ("ecg", "ms", "QT interval (tangent method on the spatial magnitude)"),
    "qrs_axis": ("ecg", "deg", "frontal QRS axis (net QRS area of I and aVF)"),
    "r_amplitude_v5": ("ecg", "mV", "R amplitude in V5"),
}


def lv_territory(labels: np.ndarray, fraction: float = 0.5) -> np.ndarray:
    """Pixels that are LV blood in at least ``fraction`` of the frames of a cohort's label cines.

    ``labels``: (N, T, H, W); returns (H, W) bool. Only used to pick which bright component
    is the LV, so the measurement does not depend on it beyond that choice.
    """
    labels = np.asarray(labels)
    if labels.ndim != 4:
        raise ValueError(f"labels must be (N, T, H, W), got shape {labels.shape}")
    return (labels == _LV).mean(axis=(0, 1)) >= fraction


def _default_territory(shape: tuple[int, int]) -> np.ndarray:
    """An ellipse where the demo's heart-centred 4-chamber crop puts the LV (upper right)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    r0, c0 = 0.48 * shape[0], 0.60 * shape[1]
    return ((rows - r0) / (0.14 * shape[0])) ** 2 + ((cols - c0) / (0.09 * shape[1])) ** 2 <= 1.0


@dataclass
class CineMeasurement:
    """What one cine measures; areas in mm², volumes in mL (area-length), EF as a fraction."""

    area: np.ndarray  # (T,) LV blood-pool area per frame, mm^2
    length: np.ndarray  # (T,) LV long-axis length per frame, mm
    volume: np.ndarray  # (T,) area-length volume per frame, mL
    ed_frame: int
    es_frame: int
    edv: float
    esv: float
    ef: float
    ed_area: float
    es_area: float

    def scalars(self) -> dict[str, float]:
        """The scalar measurements by name (see :data:`MEASURES`)."""
        return {k: float(getattr(self, k)) for k in ("edv", "esv", "ef", "ed_area", "es_area")}


@dataclass
class EcgMeasurement:
    """What one median beat measures: intervals in ms, axis in degrees, amplitudes in mV."""

    qrs_onset: int  # sample
    qrs_offset: int
    t_end: int
    qrs_duration: float
    qt: float
    qrs_axis: float
    r_amplitude: dict[str, float] = field(default_factory=dict)
    s_amplitude: dict[str, float] = field(default_factory=dict)
    t_amplitude: dict[str, float] = field(default_factory=dict)

    @property
    def r_amplitude_v5(self) -> float:
        return self.r_amplitude.get("V5", float("nan"))

    def scalars(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in ("qrs_duration", "qt", "qrs_axis", "r_amplitude_v5")}

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------------ cine
def segment_lv(
    cine: np.ndarray, territory: np.ndarray | None = None, *, threshold: float = BLOOD_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """LV blood-pool masks (T, H, W) of a cine and the LV length per frame (pixels).

    See the module docstring for the method. Frames where no bright component overlaps the
    territory get an empty mask and length 0.
    """
    from scipy import ndimage as ndi

    cine = np.asarray(cine, dtype=np.float32)
    if cine.ndim != 3:
        raise ValueError(f"a cine must be (frames, rows, cols), got shape {cine.shape}")
    territory = _default_territory(cine.shape[1:]) if territory is None else np.asarray(territory, bool)
    if territory.shape != cine.shape[1:]:
        raise ValueError(f"territory has shape {territory.shape}, the cine's frames {cine.shape[1:]}")
    masks = np.zeros(cine.shape, dtype=bool)
    lengths = np.zeros(len(cine))
    rows, cols = np.mgrid[: cine.shape[1], : cine.shape[2]]
    for t, frame in enumerate(cine):
        labelled, n = ndi.label(frame > threshold)
        if n == 0:
            continue
        hits = np.bincount(labelled[territory], minlength=n + 1)
        hits[0] = 0
        if hits.max() == 0:
            continue
        comp = labelled == hits.argmax()
        masks[t], lengths[t] = _cut_at_valve(comp, rows, cols)
    return masks, lengths


def _cut_at_valve(comp: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, float]:
    """Keep the apex side of a blood component (LV + LA) cut at its first narrowing."""
    r, c = rows[comp].astype(np.float64), cols[comp].astype(np.float64)
    p = np.stack([r - r.mean(), c - c.mean()], 1)
    axis = np.linalg.eigh(p.T @ p)[1][:, -1]
    s = p @ axis
    b = np.floor(s - s.min()).astype(int)
    width = np.bincount(b).astype(float)
    if len(width) >= 7:
        width = np.convolve(width, np.ones(5) / 5, mode="same")
    # the apex is at the wide end: the LV is wider and longer than the LA
    half = len(width) // 2
    if width[:half].sum() > width[half:].sum():
        width, b = width[::-1], (len(width) - 1) - b
    peak = int(np.argmax(width))
    # walk from the widest part toward the atrium: past where the LV narrows to its base, the
    # valve is the narrowest point before the atrium widens again
    below = np.flatnonzero(width[:peak] < 0.85 * width[peak])
    keep = np.ones_like(b, dtype=bool)
    if below.size:
        start = int(below[-1])
        lo = max(start - max(int(0.3 * len(width)), 3), 0)
        cut = lo + int(np.argmin(width[lo : start + 1]))
        if cut > 0:
            keep = b > cut
    mask = np.zeros_like(comp)
    mask[rows[comp][keep], cols[comp][keep]] = True
    length = float(b[keep].max() - b[keep].min() + 1) if keep.any() else 0.0
    return mask, length


def measure_cine(
    cine: np.ndarray, territory: np.ndarray | None = None, *, spacing_mm: float = MRI_PIXEL_SPACING_MM
) -> CineMeasurement:
    """LV area and volume curves, EDV, ESV and EF of one cine (T, H, W) in 0..1."""
    masks, lengths = segment_lv(cine, territory)
    area = masks.sum(axis=(1, 2)) * spacing_mm**2
    length = lengths * spacing_mm
    volume = np.where(length > 0, 8.0 * area**2 / (3.0 * np.pi * np.maximum(length, 1e-6)) / 1000.0, 0.0)
    ed, es = int(np.argmax(volume)), int(np.argmin(volume))
    edv, esv = float(volume[ed]), float(volume[es])
    return CineMeasurement(
        area=area,
        length=length,
        volume=volume,
        ed_frame=ed,
        es_frame=es,
        edv=edv,
        esv=esv,
        ef=float(1.0 - esv / edv) if edv > 0 else float("nan"),
        ed_area=float(area[ed]),
        es_area=float(area[es]),
    )


# ------------------------------------------------------------------------------------------------- ECG
def measure_ecg(
    beat: np.ndarray, *, fs: float = ECG_FS, r_index: int = ECG_MEDIAN_R_INDEX, leads: tuple[str, ...] = LEADS
) -> EcgMeasurement:
    """Global QRS duration, QT, frontal axis and per-lead amplitudes of a median beat (12, S) mV."""
    x = np.asarray(beat, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(leads):
        raise ValueError(f"a median beat must be ({len(leads)}, samples), got shape {x.shape}")
    n = x.shape[1]
    ms = 1000.0 / fs
    base = np.median(x[:, max(r_index - int(0.35 * fs), 0) : max(r_index - int(0.25 * fs), 1)], axis=1)
    x = x - base[:, None]  # PR-segment-ish baseline (before P would be cleaner; the beat starts 0.4 s before R)
    vel = np.sqrt((np.diff(x, axis=1) ** 2).sum(axis=0))
    vel = np.convolve(vel, np.ones(5) / 5, mode="same")
    lo, hi = max(r_index - int(0.15 * fs), 1), min(r_index + int(0.2 * fs), n - 2)
    peak = lo + int(np.argmax(vel[lo:hi]))
    thr = 0.12 * vel[peak]
    on = peak
    while on > lo and vel[on] > thr:
        on -= 1
    off = peak
    while off < hi and vel[off] > thr:
        off += 1
    # the end of T: tangent at the steepest descent of the spatial magnitude after its T peak
    mag = np.sqrt((x**2).sum(axis=0))
    mag = np.convolve(mag, np.ones(9) / 9, mode="same")
    t_lo, t_hi = min(off + int(0.06 * fs), n - 3), min(on + int(0.65 * fs), n - 2)
    t_peak = t_lo + int(np.argmax(mag[t_lo:t_hi])) if t_hi > t_lo else t_lo
    slope = np.diff(mag)
    seg = slope[t_peak:t_hi]
    if seg.size and seg.min() < 0:
        k = t_peak + int(np.argmin(seg))
        t_end = k + mag[k] / -slope[k]  # where the tangent meets the zero baseline
    else:
        t_end = float(t_hi)
    t_end = float(np.clip(t_end, t_peak, n - 1))
    i_lead, avf = leads.index("I"), leads.index("aVF")
    net_i, net_avf = x[i_lead, on:off + 1].sum(), x[avf, on:off + 1].sum()
    qrs = x[:, on:off + 1]
    twin = x[:, min(off + int(0.04 * fs), n - 1) : int(round(t_end)) + 1]
    return EcgMeasurement(
        qrs_onset=int(on),
        qrs_offset=int(off),
        t_end=int(round(t_end)),
        qrs_duration=float((off - on) * ms),
        qt=float((t_end - on) * ms),
        qrs_axis=float(np.degrees(np.arctan2(net_avf, net_i))),
        r_amplitude={lead: float(qrs[i].max()) for i, lead in enumerate(leads)},
        s_amplitude={lead: float(qrs[i].min()) for i, lead in enumerate(leads)},
        t_amplitude={
            lead: float(twin[i][np.argmax(np.abs(twin[i]))]) if twin.shape[1] else float("nan")
            for i, lead in enumerate(leads)
        },
    )
