"""Synthetic 4-chamber long-axis cine MRI (2-D + time) with per-frame labels.

Every structure is an analytic shape evaluated on the pixel grid for all frames at once
(``(frames, 1, 1)`` parameters broadcast against ``(rows, cols)`` coordinates), with an
approximate signed distance that gives one-pixel soft (partial-volume) edges; labels are
the same shapes thresholded at the pixel centre.

Geometry is built in *heart coordinates* (mm): ``u`` runs along the LV long axis from the
mitral plane at end-diastole toward the apex, ``v`` across it toward the LV lateral wall;
the RV and RA lie at negative ``v``, the atria at negative ``u``. The LV cavity is an
ellipse of long/short semi-axis ratio ``LV_AXIS_RATIO`` (at end-diastole) truncated at the
mitral plane a little beyond its centre, so the section is bullet-shaped and the
area-length volume ``8 A^2 / (3 pi L)`` of the section is the volume of the matching
truncated ellipsoid of revolution times a constant (1.03). The heart axis is tilted so the
apex points up and to the right, the view is rotated by ``f.mri_rotation`` and cropped
around the heart at :data:`MRI_PIXEL_SPACING_MM`.

One cycle, frame 0 = QRS onset = end-diastole: ejection to end-systole at ``QT / RR``,
then rapid filling, diastasis and the atrial kick. The mitral and tricuspid planes
descend toward the (fixed) apex in systole, stretching the atria, which fill while the
ventricles empty. The LV myocardial area stays constant, so the wall thickens in systole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import MRI_FRAMES, MRI_PIXEL_SPACING_MM, MRI_SIZE
from .factors import LV_AXIS_RATIO, SubjectFactors

__all__ = [
    "synthesize_cine",
    "filling_fraction",
    "es_phase",
    "es_frame",
    "lv_area_curve",
    "lv_length_curve",
    "lv_volume_curve",
    "ef_from_labels",
]

PIX = MRI_PIXEL_SPACING_MM
TAU = 0.6  # mitral plane lies TAU * (long semi-axis) beyond the LV ellipse centre
TAU_RV = 0.3  # the same for the RV and the tricuspid plane
TAU_ATRIUM = 0.45  # the atrioventricular plane cuts each atrial ellipse this far past its centre
K_LV = (1.0 + TAU) - (1.0 + TAU**3) / 3.0  # truncated-ellipsoid volume = K_LV * pi * A * B^2
DESCENT = 0.25  # mitral-plane descent = DESCENT * L_ed * (1 - V / EDV)  (~12 mm at EF 0.6)
TV_DESCENT = 1.4  # tricuspid / mitral plane descent (TAPSE > MAPSE)
TV_OFFSET_MM = 5.0  # tricuspid plane sits this much more apical than the mitral plane
RV_WALL_MM = 3.0
ATRIAL_WALL_MM = 1.5
ATRIAL_SEPTUM_MM = 3.0
TILT_DEG = 20.0  # long axis from image-vertical toward the right (apex up-right)

# intensities before the bias field and noise (blood pool ~0.85)
BLOOD, ATRIAL_BLOOD, AORTA = 0.86, 0.83, 0.80
FAT, EPI_FAT, TISSUE, LIVER, LUNG, AIR = 0.76, 0.62, 0.30, 0.36, 0.05, 0.01

_F32 = np.float32


# ----------------------------------------------------------------------------- timing


def _ramp(t: np.ndarray, start: float, width: float) -> np.ndarray:
    """Raised-cosine step from 0 (before ``start``) to 1 (after ``start + width``)."""
    x = np.clip((t - start) / max(width, 1e-6), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def es_phase(f: SubjectFactors) -> float:
    """End-systole as a fraction of the cycle: QT / RR (the end of the T wave)."""
    return float(np.clip(f.qt / 1000.0 / f.rr, 0.2, 0.75))


def es_frame(f: SubjectFactors, n_frames: int = MRI_FRAMES) -> int:
    """Frame index of end-systole: ``round(n_frames * QT / RR)``."""
    return int(round(n_frames * es_phase(f))) % n_frames


def filling_fraction(f: SubjectFactors, phase: np.ndarray) -> np.ndarray:
    """Ventricular filling over the cycle: 1 at end-diastole (phase 0), 0 at end-systole.

    Isovolumic contraction, ejection (faster early) ending at QT/RR, isovolumic
    relaxation, rapid filling (70 %), diastasis (12 %) and atrial kick (18 %) ending at
    the next QRS onset; smooth (C1) and periodic.
    """
    t = np.mod(np.asarray(phase, dtype=float), 1.0)
    rr, t_es = f.rr, es_phase(f)
    t_ivc = min(0.04 / rr, 0.2 * t_es)
    x = np.clip((t - t_ivc) / (t_es - t_ivc), 0.0, 1.0)
    systole = 0.5 + 0.5 * np.cos(np.pi * (x + 0.4 * x * (1.0 - x)))
    dia = 1.0 - t_es
    rf_start = t_es + min(0.03 / rr, 0.06 * dia)
    rf_width = min(0.16 / rr, 0.35 * dia)
    kick = min(0.15 / rr, 0.28 * dia)
    rf_end = rf_start + rf_width
    diastole = (
        0.70 * _ramp(t, rf_start, rf_width)
        + 0.12 * _ramp(t, rf_end, 1.0 - kick - rf_end)
        + 0.18 * _ramp(t, 1.0 - kick, kick)
    )
    return np.where(t <= t_es, systole, diastole)


# --------------------------------------------------------------------------- geometry


def _trunc_area(p: np.ndarray, q: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Area of an ellipse (semi-axes p along the axis, q across) cut by a plane h past its centre."""
    x = np.clip(h / p, 0.0, 1.0)
    return p * q * (np.pi / 2 + x * np.sqrt(1.0 - x * x) + np.arcsin(x))


