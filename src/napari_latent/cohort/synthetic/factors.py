"""Ground-truth factors of a synthetic subject: demographics, conditions and physiology.

Every synthetic ECG and cine is rendered from one :class:`SubjectFactors`. Shared
factors (heart rate, LV volume, ejection fraction, wall thickness, RV and atrial scale)
drive both modalities; private factors drive one only (QTc, RR variability, QRS axis for
the ECG; noise, contrast, rotation for the MRI). Demographics and conditions shift the
distributions with effect sizes and prevalences of the order seen in UK Biobank imaging.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

__all__ = ["SubjectFactors", "sample_factors", "subject_rng", "FACTOR_INFO"]


def subject_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The random generator of one subject: a pure function of (seed, index, stream)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)]))


@dataclass(frozen=True)
class SubjectFactors:
    """The true factors one synthetic subject is rendered from."""

    # demographics
    age: float  # years
    sex: str  # "F" or "M"
    bmi: float  # kg/m^2
    # conditions
    hypertension: bool
    prior_mi: bool
    lbbb: bool
    atrial_enlargement: bool
    # shared factors (seen by both modalities)
    heart_rate: float  # beats/min
    lvedv: float  # mL, LV end-diastolic volume
    ef: float  # fraction 0..1, LV ejection fraction
    wall_thickness: float  # mm, LV myocardium at end-diastole
    rv_scale: float  # RV size relative to the LV, 1 = typical
    atrial_scale: float  # atrial size, 1 = typical
    # ECG-private factors
    qrs_duration: float  # ms
    qtc: float  # ms, Bazett-corrected QT
    pr_interval: float  # ms
    rr_sd: float  # fraction of RR, beat-to-beat variability
    qrs_axis: float  # degrees, frontal-plane electrical axis
    # MRI-private factors
    mri_noise: float  # Rician noise sigma relative to blood-pool intensity
    mri_contrast: float  # myocardium / blood intensity ratio
    mri_rotation: float  # degrees, in-plane rotation of the view

    @property
    def rr(self) -> float:
        """Mean RR interval in seconds."""
        return 60.0 / self.heart_rate

    @property
    def qt(self) -> float:
        """QT interval in ms at this heart rate (QT = QTc * sqrt(RR))."""
        return self.qtc * np.sqrt(self.rr)

    @property
    def lvesv(self) -> float:
        """LV end-systolic volume in mL."""
        return self.lvedv * (1.0 - self.ef)

    @property
    def lv_mass(self) -> float:
        """LV mass in g from a half-ellipsoid LV (long/short axis ratio 1.8), 1.05 g/mL."""
        return lv_mass(self.lvedv, self.wall_thickness)

    def as_row(self) -> dict[str, object]:
        """The factors and the phenotypes derived from them as one table row."""
        row = asdict(self)
        row["lvesv"] = self.lvesv
        row["lv_mass"] = self.lv_mass
        row["qt"] = self.qt
        return row


LV_AXIS_RATIO = 1.8  # long semi-axis / short semi-axis of the LV cavity


def lv_mass(lvedv_ml: float, wall_mm: float) -> float:
    """LV mass (g) of a half-ellipsoid cavity of volume ``lvedv_ml`` with a wall ``wall_mm`` thick."""
    b = (3.0 * lvedv_ml / (2.0 * np.pi * LV_AXIS_RATIO)) ** (1.0 / 3.0)  # cm
    a = LV_AXIS_RATIO * b
    t = wall_mm / 10.0
    outer = 2.0 / 3.0 * np.pi * (a + t) * (b + t) ** 2
    return float(1.05 * (outer - lvedv_ml))


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def sample_factors(seed: int, index: int) -> SubjectFactors:
    """Draw the factors of subject ``index`` of the cohort with ``seed`` (deterministic)."""
    rng = subject_rng(seed, index, stream=0)
    n = rng.standard_normal
    u = rng.random

    age = _clip(64.0 + 7.7 * n(), 45.0, 82.0)
    female = bool(u() < 0.52)
    bmi = _clip(float(np.exp(np.log(26.5) + 0.16 * n())), 16.0, 50.0)
    a, b = (age - 64.0) / 10.0, (bmi - 26.5) / 4.5  # standardised age and BMI

    def chance(logit: float) -> bool:
        return bool(u() < 1.0 / (1.0 + np.exp(-logit)))

    hypertension = chance(-1.0 + 0.55 * a + 0.45 * b + (0.0 if female else 0.3))
    prior_mi = chance(-3.3 + 0.5 * a + (0.0 if female else 0.9) + (0.3 if hypertension else 0.0))
    lbbb = chance(-4.0 + 0.5 * a + (0.5 if prior_mi else 0.0) + (0.3 if hypertension else 0.0))
    atrial_enlargement = chance(-2.8 + 0.5 * a + (1.0 if hypertension else 0.0) + 0.2 * b)

    heart_rate = 67.0 - 0.6 * a + 1.2 * b + (2.5 if female else 0.0) + 9.0 * n()
    heart_rate += -4.0 if prior_mi else 0.0  # beta blockade after infarction
    heart_rate = _clip(heart_rate, 45.0, 110.0)

    lvedv = (122.0 if female else 155.0) - 6.0 * a + 5.0 * b + 16.0 * n()
    lvedv += (18.0 if prior_mi else 0.0) + (10.0 if lbbb else 0.0)
    lvedv = _clip(lvedv, 70.0, 280.0)

    ef = 0.60 + (0.02 if female else 0.0) - 0.004 * a + 0.04 * n()
    ef -= (0.14 + 0.05 * abs(n())) if prior_mi else 0.0
    ef -= 0.06 if lbbb else 0.0
    ef = _clip(ef, 0.2, 0.78)

    wall = (7.6 if female else 9.0) + 0.35 * a + 0.3 * b + 0.7 * n()
    wall += 1.6 if hypertension else 0.0
    wall = _clip(wall, 5.0, 17.0)

    rv_scale = _clip(1.0 + 0.08 * n() + (0.04 if prior_mi else 0.0), 0.7, 1.5)
    atrial_scale = 1.0 + 0.04 * a + (0.12 if hypertension else 0.0) + 0.07 * n()
    atrial_scale += 0.35 if atrial_enlargement else 0.0
    atrial_scale = _clip(atrial_scale, 0.75, 1.9)

    qrs = (88.0 if female else 95.0) + 8.0 * n()
    qrs = 148.0 + 12.0 * n() if lbbb else _clip(qrs, 70.0, 118.0)
    qtc = (424.0 if female else 410.0) + 4.0 * a + 18.0 * n() + (22.0 if lbbb else 0.0)
    qtc = _clip(qtc, 360.0, 520.0)
    pr = _clip(160.0 + 6.0 * a + 20.0 * n() + (12.0 if atrial_enlargement else 0.0), 110.0, 260.0)
    rr_sd = _clip(0.035 - 0.006 * a + 0.012 * n(), 0.005, 0.09)
    axis = _clip(45.0 - 8.0 * a - 6.0 * b + 22.0 * n() + (-25.0 if lbbb else 0.0), -60.0, 110.0)

    mri_noise = _clip(0.045 + 0.015 * n(), 0.015, 0.1)
    mri_contrast = _clip(0.32 + 0.05 * n(), 0.18, 0.5)
    # residual in-plane misalignment after the view is registered to a common long axis
    mri_rotation = _clip(1.0 * n(), -3.0, 3.0)

    return SubjectFactors(
        age=round(age, 1),
        sex="F" if female else "M",
        bmi=round(bmi, 1),
        hypertension=hypertension,
        prior_mi=prior_mi,
        lbbb=lbbb,
        atrial_enlargement=atrial_enlargement,
        heart_rate=heart_rate,
        lvedv=lvedv,
        ef=ef,
        wall_thickness=wall,
        rv_scale=rv_scale,
        atrial_scale=atrial_scale,
        qrs_duration=_clip(qrs, 70.0, 200.0),
        qtc=qtc,
        pr_interval=pr,
        rr_sd=rr_sd,
        qrs_axis=axis,
        mri_noise=mri_noise,
        mri_contrast=mri_contrast,
        mri_rotation=mri_rotation,
    )


# column -> (unit, description, role); role is "demographic", "condition", "shared",
# "ecg" or "mri" (which modality holds the factor), or "derived".
FACTOR_INFO: dict[str, tuple[str, str, str]] = {
    "age": ("years", "Age at imaging", "demographic"),
    "sex": ("", "Sex (F/M)", "demographic"),
    "bmi": ("kg/m^2", "Body mass index", "demographic"),
    "hypertension": ("", "Hypertension", "condition"),
    "prior_mi": ("", "Prior myocardial infarction", "condition"),
    "lbbb": ("", "Left bundle branch block", "condition"),
    "atrial_enlargement": ("", "Left atrial enlargement", "condition"),
    "heart_rate": ("1/min", "Heart rate", "shared"),
    "lvedv": ("mL", "LV end-diastolic volume", "shared"),
    "ef": ("1", "LV ejection fraction", "shared"),
    "wall_thickness": ("mm", "LV wall thickness at end-diastole", "shared"),
    "rv_scale": ("1", "RV size relative to typical", "shared"),
    "atrial_scale": ("1", "Atrial size relative to typical", "shared"),
    "qrs_duration": ("ms", "QRS duration", "ecg"),
    "qtc": ("ms", "QT interval corrected for heart rate (Bazett)", "ecg"),
    "pr_interval": ("ms", "PR interval", "ecg"),
    "rr_sd": ("1", "Beat-to-beat RR variability (SD / mean RR)", "ecg"),
    "qrs_axis": ("deg", "Frontal QRS axis", "ecg"),
    "mri_noise": ("1", "Image noise relative to blood-pool intensity", "mri"),
    "mri_contrast": ("1", "Myocardium / blood-pool intensity ratio", "mri"),
    "mri_rotation": ("deg", "In-plane rotation of the 4-chamber view", "mri"),
    "lvesv": ("mL", "LV end-systolic volume", "derived"),
    "lv_mass": ("g", "LV mass", "derived"),
    "qt": ("ms", "QT interval", "derived"),
}

assert set(FACTOR_INFO) >= {f.name for f in fields(SubjectFactors)}