def _wall_for_area(a: np.ndarray, b: np.ndarray, area: float) -> np.ndarray:
    """Wall thickness w whose (a+w, b+w) shell around the truncated cavity has ``area``."""
    h, inner = TAU * a, _trunc_area(a, b, TAU * a)
    lo, hi = np.zeros_like(a), np.full_like(a, 60.0)
    for _ in range(40):  # bisection, vectorised over frames
        mid = 0.5 * (lo + hi)
        big = _trunc_area(a + mid, b + mid, h) - inner > area
        hi, lo = np.where(big, mid, hi), np.where(big, lo, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class _Heart:
    """Per-frame geometry in heart coordinates (mm); arrays have one value per frame."""

    # LV: cavity ellipse (A, B) centred at (lv_u, 0), wall w, base (mitral) plane at u = mv
    mv: np.ndarray
    lv_u: np.ndarray
    a: np.ndarray
    b: np.ndarray
    w: np.ndarray
    # RV: cavity ellipse (rv_a, rv_b) at (rv_u, rv_v), base (tricuspid) plane at u = tv
    tv: np.ndarray
    rv_u: np.ndarray
    rv_v: np.ndarray
    rv_a: np.ndarray
    rv_b: np.ndarray
    # atria: ellipses below the valve planes, LA at v > septum, RA at v < septum
    la_u: np.ndarray
    la_a: np.ndarray
    la_b: np.ndarray
    ra_u: np.ndarray
    ra_a: np.ndarray
    ra_b: np.ndarray
    la_v: float
    ra_v: float
    septum_v: float


def _heart(f: SubjectFactors, s: np.ndarray) -> _Heart:
    """Geometry of every frame from the factors and the filling fraction ``s`` (1 = ED)."""
    edv = f.lvedv * 1000.0  # mm^3
    vol = (f.lvesv + (f.lvedv - f.lvesv) * s) * 1000.0
    b_ed = (edv / (K_LV * np.pi * LV_AXIS_RATIO)) ** (1.0 / 3.0)
    a_ed = LV_AXIS_RATIO * b_ed
    l_ed = (1.0 + TAU) * a_ed  # mitral plane to apex
    mv = DESCENT * l_ed * (1.0 - vol / edv)
    a = (l_ed - mv) / (1.0 + TAU)
    b = np.sqrt(vol / (K_LV * np.pi * a))
    myo_area = float(_trunc_area(a_ed + f.wall_thickness, b_ed + f.wall_thickness, TAU * a_ed)
                     - _trunc_area(a_ed, b_ed, TAU * a_ed))
    w = _wall_for_area(a, b, myo_area)
    lv_u = mv + TAU * a

    size = (f.lvedv / 150.0) ** (1.0 / 3.0)  # linear size relative to a typical heart
    rs, at = np.sqrt(f.rv_scale), size * np.sqrt(f.atrial_scale)  # area ~ scale
    tv = TV_OFFSET_MM + TV_DESCENT * mv
    rv_apex = TV_OFFSET_MM + min(0.74 * rs, 0.9) * l_ed
    rv_a = (rv_apex - tv) / (1.0 + TAU_RV)
    rv_u = tv + TAU_RV * rv_a
    rv_b = 1.1 * b_ed * rs * (1.0 - 0.2 * (1.0 - s))
    # RV ellipse centred just inside the septum at its own height: what shows is a crescent
    y = np.clip((rv_u - lv_u) / (a + w), -1.0, 1.0)
    rv_v = -(b + w) * np.sqrt(1.0 - y * y) + 0.2 * rv_b

    base_half = b_ed * np.sqrt(1.0 - TAU**2)  # mitral half-width of the cavity at ED
    septum_v = -(base_half + 0.5 * f.wall_thickness)
    la_b = 17.5 * at * (1.0 + 0.18 * (1.0 - s))
    ra_b = 16.5 * at * (1.0 + 0.15 * (1.0 - s))
    la_far, ra_far = -36.0 * at, TV_OFFSET_MM - 34.0 * at
    la_a = (mv - la_far) / (1.0 + TAU_ATRIUM)
    ra_a = (tv - ra_far) / (1.0 + TAU_ATRIUM)
    return _Heart(
        mv=mv, lv_u=lv_u, a=a, b=b, w=w,
        tv=tv, rv_u=rv_u, rv_v=rv_v, rv_a=rv_a, rv_b=rv_b,
        la_u=la_far + la_a, la_a=la_a, la_b=la_b,
        ra_u=ra_far + ra_a, ra_a=ra_a, ra_b=ra_b,
        la_v=float(septum_v + 0.8 * la_b[0] + 0.5 * ATRIAL_SEPTUM_MM),
        ra_v=float(septum_v - 0.8 * ra_b[0] - 0.5 * ATRIAL_SEPTUM_MM),
        septum_v=float(septum_v),
    )


def _heart_centre(h: _Heart) -> tuple[float, float]:
    """Centre (u, v) of the heart's bounding box at end-diastole."""
    u_lo = min(h.la_u[0] - h.la_a[0], h.ra_u[0] - h.ra_a[0])
    u_hi = h.lv_u[0] + h.a[0] + h.w[0]
    v_lo = min(h.rv_v[0] - h.rv_b[0] - RV_WALL_MM, h.ra_v - h.ra_b[0])
    v_hi = max(h.b[0] + h.w[0], h.la_v + h.la_b[0])
    return 0.5 * (u_lo + u_hi), 0.5 * (v_lo + v_hi)


# -------------------------------------------------------------------------- rendering


def _grid(rotation_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x right, y up; mm) in the unrotated view frame."""
    c = (np.arange(MRI_SIZE) - (MRI_SIZE - 1) / 2.0) * PIX
    x, y = np.meshgrid(c, -c)
    r = np.deg2rad(rotation_deg)  # the anatomy turns by +r, so sample at -r
    return (np.cos(r) * x + np.sin(r) * y).astype(_F32), (-np.sin(r) * x + np.cos(r) * y).astype(_F32)


def _col(x: np.ndarray | float) -> np.ndarray:
    """Per-frame values as a (frames, 1, 1) float32 column for broadcasting."""
    return np.asarray(x, dtype=_F32).reshape(-1, 1, 1)


def _ellipse_sd(du: np.ndarray, dv: np.ndarray, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Signed distance (mm, negative inside) to an axis-aligned ellipse, to first order.

    ``f / |grad f|`` with ``f = (du/a)^2 + (dv/b)^2 - 1``: exact in sign, within a few
    per cent of the true distance over the few millimetres around the boundary that set
    partial-volume edges and wall offsets.
    """
    ia, ib = _F32(1.0) / np.asarray(a, dtype=_F32), _F32(1.0) / np.asarray(b, dtype=_F32)
    x, y = du * ia, dv * ib
    f = x * x
    f += y * y
    f -= _F32(1.0)
    x *= ia
    y *= ib
    x *= x
    y *= y
    x += y
    np.sqrt(x, out=x)
    x *= _F32(2.0)
    x += _F32(1e-6)
    f /= x
    return f


def _circle_sd(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    """Signed distance (mm) to a circle."""
    return np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - _F32(r)


def _cover(sd: np.ndarray) -> np.ndarray:
    """Partial-volume fraction of a pixel from a signed distance (one-pixel linear edge)."""
    alpha = sd * _F32(-1.0 / PIX)
    alpha += _F32(0.5)
    return np.clip(alpha, 0.0, 1.0, out=alpha)


def _paint(img: np.ndarray, alpha: np.ndarray, value: float) -> np.ndarray:
    """Composite ``value`` over ``img`` with coverage ``alpha``, in place when shapes allow."""
    delta = _F32(value) - img
    delta = np.multiply(delta, alpha, out=delta if delta.shape == alpha.shape else None)
    if delta.shape == img.shape:
        img += delta
        return img
    return img + delta


#: Subject-to-subject jitter of the thorax around the heart (lungs, liver, chest wall, aorta), in
#: units of the position SDs below. Small: the crop is heart-centred and registered, so the
#: surroundings follow the heart's size; most of what varies in the image is then the heart.
BACKGROUND_JITTER = 0.25


def _background(x: np.ndarray, y: np.ndarray, aorta_xy: tuple[float, float], scale: float,
                rng: np.random.Generator) -> np.ndarray:
    """Static thorax around a heart-centred crop: chest wall, lungs, liver, descending aorta.

    ``scale`` is the heart's linear size relative to a typical one: the lungs and liver
    keep their distance to the heart's border.
    """
    j = BACKGROUND_JITTER * rng.standard_normal(9)
    img = np.full(x.shape, TISSUE, dtype=_F32)
    for side, dx, dy in ((-1.0, j[5], j[6]), (1.0, j[7], j[8])):  # lungs either side
        lung = _ellipse_sd(x - _F32(side * (78.0 * scale + 5 * dx)), y - _F32(12.0 + 6 * dy), _F32(48.0), _F32(72.0))
        img = _paint(img, _cover(lung), LUNG)
    for _ in range(14):  # small pulmonary vessels
        vx, vy = rng.uniform(-86, 86, 2)
        vessel = _cover(_circle_sd(x, y, vx, vy, rng.uniform(1.0, 2.2))) * (img < 0.1)
        img = _paint(img, vessel, 0.22)
    skin = _F32(74.0 + 5.0 * j[0]) - _F32(0.12 + 0.05 * j[1]) * x + _F32(0.0025) * x * x
    img = _paint(img, _cover(skin - 16.0 - y), TISSUE)  # chest-wall muscle and ribs
    img = _paint(img, _cover(skin - 9.0 - y), FAT)  # subcutaneous fat
    img = _paint(img, _cover(skin - y), AIR)
    liver = _ellipse_sd(x - _F32(-70.0 * scale + 6 * j[2]), y - _F32(-118.0 * scale + 6 * j[3]), _F32(90.0), _F32(60.0))
    img = _paint(img, _cover(liver - 2.5), FAT)
    img = _paint(img, _cover(liver), LIVER)
    ax, ay = aorta_xy
    img = _paint(img, _cover(_circle_sd(x, y, ax, ay, 14.0)), TISSUE)
    img = _paint(img, _cover(_circle_sd(x, y, ax, ay, 11.0 + 0.8 * j[4])), AORTA)
    return img


def _bias_field(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smooth multiplicative coil-sensitivity shading, +-10 % across the view."""
    phi = rng.uniform(0, 2 * np.pi)
    return (1.0 + 0.1 * (np.cos(phi) * x + np.sin(phi) * y) / 86.0).astype(_F32)


_Box = tuple[slice, slice]


def _pixel_box(u: np.ndarray, v: np.ndarray, u_lo: float, u_hi: float, v_lo: float, v_hi: float) -> _Box:
    """Pixel box (rows, cols) around the pixels whose heart coordinates lie in a rectangle."""
    inside = (u > u_lo) & (u < u_hi) & (v > v_lo) & (v < v_hi)
    rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _box(u: np.ndarray, v: np.ndarray, cu: np.ndarray, cv: np.ndarray | float,
         a: np.ndarray, b: np.ndarray, margin: float) -> _Box:
    """Pixel box covering an ellipse (plus ``margin`` mm) in every frame."""
    return _pixel_box(u, v, np.min(cu - a) - margin, np.max(cu + a) + margin,
                      np.min(cv - b) - margin, np.max(cv + b) + margin)


def _chamber(u: np.ndarray, v: np.ndarray, cu: np.ndarray, cv: np.ndarray | float,
             a: np.ndarray, b: np.ndarray, wall: np.ndarray | float) -> tuple[_Box, np.ndarray, np.ndarray]:
    """Cavity and outer (cavity + wall) signed distances of an elliptic chamber, in its box."""
    box = _box(u, v, cu, cv, a + np.max(wall), b + np.max(wall), 3.0 * PIX)
    uu, vv = u[box], v[box]
    du = uu - cu
    dv = vv - cv if np.ndim(cv) else vv - _F32(cv)
    inner = _ellipse_sd(du, dv, a, b)
    outer = _ellipse_sd(du, dv, a + wall, b + wall) if np.ndim(wall) else inner - _F32(wall)
    return box, inner, outer


def _render(h: _Heart, u: np.ndarray, v: np.ndarray, base: np.ndarray,
            myo: float) -> tuple[np.ndarray, np.ndarray]:
    """Intensities and labels of every frame: chambers composited back to front.

    ``u, v`` are the heart coordinates of the pixels to render and ``base`` their static
    background; returns ``(frames, *u.shape)`` arrays. Each chamber is evaluated only in
    the box it can reach.
    """
    c = {k: _col(val) for k, val in vars(h).items()}
    lv_box, lv_in, lv_wall = _chamber(u, v, c["lv_u"], 0.0, c["a"], c["b"], c["w"])
    rv_box, rv_in, rv_wall = _chamber(u, v, c["rv_u"], c["rv_v"], c["rv_a"], c["rv_b"], _F32(RV_WALL_MM))
    la_box, la_in, la_wall = _chamber(u, v, c["la_u"], h.la_v, c["la_a"], c["la_b"], ATRIAL_WALL_MM)
    ra_box, ra_in, ra_wall = _chamber(u, v, c["ra_u"], h.ra_v, c["ra_a"], c["ra_b"], ATRIAL_WALL_MM)
    for box, sds, plane, side in ((lv_box, (lv_in, lv_wall), c["mv"], 1), (rv_box, (rv_in, rv_wall), c["tv"], 1),
                                  (la_box, (la_in, la_wall), c["mv"], -1), (ra_box, (ra_in, ra_wall), c["tv"], -1)):
        cut = (plane - u[box]) * _F32(side)  # ventricles above their valve plane, atria below
        for sd in sds:
            np.maximum(sd, cut, out=sd)
    la_blood = np.maximum(la_in, _F32(h.septum_v + 0.5 * ATRIAL_SEPTUM_MM) - v[la_box])
    ra_blood = np.maximum(ra_in, v[ra_box] - _F32(h.septum_v - 0.5 * ATRIAL_SEPTUM_MM))

    # pericardial tissue around the heart, then epicardial fat over the ventricles (thick
    # in the atrioventricular grooves)
    shape = (len(h.mv), *u.shape)
    envelope = np.full(shape, 1e3, dtype=_F32)
    for box, sd in ((la_box, la_wall), (ra_box, ra_wall), (lv_box, lv_wall), (rv_box, rv_wall)):
        np.minimum(envelope[:, box[0], box[1]], sd, out=envelope[:, box[0], box[1]])
    img = _paint(base, _cover(envelope - _F32(3.5)), TISSUE)
    envelope.fill(1e3)
    for box, sd in ((lv_box, lv_wall), (rv_box, rv_wall)):
        np.minimum(envelope[:, box[0], box[1]], sd, out=envelope[:, box[0], box[1]])
    lat = np.sqrt(1.0 - (TAU * h.a / (h.a + h.w)) ** 2) * (h.b + h.w) + 1.5  # beside the LV base
    for gu, gv in ((c["mv"], _col(lat)), (c["tv"], c["rv_v"] - c["rv_b"] - _F32(RV_WALL_MM - 1.5))):
        box = _box(u, v, gu, gv, _F32(7.5), _F32(5.0), 2.0 * PIX)
        pad = _ellipse_sd(u[box] - gu, v[box] - gv, _F32(7.5), _F32(5.0))
        np.minimum(envelope[:, box[0], box[1]], pad + _F32(1.2), out=envelope[:, box[0], box[1]])
    img = _paint(img, _cover(envelope - _F32(1.2)), EPI_FAT)

    layers = (  # (box, signed distance, intensity, label); later layers cover earlier ones
        (ra_box, ra_wall, myo, 0),
        (la_box, la_wall, myo, 0),
        (rv_box, rv_wall, myo, 0),
        (ra_box, ra_blood, ATRIAL_BLOOD, 5),
        (la_box, la_blood, ATRIAL_BLOOD, 4),
        (rv_box, rv_in, BLOOD, 3),
        (lv_box, lv_wall, myo, 2),
        (lv_box, lv_in, BLOOD, 1),
    )
    labels = np.zeros(shape, dtype=np.uint8)
    for (rows, cols), sd, value, label in layers:
        _paint(img[:, rows, cols], _cover(sd), value)
        if label:
            np.copyto(labels[:, rows, cols], np.uint8(label), where=sd < 0)
    return img, labels


def _heart_window(h: _Heart, u: np.ndarray, v: np.ndarray, margin: float = 14.0) -> _Box:
    """Rows and columns of the pixels any heart structure (or its surroundings) can reach."""
    return _pixel_box(
        u, v,
        min(np.min(h.la_u - h.la_a), np.min(h.ra_u - h.ra_a)) - margin,
        np.max(h.lv_u + h.a + h.w) + margin,
        min(np.min(h.rv_v - h.rv_b) - RV_WALL_MM, h.ra_v - np.max(h.ra_b)) - margin,
        max(np.max(h.b + h.w), h.la_v + np.max(h.la_b)) + margin,
    )


def _rician(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``|img + n1 + i n2|`` with n1, n2 Gaussian of ``sigma``, clipped to 0..1 (in place).

    Box-Muller in polar form: ``n1 + i n2 = r exp(i phi)``, so the magnitude squared is
    ``img^2 + 2 img r cos(phi) + r^2``; no second normal field is needed.
    """
    uni = rng.random((2, *img.shape), dtype=_F32)
    r = np.log1p(-uni[0], out=uni[0])
    r *= _F32(-2.0 * sigma * sigma)
    np.sqrt(r, out=r)
    cos = uni[1]
    cos *= _F32(2.0 * np.pi)
    np.cos(cos, out=cos)
    cos *= img
    cos *= _F32(2.0)
    cos += r
    cos *= r  # r^2 + 2 img r cos(phi)
    img *= img
    img += cos
    np.sqrt(img, out=img)
    return np.clip(img, 0.0, 1.0, out=img)


def synthesize_cine(f: SubjectFactors, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One cardiac cycle of a 4-chamber cine and its labels for subject factors ``f``.

    Returns ``(cine, labels)``: float32 ``(MRI_FRAMES, MRI_SIZE, MRI_SIZE)`` intensities in
    0..1 (Rician noise of sigma ``f.mri_noise`` x blood intensity) and the uint8 labels of
    :data:`~napari_latent.cohort.schema.LABELS` (noise-free truth). Frame 0 is end-diastole
    at QRS onset; end-systole is frame :func:`es_frame`.
    """
    s = filling_fraction(f, np.arange(MRI_FRAMES) / MRI_FRAMES)
    h = _heart(f, s)
    x, y = _grid(f.mri_rotation)
    t = np.deg2rad(TILT_DEG)
    e_u, e_v = np.array([np.sin(t), np.cos(t)]), np.array([np.cos(t), -np.sin(t)])
    uc, vc = _heart_centre(h)
    origin = -(uc * e_u + vc * e_v)  # heart-box centre at the image centre
    u = ((x - origin[0]) * e_u[0] + (y - origin[1]) * e_u[1]).astype(_F32)
    v = ((x - origin[0]) * e_v[0] + (y - origin[1]) * e_v[1]).astype(_F32)

    aorta = origin + (h.la_u[0] - h.la_a[0] - 13.0) * e_u + (h.la_v + 0.6 * h.la_b[0]) * e_v
    scale = (f.lvedv / 150.0) ** (1.0 / 3.0)
    base = _background(x, y, (float(aorta[0]), float(aorta[1])), scale, rng)
    base *= _bias_field(x, y, rng)
    img = np.repeat(base[None], MRI_FRAMES, axis=0)
    labels = np.zeros(img.shape, dtype=np.uint8)
    win = _heart_window(h, u, v)
    heart, lab = _render(h, u[win], v[win], base[win], f.mri_contrast * BLOOD)
    img[:, win[0], win[1]] = heart
    labels[:, win[0], win[1]] = lab
    return _rician(img, f.mri_noise * BLOOD, rng), labels


# ------------------------------------------------------------------------ measurement


def lv_area_curve(labels: np.ndarray, spacing_mm: float = PIX) -> np.ndarray:
    """LV blood-pool area (mm^2) of each frame of ``labels`` (frames, rows, cols)."""
    return np.count_nonzero(np.asarray(labels) == 1, axis=(-2, -1)) * float(spacing_mm) ** 2


_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _shift(m: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """``out[..., r, c] = m[..., r + dr, c + dc]`` with False outside."""
    out = np.zeros_like(m)
    rows, cols = m.shape[-2:]
    out[..., max(-dr, 0):rows - max(dr, 0), max(-dc, 0):cols - max(dc, 0)] = \
        m[..., max(dr, 0):rows + min(dr, 0), max(dc, 0):cols + min(dc, 0)]
    return out


def _principal_extent(mask: np.ndarray) -> float:
    """Extent (pixels) of a 2-D mask along its principal axis, edge to edge."""
    r, c = np.nonzero(mask)
    if r.size < 2:
        return float(r.size)
    p = np.stack([r, c], 1).astype(float)
    p -= p.mean(0)
    axis = np.linalg.eigh(p.T @ p)[1][:, -1]
    proj = p @ axis
    return float(proj.max() - proj.min() + 1.0)


def lv_length_curve(labels: np.ndarray, spacing_mm: float = PIX) -> np.ndarray:
    """LV long-axis length (mm) per frame: mitral-plane midpoint to the farthest LV point.

    The mitral plane is the LV/LA interface (edges between 4-connected LV and LA pixels);
    its midpoint is the mean of those edge midpoints, the apex the LV pixel farthest
    from it (plus half a pixel to its edge). Frames without an LV/LA interface fall back
    to the LV extent along its principal axis.
    """
    lab = np.asarray(labels)
    lv = lab == 1
    rows_any, cols_any = lv.any(axis=(0, 2)), lv.any(axis=(0, 1))
    if rows_any.any():  # crop to the LV (one pixel of margin) for speed
        r0, r1 = max(np.argmax(rows_any) - 1, 0), len(rows_any) - np.argmax(rows_any[::-1]) + 1
        c0, c1 = max(np.argmax(cols_any) - 1, 0), len(cols_any) - np.argmax(cols_any[::-1]) + 1
        lab, lv = lab[:, r0:r1, c0:c1], lv[:, r0:r1, c0:c1]
    la = lab == 4
    n_rows, n_cols = lab.shape[-2:]
    rows, cols = np.arange(n_rows, dtype=float), np.arange(n_cols, dtype=float)
    n = np.zeros(lab.shape[0])
    sr, sc = np.zeros(lab.shape[0]), np.zeros(lab.shape[0])
    for dr, dc in _NEIGHBOURS:
        edge = lv & _shift(la, dr, dc)
        per_row = np.count_nonzero(edge, axis=2)
        n += per_row.sum(axis=1)
        sr += per_row @ (rows + 0.5 * dr)
        sc += np.count_nonzero(edge, axis=1) @ (cols + 0.5 * dc)
    ok = n > 0
    mr = (sr / np.maximum(n, 1))[:, None, None]
    mc = (sc / np.maximum(n, 1))[:, None, None]
    d2 = (rows[:, None] - mr) ** 2 + (cols - mc) ** 2
    length = np.sqrt(np.maximum(np.where(lv, d2, -1.0).max(axis=(1, 2)), 0.0)) + 0.5
    for k in np.nonzero(~ok)[0]:
        length[k] = _principal_extent(lv[k])
    return length * float(spacing_mm)


def lv_volume_curve(labels: np.ndarray, spacing_mm: float = PIX) -> np.ndarray:
    """LV volume (mL) per frame by the single-plane area-length method ``8 A^2 / (3 pi L)``."""
    area = lv_area_curve(labels, spacing_mm)
    length = np.maximum(lv_length_curve(labels, spacing_mm), 1e-6)
    return 8.0 * area**2 / (3.0 * np.pi * length) / 1000.0


def ef_from_labels(labels: np.ndarray, spacing_mm: float = PIX) -> float:
    """LV ejection fraction from the area-length volume curve of the labels: 1 - ESV / EDV."""
    vol = lv_volume_curve(labels, spacing_mm)
    return float(1.0 - vol.min() / vol.max()) if vol.max() > 0 else float("nan")
